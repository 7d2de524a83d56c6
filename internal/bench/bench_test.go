package bench_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"gatehouse/internal/bench"
	"gatehouse/internal/cli"
)

// The benchmark's child processes are this test binary run as gatehouse.
const childEnv = "GATEHOUSE_BENCH_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestBenchCommandTinyRun runs the whole command with tiny sizes and checks
// that the report is complete and sane. It asserts nothing about speed.
func TestBenchCommandTinyRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts eight server processes")
	}
	t.Setenv(childEnv, "1") // the children inherit it; this process has passed TestMain
	var stdout, stderr bytes.Buffer
	code := cli.Main([]string{"bench", "--json",
		"--duration", "200ms", "--warmup", "20ms", "--concurrency", "4",
		"--keys", "1000", "--apis", "2", "--apps", "3", "--me-tokens", "20",
		"--base-keys", "100", "--scale-keys", "2000", "--scale-apis", "150", "--scale-apps", "300",
		"--dir", t.TempDir(),
	}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("gatehouse bench: exit %d\nstderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{"seeding store \"main\"", "running token-ref", "running gateway-half-load", "gatehouse \"scale-keys\" ready", "gatehouse \"scale-apps\" ready"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("progress on stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	var rep bench.Report
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("stdout is not one JSON report: %v", err)
	}
	if dec.More() {
		t.Error("stdout holds more than one JSON document")
	}

	if rep.Machine.CPUs < 1 || rep.Machine.Note == "" || rep.Config.Keys != 1000 || rep.Config.SigningAlg != "EdDSA" {
		t.Errorf("machine or config not reported: %+v %+v", rep.Machine, rep.Config)
	}
	runs := map[string]bench.Result{}
	withCPU := 0
	for _, r := range rep.Runs {
		runs[r.Name] = r
		if r.CPUSeconds < 0 || r.CPUSeconds > r.Seconds*float64(rep.Machine.CPUs)+0.05 {
			t.Errorf("run %s: server CPU %.3fs in %.3fs on %d CPUs", r.Name, r.CPUSeconds, r.Seconds, rep.Machine.CPUs)
		}
		if r.CPUPerRequestUS > 0 {
			withCPU++
		}
		if r.RPS <= 0 || r.Requests <= 0 || r.Errors != 0 || r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 {
			t.Errorf("run %s is not sane: %+v", r.Name, r)
		}
	}
	for _, name := range []string{"token-ref", "token", "me-ref", "me", "gateway-ref", "gateway", "backend-half-load",
		"gateway-half-load", "token-100-keys", "gateway-1-api", "token-2k-keys", "gateway-150-apis-300-apps"} {
		if _, ok := runs[name]; !ok {
			t.Errorf("run %s missing", name)
		}
	}
	if withCPU == 0 {
		t.Error("no run has the server's CPU time per request")
	}
	if r := runs["gateway-half-load"]; r.TargetRate <= 0 || r.TargetRate > runs["gateway"].RPS {
		t.Errorf("half-load run at %.0f req/s, peak %.0f", r.TargetRate, runs["gateway"].RPS)
	}
	if r := runs["proxy-half-load"]; r.TargetRate != runs["gateway-half-load"].TargetRate {
		t.Errorf("bare proxy's half-load run at %.0f req/s, the gateway's at %.0f", r.TargetRate, runs["gateway-half-load"].TargetRate)
	}

	wantChecks := map[string]int{"token": 1, "me": 1, "gateway": 3, "scale": 5, "startup": 1}
	info := 0
	for _, c := range rep.Checks {
		wantChecks[c.Scenario]--
		if c.Info {
			info++
			storeInfo := c.Scenario == "scale" && strings.Contains(c.Name, "150 APIs and 300 apps")
			proxyInfo := c.Scenario == "gateway" && c.Run == "proxy-half-load" && c.Reference == "backend-half-load"
			if c.Pass || !storeInfo && !proxyInfo {
				t.Errorf("informational check %+v: want one of the gateway store's or the bare proxy's, not passed", c)
			}
		}
		if c.Target == "" || c.Unit == "" || c.Value <= 0 && c.Unit != "ms" {
			t.Errorf("check %q has no value or target: %+v", c.Name, c)
		}
		if c.Unit == "x" {
			run, ref := runs[c.Run], runs[c.Reference]
			if ref.RPS <= 0 || c.Value != run.RPS/ref.RPS {
				t.Errorf("check %q: ratio %v, want %v / %v", c.Name, c.Value, run.RPS, ref.RPS)
			}
		}
	}
	if info != 3 {
		t.Errorf("%d informational checks, want the gateway store's start-up and peak RSS and the bare proxy's added latency", info)
	}
	for s, n := range wantChecks {
		if n != 0 {
			t.Errorf("scenario %s: %d checks missing (negative: too many)", s, n)
		}
	}
	servers := map[string]bench.Server{}
	for _, s := range rep.Servers {
		servers[s.Name] = s
		if s.PeakRSSBytes <= 0 || s.RSSBytes <= 0 {
			t.Errorf("server %s: no memory figures: %+v", s.Name, s)
		}
	}
	for _, name := range []string{"gatehouse main", "gatehouse scale-base", "gatehouse scale-keys", "gatehouse scale-apps"} {
		if s, ok := servers[name]; !ok || s.StartupMS <= 0 || s.SeedSeconds <= 0 {
			t.Errorf("server %s: start-up or seeding time missing: %+v", name, s)
		}
	}
	for _, name := range []string{"reference token", "reference json", "reference proxy", "reference backend"} {
		if _, ok := servers[name]; !ok {
			t.Errorf("server %s missing", name)
		}
	}

	// The same report as tables.
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"on the same", "token exchange", "vs token-ref", "/v1/me", "added latency", "peak RSS",
		"start-up", "key cache warm", "gatehouse scale-keys", "reference backend", "info", "CPU/req"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
}

// TestBenchReusesSeededStore runs the start-up scenario twice on one
// directory: the second run with --reuse seeds nothing and still serves.
func TestBenchReusesSeededStore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	t.Setenv(childEnv, "1")
	dir := t.TempDir()
	args := []string{"bench", "--json", "--scenarios", "startup", "--scale-keys", "1500", "--dir", dir, "--reuse"}
	var logs [2]string
	for i := range logs {
		var stdout, stderr bytes.Buffer
		if code := cli.Main(args, &stdout, &stderr); code != 0 {
			t.Fatalf("run %d: exit %d\n%s", i, code, stderr.String())
		}
		var rep bench.Report
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || len(rep.Checks) != 1 || rep.Checks[0].Value <= 0 {
			t.Fatalf("run %d: report %+v (%v)", i, rep, err)
		}
		logs[i] = stderr.String()
	}
	if strings.Contains(logs[0], "reusing") || !strings.Contains(logs[0], "seeded 1500/1500 keys") {
		t.Errorf("first run did not seed:\n%s", logs[0])
	}
	if !strings.Contains(logs[1], "reusing the store") || strings.Contains(logs[1], "seeded 1500/1500 keys") {
		t.Errorf("second run seeded again:\n%s", logs[1])
	}
}

func TestBenchRefusesUnknownScenario(t *testing.T) {
	_, err := bench.Run(t.Context(), bench.Options{Scenarios: []string{"token", "warp"}})
	if err == nil || !strings.Contains(err.Error(), `"warp"`) {
		t.Fatalf("Run with an unknown scenario: %v", err)
	}
}
