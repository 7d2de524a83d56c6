package httpapi_test

// Fuzz targets for every route that takes a body (SPEC §4, §12: bad input of
// any kind gets a clear 4xx and leaves the store unchanged; the process never
// panics). Each drives the real management handler in-process, wired as
// internal/app wires it, on a real SQLite store in a temporary directory, with
// the bootstrap Administrator's bearer token. One server is built per target
// per process (the fuzzing engine's workers each build their own), so an
// execution costs one request plus the checks.
//
// The invariants checked after every request:
//   - never a 5xx, never a panic, nothing logged at ERROR;
//   - every 4xx is the route family's error shape (IAM identity shape for /v1,
//     the IAM token shape for the token endpoints), with a code that maps to
//     the status and the request id as its trace;
//   - a 4xx leaves the store as it was (the change log has not moved), and a
//     201 wrote something (it has).
//
// Bodies and If-Match values may hold placeholders ($KEY_ID, $USER_IAM_ID,
// $ORG, $ETAG, …) that are replaced with the fixtures' ids before sending, so
// that seeds reach the success paths. The seed corpora are in
// testdata/fuzz/<target>/; they run as plain tests with every `go test`.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"gatehouse/client"
	"gatehouse/internal/analytics"
	"gatehouse/internal/apim"
	"gatehouse/internal/audit"
	"gatehouse/internal/errs"
	"gatehouse/internal/gateway"
	"gatehouse/internal/httpapi"
	"gatehouse/internal/iam"
	"gatehouse/internal/ratelimit"
	"gatehouse/internal/store"
	"gatehouse/internal/store/sqlite"
	"gatehouse/internal/token"
)

// slowRequest bounds one request. It is no benchmark: it is there to catch
// work that explodes with the input (YAML alias bombs, deep nesting), which
// must be refused fast whatever the machine's load.
const slowRequest = 10 * time.Second

// route is a request a fuzz target sends: path may hold placeholders; etag,
// when set, is where the current ETag of the target is read for $ETAG.
type route struct {
	method, path, etag string
}

// FuzzIAMBody fuzzes the JSON bodies of the IAM routes: API keys (create,
// update with If-Match, rotate, leak reports), users, service IDs, policies
// and signing-key rotation.
func FuzzIAMBody(f *testing.F) {
	routes := []route{
		{"POST", "/v1/apikeys", ""},
		{"PUT", "/v1/apikeys/$KEY_ID", "/v1/apikeys/$KEY_ID"},
		{"POST", "/v1/apikeys/leaked", ""},
		{"POST", "/v1/apikeys/$ROTATE_ID/rotate", ""},
		{"POST", "/v1/users", ""},
		{"PATCH", "/v1/users/$USER_ID", "/v1/users/$USER_ID"},
		{"POST", "/v1/serviceids", ""},
		{"PUT", "/v1/serviceids/$SID_ID", "/v1/serviceids/$SID_ID"},
		{"POST", "/v1/policies", ""},
		{"POST", "/v1/signing-keys/rotate", ""},
	}
	const js = "application/json"
	for _, s := range []struct {
		route       uint8
		ctype, etag string
		body        string
	}{
		{0, js, "", `{"name":"k1","description":"d","expires_at":"2099-01-01T00:00:00Z","role":"Reader","action_when_leaked":"delete"}`},
		{0, js, "", `{"name":"k2","iam_id":"$SID_IAM_ID","apikey":"migrated-key-0123456789-0123456789-0123456789"}`},
		{1, js, "$ETAG", `{"name":"renamed","description":"x","expires_at":null,"action_when_leaked":"none"}`},
		{1, js, "*", `{"expires_at":""}`},
		{1, js, "", `{"name":"needs-if-match"}`},
		{2, js, "", `{"apikeys":["$KEY_VALUE","gatehouse_notakey"]}`},
		{3, js, "", `{"grace":"24h"}`},
		{3, js, "", ``},
		{4, js, "", `{"username":"u1","name":"U One","email":"u1@example.com"}`},
		{5, js, "$ETAG", `{"name":"New","email":"new@example.com","disabled":false}`},
		{6, js, "", `{"name":"sid","description":"d","apikey":{"name":"first","role":"Writer"}}`},
		{7, js, "$ETAG", `{"name":"sid2","description":"changed"}`},
		{8, js, "", `{"subject":"$USER_IAM_ID","role":"Writer","resource":{"org":"$ORG"}}`},
		{8, js, "", `{"subject":"$SID_IAM_ID","role":"Reader"}`},
		{9, js, "", `{"immediate":false}`},
		{0, "text/plain", "", `{"name":"k"}`},
		{0, js, "", `{"name":1}`},
		{0, js, "", `{"name":"a","nope":true}`},
		{0, js, "", `{"name":"a"} {"name":"b"}`},
		{0, js, "", `[` + strings.Repeat(`[`, 5000)},
		{0, js, "", "{\"name\":\"\x00\xff\"}"},
	} {
		f.Add(s.route, s.ctype, s.etag, []byte(s.body))
	}
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, ri uint8, ctype, etag string, body []byte) {
		rt := routes[int(ri)%len(routes)]
		res := h.send(t, rt, ctype, etag, body, "/v1")
		if res != nil && rt.path == "/v1/apikeys/$ROTATE_ID/rotate" && res.Code == http.StatusCreated {
			h.replaceRotateTarget(t) // the next rotation starts from a fresh key
		}
	})
}

// FuzzAPIMBody fuzzes the JSON bodies of the API Manager routes other than
// documents: orgs, catalogs, publishing and lifecycle, consumer orgs, apps,
// credentials and subscriptions.
func FuzzAPIMBody(f *testing.F) {
	const env = "/v1/orgs/$ORG/environments/sb"
	routes := []route{
		{"POST", "/v1/orgs", ""},
		{"PUT", "/v1/orgs/$ORG", "/v1/orgs/$ORG"},
		{"POST", "/v1/orgs/$ORG/environments", ""},
		{"POST", env + "/products", ""},
		{"PATCH", env + "/products/$PUBLISHED", ""},
		{"POST", env + "/consumerOrgs", ""},
		{"POST", env + "/consumerOrgs/$CORG/apps", ""},
		{"POST", env + "/consumerOrgs/$CORG/apps/$APP/credentials", ""},
		{"POST", env + "/consumerOrgs/$CORG/apps/$APP/subscriptions", ""},
	}
	const js = "application/json"
	for _, s := range []struct {
		route       uint8
		ctype, etag string
		body        string
	}{
		{0, js, "", `{"name":"acme","title":"Acme"}`},
		{0, js, "", `{"name":"Not A Slug","title":""}`},
		{1, js, "$ETAG", `{"title":"Renamed"}`},
		{1, js, "", `{"title":"no if-match"}`},
		{2, js, "", `{"name":"prod","title":"Production"}`},
		{3, js, "", `{"product":"weather-product:1.0.0"}`},
		{3, js, "", `{"product":"weather-product"}`},
		{3, js, "", `{"product":"nope:1.0.0"}`},
		{4, js, "", `{"state":"deprecated"}`},
		{4, js, "", `{"state":"published"}`},
		{5, js, "", `{"name":"corg2","title":"Consumer Two"}`},
		{6, js, "", `{"name":"app2","description":"an app"}`},
		{7, js, "", ``},
		{7, js, "", `{}`},
		{8, js, "", `{"product":"weather-product:1.0.0","plan":"default"}`},
		{8, js, "", `{"product":"weather-product:1.0.0","plan":"gold"}`},
		{8, js, "", `{"product":"weather-product:1.0.0","plan":"nope"}`},
		{0, js, "", `{"name":"x","title":"` + strings.Repeat("t", 5000) + `"}`},
		{5, js, "", `{"name":"../x","title":"t"}`},
	} {
		f.Add(s.route, s.ctype, s.etag, []byte(s.body))
	}
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, ri uint8, ctype, etag string, body []byte) {
		h.send(t, routes[int(ri)%len(routes)], ctype, etag, body, "/v1")
	})
}

// FuzzAPIMDocument fuzzes API and product documents, JSON and YAML, on create
// and on replace with If-Match.
func FuzzAPIMDocument(f *testing.F) {
	routes := []route{
		{"POST", "/v1/orgs/$ORG/apis", ""},
		{"PUT", "/v1/orgs/$ORG/apis/$API", "/v1/orgs/$ORG/apis/$API"},
		{"POST", "/v1/orgs/$ORG/products", ""},
		{"PUT", "/v1/orgs/$ORG/products/$PRODUCT_DRAFT", "/v1/orgs/$ORG/products/$PRODUCT_DRAFT"},
	}
	const yml, js = "application/yaml", "application/json"
	product9 := draftProduct(readTestdata(f, "weather-product.yaml"))
	for _, s := range []struct {
		route       uint8
		ctype, etag string
		doc         []byte
	}{
		{0, yml, "", bytes.Replace(readTestdata(f, "petstore-oas3.yaml"), []byte("version: 2.1.0"), []byte("version: 3.0.0"), 1)},
		{0, js, "", readTestdata(f, "status-public-oas3.json")},
		{0, yml, "", readTestdata(f, "weather-oas2.yaml")}, // exists: 409
		{1, yml, "$ETAG", readTestdata(f, "petstore-oas3.yaml")},
		{1, yml, "", readTestdata(f, "petstore-oas3.yaml")}, // no If-Match: 428
		{2, yml, "", bytes.Replace(product9, []byte("version: 9.0.0"), []byte("version: 9.1.0"), 1)},
		{3, yml, "$ETAG", product9},
		{3, js, "*", []byte(`{"product":"1.0.0","info":{"name":"weather-product","title":"W","version":"9.0.0"},"apis":{"w":{"name":"weather:1.0.0"}},"plans":{"default":{"title":"D","rate-limit":{"value":"10/1minute","hard-limit":true}}}}`)},
	} {
		f.Add(s.route, s.ctype, s.etag, s.doc)
	}
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, ri uint8, ctype, etag string, body []byte) {
		h.send(t, routes[int(ri)%len(routes)], ctype, etag, body, "/v1")
	})
}

// FuzzTokenForm fuzzes the form bodies (and query) of both token endpoints.
func FuzzTokenForm(f *testing.F) {
	routes := []route{{"POST", "/apikey", ""}, {"POST", "/identity/token", ""}}
	const form = "application/x-www-form-urlencoded"
	for _, s := range []struct {
		route        uint8
		ctype, query string
		body         string
	}{
		{0, form, "", "apikey=$KEY_VALUE"},
		{0, "", "apikey=$KEY_VALUE", ""},
		{0, form, "", "apikey=$KEY_VALUE&role=Reader&expires_in=60"},
		{1, form, "", "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=$KEY_VALUE&response_type=cloud_iam"},
		{1, form, "", "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=$KEY_VALUE&role=Administrator"},
		{1, form, "", "grant_type=password&username=fz-user&password=wrong-password-1"},
		{1, form, "", "grant_type=nope&apikey=x"},
		{1, form, "", "apikey=%zz"},
		{1, "multipart/form-data; boundary=x", "", "--x\r\n\r\n--x--"},
		{0, form, "", "apikey=" + strings.Repeat("a", 70000)},
	} {
		f.Add(s.route, s.ctype, s.query, []byte(s.body))
	}
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, ri uint8, ctype, query string, body []byte) {
		rt := routes[int(ri)%len(routes)]
		if query != "" {
			rt.path += "?" + query
		}
		h.send(t, rt, ctype, "", body, "token")
	})
}

// harness is one in-process management server and its fixtures.
type harness struct {
	handler http.Handler
	store   store.Store
	bearer  string
	logs    *logBuffer
	vars    map[string]string // placeholder → value
	syncErr error             // the gateway could not route a change
	mu      sync.Mutex
}

func newHarness(f *testing.F) *harness {
	f.Helper()
	ctx := context.Background()
	dir := f.TempDir()
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := sqlite.Open(ctx, filepath.Join(dir, "gatehouse.db"), sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	keyFile := filepath.Join(dir, "admin-apikey.json")
	if _, err := iam.Bootstrap(ctx, st, iam.BootstrapOptions{File: keyFile}); err != nil {
		f.Fatal(err)
	}
	mk := bytes.Repeat([]byte{7}, 32)
	sealer, err := token.NewSealer(mk)
	if err != nil {
		f.Fatal(err)
	}
	const issuer = "http://gatehouse.fuzz"
	kr, err := token.NewKeyring(ctx, token.Config{Store: st, Sealer: sealer, Algorithm: token.ES256, Issuer: issuer, Logger: log})
	if err != nil {
		f.Fatal(err)
	}
	ids, err := iam.New(ctx, iam.Config{Store: st, Tokens: kr, Issuer: issuer, TokenTTL: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	h := &harness{store: st, logs: logs, vars: map[string]string{}}
	events := analytics.NewWriter(st, log)
	f.Cleanup(events.Close)
	accountID := ids.AccountID()
	gw := gateway.New(gateway.Config{
		State:     func(ctx context.Context) (store.GatewayState, error) { return st.GatewayState(ctx, accountID) },
		AccountID: accountID, Limiter: ratelimit.NewMemory(time.Now), Events: events, Logger: log,
	})
	if err := gw.Load(ctx); err != nil {
		f.Fatal(err)
	}
	gwCtx, stopGW := context.WithCancel(ctx)
	gwDone := make(chan struct{})
	go func() { defer close(gwDone); gw.Run(gwCtx) }()
	f.Cleanup(func() { stopGW(); <-gwDone })
	am := apim.New(apim.Config{
		Store: st, AccountID: accountID, PoliciesChanged: ids.InvalidateAll,
		GatewayChanged: func(ctx context.Context) {
			// The service gives the gateway two seconds; a loaded machine may
			// need more, and what is checked here is that the rebuild works.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if err := gw.Sync(ctx); err != nil {
				h.mu.Lock()
				h.syncErr = err
				h.mu.Unlock()
			}
		},
	})
	al := audit.New(st, time.Now, log)
	f.Cleanup(al.Close)
	reg := prometheus.NewRegistry()
	srv := httpapi.New(httpapi.Config{
		IAM: ids, APIM: am, Audit: al, AuditStore: st,
		// High enough that fuzzed failures never lock the harness out.
		Throttle: iam.NewThrottle(1<<30, time.Minute, time.Now),
		Events:   st, Keyring: kr, Ready: st.Ping, Issuer: issuer, Logger: log,
		Metrics: httpapi.NewMetrics(reg), Gatherer: reg,
	})
	h.handler = srv.Handler()

	kf, err := client.ReadKeyFile(keyFile)
	if err != nil {
		f.Fatal(err)
	}
	tok, err := ids.Exchange(ctx, iam.ExchangeRequest{APIKey: kf.APIKey})
	if err != nil {
		f.Fatal(err)
	}
	h.bearer = tok.Token
	h.fixtures(f)
	return h
}

// fixtures creates what the placeholders name, through the API itself.
func (h *harness) fixtures(f *testing.F) {
	f.Helper()
	var key struct{ ID, APIKey string }
	h.mustJSON(f, "POST", "/v1/apikeys", `{"name":"fixture"}`, &key)
	h.vars["$KEY_ID"], h.vars["$KEY_VALUE"] = key.ID, key.APIKey
	h.replaceRotateTarget(f)
	var user struct {
		ID    string
		IAMID string `json:"iam_id"`
	}
	h.mustJSON(f, "POST", "/v1/users", `{"username":"fz-user","name":"Fuzz User","email":"fz@example.com","password":"correct-horse-battery"}`, &user)
	h.vars["$USER_ID"], h.vars["$USER_IAM_ID"] = user.ID, user.IAMID
	var sid struct {
		ID    string
		IAMID string `json:"iam_id"`
	}
	h.mustJSON(f, "POST", "/v1/serviceids", `{"name":"fz-sid"}`, &sid)
	h.vars["$SID_ID"], h.vars["$SID_IAM_ID"] = sid.ID, sid.IAMID
	var org struct{ ID string }
	h.mustJSON(f, "POST", "/v1/orgs", `{"name":"fz","title":"Fuzz"}`, &org)
	h.vars["$ORG"] = org.ID
	var api struct{ ID string }
	for _, file := range []string{"weather-oas2.yaml", "petstore-oas3.yaml"} {
		h.mustDoc(f, "/v1/orgs/fz/apis", "application/yaml", readTestdata(f, file), &api)
	}
	h.vars["$API"] = api.ID // the pet store: no product depends on its identity changing
	var product struct{ ID string }
	h.mustDoc(f, "/v1/orgs/fz/products", "application/yaml", readTestdata(f, "weather-product.yaml"), &product)
	h.vars["$PUBLISHED"] = "weather-product:1.0.0"
	h.mustJSON(f, "POST", "/v1/orgs/fz/environments/sb/products", `{"product":"weather-product:1.0.0"}`, nil)
	// A second draft for the replace route, so that replacing it never
	// breaks the published one's references.
	h.mustDoc(f, "/v1/orgs/fz/products", "application/yaml", draftProduct(readTestdata(f, "weather-product.yaml")), &product)
	h.vars["$PRODUCT_DRAFT"] = product.ID
	var corg struct{ ID string }
	h.mustJSON(f, "POST", "/v1/orgs/fz/environments/sb/consumerOrgs", `{"name":"fzc","title":"Consumers"}`, &corg)
	h.vars["$CORG"] = corg.ID
	var app struct{ ID string }
	h.mustJSON(f, "POST", "/v1/orgs/fz/environments/sb/consumerOrgs/fzc/apps", `{"name":"fzapp"}`, &app)
	h.vars["$APP"] = app.ID
}

// replaceRotateTarget creates the key that the rotate route rotates next.
func (h *harness) replaceRotateTarget(tb testing.TB) {
	tb.Helper()
	var key struct{ ID string }
	h.mustJSON(tb, "POST", "/v1/apikeys", `{"name":"rotate-me"}`, &key)
	h.vars["$ROTATE_ID"] = key.ID
}

func (h *harness) mustJSON(tb testing.TB, method, path, body string, out any) {
	tb.Helper()
	h.mustDo(tb, method, path, "application/json", []byte(body), out)
}

func (h *harness) mustDoc(tb testing.TB, path, ctype string, doc []byte, out any) {
	tb.Helper()
	h.mustDo(tb, "POST", path, ctype, doc, out)
}

func (h *harness) mustDo(tb testing.TB, method, path, ctype string, body []byte, out any) {
	tb.Helper()
	res := h.do(method, path, ctype, "", body)
	if res.Code/100 != 2 {
		tb.Fatalf("fixture %s %s: %d %s", method, path, res.Code, res.Body)
	}
	if out != nil {
		if err := json.Unmarshal(res.Body.Bytes(), out); err != nil {
			tb.Fatalf("fixture %s %s: %v", method, path, err)
		}
	}
}

func (h *harness) expand(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	// Longest first, so that $PRODUCT_DRAFT is not read as $PRODUCT.
	keys := slices.SortedFunc(maps.Keys(h.vars), func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, k, h.vars[k])
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

func (h *harness) do(method, path, ctype, ifMatch string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.RemoteAddr = "192.0.2.1:40000"
	req.Header.Set("Authorization", "Bearer "+h.bearer)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	res := httptest.NewRecorder()
	h.handler.ServeHTTP(res, req)
	return res
}

// send sends one fuzzed request and checks the invariants; family is "/v1"
// or "token" (the error shape to expect). It returns nil, sending nothing,
// for a request no client could send.
func (h *harness) send(t *testing.T, rt route, ctype, etag string, body []byte, family string) *httptest.ResponseRecorder {
	t.Helper()
	// Header values net/http would never deliver are not the handler's concern.
	if !validHeaderValue(ctype) || !validHeaderValue(etag) {
		return nil
	}
	path := h.expand(rt.path)
	if _, err := url.ParseRequestURI(path); err != nil || strings.ContainsAny(path, " \t#") {
		return nil // not a request line a client can send
	}
	if etag == "$ETAG" && rt.etag != "" {
		got := h.do("GET", h.expand(rt.etag), "", "", nil)
		etag = got.Header().Get("ETag")
	}
	body = []byte(h.expand(string(body)))

	ctx := context.Background()
	before, err := h.store.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.logs.Reset()
	start := time.Now()
	res := h.do(rt.method, path, ctype, etag, body)
	if d := time.Since(start); d > slowRequest {
		t.Errorf("%s %s took %v (input-driven blow-up?)", rt.method, rt.path, d)
	}
	after, err := h.store.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	where := fmt.Sprintf("%s %s (Content-Type %q, If-Match %q, %d-byte body)", rt.method, rt.path, ctype, etag, len(body))

	if res.Code >= 500 {
		t.Fatalf("%s: %d\n%s\nlog:\n%s", where, res.Code, res.Body, h.logs.String())
	}
	if l := h.logs.String(); strings.Contains(l, `"level":"ERROR"`) || strings.Contains(l, "panic") || strings.Contains(l, "keeping the previous routing snapshot") {
		t.Fatalf("%s: %d, and the server logged:\n%s", where, res.Code, l)
	}
	h.mu.Lock()
	syncErr := h.syncErr
	h.syncErr = nil
	h.mu.Unlock()
	if syncErr != nil {
		t.Fatalf("%s: %d, and the gateway cannot route the result: %v", where, res.Code, syncErr)
	}
	switch {
	case res.Code >= 400:
		if family == "token" {
			checkTokenError(t, where, res)
		} else {
			checkIAMError(t, where, res)
		}
		if after != before {
			t.Fatalf("%s: %d, yet the store changed (change log %d → %d)\n%s", where, res.Code, before, after, res.Body)
		}
	case res.Code == http.StatusCreated:
		if after == before {
			t.Fatalf("%s: 201, yet nothing was written\n%s", where, res.Body)
		}
		fallthrough
	default:
		if ct := res.Header().Get("Content-Type"); res.Code != http.StatusNoContent && !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("%s: %d with Content-Type %q", where, res.Code, ct)
		}
		if res.Code != http.StatusNoContent && !json.Valid(res.Body.Bytes()) {
			t.Fatalf("%s: %d with a body that is not JSON:\n%s", where, res.Code, res.Body)
		}
		if family == "token" && after != before {
			t.Fatalf("%s: a token exchange changed the store (change log %d → %d)", where, before, after)
		}
	}
	return res
}

// checkIAMError checks the management API's error shape (SPEC §4).
func checkIAMError(t *testing.T, where string, res *httptest.ResponseRecorder) {
	t.Helper()
	var e struct {
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
	dec := json.NewDecoder(bytes.NewReader(res.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("%s: %d body is not the IAM error shape (%v):\n%s", where, res.Code, err, res.Body)
	}
	if e.StatusCode != res.Code || e.Trace == "" || e.Trace != res.Header().Get("X-Request-Id") || len(e.Errors) == 0 {
		t.Fatalf("%s: %d error body %s (X-Request-Id %q)", where, res.Code, res.Body, res.Header().Get("X-Request-Id"))
	}
	for _, it := range e.Errors {
		if it.Code == "" || strings.TrimSpace(it.Message) == "" || errs.Status(errs.Code(it.Code)) != res.Code {
			t.Fatalf("%s: %d error item %+v: want a code of that status and a message", where, res.Code, it)
		}
		if !utf8.ValidString(it.Message) {
			t.Fatalf("%s: message is not valid UTF-8: %q", where, it.Message)
		}
		// A JSON pointer may be "" (the whole document); a field has a name.
		if it.Target != nil && (it.Target.Type == "" || it.Target.Name == "" && it.Target.Type != "pointer") {
			t.Fatalf("%s: error item with an empty target: %s", where, res.Body)
		}
	}
}

// checkTokenError checks the token service's error shape (SPEC §3.3).
func checkTokenError(t *testing.T, where string, res *httptest.ResponseRecorder) {
	t.Helper()
	var e struct {
		ErrorCode    string `json:"errorCode"`
		ErrorMessage string `json:"errorMessage"`
		Context      struct {
			RequestID   string `json:"requestId"`
			RequestType string `json:"requestType"`
		} `json:"context"`
	}
	dec := json.NewDecoder(bytes.NewReader(res.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("%s: %d body is not the IAM token error shape (%v):\n%s", where, res.Code, err, res.Body)
	}
	if !strings.HasPrefix(e.ErrorCode, "BXNIM") || e.ErrorMessage == "" || e.Context.RequestID == "" || e.Context.RequestType == "" {
		t.Fatalf("%s: %d token error %s", where, res.Code, res.Body)
	}
}

// validHeaderValue reports whether net/http could carry v as a header value.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// draftProduct is the example product as version 9.0.0.
func draftProduct(doc []byte) []byte {
	return bytes.Replace(doc, []byte("  version: 1.0.0"), []byte("  version: 9.0.0"), 1)
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// logBuffer is the harness's log, safe for the server's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Reset()
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
