package awsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"
)

func TestLogHandler(t *testing.T) {
	invocation := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "8f5c1e2a-req"})
	cases := map[string]struct {
		ctx  context.Context
		log  func(l *slog.Logger, ctx context.Context)
		want map[string]any
	}{
		"the line names the function": {
			ctx: invocation,
			log: func(l *slog.Logger, ctx context.Context) {
				l.InfoContext(ctx, "stream batch", "function", "tagger", "records", 2)
			},
			want: map[string]any{"msg": "stream batch", "function": "tagger", "request_id": "8f5c1e2a-req", "records": float64(2)},
		},
		"the line does not": {
			ctx:  invocation,
			log:  func(l *slog.Logger, ctx context.Context) { l.ErrorContext(ctx, "cannot keep dead letter") },
			want: map[string]any{"msg": "cannot keep dead letter", "function": "tagger", "request_id": "8f5c1e2a-req"},
		},
		"a logger with the function": {
			ctx: invocation,
			log: func(l *slog.Logger, ctx context.Context) {
				l.With("function", "tagger", "source", "users").InfoContext(ctx, "relocated")
			},
			want: map[string]any{"msg": "relocated", "function": "tagger", "source": "users", "request_id": "8f5c1e2a-req"},
		},
		"outside an invocation": {
			ctx:  context.Background(),
			log:  func(l *slog.Logger, ctx context.Context) { l.InfoContext(ctx, "cold start") },
			want: map[string]any{"msg": "cold start", "function": "tagger"},
		},
		"in a group": {
			ctx: invocation,
			log: func(l *slog.Logger, ctx context.Context) {
				l.WithGroup("batch").InfoContext(ctx, "sent", "n", 3)
			},
			want: map[string]any{"msg": "sent", "function": "tagger", "batch": map[string]any{"n": float64(3), "request_id": "8f5c1e2a-req"}},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			c.log(slog.New(NewLogHandler(&buf, "tagger", nil)), c.ctx)
			line := buf.String()
			if n := strings.Count(line, `"function"`); n != 1 {
				t.Fatalf("expect the function attribute once, got %d times in %s", n, line)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(line), &got); err != nil {
				t.Fatalf("expect a JSON line, got %q: %v", line, err)
			}
			delete(got, "time")
			delete(got, "level")
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Fatalf("expect the line as wanted, got (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeadLetterLog(t *testing.T) {
	var buf bytes.Buffer
	app := &App{Function: "router", Log: slog.New(NewLogHandler(&buf, "router", nil))}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-9"})
	app.DeadLetters().Failed(ctx, "router", "eu-central-1", "Record Ingest e-1", errors.New("cannot route: subject id attribute \"user_id\" missing or empty"))
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("expect a JSON line, got %q: %v", buf.String(), err)
	}
	delete(got, "time")
	want := map[string]any{"level": "ERROR", "msg": "dead letter", "function": "router", "request_id": "req-9", "region": "eu-central-1",
		"item": "Record Ingest e-1", "reason": "cannot route: subject id attribute \"user_id\" missing or empty"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("expect the dead letter line, got (-want +got):\n%s", diff)
	}
}
