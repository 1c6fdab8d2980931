package policy

import (
	"slices"
	"strconv"
	"strings"

	"github.com/residency-dev/residency/shared/record"
	"go.yaml.in/yaml/v3"
)

// sourceFields are the fields of a source (docs/policy.md lists each).
var sourceFields = []string{"table", "bucket", "buckets", "prefix", "key", "subject_id", "subject_country",
	"category", "category_attr", "created_at", "last_activity", "contract", "ttl_attribute"}

func (ps *parser) sources(top mapping) {
	items := ps.sequence(top, "sources", "sources")
	seen := map[string]int{}
	for i, sn := range items {
		path := itemPath("sources", i)
		m := ps.mapping(deref(sn), path, sourceFields...)
		s := Source{Line: m.node.Line}
		if !m.ok {
			continue
		}
		table, tn := ps.str(m, "table", false)
		bucket, bn := ps.str(m, "bucket", false)
		bsn := m.get("buckets")
		prefix, pn := ps.str(m, "prefix", false)
		switch {
		case tn != nil && (bn != nil || bsn != nil):
			f := "bucket"
			if bn == nil {
				f = "buckets"
			}
			ps.errorf(m.get(f).Line, m.field(f), "a source is a table or a bucket, not both")
		case bn != nil && bsn != nil:
			ps.errorf(bsn.Line, m.field("buckets"), "a source names one bucket or its bucket per region, not both: keep buckets: {REGION: NAME, ...}")
		case tn == nil && bn == nil && bsn == nil:
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
		default:
			s.Prefix = prefix
			if bn != nil {
				s.Bucket = bucket
				ps.bucketName(bucket, bn.Line, m.field("bucket"))
			} else {
				s.Buckets = ps.buckets(bsn, m.field("buckets"))
			}
			if kn := m.get("key"); kn != nil {
				ps.errorf(kn.Line, m.field("key"), "key applies to tables only (an S3 object is found by bucket and prefix)")
			}
		}
		var names []string
		if s.Table != "" {
			names = []string{s.Table + "\x00\x00"}
		}
		for _, b := range s.BucketNames() {
			names = append(names, "\x00"+b+"\x00"+s.Prefix)
		}
		for _, name := range names {
			if first, dup := seen[name]; dup {
				what := "table " + s.Table
				if s.Table == "" {
					what = "bucket " + strings.Split(name, "\x00")[1] + " with prefix " + strconv.Quote(s.Prefix)
				}
				ps.errorf(m.node.Line, path, "%s is watched twice (first at line %d)", what, first)
				break
			}
			seen[name] = m.node.Line
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
			case s.IsBucket():
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

// bucketName checks an S3 bucket name (general purpose buckets: 3-63
// characters a-z, 0-9, . and -, starting and ending with a letter or digit).
func (ps *parser) bucketName(name string, line int, field string) bool {
	if !validBucketName(name) {
		ps.errorf(line, field, "invalid S3 bucket name %q: 3-63 characters a-z, 0-9, . and -, beginning and ending with a letter or digit", name)
		return false
	}
	return true
}

func validBucketName(s string) bool {
	if len(s) < 3 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		edge := i == 0 || i == len(s)-1
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || !edge && (c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// buckets reads the buckets: form, a mapping of each region of the policy
// to the source's bucket there. S3 bucket names are global: a name stands
// for one bucket, in one region.
func (ps *parser) buckets(n *yaml.Node, field string) map[string]string {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		ps.errorf(n.Line, field, "must be a mapping of regions to bucket names, e.g. {eu-central-1: acme-exports-eu, us-east-1: acme-exports-us}, not %s", kindName(n))
		return nil
	}
	out := map[string]string{}
	regionOf := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || isNull(k) || k.Value == "" {
			ps.errorf(k.Line, field, "keys must be region names, not %s", kindName(k))
			continue
		}
		region, f := k.Value, field+"."+k.Value
		if !ps.deploymentRegion(region, k.Line, f) {
			continue
		}
		if _, dup := out[region]; dup {
			ps.errorf(k.Line, f, "region %s is listed twice", region)
			continue
		}
		if v.Kind != yaml.ScalarNode || isNull(v) || v.Value == "" {
			ps.errorf(v.Line, f, "must be a bucket name, not %s", kindName(v))
			continue
		}
		if !ps.bucketName(v.Value, v.Line, f) {
			continue
		}
		if other, dup := regionOf[v.Value]; dup {
			ps.errorf(v.Line, f, "bucket %s is already the bucket of %s: S3 bucket names are global, so each region has a bucket of its own", v.Value, other)
			continue
		}
		out[region], regionOf[v.Value] = v.Value, region
	}
	return out
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
