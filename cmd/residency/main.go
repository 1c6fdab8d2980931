package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

// Exit codes.
const (
	exitOK     = 0
	exitFail   = 1 // the command failed (bad input, handler error)
	exitUsage  = 2 // wrong flags or arguments
	exitBroken = 3 // verify: the ledger does not verify; check-proof: the proof does not check
)

// usageError is a mistake in the command line: exit 2 with the usage hint.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

const usage = `residency: keep personal data where the law says it must live, and prove it.

Usage:
  residency run [PATH...]            replay event files or folders (default events/samples), sweep, report
  residency invoke FUNCTION EVENT.json|-   run one function on one payload (--region R)
  residency decide residency --subject CC|--unknown-subject --region R --category C
  residency decide transfer --from CC --to CC --importer NAME --category C [--derogation D]
  residency report [--from D] [--to D] [--kind K] [--destination CC] [--mechanism M]
                   [--subject ID] [--format table|json|csv|html] [--out F]
                   [--endpoint URL [--region R]]   a deployed reports API, signed with SigV4
  residency verify [--json] [--digest-every 1h]  check every region's ledger chain, signed digests and their cadence (exit 3 if broken)
  residency sweep [--region R]       one retention sweep: {due, deleted, held, emitted}
  residency prove --region R --seq N [--out F]
                                     an inclusion proof of one entry against the newest signed checkpoint
  residency prove --consistency --region R --from-size A [--to-size B] [--out F]
                                     a consistency proof between two signed tree heads
  residency certificate --request ID [--out F]
                                     an erasure certificate: the request's receipts with inclusion proofs
  residency check-proof FILE --public-key K
                                     check a proof or certificate with the public key alone (exit 0 valid, 3 not)
  residency digest-key --public      the digest key's public half (PKIX PEM), for check-proof
  residency backfill [--source T] [--region R] [--restart] [EXPORT_DIR]
                                     bring the records already in the watched tables (or a DynamoDB
                                     table export) under Residency; resumes a backfill that stopped
  residency serve [--addr 127.0.0.1:9000] [--sweep-every 1h] [--region R]
                                     the Lambda Invoke API and the reports API on loopback, and the sweep schedule
  residency policy validate FILE     validate a policy file (file:line: field: message)
  residency version                  the module version, VCS revision and the policy's version (or --version)
  residency failures [--function F] [--region R] [--format table|json]
                                     the dead letters in the store: time, function, region, item, reason
  residency failures retry [--function F] [--region R]
                                     redeliver them; those that succeed go, those that fail again stay
  residency completion bash|zsh|fish a shell completion script: source <(residency completion bash)

Common flags (before the command, or before or after the command's own):
  --db FILE        embedded store (default residency.db)
  --policy FILE    policy file (default residency.yaml, else the built-in example)
  --key FILE       HMAC key for subject references (default residency.key beside --db; made if missing)
  --now RFC3339    the clock, for tests and replays (default: now)
  --log-level L    debug|info|warn|error, JSON logs on stderr (default warn)
  --digests DIR    signed ledger digests (default <db>.digests)
  --signing-key F  ed25519 digest signing key (default residency-digest.key beside --db; made if missing)

Functions: tagger, router, ledger, retention, reports.
`

// globalFlags are the common flags (newFlags) that take a value; they may
// stand before the command too.
var globalFlags = map[string]bool{"db": true, "policy": true, "key": true, "now": true, "log-level": true, "log": true, "digests": true, "signing-key": true}

// globalsAfterCommand moves the common flags given before the command to
// after it (residency --policy p.yaml decide ... is residency decide ...
// --policy p.yaml), where each command's flag set parses them. The command's
// own subcommand (decide residency, policy validate) stays right after it.
func globalsAfterCommand(args []string) []string {
	var globals []string
	for len(args) > 0 {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		if !strings.HasPrefix(args[0], "-") || !globalFlags[name] {
			break
		}
		if hasValue || len(args) == 1 {
			globals, args = append(globals, args[0]), args[1:]
			continue
		}
		globals, args = append(globals, args[0], args[1]), args[2:]
	}
	if len(globals) == 0 || len(args) == 0 {
		return append(args, globals...)
	}
	head := 1
	if (args[0] == "decide" || args[0] == "policy") && len(args) > 1 && !strings.HasPrefix(args[1], "-") {
		head = 2
	}
	out := append([]string{}, args[:head]...)
	out = append(out, globals...)
	return append(out, args[head:]...)
}

// command runs one command on the arguments after its name.
type command func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error

// commands are the residency commands by name.
var commands = map[string]command{
	"run":         noStdin(cmdRun),
	"invoke":      cmdInvoke,
	"decide":      offline(cmdDecide),
	"report":      noStdin(cmdReport),
	"verify":      noStdin(cmdVerify),
	"sweep":       noStdin(cmdSweep),
	"prove":       noStdin(cmdProve),
	"certificate": noStdin(cmdCertificate),
	"check-proof": offline(cmdCheckProof),
	"digest-key":  offline(cmdDigestKey),
	"backfill":    noStdin(cmdBackfill),
	"serve":       noStdin(cmdServe),
	"policy":      offline(cmdPolicy),
	"version":     offline(cmdVersion),
	"failures":    noStdin(cmdFailures),
}

// noStdin is the command of f, which reads no stdin.
func noStdin(f func(ctx context.Context, args []string, stdout, stderr io.Writer) error) command {
	return func(ctx context.Context, a []string, _ io.Reader, o, e io.Writer) error { return f(ctx, a, o, e) }
}

// offline is the command of f, which reads no stdin and runs to its end
// whatever the context.
func offline(f func(args []string, stdout, stderr io.Writer) error) command {
	return func(_ context.Context, a []string, _ io.Reader, o, e io.Writer) error { return f(a, o, e) }
}

// subcommands are the words that follow a command that has them.
var subcommands = map[string][]string{
	"decide":   {"residency", "transfer"},
	"policy":   {"validate"},
	"failures": {"retry"},
}

// dispatch runs the command named cmd.
func dispatch(ctx context.Context, cmd string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	c, ok := commands[cmd]
	if !ok {
		return usagef("unknown command %q%s", cmd, didYouMean(cmd, commandNames()))
	}
	return c(ctx, args, stdin, stdout, stderr)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		// A bare residency is a usage mistake: the command list, exit 2.
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	if args[0] == "help" && len(args) > 1 && args[1] != "help" {
		// residency help CMD [SUB] is residency CMD [SUB] --help.
		return run(ctx, append(append([]string{}, args[1:]...), "--help"), stdin, stdout, stderr)
	}
	args = globalsAfterCommand(args)
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	if args[0] == "--version" || args[0] == "-version" {
		args = append([]string{"version"}, args[1:]...)
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, rest := args[0], args[1:]
	err := dispatch(ctx, cmd, rest, stdin, stdout, stderr)
	if err == nil {
		return exitOK
	}
	var hr helpRequest
	if errors.As(err, &hr) {
		fmt.Fprint(stdout, hr.text)
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "residency %s: %v\nRun 'residency help' for usage.\n", cmd, err)
		return exitUsage
	}
	var ee exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintf(stderr, "residency %s: %v\n", cmd, ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "residency %s: %v\n", cmd, err)
	return exitFail
}
