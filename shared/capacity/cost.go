package capacity

// The price pages.
const (
	PriceLambda      = "https://aws.amazon.com/lambda/pricing/"
	PriceDynamoDB    = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
	PriceEventBridge = "https://aws.amazon.com/eventbridge/pricing/"
	PriceSQS         = "https://aws.amazon.com/sqs/pricing/"
	PriceKMS         = "https://aws.amazon.com/kms/pricing/"
)

// Prices are a region's prices in USD.
type Prices struct {
	// LambdaGBSecond is arm64 compute; LambdaRequest per request.
	LambdaGBSecond, LambdaRequest float64
	// WRU and RRU are DynamoDB on-demand write and read request units.
	WRU, RRU float64
	// Event is an EventBridge custom event (64 KB chunk); FIFORequest an
	// SQS FIFO request.
	Event, FIFORequest float64
	// KMSRequest is a symmetric or HMAC request; KMSSign an ECC Sign; KMSKey
	// a key-month.
	KMSRequest, KMSSign, KMSKey float64
}

// RegionPrices are the on-demand prices the doc uses (first tiers). The
// us-east-1 DynamoDB figures are the ones after the November 2024
// on-demand price cut; eu-central-1's are the page's (22% above us-east-1).
var RegionPrices = map[string]Prices{
	"us-east-1": {LambdaGBSecond: 0.0000133334, LambdaRequest: 0.20 / 1e6, WRU: 0.625 / 1e6, RRU: 0.125 / 1e6,
		Event: 1.00 / 1e6, FIFORequest: 0.50 / 1e6, KMSRequest: 0.03 / 1e4, KMSSign: 0.15 / 1e4, KMSKey: 1},
	"eu-central-1": {LambdaGBSecond: 0.0000133334, LambdaRequest: 0.20 / 1e6, WRU: 0.7625 / 1e6, RRU: 0.1525 / 1e6,
		Event: 1.00 / 1e6, FIFORequest: 0.50 / 1e6, KMSRequest: 0.03 / 1e4, KMSSign: 0.15 / 1e4, KMSKey: 1},
}

// CostLine is one item of the cost of a million platform writes.
type CostLine struct {
	Item     string
	Quantity float64 // per million writes
	Unit     string
	Price    float64 // per unit, USD
	Page     string
}

// Cost is Quantity times Price.
func (c CostLine) Cost() float64 { return c.Quantity * c.Price }

// CostPerMillion is what Residency adds to a million platform writes with
// misplaced fraction m, at region's prices (the platform's own writes are
// not counted; Lambda's stream reads are free).
func (md Model) CostPerMillion(region string, m float64) []CostLine {
	p := RegionPrices[region]
	d, c := md.Deployment, md.Costs
	const million = 1e6
	gb := func(fn string) float64 { return d.MemoryMB[fn] / 1024 }
	stream := streamRecords(m)
	perEntryWRU := 2*QuotaByID(QTransactWCU).Value*c.ItemKB + // entry and id item
		QuotaByID(QTransactWCU).Value/d.LedgerBatch + // the head, once a transaction
		1 // the time index
	catalogWRU := 1 + c.CatalogIndexes
	// Tag write and catalog entry per write; per relocation: the delete,
	// the catalog entry's removal, the home copy and its catalog entry,
	// and two ledger entries.
	wru := 1 + catalogWRU + m*(1+catalogWRU+1+catalogWRU+2*perEntryWRU)
	// The erased-list look per stream record; per relocation two reads
	// and, per ledger entry, its id item and a share of the head.
	rru := stream + m*(2+2*(1+1/d.LedgerBatch))
	fifo := m * (1 + 0.1 + 2*2/d.LedgerBatch) // tagger's and router's sends (10 a call), receive and delete
	return []CostLine{
		{"tagger compute", million * stream * md.taggerBatch(steadyMix(m)) / d.StreamBatch / 1000 * gb("tagger"), "GB-s", p.LambdaGBSecond, PriceLambda},
		{"router compute", million * m * md.routerBatch(d.ViolationBatch) / d.ViolationBatch / 1000 * gb("router"), "GB-s", p.LambdaGBSecond, PriceLambda},
		{"ledger compute", million * 2 * m * md.ledgerBatch() / d.LedgerBatch / 1000 * gb("ledger"), "GB-s", p.LambdaGBSecond, PriceLambda},
		{"Lambda requests", million * (stream/d.StreamBatch + m/d.ViolationBatch + 2*m/d.LedgerBatch), "requests", p.LambdaRequest, PriceLambda},
		{"DynamoDB writes", million * wru, "WRU", p.WRU, PriceDynamoDB},
		{"DynamoDB reads", million * rru, "RRU", p.RRU, PriceDynamoDB},
		{"EventBridge events", million * (1 + 2*m), "events", p.Event, PriceEventBridge},
		{"SQS FIFO requests", million * fifo, "requests", p.FIFORequest, PriceSQS},
		{"KMS GenerateMac (once per cold start)", 0, "requests", p.KMSRequest, PriceKMS},
	}
}

// MonthlyFixed is what a region costs a month whatever the load: the HMAC
// and signing keys and the hourly digest's Sign.
func MonthlyFixed(region string) float64 {
	p := RegionPrices[region]
	return 2*p.KMSKey + 24*30*p.KMSSign
}

// Total sums the lines.
func Total(lines []CostLine) float64 {
	t := 0.0
	for _, l := range lines {
		t += l.Cost()
	}
	return t
}
