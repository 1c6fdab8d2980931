#!/usr/bin/env bash
# Replays generated loads through `residency run` on a fresh embedded store
# and prints records/s end to end (tagging, the relocations through the
# violation queue and router, the ledger, the digest and the report), for
# each share of misplaced records. The loads come from scripts/genload
# (package shared/local/loadgen, as BenchmarkRun's): N profile INSERTs in
# us-east-1 in stream batches of BATCH, MISPLACED percent of them EU
# subjects'.
#
#   scripts/bench-run.sh                       # 20,000 records; 0%, 10%, 100% misplaced
#   N=5000 MISPLACED="10" scripts/bench-run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-20000}
BATCH=${BATCH:-1000}
MISPLACED=${MISPLACED:-0 10 100}

go build -o bin/residency ./cmd/residency
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for pct in $MISPLACED; do
	load="$work/load-$pct"
	go run ./scripts/genload --out "$load" --n "$N" --batch "$BATCH" --misplaced "$pct"
	start=$(date +%s.%N)
	./bin/residency run --db "$work/run-$pct.db" --no-progress --format json --out /dev/null "$load" >/dev/null 2>"$work/err"
	end=$(date +%s.%N)
	awk -v n="$N" -v p="$pct" -v s="$start" -v e="$end" 'BEGIN {printf "%3d%% misplaced: %d records in %.2f s, %.0f records/s\n", p, n, e - s, n / (e - s)}'
done
