package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/jurisdiction"
	"github.com/residency-dev/residency/shared/policy"
)

// Context keys of the CDK app (cdk.json "context", or `cdk -c key=value`).
// Values given on the command line are strings: lists and maps may then be
// written as JSON.
const (
	// CtxRegions lists the regions to deploy, one stack each (default: the
	// policy's regions). Each must be a region of the policy.
	CtxRegions = "residency:regions"
	// CtxPolicy is the policy file (default residency.yaml; when that file
	// is absent, the example policy of shared/policy/example.yaml).
	CtxPolicy = "residency:policy"
	// CtxAccount is the AWS account of every stack (default: the account
	// of the CLI's credentials, CDK_DEFAULT_ACCOUNT; else account-agnostic).
	CtxAccount = "residency:account"
	// CtxStreams maps region -> watched table -> that table's stream ARN in
	// that region: {"eu-central-1": {"users": "arn:aws:dynamodb:..."}}.
	CtxStreams = "residency:streams"
	// CtxBuckets maps each watched bucket of a single-bucket source
	// (bucket: NAME) to the region it lives in (S3 bucket names are
	// global): {"acme-exports": "eu-central-1"}. The buckets of a source
	// that names one per region (buckets: {REGION: NAME}) need no entry.
	CtxBuckets = "residency:buckets"
	// CtxAssets is the directory holding <function>/bootstrap for each
	// function, as `make build` writes them (default bin).
	CtxAssets = "residency:assets"
	// CtxSweepRate is the retention sweep's rate: "1 hour", "15 minutes",
	// or a full Scheduler expression "rate(...)" / "cron(...)" (default
	// "1 hour").
	CtxSweepRate = "residency:sweepRate"
	// CtxDigestRetentionYears is the Object Lock (compliance mode) default
	// retention of the ledger digests, in years (default 7).
	CtxDigestRetentionYears = "residency:digestRetentionYears"
	// CtxExposureSLOSeconds is the exposure SLO, in seconds: the stack
	// alarms when the p99 of the router's Exposure (misplaced write to the
	// deletion of the misplaced copy) exceeds it (default 60).
	CtxExposureSLOSeconds = "residency:exposureSloSeconds"
)

// Defaults of the context values.
const (
	DefaultPolicyFile           = "residency.yaml"
	ExamplePolicyFile           = "shared/policy/example.yaml"
	DefaultAssetDir             = "bin"
	DefaultSweepRate            = "1 hour"
	DefaultDigestRetentionYears = 7
	DefaultExposureSLOSeconds   = 60
)

// Functions are Residency's five Lambda functions, in a fixed order.
var Functions = []string{"tagger", "router", "ledger", "retention", "reports"}

// Config is the validated configuration of the CDK app: what cdk.json's
// context and the policy file say, checked against each other.
type Config struct {
	// Regions are the regions to deploy, one stack each.
	Regions []string
	// PolicyFile names the policy (for messages); PolicyYAML is its content,
	// bundled beside every function's bootstrap; Policy the parsed policy.
	PolicyFile string
	PolicyYAML []byte
	Policy     *policy.Policy
	// Account is the AWS account of every stack; "" for account-agnostic
	// stacks (synth without credentials).
	Account string
	// Streams maps region -> watched table -> stream ARN.
	Streams map[string]map[string]string
	// BucketRegions maps each watched bucket to its region: the policy's
	// buckets: form, and CtxBuckets for the single bucket: form.
	BucketRegions map[string]string
	// AssetDir holds <function>/bootstrap.
	AssetDir string
	// SweepSchedule is the Scheduler expression of the retention sweep.
	SweepSchedule string
	// DigestRetentionYears is the digests' Object Lock retention.
	DigestRetentionYears int
	// ExposureSLO is the exposure p99 the stack alarms over.
	ExposureSLO time.Duration
}

// LoadConfig reads the app's context through get (nil for an absent key)
// and loads and validates the policy. defaultAccount is the account of the
// CLI's credentials (CDK_DEFAULT_ACCOUNT), used when the context names none.
// It reports every problem at once; policy errors keep their file:line form.
func LoadConfig(get func(key string) any, defaultAccount string) (*Config, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	cfg := &Config{
		AssetDir:             DefaultAssetDir,
		SweepSchedule:        "rate(" + DefaultSweepRate + ")",
		DigestRetentionYears: DefaultDigestRetentionYears,
		ExposureSLO:          DefaultExposureSLOSeconds * time.Second,
	}

	// The policy first: the rest is checked against it.
	file, err := contextString(get, CtxPolicy)
	if err != nil {
		return nil, err
	}
	if err := cfg.loadPolicy(file); err != nil {
		return nil, err
	}
	p := cfg.Policy

	regions, err := contextStrings(get, CtxRegions)
	if err != nil {
		errs = append(errs, err)
	}
	if len(regions) == 0 {
		regions = p.Regions
	}
	seen := map[string]bool{}
	for _, r := range regions {
		switch {
		case seen[r]:
			fail("%s: region %s is listed twice", CtxRegions, r)
		case !p.HasRegion(r):
			fail("%s: region %q is not one of the regions of policy %s (%s)", CtxRegions, r, cfg.PolicyFile, strings.Join(p.Regions, ", "))
		default:
			cfg.Regions = append(cfg.Regions, r)
		}
		seen[r] = true
	}

	if cfg.Account, err = contextString(get, CtxAccount); err != nil {
		errs = append(errs, err)
	}
	if cfg.Account == "" {
		cfg.Account = defaultAccount
	}
	if cfg.Account != "" && !accountRE.MatchString(cfg.Account) {
		fail("%s: %q is not a 12-digit AWS account id", CtxAccount, cfg.Account)
	}

	if cfg.Streams, err = contextStreams(get); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, cfg.checkStreams()...)

	if cfg.BucketRegions, err = contextStringMap(get, CtxBuckets); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, cfg.checkBuckets()...)

	if dir, err := contextString(get, CtxAssets); err != nil {
		errs = append(errs, err)
	} else if dir != "" {
		cfg.AssetDir = dir
	}

	if rate, err := contextString(get, CtxSweepRate); err != nil {
		errs = append(errs, err)
	} else if rate != "" {
		if cfg.SweepSchedule, err = sweepSchedule(rate); err != nil {
			errs = append(errs, err)
		}
	}

	if years, err := contextInt(get, CtxDigestRetentionYears); err != nil {
		errs = append(errs, err)
	} else if years != 0 {
		if years < 1 || years > 100 {
			fail("%s: %d years: must be 1 to 100", CtxDigestRetentionYears, years)
		}
		cfg.DigestRetentionYears = years
	}

	if secs, err := contextInt(get, CtxExposureSLOSeconds); err != nil {
		errs = append(errs, err)
	} else if secs != 0 {
		if secs < 1 || secs > 86400 {
			fail("%s: %d seconds: must be 1 to 86400 (a day)", CtxExposureSLOSeconds, secs)
		}
		cfg.ExposureSLO = time.Duration(secs) * time.Second
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

// loadPolicy loads file, or the example policy when file is the default
// residency.yaml and absent.
func (cfg *Config) loadPolicy(file string) error {
	explicit := file != ""
	if !explicit {
		file = DefaultPolicyFile
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) && file == DefaultPolicyFile {
		file, data, err = ExamplePolicyFile, policy.Example, nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", CtxPolicy, err)
	}
	p, err := policy.Parse(file, data)
	if err != nil {
		// The policy's own errors, one "file:line: field: message" a line.
		return fmt.Errorf("policy %s is invalid:\n%w", file, err)
	}
	cfg.PolicyFile, cfg.PolicyYAML, cfg.Policy = file, data, p
	return nil
}

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	// arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL
	streamARNRE = regexp.MustCompile(`^arn:(aws[a-z-]*):dynamodb:([a-z0-9-]+):([0-9]{12}):table/([A-Za-z0-9_.-]{3,255})/stream/([^/\s]+)$`)
)

// StreamARN is a parsed DynamoDB stream ARN.
type StreamARN struct {
	Partition, Region, Account, Table, Label string
}

// ParseStreamARN parses a DynamoDB stream ARN.
func ParseStreamARN(arn string) (StreamARN, bool) {
	m := streamARNRE.FindStringSubmatch(arn)
	if m == nil {
		return StreamARN{}, false
	}
	return StreamARN{Partition: m[1], Region: m[2], Account: m[3], Table: m[4], Label: m[5]}, true
}

// WatchedTables returns the policy's watched table names, sorted, once each.
func WatchedTables(p *policy.Policy) []string {
	var out []string
	for _, s := range p.Sources {
		if s.Table != "" && !slices.Contains(out, s.Table) {
			out = append(out, s.Table)
		}
	}
	sort.Strings(out)
	return out
}

// WatchedBuckets returns the policy's watched bucket names (of every
// region), sorted, once each.
func WatchedBuckets(p *policy.Policy) []string {
	var out []string
	for _, s := range p.Sources {
		for _, b := range s.BucketNames() {
			if !slices.Contains(out, b) {
				out = append(out, b)
			}
		}
	}
	sort.Strings(out)
	return out
}

// PolicyBucketRegion returns the region the policy names for bucket (a
// source's buckets: form); false for a single bucket: source's bucket.
func PolicyBucketRegion(p *policy.Policy, bucket string) (string, bool) {
	for i := range p.Sources {
		if r, ok := p.Sources[i].RegionOfBucket(bucket); ok {
			return r, true
		}
	}
	return "", false
}

// BucketRegions returns the region of each watched bucket: the policy's
// for the buckets: form, else configured's (CtxBuckets).
func BucketRegions(p *policy.Policy, configured map[string]string) map[string]string {
	out := map[string]string{}
	for _, b := range WatchedBuckets(p) {
		if r, ok := PolicyBucketRegion(p, b); ok {
			out[b] = r
		} else if r, ok := configured[b]; ok {
			out[b] = r
		}
	}
	return out
}

// checkStreams checks that every deployed region names a stream for every
// watched table, in that region, of that table, and nothing else.
func (cfg *Config) checkStreams() []error {
	var errs []error
	tables := WatchedTables(cfg.Policy)
	for _, r := range cfg.Regions {
		for _, t := range tables {
			if _, ok := cfg.Streams[r][t]; !ok {
				errs = append(errs, missingStreamError(r, t))
			}
		}
	}
	for _, r := range sortedKeys(cfg.Streams) {
		if !cfg.Policy.HasRegion(r) {
			errs = append(errs, fmt.Errorf("%s: region %q is not one of the regions of policy %s", CtxStreams, r, cfg.PolicyFile))
			continue
		}
		for _, t := range sortedKeys(cfg.Streams[r]) {
			arn := cfg.Streams[r][t]
			if !slices.Contains(tables, t) {
				errs = append(errs, fmt.Errorf("%s: %s: table %q is not a watched table of policy %s (%s)", CtxStreams, r, t, cfg.PolicyFile, strings.Join(tables, ", ")))
				continue
			}
			a, ok := ParseStreamARN(arn)
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("%s: %s: %s: %q is not a DynamoDB stream ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL)", CtxStreams, r, t, arn))
			case a.Region != r:
				// A stream of another region would give this stack a
				// permission outside its region: never.
				errs = append(errs, fmt.Errorf("%s: %s: %s: the stream ARN is in region %s, not %s", CtxStreams, r, t, a.Region, r))
			case a.Partition != partitionOf(r):
				errs = append(errs, fmt.Errorf("%s: %s: %s: the stream ARN is in partition %s, not %s", CtxStreams, r, t, a.Partition, partitionOf(r)))
			case a.Table != t:
				errs = append(errs, fmt.Errorf("%s: %s: %s: the stream ARN is of table %q", CtxStreams, r, t, a.Table))
			case cfg.Account != "" && a.Account != cfg.Account:
				errs = append(errs, fmt.Errorf("%s: %s: %s: the stream ARN is in account %s, not %s", CtxStreams, r, t, a.Account, cfg.Account))
			}
		}
	}
	return errs
}

func missingStreamError(region, table string) error {
	return fmt.Errorf("%s: no stream ARN for watched table %q in %s: add {%q: {%q: \"arn:%s:dynamodb:%s:ACCOUNT:table/%s/stream/LABEL\"}} "+
		"(aws dynamodb describe-table --region %s --table-name %s --query Table.LatestStreamArn; the stream must be enabled with NEW_IMAGE or NEW_AND_OLD_IMAGES)",
		CtxStreams, table, region, region, table, partitionOf(region), region, table, region, table)
}

// partitionOf is the AWS partition of a region of the policy (the policy
// checks its regions are known).
func partitionOf(region string) string {
	p, _ := jurisdiction.RegionPartition(region)
	return p
}

// checkBuckets checks that every watched bucket has a region of the policy
// (the policy's own for a source that names its bucket per region, which
// the context may repeat but not contradict), and that nothing else is
// listed. It then holds the region of every watched bucket.
func (cfg *Config) checkBuckets() []error {
	var errs []error
	buckets := WatchedBuckets(cfg.Policy)
	for _, b := range buckets {
		r, ok := cfg.BucketRegions[b]
		pr, perRegion := PolicyBucketRegion(cfg.Policy, b)
		switch {
		case perRegion && ok && r != pr:
			errs = append(errs, fmt.Errorf("%s: bucket %q: region %q, but policy %s names it the bucket of %s: remove it from %s (the policy's buckets: says where each bucket is)",
				CtxBuckets, b, r, cfg.PolicyFile, pr, CtxBuckets))
		case perRegion:
			cfg.BucketRegions[b] = pr
		case !ok:
			errs = append(errs, fmt.Errorf("%s: no region for watched bucket %q: add {%q: \"REGION\"}, or name the source's bucket per region in the policy (buckets: {REGION: NAME}) "+
				"(S3 bucket names are global; only the stack of the bucket's region is granted access to it)", CtxBuckets, b, b))
		case !cfg.Policy.HasRegion(r):
			errs = append(errs, fmt.Errorf("%s: bucket %q: region %q is not one of the regions of policy %s (%s)", CtxBuckets, b, r, cfg.PolicyFile, strings.Join(cfg.Policy.Regions, ", ")))
		}
	}
	for _, b := range sortedKeys(cfg.BucketRegions) {
		if !slices.Contains(buckets, b) {
			errs = append(errs, fmt.Errorf("%s: bucket %q is not a watched bucket of policy %s", CtxBuckets, b, cfg.PolicyFile))
		}
	}
	return errs
}

var rateRE = regexp.MustCompile(`^([1-9][0-9]*) (minute|minutes|hour|hours|day|days)$`)

// sweepSchedule turns "1 hour" into "rate(1 hour)"; full rate(...) and
// cron(...) expressions pass through.
func sweepSchedule(s string) (string, error) {
	s = strings.TrimSpace(s)
	if (strings.HasPrefix(s, "rate(") || strings.HasPrefix(s, "cron(")) && strings.HasSuffix(s, ")") {
		if strings.HasPrefix(s, "rate(") && !rateRE.MatchString(s[len("rate("):len(s)-1]) {
			return "", fmt.Errorf("%s: %q: a rate is a positive number and a unit, e.g. rate(1 hour)", CtxSweepRate, s)
		}
		return s, nil
	}
	m := rateRE.FindStringSubmatch(s)
	if m == nil {
		return "", fmt.Errorf("%s: %q: expected e.g. \"1 hour\", \"15 minutes\", \"rate(1 hour)\" or \"cron(...)\"", CtxSweepRate, s)
	}
	// Scheduler wants the singular for 1 and the plural otherwise.
	unit := strings.TrimSuffix(m[2], "s")
	if m[1] != "1" {
		unit += "s"
	}
	return "rate(" + m[1] + " " + unit + ")", nil
}

// EURegion reports whether an AWS region is in the EU/EEA: the GDPR's
// territory, where EU personal data may be stored without a transfer.
// (eu-west-2 London and eu-central-2 Zurich are not: the UK and Switzerland
// have adequacy decisions, but are third countries.)
func EURegion(region string) bool {
	cc, ok := jurisdiction.RegionCountry(region)
	return ok && jurisdiction.IsEEA(cc)
}

// Context decoding. Values from cdk.json arrive as JSON values; values from
// `cdk -c` arrive as strings, which may hold JSON.

func contextValue(get func(string) any, key string) any {
	v := get(key)
	if s, ok := v.(string); ok {
		t := strings.TrimSpace(s)
		if strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
			var j any
			if err := json.Unmarshal([]byte(t), &j); err == nil {
				return j
			}
		}
	}
	return v
}

func contextString(get func(string) any, key string) (string, error) {
	switch v := contextValue(get, key).(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(v), nil
	default:
		return "", fmt.Errorf("%s: expected a string, got %T", key, v)
	}
}

func contextInt(get func(string) any, key string) (int, error) {
	switch v := contextValue(get, key).(type) {
	case nil:
		return 0, nil
	case float64:
		if v != float64(int(v)) {
			return 0, fmt.Errorf("%s: %v is not a whole number", key, v)
		}
		return int(v), nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a whole number", key, v)
		}
		return n, nil
	default:
		return 0, fmt.Errorf("%s: expected a number, got %T", key, v)
	}
}

// contextStrings reads a list: a JSON array, or a comma-separated string.
func contextStrings(get func(string) any, key string) ([]string, error) {
	switch v := contextValue(get, key).(type) {
	case nil:
		return nil, nil
	case string:
		var out []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	case []any:
		out := make([]string, 0, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%s[%d]: expected a string, got %T", key, i, e)
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%s: expected a list of strings, got %T", key, v)
	}
}

func contextStringMap(get func(string) any, key string) (map[string]string, error) {
	v := contextValue(get, key)
	if v == nil {
		return map[string]string{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: expected an object, got %T", key, v)
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%s: %s: expected a string, got %T", key, k, e)
		}
		out[k] = s
	}
	return out, nil
}

func contextStreams(get func(string) any) (map[string]map[string]string, error) {
	v := contextValue(get, CtxStreams)
	out := map[string]map[string]string{}
	if v == nil {
		return out, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return out, fmt.Errorf("%s: expected an object {region: {table: stream ARN}}, got %T", CtxStreams, v)
	}
	for r, tv := range m {
		tm, ok := tv.(map[string]any)
		if !ok {
			return out, fmt.Errorf("%s: %s: expected an object {table: stream ARN}, got %T", CtxStreams, r, tv)
		}
		out[r] = map[string]string{}
		for t, av := range tm {
			a, ok := av.(string)
			if !ok {
				return out, fmt.Errorf("%s: %s: %s: expected a stream ARN string, got %T", CtxStreams, r, t, av)
			}
			out[r][t] = a
		}
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// StageAssets makes, under dir, one directory per function holding that
// function's bootstrap (from cfg.AssetDir/<function>/bootstrap) and the
// policy as residency.yaml, and returns them by function. The stack points
// each function's code at its directory; the policy is read at
// /var/task/residency.yaml.
func StageAssets(cfg *Config, dir string) (map[string]string, error) {
	out := map[string]string{}
	var missing []string
	for _, fn := range Functions {
		src := filepath.Join(cfg.AssetDir, fn, "bootstrap")
		st, err := os.Stat(src)
		if err != nil || !st.Mode().IsRegular() {
			missing = append(missing, src)
			continue
		}
		dst := filepath.Join(dir, fn)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return nil, fmt.Errorf("stage %s: %w", fn, err)
		}
		if err := copyFile(src, filepath.Join(dst, "bootstrap"), 0o755); err != nil {
			return nil, fmt.Errorf("stage %s: %w", fn, err)
		}
		if err := os.WriteFile(filepath.Join(dst, PolicyAssetName), cfg.PolicyYAML, 0o644); err != nil {
			return nil, fmt.Errorf("stage %s: %w", fn, err)
		}
		out[fn] = dst
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: missing Lambda bootstrap binaries: %s: run `make build` first (or point %s at a directory holding <function>/bootstrap)",
			CtxAssets, strings.Join(missing, ", "), CtxAssets)
	}
	return out, nil
}

// PolicyAssetName is the policy's file name beside each bootstrap; Lambda
// unpacks the code to /var/task.
const PolicyAssetName = "residency.yaml"

func copyFile(src, dst string, mode os.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, mode)
}
