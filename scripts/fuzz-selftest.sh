#!/usr/bin/env bash
# Checks how scripts/fuzz.sh judges a fuzz run, with a stand-in for `go` on
# PATH: a clean run passes; Go 1.26's bare "context deadline exceeded" at the
# end of -fuzztime (golang/go#75804) passes only when the corpus replays
# clean; a written reproducer fails.
set -euo pipefail
cd "$(dirname "$0")/.."
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
cat > "$fake/go" <<'FAKE'
#!/usr/bin/env bash
if [[ " $* " == *" -fuzz "* ]]; then
	case "$FAKE_MODE" in
	race | race-bad-replay) echo "--- FAIL: FuzzX (6.0s)"; echo "    context deadline exceeded"; exit 1 ;;
	finding) echo "    context deadline exceeded"; echo "    Failing input written to testdata/fuzz/FuzzX/abc"; exit 1 ;;
	clean) echo "fuzz: elapsed: 6s, execs: 600 (100/sec)"; exit 0 ;;
	esac
fi
[ "$FAKE_MODE" != race-bad-replay ] # the corpus replay
FAKE
chmod +x "$fake/go"
fail=0
for case in clean:0 race:0 race-bad-replay:1 finding:1; do
	mode=${case%:*} want=${case#*:}
	got=0
	FAKE_MODE=$mode PATH="$fake:$PATH" FUZZTIME=1s ./scripts/fuzz.sh > "$fake/log" 2>&1 || got=1
	if [ "$got" != "$want" ]; then
		echo "fuzz.sh on a '$mode' run: exit status $got, want $want"
		cat "$fake/log"
		fail=1
	fi
done
[ "$fail" = 0 ] && echo "fuzz.sh judges clean, race, race-bad-replay and finding runs as it should"
exit "$fail"
