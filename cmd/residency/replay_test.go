package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sqsSample is the SQS sample event with its SentTimestamp set to sent.
func sqsSample(t *testing.T, sent string) []byte {
	t.Helper()
	data, err := os.ReadFile("events/samples/sqs-ledger-entry.json")
	if err != nil {
		t.Fatal(err)
	}
	const orig = `"SentTimestamp": "1795276800000"`
	if !strings.Contains(string(data), orig) {
		t.Fatalf("expect the SQS sample to hold %s", orig)
	}
	return []byte(strings.Replace(string(data), orig, `"SentTimestamp": "`+sent+`"`, 1))
}

func TestEventTimeSQS(t *testing.T) {
	cases := map[string]struct {
		sent    string
		want    time.Time
		wantErr string
	}{
		"milliseconds":   {sent: "1795276800000", want: time.UnixMilli(1795276800000)},
		"not a number":   {sent: "2026-11-21T16:00:00Z", wantErr: `SQS message 733b1ce7-0ea5-47cb-b535-77c80018fe83: SentTimestamp "2026-11-21T16:00:00Z" is not milliseconds since the Unix epoch`},
		"decimal":        {sent: "1795276800000.5", wantErr: `SentTimestamp "1795276800000.5" is not milliseconds`},
		"out of range":   {sent: "99999999999999999999", wantErr: `SentTimestamp "99999999999999999999" is not milliseconds`},
		"trailing space": {sent: "1795276800000 ", wantErr: `SentTimestamp "1795276800000 " is not milliseconds`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := eventTime(sqsSample(t, c.sent))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("expect an error saying %q, got %v (time %v)", c.wantErr, err, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if !got.Equal(c.want) {
				t.Errorf("expect %v, got %v", c.want, got)
			}
		})
	}
}

// TestRunMalformedSentTimestamp checks that run refuses an SQS event whose
// SentTimestamp is not a time, naming the file and the value, rather than
// replaying it in 1970.
func TestRunMalformedSentTimestamp(t *testing.T) {
	dir := t.TempDir()
	event := filepath.Join(dir, "sqs-bad-timestamp.json")
	if err := os.WriteFile(event, sqsSample(t, "yesterday"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := cli(t, "run", "--db", filepath.Join(dir, "r.db"), event)
	want := event + `: SQS message 733b1ce7-0ea5-47cb-b535-77c80018fe83: SentTimestamp "yesterday" is not milliseconds since the Unix epoch`
	if code != exitFail || !strings.Contains(errs, want) {
		t.Fatalf("expect exit %d and %q, got %d: %s\n%.1500s", exitFail, want, code, errs, out)
	}
	if strings.Contains(out, "1970") {
		t.Errorf("expect nothing replayed in 1970, got:\n%.1500s", out)
	}
}
