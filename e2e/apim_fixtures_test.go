package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/client"
)

// Fixtures of the API Manager and gateway tests: real backends on loopback,
// the project's sample documents pointed at them, a provider org with the
// samples published, consumers with apps, and calls through the gateway.

// seen is a request as a backend received it.
type seen struct {
	Method   string
	Path     string // escaped
	RawQuery string
	Header   http.Header
	Body     []byte
	Remote   string // the gateway's address: one per connection
}

// backend is a real HTTP server on 127.0.0.1 that records what it receives.
// It answers 200 (201 for POST) with X-Backend: <name> and a small JSON body,
// and echoes X-Global-Transaction-ID back, so a gateway that let a backend's
// own id through would send two. handle, when set, answers instead.
type backend struct {
	name string
	srv  *httptest.Server
	URL  string

	mu     sync.Mutex
	reqs   []seen
	handle func(w http.ResponseWriter, r *http.Request)
}

func newBackend(t *testing.T, name string) *backend {
	t.Helper()
	b := &backend{name: name}
	b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
	b.URL = b.srv.URL
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) serve(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	h := b.handle
	b.mu.Unlock()
	w.Header().Set("X-Backend", b.name)
	w.Header().Set("X-Global-Transaction-ID", "backend-own-"+b.name)
	if h != nil {
		// The handler reads the body as it likes; what it read is recorded
		// before the answer leaves (the handler must not flush).
		var body bytes.Buffer
		r.Body = io.NopCloser(io.TeeReader(r.Body, &body))
		defer b.record(r, body.Bytes)
		h(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	b.record(r, func() []byte { return body })
	w.Header().Set("Content-Type", "application/json")
	status := http.StatusOK
	if r.Method == http.MethodPost {
		status = http.StatusCreated
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"backend":%q,"path":%q}`, b.name, r.URL.Path)
}

func (b *backend) record(r *http.Request, body func() []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reqs = append(b.reqs, seen{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: bytes.Clone(body()), Remote: r.RemoteAddr})
}

func (b *backend) setHandler(h func(w http.ResponseWriter, r *http.Request)) {
	b.mu.Lock()
	b.handle = h
	b.mu.Unlock()
}

// count is how many requests the backend received.
func (b *backend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.reqs)
}

// since returns the requests after the first n.
func (b *backend) since(n int) []seen {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.reqs[n:])
}

// last is the latest request the backend received.
func (b *backend) last(t *testing.T) seen {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.reqs) == 0 {
		t.Fatalf("backend %s received nothing", b.name)
	}
	return b.reqs[len(b.reqs)-1]
}

// closedPort returns a loopback address nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// exampleDoc reads a sample document (internal/apidef/testdata holds copies of
// the project's examples) and applies the old → new replacements: the
// samples name fixed backend ports (9000–9003) that the tests replace with
// their own backends' URLs, keeping everything else.
func exampleDoc(t *testing.T, name string, oldnew ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "internal", "apidef", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(oldnew); i += 2 {
		if !bytes.Contains(data, []byte(oldnew[i])) {
			t.Fatalf("%s does not contain %q", name, oldnew[i])
		}
		data = bytes.ReplaceAll(data, []byte(oldnew[i]), []byte(oldnew[i+1]))
	}
	return data
}

// publicAPIDoc is a public OpenAPI 3.0 API (no client id) named name at
// /basePath whose backend is target, with an invoke timeout in seconds (0:
// the default).
func publicAPIDoc(name, basePath, target string, timeout int) []byte {
	assembly := ""
	if timeout > 0 {
		assembly = fmt.Sprintf(`
  assembly:
    execute:
      - invoke: {target-url: '$(target-url)$(request.path)$(request.search)', timeout: %d}`, timeout)
	}
	return fmt.Appendf(nil, `openapi: 3.0.3
info: {title: %[1]s, version: 1.0.0, x-ibm-name: %[1]s}
servers: [{url: %[2]s}]
x-ibm-configuration:
  properties:
    target-url: {value: '%[3]s'}%[4]s
paths:
  /ping:
    get:
      responses: {'200': {description: pong}}
`, name, basePath, target, assembly)
}

// productDoc is a product of the named APIs ("key: name:version") with the
// plans given as YAML lines indented by four spaces ("" for none: the
// default plan).
func productDoc(name, version string, apis []string, plans string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "product: 1.0.0\ninfo: {name: %s, title: %s, version: %s}\napis:\n", name, name, version)
	for _, a := range apis {
		key, ref, _ := strings.Cut(a, ": ")
		fmt.Fprintf(&b, "  %s: {name: '%s'}\n", key, ref)
	}
	if plans != "" {
		b.WriteString("plans:\n" + plans)
	}
	return []byte(b.String())
}

// provider is a server with a provider org in which the samples are imported
// and weather-product:1.0.0 (weather and petstore) and status-product:1.0.0
// (the public status API) are published to the Sandbox catalog.
type provider struct {
	s     *server
	admin *client.Client
	org   string
	// the samples' backends: weather (9000), weather in catalog prod (9001),
	// petstore (9002), status (9003)
	weather, weatherProd, pets, status *backend
}

const (
	weatherProduct = "weather-product:1.0.0"
	statusProduct  = "status-product:1.0.0"
)

func (p *provider) weatherDoc(t *testing.T) []byte {
	return exampleDoc(t, "weather-oas2.yaml", "http://127.0.0.1:9000", p.weather.URL, "http://127.0.0.1:9001", p.weatherProd.URL)
}

// newProvider starts a server (options as startServer's) and sets the samples up.
func newProvider(t *testing.T, opts ...serverOption) *provider {
	t.Helper()
	s := startServer(t, opts...)
	p := &provider{
		s: s, admin: s.asAdmin(t), org: uniq("acme"),
		weather: newBackend(t, "weather"), weatherProd: newBackend(t, "weather-prod"),
		pets: newBackend(t, "pets"), status: newBackend(t, "status"),
	}
	mustOrg(t, p.admin, p.org)
	mustImportAPI(t, p.admin, p.org, p.weatherDoc(t), client.ContentTypeYAML)
	mustImportAPI(t, p.admin, p.org, exampleDoc(t, "petstore-oas3.yaml", "http://127.0.0.1:9002", p.pets.URL), client.ContentTypeYAML)
	mustImportAPI(t, p.admin, p.org, exampleDoc(t, "status-public-oas3.json", "http://127.0.0.1:9003", p.status.URL), client.ContentTypeJSON)
	mustCreateProduct(t, p.admin, p.org, exampleDoc(t, "weather-product.yaml"), client.ContentTypeYAML)
	mustCreateProduct(t, p.admin, p.org, productDoc("status-product", "1.0.0", []string{"status: status:1.0.0"}, ""), client.ContentTypeYAML)
	mustPublish(t, p.admin, p.org, "sb", weatherProduct)
	mustPublish(t, p.admin, p.org, "sb", statusProduct)
	return p
}

func mustImportAPI(t *testing.T, c *client.Client, org string, doc []byte, ctype string) *client.Draft {
	t.Helper()
	d, err := c.ImportAPI(t.Context(), org, doc, ctype)
	if err != nil {
		t.Fatalf("import API into %s: %v", org, err)
	}
	return d
}

func mustCreateProduct(t *testing.T, c *client.Client, org string, doc []byte, ctype string) *client.Draft {
	t.Helper()
	d, err := c.CreateProduct(t.Context(), org, doc, ctype)
	if err != nil {
		t.Fatalf("create product in %s: %v", org, err)
	}
	return d
}

func mustPublish(t *testing.T, c *client.Client, org, env, product string) *client.Publication {
	t.Helper()
	p, err := c.Publish(t.Context(), org, env, product)
	if err != nil {
		t.Fatalf("publish %s to %s/%s: %v", product, org, env, err)
	}
	if p.State != client.StatePublished {
		t.Fatalf("publish %s: state %q", product, p.State)
	}
	return p
}

// consumer is an app of a fresh consumer org with its first credential.
type consumer struct {
	ref    client.AppRef
	app    *client.App
	id     string
	secret string
	sub    *client.Subscription // nil when not subscribed
}

// newConsumer creates a consumer org and an app in catalog env and, when plan
// is set, subscribes it to that plan of product.
func (p *provider) newConsumer(t *testing.T, env, product, plan string) *consumer {
	t.Helper()
	corg, err := p.admin.CreateConsumerOrg(t.Context(), p.org, env, uniq("corg"), "Consumers")
	if err != nil {
		t.Fatalf("create consumer org: %v", err)
	}
	return p.newApp(t, env, corg.Name, product, plan)
}

// newApp creates an app in an existing consumer org, subscribed as newConsumer's.
func (p *provider) newApp(t *testing.T, env, corg, product, plan string) *consumer {
	t.Helper()
	a, err := p.admin.CreateApp(t.Context(), p.org, env, corg, uniq("app"), "an app")
	if err != nil {
		t.Fatalf("create app: %v", err)
	}
	if a.Credentials == nil || a.Credentials.ClientID == "" || a.Credentials.ClientSecret == "" {
		t.Fatalf("create app: no client id and secret in %+v", a)
	}
	c := &consumer{ref: client.AppRef{Org: p.org, Env: env, ConsumerOrg: corg, App: a.Name}, app: a, id: a.Credentials.ClientID, secret: a.Credentials.ClientSecret}
	if plan != "" {
		c.sub = mustSubscribe(t, p.admin, c.ref, product, plan)
	}
	return c
}

func mustSubscribe(t *testing.T, c *client.Client, app client.AppRef, product, plan string) *client.Subscription {
	t.Helper()
	sub, err := c.Subscribe(t.Context(), app, product, plan)
	if err != nil {
		t.Fatalf("subscribe %s to %s plan %s: %v", app.App, product, plan, err)
	}
	return sub
}

// creds are the headers identifying c to an API that wants id and secret.
func (c *consumer) creds() map[string]string {
	return map[string]string{"X-IBM-Client-Id": c.id, "X-IBM-Client-Secret": c.secret}
}

// gwReq is a call through the gateway.
type gwReq struct {
	method string // default GET
	path   string // /{org}/{env}/{basePath}{path}?{query}
	header map[string]string
	body   io.Reader
}

// gw sends r to the gateway and reads the whole answer.
func (s *server) gw(t *testing.T, r gwReq) reply {
	t.Helper()
	res, err := s.gwSend(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// gwSend is gw for any goroutine.
func (s *server) gwSend(ctx context.Context, r gwReq) (reply, error) {
	if r.method == "" {
		r.method = http.MethodGet
	}
	hr, err := http.NewRequestWithContext(ctx, r.method, s.GWURL+r.path, r.body)
	if err != nil {
		return reply{}, err
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := s.hc.Do(hr)
	if err != nil {
		return reply{}, fmt.Errorf("gateway %s %s: %w", r.method, r.path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, fmt.Errorf("gateway %s %s: read body: %w", r.method, r.path, err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: data}, nil
}

// call is a GET through the gateway as consumer c (nil: anonymous).
func (p *provider) call(t *testing.T, c *consumer, path string) reply {
	t.Helper()
	r := gwReq{path: path}
	if c != nil {
		r.header = c.creds()
	}
	return p.s.gw(t, r)
}

// wantGWError checks a gateway error: status and the exact V5 body (SPEC §8),
// httpCode a string.
func wantGWError(t *testing.T, r reply, status int, more string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("gateway answered %d %s, want %d %q", r.status, r.body, status, more)
	}
	want := fmt.Sprintf(`{"httpCode":"%d","httpMessage":%q,"moreInformation":%q}`, status, http.StatusText(status), more)
	if got := strings.TrimSpace(string(r.body)); got != want {
		t.Fatalf("gateway error body\n got %s\nwant %s", got, want)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("gateway error Content-Type %q", ct)
	}
	txID(t, r)
}

// txID returns the one X-Global-Transaction-ID of a gateway answer.
func txID(t *testing.T, r reply) string {
	t.Helper()
	ids := r.header.Values("X-Global-Transaction-ID")
	if len(ids) != 1 || ids[0] == "" {
		t.Fatalf("X-Global-Transaction-ID %q: want exactly one value", ids)
	}
	return ids[0]
}

// wantFrom checks that a gateway call was answered 2xx by backend b.
func wantFrom(t *testing.T, r reply, b *backend) {
	t.Helper()
	if r.status/100 != 2 || r.header.Get("X-Backend") != b.name {
		t.Fatalf("gateway answered %d from %q (%s), want 2xx from backend %s", r.status, r.header.Get("X-Backend"), r.body, b.name)
	}
}

// limitEntry is one "name=N,V;" entry of X-RateLimit-Limit or -Remaining.
type limitEntry struct {
	name string
	n    int64
}

var limitEntryRE = regexp.MustCompile(`^name=([A-Za-z0-9_.-]+),(-?\d+);$`)

// rateHeader parses an X-RateLimit header: space-separated "name=N,V;" entries.
func rateHeader(t *testing.T, h string) []limitEntry {
	t.Helper()
	if h == "" {
		return nil
	}
	var out []limitEntry
	for _, f := range strings.Fields(h) {
		m := limitEntryRE.FindStringSubmatch(f)
		if m == nil {
			t.Fatalf("rate-limit header %q: entry %q is not name=N,V;", h, f)
		}
		n, _ := strconv.ParseInt(m[2], 10, 64)
		out = append(out, limitEntry{m[1], n})
	}
	return out
}

// wantLimits checks the X-RateLimit headers hold exactly these entries (in
// any order): name → limit and name → remaining.
func wantLimits(t *testing.T, r reply, limit, remaining map[string]int64) {
	t.Helper()
	for _, h := range []struct {
		name string
		want map[string]int64
	}{{"X-RateLimit-Limit", limit}, {"X-RateLimit-Remaining", remaining}} {
		got := map[string]int64{}
		for _, e := range rateHeader(t, r.header.Get(h.name)) {
			if _, dup := got[e.name]; dup {
				t.Fatalf("%s %q names %s twice", h.name, r.header.Get(h.name), e.name)
			}
			got[e.name] = e.n
		}
		if fmt.Sprint(got) != fmt.Sprint(h.want) {
			t.Fatalf("%s: %q, want %v", h.name, r.header.Get(h.name), h.want)
		}
	}
}

// waitEvents waits until the catalog holds at least n events matching q and
// returns them. Events are written by a background batch writer (SPEC §8),
// and the gateway emits a call's event just after answering it, so the
// client may see the answer first: FlushEvents writes what was emitted,
// and the bounded loop covers an event emitted after the flush began. It is
// the one real-time wait besides the 504 case; it fails after 5 s.
func waitEvents(t *testing.T, p *provider, env string, q client.EventQuery, n int) []client.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := p.s.app.FlushEvents(t.Context()); err != nil {
			t.Fatal(err)
		}
		var all []client.Event
		for q := q; ; {
			page, err := p.admin.ListEvents(t.Context(), p.org, env, q)
			if err != nil {
				t.Fatalf("list events: %v", err)
			}
			all = append(all, page.Events...)
			if q.Cursor = page.Next; q.Cursor == "" {
				break
			}
		}
		if len(all) >= n {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events after 5 s, want %d: %s", len(all), n, jsonOf(all))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
