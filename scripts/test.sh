#!/usr/bin/env bash
# Runs every test of the project: formatting, vet, and the whole suite under the
# race detector. This is `make test`, which CI runs on a clean clone.
#
# The PostgreSQL and Redis suites need servers: this script installs them from
# Debian's packages when missing (as root), starts throwaway instances on
# loopback ports (scripts/services.sh), and stops them on exit. With
# GATEHOUSE_TEST_REQUIRE_SERVICES set, a test that cannot reach them fails.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== services"
svc=$(mktemp -d)
trap 'scripts/services.sh stop "$svc"' EXIT
eval "$(scripts/services.sh start "$svc")"

echo "== go test -race"
# The browser tests save a screenshot of each step here (CI keeps them).
export GATEHOUSE_TEST_ARTIFACTS=${GATEHOUSE_TEST_ARTIFACTS:-$PWD/testdata-artifacts}
mkdir -p "$GATEHOUSE_TEST_ARTIFACTS"
# Every package runs under -race; none is excluded.
go test -race -count=1 -timeout 15m ./...

echo "== allocation guard (scripts/benchguard.sh; never asserts on time)"
./scripts/benchguard.sh

echo "== fuzz (short runs; 'make fuzz' runs them longer)"
./scripts/fuzz-selftest.sh
# About a minute of fuzzing shared by all targets (plus a few seconds each to
# build and replay the corpus); FUZZTIME=8s gives each target 8s instead.
FUZZBUDGET=${FUZZBUDGET:-66s} ./scripts/fuzz.sh
