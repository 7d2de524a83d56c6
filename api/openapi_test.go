package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"gatehouse/api"
	"gatehouse/internal/app"
	"gatehouse/internal/config"
	"gatehouse/internal/httpapi"
)

// load parses and validates the contract as the server embeds it.
func load(t *testing.T, src []byte) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(src)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	// Validate switches to OpenAPI 3.1 rules (JSON Schema 2020-12) when the
	// document says 3.1, which is why the version is checked first.
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %q: the contract is OpenAPI 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableMultiError()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return doc
}

func TestDocumentIsValidOpenAPI31(t *testing.T) {
	load(t, api.YAML())
	js, err := api.JSON()
	if err != nil {
		t.Fatal(err)
	}
	load(t, js) // the JSON served at /openapi.json is the same valid document
}

// operation is one method of one documented path.
type operation struct {
	method, path string
	op           *openapi3.Operation
}

func operations(doc *openapi3.T) []operation {
	var out []operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			out = append(out, operation{method, path, op})
		}
	}
	slices.SortFunc(out, func(a, b operation) int { return strings.Compare(a.path+" "+a.method, b.path+" "+b.method) })
	return out
}

// TestDocumentMatchesRoutes holds the contract to the routes: every /v1 route
// of the table and every public route is documented with its method and
// path, and every documented operation is a real route.
func TestDocumentMatchesRoutes(t *testing.T) {
	doc := load(t, api.YAML())
	routes := map[string]bool{} // "METHOD /path"
	for _, rt := range httpapi.Table() {
		routes[rt.Pattern] = true
	}
	for _, rt := range httpapi.Public() {
		routes[rt.Pattern] = true
	}
	documented := map[string]bool{}
	for _, o := range operations(doc) {
		documented[o.method+" "+o.path] = true
	}
	for r := range routes {
		if !documented[r] {
			t.Errorf("route %s is not in api/openapi.yaml", r)
		}
	}
	for d := range documented {
		if !routes[d] {
			t.Errorf("api/openapi.yaml documents %s, which is no route", d)
		}
	}
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// TestDocumentConventions checks what every operation of a family must say,
// derived from the route table where it can be, so that a new route cannot
// be documented without its errors.
func TestDocumentConventions(t *testing.T) {
	doc := load(t, api.YAML())
	rules := map[string]httpapi.Rule{}
	for _, rt := range httpapi.Table() {
		rules[rt.Pattern] = rt.Rule
	}
	for _, o := range operations(doc) {
		name := o.method + " " + o.path
		has := func(status string) bool { return o.op.Responses.Value(status) != nil }
		want := func(why string, statuses ...string) {
			t.Helper()
			for _, s := range statuses {
				if !has(s) {
					t.Errorf("%s: no %s response (%s)", name, s, why)
				}
			}
		}
		for status, rr := range o.op.Responses.Map() {
			if rr.Value.Headers["X-Request-Id"] == nil {
				t.Errorf("%s %s: no X-Request-Id header (every response has one)", name, status)
			}
		}
		if !strings.HasPrefix(o.path, "/v1/") {
			if o.op.Security == nil || len(*o.op.Security) != 0 {
				t.Errorf("%s: a public route must override the global security with security: []", name)
			}
			continue
		}
		if o.op.Security != nil {
			t.Errorf("%s: /v1 routes use the global bearer security", name)
		}
		want("every /v1 call", "401", "500", "503")
		if h := o.op.Responses.Value("401").Value.Headers["WWW-Authenticate"]; h == nil || !h.Value.Required {
			t.Errorf("%s: 401 without a required WWW-Authenticate header", name)
		}
		rule := rules[name]
		if o.method != http.MethodGet || rule.Scope == httpapi.ScopeAccount {
			want("the route's rule can refuse", "403")
		}
		if rule.Scope == httpapi.ScopeOrg || pathParam.MatchString(o.path) {
			want("the path names a record", "404")
		}
		if o.op.RequestBody != nil {
			want("a request body", "400", "413", "415")
		}
		for _, p := range o.op.Parameters {
			if p.Value.Name == "If-Match" && p.Value.Required {
				want("If-Match is required", "412", "428")
			}
		}
		for status := range o.op.Responses.Map() {
			if status >= "200" && status < "300" {
				continue
			}
			mt := o.op.Responses.Value(status).Value.Content.Get("application/json")
			if mt == nil || mt.Schema.Ref != "#/components/schemas/Error" {
				t.Errorf("%s %s: /v1 errors have the Error schema", name, status)
			}
		}
	}
}

// TestServedDocument starts a real server and reads /openapi.json from it.
func TestServedDocument(t *testing.T) {
	cfg := config.Default()
	cfg.Addr, cfg.GatewayAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	if err := cfg.Finalize(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, app.Options{LogOutput: io.Discard})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(45 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})

	res, err := http.Get("http://" + a.Addr() + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	want, err := api.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, want) {
		t.Errorf("served document differs from api.JSON()")
	}
	if !json.Valid(body) {
		t.Fatal("served document is not JSON")
	}
	load(t, body)
}
