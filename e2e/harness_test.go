// Package e2e_test runs the real Gatehouse server in-process (app.New + Run on
// 127.0.0.1:0, a fresh data directory, real SQLite) and talks to it over HTTP
// on loopback, through the public client package where it can and with raw
// requests where the wire itself is under test.
//
// Time is a fake clock shared by the keyring, the store and IAM: expiry and
// grace periods are reached with Advance, never by sleeping.
package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/client"
	"gatehouse/internal/app"
	"gatehouse/internal/config"
	"gatehouse/internal/httpapi"
)

// epoch is where every fake clock starts: a fixed instant, so times in
// responses can be asserted exactly.
var epoch = time.Date(2031, 3, 14, 9, 26, 53, 0, time.UTC)

// clock is a settable time source for app.Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: epoch} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// logBuffer captures a server's log and lets a test wait for a line.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	waiters []logWaiter
}

type logWaiter struct {
	substr string
	ch     chan struct{}
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, _ := l.buf.Write(p)
	l.waiters = slices.DeleteFunc(l.waiters, func(w logWaiter) bool {
		if bytes.Contains(l.buf.Bytes(), []byte(w.substr)) {
			close(w.ch)
			return true
		}
		return false
	})
	return n, nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor returns a channel that is closed once the log holds substr.
func (l *logBuffer) waitFor(substr string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	if bytes.Contains(l.buf.Bytes(), []byte(substr)) {
		close(ch)
	} else {
		l.waiters = append(l.waiters, logWaiter{substr, ch})
	}
	return ch
}

// records decodes the JSON log, one record a line.
func (l *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(l.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, rec)
	}
	return out
}

// server is one running Gatehouse.
type server struct {
	app     *app.App
	URL     string // http://127.0.0.1:port
	GWURL   string // the gateway listener, http://127.0.0.1:port
	Issuer  string
	DataDir string
	cfg     config.Config
	clock   *clock
	logs    *logBuffer
	admin   client.KeyFile // the bootstrap admin-apikey.json
	hc      *http.Client
	hy      *hygieneRecorder // learns secrets and keeps what must hold none (hygiene_test.go)
	test    string

	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
	runErr   error
}

// serverSetup is what the options of startServer change.
type serverSetup struct {
	cfg  config.Config
	clk  *clock
	opts app.Options // Now, LogOutput and Tap are the harness's (a Tap given here runs too)
}

type serverOption func(*serverSetup)

func withSigningAlg(alg string) serverOption {
	return func(s *serverSetup) { s.cfg.SigningAlg = alg }
}

func withIssuer(iss string) serverOption {
	return func(s *serverSetup) { s.cfg.Issuer = iss }
}

// withDataDir runs the server on an existing data directory (a restart, or a
// second node of the same store).
func withDataDir(dir string) serverOption {
	return func(s *serverSetup) { s.cfg.DataDir = dir }
}

func withLogFormat(f string) serverOption {
	return func(s *serverSetup) { s.cfg.LogFormat = f }
}

func withClock(clk *clock) serverOption {
	return func(s *serverSetup) { s.clk = clk }
}

// withConfig edits the server's configuration before it starts (flags the
// other options do not cover, e.g. --token-failure-limit).
func withConfig(edit func(*config.Config)) serverOption {
	return func(s *serverSetup) { edit(&s.cfg) }
}

// withAppOptions edits the app.Options the server starts with (settings that
// are not flags, e.g. ReadHeaderTimeout).
func withAppOptions(edit func(*app.Options)) serverOption {
	return func(s *serverSetup) { edit(&s.opts) }
}

// startServer runs a server until the test ends. At the end it checks that
// Run returned nil and that the log has no error, panic or lock contention.
// The server logs at debug level, and its traffic, log, metrics and audit
// log go to the suite's secret-hygiene check (hygiene_test.go).
func startServer(t *testing.T, opts ...serverOption) *server {
	t.Helper()
	return startServerFor(t, hygiene, opts...)
}

// startServerFor is startServer reporting to hy instead of the suite's recorder.
func startServerFor(t *testing.T, hy *hygieneRecorder, opts ...serverOption) *server {
	t.Helper()
	set := serverSetup{cfg: config.Default()}
	set.cfg.Addr = "127.0.0.1:0"
	set.cfg.GatewayAddr = "127.0.0.1:0"
	set.cfg.DataDir = filepath.Join(t.TempDir(), "data")
	set.cfg.LogFormat = "json"
	set.cfg.LogLevel = "debug"
	for _, o := range opts {
		o(&set)
	}
	cfg, clk := set.cfg, set.clk
	if clk == nil {
		clk = newClock()
	}
	if err := cfg.Finalize(); err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &logBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	test := t.Name()
	ao := set.opts
	ao.Now, ao.LogOutput = clk.Now, logs
	tap := func(ex httpapi.Exchange) {
		exchanges.record(ex)
		hy.observe(test, ex)
		if set.opts.Tap != nil {
			set.opts.Tap(ex)
		}
	}
	ao.Tap = tap
	a, err := app.New(ctx, cfg, ao)
	if err != nil {
		cancel()
		t.Fatalf("app.New: %v\nlog:\n%s", err, logs)
	}
	tr := &hygieneTransport{base: http.DefaultTransport.(*http.Transport).Clone(), rec: hy, test: test, gwHost: a.GatewayAddr()}
	s := &server{
		app: a, URL: "http://" + a.Addr(), GWURL: "http://" + a.GatewayAddr(), Issuer: a.Issuer(), DataDir: cfg.DataDir, cfg: cfg,
		clock: clk, logs: logs, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}, hy: hy, test: test,
		cancel: cancel, done: make(chan error, 1),
	}
	go func() { s.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		if err := s.stop(t); err != nil {
			t.Errorf("Run returned %v", err)
		}
		s.checkLog(t)
	})
	if s.admin, err = client.ReadKeyFile(cfg.BootstrapFile); err != nil {
		t.Fatalf("bootstrap key file: %v", err)
	}
	return s
}

// stop cancels Run's context and returns what Run returned. Before, it
// scrapes the server's metrics and audit log for the hygiene check; after, it
// hands the check the whole log.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	s.stopOnce.Do(func() {
		if s.hy == nil { // a server put together without startServer
			s.hy, s.test = hygiene, t.Name()
		}
		s.scrape()
		defer func() { s.hy.haystack("log", "log of a server of "+s.test, []byte(s.logs.String())) }()
		// Close the client's idle connections first: connections the transport
		// dialled but never used would hold Shutdown for 5 s (net/http treats
		// them as idle only after that long).
		s.hc.CloseIdleConnections()
		s.cancel()
		select {
		case s.runErr = <-s.done:
		case <-time.After(45 * time.Second): // a watchdog, not synchronisation: drain is bounded at 30 s
			t.Errorf("Run did not return 45 s after cancel")
		}
	})
	return s.runErr
}

// checkLog fails the test for log records that must never appear.
func (s *server) checkLog(t *testing.T) {
	t.Helper()
	if s.cfg.LogFormat == "json" {
		for _, rec := range s.logs.records(t) {
			if rec["level"] == "ERROR" {
				t.Errorf("server logged an error: %v", rec)
			}
		}
	}
	for _, bad := range []string{"level=ERROR", "database is locked", "SQLITE_BUSY", "panic"} {
		if strings.Contains(s.logs.String(), bad) {
			t.Errorf("server log mentions %q", bad)
		}
	}
}

// client returns an unauthenticated client of s.
func (s *server) client() *client.Client {
	return client.New(s.URL).WithHTTPClient(s.hc)
}

// as returns a client holding a fresh token of key.
func (s *server) as(t *testing.T, key string, o client.TokenOptions) *client.Client {
	t.Helper()
	return s.client().WithToken(mustToken(t, s, key, o))
}

// asAdmin returns a client with a token of the bootstrap Administrator key.
func (s *server) asAdmin(t *testing.T) *client.Client {
	t.Helper()
	return s.as(t, s.admin.APIKey, client.TokenOptions{})
}

// mustToken exchanges key at /identity/token.
func mustToken(t *testing.T, s *server, key string, o client.TokenOptions) string {
	t.Helper()
	tok, err := s.client().IAMToken(t.Context(), key, o)
	if err != nil {
		t.Fatalf("token exchange: %v", err)
	}
	return tok.AccessToken
}

// mustCreateKey creates a key and checks that the value came back.
func mustCreateKey(t *testing.T, c *client.Client, in client.CreateAPIKey) *client.APIKey {
	t.Helper()
	k, err := c.CreateAPIKey(t.Context(), in)
	if err != nil {
		t.Fatalf("create key %q: %v", in.Name, err)
	}
	if k.APIKey == "" || k.ID == "" {
		t.Fatalf("create key %q: no value or id in %+v", in.Name, k)
	}
	return k
}

// exchangeRefused checks that key no longer exchanges, at both endpoints.
func exchangeRefused(t *testing.T, s *server, key string) {
	t.Helper()
	_, err := s.client().IAMToken(t.Context(), key, client.TokenOptions{})
	wantErr(t, err, http.StatusBadRequest, "BXNIM0415E")
	_, err = s.client().V5Token(t.Context(), key, client.TokenOptions{})
	wantErr(t, err, http.StatusBadRequest, "BXNIM0415E")
}

// tokenRefused checks that a token already issued is refused on the next request.
func tokenRefused(t *testing.T, s *server, token string) {
	t.Helper()
	wantUnauthorized(t, s.do(t, req{method: "GET", path: "/v1/me", token: token}))
	wantUnauthorized(t, s.do(t, req{method: "GET", path: "/v1/apikeys", token: token}))
}

// tokenWorks checks that a token is accepted.
func tokenWorks(t *testing.T, s *server, token string) {
	t.Helper()
	if r := s.do(t, req{method: "GET", path: "/v1/me", token: token}); r.status != http.StatusOK {
		t.Fatalf("GET /v1/me: %d %s", r.status, r.body)
	}
}

// listAll walks every page of a listing.
func listAll(t *testing.T, c *client.Client, o client.ListAPIKeysOptions) []client.APIKey {
	t.Helper()
	var all []client.APIKey
	for page := 0; ; page++ {
		l, err := c.ListAPIKeys(t.Context(), o)
		if err != nil {
			t.Fatalf("list keys (page %d): %v", page, err)
		}
		all = append(all, l.APIKeys...)
		if o.PageToken = l.NextPageToken(); o.PageToken == "" {
			return all
		}
		if page > 1000 {
			t.Fatal("listing never ends")
		}
	}
}

// wantErr checks that err is a client.Error with status and code.
func wantErr(t *testing.T, err error, status int, code string) *client.Error {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want %d %s", err, status, code)
	}
	if e.StatusCode != status || e.Code != code {
		t.Fatalf("got %d %s (%s), want %d %s", e.StatusCode, e.Code, e.Message, status, code)
	}
	if e.Message == "" || e.Trace == "" {
		t.Fatalf("error without message or trace: %+v", e)
	}
	return e
}

// req is a raw HTTP request to a server.
type req struct {
	method string
	path   string // with the query
	token  string // sent as Authorization: Bearer
	auth   string // a raw Authorization header (attack tests)
	ctype  string
	body   string
	header map[string]string
}

// reply is a raw HTTP response.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends r to s and fails the test if the exchange itself fails.
func (s *server) do(t *testing.T, r req) reply {
	t.Helper()
	res, err := s.send(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// send sends r to s; unlike do it may be called from any goroutine. A
// response without X-Request-Id is an error too (SPEC §4: every response).
func (s *server) send(ctx context.Context, r req) (reply, error) {
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequestWithContext(ctx, r.method, s.URL+r.path, body)
	if err != nil {
		return reply{}, err
	}
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.auth != "" {
		hr.Header.Set("Authorization", r.auth)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := s.hc.Do(hr)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: read body: %w", r.method, r.path, err)
	}
	if res.Header.Get("X-Request-Id") == "" {
		return reply{}, fmt.Errorf("%s %s: %d response without X-Request-Id", r.method, r.path, res.StatusCode)
	}
	return reply{status: res.StatusCode, header: res.Header, body: data}, nil
}

// formReq is a POST with a form body.
func formReq(path string, form url.Values) req {
	return req{method: "POST", path: path, ctype: "application/x-www-form-urlencoded", body: form.Encode()}
}

// postForm sends a form body to a token endpoint.
func (s *server) postForm(t *testing.T, path string, form url.Values) reply {
	t.Helper()
	return s.do(t, formReq(path, form))
}

// flip returns a character other than c: one changed character of a key
// breaks its checksum.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// decode unmarshals the body into v.
func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %q is not the JSON expected: %v", r.body, err)
	}
}

// keys returns the member names of a JSON object body, sorted.
func (r reply) keys(t *testing.T) []string {
	t.Helper()
	var m map[string]json.RawMessage
	r.decode(t, &m)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// apiError is the management API's error body (SPEC §4).
type apiError struct {
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Target  *struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"target"`
	} `json:"errors"`
	StatusCode int    `json:"status_code"`
	Trace      string `json:"trace"`
}

// wantAPIError checks a management-API error: status, code, the body's shape,
// and trace equal to X-Request-Id. It returns the target name ("" when none).
func wantAPIError(t *testing.T, r reply, status int, code string) string {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e apiError
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %s is not the IAM shape: %v", r.body, err)
	}
	if len(e.Errors) != 1 || e.Errors[0].Code != code || e.Errors[0].Message == "" {
		t.Fatalf("error body %s, want one error with code %s and a message", r.body, code)
	}
	if e.StatusCode != status {
		t.Errorf("status_code %d, want %d", e.StatusCode, status)
	}
	if rid := r.header.Get("X-Request-Id"); e.Trace == "" || e.Trace != rid {
		t.Errorf("trace %q, X-Request-Id %q: want equal and set", e.Trace, rid)
	}
	if e.Errors[0].Target != nil {
		return e.Errors[0].Target.Name
	}
	return ""
}

// wantUnauthorized checks the 401 of SPEC §4: WWW-Authenticate: Bearer and invalid_token.
func wantUnauthorized(t *testing.T, r reply) {
	t.Helper()
	wantAPIError(t, r, http.StatusUnauthorized, "invalid_token")
	if h := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
		t.Errorf("WWW-Authenticate %q, want Bearer …", h)
	}
}

// tokenError is the token service's error body (SPEC §3.3).
type tokenError struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	Context      struct {
		RequestID   string `json:"requestId"`
		RequestType string `json:"requestType"`
	} `json:"context"`
}

// wantTokenError checks a token-service error in IAM shape and returns it.
func wantTokenError(t *testing.T, r reply, status int, code string) tokenError {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	var e tokenError
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %s is not the IAM token shape: %v", r.body, err)
	}
	if e.ErrorCode != code || e.ErrorMessage == "" {
		t.Fatalf("error body %s, want errorCode %s and a message", r.body, code)
	}
	if rid := r.header.Get("X-Request-Id"); e.Context.RequestID == "" || e.Context.RequestID != rid {
		t.Errorf("context.requestId %q, X-Request-Id %q: want equal and set", e.Context.RequestID, rid)
	}
	if e.Context.RequestType != "incoming.Identity_Token" {
		t.Errorf("context.requestType %q", e.Context.RequestType)
	}
	return e
}

// jwtPart decodes segment i (0 header, 1 payload) of a compact JWS into a map.
func jwtPart(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a compact JWS", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("token segment %d: %v", i, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("token segment %d: %v", i, err)
	}
	return m
}

// num reads a JSON number claim as int64.
func num(t *testing.T, m map[string]any, name string) int64 {
	t.Helper()
	f, ok := m[name].(float64)
	if !ok {
		t.Fatalf("claim %s = %v, want a number", name, m[name])
	}
	return int64(f)
}
