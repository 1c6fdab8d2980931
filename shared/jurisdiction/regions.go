package jurisdiction

import (
	"sort"
	"strings"

	"github.com/agnivade/levenshtein"
)

// AWS partitions Residency deploys to. A deployment spans one partition:
// credentials, ARNs and service endpoints do not cross partitions.
const (
	// PartitionAWS is the commercial partition.
	PartitionAWS = "aws"
	// PartitionEUSC is the AWS European Sovereign Cloud: separate
	// infrastructure operated in the EU, with its own accounts, ARNs
	// ("arn:aws-eusc:...") and endpoints (amazonaws.eu).
	PartitionEUSC = "aws-eusc"
)

// regionCountry maps every AWS Region of the commercial partition ("aws")
// and of the AWS European Sovereign Cloud ("aws-eusc") to the ISO 3166-1
// alpha-2 code of the country its data centres are in. The other partitions
// (aws-cn, aws-us-gov, aws-iso*) are absent.
//
// Source: AWS, "AWS Regions" and "AWS Region billing codes",
// https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html
// https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-region-billing-codes.html;
// AWS European Sovereign Cloud: region eusc-de-east-1 in Brandenburg, Germany,
// generally available since January 2026,
// https://docs.aws.amazon.com/europeansovereigncloud/latest/userguide/.
var regionCountry = map[string]string{
	"af-south-1":     "ZA", // Africa (Cape Town)
	"ap-east-1":      "HK", // Asia Pacific (Hong Kong)
	"ap-east-2":      "TW", // Asia Pacific (Taipei)
	"ap-northeast-1": "JP", // Asia Pacific (Tokyo)
	"ap-northeast-2": "KR", // Asia Pacific (Seoul)
	"ap-northeast-3": "JP", // Asia Pacific (Osaka)
	"ap-south-1":     "IN", // Asia Pacific (Mumbai)
	"ap-south-2":     "IN", // Asia Pacific (Hyderabad)
	"ap-southeast-1": "SG", // Asia Pacific (Singapore)
	"ap-southeast-2": "AU", // Asia Pacific (Sydney)
	"ap-southeast-3": "ID", // Asia Pacific (Jakarta)
	"ap-southeast-4": "AU", // Asia Pacific (Melbourne)
	"ap-southeast-5": "MY", // Asia Pacific (Malaysia)
	"ap-southeast-6": "NZ", // Asia Pacific (New Zealand)
	"ap-southeast-7": "TH", // Asia Pacific (Thailand)
	"ca-central-1":   "CA", // Canada (Central)
	"ca-west-1":      "CA", // Canada West (Calgary)
	"eu-central-1":   "DE", // Europe (Frankfurt)
	"eu-central-2":   "CH", // Europe (Zurich)
	"eu-north-1":     "SE", // Europe (Stockholm)
	"eu-south-1":     "IT", // Europe (Milan)
	"eu-south-2":     "ES", // Europe (Spain)
	"eu-west-1":      "IE", // Europe (Ireland)
	"eu-west-2":      "GB", // Europe (London)
	"eu-west-3":      "FR", // Europe (Paris)
	"eusc-de-east-1": "DE", // AWS European Sovereign Cloud (Brandenburg)
	"il-central-1":   "IL", // Israel (Tel Aviv)
	"me-central-1":   "AE", // Middle East (UAE)
	"me-south-1":     "BH", // Middle East (Bahrain)
	"mx-central-1":   "MX", // Mexico (Central)
	"sa-east-1":      "BR", // South America (São Paulo)
	"us-east-1":      "US", // US East (N. Virginia)
	"us-east-2":      "US", // US East (Ohio)
	"us-west-1":      "US", // US West (N. California)
	"us-west-2":      "US", // US West (Oregon)
}

var regionList = func() []string {
	l := make([]string, 0, len(regionCountry))
	for r := range regionCountry {
		l = append(l, r)
	}
	sort.Strings(l)
	return l
}()

// RegionCountry returns the country of a commercial AWS Region
// ("eu-central-1" -> "DE"). The boolean is false for unknown regions.
func RegionCountry(region string) (string, bool) {
	cc, ok := regionCountry[region]
	return cc, ok
}

// RegionPartition returns the partition of a known region: [PartitionEUSC]
// for the AWS European Sovereign Cloud, [PartitionAWS] for the others. The
// boolean is false for unknown regions.
func RegionPartition(region string) (string, bool) {
	if _, ok := regionCountry[region]; !ok {
		return "", false
	}
	if strings.HasPrefix(region, "eusc-") {
		return PartitionEUSC, true
	}
	return PartitionAWS, true
}

// Regions returns every known AWS Region code, sorted; a fresh copy each call.
func Regions() []string {
	return append([]string(nil), regionList...)
}

// RegionHint returns help for an unknown region code: the nearest known code
// for a likely typo ("eu-centrl-1" -> "did you mean eu-central-1?"), else the
// known regions of the same area ("eu-central-3" -> "known EU regions: ..."),
// else "". It returns "" for known regions.
func RegionHint(region string) string {
	if _, ok := regionCountry[region]; ok || region == "" {
		return ""
	}
	low := strings.ToLower(strings.TrimSpace(region))
	if _, ok := regionCountry[low]; ok {
		return "did you mean " + low + "?"
	}
	// A typo is a near miss in the name part; a near miss only in the
	// number ("eu-central-3") is a region that does not exist: list the area.
	best, bestD := "", 3 // at most two edits away
	for _, r := range regionList {
		if d := levenshtein.ComputeDistance(low, r); d < bestD && stem(r) != stem(low) {
			best, bestD = r, d
		}
	}
	if best != "" {
		return "did you mean " + best + "?"
	}
	area, _, ok := strings.Cut(low, "-")
	if !ok {
		return ""
	}
	var same []string
	for _, r := range regionList {
		if strings.HasPrefix(r, area+"-") {
			same = append(same, r)
		}
	}
	if len(same) == 0 {
		return ""
	}
	return "known " + strings.ToUpper(area) + " regions: " + strings.Join(same, ", ")
}

// stem returns a region code without its trailing number: "eu-central".
func stem(r string) string {
	return strings.TrimRight(strings.TrimRight(r, "0123456789"), "-")
}
