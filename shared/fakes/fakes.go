// Package fakes holds hand-written fakes of the functions' ports for tests:
// a Sink that stands for both the event bus and the ledger queue and keeps
// what was sent.
package fakes

import (
	"context"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/ledger"
)

// Sink collects published events and ledger drafts. With Fail set, Publish
// fails with it (a bus outage).
type Sink struct {
	Events  []events.Out
	Entries []ledger.Entry
	Fail    error
}

// Publish implements the functions' Publisher.
func (s *Sink) Publish(_ context.Context, _ string, evs ...events.Out) error {
	if s.Fail != nil {
		return s.Fail
	}
	s.Events = append(s.Events, evs...)
	return nil
}

// Send implements the functions' LedgerQueue.
func (s *Sink) Send(_ context.Context, es ...ledger.Entry) error {
	s.Entries = append(s.Entries, es...)
	return nil
}

// DeadLetter is one item a handler dead-lettered.
type DeadLetter struct {
	Function, Region, Item string
	Err                    error
}

// DeadLetters keeps what handlers dead-letter (their DeadLetters sink).
type DeadLetters struct{ Letters []DeadLetter }

// Failed implements the handlers' FailureSink.
func (d *DeadLetters) Failed(_ context.Context, function, region, item string, err error) {
	d.Letters = append(d.Letters, DeadLetter{function, region, item, err})
}
