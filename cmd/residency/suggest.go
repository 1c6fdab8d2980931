package main

import (
	"flag"
	"sort"
	"strings"

	"github.com/agnivade/levenshtein"
)

// nearest returns the candidate nearest to got when it is a likely typo
// (at most half the candidate's length away: reprot -> report), else "".
func nearest(got string, candidates []string) string {
	best, bestD := "", 1<<30
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted) // ties go the same way every time
	for _, c := range sorted {
		if d := levenshtein.ComputeDistance(strings.ToLower(got), c); d < bestD && d <= len(c)/2 {
			best, bestD = c, d
		}
	}
	return best
}

// didYouMean is " (did you mean X?)" for a likely typo of a candidate, else
// " (known: A, B, ...)".
func didYouMean(got string, candidates []string) string {
	if n := nearest(got, candidates); n != "" {
		return " (did you mean " + n + "?)"
	}
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	return " (known: " + strings.Join(sorted, ", ") + ")"
}

func commandNames() []string {
	names := make([]string, 0, len(commands)+1)
	for n := range commands {
		names = append(names, n)
	}
	return append(names, "help")
}

// subcommandHint suggests the nearest subcommand of cmd for a misspelled
// one (residency decide residnecy).
func subcommandHint(cmd string, args []string) string {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return ""
	}
	if n := nearest(args[0], subcommands[cmd]); n != "" {
		return "; did you mean " + cmd + " " + n + "?"
	}
	return ""
}

// flagHint suggests the nearest flag of fs for an undefined one.
func flagHint(fs *flag.FlagSet, err error) string {
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !ok {
		return ""
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if n := nearest(name, names); n != "" {
		return " (did you mean --" + n + "?)"
	}
	return ""
}

// examples are two command lines for each command, shown by its help; a
// test parses each with the command's flags.
var examples = map[string][]string{
	"run": {
		"residency run",
		"residency run --db demo.db --now 2026-11-22T12:00:00Z events/samples --format json",
	},
	"invoke": {
		"residency invoke router events/samples/eventbridge-transfer-requested-denied.json --region eu-central-1",
		"residency invoke tagger - --region eu-west-1 < events/samples/dynamodb-insert-compliant.json",
	},
	"decide": {
		"residency decide residency --subject FR --region us-east-1 --category profile",
		`residency decide transfer --from DE --to US --importer "Acme Inc" --category events`,
	},
	"decide residency": {
		"residency decide residency --subject FR --region us-east-1 --category profile",
		"residency decide residency --unknown-subject --region eu-west-1 --category events",
	},
	"decide transfer": {
		`residency decide transfer --from DE --to US --importer "Acme Inc" --category events`,
		`residency decide transfer --exporter "Acme Analytics Ltd" --from GB --to IN --importer "Bangalore Analytics Pvt Ltd" --category events --derogation explicit_consent`,
	},
	"report": {
		"residency report --from 2026-11-01 --to 2026-11-30 --kind transfer,denial --format csv --out nov.csv",
		"residency report --format html --out report.html",
	},
	"verify": {
		"residency verify",
		"residency verify --json --digest-every 1h",
	},
	"sweep": {
		"residency sweep",
		"residency sweep --region eu-west-1 --now 2027-01-01T00:00:00Z",
	},
	"prove": {
		"residency prove --region eu-central-1 --seq 3 --out proof.json",
		"residency prove --consistency --region eu-central-1 --from-size 7 --to-size 9",
	},
	"certificate": {
		"residency certificate --request dsr-2026-1142 --out cert.json",
		"residency certificate --request dsr-2026-1142 --db demo.db",
	},
	"check-proof": {
		"residency check-proof proof.json --public-key digest.pub",
		"residency check-proof cert.json --public-key digest.pub",
	},
	"digest-key": {
		"residency digest-key --public > digest.pub",
		"residency digest-key --public --db demo.db",
	},
	"backfill": {
		"residency backfill --source users --region us-east-1",
		"residency backfill --restart exports/",
	},
	"serve": {
		"residency serve",
		"residency serve --addr 127.0.0.1:9100 --sweep-every 10m --region eu-west-1",
	},
	"policy": {
		"residency policy validate residency.yaml",
		"residency policy validate shared/policy/example.yaml --now 2027-04-01T00:00:00Z",
	},
	"policy validate": {
		"residency policy validate residency.yaml",
		"residency policy validate shared/policy/example.yaml --now 2027-04-01T00:00:00Z",
	},
	"version": {
		"residency version",
		"residency --version --policy shared/policy/example.yaml",
	},
	"failures": {
		"residency failures",
		"residency failures --function tagger --region eu-west-1 --format json",
	},
	"completion": {
		"residency completion bash > /etc/bash_completion.d/residency",
		"residency completion fish --policy residency.yaml > ~/.config/fish/completions/residency.fish",
	},
	"failures retry": {
		"residency failures retry",
		"residency failures retry --function tagger --region eu-west-1",
	},
}

func examplesText(name string) string {
	ex := examples[name]
	if len(ex) == 0 {
		return ""
	}
	return "\nExamples:\n  " + strings.Join(ex, "\n  ") + "\n"
}
