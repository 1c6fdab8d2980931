package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// complete sources the bash script and calls its completion function on
// the words of line (the last word is the one completed), returning the
// candidates.
func complete(t *testing.T, script, line string) []string {
	t.Helper()
	words := strings.Split(line, " ")
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + w + "'"
	}
	prog := "source " + script + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" + strconv.Itoa(len(words)-1) + "\n_residency\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", prog)
	cmd.Dir = t.TempDir() // file names complete from an empty folder
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%q: %v: %s", line, err, out)
	}
	var got []string
	for _, w := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if w != "" {
			got = append(got, w)
		}
	}
	return got
}

func TestCompletionBash(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	code, out, errs := cli(t, "completion", "bash")
	if code != exitOK || errs != "" {
		t.Fatalf("expect the script on stdout and nothing on stderr, got %d: %s", code, errs)
	}
	script := filepath.Join(t.TempDir(), "residency.bash")
	if err := os.WriteFile(script, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v: %s", err, out)
	}
	cases := map[string]struct {
		line string
		want []string // exactly these candidates (nil: none)
		has  []string // at least these
		not  []string // none of these
	}{
		"commands":               {line: "residency ", has: []string{"run", "report", "completion", "failures", "help"}},
		"command prefix":         {line: "residency re", want: []string{"report"}},
		"after a global flag":    {line: "residency --db x.db fa", want: []string{"failures"}},
		"subcommands":            {line: "residency decide ", want: []string{"residency", "transfer"}},
		"subcommand prefix":      {line: "residency failures r", want: []string{"retry"}},
		"flags of a command":     {line: "residency sweep --", has: []string{"--region", "--db", "--now"}, not: []string{"--format", "--source"}},
		"flags of a subcommand":  {line: "residency decide residency --unk", want: []string{"--unknown-subject"}},
		"report formats":         {line: "residency report --format ", want: []string{"table", "json", "csv", "html"}},
		"failures formats":       {line: "residency failures --format ", want: []string{"table", "json"}},
		"format after a value":   {line: "residency report --from 2026-11-01 --format c", want: []string{"csv"}},
		"regions from policy":    {line: "residency sweep --region eu-", want: []string{"eu-central-1", "eu-west-1"}},
		"sources from policy":    {line: "residency backfill --source ", has: []string{"users"}},
		"single-dash flag value": {line: "residency backfill -region us", want: []string{"us-east-1"}},
		"shells":                 {line: "residency completion ", want: []string{"bash", "zsh", "fish"}},
		"help of a command":      {line: "residency help sw", want: []string{"sweep"}},
		"log levels":             {line: "residency --log-level ", want: []string{"debug", "info", "warn", "error"}},
		"global flags first":     {line: "residency --po", want: []string{"--policy"}},
		"a file, not a command":  {line: "residency run ", want: nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := complete(t, script, c.line)
			if c.want != nil || (c.has == nil && c.not == nil) {
				if !slices.Equal(sortedCopy(got), sortedCopy(c.want)) {
					t.Fatalf("%q: expect %v, got %v", c.line, c.want, got)
				}
			}
			for _, w := range c.has {
				if !slices.Contains(got, w) {
					t.Errorf("%q: expect %s among %v", c.line, w, got)
				}
			}
			for _, w := range c.not {
				if slices.Contains(got, w) {
					t.Errorf("%q: expect no %s, got %v", c.line, w, got)
				}
			}
		})
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// TestCompletionDerived checks that the scripts are made from the flag
// sets, not a list of their own: every command and every flag of every
// command is in each shell's script, and a flag a command gains would be
// too.
func TestCompletionDerived(t *testing.T) {
	sets := leafFlagSets(t)
	for _, shell := range shells {
		code, out, errs := cli(t, "completion", shell)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", shell, code, errs)
		}
		for name := range commands {
			if !strings.Contains(out, name) {
				t.Errorf("%s: expect the command %s in the script", shell, name)
			}
		}
		for key, fs := range sets {
			var names []string
			fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
			for _, name := range names {
				if shell == "fish" {
					if !strings.Contains(out, "'__residency_is \""+key+"\"' -l "+name) {
						t.Errorf("fish: expect --%s of %s", name, key)
					}
				} else if !strings.Contains(out, "'"+key+"') echo '") {
					t.Errorf("%s: expect the flags of %s", shell, key)
				}
			}
		}
	}
	// The policy's own regions, and a quiet fallback when it does not load.
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: \"1\"\n"), 0o644)
	code, out, errs := cli(t, "completion", "bash", "--policy", bad)
	if code != exitOK || errs != "" || strings.Contains(out, "eu-central-1") || !strings.Contains(out, "'report --format') echo 'table json csv html'") {
		t.Fatalf("expect a script without regions and no message when the policy does not load, got %d: %s", code, errs)
	}
	for name, args := range map[string][]string{
		"no shell":      {"completion"},
		"unknown shell": {"completion", "bsh"},
		"two shells":    {"completion", "bash", "zsh"},
	} {
		code, _, errs := cli(t, args...)
		if code != exitUsage {
			t.Errorf("%s: expect exit %d, got %d: %s", name, exitUsage, code, errs)
		}
		if name == "unknown shell" && !strings.Contains(errs, "did you mean bash?") {
			t.Errorf("expect the nearest shell named, got %s", errs)
		}
	}
}

// TestCompletionZshFish checks the zsh and fish scripts' syntax where those
// shells are installed.
func TestCompletionZshFish(t *testing.T) {
	for _, shell := range []string{"zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			if _, err := exec.LookPath(shell); err != nil {
				t.Skipf("%s is not installed: its script's syntax is not checked", shell)
			}
			_, out, _ := cli(t, "completion", shell)
			script := filepath.Join(t.TempDir(), "residency."+shell)
			os.WriteFile(script, []byte(out), 0o644)
			if out, err := exec.Command(shell, "-n", script).CombinedOutput(); err != nil {
				t.Fatalf("%s -n: %v: %s", shell, err, out)
			}
			// Loaded as the script says, it completes.
			var run *exec.Cmd
			if shell == "fish" {
				run = exec.Command("fish", "--no-config", "-c", "source "+script+`; complete -C "residency sw"; complete -C "residency sweep --region "`)
			} else {
				run = exec.Command("zsh", "-f", "-c", "autoload -U +X compinit && compinit -u -D; source "+script+"; whence -w _residency")
			}
			got, err := run.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: load the script: %v: %s", shell, err, got)
			}
			want := []string{"_residency"}
			if shell == "fish" {
				want = []string{"sweep", "eu-central-1", "us-east-1"}
			}
			for _, w := range want {
				if !strings.Contains(string(got), w) {
					t.Errorf("%s: expect %q once the script is loaded, got %s", shell, w, got)
				}
			}
		})
	}
}
