#!/usr/bin/env bash
# Measures reports over a large ledger: fills a store with N synthetic ledger
# entries once (scripts/genledger, cached at DB), then runs
# `residency report` in each format to /dev/null under /usr/bin/time and
# prints the wall-clock time and the peak memory (maximum resident set).
#
#   scripts/report-1m.sh                      # 1,000,000 entries; csv, json, html
#   N=100000 FORMATS=csv scripts/report-1m.sh
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000000}
DB=${DB:-${TMPDIR:-/tmp}/residency-ledger-$N.db}
FORMATS=${FORMATS:-csv json html}

go build -o bin/residency ./cmd/residency
if [ ! -s "$DB" ]; then
	echo "generating $N ledger entries into $DB (once)"
	go run ./scripts/genledger --db "$DB" --n "$N"
fi

timer=/usr/bin/time
if [ ! -x "$timer" ]; then
	echo "report-1m: $timer is missing (apt-get install -y time); timing without memory figures" >&2
	timer=""
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for f in $FORMATS; do
	if [ -n "$timer" ]; then
		"$timer" -v ./bin/residency report --db "$DB" --now 2027-01-01T00:00:00Z --format "$f" --out /dev/null 2>"$out" >/dev/null
		secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2, p, ":"); s=0; for (i=1; i<=n; i++) s=s*60+p[i]; print s}' "$out")
		kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out")
		cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$out")
		printf '%-5s %s entries: %6.2f s wall, %6.2f s CPU, peak %5.1f MB (max RSS)\n' "$f" "$N" "$secs" "$cpu" "$(awk -v kb="$kb" 'BEGIN {print kb / 1024}')"
	else
		TIMEFORMAT="$f $N entries: %R s wall"
		time ./bin/residency report --db "$DB" --now 2027-01-01T00:00:00Z --format "$f" --out /dev/null >/dev/null
	fi
done
