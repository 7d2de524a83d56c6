package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A run of two packages as `go test -bench -benchmem` prints it, with a
// sub-benchmark, a line without -benchmem figures and a benchmark run twice.
const sampleRun = `goos: linux
goarch: amd64
pkg: gatehouse/internal/gateway
cpu: AMD EPYC
BenchmarkRouteMatch/apis=1-2         	     200	       478.6 ns/op	     160 B/op	       5 allocs/op
BenchmarkRouteMatch/apis=10000-2     	     200	      1049 ns/op	     169 B/op	       5 allocs/op
BenchmarkGatewayCall-2               	     200	     74248 ns/op	   37936 B/op	      73 allocs/op
BenchmarkGatewayCall-2               	     200	     74248 ns/op	   37936 B/op	      74 allocs/op
PASS
ok  	gatehouse/internal/gateway	0.282s
goos: linux
goarch: amd64
pkg: gatehouse/internal/ratelimit
cpu: AMD EPYC
BenchmarkMemoryTake     	     200	       365.2 ns/op	       1 B/op	       0 allocs/op
BenchmarkNoMem-2        	     200	       365.2 ns/op
PASS
ok  	gatehouse/internal/ratelimit	0.1s
`

func TestParseResults(t *testing.T) {
	got, err := parseResults(strings.NewReader(sampleRun))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		"gatehouse/internal/gateway BenchmarkRouteMatch/apis=1":     5,
		"gatehouse/internal/gateway BenchmarkRouteMatch/apis=10000": 5,
		"gatehouse/internal/gateway BenchmarkGatewayCall":           74, // the higher of two runs
		"gatehouse/internal/ratelimit BenchmarkMemoryTake":          0,  // GOMAXPROCS=1: no suffix
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseResults =\n%v\nwant\n%v", got, want)
	}
}

func TestLimitIsTwoOrAQuarter(t *testing.T) {
	for base, want := range map[int64]int64{0: 2, 1: 3, 7: 9, 8: 10, 12: 15, 100: 125, 221: 276} {
		if got := limitFor(base); got != want {
			t.Errorf("limitFor(%d) = %d, want %d", base, got, want)
		}
	}
}

func TestCompare(t *testing.T) {
	base := map[string]int64{"p A": 10, "p B": 100, "p C": 0, "p D": 5, "p E": 40}
	cur := map[string]int64{"p A": 13, "p B": 125, "p C": 2, "p E": 30, "p F": 9}
	want := map[string]string{
		"p A": statusRegressed, // 13 > 10 + 2
		"p B": statusOK,        // 125 = 100 + 25%
		"p C": statusOK,        // 2 = 0 + 2
		"p D": statusMissing,
		"p E": statusImproved,
		"p F": statusNew,
	}
	rows := compare(base, cur)
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		if r.status != want[r.name] {
			t.Errorf("%s: %s, want %s", r.name, r.status, want[r.name])
		}
	}
	if n := failures(rows); n != 2 {
		t.Errorf("failures = %d, want 2 (the regression and the missing one)", n)
	}
}

// The guard end to end on fabricated runs: it passes at the baseline, fails
// on a regression and on a missing benchmark, and --update records the run.
func TestGuardFailsOnRegression(t *testing.T) {
	dir := t.TempDir()
	baseline := filepath.Join(dir, "allocs.txt")
	runWith := func(input string, args ...string) (int, string) {
		t.Helper()
		in := filepath.Join(dir, "run.txt")
		if err := os.WriteFile(in, []byte(input), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		code := run(append(append([]string{"-baseline", baseline}, args...), in), nil, &out, &errOut)
		return code, out.String() + errOut.String()
	}

	if code, out := runWith(sampleRun); code != 2 || !strings.Contains(out, "--update") {
		t.Fatalf("no baseline yet: exit %d, output %q; want 2 and a hint", code, out)
	}
	if code, out := runWith(sampleRun, "-update"); code != 0 {
		t.Fatalf("-update: exit %d: %s", code, out)
	}
	if code, out := runWith(sampleRun); code != 0 {
		t.Fatalf("the run its baseline came from: exit %d:\n%s", code, out)
	}

	regressed := strings.Replace(sampleRun, "74 allocs/op", "93 allocs/op", 1) // limit 74+18 = 92
	code, out := runWith(regressed)
	if code != 1 {
		t.Fatalf("93 allocs against a baseline of 74: exit %d, want 1:\n%s", code, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "BenchmarkGatewayCall") && !strings.Contains(line, statusRegressed) {
			t.Errorf("regressed benchmark not flagged: %q", line)
		}
		if strings.Contains(line, "BenchmarkMemoryTake") && !strings.HasSuffix(line, statusOK) {
			t.Errorf("unchanged benchmark flagged: %q", line)
		}
	}
	if code, out := runWith(strings.Replace(sampleRun, "74 allocs/op", "92 allocs/op", 1)); code != 0 {
		t.Errorf("92 allocs is within the limit: exit %d:\n%s", code, out)
	}

	missing := strings.ReplaceAll(sampleRun, "BenchmarkRouteMatch/apis=10000-2", "BenchmarkOther-2")
	code, out = runWith(missing)
	if code != 1 || !strings.Contains(out, statusMissing) {
		t.Errorf("a baselined benchmark that did not run: exit %d, want 1 and MISSING:\n%s", code, out)
	}

	if code, _ := runWith("PASS\nok  \tgatehouse/x\t0.1s\n"); code != 2 {
		t.Errorf("an input without results: exit %d, want 2", code)
	}
}

func TestParseBaselineRefusesJunk(t *testing.T) {
	if _, err := parseBaseline("p BenchmarkA 3\np BenchmarkB\n"); err == nil {
		t.Error("a line with two fields was accepted")
	}
	if _, err := parseBaseline("p BenchmarkA -1\n"); err == nil {
		t.Error("a negative count was accepted")
	}
	got, err := parseBaseline("# comment\n\np BenchmarkA 3 # trailing\n")
	if err != nil || got["p BenchmarkA"] != 3 || len(got) != 1 {
		t.Errorf("parseBaseline = %v, %v", got, err)
	}
}
