package sqlitestore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/record"
)

// TestAtomic: store calls made with Atomic's context are one transaction:
// its reads see its writes, a failed call inside it undoes only its own
// writes (a savepoint), and fn's error or the context's end undoes all.
func TestAtomic(t *testing.T) {
	ctx := context.Background()
	k := func(pk string) record.Key { return record.Key{"pk": pk} }
	cases := map[string]struct {
		fail    func(cancel context.CancelFunc) error
		wantErr bool
	}{
		"commits":           {fail: func(context.CancelFunc) error { return nil }},
		"fn fails":          {fail: func(context.CancelFunc) error { return errors.New("page failed") }, wantErr: true},
		"context cancelled": {fail: func(cancel context.CancelFunc) error { cancel(); return nil }, wantErr: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			if err := s.PutItem(ctx, "us-east-1", "users", k("before"), record.Item{"pk": "before"}, false); err != nil {
				t.Fatal(err)
			}
			actx, cancel := context.WithCancel(ctx)
			defer cancel()
			err := s.Atomic(actx, func(ctx context.Context) error {
				if err := s.PutItem(ctx, "us-east-1", "users", k("a"), record.Item{"pk": "a"}, true); err != nil {
					return err
				}
				// A failed call undoes its own writes only.
				if err := s.PutItem(ctx, "us-east-1", "users", k("a"), record.Item{"pk": "a", "v": 2}, true); !errors.Is(err, record.ErrConditionFailed) {
					t.Fatalf("expect ErrConditionFailed, got %v", err)
				}
				if _, err := s.GetItem(ctx, "us-east-1", "users", k("a")); err != nil {
					t.Fatalf("expect the transaction to read its own write, got %v", err)
				}
				if err := s.PutCoverage(ctx, catalog.Coverage{Region: "us-east-1", Source: "users", Mode: catalog.BackfillScan}); err != nil {
					return err
				}
				return c.fail(cancel)
			})
			if (err != nil) != c.wantErr {
				t.Fatalf("expect error %v, got %v", c.wantErr, err)
			}
			_, gerr := s.GetItem(ctx, "us-east-1", "users", k("a"))
			cov, _ := s.Coverage(ctx, "us-east-1")
			if c.wantErr && (!errors.Is(gerr, record.ErrNotFound) || len(cov) != 0) {
				t.Fatalf("expect nothing of the failed transaction kept, got item %v, coverage %v", gerr, cov)
			}
			if !c.wantErr && (gerr != nil || len(cov) != 1) {
				t.Fatalf("expect the transaction's writes kept, got item %v, coverage %v", gerr, cov)
			}
			if _, err := s.GetItem(ctx, "us-east-1", "users", k("before")); err != nil {
				t.Fatalf("expect what was written before kept, got %v", err)
			}
			recs, _ := s.PendingStream(ctx, 10)
			if want := map[bool]int{true: 1, false: 2}[c.wantErr]; len(recs) != want {
				t.Fatalf("expect %d stream records, got %d", want, len(recs))
			}
		})
	}
}
