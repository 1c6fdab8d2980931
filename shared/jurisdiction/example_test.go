package jurisdiction_test

import (
	"fmt"

	"github.com/residency-dev/residency/shared/jurisdiction"
)

func Example() {
	for _, cc := range []string{"FR", "NO", "JP", "US", "IN"} {
		a, adequate := jurisdiction.AdequacyFor(cc)
		switch {
		case jurisdiction.IsEEA(cc):
			fmt.Println(cc, "EEA: no restricted transfer")
		case adequate && a.DPFOnly:
			fmt.Println(cc, "adequacy for DPF-certified importers only:", a.Decision)
		case adequate:
			fmt.Println(cc, "adequacy:", a.Decision)
		default:
			fmt.Println(cc, "needs SCCs, BCRs or a derogation")
		}
	}
	// Output:
	// FR EEA: no restricted transfer
	// NO EEA: no restricted transfer
	// JP adequacy: Commission Implementing Decision (EU) 2019/419
	// US adequacy for DPF-certified importers only: Commission Implementing Decision (EU) 2023/1795
	// IN needs SCCs, BCRs or a derogation
}

func ExampleValidCountry() {
	for _, cc := range []string{"GB", "UK", "fr"} {
		fmt.Printf("%s %v %q\n", cc, jurisdiction.ValidCountry(cc), jurisdiction.CountryHint(cc))
	}
	// Output:
	// GB true ""
	// UK false "did you mean GB?"
	// fr false "use upper case FR"
}

func ExampleRegionCountry() {
	cc, _ := jurisdiction.RegionCountry("eu-central-1")
	fmt.Println(cc, jurisdiction.IsEU(cc))
	fmt.Println(jurisdiction.RegionHint("eu-centrl-1"))
	// Output:
	// DE true
	// did you mean eu-central-1?
}
