package capacity_test

import (
	"fmt"

	"github.com/residency-dev/residency/shared/capacity"
)

// The first stage to fall behind in us-east-1 at each load.
func ExampleModel_Bottleneck() {
	for _, l := range capacity.Loads {
		s := capacity.Default.Bottleneck("us-east-1", l)
		fmt.Printf("%s: %s (%.0f%% used)\n", l.Name, s.Name, 100*s.Utilization())
	}
	// Output:
	// 1x: stream shards -> tagger (34% used)
	// 10x: ledger chain append (192% used)
	// 100x: ledger chain append (1920% used)
}
