package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the flag tables of docs/cli.md from the commands' flag sets")

const cliDoc = "docs/cli.md"

// commonFlagSet is the flag set of the flags every command takes.
func commonFlagSet() *flag.FlagSet {
	fs, _ := newFlags("common", io.Discard)
	return fs
}

// leafFlagSets is every command's (and subcommand's) flag set, keyed by
// "run", "decide residency", ...
func leafFlagSets(t *testing.T) map[string]*flag.FlagSet {
	t.Helper()
	sets, err := commandFlagSets()
	if err != nil {
		t.Fatal(err)
	}
	return sets
}

// flagTable is the Markdown table of fs's flags, without those in skip.
func flagTable(fs *flag.FlagSet, skip *flag.FlagSet) string {
	var b strings.Builder
	b.WriteString("| flag | default | what it does |\n|---|---|---|\n")
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		if skip != nil && skip.Lookup(f.Name) != nil {
			return
		}
		n++
		kind, usage := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if kind != "" {
			name += " " + kind
		}
		def := f.DefValue
		switch {
		case def == "" || (kind == "" && def == "false"):
			def = ""
		default:
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", name, def, strings.NewReplacer("|", `\|`, "<", "&lt;").Replace(usage))
	})
	if n == 0 {
		return "No flags of its own; the common flags apply.\n"
	}
	return b.String()
}

var flagBlock = regexp.MustCompile(`(?s)<!-- flags: ([a-z -]+) -->\n(.*?)<!-- end flags -->`)

// TestCLIDoc checks that docs/cli.md documents every command, subcommand
// and flag of the CLI, with the defaults the flag sets have, and names no
// command or flag the CLI lacks. The flag tables are generated: go test
// ./cmd/residency -run TestCLIDoc -update-docs; the prose is written by hand.
func TestCLIDoc(t *testing.T) {
	doc, err := os.ReadFile(cliDoc)
	if err != nil {
		t.Fatal(err)
	}
	common := commonFlagSet()
	sets := leafFlagSets(t)
	documented := map[string]bool{}
	var missing []string
	got := flagBlock.ReplaceAllFunc(doc, func(m []byte) []byte {
		name := string(flagBlock.FindSubmatch(m)[1])
		documented[name] = true
		var table string
		switch fs, ok := sets[name]; {
		case name == "common":
			table = flagTable(common, nil)
		case ok:
			table = flagTable(fs, common)
		default:
			missing = append(missing, name)
			return m
		}
		return []byte("<!-- flags: " + name + " -->\n" + table + "<!-- end flags -->")
	})
	if len(missing) > 0 {
		t.Errorf("%s documents commands the CLI does not have: %v", cliDoc, missing)
	}
	var undocumented []string
	for name := range sets {
		if !documented[name] {
			undocumented = append(undocumented, name)
		}
	}
	sort.Strings(undocumented)
	if len(undocumented) > 0 || !documented["common"] {
		t.Errorf("%s lacks a flags block (<!-- flags: NAME --> ... <!-- end flags -->) for %v (common: %v)", cliDoc, undocumented, documented["common"])
	}

	// Every heading names a command with a flags block, and every --flag
	// in the prose is a flag of some command.
	for _, m := range regexp.MustCompile("(?m)^##+ `residency ([a-z -]+)`").FindAllSubmatch(doc, -1) {
		if name := string(m[1]); !documented[name] {
			t.Errorf("%s: heading %q: expect a command with its flags block", cliDoc, name)
		}
	}
	// help and version work on every command; endpoint-url is the AWS
	// CLI's, named where serve is driven by it.
	known := map[string]bool{"help": true, "version": true, "endpoint-url": true}
	common.VisitAll(func(f *flag.Flag) { known[f.Name] = true })
	for _, fs := range sets {
		fs.VisitAll(func(f *flag.Flag) { known[f.Name] = true })
	}
	for _, m := range regexp.MustCompile("(?:^|[\\s`(\\[])--([a-z][a-z0-9-]*)").FindAllSubmatch(doc, -1) {
		if !known[string(m[1])] {
			t.Errorf("%s names --%s, which no command has", cliDoc, m[1])
		}
	}
	// Every top-level command appears in the usage the CLI prints.
	for name := range commands {
		if !strings.Contains(usage, "residency "+name) {
			t.Errorf("the usage text does not list %q", name)
		}
	}

	if *updateDocs {
		if err := os.WriteFile(cliDoc, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, doc) {
		t.Errorf("%s's flag tables are not what the flag sets say: run go test ./cmd/residency -run TestCLIDoc -update-docs", cliDoc)
	}
}

func TestCLIDocExitCodes(t *testing.T) {
	doc, err := os.ReadFile(cliDoc)
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []int{exitOK, exitFail, exitUsage, exitBroken} {
		if !strings.Contains(string(doc), fmt.Sprintf("\n| `%d` |", code)) {
			t.Errorf("%s: expect a row for exit code %d", cliDoc, code)
		}
	}
}
