package capacity

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Markdown is docs/capacity.md, computed by md.
func (md Model) Markdown() []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("%s", intro)

	p("## The quotas on the path\n\nPer account and region unless said otherwise; the value is the default.\n\n")
	p("| quota | eu-central-1 | eu-west-1 | us-east-1 | unit | source | note |\n|---|---|---|---|---|---|---|\n")
	for _, q := range Quotas {
		p("| %s | %s | %s | %s | %s | [%s](%s) | %s |\n", q.Name, num(q.In("eu-central-1")), num(q.In("eu-west-1")),
			num(q.In("us-east-1")), q.Unit, page(q.Source), q.Source, q.Note)
	}

	p("\n## Per-record costs: measured here, or assumed\n\n")
	p("Measured on the development machine (2 cores, AMD EPYC) with `go test -bench`; the CPU figure is scaled to a\n")
	p("256 MB function, which has %s of a vCPU. Assumed figures are round numbers to replace with a deployed stack's.\n\n",
		num(md.Deployment.MemoryMB["tagger"]/QuotaByID(QLambdaVCPU).Value))
	p("| figure | value | unit | from |\n|---|---|---|---|\n")
	for _, a := range md.Costs.Assumptions() {
		from := "assumed"
		if a.Measured != "" {
			from = "measured: " + a.Measured
		} else if a.Note != "" {
			from = a.Note
		}
		p("| %s | %s | %s | %s |\n", a.Name, num(a.Value), a.Unit, from)
	}
	d := md.Deployment
	p("\nDerived: a full stream batch of %s records takes the tagger %s ms (every record misplaced: %s ms; its events\n",
		num(d.StreamBatch), num(md.taggerBatch(steadyMix(BaseLoad.Misplaced))), num(md.taggerBatch(burstMix)))
	p("go 10 to a PutEvents call, %s calls at once); a router\n", num(d.PutEventsInFlight))
	p("batch of %s violations takes %s ms (one of them alone: %s ms; the puts and the verifying read cross the Atlantic,\n",
		num(d.ViolationBatch), num(md.routerBatch(d.ViolationBatch)), num(md.routerBatch(1)))
	p("%s in flight); a ledger batch of %s entries takes %s ms, so one\n",
		num(d.WritesInFlight), num(d.LedgerBatch), num(md.ledgerBatch()))
	p("chain takes %s entries/s.\n\n", num(md.ledgerChainCapacity()))

	p("## What each stage holds\n\n")
	p("Per second, at each load; a cell is the stage's capacity and, in brackets, the share of it the load uses.\n")
	p("The watched table is assumed to have the fewest partitions the on-demand table keeps for twice its peak\n")
	p("(%s, %s and %s stream shards at 1x, 10x and 100x): fewer shards is the tagger's worst case. All writes go to\n",
		num(md.shards(Loads[0])), num(md.shards(Loads[1])), num(md.shards(Loads[2])))
	p("one watched table; several tables each have their own per-table quota. The burst and exposure below assume\n")
	p("the same load in every region; with the example policy only us-east-1 can hold misplaced records.\n\n")
	for _, l := range Loads {
		p("### %s: %s writes/s, %s misplaced\n\n", l.Name, num(l.Writes), pct(l.Misplaced))
		p("| stage | unit | demand | eu-central-1 | eu-west-1 | us-east-1 |\n|---|---|---|---|---|---|\n")
		per := map[string][]Stage{}
		for _, r := range Regions {
			per[r] = md.Stages(r, l)
		}
		for i, s := range per[Regions[0]] {
			p("| %s | %s | %s |", s.Name, s.Unit, num(s.Demand))
			for _, r := range Regions {
				t := per[r][i]
				p(" %s (%s) |", num(t.Capacity), pct(t.Utilization()))
			}
			p("\n")
		}
		p("\n")
	}

	p("## The first bottleneck\n\nThe stage with the highest share used: above 100%% it falls behind and its backlog grows.\n\n")
	p("| load | region | first bottleneck | share used | ours | what removes it |\n|---|---|---|---|---|---|\n")
	for _, l := range Loads {
		for _, r := range Regions {
			s := md.Bottleneck(r, l)
			p("| %s | %s | %s | %s | %s | %s |\n", l.Name, r, s.Name, pct(s.Utilization()), yes(s.Ours), s.Fix)
		}
	}

	p("\n## A burst of %s misplaced records\n\n", num(BaseLoad.Burst))
	p("On top of each steady load. *Exposed* is how long a misplaced record stays in the wrong region (write to the\n")
	p("router's delete); the ledger's entries for the burst come after, and only evidence waits for them.\n\n")
	p("| load | region | exposed (steady) | burst drains at | limited by | burst gone after | ledger complete after | limited by |\n")
	p("|---|---|---|---|---|---|---|---|\n")
	for _, l := range Loads {
		for _, r := range Regions {
			e := md.Exposure(r, l)
			p("| %s | %s | %s | %s/s | %s | %s | %s | %s |\n", l.Name, r, dur(e.Steady), num(e.Rate), e.Limit, dur(e.Drain), dur(e.Ledger), e.LedgerLimit)
		}
	}

	p("\n## Cost per million records\n\n")
	p("What Residency adds to a million platform writes with %s misplaced (the platform's own writes are not counted;\n", pct(BaseLoad.Misplaced))
	p("Lambda's reads of the streams are free), at the functions' memory sizes (infra/functions.go) and arm64 prices.\n")
	p("Prices (first tiers) from the pages named; eu-west-1 is not priced here.\n\n")
	us, eu := md.CostPerMillion("us-east-1", BaseLoad.Misplaced), md.CostPerMillion("eu-central-1", BaseLoad.Misplaced)
	p("| item | quantity | unit | us-east-1 | eu-central-1 | price page |\n|---|---|---|---|---|---|\n")
	for i, c := range us {
		p("| %s | %s | %s | %s | %s | [%s](%s) |\n", c.Item, num(c.Quantity), c.Unit, usd(c.Cost()), usd(eu[i].Cost()), page(c.Page), c.Page)
	}
	p("| **total** | | | **%s** | **%s** | |\n\n", usd(Total(us)), usd(Total(eu)))
	p("Fixed, whatever the load: two KMS keys (HMAC and signing) and the hourly digest's Sign, %s a month per region.\n",
		usd(MonthlyFixed("us-east-1")))
	p("DynamoDB writes (the tag, the catalog entry and its two indexes) and the `Record Tagged` event of every write\n")
	p("are most of it; the %s misplaced (their relocation, router and ledger) add %s of the us-east-1 total.\n\n",
		pct(BaseLoad.Misplaced), usd(Total(us)-Total(md.CostPerMillion("us-east-1", 0))))

	p("%s", fixes)
	return b.Bytes()
}

// num formats a figure for a table: thousands separated, at most 3
// significant decimals below 10.
func num(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "never"
	case v != 0 && math.Abs(v) < 10:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func pct(v float64) string {
	if math.IsInf(v, 1) {
		return "never"
	}
	if v < 0.1 {
		return strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
	}
	return num(100*v) + "%"
}

func usd(v float64) string { return "$" + strconv.FormatFloat(v, 'f', 3, 64) }

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no (AWS quota)"
}

// dur formats seconds.
func dur(s float64) string {
	switch {
	case math.IsInf(s, 1):
		return "never (falls behind)"
	case s < 120:
		return strconv.FormatFloat(s, 'f', 1, 64) + " s"
	case s < 2*3600:
		return strconv.FormatFloat(s/60, 'f', 0, 64) + " min"
	default:
		return strconv.FormatFloat(s/3600, 'f', 1, 64) + " h"
	}
}

// page is a short name for a documentation URL: its last path element.
func page(url string) string {
	u := strings.TrimSuffix(url, "/")
	return u[strings.LastIndex(u, "/")+1:]
}
