package policy

// The YAML walking of the parser: fields, lists, dates and errors with
// their lines. What the fields mean is checked in parse.go and beside it.

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agnivade/levenshtein"
	"go.yaml.in/yaml/v3"
)

type parser struct {
	file string
	errs []FieldError
	p    *Policy
	// hasOrg is true when the policy names an organization, valid or not.
	hasOrg bool
}

func (ps *parser) errorf(line int, field, format string, args ...any) {
	ps.errs = append(ps.errs, FieldError{File: ps.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the problems yaml's parser (not its scanner) reports.
// For them yaml gives the 0-based line of the construct it was parsing
// (go.yaml.in/yaml/v3 decode.go, parser.fail), so the line is one more.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// syntaxError records a YAML syntax error, with its line when yaml says it.
func (ps *parser) syntaxError(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if parserProblems[m[2]] {
			line++
		}
		ps.errorf(line, "", "invalid YAML: %s", m[2])
		return
	}
	ps.errorf(0, "", "invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}

// mapping is a validated YAML mapping: its values and key nodes by key.
type mapping struct {
	node *yaml.Node
	path string
	ok   bool // false when the node is not a mapping
	vals map[string]*yaml.Node
	keys map[string]*yaml.Node
}

func (m mapping) get(key string) *yaml.Node { return m.vals[key] }

func (m mapping) field(key string) string { return join(m.path, key) }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapping checks that n is a mapping with scalar, unique, known keys and
// returns its values. Unknown keys are reported (with the nearest known key)
// and left out. A non-mapping n is reported and yields an empty mapping.
func (ps *parser) mapping(n *yaml.Node, path string, known ...string) mapping {
	m := mapping{node: n, path: path, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	if n.Kind != yaml.MappingNode {
		ps.errorf(n.Line, path, "must be a mapping of fields, not %s", kindName(n))
		return m
	}
	m.ok = true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			ps.errorf(k.Line, path, "field names must be plain strings, not %s", kindName(k))
			continue
		}
		key := k.Value
		if key == "<<" && k.Tag == "!!merge" {
			ps.errorf(k.Line, path, "merge keys (<<) are not supported: write the fields out")
			continue
		}
		if first, dup := m.keys[key]; dup {
			ps.errorf(k.Line, join(path, key), "duplicate field (first at line %d)", first.Line)
			continue
		}
		if !slices.Contains(known, key) {
			ps.errorf(k.Line, join(path, key), "unknown field%s", suggest(key, known))
			continue
		}
		m.keys[key] = k
		m.vals[key] = v
	}
	return m
}

// suggest returns " (did you mean X?)" for a near miss, else the known names.
func suggest(got string, known []string) string {
	if best := nearest(got, known); best != "" {
		return " (did you mean " + best + "?)"
	}
	return " (known: " + strings.Join(known, ", ") + ")"
}

// guess returns "did you mean X? " for a near miss of one of the values of
// an enumeration, else "".
func guess(got string, values ...string) string {
	if best := nearest(got, values); best != "" {
		return "did you mean " + best + "? "
	}
	return ""
}

// nearest returns the known name nearest to got, within two edits and half
// its length (eu-centrl-1 -> eu-central-1), else "".
func nearest(got string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := levenshtein.ComputeDistance(strings.ToLower(got), strings.ToLower(k)); d < bestD && d <= len(k)/2 {
			best, bestD = k, d
		}
	}
	return best
}

// str returns a scalar field's value. A missing or null field is reported
// when required; the node is nil when the field is absent or not a string.
func (ps *parser) str(m mapping, key string, required bool) (string, *yaml.Node) {
	n := m.get(key)
	if n == nil {
		if required {
			ps.errorf(m.node.Line, m.field(key), "missing")
		}
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		ps.errorf(n.Line, m.field(key), "must be a single value, not %s", kindName(n))
		return "", nil
	}
	if isNull(n) || n.Value == "" {
		if required {
			ps.errorf(n.Line, m.field(key), "must not be empty")
		}
		return "", nil
	}
	return n.Value, n
}

// item is a scalar in a list, with its line.
type item struct {
	val  string
	line int
}

// list returns a list field's scalar items. A missing field is reported when
// required; an empty list when nonEmpty. ok is false when the field is
// absent or malformed.
func (ps *parser) list(m mapping, key string, required, nonEmpty bool) (items []item, line int, ok bool) {
	n := m.get(key)
	if n == nil {
		if required {
			ps.errorf(m.node.Line, m.field(key), "missing")
		}
		return nil, m.node.Line, false
	}
	if isNull(n) {
		n = &yaml.Node{Kind: yaml.SequenceNode, Line: n.Line}
	}
	if n.Kind != yaml.SequenceNode {
		ps.errorf(n.Line, m.field(key), "must be a list, e.g. [a, b], not %s", kindName(n))
		return nil, n.Line, false
	}
	if nonEmpty && len(n.Content) == 0 {
		ps.errorf(n.Line, m.field(key), "must not be empty")
		return nil, n.Line, false
	}
	seen := map[string]int{}
	ok = true
	for i, c := range n.Content {
		c = deref(c)
		f := m.field(key) + "[" + strconv.Itoa(i) + "]"
		if c.Kind != yaml.ScalarNode || isNull(c) || c.Value == "" {
			ps.errorf(c.Line, f, "must be a non-empty single value, not %s", kindName(c))
			ok = false
			continue
		}
		if first, dup := seen[c.Value]; dup {
			ps.errorf(c.Line, m.field(key), "%s is listed twice (first at line %d)", c.Value, first)
			continue
		}
		seen[c.Value] = c.Line
		items = append(items, item{c.Value, c.Line})
	}
	return items, n.Line, ok
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// date returns a YYYY-MM-DD field as UTC midnight.
func (ps *parser) date(m mapping, key string, required bool) (time.Time, *yaml.Node) {
	v, n := ps.str(m, key, required)
	if n == nil {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if !dateRE.MatchString(v) || err != nil {
		ps.errorf(n.Line, m.field(key), "invalid date %q: want YYYY-MM-DD, e.g. 2027-03-26", v)
		return time.Time{}, nil
	}
	return t, n
}

// deref follows alias nodes to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "empty"
		}
		return strconv.Quote(n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}
