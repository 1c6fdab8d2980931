#!/usr/bin/env bash
# Renders the HTML compliance report and screenshots it in headless Chromium,
# to look at the charts. By default the report is the one `residency run`
# makes from events/samples; SYNTHETIC=N reports a synthetic year of N ledger
# entries instead (scripts/genledger). Output: .residency/report.html and
# .residency/report.png (OUT=FILE to change it).
#
#   scripts/screenshot-report.sh
#   SYNTHETIC=20000 OUT=.residency/report-year.png scripts/screenshot-report.sh
set -euo pipefail
cd "$(dirname "$0")/.."

NOW=${NOW:-2026-11-22T12:00:00Z}
OUT=${OUT:-.residency/report.png}
HTML=${OUT%.png}.html
DB=.residency/screenshot.db

chromium=$(command -v chromium || command -v chromium-headless-shell || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$chromium" ]; then
	# Not installed here: say what to run, install nothing.
	echo "screenshot-report: no Chromium on PATH (chromium, chromium-headless-shell, chromium-browser, google-chrome); install one with:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y chromium-headless-shell   # or: chromium" >&2
	exit 1
fi

mkdir -p .residency "$(dirname "$OUT")"
rm -f "$DB" "$DB-wal" "$DB-shm"
go build -o bin/residency ./cmd/residency
if [ -n "${SYNTHETIC:-}" ]; then
	go run ./scripts/genledger --db "$DB" --n "$SYNTHETIC" --from 2026-01-01 --days 365
	./bin/residency report --db "$DB" --now "$NOW" --format html --out "$HTML"
else
	./bin/residency run --db "$DB" --now "$NOW" --format html --out "$HTML" >/dev/null
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$profile" --hide-scrollbars --screenshot="$PWD/$OUT" --window-size=1280,2000 \
	"file://$PWD/$HTML" 2>/dev/null
echo "$HTML -> $OUT"
