#!/usr/bin/env bash
# Runs every test of the project: formatting, vet, and the whole suite under the
# race detector. This is `make test`, which CI runs on a clean clone.
#
# Later suites need servers (PostgreSQL, Redis, Chromium); this script is where
# they are installed and started on loopback, and stopped again on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test -race"
# Every package runs under -race; none is excluded.
go test -race -count=1 -timeout 15m ./...

echo "== fuzz (short runs; 'make fuzz' runs them longer)"
FUZZTIME=${FUZZTIME:-8s} ./scripts/fuzz.sh
