package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"gatehouse/api"
	"gatehouse/client"
	"gatehouse/internal/app"
	"gatehouse/internal/httpapi"
)

// Hostile input over real HTTP (SPEC §4 limits, §12 "bad input of any
// kind"): oversized headers and bodies, slow clients, invalid UTF-8 and NUL
// bytes, path tricks in every path parameter of the management API and in
// every part of a gateway URL, and YAML and JSON bombs. Each is refused with
// a 4xx, never a 5xx, and leaves the store as it was.

// bodyRoute is a /v1 route that takes a body, as the contract says.
type bodyRoute struct {
	rt       httpapi.Route
	document bool // an API or product document: JSON or YAML, up to 5 MiB
}

// bodyRoutes lists the routes of the table whose operation in
// api/openapi.yaml has a requestBody, so a route added with a body is
// attacked without anyone listing it here.
func bodyRoutes(t *testing.T) []bodyRoute {
	t.Helper()
	raw, err := api.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			RequestBodies map[string]json.RawMessage `json:"requestBodies"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	type body struct {
		Ref     string                     `json:"$ref"`
		Content map[string]json.RawMessage `json:"content"`
	}
	var out []bodyRoute
	for _, rt := range httpapi.Table() {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		opRaw, ok := doc.Paths[path][strings.ToLower(method)]
		if !ok {
			t.Errorf("%s is not in api/openapi.yaml", rt.Pattern)
			continue
		}
		var op struct {
			RequestBody *body `json:"requestBody"`
		}
		if err := json.Unmarshal(opRaw, &op); err != nil {
			t.Fatal(err)
		}
		rb := op.RequestBody
		if rb == nil {
			continue
		}
		if name, ok := strings.CutPrefix(rb.Ref, "#/components/requestBodies/"); ok {
			rb = &body{}
			if err := json.Unmarshal(doc.Components.RequestBodies[name], rb); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok := rb.Content["application/json"]; !ok {
			t.Errorf("%s: a request body that is not JSON: %v", rt.Pattern, rb.Content)
			continue
		}
		_, yaml := rb.Content["application/yaml"]
		out = append(out, bodyRoute{rt: rt, document: yaml})
	}
	if len(out) < 10 {
		t.Fatalf("only %d body routes found in the contract", len(out))
	}
	return out
}

// adminMatrix is an Administrator's matrix environment: a server with orgs A
// and B and their API Manager fixtures, and a request template (a valid
// call) for every route.
func adminMatrix(t *testing.T) *matrixEnv {
	t.Helper()
	e := newMatrixEnv(t, principal{name: "administrator", account: administrator})
	e.t = t
	return e
}

// template is a valid call of rt by the environment's principal.
func (e *matrixEnv) template(t *testing.T, rt httpapi.Route) (call, req) {
	t.Helper()
	tmpl, ok := matrixCalls[rt.Pattern]
	if !ok {
		t.Fatalf("no request template for %s in matrixCalls", rt.Pattern)
	}
	c := tmpl(e, "A")
	return c, c.request(t, rt, e.me.Token)
}

// noRedirects is an HTTP client that follows no redirect, so a test sees
// exactly what the server answered.
func noRedirects(t *testing.T) *http.Client {
	hc := &http.Client{
		Transport:     http.DefaultTransport.(*http.Transport).Clone(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
	t.Cleanup(hc.CloseIdleConnections)
	return hc
}

// rawSend sends a request whose request-target is exactly target (no
// escaping, no cleaning) and reads the whole answer; length -1 sends the
// body chunked. The answer need not come from Gatehouse's handlers: net/http
// itself answers some malformed requests.
func rawSend(ctx context.Context, hc *http.Client, base, method, target string, header http.Header, body io.Reader, length int64) (reply, error) {
	hr, err := http.NewRequestWithContext(ctx, method, base+"/", body)
	if err != nil {
		return reply{}, err
	}
	hr.URL.Opaque = target // sent as is
	hr.ContentLength = length
	if length < 0 {
		hr.ContentLength = -1
		hr.TransferEncoding = []string{"chunked"}
	}
	for k, v := range header {
		hr.Header[k] = v
	}
	res, err := hc.Do(hr)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: res.StatusCode, header: res.Header, body: data}, nil
}

// Headers over the limit (64 KiB) are answered 431 by both listeners, and
// the request goes no further.
func TestHugeHeadersAre431(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	before := listAll(t, admin, client.ListAPIKeysOptions{Scope: "account"})
	many := http.Header{}
	for i := range 2000 {
		many.Set(fmt.Sprintf("X-Many-%d", i), strings.Repeat("m", 60))
	}
	cases := []struct {
		name   string
		header http.Header
	}{
		{"one-huge-header", http.Header{"X-Huge": {strings.Repeat("h", 128<<10)}}},
		{"huge-cookie", http.Header{"Cookie": {"session=" + strings.Repeat("c", 128<<10)}}},
		{"huge-authorization", http.Header{"Authorization": {"Bearer " + strings.Repeat("a", 128<<10)}}},
		{"two-thousand-headers", many},
	}
	for _, tc := range cases {
		for _, l := range []struct{ name, base, path string }{
			{"management", s.URL, "/v1/apikeys"},
			{"gateway", s.GWURL, "/nobody/sb/anything"},
		} {
			t.Run(tc.name+"/"+l.name, func(t *testing.T) {
				h := tc.header.Clone()
				if h.Get("Authorization") == "" {
					h.Set("Authorization", "Bearer "+tok)
				}
				h.Set("Content-Type", "application/json")
				body := `{"name":"smuggled"}`
				res, err := rawSend(t.Context(), noRedirects(t), l.base, "POST", l.path, h, strings.NewReader(body), int64(len(body)))
				if err != nil {
					t.Fatal(err)
				}
				if res.status != http.StatusRequestHeaderFieldsTooLarge {
					t.Fatalf("POST %s with %s: %d %s, want 431", l.path, tc.name, res.status, res.body)
				}
			})
		}
	}
	if after := listAll(t, admin, client.ListAPIKeysOptions{Scope: "account"}); !keysEqual(before, after) {
		t.Errorf("a request refused for its headers created a key")
	}
}

// A body over the limit — 1 MiB for JSON, 5 MiB for API and product
// documents — is answered 413 in the API's error shape on every route of the
// contract that takes a body, whether its length is announced or it comes
// chunked, and nothing is stored.
func TestHugeBodiesAre413(t *testing.T) {
	t.Parallel()
	e := adminMatrix(t)
	routes := bodyRoutes(t)
	type attempt struct {
		name string
		r    req
		doc  bool
	}
	var attempts []attempt
	for _, br := range routes {
		_, r := e.template(t, br.rt)
		limit := 1 << 20
		if br.document {
			limit = 5 << 20
		}
		attempts = append(attempts, attempt{br.rt.Pattern + "/json", withBody(r, "application/json", `{"name":"`, 'a', limit, `"}`), br.document})
		if br.document {
			attempts = append(attempts, attempt{br.rt.Pattern + "/yaml", withBody(r, "application/yaml", "openapi: 3.0.3\ninfo: {title: '", 'a', limit, "'}\n"), true})
		}
	}
	hc := noRedirects(t)
	before := state(t, e.s, e.admin)
	chunkedDone := map[bool]bool{}
	for _, a := range attempts {
		// Every route with its length announced; the first JSON and the
		// first document route chunked too (the limit is the same code).
		modes := []bool{false}
		if !chunkedDone[a.doc] {
			modes, chunkedDone[a.doc] = append(modes, true), true
		}
		for _, chunked := range modes {
			name := a.name + "/content-length"
			if chunked {
				name = a.name + "/chunked"
			}
			t.Run(name, func(t *testing.T) {
				length := int64(len(a.r.body))
				if chunked {
					length = -1
				}
				h := http.Header{"Authorization": {"Bearer " + a.r.token}, "Content-Type": {a.r.ctype}}
				for k, v := range a.r.header {
					h.Set(k, v)
				}
				res, err := rawSend(t.Context(), hc, e.s.URL, a.r.method, a.r.path, h, strings.NewReader(a.r.body), length)
				if err != nil {
					t.Fatal(err)
				}
				wantAPIError(t, res, http.StatusRequestEntityTooLarge, "payload_too_large")
			})
		}
	}
	if after := state(t, e.s, e.admin); after != before {
		t.Errorf("bodies refused as too large changed the state:\n%s", changedLines(before, after))
	}
	t.Logf("%d body routes, %d oversized requests", len(routes), len(attempts)+2)
}

// withBody is r with a body of prefix, n bytes of fill and suffix.
func withBody(r req, ctype, prefix string, fill byte, n int, suffix string) req {
	r.ctype = ctype
	r.body = prefix + strings.Repeat(string(fill), n) + suffix
	return r
}

// A client that sends its headers slower than ReadHeaderTimeout (shortened
// to 300 ms through app.Options) is cut off: the connection is closed
// without an answer, on both listeners, and other clients are still served.
func TestSlowClientsAreCutOff(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	s := startServer(t, withAppOptions(func(o *app.Options) { o.ReadHeaderTimeout = timeout }))
	for _, l := range []struct{ name, addr string }{{"management", s.app.Addr()}, {"gateway", s.app.GatewayAddr()}} {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			for _, style := range []string{"byte-by-byte", "stalled"} {
				// The deadline bounds the test, not the server: a server
				// that never cuts the client off fails here, long after
				// the 300 ms it should take.
				ctx, cancel := context.WithTimeout(t.Context(), 20*timeout)
				conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", l.addr)
				if err != nil {
					t.Fatal(err)
				}
				dl, _ := ctx.Deadline()
				conn.SetDeadline(dl)
				head := "GET /healthz HTTP/1.1\r\nHost: gatehouse\r\nX-Slow: "
				if _, err := io.WriteString(conn, head); err != nil {
					t.Fatal(err)
				}
				sent := make(chan int, 1)
				if style == "byte-by-byte" {
					// Ten bytes a second: the headers would never end.
					go func() {
						n := 0
						tick := time.NewTicker(timeout / 3)
						defer tick.Stop()
						for {
							select {
							case <-ctx.Done():
								sent <- n
								return
							case <-tick.C:
							}
							if _, err := conn.Write([]byte{'s'}); err != nil {
								sent <- n
								return
							}
							n++
						}
					}()
				}
				got, err := io.ReadAll(conn)
				cancel()
				if isTimeout(err) {
					t.Fatalf("%s client still connected after %v: the server did not cut it off", style, 20*timeout)
				}
				if len(got) != 0 {
					t.Errorf("%s client got an answer %q, want the connection closed", style, got)
				}
				if err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
					t.Errorf("%s client: reading ended with %v, want the connection closed", style, err)
				}
				conn.Close()
				if style == "byte-by-byte" {
					// Three or so bytes fit in 300 ms; thirty would mean the
					// server waited ten times too long.
					if n := <-sent; n >= 30 {
						t.Errorf("the server took %d slow header bytes before cutting the client off", n)
					}
				}
			}
			// The listener still serves everyone else.
			res, err := rawSend(t.Context(), noRedirects(t), "http://"+l.addr, "GET", "/healthz", nil, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			if l.name == "management" && res.status != http.StatusOK {
				t.Errorf("healthz after the slow clients: %d", res.status)
			}
		})
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// poisons are string contents that no field accepts, spliced into a valid
// body in place of a marker inside a string.
var poisons = []struct{ name, raw string }{
	{"invalid-utf8", "bad\xff\xfeutf8"},
	{"overlong-utf8", "bad\xc0\xafslash"},
	{"nul-escape", `bad\u0000nul`},
	{"control-escape", `bad\u0007bell`},
}

const poisonMark = "POISON-b7e1c0de"

// poisonedBodies returns, for every string in the JSON body, the body with
// that string made to carry the marker: one body per string leaf.
func poisonedBodies(t *testing.T, body string) []struct{ field, body string } {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("template body %s: %v", body, err)
	}
	var out []struct{ field, body string }
	var walk func(path string, set func(any), cur any)
	walk = func(path string, set func(any), cur any) {
		switch x := cur.(type) {
		case string:
			set(x + poisonMark)
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, struct{ field, body string }{path, string(b)})
			set(x)
		case map[string]any:
			for _, k := range slices.Sorted(mapKeys(x)) {
				walk(path+"/"+k, func(n any) { x[k] = n }, x[k])
			}
		case []any:
			for i := range x {
				walk(fmt.Sprintf("%s/%d", path, i), func(n any) { x[i] = n }, x[i])
			}
		}
	}
	walk("", func(any) {}, v)
	return out
}

// Invalid UTF-8, NUL bytes and control characters in any string of a JSON
// body — names, titles, descriptions, references — are refused 400 and
// nothing is stored; likewise in the names and titles of API and product
// documents, JSON or YAML.
func TestPoisonedStringsAreRefused(t *testing.T) {
	t.Parallel()
	e := adminMatrix(t)
	type attempt struct {
		name string
		r    req
		// also is an answer other than 400 that is right for this field.
		also func(reply) bool
	}
	var attempts []attempt
	for _, br := range bodyRoutes(t) {
		c, r := e.template(t, br.rt)
		if c.body == nil {
			continue // an optional body the template leaves out
		}
		for _, pb := range poisonedBodies(t, r.body) {
			for _, p := range poisons {
				title := strings.HasSuffix(pb.field, "/title") || strings.HasSuffix(pb.field, "/name") || strings.HasSuffix(pb.field, "/x-ibm-name")
				if br.document && p.name == "control-escape" && !title {
					continue // free text in a document (a description) may hold any character but NUL
				}
				a := attempt{name: fmt.Sprintf("%s%s/%s", br.rt.Pattern, pb.field, p.name), r: r}
				a.r.body = strings.Replace(pb.body, poisonMark, p.raw, 1)
				switch br.rt.Pattern + pb.field {
				case "POST /v1/policies/resource/org":
					// A reference: an org of that name does not exist.
					a.also = func(res reply) bool { return res.status == http.StatusNotFound }
				case "POST /v1/apikeys/leaked/apikeys/0":
					// A value that cannot be a key matches none (SPEC §2.3).
					a.also = func(res reply) bool {
						var out struct{ Results []struct{ Matched bool } }
						return res.status == http.StatusOK && json.Unmarshal(res.body, &out) == nil && len(out.Results) == 1 && !out.Results[0].Matched
					}
				}
				attempts = append(attempts, a)
			}
		}
		if br.document {
			for _, p := range poisons {
				for _, field := range []string{"title", "x-ibm-name"} {
					a := attempt{name: fmt.Sprintf("%s/yaml/%s/%s", br.rt.Pattern, field, p.name), r: r}
					a.r.ctype, a.r.body = "application/yaml", yamlDocument(t, r.body, field, p.raw)
					attempts = append(attempts, a)
				}
			}
		}
	}
	before := state(t, e.s, e.admin)
	for _, a := range attempts {
		t.Run(a.name, func(t *testing.T) {
			res, err := e.s.send(t.Context(), a.r)
			if err != nil {
				t.Fatal(err)
			}
			if a.also != nil && a.also(res) {
				return
			}
			if res.status != http.StatusBadRequest {
				t.Fatalf("%s %s with body %q: %d %s, want 400", a.r.method, a.r.path, a.r.body, res.status, res.body)
			}
			var body apiError
			if err := json.Unmarshal(res.body, &body); err != nil || len(body.Errors) == 0 || !utf8Printable(res.body) {
				t.Fatalf("400 body %q is not the API's error shape in clean UTF-8", res.body)
			}
		})
	}
	if after := state(t, e.s, e.admin); after != before {
		t.Errorf("refused bodies changed the state:\n%s", changedLines(before, after))
	}
	t.Logf("%d poisoned bodies", len(attempts))

	// What looks like a NUL escape but is a backslash and "u0000" is text.
	k := mustCreateKey(t, e.admin, client.CreateAPIKey{Name: "literal", Description: `C:\u0000 is six characters`})
	if k.Description != `C:\u0000 is six characters` {
		t.Errorf("description %q", k.Description)
	}
}

// utf8Printable: valid UTF-8 without raw control characters (an error
// message must not echo the poison).
func utf8Printable(b []byte) bool {
	return utf8.Valid(b) && !bytes.ContainsFunc(b, func(r rune) bool { return r < ' ' && r != '\n' && r != '\t' || r == 0x7f })
}

// yamlDocument rewrites a JSON API or product document template as YAML
// with the poison in info.<field> (double-quoted, so an escape like \u0000
// means what it means in JSON).
func yamlDocument(t *testing.T, jsonDoc, field, poison string) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(jsonDoc), &doc); err != nil {
		t.Fatal(err)
	}
	info := doc["info"].(map[string]any)
	info[field] = poisonMark
	if _, ok := doc["product"]; ok && field == "x-ibm-name" {
		info["name"], info[field] = poisonMark, nil
		delete(info, field)
	}
	b, err := json.Marshal(doc) // JSON is YAML; a double-quoted scalar keeps its escapes
	if err != nil {
		t.Fatal(err)
	}
	// Put it on separate lines so that it is read as YAML, not sniffed as JSON.
	y := "---\n" + string(b) + "\n"
	return strings.Replace(y, poisonMark, poison, 1)
}

// pathTricks are path-segment values that must never name anything: dot
// segments plain and encoded, encoded separators, NUL, overlong UTF-8,
// look-alikes of '.' and '/', double encoding. "{v}" is the segment's valid
// value, so a trick can try to step from a real object to another.
var pathTricks = []string{
	"..", ".", "%2e%2e", "..%2f..", "{v}%2f..%2f..", "%2fx", "{v}%00", "%00", "{v}%5c..",
	"%c0%ae%c0%ae", "{v}%c0%af..", // overlong '.' and '/'
	"%ef%bc%8e%ef%bc%8e", "{v}%ef%bc%8f..", "{v}%e2%88%95..", // ．． ／ ∕
	"%252e%252e", "%u002e%u002e", "{v};..",
}

// Every path parameter of every /v1 route, given each trick in place of a
// valid value, is answered with a 4xx, never a 2xx, 3xx or 5xx: no trick
// reaches any object, none is redirected to one, and the store is unchanged.
func TestPathTricksInEveryParameter(t *testing.T) {
	t.Parallel()
	e := adminMatrix(t)
	type attempt struct {
		route, param, trick string
		r                   req
	}
	var attempts []attempt
	for _, rt := range httpapi.Table() {
		c, r := e.template(t, rt)
		for _, p := range routeParams(rt.Pattern) {
			for _, trick := range pathTricks {
				values := map[string]string{}
				for k, val := range c.params {
					values[k] = escapeSegment(val)
				}
				values[p] = strings.ReplaceAll(trick, "{v}", values[p])
				_, path, _ := strings.Cut(rt.Pattern, " ")
				tr := r
				tr.path = pathParam.ReplaceAllStringFunc(path, func(m string) string { return values[m[1:len(m)-1]] })
				attempts = append(attempts, attempt{rt.Pattern, p, trick, tr})
			}
		}
	}
	hc := noRedirects(t)
	before := state(t, e.s, e.admin)
	// Four at a time: the calls are independent, and the store's state is
	// compared once they are all answered.
	work := make(chan attempt)
	errc := make(chan string, len(attempts))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for a := range work {
				if msg := pathTrick(t.Context(), hc, e.s.URL, a.r); msg != "" {
					errc <- fmt.Sprintf("{%s} = %s: %s", a.param, a.trick, msg)
				}
			}
		})
	}
	for _, a := range attempts {
		work <- a
	}
	close(work)
	wg.Wait()
	close(errc)
	for msg := range errc {
		t.Error(msg)
	}
	if after := state(t, e.s, e.admin); after != before {
		t.Errorf("path tricks changed the state:\n%s", changedLines(before, after))
	}
	t.Logf("%d requests: every parameter of %d routes × %d tricks", len(attempts), len(httpapi.Table()), len(pathTricks))
}

// pathTrick sends one tricked request and says what is wrong with the
// answer ("" for a 4xx in the right shape).
func pathTrick(ctx context.Context, hc *http.Client, base string, r req) string {
	h := http.Header{"Authorization": {"Bearer " + r.token}}
	if r.ctype != "" {
		h.Set("Content-Type", r.ctype)
	}
	for k, v := range r.header {
		h.Set(k, v)
	}
	res, err := rawSend(ctx, hc, base, r.method, r.path, h, strings.NewReader(r.body), int64(len(r.body)))
	switch {
	case err != nil:
		return err.Error()
	case res.status < 400 || res.status >= 500:
		return fmt.Sprintf("%s %s: %d %s, want a 4xx", r.method, r.path, res.status, res.body)
	case res.header.Get("X-Request-Id") != "":
		// Answered by Gatehouse (not by net/http's request parser): the
		// API's error shape.
		var e apiError
		if err := json.Unmarshal(res.body, &e); err != nil || len(e.Errors) != 1 || e.StatusCode != res.status {
			return fmt.Sprintf("%s %s: %d body %q is not the API's error shape", r.method, r.path, res.status, res.body)
		}
	}
	return ""
}

// escapeSegment escapes a value as one path segment.
func escapeSegment(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~:@", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// The gateway's /{org}/{env}/{basePath}{path}: a trick in any part never
// escapes to another API or another org. Two orgs each publish a public API
// with its own backend; no trick reaches either backend.
func TestGatewayPathTricksStayInTheirAPI(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	type tenant struct {
		org string
		be  *backend
	}
	var tenants []tenant
	for _, name := range []string{"gw-x", "gw-y"} {
		org := uniq(name)
		be := newBackend(t, name)
		mustOrg(t, admin, org)
		mustImportAPI(t, admin, org, publicAPIDoc("api", "/api", be.URL, 0), client.ContentTypeYAML)
		mustCreateProduct(t, admin, org, productDoc("prod", "1.0.0", []string{"api: api:1.0.0"}, ""), client.ContentTypeYAML)
		mustPublish(t, admin, org, "sb", "prod:1.0.0")
		tenants = append(tenants, tenant{org, be})
	}
	x, y := tenants[0], tenants[1]
	for _, tn := range tenants {
		if r := s.gw(t, gwReq{path: "/" + tn.org + "/sb/api/ping"}); r.status != http.StatusOK || r.header.Get("X-Backend") != tn.be.name {
			t.Fatalf("the clean path of %s: %d from %q", tn.org, r.status, r.header.Get("X-Backend"))
		}
	}
	counts := []int{x.be.count(), y.be.count()}
	hc := noRedirects(t)
	var paths []string
	for _, tr := range []string{"..", "%2e%2e", "%2E%2E", "..%2f..", "%2f", "%00", "%5c", "..%5c..", "%c0%ae%c0%ae", "%ef%bc%8f", "%252e%252e", "%e2%80%a4%e2%80%a4", ".", "%2e"} {
		escape := func(seg string) string { return strings.ReplaceAll(seg, "{t}", tr) }
		for _, p := range []string{
			"/{t}/" + y.org + "/sb/api/ping",
			"/" + x.org + "/{t}/" + y.org + "/sb/api/ping",
			"/" + x.org + "/sb/{t}/{t}/" + y.org + "/sb/api/ping",
			"/" + x.org + "/sb/api/{t}/{t}/{t}/" + y.org + "/sb/api/ping",
			"/" + x.org + "/sb/api/{t}/ping",
			"/" + x.org + "/sb/api/ping/{t}",
			"/" + x.org + "{t}" + y.org + "/sb/api/ping",
			"/" + x.org + "/sb{t}api/ping",
			"/" + x.org + "/sb/api{t}ping",
			"/" + x.org + "/sb/api{t}..{t}..{t}..{t}" + y.org + "/sb/api/ping",
		} {
			paths = append(paths, escape(p))
		}
	}
	for _, p := range paths {
		res, err := rawSend(t.Context(), hc, s.GWURL, "GET", p, nil, nil, 0)
		if err != nil {
			t.Errorf("GET %s: %v", p, err)
			continue
		}
		if res.status < 400 || res.status >= 500 {
			t.Errorf("gateway GET %s: %d %s, want a 4xx", p, res.status, res.body)
		}
		if res.header.Get("X-Global-Transaction-ID") != "" && res.status == http.StatusNotFound {
			want := `{"httpCode":"404","httpMessage":"Not Found","moreInformation":"No resources match requested URI"}`
			if got := strings.TrimSpace(string(res.body)); got != want {
				t.Errorf("gateway GET %s: body %s", p, got)
			}
		}
	}
	if n := []int{x.be.count(), y.be.count()}; !slices.Equal(n, counts) {
		t.Errorf("path tricks reached a backend: requests %v, before %v: %v", n, counts, append(x.be.since(counts[0]), y.be.since(counts[1])...))
	}
	t.Logf("%d gateway paths", len(paths))
}

// YAML alias bombs ("billion laughs") and documents nested 10 000 and
// 100 000 deep, as API and as product imports, are refused 400 well within
// the request's deadline, and nothing is stored.
func TestDocumentBombsAreRefusedFast(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	org := uniq("bombs")
	mustOrg(t, admin, org)
	tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})

	var laughs strings.Builder
	laughs.WriteString("openapi: 3.0.3\ninfo: {title: lol, version: 1.0.0}\npaths: {}\nx-lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&laughs, "x-lol%d: &a%d [*a%[3]d, *a%[3]d, *a%[3]d, *a%[3]d, *a%[3]d, *a%[3]d, *a%[3]d, *a%[3]d, *a%[3]d, *a%[3]d]\n", i, i, i-1)
	}
	var mapBomb strings.Builder // aliases of mappings, merged into each other
	mapBomb.WriteString("product: 1.0.0\ninfo: {name: lol, title: lol, version: 1.0.0}\nx0: &m0 {a: lol, b: lol, c: lol, d: lol}\n")
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&mapBomb, "x%d: &m%d {a: *m%[3]d, b: *m%[3]d, c: *m%[3]d, d: *m%[3]d}\n", i, i, i-1)
	}
	deep := func(n int, open, close, prefix string) string {
		return prefix + strings.Repeat(open, n) + strings.Repeat(close, n) + "\n"
	}
	var blockDeep strings.Builder // block style: each level one more space
	blockDeep.WriteString("openapi: 3.0.3\ninfo: {title: deep, version: 1.0.0}\npaths: {}\nx-deep:\n")
	for i := 1; i <= 500; i++ {
		blockDeep.WriteString(strings.Repeat(" ", i) + "a:\n")
	}
	blockDeep.WriteString(strings.Repeat(" ", 501) + "b\n")

	docs := []struct {
		name, coll, ctype, body string
	}{
		{"billion-laughs-api", "apis", "application/yaml", laughs.String()},
		{"billion-laughs-product", "products", "application/yaml", strings.Replace(laughs.String(), "openapi: 3.0.3\ninfo: {title: lol, version: 1.0.0}\npaths: {}\n", "product: 1.0.0\ninfo: {name: lol, title: lol, version: 1.0.0}\n", 1)},
		{"mapping-alias-bomb-product", "products", "application/yaml", mapBomb.String()},
		{"yaml-flow-10k-deep-api", "apis", "application/yaml", deep(10_000, "[", "]", "openapi: 3.0.3\ninfo: {title: deep, version: 1.0.0}\npaths: {}\nx-deep: ")},
		{"yaml-flow-100k-deep-product", "products", "application/yaml", deep(100_000, "[", "]", "product: 1.0.0\ninfo: {name: deep, title: deep, version: 1.0.0}\nx-deep: ")},
		{"yaml-flow-mappings-10k-deep-api", "apis", "application/yaml", deep(10_000, "{a: ", "}", "openapi: 3.0.3\ninfo: {title: deep, version: 1.0.0}\npaths: {}\nx-deep: ")},
		{"yaml-block-500-deep-api", "apis", "application/yaml", blockDeep.String()},
		{"json-10k-deep-api", "apis", "application/json", `{"openapi":"3.0.3","info":{"title":"deep","version":"1.0.0"},"paths":{},"x-deep":` + strings.Repeat(`{"a":`, 10_000) + "1" + strings.Repeat("}", 10_000) + "}"},
		{"json-100k-deep-product", "products", "application/json", `{"product":"1.0.0","info":{"name":"deep","title":"deep","version":"1.0.0"},"x-deep":` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + "}"},
	}
	for _, d := range docs {
		t.Run(d.name, func(t *testing.T) {
			// The deadline is the test's bound: a parser that expands the
			// bomb runs past it and the request fails.
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			res, err := s.send(ctx, req{method: "POST", path: "/v1/orgs/" + org + "/" + d.coll, token: tok, ctype: d.ctype, body: d.body})
			if err != nil {
				t.Fatalf("%v (the server did not refuse the document in time)", err)
			}
			wantAPIError(t, res, http.StatusBadRequest, "bad_request")
		})
	}
	apis, _, err := admin.ListAPIs(t.Context(), org, client.PageOptions{})
	if err != nil || len(apis) != 0 {
		t.Errorf("APIs after the bombs: %v %v", apis, err)
	}
	products, _, err := admin.ListProducts(t.Context(), org, client.PageOptions{})
	if err != nil || len(products) != 0 {
		t.Errorf("products after the bombs: %v %v", products, err)
	}
}
