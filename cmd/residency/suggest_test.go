package main

import (
	"strings"
	"testing"
)

// words splits an example command line as a shell would (double quotes;
// redirections dropped).
func words(line string) []string {
	var out []string
	var cur strings.Builder
	quoted, in := false, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted, in = !quoted, true
		case r == ' ' && !quoted:
			if in {
				out = append(out, cur.String())
			}
			cur.Reset()
			in = false
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	for i, w := range out {
		if w == "<" || w == ">" {
			return out[:i]
		}
	}
	return out
}

// TestExamples checks that every command and subcommand shows two
// examples in its help, and that each example is a command line the CLI
// parses: its command exists and its flags are the command's.
func TestExamples(t *testing.T) {
	sets := leafFlagSets(t)
	for name := range commands {
		if _, ok := sets[name]; !ok {
			sets[name] = nil // a command that only names its subcommands
		}
	}
	for name := range sets {
		if len(examples[name]) < 2 {
			t.Errorf("%s: expect two examples, got %d", name, len(examples[name]))
		}
		args := append(strings.Fields(name), "--help")
		if code, out, _ := cli(t, args...); code != exitOK || !strings.Contains(out, "Examples:\n  "+examples[name][0]+"\n") {
			t.Errorf("%s --help: expect its examples, got %d: %s", name, code, out)
		}
	}
	for name, lines := range examples {
		if _, ok := sets[name]; !ok {
			t.Errorf("examples of %q, which is not a command", name)
		}
		for _, line := range lines {
			args := words(line)
			if len(args) < 2 || args[0] != "residency" {
				t.Errorf("%q: expect a residency command line", line)
				continue
			}
			args = globalsAfterCommand(args[1:])
			if args[0] == "--version" {
				args[0] = "version"
			}
			leaf, rest := args[0], args[1:]
			for _, sub := range subcommands[leaf] {
				if len(rest) > 0 && rest[0] == sub {
					leaf, rest = leaf+" "+sub, rest[1:]
				}
			}
			fs := leafFlagSets(t)[leaf]
			if fs == nil {
				t.Errorf("%q (example of %s): expect a command with flags, got %q", line, name, leaf)
				continue
			}
			if _, err := parse(fs, rest); err != nil {
				t.Errorf("%q (example of %s): expect it to parse, got %v", line, name, err)
			}
		}
	}
}

func TestSuggestions(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"command":        {[]string{"reprot"}, `unknown command "reprot" (did you mean report?)`},
		"command typo 2": {[]string{"falures"}, "(did you mean failures?)"},
		"far off":        {[]string{"xyzzy"}, "(known: backfill, certificate, check-proof, completion, decide, digest-key, failures, help, invoke, policy, prove, report, run, serve, sweep, verify, version)"},
		"help of typo":   {[]string{"help", "sweeep"}, "(did you mean sweep?)"},
		"subcommand":     {[]string{"decide", "residncy", "--subject", "FR"}, "did you mean decide residency?"},
		"policy sub":     {[]string{"policy", "valdiate", "x.yaml"}, "did you mean policy validate?"},
		"flag":           {[]string{"sweep", "--regoin", "eu-west-1"}, "(did you mean --region?)"},
		"common flag":    {[]string{"failures", "--polcy", "x.yaml"}, "(did you mean --policy?)"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			code, _, errs := cli(t, c.args...)
			if code != exitUsage || !strings.Contains(errs, c.want) {
				t.Fatalf("expect exit %d and %q, got %d: %s", exitUsage, c.want, code, errs)
			}
			if strings.Count(strings.TrimSpace(errs), "\n") != 1 {
				t.Errorf("expect one line saying what is wrong and the help hint, got %q", errs)
			}
		})
	}
}
