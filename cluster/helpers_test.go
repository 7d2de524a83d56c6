//go:build unix

package cluster_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/client"
)

// --- measuring propagation ------------------------------------------------------

// Propagation bounds. maxDelay IS the property under test (SPEC §2.3, §8,
// §10): a change made on one node holds on every node within a second.
// A probe keeps looking until giveUp after the change, so that a late
// propagation is reported with its real delay rather than as a timeout.
const (
	maxDelay  = time.Second
	giveUp    = 5 * time.Second
	pollEvery = 5 * time.Millisecond // the resolution of the measurements
)

// measurements collects every measured delay by kind for the summary that
// TestMain prints.
var measurements = struct {
	sync.Mutex
	m map[string][]time.Duration
}{m: map[string][]time.Duration{}}

func record(kind string, d time.Duration) {
	measurements.Lock()
	defer measurements.Unlock()
	measurements.m[kind] = append(measurements.m[kind], d)
}

// summary is "n=…, median …, max …" of ds.
func summary(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return "n=0"
	}
	return fmt.Sprintf("n=%d median %v max %v", len(s), s[len(s)/2].Round(time.Millisecond/10), s[len(s)-1].Round(time.Millisecond/10))
}

func printMeasurements() {
	measurements.Lock()
	defer measurements.Unlock()
	if len(measurements.m) == 0 {
		return
	}
	fmt.Println("cluster: measured cross-node delays (from the write's answer to the first observation on the other node):")
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range measurements.m {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Printf("  %-34s %s\n", k, summary(measurements.m[k]))
	}
}

// probe is an observation on one node, repeated until it holds. holds
// reports whether it does and what it saw (for the failure message).
type probe struct {
	node  string
	holds func(ctx context.Context) (bool, string)
}

// propagation polls every probe concurrently from since (the moment the
// change was answered) until it holds, records each delay under kind and
// fails the test for each one over maxDelay. It returns the delays.
func propagation(t *testing.T, kind string, since time.Time, probes ...probe) []time.Duration {
	t.Helper()
	delays := make([]time.Duration, len(probes))
	seen := make([]string, len(probes))
	ok := make([]bool, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() {
			ctx, cancel := context.WithDeadline(context.Background(), since.Add(giveUp))
			defer cancel()
			for ctx.Err() == nil {
				holds, what := p.holds(ctx)
				if holds {
					delays[i], ok[i] = time.Since(since), true
					return
				}
				seen[i] = what
				select {
				case <-ctx.Done():
				case <-time.After(pollEvery):
				}
			}
		})
	}
	wg.Wait()
	for i, p := range probes {
		switch {
		case !ok[i]:
			t.Errorf("%s: not on node %s %v after the change (last seen: %s); want within %v", kind, p.node, giveUp, seen[i], maxDelay)
		case delays[i] > maxDelay:
			record(kind, delays[i])
			t.Errorf("%s: on node %s after %v, want within %v", kind, p.node, delays[i].Round(time.Millisecond), maxDelay)
		default:
			record(kind, delays[i])
		}
	}
	return delays
}

// --- HTTP ----------------------------------------------------------------------

// reply is a whole HTTP answer and how long it took.
type reply struct {
	status int
	header http.Header
	body   []byte
	took   time.Duration
}

// send makes one request with the bounded client.
func send(ctx context.Context, method, url string, header map[string]string, body io.Reader) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return reply{}, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	res, err := httpClient.Do(req)
	if err != nil {
		return reply{took: time.Since(start)}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: data, took: time.Since(start)}, err
}

// status is send's status code, or a description of the transport error.
func status(ctx context.Context, method, url string, header map[string]string) (int, string) {
	r, err := send(ctx, method, url, header, nil)
	if err != nil {
		return 0, err.Error()
	}
	return r.status, fmt.Sprintf("%d %s", r.status, strings.TrimSpace(string(r.body)))
}

// meStatus is the status of GET /v1/me with token on n.
func meStatus(ctx context.Context, n *node, token string) (int, string) {
	return status(ctx, "GET", n.mgmtURL()+"/v1/me", map[string]string{"Authorization": "Bearer " + token})
}

// refusedOn is a probe that holds once n answers token with 401.
func refusedOn(n *node, token string) probe {
	return probe{node: n.name, holds: func(ctx context.Context) (bool, string) {
		code, what := meStatus(ctx, n, token)
		return code == http.StatusUnauthorized, what
	}}
}

// gwCall calls path through n's gateway with a client id.
func gwCall(ctx context.Context, n *node, path, clientID string) (reply, error) {
	h := map[string]string{}
	if clientID != "" {
		h["X-IBM-Client-Id"] = clientID
	}
	return send(ctx, "GET", n.gwURL()+path, h, nil)
}

// gwProbe holds once n's gateway answers path for clientID with a status
// that want accepts.
func gwProbe(n *node, path, clientID string, want func(int) bool) probe {
	return probe{node: n.name, holds: func(ctx context.Context) (bool, string) {
		r, err := gwCall(ctx, n, path, clientID)
		if err != nil {
			return false, err.Error()
		}
		return want(r.status), fmt.Sprintf("%d %s", r.status, strings.TrimSpace(string(r.body)))
	}}
}

// --- keys and tokens ---------------------------------------------------------

// bootstrapFile is where a node's bootstrap writes the admin key.
func bootstrapFile(n *node) string { return filepath.Join(n.data, "admin-apikey.json") }

// adminKey reads the admin key file of whichever node bootstrapped; it
// fails the test unless exactly one did.
func adminKey(t *testing.T, nodes ...*node) client.KeyFile {
	t.Helper()
	var found []client.KeyFile
	for _, n := range nodes {
		if _, err := os.Stat(bootstrapFile(n)); err != nil {
			continue
		}
		kf, err := client.ReadKeyFile(bootstrapFile(n))
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, kf)
	}
	if len(found) != 1 {
		t.Fatalf("%d nodes wrote admin-apikey.json, want exactly one", len(found))
	}
	return found[0]
}

// token exchanges key on n and returns the access token.
func token(t *testing.T, n *node, key string) string {
	t.Helper()
	tok, err := n.client().IAMToken(context.Background(), key, client.TokenOptions{})
	if err != nil {
		t.Fatalf("exchange a key on node %s: %v", n.name, err)
	}
	return tok.AccessToken
}

// as is n's management API with token.
func as(n *node, token string) *client.Client { return n.client().WithToken(token) }

func mustCreateKey(t *testing.T, c *client.Client, name string) *client.APIKey {
	t.Helper()
	k, err := c.CreateAPIKey(context.Background(), client.CreateAPIKey{Name: name, Description: "cluster test"})
	if err != nil {
		t.Fatalf("create key %s: %v", name, err)
	}
	if k.APIKey == "" || k.Name != name {
		t.Fatalf("create key %s answered %+v", name, k)
	}
	return k
}

// mustMe wants GET /v1/me with token on n to name the key keyID.
func mustMe(t *testing.T, n *node, token, keyID string) {
	t.Helper()
	me, err := as(n, token).Me(context.Background())
	if err != nil {
		t.Errorf("GET /v1/me on node %s: %v", n.name, err)
		return
	}
	if me.APIKey.ID != keyID {
		t.Errorf("GET /v1/me on node %s names key %q, want %q", n.name, me.APIKey.ID, keyID)
	}
}

// listAll lists every key of the account through c, all pages.
func listAll(t *testing.T, c *client.Client) []client.APIKey {
	t.Helper()
	var all []client.APIKey
	opts := client.ListAPIKeysOptions{Scope: "account", PageSize: 100}
	for range 1000 {
		page, err := c.ListAPIKeys(context.Background(), opts)
		if err != nil {
			t.Fatalf("list keys: %v", err)
		}
		all = append(all, page.APIKeys...)
		if opts.PageToken = page.NextPageToken(); opts.PageToken == "" {
			return all
		}
	}
	t.Fatal("the key listing does not end")
	return nil
}

// kidOf is the kid in a JWT's header.
func kidOf(t *testing.T, jwt string) string {
	t.Helper()
	head, _, _ := strings.Cut(jwt, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	var h struct {
		KID string `json:"kid"`
	}
	if err != nil || json.Unmarshal(raw, &h) != nil || h.KID == "" {
		t.Fatalf("token header %q has no kid", head)
	}
	return h.KID
}

// jwksKIDs are the kids n's JWKS lists.
func jwksKIDs(ctx context.Context, n *node) ([]string, error) {
	raw, err := n.client().JWKS(ctx)
	if err != nil {
		return nil, err
	}
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, err
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	return kids, nil
}

// --- API Manager ----------------------------------------------------------------

// backend is an API's backend: it answers every call 200 with the path.
type backend struct {
	*httptest.Server
	hits atomic.Int64
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	b := &backend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"path\":%q}\n", r.URL.Path)
	}))
	t.Cleanup(b.Close)
	return b
}

// echoAPI is an OpenAPI 3 document of echo:1.0.0 at /echo with one
// operation, GET /hello, that needs a client id in X-IBM-Client-Id.
func echoAPI(target string) []byte {
	return fmt.Appendf(nil, `openapi: 3.0.3
info: {title: Echo, version: 1.0.0, x-ibm-name: echo}
servers: [{url: /echo}]
components:
  securitySchemes:
    clientId: {type: apiKey, in: header, name: X-IBM-Client-Id}
security: [{clientId: []}]
x-ibm-configuration:
  properties:
    target-url: {value: '%s'}
paths:
  /hello:
    get:
      responses: {'200': {description: hello}}
`, target)
}

// productDoc is product name:1.0.0 of echo:1.0.0 whose default plan has
// the hard limit given (e.g. "30/1week").
func productDoc(name, limit string) []byte {
	return fmt.Appendf(nil, `product: 1.0.0
info: {name: %[1]s, title: %[1]s, version: 1.0.0}
apis:
  echo: {name: 'echo:1.0.0'}
plans:
  default:
    title: Default
    approval: false
    rate-limit: {value: '%[2]s', hard-limit: true}
`, name, limit)
}

// provider is a provider org with echo:1.0.0 imported and a consumer org in
// its Sandbox catalog, all made through one node.
type provider struct {
	c    *client.Client
	org  string
	corg string
}

// catalog is the catalog every test publishes to (created with the org).
const catalog = "sb"

// echoPath is the gateway path of GET /hello of the echo API.
func (p *provider) echoPath() string { return "/" + p.org + "/" + catalog + "/echo/hello" }

func newProvider(t *testing.T, c *client.Client, org, target string) *provider {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateOrg(ctx, org, "Cluster test "+org); err != nil {
		t.Fatalf("create org %s: %v", org, err)
	}
	if _, err := c.ImportAPI(ctx, org, echoAPI(target), client.ContentTypeYAML); err != nil {
		t.Fatalf("import echo: %v", err)
	}
	if _, err := c.CreateConsumerOrg(ctx, org, catalog, "consumers", "Consumers"); err != nil {
		t.Fatalf("create consumer org: %v", err)
	}
	return &provider{c: c, org: org, corg: "consumers"}
}

// product creates the draft product name:1.0.0 with the limit given and
// returns its reference.
func (p *provider) product(t *testing.T, name, limit string) string {
	t.Helper()
	if _, err := p.c.CreateProduct(context.Background(), p.org, productDoc(name, limit), client.ContentTypeYAML); err != nil {
		t.Fatalf("create product %s: %v", name, err)
	}
	return name + ":1.0.0"
}

// publish publishes product and returns the moment the 201 arrived.
func (p *provider) publish(t *testing.T, product string) time.Time {
	t.Helper()
	pub, err := p.c.Publish(context.Background(), p.org, catalog, product)
	at := time.Now()
	if err != nil {
		t.Fatalf("publish %s: %v", product, err)
	}
	if pub.State != client.StatePublished {
		t.Fatalf("publish %s: state %q", product, pub.State)
	}
	return at
}

// retire retires product and returns the moment the answer arrived.
func (p *provider) retire(t *testing.T, product string) time.Time {
	t.Helper()
	pub, err := p.c.SetPublicationState(context.Background(), p.org, catalog, product, client.StateRetired)
	at := time.Now()
	if err != nil {
		t.Fatalf("retire %s: %v", product, err)
	}
	if pub.State != client.StateRetired {
		t.Fatalf("retire %s: state %q", product, pub.State)
	}
	return at
}

// app creates an app and returns its reference and client id.
func (p *provider) app(t *testing.T, name string) (client.AppRef, string) {
	t.Helper()
	a, err := p.c.CreateApp(context.Background(), p.org, catalog, p.corg, name, "cluster test")
	if err != nil {
		t.Fatalf("create app %s: %v", name, err)
	}
	if a.Credentials == nil || a.Credentials.ClientID == "" {
		t.Fatalf("create app %s: no credentials in %+v", name, a)
	}
	return client.AppRef{Org: p.org, Env: catalog, ConsumerOrg: p.corg, App: a.Name}, a.Credentials.ClientID
}

// subscribe subscribes app to the default plan of product and returns the
// moment the 201 arrived.
func (p *provider) subscribe(t *testing.T, app client.AppRef, product string) time.Time {
	t.Helper()
	sub, err := p.c.Subscribe(context.Background(), app, product, "default")
	at := time.Now()
	if err != nil {
		t.Fatalf("subscribe %s to %s: %v", app.App, product, err)
	}
	if sub.State != client.SubscriptionActive {
		t.Fatalf("subscribe %s to %s: state %q", app.App, product, sub.State)
	}
	return at
}

// remaining parses "name=default,N;" of X-RateLimit-Remaining.
func remaining(h http.Header) (int, bool) {
	v := h.Get("X-RateLimit-Remaining")
	rest, ok := strings.CutPrefix(v, "name=default,")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(rest, ";"))
	return n, err == nil
}

// is returns a status predicate.
func is(code int) func(int) bool { return func(s int) bool { return s == code } }
