package storetest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
)

// Store is everything the functions ask of a store adapter.
type Store interface {
	GetItem(ctx context.Context, region, table string, key record.Key) (record.Item, error)
	PutItem(ctx context.Context, region, table string, key record.Key, item record.Item, ifAbsent bool) error
	UpdateTag(ctx context.Context, region, table string, key record.Key, tag record.Tag) error
	UpdateTags(ctx context.Context, region, table string, writes []record.TagWrite) ([]error, error)
	DeleteItem(ctx context.Context, region, table string, key record.Key, retainUntil string) error
	DeleteItems(ctx context.Context, region, table string, dels []record.Delete) ([]error, error)
	GetItems(ctx context.Context, region, table string, keys []record.Key) ([]record.Item, error)
	PutItems(ctx context.Context, region, table string, puts []record.Put) ([]error, error)

	PutEntries(ctx context.Context, entries []catalog.Entry) error
	DeleteEntries(ctx context.Context, entries []catalog.Entry) error
	RemoveDeleted(ctx context.Context, entries []catalog.Entry, at time.Time) error
	DueEntries(ctx context.Context, region string, now time.Time, after catalog.Cursor, limit int) ([]catalog.Entry, catalog.Cursor, error)
	EntriesBySubject(ctx context.Context, region, subjectRef string) ([]catalog.Entry, error)
	EntriesByContract(ctx context.Context, region, contract string) ([]catalog.Entry, error)
	CountByCategory(ctx context.Context, region string) ([]catalog.Count, error)
	ScanItems(ctx context.Context, region, table string, segment, segments int, cursor string, limit int) ([]record.Item, string, error)
	MarkErased(ctx context.Context, region string, erased []catalog.Erased) error
	ErasedAmong(ctx context.Context, region string, subjectRefs []string) (map[string]catalog.Erased, error)
	Catalogued(ctx context.Context, region, source string, keys []record.Key) (map[string]bool, error)

	PutCheckpoint(ctx context.Context, cp catalog.Checkpoint) error
	Checkpoints(ctx context.Context, region, source string) ([]catalog.Checkpoint, error)
	DeleteCheckpoints(ctx context.Context, region, source string) error
	PutCoverage(ctx context.Context, c catalog.Coverage) error
	Coverage(ctx context.Context, region string) ([]catalog.Coverage, error)

	SetHold(ctx context.Context, h catalog.Hold) error
	ReleaseHold(ctx context.Context, id string) (bool, error)
	HoldsOn(ctx context.Context, entries []catalog.Entry) ([]string, error)

	EndContract(ctx context.Context, contract string, endedAt time.Time) error
	ContractEnd(ctx context.Context, contract string) (time.Time, error)

	Append(ctx context.Context, region string, drafts []ledger.Entry) ([]ledger.Entry, error)
	Chains(ctx context.Context) ([]string, error)
	ScanChain(ctx context.Context, region string, fn func(*ledger.Entry) error) error
	ScanChainAfter(ctx context.Context, region string, afterSeq int64, limit int, fn func(*ledger.Entry) error) error
	ListHolds(ctx context.Context) ([]catalog.Hold, error)
}

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// Run runs the contract suite; open returns a fresh, empty store.
func Run(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	k1 := record.Key{"pk": "USER#1", "sk": "PROFILE"}

	runItems(t, open)

	t.Run("catalog due index", func(t *testing.T) {
		s := open(t)
		var es []catalog.Entry
		for i := range 7 {
			es = append(es, catalog.Entry{Region: "eu-central-1", Source: "users", SourceKind: catalog.SourceTable,
				Key: record.Key{"pk": fmt.Sprintf("USER#%d", i)}, SubjectRef: fmt.Sprintf("sub_%d", i%2), Category: "events",
				Contract: "acct-1", Status: record.StatusCompliant, TaggedAt: t0, RetainUntil: t0.AddDate(0, 0, i)})
		}
		es = append(es, catalog.Entry{Region: "eu-central-1", Source: "users", SourceKind: catalog.SourceTable, Key: record.Key{"pk": "NO-RETENTION"}, SubjectRef: "sub_0", TaggedAt: t0})
		es = append(es, catalog.Entry{Region: "us-east-1", Source: "users", SourceKind: catalog.SourceTable, Key: record.Key{"pk": "US"}, RetainUntil: t0, TaggedAt: t0})
		if err := s.PutEntries(ctx, es); err != nil {
			t.Fatal(err)
		}
		now := t0.AddDate(0, 0, 4) // entries 0..4 are due
		var got []string
		var cur catalog.Cursor
		for range 10 {
			page, next, err := s.DueEntries(ctx, "eu-central-1", now, cur, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > 2 {
				t.Fatalf("expect at most 2 entries a page, got %d", len(page))
			}
			for _, e := range page {
				got = append(got, e.Key.String())
			}
			cur = next
			if len(page) == 0 {
				break
			}
		}
		// Each due entry exactly once; the order across pages is the store's.
		sort.Strings(got)
		want := []string{`{"pk":"USER#0"}`, `{"pk":"USER#1"}`, `{"pk":"USER#2"}`, `{"pk":"USER#3"}`, `{"pk":"USER#4"}`}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("due entries, paged by cursor (-want +got):\n%s", d)
		}
		bySub, err := s.EntriesBySubject(ctx, "eu-central-1", "sub_0")
		if err != nil || len(bySub) != 5 { // 0,2,4,6 and NO-RETENTION
			t.Fatalf("expect 5 entries of sub_0, got %d (%v)", len(bySub), err)
		}
		byContract, err := s.EntriesByContract(ctx, "eu-central-1", "acct-1")
		if err != nil || len(byContract) != 7 {
			t.Fatalf("expect 7 entries of acct-1, got %d (%v)", len(byContract), err)
		}
		if err := s.DeleteEntries(ctx, es[:2]); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteEntries(ctx, es[:1]); err != nil {
			t.Fatalf("expect deleting an absent entry to succeed, got %v", err)
		}
		page, _, err := s.DueEntries(ctx, "eu-central-1", now, catalog.Cursor{}, 100)
		if err != nil || len(page) != 3 {
			t.Fatalf("expect 3 due entries after deleting 2, got %d (%v)", len(page), err)
		}
		// Records deleted at now: the entries of those due by then stay,
		// for the sweep to remove with a receipt; the others go.
		if err := s.RemoveDeleted(ctx, []catalog.Entry{es[2], es[5], es[7]}, now); err != nil {
			t.Fatal(err)
		}
		left, err := s.EntriesBySubject(ctx, "eu-central-1", "sub_0")
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, e := range left {
			keys = append(keys, e.Key.String())
		}
		sort.Strings(keys)
		if d := cmp.Diff([]string{`{"pk":"USER#2"}`, `{"pk":"USER#4"}`, `{"pk":"USER#6"}`}, keys); d != "" {
			t.Fatalf("sub_0's entries after removing USER#2 (due), USER#5 (not due) and NO-RETENTION (-want +got):\n%s", d)
		}
		if linked, err := s.EntriesByContract(ctx, "eu-central-1", "acct-1"); err != nil || len(linked) != 4 { // 2, 3, 4, 6
			t.Fatalf("expect USER#5 removed, 4 entries of acct-1 left, got %d (%v)", len(linked), err)
		}
	})

	t.Run("catalog entries keep every field", func(t *testing.T) {
		s := open(t)
		want := catalog.Entry{Region: "eu-central-1", Source: "users", SourceKind: catalog.SourceTable, Key: k1, SubjectRef: "sub_1",
			Category: "profile", Contract: "acct-1", OriginRegion: "us-east-1", HomeRegion: "eu-central-1", Jurisdiction: "FR",
			Status: record.StatusRelocated, PolicyVersion: "v1", TaggedAt: t0, RetainUntil: t0, Erasure: "dsr-1", Reapplied: true}
		if err := s.PutEntries(ctx, []catalog.Entry{want}); err != nil {
			t.Fatal(err)
		}
		due, _, err := s.DueEntries(ctx, "eu-central-1", t0, catalog.Cursor{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		bySub, err := s.EntriesBySubject(ctx, "eu-central-1", "sub_1")
		if err != nil {
			t.Fatal(err)
		}
		byContract, err := s.EntriesByContract(ctx, "eu-central-1", "acct-1")
		if err != nil {
			t.Fatal(err)
		}
		for name, got := range map[string][]catalog.Entry{"due index": due, "subject index": bySub, "contract index": byContract} {
			if d := cmp.Diff([]catalog.Entry{want}, got); d != "" {
				t.Errorf("entry read by the %s (-want +got):\n%s", name, d)
			}
		}
		// Rewritten without the erasure mark, the entry loses it.
		want.Erasure, want.Reapplied = "", false
		if err := s.PutEntries(ctx, []catalog.Entry{want}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.EntriesBySubject(ctx, "eu-central-1", "sub_1"); err != nil || len(got) != 1 || got[0].Erasure != "" {
			t.Errorf("expect the rewritten entry without its erasure mark, got %+v (%v)", got, err)
		}
	})

	t.Run("parallel scan pages", func(t *testing.T) {
		s := open(t)
		const n = 57
		for i := range n {
			k := record.Key{"pk": fmt.Sprintf("SCAN#%03d", i), "sk": "PROFILE"}
			if err := s.PutItem(ctx, "eu-central-1", "users", k, record.Item{"pk": k["pk"], "sk": "PROFILE", "n": i}, false); err != nil {
				t.Fatal(err)
			}
		}
		for _, segments := range []int{1, 3} {
			seen := map[string]int{}
			for seg := range segments {
				cursor, pages := "", 0
				for {
					items, next, err := s.ScanItems(ctx, "eu-central-1", "users", seg, segments, cursor, 10)
					if err != nil {
						t.Fatal(err)
					}
					if len(items) > 10 {
						t.Fatalf("expect pages of at most 10, got %d", len(items))
					}
					for _, it := range items {
						if pk := it.String("pk"); strings.HasPrefix(pk, "SCAN#") { // the table may hold other subtests' items
							seen[pk]++
						}
					}
					if pages++; next == "" || pages > n {
						break
					}
					cursor = next
				}
			}
			if len(seen) != n {
				t.Fatalf("%d segments: expect every one of %d items, got %d", segments, n, len(seen))
			}
			for pk, c := range seen {
				if c != 1 {
					t.Fatalf("%d segments: expect %s once, got %d times", segments, pk, c)
				}
			}
		}
	})

	t.Run("catalogued keys", func(t *testing.T) {
		s := open(t)
		var es []catalog.Entry
		var asked []record.Key
		for i := range 130 { // more than one BatchGetItem's 100 keys
			k := record.Key{"pk": fmt.Sprintf("USER#%03d", i), "sk": "PROFILE"}
			asked = append(asked, k)
			if i%2 == 0 {
				es = append(es, catalog.Entry{Region: "eu-central-1", Source: "users", SourceKind: catalog.SourceTable, Key: k,
					SubjectRef: fmt.Sprintf("sub_%d", i), Category: "profile", TaggedAt: t0, RetainUntil: t0.AddDate(1, 0, 0)})
			}
		}
		if err := s.PutEntries(ctx, es); err != nil {
			t.Fatal(err)
		}
		asked = append(asked, asked[0]) // asked twice
		got, err := s.Catalogued(ctx, "eu-central-1", "users", asked)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 65 || !got[asked[0].String()] || got[asked[1].String()] || !got[asked[128].String()] {
			t.Fatalf("expect the 65 even keys catalogued, got %d: %v", len(got), got)
		}
		// Another source or region knows none of them.
		for _, c := range [][2]string{{"eu-central-1", "orders"}, {"us-east-1", "users"}} {
			if got, err := s.Catalogued(ctx, c[0], c[1], asked[:3]); err != nil || len(got) != 0 {
				t.Fatalf("expect nothing catalogued in %s/%s, got %v (%v)", c[0], c[1], got, err)
			}
		}
	})
	t.Run("erased list", func(t *testing.T) {
		s := open(t)
		if got, err := s.ErasedAmong(ctx, "eu-central-1", []string{"sub_1"}); err != nil || len(got) != 0 {
			t.Fatalf("expect nobody erased yet, got %v (%v)", got, err)
		}
		var many []catalog.Erased
		for i := range 130 { // more than one BatchGetItem's 100 keys
			many = append(many, catalog.Erased{SubjectRef: fmt.Sprintf("sub_%03d", i), RequestID: "dsr-1", ErasedAt: t0})
		}
		if err := s.MarkErased(ctx, "eu-central-1", many); err != nil {
			t.Fatal(err)
		}
		// A second request for one of them replaces its mark.
		if err := s.MarkErased(ctx, "eu-central-1", []catalog.Erased{{SubjectRef: "sub_007", RequestID: "dsr-2", ErasedAt: t0.Add(time.Hour)}}); err != nil {
			t.Fatal(err)
		}
		asked := []string{"sub_007", "sub_129", "sub_x", "sub_007"}
		for i := range 120 {
			asked = append(asked, fmt.Sprintf("sub_%03d", i))
		}
		got, err := s.ErasedAmong(ctx, "eu-central-1", asked)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 121 || got["sub_007"].RequestID != "dsr-2" || !got["sub_007"].ErasedAt.Equal(t0.Add(time.Hour)) ||
			got["sub_129"] != (catalog.Erased{SubjectRef: "sub_129", RequestID: "dsr-1", ErasedAt: t0}) {
			t.Fatalf("expect 121 erased subjects, sub_007 under dsr-2, got %d: %v %v", len(got), got["sub_007"], got["sub_129"])
		}
		// Each region keeps its own list.
		if got, err := s.ErasedAmong(ctx, "us-east-1", []string{"sub_007"}); err != nil || len(got) != 0 {
			t.Fatalf("expect nobody erased in us-east-1, got %v (%v)", got, err)
		}
	})

	t.Run("backfill checkpoints and coverage", func(t *testing.T) {
		s := open(t)
		if got, err := s.Checkpoints(ctx, "us-east-1", "users"); err != nil || len(got) != 0 {
			t.Fatalf("expect no checkpoint before a backfill, got %+v (%v)", got, err)
		}
		if got, err := s.Coverage(ctx, "us-east-1"); err != nil || len(got) != 0 {
			t.Fatalf("expect no coverage before a backfill, got %+v (%v)", got, err)
		}
		cp := func(segment int, cursor string, done bool, read int) catalog.Checkpoint {
			return catalog.Checkpoint{Region: "us-east-1", Source: "users", Segment: segment, Mode: catalog.BackfillExport,
				Export: "arn:aws:dynamodb:us-east-1:123456789012:table/users/export/01764000000000-5e7a1b2c", Cursor: cursor, Done: done, Pages: read / 2,
				Counts:    catalog.BackfillCounts{Read: read, Tagged: read - 2, Unchanged: 1, Violations: 3, Relocated: 2, Failed: 1},
				Failures:  []catalog.BackfillFailure{{Record: "rec_1", Reason: `cannot tag record: subject id attribute "user_id" missing or empty`}},
				StartedAt: t0, UpdatedAt: t0.Add(time.Duration(read) * time.Second)}
		}
		for _, c := range []catalog.Checkpoint{cp(1, "c1", false, 4), cp(0, "c0", false, 6), cp(1, "", true, 10)} {
			if err := s.PutCheckpoint(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		// Another source and region keep their own.
		other := cp(0, "x", false, 2)
		other.Region = "eu-central-1"
		other.Failures = nil
		if err := s.PutCheckpoint(ctx, other); err != nil {
			t.Fatal(err)
		}
		got, err := s.Checkpoints(ctx, "us-east-1", "users")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]catalog.Checkpoint{cp(0, "c0", false, 6), cp(1, "", true, 10)}, got); d != "" {
			t.Fatalf("checkpoints by segment, the last write of each (-want +got):\n%s", d)
		}
		if got, _ := s.Checkpoints(ctx, "eu-central-1", "users"); len(got) != 1 || got[0].Cursor != "x" || len(got[0].Failures) != 0 {
			t.Fatalf("expect eu-central-1's own checkpoint, without failures, got %+v", got)
		}
		if err := s.DeleteCheckpoints(ctx, "us-east-1", "users"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Checkpoints(ctx, "us-east-1", "users"); err != nil || len(got) != 0 {
			t.Fatalf("expect the checkpoints deleted, got %+v (%v)", got, err)
		}
		if got, _ := s.Checkpoints(ctx, "eu-central-1", "users"); len(got) != 1 {
			t.Fatalf("expect eu-central-1's checkpoint kept, got %+v", got)
		}

		for _, c := range []catalog.Coverage{
			{Region: "us-east-1", Source: "users", Mode: catalog.BackfillScan, CompletedAt: t0},
			{Region: "us-east-1", Source: "orders", Mode: catalog.BackfillScan, CompletedAt: t0},
			{Region: "us-east-1", Source: "users", Mode: catalog.BackfillExport, CompletedAt: t0.Add(time.Hour)}, // a later one replaces it
			{Region: "eu-central-1", Source: "users", Mode: catalog.BackfillScan, CompletedAt: t0},
		} {
			if err := s.PutCoverage(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		cov, err := s.Coverage(ctx, "us-east-1")
		if err != nil {
			t.Fatal(err)
		}
		want := []catalog.Coverage{
			{Region: "us-east-1", Source: "orders", Mode: catalog.BackfillScan, CompletedAt: t0},
			{Region: "us-east-1", Source: "users", Mode: catalog.BackfillExport, CompletedAt: t0.Add(time.Hour)},
		}
		if d := cmp.Diff(want, cov); d != "" {
			t.Fatalf("coverage of us-east-1 by source (-want +got):\n%s", d)
		}
		// Coverage and checkpoints are not catalog entries.
		if counts, err := s.CountByCategory(ctx, "us-east-1"); err != nil || len(counts) != 0 {
			t.Fatalf("expect no catalog counts, got %+v (%v)", counts, err)
		}
	})

	t.Run("catalog counts by category", func(t *testing.T) {
		s := open(t)
		if got, err := s.CountByCategory(ctx, "us-east-1"); err != nil || len(got) != 0 {
			t.Fatalf("expect no counts in an empty catalog, got %+v (%v)", got, err)
		}
		var entries []catalog.Entry
		for i, c := range []struct {
			region, category string
			at               time.Duration
		}{
			{"us-east-1", "profile", 3 * time.Hour}, {"us-east-1", "events", time.Hour}, {"us-east-1", "profile", time.Hour},
			{"us-east-1", "profile", 2 * time.Hour}, {"eu-central-1", "profile", 0},
		} {
			entries = append(entries, catalog.Entry{Region: c.region, Source: "users", SourceKind: catalog.SourceTable,
				Key: record.Key{"pk": fmt.Sprintf("USER#%d", i)}, SubjectRef: fmt.Sprintf("sub_%d", i), Category: c.category,
				Status: record.StatusCompliant, PolicyVersion: "v1", TaggedAt: t0.Add(c.at), RetainUntil: t0.Add(24 * time.Hour)})
		}
		if err := s.PutEntries(ctx, entries); err != nil {
			t.Fatal(err)
		}
		// A hold lives beside the entries in some stores: it is no record.
		if err := s.SetHold(ctx, catalog.Hold{ID: "h-1", SubjectRef: "sub_0", Reason: "case", SetAt: t0}); err != nil {
			t.Fatal(err)
		}
		got, err := s.CountByCategory(ctx, "us-east-1")
		if err != nil {
			t.Fatal(err)
		}
		want := []catalog.Count{
			{Region: "us-east-1", Category: "events", Records: 1, FirstTagged: t0.Add(time.Hour), LastTagged: t0.Add(time.Hour)},
			{Region: "us-east-1", Category: "profile", Records: 3, FirstTagged: t0.Add(time.Hour), LastTagged: t0.Add(3 * time.Hour)},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("counts (-want +got):\n%s", d)
		}
		// Deleted records are no longer held.
		if err := s.DeleteEntries(ctx, entries[:1]); err != nil {
			t.Fatal(err)
		}
		got, err = s.CountByCategory(ctx, "us-east-1")
		if err != nil || len(got) != 2 || got[1].Records != 2 || !got[1].LastTagged.Equal(t0.Add(2*time.Hour)) {
			t.Errorf("expect 2 profile records after a deletion, last tagged at +2h, got %+v (%v)", got, err)
		}
	})

	t.Run("holds and contracts", func(t *testing.T) {
		s := open(t)
		key := record.Key{"pk": "A"}
		holdOn := func(subjectRef, source string, key record.Key) (string, error) {
			ids, err := s.HoldsOn(ctx, []catalog.Entry{{Region: "eu-central-1", Source: source, Key: key, SubjectRef: subjectRef}})
			if err != nil {
				return "", err
			}
			return ids[0], nil
		}
		if id, err := holdOn("sub_x", "users", key); err != nil || id != "" {
			t.Fatalf("expect no hold, got %q (%v)", id, err)
		}
		s.SetHold(ctx, catalog.Hold{ID: "h1", SubjectRef: "sub_x", Reason: "litigation", SetAt: t0})
		s.SetHold(ctx, catalog.Hold{ID: "h2", Source: "users", Key: record.Key{"pk": "B"}, Reason: "audit", SetAt: t0})
		if id, _ := holdOn("sub_x", "users", key); id != "h1" {
			t.Fatalf("expect subject hold h1, got %q", id)
		}
		if id, _ := holdOn("sub_y", "users", record.Key{"pk": "B"}); id != "h2" {
			t.Fatalf("expect record hold h2, got %q", id)
		}
		batch := []catalog.Entry{
			{Source: "users", Key: key, SubjectRef: "sub_x"}, {Source: "users", Key: record.Key{"pk": "B"}, SubjectRef: "sub_y"},
			{Source: "users", Key: record.Key{"pk": "C"}, SubjectRef: "sub_y"}, {Source: "users", Key: record.Key{"pk": "D"}, SubjectRef: "sub_x"},
		}
		if ids, err := s.HoldsOn(ctx, batch); err != nil || cmp.Diff([]string{"h1", "h2", "", "h1"}, ids) != "" {
			t.Fatalf("expect holds h1, h2, none, h1 for the batch, got %q (%v)", ids, err)
		}
		if hs, err := s.ListHolds(ctx); err != nil || len(hs) != 2 || hs[0].ID != "h1" || hs[1].Key.String() != `{"pk":"B"}` {
			t.Fatalf("expect holds h1 and h2 listed, got %+v (%v)", hs, err)
		}
		if id, _ := holdOn("", "users", key); id != "" {
			t.Fatalf("expect no hold for an empty subject ref, got %q", id)
		}
		if ok, err := s.ReleaseHold(ctx, "h1"); !ok || err != nil {
			t.Fatalf("expect h1 released, got %v %v", ok, err)
		}
		if ok, _ := s.ReleaseHold(ctx, "h1"); ok {
			t.Fatal("expect a second release to report no hold")
		}
		if id, _ := holdOn("sub_x", "users", key); id != "" {
			t.Fatalf("expect no hold after release, got %q", id)
		}
		if at, err := s.ContractEnd(ctx, "acct-1"); err != nil || !at.IsZero() {
			t.Fatalf("expect no end, got %v (%v)", at, err)
		}
		s.EndContract(ctx, "acct-1", t0)
		if at, _ := s.ContractEnd(ctx, "acct-1"); !at.Equal(t0) {
			t.Fatalf("expect end %v, got %v", t0, at)
		}
	})

	t.Run("ledger keeps exposed_ms, and its absence, through every read", func(t *testing.T) {
		s := open(t)
		ms := int64(1234)
		zero := int64(0)
		drafts := []ledger.Entry{
			{ID: "rel-measured", Time: t0, Kind: ledger.KindRelocation, Region: "eu-central-1", Actor: "test", ExposedMS: &ms},
			{ID: "rel-backfilled", Time: t0, Kind: ledger.KindRelocation, Region: "eu-central-1", Actor: "test"},
			{ID: "rel-zero", Time: t0, Kind: ledger.KindRelocation, Region: "eu-central-1", Actor: "test", ExposedMS: &zero},
		}
		if _, err := s.Append(ctx, "eu-central-1", drafts); err != nil {
			t.Fatal(err)
		}
		exposures := func(e *ledger.Entry) string {
			if e.ExposedMS == nil {
				return e.ID + "=absent"
			}
			return fmt.Sprintf("%s=%d", e.ID, *e.ExposedMS)
		}
		want := []string{"rel-measured=1234", "rel-backfilled=absent", "rel-zero=0"}
		var chain, after, report []string
		v := ledger.NewVerifier("eu-central-1")
		if err := s.ScanChain(ctx, "eu-central-1", func(e *ledger.Entry) error { chain = append(chain, exposures(e)); return v.Add(e) }); err != nil {
			t.Fatalf("expect the chain to verify, got %v", err)
		}
		s.ScanChainAfter(ctx, "eu-central-1", 0, 0, func(e *ledger.Entry) error { after = append(after, exposures(e)); return nil })
		reads := map[string][]string{"ScanChain": chain, "ScanChainAfter": after}
		// The report's read, where the store has it.
		if r, ok := s.(interface {
			ScanLedger(context.Context, ledger.Query, func(*ledger.Entry) error) error
		}); ok {
			r.ScanLedger(ctx, ledger.Query{}, func(e *ledger.Entry) error { report = append(report, exposures(e)); return nil })
			reads["ScanLedger"] = report
		}
		for name, got := range reads {
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("%s (-want +got):\n%s", name, d)
			}
		}
	})

	t.Run("ledger append is idempotent and gapless under concurrency", func(t *testing.T) {
		s := open(t)
		const workers, per = 8, 10
		concurrently(t, workers, func(w int) error {
			for i := range per {
				// Every draft is sent twice, as a retried delivery would.
				d := ledger.Entry{ID: fmt.Sprintf("e-%d-%d", w, i), Time: t0, Kind: ledger.KindTransfer, Region: "eu-central-1", Actor: "test"}
				for range 2 {
					if _, err := s.Append(ctx, "eu-central-1", []ledger.Entry{d}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		v := ledger.NewVerifier("eu-central-1")
		n := 0
		if err := s.ScanChain(ctx, "eu-central-1", func(e *ledger.Entry) error { n++; return v.Add(e) }); err != nil {
			t.Fatalf("expect one intact chain, got %v", err)
		}
		if n != workers*per {
			t.Fatalf("expect %d entries (no duplicates), got %d", workers*per, n)
		}
		again, err := s.Append(ctx, "eu-central-1", []ledger.Entry{{ID: "e-0-0", Time: t0, Kind: ledger.KindTransfer, Region: "eu-central-1", Actor: "test"}})
		if err != nil || again[0].Seq == 0 || again[0].Hash == "" {
			t.Fatalf("expect the stored entry back for a known id, got %+v (%v)", again, err)
		}
		// A redelivered batch mixing known and new drafts: the known ones
		// come back as stored, the new ones extend the chain without a gap.
		draft := func(id string) ledger.Entry {
			return ledger.Entry{ID: id, Time: t0, Kind: ledger.KindTransfer, Region: "eu-central-1", Actor: "test"}
		}
		mixed, err := s.Append(ctx, "eu-central-1", []ledger.Entry{draft("e-0-1"), draft("new-1"), draft("e-0-1"), draft("new-2")})
		if err != nil {
			t.Fatal(err)
		}
		head := int64(workers * per)
		if mixed[0].Seq > head || mixed[2] != mixed[0] || mixed[1].Seq != head+1 || mixed[3].Seq != head+2 || mixed[3].PrevHash != mixed[1].Hash {
			t.Fatalf("expect e-0-1 as stored and new-1, new-2 at seq %d, %d, got %+v", head+1, head+2, mixed)
		}
		v = ledger.NewVerifier("eu-central-1")
		if err := s.ScanChain(ctx, "eu-central-1", func(e *ledger.Entry) error { return v.Add(e) }); err != nil {
			t.Fatalf("expect the chain intact after a mixed redelivery, got %v", err)
		}
		if _, err := s.Append(ctx, "eu-central-1", []ledger.Entry{{ID: "x", Time: t0, Kind: ledger.KindTransfer, Region: "us-east-1", Actor: "test"}}); err == nil {
			t.Fatal("expect an error appending another region's entry")
		}
		var page []int64
		if err := s.ScanChainAfter(ctx, "eu-central-1", 5, 3, func(e *ledger.Entry) error { page = append(page, e.Seq); return nil }); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]int64{6, 7, 8}, page); d != "" {
			t.Fatalf("a page of the chain after seq 5 (-want +got):\n%s", d)
		}
		chains, _ := s.Chains(ctx)
		if d := cmp.Diff([]string{"eu-central-1"}, chains); d != "" {
			t.Fatalf("chains (-want +got):\n%s", d)
		}
	})
}
