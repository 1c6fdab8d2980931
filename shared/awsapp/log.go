package awsapp

import (
	"context"
	"io"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// FunctionKey and RequestIDKey are the attributes NewLogHandler attaches.
const (
	FunctionKey  = "function"
	RequestIDKey = "request_id"
)

// NewLogHandler returns the JSON handler of a function's logs on w. Every
// line carries the function's name once (the handlers name themselves on
// most lines; a line or logger that does not gets it from here) and the
// Lambda request id of the context it is logged with
// (lambdacontext.FromContext), so a line finds its invocation. Inside a
// group opened with WithGroup, the request id is in that group.
func NewLogHandler(w io.Writer, function string, opts *slog.HandlerOptions) slog.Handler {
	return &logHandler{inner: slog.NewJSONHandler(w, opts), function: function}
}

type logHandler struct {
	inner slog.Handler
	// function is the name still to attach, "" once the logger carries it.
	function string
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	var attrs []slog.Attr
	if h.function != "" && !hasFunction(r) {
		attrs = append(attrs, slog.String(FunctionKey, h.function))
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		attrs = append(attrs, slog.String(RequestIDKey, lc.AwsRequestID))
	}
	if len(attrs) == 0 {
		return h.inner.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(attrs...)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(a)
		return true
	})
	return h.inner.Handle(ctx, out)
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	fn := h.function
	for _, a := range attrs {
		if a.Key == FunctionKey {
			fn = ""
		}
	}
	return &logHandler{inner: h.inner.WithAttrs(attrs), function: fn}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	inner := h.inner
	if h.function != "" {
		inner = inner.WithAttrs([]slog.Attr{slog.String(FunctionKey, h.function)})
	}
	return &logHandler{inner: inner.WithGroup(name)}
}

func hasFunction(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == FunctionKey
		return !found
	})
	return found
}

// DeadLetters keeps a function's dead letters in its log: one ERROR line
// "dead letter" per item that failed permanently, with the function, region,
// item and reason (and the request id), for a metric filter or Logs
// Insights to find. The handlers acknowledge those items instead of failing
// them for a retry that cannot mend them.
func (a *App) DeadLetters() DeadLetterLog { return DeadLetterLog{Log: a.Log} }

// DeadLetterLog is the functions' dead-letter sink on AWS (see
// App.DeadLetters).
type DeadLetterLog struct{ Log *slog.Logger }

// Failed logs item's dead letter.
func (d DeadLetterLog) Failed(ctx context.Context, function, region, item string, err error) {
	d.Log.ErrorContext(ctx, "dead letter", FunctionKey, function, "region", region, "item", item, "reason", err.Error())
}
