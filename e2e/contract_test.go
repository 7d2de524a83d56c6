package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"gatehouse/api"
	"gatehouse/internal/httpapi"
)

// exchanges records every exchange of every server the suite starts
// (startServer passes record as app.Options.Tap); TestMain checks them
// against api/openapi.yaml once every test has run.
var exchanges exchangeLog

type exchangeLog struct {
	mu   sync.Mutex
	list []httpapi.Exchange
}

func (l *exchangeLog) record(ex httpapi.Exchange) {
	l.mu.Lock()
	l.list = append(l.list, ex)
	l.mu.Unlock()
}

func (l *exchangeLog) all() []httpapi.Exchange {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.list)
}

// TestMain runs the suite, then the contract check over what it recorded:
// real requests and responses of the whole suite against the document.
func TestMain(m *testing.M) {
	code := m.Run()
	if !hygieneMain() { // secrets in logs, metrics, audit or error bodies (hygiene_test.go)
		code = 1
	}
	if code == 0 {
		r, err := checkContract(exchanges.all())
		if err != nil {
			fmt.Fprintf(os.Stderr, "contract check: %v\n", err)
			code = 1
		} else {
			if testing.Verbose() || len(r.mismatches) > 0 {
				fmt.Print(r.summary())
			}
			if len(r.mismatches) > 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// contractReport is what checkContract found.
type contractReport struct {
	checked    int            // exchanges validated against an operation
	refused    int            // of those, requests the document calls invalid and the server refused (4xx)
	family     int            // answers of unrouted paths or methods, checked against the family's error shape
	skipped    map[string]int // reason → count
	seen       map[string]int // "METHOD /path status" → count
	operations map[string]bool
	unused     []string             // documented operations no exchange reached
	mismatches map[string]*mismatch // dedup key → first occurrence
}

type mismatch struct {
	what  string // METHOD path → status
	msg   string
	count int
}

func (r *contractReport) fail(key, what, msg string) {
	if m := r.mismatches[key]; m != nil {
		m.count++
		return
	}
	r.mismatches[key] = &mismatch{what: what, msg: msg, count: 1}
}

func (r *contractReport) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "contract: %d exchanges validated against api/openapi.yaml (%d operation+status pairs of %d operations; %d requests refused as the document says they are invalid), %d unrouted answers checked for their error shape\n",
		r.checked, len(r.seen), len(r.operations), r.refused, r.family)
	if len(r.unused) > 0 {
		fmt.Fprintf(&b, "contract: not exercised by the suite: %s\n", strings.Join(r.unused, ", "))
	}
	for _, why := range slices.Sorted(mapKeys(r.skipped)) {
		fmt.Fprintf(&b, "contract: skipped %d: %s\n", r.skipped[why], why)
	}
	keys := slices.Sorted(mapKeys(r.mismatches))
	if len(keys) > 0 {
		fmt.Fprintf(&b, "contract: %d mismatches (one line per operation and status):\n", len(keys))
	}
	for _, k := range keys {
		m := r.mismatches[k]
		fmt.Fprintf(&b, "  %s (%d×): %s\n", m.what, m.count, m.msg)
	}
	return b.String()
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// checkContract validates each recorded exchange with kin-openapi:
//
//   - an exchange on a documented operation: the request with
//     ValidateRequest, then the response with ValidateResponse (status,
//     headers, body). A request the document calls invalid is fine when the
//     server refused it with a 4xx (the suite sends malformed requests on
//     purpose); its response must still be a documented error. A request the
//     document calls invalid that the server accepted is a mismatch.
//   - a path or method no operation has (the suite probes /v1/nothing/here,
//     PATCH on a key, GET on a token endpoint): nothing to validate the
//     request against, but the answer must be a 404 or 405 in its family's
//     error shape (Error under /v1, TokenError on the token endpoints).
//
// Skipped, and counted: the console's pages (/console…, HTML, not part of
// the API; the /v1 calls the console makes in-process are checked), HEAD
// requests (no body to check; ServeMux answers them from the GET route),
// unrouted paths outside /v1 and the token endpoints (the mux's own 404 and
// redirects), and exchanges whose body the tap cut at 1 MiB.
func checkContract(list []httpapi.Exchange) (*contractReport, error) {
	// kin-openapi decodes application/yaml and application/x-yaml bodies;
	// the document lists text/yaml too.
	if openapi3filter.RegisteredBodyDecoder("text/yaml") == nil {
		openapi3filter.RegisterBodyDecoder("text/yaml", openapi3filter.YamlBodyDecoder)
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(api.YAML())
	if err != nil {
		return nil, err
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	errorSchema := doc.Components.Schemas["Error"].Value
	tokenErrorSchema := doc.Components.Schemas["TokenError"].Value
	r := &contractReport{skipped: map[string]int{}, seen: map[string]int{}, operations: map[string]bool{}, mismatches: map[string]*mismatch{}}
	ctx := context.Background()
	for _, ex := range list {
		what := fmt.Sprintf("%s %s → %d", ex.Method, ex.Path, ex.Status)
		switch {
		case ex.Path == "/console" || strings.HasPrefix(ex.Path, "/console/"):
			r.skipped["console pages (HTML, not part of the API)"]++
			continue
		case ex.Method == http.MethodHead:
			r.skipped["HEAD requests (no body; answered by the GET route)"]++
			continue
		case len(ex.RequestBody) >= 1<<20 || len(ex.ResponseBody) >= 1<<20:
			r.skipped["bodies of 1 MiB or more (cut by the tap; the 413 tests)"]++
			continue
		}
		req := &http.Request{
			Method: ex.Method,
			URL:    &url.URL{Path: ex.Path, RawQuery: ex.Query.Encode()},
			Header: ex.RequestHeader.Clone(),
			Body:   io.NopCloser(bytes.NewReader(ex.RequestBody)),
		}
		req.ContentLength = int64(len(ex.RequestBody))
		route, params, err := router.FindRoute(req)
		if err == nil && slices.Contains(slices.Collect(maps.Values(params)), "") {
			// The legacy router lets a template's last segment match nothing
			// (PUT /v1/apikeys as PUT /v1/apikeys/{id}); ServeMux does not.
			err = errors.New("no operation (an empty path segment)")
		}
		if err != nil {
			family := errorSchema
			switch {
			case ex.Path == "/apikey" || ex.Path == "/identity/token":
				family = tokenErrorSchema
			case !strings.HasPrefix(ex.Path, "/v1/"):
				r.skipped["unrouted paths outside /v1 (the mux's own 404 and redirects)"]++
				continue
			}
			r.family++
			key := "unrouted " + ex.Method + " " + familyName(ex.Path) + fmt.Sprint(ex.Status)
			if ex.Status != http.StatusNotFound && ex.Status != http.StatusMethodNotAllowed && ex.Status != http.StatusUnauthorized {
				r.fail(key, what, fmt.Sprintf("no operation in the document (%v), yet the server answered %d", err, ex.Status))
				continue
			}
			if err := checkBody(family, ex.ResponseBody); err != nil {
				r.fail(key, what, "the answer is not the family's error shape: "+brief(err))
			}
			continue
		}
		opKey := route.Method + " " + route.Path
		r.operations[opKey] = true
		r.seen[fmt.Sprintf("%s %d", opKey, ex.Status)]++
		r.checked++
		key := fmt.Sprintf("%s %d", opKey, ex.Status)
		in := &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{
				AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
				// The tap keeps what the handler read: a refusal before the
				// body was read (401, 403, 404 …) leaves nothing to check.
				ExcludeRequestBody: len(ex.RequestBody) == 0 && ex.Status >= 400,
			},
		}
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			if ex.Status < 400 || ex.Status >= 500 {
				r.fail(key+" request", what, "the document says the request is invalid, yet the server answered "+fmt.Sprint(ex.Status)+": "+brief(err))
			} else {
				r.refused++
			}
		}
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in,
			Status:                 ex.Status,
			Header:                 ex.ResponseHeader,
			Body:                   io.NopCloser(bytes.NewReader(ex.ResponseBody)),
			Options:                &openapi3filter.Options{IncludeResponseStatus: true},
		}
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			r.fail(key, what, brief(err))
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !r.operations[method+" "+path] {
				r.unused = append(r.unused, method+" "+path)
			}
		}
	}
	slices.Sort(r.unused)
	return r, nil
}

// familyName groups unrouted answers for deduplication.
func familyName(path string) string {
	if strings.HasPrefix(path, "/v1/") {
		return "/v1/… "
	}
	return path + " "
}

// checkBody validates a JSON body against a schema of the document.
func checkBody(s *openapi3.Schema, body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.VisitJSON(v, openapi3.EnableJSONSchema2020())
}

// brief is a validator's message without the schema dump kin-openapi
// appends: the reason and where in the value it is.
func brief(err error) string {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		prefix := ""
		var re *openapi3filter.RequestError
		var rs *openapi3filter.ResponseError
		switch {
		case errors.As(err, &re) && re.Parameter != nil:
			prefix = re.Parameter.In + " parameter " + re.Parameter.Name + ": "
		case errors.As(err, &re):
			prefix = "request body: "
		case errors.As(err, &rs):
			prefix = "response body: "
		}
		// The JSON Schema 2020-12 validator's reason is a tree: a header
		// line, then "- at '/pointer': problem" per cause.
		if head, causes, ok := strings.Cut(se.Reason, "\n- "); ok && strings.HasPrefix(head, "jsonschema validation failed") {
			return prefix + strings.ReplaceAll(causes, "\n- ", "; ")
		}
		p := "/" + strings.Join(se.JSONPointer(), "/")
		return fmt.Sprintf("%sat %s: %s", prefix, p, se.Reason)
	}
	msg := err.Error()
	if i := strings.Index(msg, "\nSchema:"); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 400 {
		msg = msg[:400] + "…"
	}
	return strings.ReplaceAll(msg, "\n", " ")
}

// TestContractCheckCatchesDrift feeds the contract check exchanges that
// contradict the document, so that a check that silently passes everything
// cannot hide behind a green suite.
func TestContractCheckCatchesDrift(t *testing.T) {
	rid := http.Header{"X-Request-Id": {"r-1"}, "Content-Type": {"application/json"}}
	me := `{"iam_id":"iam-User-1","id":"User-1","sub_type":"user","name":"a","account_id":"x","apikey":{"id":"","name":""},"roles":[],"orgs":[]}`
	auth := http.Header{"Authorization": {"Bearer t"}}
	json := http.Header{"Authorization": {"Bearer t"}, "Content-Type": {"application/json"}}
	cases := []struct {
		name string
		ex   httpapi.Exchange
		want string // in the one mismatch; "" for none
	}{
		{"ok/me", httpapi.Exchange{Method: "GET", Path: "/v1/me", RequestHeader: auth, Status: 200, ResponseHeader: rid, ResponseBody: []byte(me)}, ""},
		{"ok/health", httpapi.Exchange{Method: "GET", Path: "/healthz", Status: 200, ResponseHeader: rid, ResponseBody: []byte(`{"status":"ok"}`)}, ""},
		{"ok/refused-invalid-request", httpapi.Exchange{Method: "POST", Path: "/v1/apikeys", RequestHeader: json, RequestBody: []byte(`{"name":1}`), Status: 400, ResponseHeader: rid,
			ResponseBody: []byte(`{"errors":[{"code":"validation_failed","message":"m","target":{"name":"name","type":"field"}}],"status_code":400,"trace":"r-1"}`)}, ""},
		{"fail/missing-field", httpapi.Exchange{Method: "GET", Path: "/v1/me", RequestHeader: auth, Status: 200, ResponseHeader: rid, ResponseBody: []byte(strings.Replace(me, `,"orgs":[]`, "", 1))}, "orgs"},
		{"fail/unknown-field", httpapi.Exchange{Method: "GET", Path: "/v1/me", RequestHeader: auth, Status: 200, ResponseHeader: rid, ResponseBody: []byte(strings.Replace(me, `"orgs":[]`, `"orgs":[],"extra":1`, 1))}, "extra"},
		{"fail/undocumented-status", httpapi.Exchange{Method: "GET", Path: "/v1/me", RequestHeader: auth, Status: 418, ResponseHeader: rid, ResponseBody: []byte(`{}`)}, "status is not supported"},
		{"fail/missing-etag", httpapi.Exchange{Method: "GET", Path: "/v1/orgs/acme", RequestHeader: auth, Status: 200, ResponseHeader: rid,
			ResponseBody: []byte(`{"id":"o","name":"acme","title":"","createdBy":"x","createdAt":"2031-03-14T09:26:53Z","updatedAt":"2031-03-14T09:26:53Z","url":"/v1/orgs/o"}`)}, "ETag"},
		{"fail/accepted-invalid-request", httpapi.Exchange{Method: "PATCH", Path: "/v1/orgs/acme/environments/sb/products/p:1", RequestHeader: json, RequestBody: []byte(`{"state":"gone"}`), Status: 200, ResponseHeader: rid,
			ResponseBody: []byte(`{"id":"p","name":"p","version":"1","title":"","state":"published","plans":[],"apis":[],"publishedAt":"2031-03-14T09:26:53Z","updatedAt":"2031-03-14T09:26:53Z","url":"/v1/x"}`)}, "request is invalid"},
		{"fail/unrouted-answer-not-an-error", httpapi.Exchange{Method: "GET", Path: "/v1/nothing/here", RequestHeader: auth, Status: 404, ResponseHeader: rid, ResponseBody: []byte(`{"error":"no"}`)}, "error shape"},
		{"fail/unrouted-answer-2xx", httpapi.Exchange{Method: "PATCH", Path: "/v1/apikeys/k", RequestHeader: auth, Status: 200, ResponseHeader: rid, ResponseBody: []byte(`{}`)}, "no operation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := checkContract([]httpapi.Exchange{c.ex})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range r.mismatches {
				got = append(got, m.msg)
			}
			switch {
			case c.want == "" && len(got) > 0:
				t.Errorf("mismatches %q, want none", got)
			case c.want != "" && (len(got) != 1 || !strings.Contains(got[0], c.want)):
				t.Errorf("mismatches %q, want one mentioning %q", got, c.want)
			}
		})
	}
}
