package jurisdiction_test

import (
	"fmt"
	"time"

	"github.com/residency-dev/residency/shared/jurisdiction"
)

func Example() {
	now := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	for _, cc := range []string{"FR", "NO", "JP", "US", "IN"} {
		a, adequate := jurisdiction.AdequacyAt(jurisdiction.RegimeEU, cc, now)
		switch {
		case jurisdiction.RegimeEU.Covers(cc):
			fmt.Println(cc, "EEA: no restricted transfer")
		case adequate && a.Framework != "":
			fmt.Println(cc, "adequacy for importers certified under the", a.Framework+":", a.Decision)
		case adequate:
			fmt.Println(cc, "adequacy:", a.Decision)
		default:
			fmt.Println(cc, "needs SCCs, BCRs or a derogation")
		}
	}
	// Output:
	// FR EEA: no restricted transfer
	// NO EEA: no restricted transfer
	// JP adequacy: Commission Implementing Decision (EU) 2019/419 of 23 January 2019
	// US adequacy for importers certified under the EU-U.S. Data Privacy Framework: Commission Implementing Decision (EU) 2023/1795 of 10 July 2023
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
