package events_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/residency-dev/residency/events"
)

var updateDocs = flag.Bool("update-docs", false, "write docs/events.md from the schemas")

const eventsDoc = "../docs/events.md"

// TestEventsDoc keeps docs/events.md, the events reference, the same as
// what the schemas, the routing table and the samples say: every detail
// type with its fields, who publishes or consumes it, and its samples.
// Regenerate it with go test ./events -run TestEventsDoc -update-docs.
func TestEventsDoc(t *testing.T) {
	want := eventsMarkdown(t)
	if *updateDocs {
		if err := os.WriteFile(eventsDoc, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(eventsDoc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not what the schemas say: run go test ./events -run TestEventsDoc -update-docs", eventsDoc)
	}
}

type schemaProp struct {
	Description string         `json:"description"`
	Type        any            `json:"type"`
	Enum        []any          `json:"enum"`
	OneOf       []schemaProp   `json:"oneOf"`
	Format      string         `json:"format"`
	Items       *schemaProp    `json:"items"`
	Properties  map[string]any `json:"properties"`
}

type schemaDocument struct {
	Title       string                `json:"title"`
	Description string                `json:"description"`
	Required    []string              `json:"required"`
	Properties  map[string]schemaProp `json:"properties"`
}

func typeOf(p schemaProp) string {
	if len(p.OneOf) > 0 {
		var ts []string
		for _, o := range p.OneOf {
			ts = append(ts, typeOf(o))
		}
		return strings.Join(ts, " or ")
	}
	if len(p.Enum) > 0 {
		var vs []string
		for _, v := range p.Enum {
			vs = append(vs, fmt.Sprintf("`%v`", v))
		}
		return strings.Join(vs, ", ")
	}
	t := fmt.Sprint(p.Type)
	if ts, ok := p.Type.([]any); ok {
		var s []string
		for _, x := range ts {
			s = append(s, fmt.Sprint(x))
		}
		t = strings.Join(s, " or ")
	}
	if p.Format != "" {
		t += " (" + p.Format + ")"
	}
	if p.Items != nil {
		t += " of " + typeOf(*p.Items)
	}
	return t
}

func eventsMarkdown(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(`# Events

Generated from the JSON Schemas in ` + "`events/schemas/`" + ` by ` + "`go test ./events -run TestEventsDoc -update-docs`" + `; a test
keeps it in step. Residency publishes its events on each region's residency event bus with source
` + "`residency`" + `; the platform publishes the events Residency consumes on the same bus, with its own source.
Every ` + "`detail`" + ` is plain JSON (record keys and items are attribute name to value, not DynamoDB JSON).
Timestamps are RFC 3339 strings or epoch seconds. Unknown fields are ignored; a missing required field
is an error naming it, and the event goes to the function's dead-letter queue with that reason.
What Residency publishes names subjects only by keyed reference (` + "`subject_ref`" + `, ` + "`sub_...`" + `); it carries
the record's key, which the platform's consumers need to act on the record, on the bus of the region
that holds it.

`)
	routed := func(dt string, residency bool) string {
		var to []string
		for _, r := range events.Routes {
			if r.Residency == residency && slices.Contains(r.DetailTypes, dt) {
				to = append(to, r.Function)
			}
		}
		if len(to) == 0 {
			return "no function of Residency (for the platform's consumers)"
		}
		return "the " + strings.Join(to, ", ") + " function"
	}
	samples, err := os.ReadDir("samples")
	if err != nil {
		t.Fatal(err)
	}
	samplesOf := func(dt string) []string {
		var out []string
		for _, s := range samples {
			raw, err := os.ReadFile(path.Join("samples", s.Name()))
			if err != nil {
				t.Fatal(err)
			}
			var ev struct {
				DetailType string `json:"detail-type"`
			}
			if json.Unmarshal(raw, &ev) == nil && ev.DetailType == dt {
				out = append(out, "[`"+s.Name()+"`](../events/samples/"+s.Name()+")")
			}
		}
		return out
	}
	section := func(heading string, dts []string, residency bool) {
		b.WriteString("## " + heading + "\n\n")
		for _, dt := range dts {
			writeEvent(t, &b, dt, "Routed to "+routed(dt, residency)+".", samplesOf(dt))
		}
	}
	section("Consumed from the platform", events.Consumed, false)
	section("Published by Residency", events.Published, true)
	b.WriteString("## The ledger queue\n\n")
	writeEvent(t, &b, events.LedgerEntry, "The body of each message on the ledger's SQS FIFO queue, sent by every function that writes to the ledger and read by the ledger function.", samplesOf(events.LedgerEntry))
	return b.Bytes()
}

func writeEvent(t *testing.T, b *bytes.Buffer, dt, routing string, samples []string) {
	t.Helper()
	raw, err := events.SchemaFor(dt)
	if err != nil {
		t.Fatal(err)
	}
	var s schemaDocument
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	file := events.SchemaFile(dt)
	fmt.Fprintf(b, "### %s\n\n%s %s\n\nSchema: [`events/%s`](../events/%s).", dt, s.Description, routing, file, file)
	if len(samples) > 0 {
		fmt.Fprintf(b, " Sample: %s.", strings.Join(samples, ", "))
	}
	b.WriteString("\n\n| field | type | required | meaning |\n|---|---|---|---|\n")
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.SliceStable(names, func(i, j int) bool {
		ri, rj := slices.Index(s.Required, names[i]), slices.Index(s.Required, names[j])
		if (ri >= 0) != (rj >= 0) {
			return ri >= 0
		}
		if ri >= 0 {
			return ri < rj
		}
		return names[i] < names[j]
	})
	for _, n := range names {
		p := s.Properties[n]
		req := ""
		if slices.Contains(s.Required, n) {
			req = "yes"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", n, typeOf(p), req, strings.ReplaceAll(p.Description, "|", "\\|"))
	}
	b.WriteString("\n")
}
