package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Scenario names (--scenarios).
const (
	ScenarioToken   = "token"
	ScenarioMe      = "me"
	ScenarioGateway = "gateway"
	ScenarioScale   = "scale"
	ScenarioStartup = "startup"
)

// AllScenarios is the default selection, in the order they run.
var AllScenarios = []string{ScenarioToken, ScenarioMe, ScenarioGateway, ScenarioScale, ScenarioStartup}

// Options configure a benchmark run. Zero values take the defaults of
// `gatehouse bench`.
type Options struct {
	Exe         string        // the gatehouse binary the servers run as; default os.Executable
	Env         []string      // extra environment of every child process
	Duration    time.Duration // measured time of each run; default 5 s
	Warmup      time.Duration // unmeasured time before each run; default Duration/5, at most 1 s
	Concurrency int           // load-generator workers; default 32
	Keys        int           // keys of the main store (token, me); default 100,000
	APIs        int           // APIs of the main store (gateway); default 1
	Apps        int           // apps of the main store; default 1
	BaseKeys    int           // keys of the scale baseline store; default 1,000
	ScaleKeys   int           // keys of the scale key store (with APIs and Apps); default 1,000,000
	ScaleAPIs   int           // APIs of the scale gateway store (with BaseKeys); default 10,000
	ScaleApps   int           // apps of the scale gateway store; default 100,000
	MeTokens    int           // distinct bearer tokens of the /v1/me run; default 1,000
	Scenarios   []string      // default AllScenarios
	SigningAlg  string        // of Gatehouse and the token reference alike; default EdDSA
	Seed        uint64        // of the key values; default 1
	Dir         string        // where the data directories go; default a temporary directory, removed after
	Reuse       bool          // with Dir: use a data directory seeded by an earlier run with the same content again
	ProfileDir  string        // when set, a CPU profile and an execution trace of Gatehouse are written there for every run
	Progress    io.Writer     // progress lines; default io.Discard
}

func (o *Options) defaults() error {
	if o.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		o.Exe = exe
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.Duration <= 0 {
		o.Duration = 5 * time.Second
	}
	if o.Warmup <= 0 {
		o.Warmup = min(time.Second, o.Duration/5)
	}
	def(&o.Concurrency, 32)
	def(&o.Keys, 100_000)
	def(&o.APIs, 1)
	def(&o.Apps, 1)
	def(&o.BaseKeys, 1000)
	def(&o.ScaleKeys, 1_000_000)
	def(&o.ScaleAPIs, 10_000)
	def(&o.ScaleApps, 100_000)
	def(&o.MeTokens, 1000)
	if len(o.Scenarios) == 0 {
		o.Scenarios = AllScenarios
	}
	for _, s := range o.Scenarios {
		if !slices.Contains(AllScenarios, s) {
			return fmt.Errorf("unknown scenario %q (want %s)", s, strings.Join(AllScenarios, ", "))
		}
	}
	if o.SigningAlg == "" {
		o.SigningAlg = "EdDSA"
	}
	if o.SigningAlg != "EdDSA" && o.SigningAlg != "ES256" {
		return fmt.Errorf("signing algorithm %q: the token reference signs with EdDSA or ES256", o.SigningAlg)
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return nil
}

func (o *Options) has(s string) bool { return slices.Contains(o.Scenarios, s) }

func (o *Options) progress(format string, args ...any) {
	fmt.Fprintf(o.Progress, "bench: "+format+"\n", args...)
}

// Report is the outcome of a run: every measurement, the checks against the
// targets of SPEC §12, and the servers' memory and start-up times.
type Report struct {
	Machine Machine  `json:"machine"`
	Config  Config   `json:"config"`
	Checks  []Check  `json:"checks"`
	Runs    []Result `json:"runs"`
	Servers []Server `json:"servers"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPU        string `json:"cpu,omitempty"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	Go         string `json:"go"`
	Note       string `json:"note"`
}

// Config is the run's parameters, as used.
type Config struct {
	DurationSeconds float64  `json:"duration_seconds"`
	WarmupSeconds   float64  `json:"warmup_seconds"`
	Concurrency     int      `json:"concurrency"`
	Keys            int      `json:"keys"`
	APIs            int      `json:"apis"`
	Apps            int      `json:"apps"`
	BaseKeys        int      `json:"base_keys"`
	ScaleKeys       int      `json:"scale_keys"`
	ScaleAPIs       int      `json:"scale_apis"`
	ScaleApps       int      `json:"scale_apps"`
	MeTokens        int      `json:"me_tokens"`
	SigningAlg      string   `json:"signing_alg"`
	Scenarios       []string `json:"scenarios"`
}

// Result is one measured load against one server.
type Result struct {
	Name   string `json:"name"`
	Server string `json:"server"`
	Measurement
	// CPU time the server process used during the measured run, and that
	// per request: less sensitive than req/s to what else the machine runs.
	CPUSeconds      float64 `json:"cpu_seconds"`
	CPUPerRequestUS float64 `json:"cpu_per_request_us"`
}

// Check compares a figure with its target (SPEC §12).
type Check struct {
	Scenario  string  `json:"scenario"`
	Name      string  `json:"name"`
	Run       string  `json:"run,omitempty"`       // the measured run
	Reference string  `json:"reference,omitempty"` // the run it is compared with
	Value     float64 `json:"value"`               // a ratio, or the figure in Unit
	Unit      string  `json:"unit"`                // "x", "ms", "MB" or "s"
	Target    string  `json:"target"`
	Pass      bool    `json:"pass"`
	Info      bool    `json:"info,omitempty"` // reported for information, judged against no target (Pass is false)
}

// Server is one process of the run.
type Server struct {
	Name         string  `json:"name"`
	Records      string  `json:"records,omitempty"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	RSSBytes     int64   `json:"rss_bytes"`
	StartupMS    float64 `json:"startup_ms,omitempty"` // Gatehouse: process start → /readyz 200
	WarmMS       float64 `json:"warm_ms,omitempty"`    // Gatehouse: /readyz 200 → key digest cache warmed
	SeedSeconds  float64 `json:"seed_seconds,omitempty"`
}

// runner is the state of one invocation.
type runner struct {
	o       *Options
	rep     *Report
	dir     string
	hc      *http.Client
	backend *child
	refs    map[string]*child
	runs    map[string]*Result
}

// Run performs the benchmark and returns its report. Child processes are
// stopped and temporary data removed before it returns.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	r := &runner{o: &o, rep: &Report{Machine: machine(), Config: Config{
		DurationSeconds: o.Duration.Seconds(), WarmupSeconds: o.Warmup.Seconds(), Concurrency: o.Concurrency,
		Keys: o.Keys, APIs: o.APIs, Apps: o.Apps, BaseKeys: o.BaseKeys, ScaleKeys: o.ScaleKeys, ScaleAPIs: o.ScaleAPIs,
		ScaleApps: o.ScaleApps, MeTokens: o.MeTokens, SigningAlg: o.SigningAlg, Scenarios: o.Scenarios,
	}}, refs: map[string]*child{}, runs: map[string]*Result{}}
	r.dir = o.Dir
	if r.dir == "" {
		d, err := os.MkdirTemp("", "gatehouse-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		r.dir = d
	}
	if o.ProfileDir != "" {
		if err := os.MkdirAll(o.ProfileDir, 0o755); err != nil {
			return nil, err
		}
	}
	r.hc = newClient(o.Concurrency)
	defer r.hc.CloseIdleConnections()
	o.progress("%s; the load generator and every server share these %d CPUs", r.rep.Machine.CPU, r.rep.Machine.CPUs)
	err := r.run(ctx)
	for _, name := range []string{RefToken, RefJSON, RefProxy, RefBackend} {
		if c := r.refs[name]; c != nil {
			hwm, rss := c.memory()
			r.rep.Servers = append(r.rep.Servers, Server{Name: "reference " + name, PeakRSSBytes: hwm, RSSBytes: rss})
			err = errors.Join(err, c.stop())
		}
	}
	if err != nil {
		return r.rep, err
	}
	return r.rep, nil
}

func (r *runner) run(ctx context.Context) error {
	o := r.o
	needGateway := o.has(ScenarioGateway) || o.has(ScenarioScale) || o.has(ScenarioStartup) // every store but main has an API
	var err error
	if needGateway {
		if r.backend, err = r.ref(ctx, RefBackend); err != nil {
			return err
		}
	}
	if o.has(ScenarioToken) || o.has(ScenarioMe) || o.has(ScenarioGateway) {
		apis, apps := 0, 0
		if o.has(ScenarioGateway) {
			apis, apps = o.APIs, o.Apps
		}
		keys := o.Keys
		if !o.has(ScenarioToken) && !o.has(ScenarioMe) {
			keys = 1
		}
		err := r.withGatehouse(ctx, "main", seedSpec{Keys: keys, APIs: apis, Apps: apps}, func(g *gatehouse, s *seeded) error {
			if o.has(ScenarioToken) {
				if err := r.tokenScenario(ctx, g, s); err != nil {
					return err
				}
			}
			if o.has(ScenarioMe) {
				if err := r.meScenario(ctx, g, s); err != nil {
					return err
				}
			}
			if o.has(ScenarioGateway) {
				return r.gatewayScenario(ctx, g, s)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if o.has(ScenarioScale) {
		if err := r.scaleScenario(ctx); err != nil {
			return err
		}
	} else if o.has(ScenarioStartup) {
		err := r.withGatehouse(ctx, "scale-keys", seedSpec{Keys: o.ScaleKeys, APIs: o.APIs, Apps: o.Apps}, func(g *gatehouse, s *seeded) error {
			r.startupCheck(g, o.ScaleKeys)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// scaleScenario compares Gatehouse with itself on three stores: a baseline
// (1k keys, 1 API, 1 app), the key store of SPEC §12 (1M keys and the small
// default APIs and apps: exchange ratio, peak RSS, start-up) and the gateway
// store (1k keys, 10k APIs, 100k apps: gateway ratio). The gateway store's
// start-up and peak RSS are reported for information, not judged: the
// targets of SPEC §12 are about the keys.
func (r *runner) scaleScenario(ctx context.Context) error {
	o := r.o
	var small, large [2]*Result // token, gateway
	err := r.withGatehouse(ctx, "scale-base", seedSpec{Keys: o.BaseKeys, APIs: 1, Apps: 1}, func(g *gatehouse, s *seeded) error {
		var err error
		if small[0], err = r.measure(ctx, "token-"+count(o.BaseKeys)+"-keys", "gatehouse", g, r.tokenLoad(g.URL, s)); err != nil {
			return err
		}
		small[1], err = r.measure(ctx, "gateway-1-api", "gatehouse", g, r.gatewayLoad(g.Gateway+"/"+benchOrg+"/"+benchCatalog, s))
		return err
	})
	if err != nil {
		return err
	}
	var keysPeak int64
	err = r.withGatehouse(ctx, "scale-keys", seedSpec{Keys: o.ScaleKeys, APIs: o.APIs, Apps: o.Apps}, func(g *gatehouse, s *seeded) error {
		var err error
		if large[0], err = r.measure(ctx, "token-"+count(o.ScaleKeys)+"-keys", "gatehouse", g, r.tokenLoad(g.URL, s)); err != nil {
			return err
		}
		keysPeak, _ = g.memory()
		if o.has(ScenarioStartup) {
			r.startupCheck(g, o.ScaleKeys)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var appsPeak int64
	var appsStartup time.Duration
	err = r.withGatehouse(ctx, "scale-apps", seedSpec{Keys: o.BaseKeys, APIs: o.ScaleAPIs, Apps: o.ScaleApps}, func(g *gatehouse, s *seeded) error {
		var err error
		if large[1], err = r.measure(ctx, "gateway-"+count(o.ScaleAPIs)+"-apis-"+count(o.ScaleApps)+"-apps", "gatehouse", g,
			r.gatewayLoad(g.Gateway+"/"+benchOrg+"/"+benchCatalog, s)); err != nil {
			return err
		}
		appsPeak, _ = g.memory()
		appsStartup = g.Startup
		return nil
	})
	if err != nil {
		return err
	}
	r.ratio(ScenarioScale, "token exchange, "+count(o.ScaleKeys)+" keys vs "+count(o.BaseKeys), large[0], small[0], 0.9)
	r.ratio(ScenarioScale, "gateway, "+count(o.ScaleAPIs)+" APIs and "+count(o.ScaleApps)+" apps vs 1 API", large[1], small[1], 0.9)
	mb := float64(keysPeak) / (1 << 20)
	r.rep.Checks = append(r.rep.Checks, Check{Scenario: ScenarioScale, Name: "peak RSS of Gatehouse with " + count(o.ScaleKeys) + " keys",
		Value: mb, Unit: "MB", Target: "≤ 300 MB", Pass: keysPeak > 0 && mb <= 300})
	apps := count(o.ScaleAPIs) + " APIs and " + count(o.ScaleApps) + " apps"
	r.rep.Checks = append(r.rep.Checks,
		Check{Scenario: ScenarioScale, Name: "start-up with " + apps + " (start → /readyz 200)",
			Value: appsStartup.Seconds(), Unit: "s", Target: "none", Info: true},
		Check{Scenario: ScenarioScale, Name: "peak RSS of Gatehouse with " + apps,
			Value: float64(appsPeak) / (1 << 20), Unit: "MB", Target: "none", Info: true})
	return nil
}

func (r *runner) startupCheck(g *gatehouse, keys int) {
	r.rep.Checks = append(r.rep.Checks, Check{Scenario: ScenarioStartup, Name: "start-up with " + count(keys) + " keys (start → /readyz 200)",
		Value: g.Startup.Seconds(), Unit: "s", Target: "≤ 1 s", Pass: g.Startup <= time.Second})
}

// ref returns the running reference of kind, starting it on first use.
func (r *runner) ref(ctx context.Context, kind string, args ...string) (*child, error) {
	if c := r.refs[kind]; c != nil {
		return c, nil
	}
	r.o.progress("starting reference %s", kind)
	c, err := r.o.startRef(ctx, kind, args...)
	if err != nil {
		return nil, err
	}
	r.refs[kind] = c
	return c, nil
}

// withGatehouse seeds a data directory, runs Gatehouse on it, calls fn and
// stops the server, recording its memory and start-up time.
func (r *runner) withGatehouse(ctx context.Context, name string, sp seedSpec, fn func(*gatehouse, *seeded) error) error {
	o := r.o
	sp.Dir = filepath.Join(r.dir, name)
	sp.Seed, sp.Alg = o.Seed, o.SigningAlg
	if r.backend != nil {
		sp.Backend = r.backend.URL
	}
	records := fmt.Sprintf("%s keys", count(sp.Keys))
	if sp.APIs > 0 {
		records += fmt.Sprintf(", %s APIs, %s apps", count(sp.APIs), count(sp.Apps))
	}
	o.progress("seeding store %q: %s", name, records)
	s, err := seed(ctx, sp, o.Reuse && o.Dir != "", o.progress)
	if err != nil {
		return fmt.Errorf("seed %s: %w", name, err)
	}
	if s.Reused {
		o.progress("reused %q (seeded earlier in %.1fs); starting gatehouse serve", name, s.Took.Seconds())
	} else {
		o.progress("seeded %q in %.1fs; starting gatehouse serve", name, s.Took.Seconds())
	}
	g, err := o.startGatehouse(ctx, "gatehouse "+name, sp.Dir)
	if err != nil {
		return err
	}
	o.progress("gatehouse %q ready in %s, its key cache warm %s later", name, g.Startup.Round(time.Millisecond), g.Warm.Round(time.Millisecond))
	err = fn(g, s)
	hwm, rss := g.memory()
	r.rep.Servers = append(r.rep.Servers, Server{Name: "gatehouse " + name, Records: records, PeakRSSBytes: hwm, RSSBytes: rss,
		StartupMS: float64(g.Startup.Microseconds()) / 1000, WarmMS: float64(g.Warm.Microseconds()) / 1000,
		SeedSeconds: s.Took.Seconds()})
	if serr := g.stop(); serr != nil && err == nil {
		err = fmt.Errorf("gatehouse %s: %w: %s", name, serr, g.log.String())
	}
	return err
}

// measure warms up, then runs l against Gatehouse, recording the run (and a
// CPU profile and execution trace when asked for).
func (r *runner) measure(ctx context.Context, name, server string, g *gatehouse, l load) (*Result, error) {
	return r.measureOn(ctx, name, server, g.child, g, l)
}

// measureRef is measure against a reference process.
func (r *runner) measureRef(ctx context.Context, name, server string, c *child, l load) (*Result, error) {
	return r.measureOn(ctx, name, server, c, nil, l)
}

// measureOn runs l against the process c (g: the same, when it is
// Gatehouse), recording the CPU time c used during the measured run.
func (r *runner) measureOn(ctx context.Context, name, server string, c *child, g *gatehouse, l load) (*Result, error) {
	o := r.o
	l.Concurrency = o.Concurrency
	if l.Duration == 0 {
		l.Duration = o.Duration
	}
	rate := ""
	if l.Rate > 0 {
		rate = fmt.Sprintf(" at %.0f req/s", l.Rate)
	}
	o.progress("running %s on %s%s for %s", name, server, rate, l.Duration)
	w := l
	w.Duration = o.Warmup
	w.run(ctx, r.hc)
	var prof chan error
	if g != nil && g.pprof != "" {
		prof = make(chan error, 2)
		base := filepath.Join(o.ProfileDir, name)
		go func() { prof <- fetchProfile(ctx, g.pprof+"/debug/pprof/profile", l.Duration, base+".pprof") }()
		go func() { prof <- fetchProfile(ctx, g.pprof+"/debug/pprof/trace", l.Duration, base+".trace") }()
	}
	cpu0 := c.cpuTime()
	m := l.run(ctx, r.hc)
	cpu := c.cpuTime() - cpu0
	for range cap(prof) {
		if err := <-prof; err != nil {
			o.progress("  profile of %s: %v", name, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	run := &Result{Name: name, Server: server, Measurement: m, CPUSeconds: cpu.Seconds()}
	if m.Requests > 0 && cpu > 0 {
		run.CPUPerRequestUS = float64(cpu.Microseconds()) / float64(m.Requests)
	}
	r.rep.Runs = append(r.rep.Runs, *run)
	r.runs[name] = run
	o.progress("  %.0f req/s, p50 %s, p99 %s, %d errors%s; server CPU %.0f µs/request", m.RPS, ms(m.P50), ms(m.P99), m.Errors, firstErr(m),
		run.CPUPerRequestUS)
	return run, nil
}

func firstErr(m Measurement) string {
	if m.FirstError == "" {
		return ""
	}
	return " (first: " + m.FirstError + ")"
}

// fetchProfile writes what the pprof endpoint url (a CPU profile or an
// execution trace) records over d to file.
func fetchProfile(ctx context.Context, url string, d time.Duration, file string) error {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	req, err := http.NewRequestWithContext(ctx, "GET", url+"?seconds="+strconv.Itoa(secs), nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: %s", res.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ratio records a throughput check: run's req/s over ref's.
func (r *runner) ratio(scenario, name string, run, ref *Result, atLeast float64) {
	c := Check{Scenario: scenario, Name: name, Run: run.Name, Reference: ref.Name, Unit: "x",
		Target: fmt.Sprintf("≥ %.1f×", atLeast)}
	if ref.RPS > 0 {
		c.Value = run.RPS / ref.RPS
	}
	c.Pass = c.Value >= atLeast && run.Errors == 0 && ref.Errors == 0
	r.rep.Checks = append(r.rep.Checks, c)
}

func (r *runner) tokenLoad(base string, s *seeded) load {
	return load{Next: func(rnd *rand.Rand) (*http.Request, error) {
		return http.NewRequest("POST", base+"/apikey?apikey="+s.Keys.At(rnd.IntN(s.Keys.Len())), nil)
	}}
}

func (r *runner) tokenScenario(ctx context.Context, g *gatehouse, s *seeded) error {
	o := r.o
	ref, err := r.ref(ctx, RefToken, "--seed", strconv.FormatUint(o.Seed, 10), "--keys", strconv.Itoa(o.Keys), "--alg", o.SigningAlg)
	if err != nil {
		return err
	}
	refRun, err := r.measureRef(ctx, "token-ref", "reference token", ref, r.tokenLoad(ref.URL, s))
	if err != nil {
		return err
	}
	run, err := r.measure(ctx, "token", "gatehouse", g, r.tokenLoad(g.URL, s))
	if err != nil {
		return err
	}
	r.ratio(ScenarioToken, "token exchange (POST /apikey), "+count(o.Keys)+" keys", run, refRun, 0.5)
	return nil
}

func (r *runner) meScenario(ctx context.Context, g *gatehouse, s *seeded) error {
	o := r.o
	ref, err := r.ref(ctx, RefJSON)
	if err != nil {
		return err
	}
	n := min(o.MeTokens, s.Keys.Len())
	o.progress("exchanging %d keys for the bearer tokens of /v1/me", n)
	tokens := make([]string, n)
	for i := range tokens {
		if tokens[i], err = exchange(ctx, r.hc, g.URL, s.Keys.At(i*s.Keys.Len()/n)); err != nil {
			return err
		}
	}
	refRun, err := r.measureRef(ctx, "me-ref", "reference json", ref, load{Next: func(*rand.Rand) (*http.Request, error) {
		return http.NewRequest("GET", ref.URL+"/v1/me", nil)
	}})
	if err != nil {
		return err
	}
	run, err := r.measure(ctx, "me", "gatehouse", g, load{Next: func(rnd *rand.Rand) (*http.Request, error) {
		req, err := http.NewRequest("GET", g.URL+"/v1/me", nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+tokens[rnd.IntN(len(tokens))])
		}
		return req, err
	}})
	if err != nil {
		return err
	}
	r.ratio(ScenarioMe, "GET /v1/me with a bearer token ("+count(n)+" tokens)", run, refRun, 0.5)
	return nil
}

// exchange trades a key for a token at Gatehouse's V5 token endpoint.
func exchange(ctx context.Context, hc *http.Client, base, key string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/apikey?apikey="+key, nil)
	if err != nil {
		return "", err
	}
	res, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var body struct {
		JWT string `json:"jwt"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusOK || body.JWT == "" {
		return "", fmt.Errorf("token exchange: %s (%v)", res.Status, err)
	}
	return body.JWT, nil
}

// gatewayLoad calls base + "/a{API}/hello" as a random app of the seeded set.
func (r *runner) gatewayLoad(base string, s *seeded) load {
	return load{Next: func(rnd *rand.Rand) (*http.Request, error) {
		app := rnd.IntN(len(s.ClientIDs))
		req, err := http.NewRequest("GET", base+"/a"+strconv.Itoa(s.apiOf(app, rnd))+benchOperation, nil)
		if err == nil {
			req.Header.Set(clientIDHeader, s.ClientIDs[app])
		}
		return req, err
	}}
}

func (r *runner) gatewayScenario(ctx context.Context, g *gatehouse, s *seeded) error {
	o := r.o
	proxy, err := r.ref(ctx, RefProxy, "--target", r.backend.URL)
	if err != nil {
		return err
	}
	refRun, err := r.measureRef(ctx, "gateway-ref", "reference proxy", proxy, r.gatewayLoad(proxy.URL, s))
	if err != nil {
		return err
	}
	run, err := r.measure(ctx, "gateway", "gatehouse", g, r.gatewayLoad(g.Gateway+"/"+benchOrg+"/"+benchCatalog, s))
	if err != nil {
		return err
	}
	r.ratio(ScenarioGateway, "gateway call (client id, rate limit, analytics, proxy), "+count(o.APIs)+" API", run, refRun, 0.8)

	// Added latency at half of the gateway's peak: the gateway's p99 minus
	// the backend's own p99 at the same request rate.
	half := run.RPS / 2
	if half < 1 {
		return fmt.Errorf("gateway: no throughput to halve (%d errors: %s)", run.Errors, run.FirstError)
	}
	direct := r.gatewayLoad(r.backend.URL, s)
	direct.Rate = half
	bRun, err := r.measureRef(ctx, "backend-half-load", "reference backend", r.backend, direct)
	if err != nil {
		return err
	}
	gl := r.gatewayLoad(g.Gateway+"/"+benchOrg+"/"+benchCatalog, s)
	gl.Rate = half
	gRun, err := r.measure(ctx, "gateway-half-load", "gatehouse", g, gl)
	if err != nil {
		return err
	}
	added := gRun.P99 - bRun.P99
	r.rep.Checks = append(r.rep.Checks, Check{Scenario: ScenarioGateway, Run: gRun.Name, Reference: bRun.Name,
		Name:  fmt.Sprintf("gateway p99 added latency at half of peak (%.0f req/s)", half),
		Value: float64(added.Microseconds()) / 1000, Unit: "ms", Target: "≤ 1 ms",
		Pass: added <= time.Millisecond && gRun.Errors == 0 && bRun.Errors == 0})

	// For information: what the bare proxy adds at the same rate, which
	// separates what any proxy costs on this machine from what Gatehouse adds.
	pl := r.gatewayLoad(proxy.URL, s)
	pl.Rate = half
	pRun, err := r.measureRef(ctx, "proxy-half-load", "reference proxy", proxy, pl)
	if err != nil {
		return err
	}
	pAdded := pRun.P99 - bRun.P99
	r.rep.Checks = append(r.rep.Checks, Check{Scenario: ScenarioGateway, Run: pRun.Name, Reference: bRun.Name,
		Name:  fmt.Sprintf("bare proxy p99 added latency at the same rate (%.0f req/s)", half),
		Value: float64(pAdded.Microseconds()) / 1000, Unit: "ms", Target: "none", Info: true})
	return nil
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), OS: runtime.GOOS, Arch: runtime.GOARCH,
		Go: runtime.Version()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	m.Note = fmt.Sprintf("the load generator and every server run on the same %d CPUs, so each figure is what the server gets while sharing them with its client", m.CPUs)
	return m
}

// count formats n as 1k, 100k, 1M where exact.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64) + "ms"
}
