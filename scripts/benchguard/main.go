// Command benchguard compares the allocations per operation of a `go test
// -bench -benchmem` run with a committed baseline and fails on a large
// regression. scripts/benchguard.sh runs the hot-path benchmarks and calls it.
//
// Only allocs/op is compared: it is the same from run to run on any machine,
// where ns/op is not, so the guard never asserts on time. A benchmark fails
// when its allocs/op exceeds the baseline by more than max(2, 25%), and when
// a baselined benchmark did not run at all.
//
//	benchguard [-baseline file] [-update] [go-test-output]
//
// With -update the baseline is rewritten from the run (after a deliberate
// change, or to record an improvement).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run is the command; it returns the exit status: 0 when every baselined
// benchmark is within its limit, 1 on a regression or a missing benchmark,
// 2 when the input or the baseline cannot be read.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchguard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	baseline := fs.String("baseline", "scripts/allocs-baseline.txt", "baseline file")
	update := fs.Bool("update", false, "rewrite the baseline from this run")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "benchguard:", err)
		return 2
	}
	in := stdin
	if fs.NArg() > 0 {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		in = f
	}
	cur, err := parseResults(in)
	if err != nil {
		return fail(err)
	}
	if len(cur) == 0 {
		return fail(fmt.Errorf("no benchmark results with allocs/op in the input (was -benchmem set?)"))
	}
	if *update {
		if err := os.WriteFile(*baseline, []byte(formatBaseline(cur)), 0o644); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "benchguard: wrote %d benchmarks to %s\n", len(cur), *baseline)
		return 0
	}
	data, err := os.ReadFile(*baseline)
	if err != nil {
		return fail(fmt.Errorf("%w (run scripts/benchguard.sh --update to create it)", err))
	}
	base, err := parseBaseline(string(data))
	if err != nil {
		return fail(fmt.Errorf("%s: %w", *baseline, err))
	}
	rows := compare(base, cur)
	fmt.Fprint(stdout, table(rows))
	if failed := failures(rows); failed > 0 {
		fmt.Fprintf(stdout, "benchguard: %d benchmark(s) regressed or missing; fix the allocations, or run scripts/benchguard.sh --update if the change is deliberate\n", failed)
		return 1
	}
	return 0
}

// parseResults reads `go test -bench -benchmem` output: the allocs/op of each
// benchmark, keyed "package BenchmarkName/sub" (the -GOMAXPROCS suffix
// dropped, so the key is the same on any machine). A benchmark seen twice
// (-count > 1) keeps its highest figure.
func parseResults(r io.Reader) (map[string]int64, error) {
	out := map[string]int64{}
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		allocs := int64(-1)
		for i := 1; i+1 < len(f); i++ {
			if f[i+1] == "allocs/op" {
				n, err := strconv.ParseInt(f[i], 10, 64)
				if err != nil {
					return nil, fmt.Errorf("bad allocs/op in %q", line)
				}
				allocs = n
			}
		}
		if allocs < 0 {
			continue // no -benchmem figures on this line
		}
		if pkg == "" {
			return nil, fmt.Errorf("benchmark %s before any pkg: line", f[0])
		}
		key := pkg + " " + trimProcs(f[0])
		if old, ok := out[key]; !ok || allocs > old {
			out[key] = allocs
		}
	}
	return out, sc.Err()
}

// trimProcs drops the "-N" that go test appends for GOMAXPROCS > 1.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}

// parseBaseline reads lines "package BenchmarkName allocs"; # starts a comment.
func parseBaseline(s string) (map[string]int64, error) {
	out := map[string]int64{}
	for i, line := range strings.Split(s, "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want \"package benchmark allocs\", got %q", i+1, line)
		}
		n, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("line %d: bad allocs %q", i+1, f[2])
		}
		out[f[0]+" "+f[1]] = n
	}
	return out, nil
}

func formatBaseline(cur map[string]int64) string {
	var b strings.Builder
	b.WriteString("# Allocations per operation of the hot-path benchmarks (scripts/benchguard.sh).\n")
	b.WriteString("# The guard fails when a benchmark allocates more than max(2, 25%) above its line,\n")
	b.WriteString("# or no longer runs. Regenerate with: scripts/benchguard.sh --update\n")
	b.WriteString("# package benchmark allocs/op\n")
	for _, k := range sortedKeys(cur) {
		pkg, name, _ := strings.Cut(k, " ")
		fmt.Fprintf(&b, "%s %s %d\n", pkg, name, cur[k])
	}
	return b.String()
}

// Status of one benchmark against the baseline.
const (
	statusOK        = "ok"
	statusImproved  = "improved" // below the baseline: worth an --update
	statusRegressed = "REGRESSED"
	statusMissing   = "MISSING"
	statusNew       = "new" // not baselined yet: reported, never failed
)

type row struct {
	name             string
	base, now, limit int64 // -1 when unknown
	status           string
}

// limitFor is the most allocs/op a benchmark with baseline base may have.
func limitFor(base int64) int64 {
	return base + max(2, int64(math.Floor(float64(base)*0.25)))
}

func compare(base, cur map[string]int64) []row {
	names := map[string]bool{}
	for k := range base {
		names[k] = true
	}
	for k := range cur {
		names[k] = true
	}
	var rows []row
	for _, k := range sortedKeys(names) {
		b, inBase := base[k]
		n, inCur := cur[k]
		r := row{name: k, base: -1, now: -1, limit: -1}
		switch {
		case !inCur:
			r.base, r.limit, r.status = b, limitFor(b), statusMissing
		case !inBase:
			r.now, r.status = n, statusNew
		default:
			r.base, r.now, r.limit = b, n, limitFor(b)
			switch {
			case n > r.limit:
				r.status = statusRegressed
			case n < b:
				r.status = statusImproved
			default:
				r.status = statusOK
			}
		}
		rows = append(rows, r)
	}
	return rows
}

func failures(rows []row) int {
	n := 0
	for _, r := range rows {
		if r.status == statusRegressed || r.status == statusMissing {
			n++
		}
	}
	return n
}

func table(rows []row) string {
	w := len("benchmark")
	for _, r := range rows {
		w = max(w, len(r.name))
	}
	num := func(n int64) string {
		if n < 0 {
			return "-"
		}
		return strconv.FormatInt(n, 10)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s %9s %9s %9s  %s\n", w, "benchmark", "baseline", "allocs", "limit", "status")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-*s %9s %9s %9s  %s\n", w, r.name, num(r.base), num(r.now), num(r.limit), r.status)
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
