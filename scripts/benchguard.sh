#!/usr/bin/env bash
# Allocation regression guard (issue 7): runs the hot-path benchmarks once,
# briefly and without the race detector, and compares their allocs/op with
# scripts/allocs-baseline.txt. It fails when a benchmark allocates more than
# max(2, 25%) above its baseline or no longer runs; it never looks at time,
# which varies from machine to machine where allocation counts do not.
#
#   scripts/benchguard.sh            check (make benchguard; CI via scripts/test.sh)
#   scripts/benchguard.sh --update   rewrite the baseline from this run
#
# The comparison lives in scripts/benchguard (a Go program with tests).
set -euo pipefail
cd "$(dirname "$0")/.."

baseline=scripts/allocs-baseline.txt
args=(-baseline "$baseline")
case "${1:-}" in
	"") ;;
	--update) args+=(-update) ;;
	*) echo "usage: $0 [--update]" >&2; exit 2 ;;
esac

# The guarded benchmarks: each allocates the same on every run. The loopback
# and parallel benchmarks (BenchmarkProxy{Bare,Gateway}, *Parallel, Redis)
# are left out: their counts depend on scheduling.
pkgs=(./internal/token ./internal/iam ./internal/gateway ./internal/ratelimit ./internal/analytics)
bench='^Benchmark(Sign|Verify|DigestLookupWarm|AuthenticateWarm|EffectiveOrgRole|RouteMatch|GatewayCall|GatewayRefused|ProxyBareCall|MemoryTake|Emit)$'

out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$SECONDS
if ! go test -run '^$' -bench "$bench" -benchtime=200x -benchmem -count=1 "${pkgs[@]}" >"$out" 2>&1; then
	cat "$out"
	echo "benchguard: the benchmarks did not run" >&2
	exit 1
fi
status=0
go run ./scripts/benchguard "${args[@]}" "$out" || status=$?
echo "benchguard: $((SECONDS - start)) s"
exit $status
