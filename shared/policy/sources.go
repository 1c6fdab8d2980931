package policy

import (
	"slices"
	"strconv"
	"strings"

	"github.com/residency-dev/residency/shared/record"
	"go.yaml.in/yaml/v3"
)

func (ps *parser) sources(top mapping) {
	n := top.get("sources")
	if n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		ps.errorf(n.Line, "sources", "must be a list of sources, not %s", kindName(n))
		return
	}
	seen := map[string]int{}
	for i, sn := range n.Content {
		path := "sources[" + strconv.Itoa(i) + "]"
		m := ps.mapping(deref(sn), path, "table", "bucket", "prefix", "key", "subject_id", "subject_country",
			"category", "category_attr", "created_at", "last_activity", "contract", "ttl_attribute")
		s := Source{Line: m.node.Line}
		if !m.ok {
			continue
		}
		table, tn := ps.str(m, "table", false)
		bucket, bn := ps.str(m, "bucket", false)
		prefix, pn := ps.str(m, "prefix", false)
		switch {
		case tn != nil && bn != nil:
			ps.errorf(bn.Line, m.field("bucket"), "a source is a table or a bucket, not both")
		case tn == nil && bn == nil:
			for _, k := range []string{"table", "bucket"} {
				if n := m.get(k); n != nil && n.Kind == yaml.ScalarNode {
					ps.errorf(n.Line, m.field(k), "must not be empty")
				}
			}
			if m.get("table") == nil && m.get("bucket") == nil {
				ps.errorf(m.node.Line, path, "missing table or bucket")
			}
		case tn != nil:
			s.Table = table
			if !validTableName(table) {
				ps.errorf(tn.Line, m.field("table"), "invalid DynamoDB table name %q: 3-255 characters a-z, A-Z, 0-9, _ - .", table)
			}
			if pn != nil {
				ps.errorf(pn.Line, m.field("prefix"), "prefix applies to buckets only")
			}
			if m.get("key") == nil {
				ps.errorf(m.node.Line, m.field("key"), "missing: the table's key attributes, e.g. [pk, sk]")
			}
			items, _, _ := ps.list(m, "key", false, true)
			for _, it := range items {
				s.Key = append(s.Key, it.val)
			}
		case bn != nil:
			s.Bucket, s.Prefix = bucket, prefix
			if len(bucket) < 3 || len(bucket) > 255 || strings.ContainsAny(bucket, "/ \t") {
				ps.errorf(bn.Line, m.field("bucket"), "invalid S3 bucket name %q", bucket)
			}
			if kn := m.get("key"); kn != nil {
				ps.errorf(kn.Line, m.field("key"), "key applies to tables only (an S3 object is found by bucket and prefix)")
			}
		}
		if name := s.Table + "\x00" + s.Bucket + "\x00" + s.Prefix; s.Name() != "" {
			if first, dup := seen[name]; dup {
				what := "table " + s.Table
				if s.Bucket != "" {
					what = "bucket " + s.Bucket + " with prefix " + strconv.Quote(s.Prefix)
				}
				ps.errorf(m.node.Line, path, "%s is watched twice (first at line %d)", what, first)
			} else {
				seen[name] = m.node.Line
			}
		}
		s.SubjectID, _ = ps.str(m, "subject_id", true)
		s.SubjectCountry, _ = ps.str(m, "subject_country", true)
		cat, cn := ps.str(m, "category", false)
		attr, an := ps.str(m, "category_attr", false)
		s.CategoryAttr = attr
		s.CreatedAt, _ = ps.str(m, "created_at", false)
		s.LastActivity, _ = ps.str(m, "last_activity", false)
		s.Contract, _ = ps.str(m, "contract", false)
		if ttl, tn := ps.str(m, "ttl_attribute", false); tn != nil {
			switch {
			case s.Bucket != "":
				ps.errorf(tn.Line, m.field("ttl_attribute"), "ttl_attribute applies to tables only (S3 has lifecycle rules)")
			case slices.Contains(s.Key, ttl) || ttl == record.TagAttribute:
				ps.errorf(tn.Line, m.field("ttl_attribute"), "%q is a key attribute or the residency tag, not a TTL attribute", ttl)
			default:
				s.TTLAttribute = ttl
			}
		}
		switch {
		case cn != nil && an != nil:
			ps.errorf(an.Line, m.field("category_attr"), "a source has a fixed category or a category_attr, not both")
		case cn == nil && an == nil:
			for _, k := range []string{"category", "category_attr"} {
				if n := m.get(k); n != nil && n.Kind == yaml.ScalarNode {
					ps.errorf(n.Line, m.field(k), "must not be empty")
				}
			}
			if m.get("category") == nil && m.get("category_attr") == nil {
				ps.errorf(m.node.Line, m.field("category"), "missing: a fixed category, or category_attr naming the attribute that holds it")
			}
		case cn != nil && ps.knownCategory(cat, cn.Line, m.field("category")):
			s.Category = cat
			c := ps.p.Categories[cat]
			switch {
			case c.Personal && c.From == FromLastActivity && s.LastActivity == "":
				ps.errorf(cn.Line, m.field("category"), "category %s retains from last_activity, but the source names no last_activity attribute", cat)
			case c.Personal && c.From == FromContractEnd && s.Contract == "":
				ps.errorf(cn.Line, m.field("category"), "category %s retains from contract_end, but the source names no contract attribute", cat)
			}
		}
		ps.p.Sources = append(ps.p.Sources, s)
	}
}

// validTableName reports whether s is a valid DynamoDB table name.
func validTableName(s string) bool {
	if len(s) < 3 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// mechanismFields are the fields each mechanism type takes.
