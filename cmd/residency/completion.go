package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/residency-dev/residency/shared/policy"
)

// shells are the shells residency completion writes a script for.
var shells = []string{"bash", "zsh", "fish"}

func init() {
	// Registered here, not in the commands table's literal: the script is
	// made from that table, which would otherwise refer to itself.
	commands["completion"] = func(_ context.Context, a []string, _ io.Reader, o, e io.Writer) error {
		return cmdCompletion(a, o, e)
	}
}

// cmdCompletion prints a completion script for bash, zsh or fish. It is
// made from the command table and each command's flag set, so it completes
// what the CLI has: commands, subcommands, flags, the values a flag's usage
// lists (--format table|json|csv|html), the policy's regions and watched
// tables for --region and --source, and the shell names.
func cmdCompletion(args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("completion", stderr)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("use: residency completion %s", strings.Join(shells, "|"))
	}
	if !slices.Contains(shells, pos[0]) {
		return usagef("unknown shell %q%s", pos[0], didYouMean(pos[0], shells))
	}
	m, err := newCompletionModel(c)
	if err != nil {
		return err
	}
	switch pos[0] {
	case "bash":
		_, err = io.WriteString(stdout, m.bash())
	case "zsh":
		_, err = io.WriteString(stdout, m.zsh())
	default:
		_, err = io.WriteString(stdout, m.fish())
	}
	return err
}

// commandFlagSets asks every command (and subcommand) for its help and
// returns its flag set, keyed by "run", "decide residency", ...; a command
// that only names its subcommands has none.
func commandFlagSets() (map[string]*flag.FlagSet, error) {
	help := func(args ...string) (helpRequest, error) {
		err := dispatch(context.Background(), args[0], append(args[1:], "--help"), strings.NewReader(""), io.Discard, io.Discard)
		var hr helpRequest
		if !errors.As(err, &hr) {
			return hr, fmt.Errorf("%q --help: expect a help request, got %v", args, err)
		}
		return hr, nil
	}
	sets := map[string]*flag.FlagSet{}
	for name := range commands {
		hr, err := help(name)
		if err != nil {
			return nil, err
		}
		if hr.fs != nil {
			sets[name] = hr.fs
		} else if len(subcommands[name]) == 0 {
			return nil, fmt.Errorf("%s --help: expect its flags or subcommands, got neither", name)
		}
		for _, sub := range subcommands[name] {
			hr, err := help(name, sub)
			if err != nil {
				return nil, err
			}
			if hr.fs == nil {
				return nil, fmt.Errorf("%s %s --help: expect its flags", name, sub)
			}
			sets[name+" "+sub] = hr.fs
		}
	}
	return sets, nil
}

// completionModel is what the scripts complete, whatever the shell.
type completionModel struct {
	commands    []string            // top-level commands, and help
	subcommands map[string][]string // decide -> residency, transfer
	keys        []string            // "run", "decide residency", ... sorted
	flags       map[string][]string // key -> its flag names, sorted
	usage       map[string]string   // key + " " + flag -> usage (fish's descriptions)
	takesValue  []string            // every flag name that takes a value
	values      map[string][]string // key + " " + flag -> its values
	global      []string            // the common flags (before the command)
}

// listedValues finds the values a flag's usage lists: "table|json" or
// "mechanism: none|adequacy|...".
var listedValues = regexp.MustCompile(`(?:^|: )([a-z0-9-]+(?:\|[a-z0-9-]+)+)$`)

func newCompletionModel(c *common) (*completionModel, error) {
	sets, err := commandFlagSets()
	if err != nil {
		return nil, err
	}
	regions, tables := policyNames(c)
	m := &completionModel{subcommands: subcommands, flags: map[string][]string{}, usage: map[string]string{}, values: map[string][]string{}}
	for name := range commands {
		m.commands = append(m.commands, name)
	}
	m.commands = append(m.commands, "help")
	sort.Strings(m.commands)
	commonFlagSet, _ := newFlags("common", io.Discard)
	commonFlagSet.VisitAll(func(f *flag.Flag) { m.global = append(m.global, f.Name) })
	value := map[string]bool{}
	for key, fs := range sets {
		m.keys = append(m.keys, key)
		fs.VisitAll(func(f *flag.Flag) {
			m.flags[key] = append(m.flags[key], f.Name)
			id := key + " " + f.Name
			_, m.usage[id] = flag.UnquoteUsage(f)
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				return
			}
			value[f.Name] = true
			switch {
			case f.Name == "region":
				m.values[id] = regions
			case f.Name == "source":
				m.values[id] = tables
			default:
				if v := listedValues.FindStringSubmatch(f.Usage); v != nil {
					m.values[id] = strings.Split(v[1], "|")
				}
			}
		})
	}
	sort.Strings(m.keys)
	for name := range value {
		m.takesValue = append(m.takesValue, name)
	}
	sort.Strings(m.takesValue)
	return m, nil
}

// policyNames are the policy's regions and watched tables, from --policy or
// residency.yaml, else the built-in example, as the other commands load it
// but without a note on stderr; none when the policy does not load (a
// script is still written, completing the rest).
func policyNames(c *common) (regions, tables []string) {
	p := policy.MustExample()
	path := c.policy
	if path == "" {
		if _, err := os.Stat("residency.yaml"); err == nil {
			path = "residency.yaml"
		}
	}
	if path != "" {
		var err error
		if p, err = policy.Load(path); err != nil {
			return nil, nil
		}
	}
	for _, s := range p.Sources {
		if s.Table != "" && !slices.Contains(tables, s.Table) {
			tables = append(tables, s.Table)
		}
	}
	return p.Regions, tables
}

// dashed is the flag names with -- before each.
func dashed(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "--" + n
	}
	return strings.Join(out, " ")
}

// bashWords quotes a word list for a bash case pattern or echo.
func bashWords(words []string) string { return "'" + strings.Join(words, " ") + "'" }

func (m *completionModel) bash() string {
	var b strings.Builder
	b.WriteString("# bash completion for residency; made by `residency completion bash` from the\n# commands' flag sets. Load it with: source <(residency completion bash)\n\n")
	fmt.Fprintf(&b, "_residency_commands=%s\n", bashWords(m.commands))
	fmt.Fprintf(&b, "_residency_global_flags=%s\n", bashWords(strings.Fields(dashed(m.global))))
	fmt.Fprintf(&b, "_residency_value_flags=' %s '\n", dashed(m.takesValue))
	fmt.Fprintf(&b, "_residency_shells=%s\n\n", bashWords(shells))
	b.WriteString("_residency_subcommands() {\n    case \"$1\" in\n")
	for _, name := range slices.Sorted(maps.Keys(m.subcommands)) {
		fmt.Fprintf(&b, "    %s) echo %s ;;\n", name, bashWords(m.subcommands[name]))
	}
	b.WriteString("    esac\n}\n\n_residency_flags() {\n    case \"$1\" in\n")
	for _, key := range m.keys {
		fmt.Fprintf(&b, "    '%s') echo '%s' ;;\n", key, dashed(m.flags[key]))
	}
	b.WriteString("    esac\n}\n\n_residency_values() {\n    case \"$1\" in\n")
	for _, id := range slices.Sorted(maps.Keys(m.values)) {
		if len(m.values[id]) > 0 {
			key, name := splitID(id)
			fmt.Fprintf(&b, "    '%s --%s') echo %s ;;\n", key, name, bashWords(m.values[id]))
		}
	}
	b.WriteString(`    esac
}

_residency() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="" cmd="" sub="" key="" w n i
    if [[ $COMP_CWORD -gt 0 ]]; then prev="${COMP_WORDS[COMP_CWORD-1]}"; fi
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${COMP_WORDS[i]}"
        if [[ $w == -* ]]; then
            n="${w#-}"; n="--${n#-}"
            if [[ $w != *=* && $_residency_value_flags == *" $n "* ]]; then ((i++)); fi
        elif [[ -z $cmd ]]; then
            cmd="$w"
        elif [[ -z $sub && " $(_residency_subcommands "$cmd") " == *" $w "* ]]; then
            sub="$w"
        fi
    done
    key="$cmd"
    if [[ -n $sub ]]; then key="$cmd $sub"; fi
    COMPREPLY=()
    if [[ $prev == -* ]]; then
        n="${prev#-}"; n="--${n#-}"
        if [[ $prev != *=* && $_residency_value_flags == *" $n "* ]]; then
            local values
            values="$(_residency_values "${key:-common} $n")"
            if [[ -z $values && -z $cmd ]]; then values="$(_residency_values "run $n")"; fi
            if [[ -n $values ]]; then
                COMPREPLY=($(compgen -W "$values" -- "$cur"))
            else
                COMPREPLY=($(compgen -f -- "$cur"))
            fi
            return 0
        fi
    fi
    if [[ $cur == -* ]]; then
        local flags
        flags="$(_residency_flags "$key")"
        if [[ -z $flags ]]; then flags="$_residency_global_flags"; fi
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
        return 0
    fi
    case "$cmd" in
    "") COMPREPLY=($(compgen -W "$_residency_commands" -- "$cur")); return 0 ;;
    help)
        if [[ -z $sub && $COMP_CWORD -le 2 ]]; then COMPREPLY=($(compgen -W "$_residency_commands" -- "$cur")); fi
        return 0 ;;
    completion) COMPREPLY=($(compgen -W "$_residency_shells" -- "$cur")); return 0 ;;
    esac
    local subs
    subs="$(_residency_subcommands "$cmd")"
    if [[ -n $subs && -z $sub ]]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
        return 0
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}

complete -o filenames -F _residency residency
`)
	return b.String()
}

// zsh uses the bash script through zsh's bashcompinit, so the two never
// differ.
func (m *completionModel) zsh() string {
	return "# zsh completion for residency; made by `residency completion zsh`.\n" +
		"# Load it with: source <(residency completion zsh)\n" +
		"autoload -U +X compinit && compinit\n" +
		"autoload -U +X bashcompinit && bashcompinit\n\n" + m.bash()
}

func (m *completionModel) fish() string {
	var b strings.Builder
	b.WriteString("# fish completion for residency; made by `residency completion fish` from the\n# commands' flag sets. Load it with: residency completion fish | source\n\n")
	// __residency_key prints the command (and subcommand) on the line so
	// far, skipping the flags and their values.
	fmt.Fprintf(&b, `function __residency_key
    set -l value_flags %s
    set -l words (commandline -opc)
    set -e words[1]
    set -l cmd
    set -l sub
    set -l skip 0
    for w in $words
        if test $skip -eq 1
            set skip 0
            continue
        end
        if string match -q -- '-*' $w
            set -l n (string replace -r -- '^--?' '' $w)
            if not string match -q -- '*=*' $w; and contains -- $n $value_flags
                set skip 1
            end
        else if test -z "$cmd"
            set cmd $w
        else if test -z "$sub"
            set sub $w
        end
    end
    switch $cmd
`, strings.Join(m.takesValue, " "))
	for _, name := range slices.Sorted(maps.Keys(m.subcommands)) {
		fmt.Fprintf(&b, "        case %s\n            if contains -- \"$sub\" %s\n                echo \"$cmd $sub\"\n                return\n            end\n            echo $cmd\n            return\n", name, strings.Join(m.subcommands[name], " "))
	}
	b.WriteString("    end\n    echo $cmd\nend\n\n")
	b.WriteString("function __residency_is\n    set -l k (__residency_key)\n    test \"$k\" = \"$argv[1]\"\nend\n\n")
	b.WriteString("complete -c residency -f\n")
	fmt.Fprintf(&b, "complete -c residency -n '__residency_is \"\"' -a '%s'\n", strings.Join(m.commands, " "))
	fmt.Fprintf(&b, "complete -c residency -n '__residency_is help' -a '%s'\n", strings.Join(m.commands, " "))
	fmt.Fprintf(&b, "complete -c residency -n '__residency_is completion' -a '%s'\n", strings.Join(shells, " "))
	for _, name := range slices.Sorted(maps.Keys(m.subcommands)) {
		fmt.Fprintf(&b, "complete -c residency -n '__residency_is %s' -a '%s'\n", name, strings.Join(m.subcommands[name], " "))
	}
	for _, name := range m.global {
		fmt.Fprintf(&b, "complete -c residency -n '__residency_is \"\"' -l %s -r\n", name)
	}
	for _, key := range m.keys {
		for _, name := range m.flags[key] {
			id := key + " " + name
			line := fmt.Sprintf("complete -c residency -n '__residency_is \"%s\"' -l %s", key, name)
			if slices.Contains(m.takesValue, name) {
				if v := m.values[id]; len(v) > 0 {
					line += " -x -a '" + strings.Join(v, " ") + "'"
				} else {
					line += " -r -F"
				}
			}
			line += " -d '" + strings.ReplaceAll(m.usage[id], "'", `\'`) + "'"
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func splitID(id string) (key, name string) {
	i := strings.LastIndexByte(id, ' ')
	return id[:i], id[i+1:]
}
