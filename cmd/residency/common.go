package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/local"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/pseudonym"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// common holds the flags every command takes.
type common struct {
	db, policy, key, now, logLevel, logFile string
	digests, signingKey                     string
	// verifyOnly: the command checks digests but signs none, so it never
	// makes a signing key.
	verifyOnly bool
	stderr     io.Writer
	closers    []io.Closer
}

func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *common) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := &common{stderr: stderr}
	fs.StringVar(&c.db, "db", "residency.db", "embedded store file")
	fs.StringVar(&c.policy, "policy", "", "policy file (default residency.yaml, else the built-in example)")
	fs.StringVar(&c.key, "key", "", "HMAC key file (default residency.key beside --db)")
	fs.Var(rfc3339Flag{&c.now}, "now", "the clock, RFC 3339")
	fs.StringVar(&c.logLevel, "log-level", "warn", "debug|info|warn|error")
	fs.StringVar(&c.logFile, "log", "", "write the functions' JSON logs to this file (default stderr)")
	fs.StringVar(&c.digests, "digests", "", "folder of the ledger's signed digests (default <db>.digests)")
	fs.StringVar(&c.signingKey, "signing-key", "", "ed25519 digest signing key, PKCS #8 PEM (default residency-digest.key beside --db; made if missing)")
	return fs, c
}

// parse parses flags, letting them stand before and after positional
// arguments, and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				var b strings.Builder
				fs.SetOutput(&b)
				fs.PrintDefaults()
				fs.SetOutput(io.Discard)
				return nil, helpRequest{text: "Usage: residency " + fs.Name() + " [flags]\n\nFlags:\n" + b.String() + examplesText(fs.Name()), fs: fs}
			}
			return nil, usagef("%v%s", err, flagHint(fs, err))
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseFlagsOnly is parse for a command that takes no positional
// arguments: one is a usage error.
func parseFlagsOnly(fs *flag.FlagSet, args []string) error {
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	return nil
}

// helpRequest is -h or --help on a command: its usage and flags go to
// stdout and the command exits 0.
// fs is the command's flag set (nil for a command that only names its
// subcommands), from which docs/cli.md's flag tables are made.
type helpRequest struct {
	text string
	fs   *flag.FlagSet
}

func (h helpRequest) Error() string { return "help requested" }

// rfc3339Flag is a string flag that takes only an RFC 3339 time, so a bad
// --now is a usage error naming the flag on every command, including those
// that never read the clock.
type rfc3339Flag struct{ s *string }

func (f rfc3339Flag) String() string {
	if f.s == nil {
		return ""
	}
	return *f.s
}

func (f rfc3339Flag) Set(v string) error {
	if _, err := time.Parse(time.RFC3339, v); err != nil {
		return fmt.Errorf("--now %q: use RFC 3339, e.g. 2026-11-22T12:00:00Z", v)
	}
	*f.s = v
	return nil
}

func (c *common) clock() (func() time.Time, error) {
	if c.now == "" {
		return time.Now, nil
	}
	t, err := time.Parse(time.RFC3339, c.now)
	if err != nil {
		return nil, usagef("--now %q: use RFC 3339, e.g. 2026-11-22T12:00:00Z", c.now)
	}
	return func() time.Time { return t }, nil
}

func (c *common) logger() (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, usagef("--log-level %q: use debug, info, warn or error", c.logLevel)
	}
	w := c.stderr
	if c.logFile != "" {
		if err := os.MkdirAll(filepath.Dir(c.logFile), 0o755); err != nil {
			return nil, fmt.Errorf("open log file: %w", err)
		}
		f, err := os.OpenFile(c.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open log file: %w", err)
		}
		c.closers = append(c.closers, f)
		w = f
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl})), nil
}

// close closes what the command opened: the log file, then the store of
// stack.
func (c *common) close() {
	for _, cl := range c.closers {
		cl.Close()
	}
}

func (c *common) loadPolicy() (*policy.Policy, error) {
	path := c.policy
	if path == "" {
		if _, err := os.Stat("residency.yaml"); err == nil {
			path = "residency.yaml"
		} else {
			fmt.Fprintln(c.stderr, "residency: no --policy and no residency.yaml here: using the built-in example policy")
			return policy.MustExample(), nil
		}
	}
	p, err := policy.Load(path)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (c *common) keyPath() string {
	if c.key != "" {
		return c.key
	}
	return filepath.Join(filepath.Dir(c.db), "residency.key")
}

func (c *common) digestDir() string {
	if c.digests != "" {
		return c.digests
	}
	return c.db + ".digests"
}

func (c *common) signingKeyPath() string {
	if c.signingKey != "" {
		return c.signingKey
	}
	return filepath.Join(filepath.Dir(c.db), "residency-digest.key")
}

// digestKeys loads the keys that verify digests: the public key beside the
// signing key (an auditor may hold only that), and the signing key's own.
// Unless verifyOnly, it loads the signing key, making one if missing.
func (c *common) digestKeys() (*digest.Ed25519Signer, digest.Keys, error) {
	keys := digest.Keys{}
	path := c.signingKeyPath()
	if b, err := os.ReadFile(digest.PublicKeyPath(path)); err == nil {
		if err := keys.AddPEM("", b); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", digest.PublicKeyPath(path), err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	if c.verifyOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, keys, nil
		}
	}
	signer, err := digest.LoadSigningKey(path)
	if err != nil {
		return nil, nil, err
	}
	keys[signer.KeyID()] = signer.Public()
	return signer, keys, nil
}

// stack opens the store and wires the local stack; c.close closes the
// store.
func (c *common) stack() (*local.Stack, error) {
	if c.verifyOnly {
		// Reading an embedded store that is not there is a mistake (a
		// wrong --db), not an empty ledger.
		if _, err := os.Stat(c.db); err != nil {
			return nil, fmt.Errorf("no embedded store at %s (--db): %w", c.db, err)
		}
	}
	now, err := c.clock()
	if err != nil {
		return nil, err
	}
	log, err := c.logger()
	if err != nil {
		return nil, err
	}
	p, err := c.loadPolicy()
	if err != nil {
		return nil, err
	}
	key, err := pseudonym.LoadKeyFile(c.keyPath())
	if err != nil {
		return nil, err
	}
	signer, keys, err := c.digestKeys()
	if err != nil {
		return nil, err
	}
	st, err := sqlitestore.Open(c.db)
	if err != nil {
		return nil, err
	}
	cfg := local.Config{Store: st, Policy: p, Key: key, Now: now, Log: log,
		DigestStore: digest.Dir{Path: c.digestDir()}, DigestKeys: keys}
	if signer != nil {
		cfg.DigestSigner = signer
	}
	s, err := local.New(cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	c.closers = append(c.closers, st)
	return s, nil
}

// checkRegion is a usage error when region (--region) is not a region of
// the policy.
func checkRegion(p *policy.Policy, region string) error {
	if !p.HasRegion(region) {
		return usagef("--region %q is not a region of the policy (%s)", region, strings.Join(p.Regions, ", "))
	}
	return nil
}

// policyRegion is region, or the policy's first region when region is ""
// (the default --region of invoke and serve).
func policyRegion(p *policy.Policy, region string) string {
	if region == "" {
		return p.Regions[0]
	}
	return region
}

func required(pairs ...string) error {
	var missing []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			missing = append(missing, "--"+pairs[i])
		}
	}
	if len(missing) > 0 {
		return usagef("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

var errBroken = errors.New("ledger does not verify")
