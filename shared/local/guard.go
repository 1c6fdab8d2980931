package local

import (
	"context"
	"fmt"
	"strings"

	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// regionGuard refuses writes to a region outside the deployment, as IAM would.
type regionGuard struct {
	*sqlitestore.Store
	p *policy.Policy
}

func (g regionGuard) PutItem(ctx context.Context, region, table string, key record.Key, item record.Item, ifAbsent bool) error {
	if err := g.check(region, table); err != nil {
		return err
	}
	return g.Store.PutItem(ctx, region, table, key, item, ifAbsent)
}

func (g regionGuard) PutItems(ctx context.Context, region, table string, puts []record.Put) ([]error, error) {
	if err := g.check(region, table); err != nil {
		return nil, err
	}
	return g.Store.PutItems(ctx, region, table, puts)
}

func (g regionGuard) check(region, table string) error {
	if !g.p.HasRegion(region) {
		return fmt.Errorf("put %s/%s: region %q is not a region of this deployment (%s)", region, table, region, strings.Join(g.p.Regions, ", "))
	}
	return nil
}
