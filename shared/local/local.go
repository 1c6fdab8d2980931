package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/functions/ledger"
	"github.com/residency-dev/residency/functions/reports"
	"github.com/residency-dev/residency/functions/retention"
	"github.com/residency-dev/residency/functions/router"
	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/ddbjson"
	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/lambdaraw"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/pseudonym"
	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/trigger"
)

// Functions are the names of the five functions.
var Functions = []string{"tagger", "router", "ledger", "retention", "reports"}

// Stack is the local deployment: the five functions for every region of the
// policy, on one embedded store.
type Stack struct {
	Store  *sqlitestore.Store
	Policy *policy.Policy
	Refs   *pseudonym.Keyer
	Now    func() time.Time
	Log    *slog.Logger
	// Digests checks the signed digests (nil without Config.Digests).
	Digests *digest.Checker

	taggers    map[string]*tagger.Handler
	routers    map[string]*router.Handler
	retentions map[string]*retention.Handler
	ledgerFn   *ledger.Handler
	reportsFn  *reports.Handler

	clock atomic.Pointer[func() time.Time]
	bus   []lambdaevents.EventBridgeEvent
	queue []lambdaevents.SQSMessage
	// created are the ObjectCreated notifications of the objects the
	// routers wrote into watched buckets, for the taggers (objects.go).
	created []lambdaevents.S3EventRecord
	nextID  atomic.Int64
	// worker, while a sweep runs, appends the ledger messages sent in full
	// batches on a goroutine of its own.
	worker *ledgerWorker

	// Stats counts what happened, for the run summary.
	Stats Stats

	onPublish func(region, detailType string, detail []byte)
}

// Stats counts the deliveries of a stack.
type Stats struct {
	Delivered     map[string]int `json:"delivered"`      // by function
	Published     map[string]int `json:"published"`      // by detail type
	StreamRecords int            `json:"stream_records"` // delivered to the tagger
	// StreamFromPayloads are the stream records of the payloads replayed
	// or invoked; StreamFromWrites the stream records of the stack's own
	// writes delivered since (by INSERT, MODIFY, REMOVE: copies written
	// home, tag echoes, deletions). Together they are StreamRecords.
	StreamFromPayloads int            `json:"stream_from_payloads"`
	StreamFromWrites   map[string]int `json:"stream_from_writes"`
	LedgerEntries      int            `json:"ledger_messages"`
	Failures           int            `json:"failures"`
}

// Config is what New needs.
type Config struct {
	Store  *sqlitestore.Store
	Policy *policy.Policy
	Key    []byte
	Now    func() time.Time
	Log    *slog.Logger
	// DigestStore keeps the ledger's signed digests, DigestSigner signs
	// them and DigestKeys verify them. All are optional: without a store,
	// verification checks the chains only; without a signer, the stack
	// checks digests but signs none.
	DigestStore  digest.Store
	DigestSigner digest.Signer
	DigestKeys   digest.Keys
	// OnPublish, when set, sees every event the functions publish, with
	// its detail as EventBridge would carry it, also those no rule takes:
	// what a platform subscribing to the bus would receive.
	OnPublish func(region, detailType string, detail []byte)
}

// New wires the functions of every region of cfg.Policy on cfg.Store.
func New(cfg Config) (*Stack, error) {
	refs, err := pseudonym.New(cfg.Key)
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	s := &Stack{
		Store: cfg.Store, Policy: cfg.Policy, Refs: refs, Now: cfg.Now, Log: cfg.Log, onPublish: cfg.OnPublish,
		taggers: map[string]*tagger.Handler{}, routers: map[string]*router.Handler{}, retentions: map[string]*retention.Handler{},
		Stats: Stats{Delivered: map[string]int{}, Published: map[string]int{}, StreamFromWrites: map[string]int{}},
	}
	s.SetClock(cfg.Now)
	clock := s.now
	cfg.Now = clock
	s.Now = clock
	for _, r := range cfg.Policy.Regions {
		s.taggers[r] = &tagger.Handler{Region: r, Policy: cfg.Policy, Refs: refs, Tables: cfg.Store, Catalog: cfg.Store,
			Contracts: cfg.Store, Objects: cfg.Store, Bus: s, Ledger: s, Now: cfg.Now, Log: cfg.Log, Failures: s, Scanner: cfg.Store, Cursors: refs, Coverage: cfg.Store}
		s.routers[r] = &router.Handler{Region: r, Policy: cfg.Policy, Refs: refs, Tables: regionGuard{cfg.Store, cfg.Policy},
			Objects: objects{s}, Bus: s, Ledger: s, Now: cfg.Now, Log: cfg.Log}
		s.retentions[r] = &retention.Handler{Region: r, Policy: cfg.Policy, Refs: refs, Catalog: cfg.Store, Holds: cfg.Store,
			Contracts: cfg.Store, Tables: cfg.Store, Objects: cfg.Store, Bus: s, Ledger: s, Now: cfg.Now, Log: cfg.Log, BatchSize: sweepPage, Coverage: cfg.Store}
	}
	s.ledgerFn = &ledger.Handler{Store: cfg.Store, Log: cfg.Log}
	if cfg.DigestStore != nil {
		s.Digests = &digest.Checker{Source: cfg.DigestStore, Keys: cfg.DigestKeys}
		if cfg.DigestSigner != nil {
			s.ledgerFn.Digests = &digest.Writer{Signer: cfg.DigestSigner, Store: cfg.DigestStore, Chain: cfg.Store, Now: s.now}
		}
	}
	s.reportsFn = &reports.Handler{Ledger: cfg.Store, Holds: cfg.Store, Refs: refs, Now: cfg.Now, Log: cfg.Log, Digests: s.Digests,
		Policy: cfg.Policy, Catalog: cfg.Store}
	return s, nil
}

// SetClock changes the clock of every function of the stack.
func (s *Stack) SetClock(now func() time.Time) { s.clock.Store(&now) }

// now is the clock the functions read: the one SetClock set last.
func (s *Stack) now() time.Time { return (*s.clock.Load())() }

// Publish implements the functions' Publisher: it puts events on the bus as
// EventBridge PutEvents would, source "residency". As on EventBridge, an
// event no rule matches goes nowhere: it is counted, not kept.
func (s *Stack) Publish(ctx context.Context, region string, evs ...events.Out) error {
	for _, e := range evs {
		s.Stats.Published[e.DetailType]++
		ev := lambdaevents.EventBridgeEvent{DetailType: e.DetailType, Source: events.Source, Region: region}
		routed := len(s.targets(ev)) > 0
		if !routed && s.onPublish == nil {
			continue
		}
		detail, err := json.Marshal(e.Detail)
		if err != nil {
			return fmt.Errorf("publish %s: %w", e.DetailType, err)
		}
		if s.onPublish != nil {
			s.onPublish(region, e.DetailType, detail)
		}
		if !routed {
			continue
		}
		ev.Version, ev.ID, ev.AccountID, ev.Time, ev.Resources, ev.Detail = "0", s.id("evt"), "000000000000", s.Now().UTC(), []string{}, detail
		s.bus = append(s.bus, ev)
	}
	return nil
}

// Failed implements tagger.FailureSink: the failure is kept as a dead letter.
// The letter keeps the payload the function was being delivered (see
// invoke), so that Retry can redeliver it.
func (s *Stack) Failed(ctx context.Context, function, region, item string, err error) {
	s.failedWith(ctx, function, region, item, deliveredPayload(ctx), err)
}

func (s *Stack) failedWith(ctx context.Context, function, region, item string, payload []byte, err error) {
	if c, ok := ctx.Value(retryKey{}).(*retryFailures); ok {
		// A redelivery: the failure updates its own letter (Retry).
		c.reasons = append(c.reasons, err.Error())
		return
	}
	s.Stats.Failures++
	if seq, ok := strings.CutPrefix(item, "stream record "); ok {
		payload = streamRecordAlone(payload, seq)
	}
	if derr := s.Store.AddDeadLetter(ctx, sqlitestore.DeadLetter{At: s.Now(), Function: function, Region: region, Item: item, Reason: err.Error(), Payload: payload}); derr != nil {
		s.Log.ErrorContext(ctx, "cannot keep dead letter", "error", derr.Error())
	}
}

func (s *Stack) id(prefix string) string {
	return fmt.Sprintf("%s-%08d", prefix, s.nextID.Add(1))
}

// invoke runs a function through the real Lambda JSON path.
func (s *Stack) invoke(ctx context.Context, function string, h func(context.Context, json.RawMessage) (any, error), payload []byte) ([]byte, error) {
	s.Stats.Delivered[function]++
	ctx = context.WithValue(ctx, payloadKey{}, payload)
	// As the functions' Lambda mains start them.
	return lambda.NewHandler(lambdaraw.Handler(h)).Invoke(ctx, payload)
}

// Invoke runs one function's handler on one payload, in region (for the
// functions that are per region), then delivers whatever it caused. It
// returns the handler's JSON response. A stream batch for the tagger is
// first applied to the local table, as Replay does: on AWS the records a
// stream reports are in the table when the tagger reads them.
func (s *Stack) Invoke(ctx context.Context, function, region string, payload []byte) ([]byte, error) {
	h, err := s.handler(function, region)
	if err != nil {
		return nil, err
	}
	if function == "tagger" {
		if kind, _ := trigger.Detect(payload); kind == trigger.DynamoDBStream {
			if _, _, err := s.applyStream(ctx, payload); err != nil {
				return nil, err
			}
		}
	}
	out, err := s.invoke(ctx, function, h, payload)
	if err != nil {
		return nil, err
	}
	return out, s.Drain(ctx)
}

func (s *Stack) handler(function, region string) (func(context.Context, json.RawMessage) (any, error), error) {
	check := func() error {
		if !s.Policy.HasRegion(region) {
			return fmt.Errorf("region %q is not a region of this deployment (%s)", region, strings.Join(s.Policy.Regions, ", "))
		}
		return nil
	}
	switch function {
	case "tagger":
		if err := check(); err != nil {
			return nil, err
		}
		return s.taggers[region].Invoke, nil
	case "router":
		if err := check(); err != nil {
			return nil, err
		}
		return s.routers[region].Invoke, nil
	case "retention":
		if err := check(); err != nil {
			return nil, err
		}
		return s.retentions[region].Invoke, nil
	case "ledger":
		// One handler appends every chain's messages; a scheduled
		// invocation signs the digest of the region it is invoked in.
		h := *s.ledgerFn
		h.Region = region
		return h.Invoke, nil
	case "reports":
		return s.reportsFn.Invoke, nil
	}
	return nil, fmt.Errorf("unknown function %q (one of %s)", function, strings.Join(Functions, ", "))
}

// Delivery says what a replayed file did.
type Delivery struct {
	Kind     trigger.Kind `json:"kind"`
	Function string       `json:"function"`
	Region   string       `json:"region"`
	Response string       `json:"response,omitempty"`
	Error    string       `json:"error,omitempty"`
	Records  int          `json:"records,omitempty"` // records in a batch payload
	Failed   int          `json:"failed,omitempty"`  // of which reported in batchItemFailures
}

// Replay delivers one recorded payload as the stack would receive it: a
// stream batch is first applied to the local table (as the platform wrote
// it), then delivered to its region's tagger; an EventBridge event goes on the
// bus and its rules; S3 and schedule events go to their function. Then it
// drains everything the delivery caused. A function's failure is reported in
// the Delivery and kept as a dead letter, not returned as an error.
func (s *Stack) Replay(ctx context.Context, payload []byte) (Delivery, error) {
	return s.ReplayPrepared(ctx, Prepare(payload))
}

// Prepared is a payload made ready for Replay: decoded as far as it can be
// without the store, so that it can be done on another goroutine while the
// stack delivers the payload before it (see PrepareAhead). A Prepared is
// replayed once.
type Prepared struct {
	payload []byte
	kind    trigger.Kind
	err     error // its kind cannot be told
	// A stream batch's writes to apply, and its records as the tagger's
	// Invoke decodes them (recsErr: they do not decode, and Invoke, given
	// the payload, reports why).
	stream    replayedStream
	streamErr error
	recs      []ddbjson.StreamRecord
	recsErr   error
}

// Prepare decodes payload for ReplayPrepared. It uses nothing of a stack:
// it is safe to call on any goroutine, while a stack replays.
func Prepare(payload []byte) *Prepared {
	p := &Prepared{payload: payload}
	p.kind, p.err = trigger.Detect(payload)
	if p.err == nil && p.kind == trigger.DynamoDBStream {
		p.stream, p.streamErr = decodeReplayedStream(payload)
		if p.streamErr == nil {
			p.recs, p.recsErr = ddbjson.DecodeStream(payload)
		}
	}
	return p
}

// PrepareAhead yields each payload prepared, in order, preparing the next
// one on a goroutine of its own while the caller replays the one before it:
// a stream batch's decoding (a fifth of a run's time) is then done on the
// machine's other core.
func PrepareAhead(payloads [][]byte) iter.Seq2[int, *Prepared] {
	return func(yield func(int, *Prepared) bool) {
		if len(payloads) == 0 {
			return
		}
		ahead := func(i int) <-chan *Prepared {
			c := make(chan *Prepared, 1) // the goroutine never waits
			go func() { c <- Prepare(payloads[i]) }()
			return c
		}
		next := ahead(0)
		for i := range payloads {
			p := <-next
			if i+1 < len(payloads) {
				next = ahead(i + 1)
			}
			if !yield(i, p) {
				return
			}
		}
	}
}

// decodedTagger is region's tagger handler for a stream batch whose records
// are decoded already, as its Invoke would decode the payload.
func (s *Stack) decodedTagger(region string, recs []ddbjson.StreamRecord) func(context.Context, json.RawMessage) (any, error) {
	t := s.taggers[region]
	return func(ctx context.Context, _ json.RawMessage) (any, error) { return t.HandleStreamRecords(ctx, recs) }
}

// ReplayPrepared is Replay of a prepared payload.
func (s *Stack) ReplayPrepared(ctx context.Context, p *Prepared) (Delivery, error) {
	payload, kind, err := p.payload, p.kind, p.err
	if err != nil {
		return Delivery{}, err
	}
	d := Delivery{Kind: kind}
	var function string
	var region string
	records := -1 // counted below unless known
	switch kind {
	case trigger.DynamoDBStream:
		function = "tagger"
		if err = p.streamErr; err == nil {
			region, records = p.stream.region, p.stream.records
			err = s.applyWrites(ctx, p.stream.writes)
		}
	case trigger.S3:
		function = "tagger"
		var ev lambdaevents.S3Event
		if err = json.Unmarshal(payload, &ev); err == nil && len(ev.Records) > 0 {
			region = ev.Records[0].AWSRegion
		}
	case trigger.SQS:
		function = "ledger"
	case trigger.Schedule:
		function = "retention"
		var ev lambdaevents.EventBridgeEvent
		if err = json.Unmarshal(payload, &ev); err == nil {
			region = ev.Region
		}
	case trigger.HTTP:
		function = "reports"
	case trigger.EventBridge:
		var ev lambdaevents.EventBridgeEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return d, fmt.Errorf("decode EventBridge event: %w", err)
		}
		d.Function, d.Region = "bus (no rule)", ev.Region
		if ts := s.targets(ev); len(ts) > 0 {
			fns := make([]string, len(ts))
			for i, t := range ts {
				fns[i] = t.function
			}
			d.Function = "bus -> " + strings.Join(fns, ",")
		}
		s.bus = append(s.bus, ev)
		return d, s.Drain(ctx)
	}
	if err != nil {
		return d, err
	}
	d.Function, d.Region = function, region
	h, err := s.handler(function, region)
	if err != nil {
		return d, err
	}
	if kind == trigger.DynamoDBStream && p.recsErr == nil {
		h = s.decodedTagger(region, p.recs)
	}
	out, err := s.invoke(ctx, function, h, payload)
	if err != nil {
		d.Error = err.Error()
		s.failedWith(ctx, function, region, string(kind)+" event", payload, err)
	}
	d.Response = string(out)
	if records < 0 {
		var p struct{ Records []json.RawMessage }
		json.Unmarshal(payload, &p)
		records = len(p.Records)
	}
	var resp struct{ BatchItemFailures []json.RawMessage }
	json.Unmarshal(out, &resp)
	d.Records, d.Failed = records, len(resp.BatchItemFailures)
	if kind == trigger.DynamoDBStream {
		s.Stats.StreamRecords += d.Records
		s.Stats.StreamFromPayloads += d.Records
	}
	return d, s.Drain(ctx)
}

// sweepPage is how many due entries a local sweep handles at a time: its
// deletions, receipts and catalog removals are a transaction each, and on
// SQLite larger ones cost less per record (on AWS the function reads 500).
const sweepPage = 5000

// ledgerBatchSize is how many ledger messages one local invocation of the
// ledger function receives. On AWS a FIFO queue's event source delivers at
// most 10; the function takes any number, and locally the queue is in
// process, so it gets a sweep page's receipts at once: they are appended in
// one transaction, the chain's random id index written once per page.
const ledgerBatchSize = sweepPage

// violationBatchSize is how many messages of the violations queue one
// router invocation receives, as the queue's event source mapping on AWS
// delivers them (its batch size, at most 100).
const violationBatchSize = 100

// deliverViolations delivers each region's queued violations to its router
// in SQS batches, through the same Lambda JSON path as on AWS. A message
// the router reports in batchItemFailures is received once more, as the
// queue would deliver it again, alone; if it fails again it is kept as a
// dead letter with the router's reason (on AWS the queue's redrive policy
// moves it to its DLQ). Redelivery is safe: the router is idempotent.
func (s *Stack) deliverViolations(ctx context.Context, byRegion map[string][]lambdaevents.SQSMessage) error {
	for _, r := range slices.Sorted(maps.Keys(byRegion)) {
		h, err := s.handler("router", r)
		if err != nil {
			return err
		}
		for batch := range slices.Chunk(byRegion[r], violationBatchSize) {
			payload, err := json.Marshal(lambdaevents.SQSEvent{Records: batch})
			if err != nil {
				return err
			}
			out, err := s.invokeAtomic(ctx, "router", h, payload)
			if err != nil {
				// The whole batch failed (not a per-message failure): each
				// message is received again, alone.
				out, _ = json.Marshal(batchFailures(batch))
			}
			var resp lambdaevents.SQSEventResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				return fmt.Errorf("router %s: decode SQS batch response: %w", r, err)
			}
			failed := map[string]bool{}
			for _, f := range resp.BatchItemFailures {
				failed[f.ItemIdentifier] = true
			}
			for _, m := range batch {
				if !failed[m.MessageId] {
					continue
				}
				var ev lambdaevents.EventBridgeEvent
				json.Unmarshal([]byte(m.Body), &ev)
				// Received again: the router's own EventBridge path gives
				// the reason a dead letter keeps.
				if _, err := s.invoke(ctx, "router", h, []byte(m.Body)); err != nil {
					s.Failed(ctx, "router", r, ev.DetailType+" "+ev.ID, err)
				}
			}
		}
	}
	return nil
}

// invokeAtomic invokes a function on a batch in one transaction of the
// store, as the DynamoDB adapter's batched calls make few round trips: a
// hundred relocations commit once instead of five times each. If the
// transaction fails (a store call failed, not a condition or a missing
// item, which write nothing), all it wrote is rolled back with what it
// queued (bus events, ledger messages, object notifications, counts), and
// the batch is invoked again outside one, call by call, as before. While a
// sweep's ledger worker runs, the batch is not made atomic: the messages it
// hands the worker could not be taken back.
func (s *Stack) invokeAtomic(ctx context.Context, function string, h func(context.Context, json.RawMessage) (any, error), payload []byte) ([]byte, error) {
	if s.worker != nil {
		return s.invoke(ctx, function, h, payload)
	}
	bus, queue, created := len(s.bus), len(s.queue), len(s.created)
	stats := s.Stats
	stats.Delivered, stats.Published = maps.Clone(s.Stats.Delivered), maps.Clone(s.Stats.Published)
	stats.StreamFromWrites = maps.Clone(s.Stats.StreamFromWrites)
	var out []byte
	err := s.Store.Atomic(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.invoke(ctx, function, h, payload)
		return err
	})
	if err == nil {
		return out, nil
	}
	s.bus, s.queue, s.created, s.Stats = s.bus[:bus], s.queue[:queue], s.created[:created], stats
	return s.invoke(ctx, function, h, payload)
}

func batchFailures(batch []lambdaevents.SQSMessage) lambdaevents.SQSEventResponse {
	var resp lambdaevents.SQSEventResponse
	for _, m := range batch {
		resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
	}
	return resp
}

// Drain delivers everything pending (stream records, bus events, ledger
// messages) until nothing is left.
func (s *Stack) Drain(ctx context.Context) error {
	for range 10000 {
		progressed := false
		recs, err := s.Store.PendingStreamRaw(ctx, streamBatchSize)
		if err != nil {
			return err
		}
		if len(recs) > 0 {
			progressed = true
			if err := s.pumpStream(ctx, recs); err != nil {
				return err
			}
		}
		violations := map[string][]lambdaevents.SQSMessage{} // by region, for the routers' queues
		for len(s.bus) > 0 {
			progressed = true
			ev := s.bus[0]
			s.bus = s.bus[1:]
			targets := s.targets(ev)
			if len(targets) == 0 {
				continue
			}
			if !s.Policy.HasRegion(ev.Region) {
				s.Failed(ctx, "bus", ev.Region, ev.DetailType+" "+ev.ID, fmt.Errorf("region %q is not a region of this deployment", ev.Region))
				continue
			}
			payload, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			for _, t := range targets {
				for _, r := range t.regions {
					if violationQueued(t) {
						violations[r] = append(violations[r], lambdaevents.SQSMessage{MessageId: ev.ID, Body: string(payload),
							EventSource: "aws:sqs", AWSRegion: r})
						continue
					}
					h, _ := s.handler(t.function, r)
					if _, err := s.invoke(ctx, t.function, h, payload); err != nil {
						s.failedWith(ctx, t.function, r, ev.DetailType+" "+ev.ID, payload, err)
					}
				}
			}
		}
		if err := s.deliverViolations(ctx, violations); err != nil {
			return err
		}
		if s.deliverCreated(ctx) {
			progressed = true
		}
		if len(s.queue) > 0 {
			progressed = true
			msgs := s.queue
			s.queue = nil
			for batch := range slices.Chunk(msgs, ledgerBatchSize) {
				s.Stats.LedgerEntries += len(batch)
				s.Stats.Delivered["ledger"]++
				failed, err := s.deliverLedger(ctx, batch, nil)
				if err != nil {
					return err
				}
				s.ledgerRejected(ctx, failed)
			}
		}
		if !progressed {
			return nil
		}
	}
	return errors.New("drain: events keep causing events (10000 rounds); a function loops")
}

// Sweep runs one retention sweep in every region, then drains. The
// receipts a sweep sends are appended while it runs, as on AWS.
func (s *Stack) Sweep(ctx context.Context, now time.Time) ([]retention.SweepResult, error) {
	var out []retention.SweepResult
	for _, r := range s.Policy.Regions {
		res, err := s.SweepRegion(ctx, r, now)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// SweepRegion runs one retention sweep in region, one of the policy's, and
// delivers what it emits, as Sweep does for every region.
func (s *Stack) SweepRegion(ctx context.Context, region string, now time.Time) (retention.SweepResult, error) {
	h, ok := s.retentions[region]
	if !ok {
		return retention.SweepResult{}, fmt.Errorf("region %q is not one of the policy's regions", region)
	}
	s.startLedgerWorker(ctx)
	res, err := h.Sweep(ctx, now)
	if werr := s.stopLedgerWorker(ctx); err == nil {
		err = werr
	}
	if err != nil {
		return res, err
	}
	return res, s.Drain(ctx)
}
