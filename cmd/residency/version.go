package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// cmdVersion prints the module version, the VCS revision the binary was
// built from (with "+dirty" for uncommitted changes) and the version of the
// policy in use (--policy, residency.yaml, or the built-in example).
func cmdVersion(args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("version", stderr)
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	module, revision := buildVersion()
	fmt.Fprintf(stdout, "residency %s (revision %s)\n", module, revision)
	p, err := c.loadPolicy()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "policy version %s\n", p.Version)
	return nil
}

// buildVersion reads the main module's version and VCS revision from the
// build information; "(devel)" and "unknown" when the build has none (go
// run, go test).
func buildVersion() (module, revision string) {
	module, revision = "(devel)", "unknown"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return module, revision
	}
	if info.Main.Version != "" {
		module = info.Main.Version
	}
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && revision != "unknown" {
		revision += "+dirty"
	}
	return module, revision
}
