#!/usr/bin/env bash
# Installs the Amazon States Language interpreter the infra tests run the
# backfill state machine's page loops in (npm aws-local-stepfunctions, MIT,
# pinned) into DIR (default .residency/asl), once: the tests themselves
# reach no registry. `make test` runs it; without npm or the registry the
# test skips, saying so (under CI=true it fails).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=aws-local-stepfunctions@3.0.0
dir=${1:-.residency/asl}
if [ -f "$dir/node_modules/aws-local-stepfunctions/package.json" ] && grep -q '"version": "3.0.0"' "$dir/node_modules/aws-local-stepfunctions/package.json"; then
	exit 0
fi
mkdir -p "$(dirname "$dir")"
tmp=$(mktemp -d "$(dirname "$dir")/asl-install-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
npm install --silent --no-audit --no-fund --prefix "$tmp" "$VERSION" >/dev/null
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
