package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime"
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

	"gatehouse/client"
	"gatehouse/internal/httpapi"
	"gatehouse/internal/iam"
	"gatehouse/internal/store"
)

// Secret hygiene over the whole suite (SPEC §12: secrets never appear in
// logs, error messages, audit entries or metrics).
//
// Every server startServer runs reports to the recorder hygiene:
//
//   - secrets, learned from the traffic itself: through app.Options.Tap it
//     sees every exchange of the management listener (the console's
//     in-process /v1 calls included), and through the client's transport
//     every call the tests make to the gateway. It collects API keys
//     (create and rotate responses, the apikey parameter and form field,
//     IAM-ApiKey, leaked-key reports, imported keys), client secrets (app
//     and credential responses, X-IBM-Client-Secret, client_secret),
//     passwords (user bodies, the password grant, console forms) and tokens
//     (exchange responses, bearer credentials, the console's session cookie);
//   - where they must not be: the server's whole log at debug level, every
//     error body (status ≥ 400) of both listeners, every /metrics and
//     GET /v1/audit answer the suite saw, and, when each server stops, a
//     /metrics scrape and every audit entry in its store.
//
// TestMain runs check once every test is done and fails the run on any
// finding. Haystacks are kept until then (a secret learned late, e.g. a
// literal two tests send, is still looked for everywhere).
var hygiene = newHygieneRecorder()

// minSecret is the shortest value treated as a secret: shorter values (the
// suite's "x" or "short") are not secrets of any kind the server accepts, and
// would match everywhere.
const minSecret = 8

type hygieneRecorder struct {
	mu        sync.Mutex
	secrets   map[string]string // value → what it is and where it was first seen
	hay       []haystack
	hayBytes  map[string]int // kind of haystack → bytes
	exchanges int
	scraped   int // servers whose metrics and audit log were read at stop
	unscraped []string
}

type haystack struct {
	kind   string // log, error body, metrics, audit
	source string // for the report
	data   []byte
}

func newHygieneRecorder() *hygieneRecorder {
	return &hygieneRecorder{secrets: map[string]string{}, hayBytes: map[string]int{}}
}

// secret records a value the tests saw as a secret.
func (h *hygieneRecorder) secret(what, v string) {
	if len(v) < minSecret {
		return
	}
	h.mu.Lock()
	if _, ok := h.secrets[v]; !ok {
		h.secrets[v] = what
	}
	h.mu.Unlock()
}

// haystack records bytes that must hold no secret.
func (h *hygieneRecorder) haystack(kind, source string, data []byte) {
	if len(data) == 0 {
		return
	}
	h.mu.Lock()
	h.hay = append(h.hay, haystack{kind, source, data})
	h.hayBytes[kind] += len(data)
	h.mu.Unlock()
}

// secretNames are the names, lower-cased, of query parameters, form fields
// and JSON members whose string values are secrets.
var secretNames = map[string]string{
	"apikey":        "API key",
	"api_key":       "API key",
	"apikeys":       "API key", // POST /v1/apikeys/leaked
	"client_secret": "client secret",
	"clientsecret":  "client secret",
	"password":      "password",
	"access_token":  "access token",
	"jwt":           "access token",
}

// jsonMarkers gate the JSON walk: a body without any of them holds no
// secret member, and most bodies are skipped without decoding.
var jsonMarkers = [][]byte{[]byte(`"apikey`), []byte(`"clientSecret"`), []byte(`"client_secret"`),
	[]byte(`"password"`), []byte(`"access_token"`), []byte(`"jwt"`), []byte(`"api_key"`)}

// observe learns the secrets of one management exchange and keeps what must
// hold none. It runs on the server's goroutines (app.Options.Tap).
func (h *hygieneRecorder) observe(test string, ex httpapi.Exchange) {
	route := ex.Method + " " + ex.Path
	where := func(part string) string { return part + " of " + route + " in " + test }
	h.mu.Lock()
	h.exchanges++
	h.mu.Unlock()

	h.fromValues(ex.Query, where("query"))
	h.fromRequestHeader(ex.RequestHeader, where("header"))
	h.fromBody(ex.RequestHeader.Get("Content-Type"), ex.RequestBody, where("request body"))
	for _, c := range (&http.Response{Header: ex.ResponseHeader}).Cookies() {
		if c.Name == "gatehouse_session" {
			h.secret("session token ("+where("Set-Cookie")+")", c.Value)
		}
	}

	switch {
	case ex.Status >= 400:
		h.haystack("error body", fmt.Sprintf("error body of %s → %d in %s", route, ex.Status, test), ex.ResponseBody)
	case ex.Path == "/metrics":
		h.haystack("metrics", "metrics ("+where("answer")+")", ex.ResponseBody)
	case ex.Path == "/v1/audit":
		h.haystack("audit", "audit entries ("+where("answer")+")", ex.ResponseBody)
	default:
		h.fromBody(ex.ResponseHeader.Get("Content-Type"), ex.ResponseBody, where("response"))
	}
}

// observeGateway learns the credentials of a gateway call.
func (h *hygieneRecorder) observeGateway(test string, r *http.Request) {
	where := "gateway call " + r.Method + " " + r.URL.Path + " in " + test
	h.secret("client secret (X-IBM-Client-Secret of "+where+")", r.Header.Get("X-IBM-Client-Secret"))
	h.fromValues(r.URL.Query(), where)
}

func (h *hygieneRecorder) fromValues(v url.Values, where string) {
	for name, vs := range v {
		if kind, ok := secretNames[strings.ToLower(name)]; ok {
			for _, s := range vs {
				h.secret(kind+" ("+name+" in "+where+")", s)
			}
		}
	}
}

func (h *hygieneRecorder) fromRequestHeader(hdr http.Header, where string) {
	for _, a := range hdr.Values("Authorization") {
		_, cred, _ := strings.Cut(strings.TrimSpace(a), " ")
		h.secret("bearer credential (Authorization "+where+")", strings.TrimSpace(cred))
	}
	h.secret("API key (IAM-ApiKey "+where+")", hdr.Get("IAM-ApiKey"))
	h.secret("client secret (X-IBM-Client-Secret "+where+")", hdr.Get("X-IBM-Client-Secret"))
	for _, c := range (&http.Request{Header: hdr}).Cookies() {
		if c.Name == "gatehouse_session" {
			h.secret("session token (Cookie "+where+")", c.Value)
		}
	}
}

func (h *hygieneRecorder) fromBody(ctype string, body []byte, where string) {
	if len(body) == 0 {
		return
	}
	mt, _, _ := mime.ParseMediaType(ctype)
	switch {
	case mt == "application/x-www-form-urlencoded":
		if v, err := url.ParseQuery(string(body)); err == nil {
			h.fromValues(v, where)
		}
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		if !slices.ContainsFunc(jsonMarkers, func(m []byte) bool { return bytes.Contains(body, m) }) {
			return
		}
		var v any
		if json.Unmarshal(body, &v) == nil {
			h.walkJSON(v, "", where)
		}
	}
}

// walkJSON records the string values of secret members, at any depth.
func (h *hygieneRecorder) walkJSON(v any, member, where string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			h.walkJSON(x, k, where)
		}
	case []any:
		for _, x := range v {
			h.walkJSON(x, member, where)
		}
	case string:
		if kind, ok := secretNames[strings.ToLower(member)]; ok {
			h.secret(kind+" ("+member+" in "+where+")", v)
		}
	}
}

// hygieneTransport is the e2e client's transport: it hands gateway calls'
// credentials and error bodies to the recorder (the management listener's
// traffic reaches it through the server's tap).
type hygieneTransport struct {
	base   *http.Transport
	rec    *hygieneRecorder
	test   string
	gwHost string
}

func (t *hygieneTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(r)
	if r.URL.Host != t.gwHost {
		return res, err
	}
	t.rec.observeGateway(t.test, r)
	if err != nil || res.StatusCode < 400 {
		return res, err
	}
	source := fmt.Sprintf("gateway error body of %s %s → %d in %s", r.Method, r.URL.Path, res.StatusCode, t.test)
	res.Body = &capturedBody{ReadCloser: res.Body, done: func(b []byte) { t.rec.haystack("error body", source, b) }}
	return res, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the base
// transport (the harness relies on it to stop servers promptly).
func (t *hygieneTransport) CloseIdleConnections() { t.base.CloseIdleConnections() }

// capturedBody copies up to maxCaptured bytes of what is read and hands
// them over once, at EOF or Close.
type capturedBody struct {
	io.ReadCloser
	buf  bytes.Buffer
	once sync.Once
	done func([]byte)
}

const maxCaptured = 1 << 20

func (b *capturedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if room := maxCaptured - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(n, room)])
	}
	if err == io.EOF {
		b.once.Do(func() { b.done(b.buf.Bytes()) })
	}
	return n, err
}

func (b *capturedBody) Close() error {
	b.once.Do(func() { b.done(b.buf.Bytes()) })
	return b.ReadCloser.Close()
}

// scrape reads what a running server holds that no test may have looked at:
// its metrics (GET /metrics, which reaches the recorder through the tap) and
// every audit entry. The audit log is read from the store rather than
// through GET /v1/audit — the same fields the API renders — because a token
// exchange for the read would itself change the server under test (a new
// audit entry, the admin key's activity) before a restart test looks at it.
func (s *server) scrape() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var problems []string
	if r, err := s.send(ctx, req{method: "GET", path: "/metrics"}); err != nil || r.status != http.StatusOK {
		problems = append(problems, fmt.Sprintf("metrics: %d %v", r.status, err))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for after := int64(0); ; {
		page, err := s.app.Store().ListAudit(ctx, store.AuditQuery{AfterSeq: after, Limit: 1000})
		if err != nil {
			problems = append(problems, "audit: "+err.Error())
			break
		}
		for _, e := range page {
			_ = enc.Encode(e)
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].Seq
	}
	s.hy.haystack("audit", "audit log of a server of "+s.test, buf.Bytes())
	s.hy.mu.Lock()
	if len(problems) == 0 {
		s.hy.scraped++
	} else {
		s.hy.unscraped = append(s.hy.unscraped, s.test+": "+strings.Join(problems, "; "))
	}
	s.hy.mu.Unlock()
}

// finding is a secret found where it must not be, or an unredacted parameter.
type finding struct {
	what   string // the secret, described
	source string // the haystack
	around string // context, the secret itself masked
}

func (f finding) String() string {
	return fmt.Sprintf("%s appears in the %s: …%s…", f.what, f.source, f.around)
}

// needles are the forms in which v would betray itself: the value, its URL-
// and JSON-escaped forms, and distinctive parts — the 43-character body of a
// Gatehouse key, a JWT's signature segment, a 16-character stretch from the
// middle of any other long value (a truncated leak). A form with fewer than
// 6 distinct bytes is left out: strings.Repeat("x", 40), sent as a key by a
// test, is no secret and would match unrelated padding.
func needles(v string) []string {
	forms := []string{v, url.QueryEscape(v)}
	if j, err := json.Marshal(v); err == nil {
		forms = append(forms, string(j[1:len(j)-1]))
	}
	parts := strings.Split(v, ".")
	switch {
	case strings.HasPrefix(v, "gatehouse_") && len(v) == 59:
		forms = append(forms, v[10:53])
	case len(parts) == 3 && strings.HasPrefix(v, "eyJ"):
		forms = append(forms, parts[2])
	case len(v) >= 32:
		forms = append(forms, v[len(v)/2-8:len(v)/2+8])
	}
	out := forms[:0]
	for _, f := range forms {
		if len(f) >= minSecret && distinct(f) >= 6 && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func distinct(s string) int {
	var seen [256]bool
	n := 0
	for i := 0; i < len(s); i++ {
		if !seen[s[i]] {
			seen[s[i]] = true
			n++
		}
	}
	return n
}

// matcher finds any of many needles (each ≥ 8 bytes) in one pass over a
// haystack: needles are bucketed by their last 8 bytes, and each haystack
// position looks its preceding 8 bytes up — first in a bit set (cheap, and
// almost always a miss), then in the map — instead of a strings.Contains per
// secret.
type matcher struct {
	filter []uint64 // bit tailBit(tail) set for every needle's tail
	byTail map[uint64][]int
	needle []string
	owner  []int // index of the secret a needle comes from
	what   []string
}

const filterBits = 1 << 22

func tailBit(tail uint64) uint64 { return (tail * 0x9E3779B97F4A7C15) >> (64 - 22) }

func newMatcher(secrets map[string]string) *matcher {
	m := &matcher{filter: make([]uint64, filterBits/64), byTail: map[uint64][]int{}}
	for v, what := range secrets {
		owner := len(m.what)
		m.what = append(m.what, what)
		for _, n := range needles(v) {
			tail := binary.LittleEndian.Uint64([]byte(n[len(n)-8:]))
			b := tailBit(tail)
			m.filter[b/64] |= 1 << (b % 64)
			m.byTail[tail] = append(m.byTail[tail], len(m.needle))
			m.needle = append(m.needle, n)
			m.owner = append(m.owner, owner)
		}
	}
	return m
}

// find returns the first match of each secret found in hay.
//
// The loop reads each haystack byte once, into a rolling 8-byte tail. It is
// exempt from the race detector (go:norace; it runs under the recorder's
// lock, on bytes no one writes any more), which would otherwise instrument
// every byte and make the scan of the suite's ~10 MB take seconds.
//
//go:norace
func (m *matcher) find(hay haystack) []finding {
	var out []finding
	seen := map[int]bool{}
	d := hay.data
	var tail uint64
	for i, c := range d {
		tail = tail>>8 | uint64(c)<<56
		if i < 7 {
			continue
		}
		if b := tailBit(tail); m.filter[b/64]&(1<<(b%64)) == 0 {
			continue
		}
		end := i + 1
		for _, id := range m.byTail[tail] {
			n := m.needle[id]
			if seen[m.owner[id]] || len(n) > end || string(d[end-len(n):end]) != n {
				continue
			}
			seen[m.owner[id]] = true
			lo, hi := max(0, end-len(n)-60), min(len(d), end+60)
			around := string(d[lo:end-len(n)]) + "<SECRET>" + string(d[end:hi])
			out = append(out, finding{what: m.what[m.owner[id]], source: hay.source, around: strings.ToValidUTF8(around, "?")})
		}
	}
	return out
}

// secretParams are the query parameters the access log must show as
// REDACTED (SPEC §12 names apikey; the others carry secrets just the same).
var secretParams = map[string]bool{"apikey": true, "api_key": true, "client_secret": true, "password": true, "access_token": true}

// unredacted returns the spans name=value of secret query parameters in a
// log whose value is not REDACTED. It looks at each '=' (found with
// bytes.IndexByte, which is fast even under the race detector, unlike a
// regular expression) that ends one of their names, in any case, after '?',
// '&' or its JSON escape \u0026.
func unredacted(log []byte) [][2]int {
	var out [][2]int
	for off := 0; ; {
		i := bytes.IndexByte(log[off:], '=')
		if i < 0 {
			return out
		}
		eq := off + i
		off = eq + 1
		start := -1
		for name := range secretParams {
			if n := eq - len(name); n > 0 && strings.EqualFold(string(log[n:eq]), name) &&
				(log[n-1] == '?' || log[n-1] == '&' || bytes.HasSuffix(log[:n], []byte(`\u0026`))) {
				start = n
			}
		}
		if start < 0 {
			continue
		}
		end := off
		for end < len(log) && !bytes.ContainsRune([]byte("&\" \t\r\n\\"), rune(log[end])) {
			end++
		}
		if v := string(log[off:end]); v != "" && v != "REDACTED" {
			out = append(out, [2]int{start, end})
		}
	}
}

// hygieneReport is the outcome of check.
type hygieneReport struct {
	findings []finding
	secrets  int
	needles  int
	stats    string
}

// check scans every haystack for every secret, and every log for
// unredacted secret parameters.
func (h *hygieneRecorder) check() hygieneReport {
	h.mu.Lock()
	defer h.mu.Unlock()
	start := time.Now()
	m := newMatcher(h.secrets)
	var r hygieneReport
	for _, hay := range h.hay {
		r.findings = append(r.findings, m.find(hay)...)
		if hay.kind != "log" {
			continue
		}
		for _, sp := range unredacted(hay.data) {
			name, _, _ := bytes.Cut(hay.data[sp[0]:sp[1]], []byte("="))
			lo, hi := max(0, sp[0]-60), min(len(hay.data), sp[1]+20)
			r.findings = append(r.findings, finding{what: "an unredacted " + string(name) + " parameter", source: hay.source, around: strings.ToValidUTF8(string(hay.data[lo:hi]), "?")})
		}
	}
	r.secrets, r.needles = len(h.secrets), len(m.needle)
	kinds := map[string]int{}
	for _, what := range h.secrets {
		kind, _, _ := strings.Cut(what, " (")
		kinds[kind]++
	}
	var counts, sizes []string
	for _, k := range slices.Sorted(mapKeys(kinds)) {
		counts = append(counts, fmt.Sprintf("%d %s", kinds[k], k))
	}
	for _, k := range slices.Sorted(mapKeys(h.hayBytes)) {
		sizes = append(sizes, fmt.Sprintf("%s %.1f MB", k, float64(h.hayBytes[k])/1e6))
	}
	r.stats = fmt.Sprintf("hygiene: %d secrets (%s; %d forms) learned from %d exchanges; %d haystacks scanned (%s) in %v; %d servers scraped at stop, %d not",
		r.secrets, strings.Join(counts, ", "), r.needles, h.exchanges, len(h.hay), strings.Join(sizes, ", "), time.Since(start).Round(time.Millisecond), h.scraped, len(h.unscraped))
	return r
}

// hygieneMain is TestMain's final check: it prints the report and returns
// false when anything leaked.
func hygieneMain() bool {
	r := hygiene.check()
	if testing.Verbose() || len(r.findings) > 0 {
		fmt.Println(r.stats)
		for _, u := range hygiene.unscraped {
			fmt.Println("hygiene: not scraped:", u)
		}
	}
	for _, f := range r.findings {
		fmt.Println("hygiene: LEAK:", f)
	}
	return len(r.findings) == 0
}

// The scanner finds each kind of secret in each kind of haystack, in every
// form it checks, and stays quiet about what is not a leak.
func TestHygieneScannerFindsPlantedSecrets(t *testing.T) {
	t.Parallel()
	key, err := iam.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	clientSecret := rand.Text() + rand.Text()
	password := "correct horse battery staple"
	sig := base64.RawURLEncoding.EncodeToString([]byte(rand.Text() + rand.Text() + rand.Text()))
	tok := "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0." + base64.RawURLEncoding.EncodeToString([]byte(`{"jti":"`+rand.Text()+`"}`)) + "." + sig
	foreign := "legacy-" + strings.Repeat("0123456789", 4)
	junkKey := strings.Repeat("z", 40) // sent as a key by tests; no secret
	jsonHdr := http.Header{"Content-Type": {"application/json"}}
	formHdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

	// learned returns a recorder that has seen the suite's ways of meeting secrets.
	learned := func() *hygieneRecorder {
		rec := newHygieneRecorder()
		for _, ex := range []httpapi.Exchange{
			{Method: "POST", Path: "/v1/apikeys", RequestHeader: jsonHdr, RequestBody: []byte(`{"name":"k"}`),
				Status: 201, ResponseHeader: jsonHdr, ResponseBody: []byte(`{"id":"ApiKey-1","apikey":"` + key + `"}`)},
			{Method: "POST", Path: "/v1/orgs/o/environments/sb/consumerOrgs/c/apps", RequestHeader: jsonHdr,
				Status: 201, ResponseHeader: jsonHdr, ResponseBody: []byte(`{"credentials":{"clientID":"id-1","clientSecret":"` + clientSecret + `"}}`)},
			{Method: "POST", Path: "/identity/token", RequestHeader: formHdr,
				RequestBody: []byte(url.Values{"grant_type": {"password"}, "username": {"ada"}, "password": {password}}.Encode()),
				Status:      200, ResponseHeader: jsonHdr, ResponseBody: []byte(`{"access_token":"` + tok + `","refresh_token":"not_supported"}`)},
			{Method: "POST", Path: "/v1/apikeys", RequestHeader: jsonHdr, RequestBody: []byte(`{"name":"imported","apikey":"` + foreign + `"}`),
				Status: 201, ResponseHeader: jsonHdr, ResponseBody: []byte(`{"id":"ApiKey-2"}`)},
			{Method: "POST", Path: "/apikey", Query: url.Values{"apikey": {junkKey}}, RequestHeader: http.Header{},
				Status: 400, ResponseHeader: jsonHdr, ResponseBody: []byte(`{"errorCode":"BXNIM0415E"}`)},
		} {
			rec.observe("TestPlanted", ex)
		}
		return rec
	}
	if rec := learned(); len(rec.secrets) != 6 {
		t.Fatalf("learned %d secrets, want 6: %v", len(rec.secrets), rec.secrets)
	}

	for _, tc := range []struct {
		name string
		add  func(rec *hygieneRecorder)
		want []string // what the findings name, in order
	}{
		{"ok/clean-haystacks", func(rec *hygieneRecorder) {
			rec.haystack("log", "a log", []byte(`{"msg":"request","path":"/apikey?apikey=REDACTED\u0026role=Reader","hint":"`+iam.Hint(key)+`"}`+"\n"))
			rec.haystack("error body", "an error body", []byte(`{"name":"`+strings.Repeat("z", 200)+`"}`))
			rec.haystack("metrics", "metrics", []byte("gatehouse_token_exchanges_total{outcome=\"success\"} 3\n"))
		}, nil},
		{"fail/key-in-error-body", func(rec *hygieneRecorder) {
			rec.observe("TestPlanted", httpapi.Exchange{Method: "GET", Path: "/v1/apikeys/x", RequestHeader: http.Header{},
				Status: 404, ResponseHeader: jsonHdr, ResponseBody: []byte(`{"errors":[{"message":"API key ` + key + ` not found"}]}`)})
		}, []string{"API key (apikey in response of POST /v1/apikeys in TestPlanted) appears in the error body of GET /v1/apikeys/x → 404 in TestPlanted"}},
		{"fail/key-body-without-prefix-and-checksum-in-log", func(rec *hygieneRecorder) {
			rec.haystack("log", "log of a server", []byte(`{"msg":"x","k":"`+key[10:53]+`"}`))
		}, []string{"API key (apikey in response of POST /v1/apikeys in TestPlanted) appears in the log of a server"}},
		{"fail/token-signature-in-audit", func(rec *hygieneRecorder) {
			rec.haystack("audit", "audit log", []byte(`{"Message":"sig `+sig+`"}`))
		}, []string{"access token (access_token in response of POST /identity/token in TestPlanted) appears in the audit log"}},
		{"fail/url-encoded-password-in-log", func(rec *hygieneRecorder) {
			rec.haystack("log", "log", []byte(`body=username=ada&password=correct+horse+battery+staple`))
		}, []string{"password (password in request body of POST /identity/token in TestPlanted) appears in the log", "an unredacted password parameter appears in the log"}},
		{"fail/part-of-client-secret-in-metrics", func(rec *hygieneRecorder) {
			rec.haystack("metrics", "metrics", []byte(`x{app="`+clientSecret[len(clientSecret)/2-10:len(clientSecret)/2+10]+`"} 1`))
		}, []string{"client secret (clientSecret in response of POST /v1/orgs/o/environments/sb/consumerOrgs/c/apps in TestPlanted) appears in the metrics"}},
		{"fail/imported-key-in-error-body", func(rec *hygieneRecorder) {
			rec.haystack("error body", "error body", []byte(`"`+foreign+`" already exists`))
		}, []string{"API key (apikey in request body of POST /v1/apikeys in TestPlanted) appears in the error body"}},
		{"fail/unredacted-apikey-parameter", func(rec *hygieneRecorder) {
			rec.haystack("log", "log", []byte(`{"path":"/apikey?role=Reader\u0026apikey=abc"}`))
		}, []string{"an unredacted apikey parameter appears in the log"}},
		{"fail/unredacted-mixed-case-parameter-in-text-log", func(rec *hygieneRecorder) {
			rec.haystack("log", "log", []byte(`level=INFO msg=request path="/apikey?ApiKey=abc&role=Reader" status=400`))
		}, []string{"an unredacted ApiKey parameter appears in the log"}},
		{"fail/secret-in-gateway-error-body", func(rec *hygieneRecorder) {
			backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"moreInformation":"`+r.Header.Get("X-IBM-Client-Secret")+`"}`)
			}))
			defer backend.Close()
			u, _ := url.Parse(backend.URL)
			hc := &http.Client{Transport: &hygieneTransport{base: &http.Transport{}, rec: rec, test: "TestPlanted", gwHost: u.Host}}
			r, _ := http.NewRequest("GET", backend.URL+"/o/sb/api", nil)
			r.Header.Set("X-IBM-Client-Secret", "wrong-"+clientSecret[:20])
			res, err := hc.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			hc.CloseIdleConnections()
		}, []string{"client secret (X-IBM-Client-Secret of gateway call GET /o/sb/api in TestPlanted) appears in the gateway error body of GET /o/sb/api → 401 in TestPlanted"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := learned()
			tc.add(rec)
			var got []string
			for _, f := range rec.check().findings {
				got = append(got, f.what+" appears in the "+f.source)
				if strings.Contains(f.around, key) || strings.Contains(f.around, password) {
					t.Errorf("the report shows the secret: %s", f.around)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// The whole pipeline, on a real server with its own recorder: what the
// server says and does is learned and kept, and a secret planted in its log
// or its audit log is found when it stops.
func TestHygieneCatchesALeakingServer(t *testing.T) {
	t.Parallel()
	rec := newHygieneRecorder()
	s := startServerFor(t, rec)
	tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	admin := s.client().WithToken(tok)
	k := mustCreateKey(t, admin, client.CreateAPIKey{Name: "planted"})
	password := "a password to plant " + rand.Text()
	u := mustUser(t, admin, client.CreateUser{Username: "planted", Password: password})
	if r := s.do(t, req{method: "GET", path: "/v1/apikeys/nothing-here", token: tok}); r.status != http.StatusNotFound {
		t.Fatalf("GET an unknown key: %d", r.status)
	}
	rec.mu.Lock()
	for what, v := range map[string]string{"admin key": s.admin.APIKey, "token": tok, "created key": k.APIKey, "password": password} {
		if _, ok := rec.secrets[v]; !ok {
			t.Errorf("the recorder did not learn the %s", what)
		}
	}
	rec.mu.Unlock()

	// Plant: a log line with the key (in the path too), an audit entry with the password.
	fmt.Fprintf(s.logs, `{"level":"INFO","msg":"planted","path":"/apikey?apikey=%s"}`+"\n", k.APIKey)
	err := s.app.Store().AppendAudit(t.Context(), []store.AuditEntry{{AccountID: u.AccountID, Time: s.clock.Now(), Action: "user.update", Outcome: "success", Message: "set password " + password}},
		func(prev store.AuditEntry, e *store.AuditEntry) { e.PrevHash, e.Hash = prev.Hash, "planted" })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}

	r := rec.check()
	var got []string
	for _, f := range r.findings {
		got = append(got, f.what[:strings.Index(f.what+" (", " (")]+" in the "+strings.Fields(f.source)[0])
	}
	slices.Sort(got)
	want := []string{"API key in the log", "an unredacted apikey parameter in the log", "password in the audit"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q\n%s", got, want, r.stats)
	}
	kinds := map[string]bool{}
	for _, h := range rec.hay {
		kinds[h.kind] = true
	}
	if !kinds["log"] || !kinds["metrics"] || !kinds["audit"] || !kinds["error body"] || rec.scraped != 1 {
		t.Errorf("haystacks %v, %d servers scraped; want log, metrics, audit, error body and 1", kinds, rec.scraped)
	}
}

// Everything the server keeps on disk is private (SPEC §12): the data
// directory and any directory in it 0700, every file 0600 — the database's
// write-ahead log and shared-memory index too, which hold the same digests
// and sealed signing keys as the database — while it serves and after it
// stops.
func TestDataDirectoryIsPrivate(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	mustCreateKey(t, admin, client.CreateAPIKey{Name: "on-disk"})
	check := func(when string) []string {
		t.Helper()
		var names []string
		err := filepath.WalkDir(s.DataDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			want := os.FileMode(0o600)
			if d.IsDir() {
				want = 0o700
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s: %s has mode %04o, want %04o", when, p, fi.Mode().Perm(), want)
			}
			names = append(names, strings.TrimPrefix(p, s.DataDir))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	names := check("while serving")
	for _, want := range []string{"/master.key", "/admin-apikey.json", "/gatehouse.db", "/gatehouse.db-wal", "/gatehouse.db-shm"} {
		if !slices.Contains(names, want) {
			t.Errorf("the data directory holds %q while serving, not %s", names, want)
		}
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	check("after stop")
}

// The hand procedures of docs/security.md work as the document says:
// replacing the master key, and cutting off a compromised signing key at
// once. Both refuse every token the removed keys signed and leave API keys
// working.
func TestSecurityDocProcedures(t *testing.T) {
	t.Parallel()
	const issuer = "https://gatehouse.test" // the same on every restart, whatever the port
	sqlExec := func(t *testing.T, s *server, stmts ...string) {
		t.Helper()
		db, err := sql.Open("sqlite", s.cfg.SQLitePath())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range stmts {
			if _, err := db.ExecContext(t.Context(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	// setup returns a stopped server, a key of it, and a token it issued.
	setup := func(t *testing.T, clk *clock, before func(*server, *client.Client)) (*server, string, string) {
		s := startServer(t, withClock(clk), withIssuer(issuer))
		admin := s.asAdmin(t)
		k := mustCreateKey(t, admin, client.CreateAPIKey{Name: "survivor"})
		tok := mustToken(t, s, k.APIKey, client.TokenOptions{})
		before(s, admin)
		if err := s.stop(t); err != nil {
			t.Fatal(err)
		}
		return s, k.APIKey, tok
	}

	t.Run("master-key-replaced-by-hand", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		s, key, tok := setup(t, clk, func(*server, *client.Client) {})
		old, err := os.ReadFile(s.cfg.MasterKeyFile)
		if err != nil {
			t.Fatal(err)
		}
		sqlExec(t, s, "DELETE FROM signing_keys", "DELETE FROM meta WHERE name = 'master_key_fingerprint'")
		if err := os.Remove(s.cfg.MasterKeyFile); err != nil {
			t.Fatal(err)
		}
		s2 := startServer(t, withDataDir(s.DataDir), withClock(clk), withIssuer(issuer))
		if now, err := os.ReadFile(s.cfg.MasterKeyFile); err != nil || bytes.Equal(now, old) {
			t.Fatalf("no new master key (%v)", err)
		}
		tokenRefused(t, s2, tok)
		tokenWorks(t, s2, mustToken(t, s2, key, client.TokenOptions{}))
	})

	t.Run("compromised-signing-key-cut-off", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		var oldKID string
		s, key, tok := setup(t, clk, func(s *server, admin *client.Client) {
			oldKID = jwtPart(t, mustToken(t, s, s.admin.APIKey, client.TokenOptions{}), 0)["kid"].(string)
			if _, err := admin.RotateSigningKey(t.Context(), true); err != nil {
				t.Fatal(err)
			}
		})
		s2 := startServer(t, withDataDir(s.DataDir), withClock(clk), withIssuer(issuer))
		tokenWorks(t, s2, tok) // rotation alone leaves the old key verifying
		if err := s2.stop(t); err != nil {
			t.Fatal(err)
		}
		sqlExec(t, s, "DELETE FROM signing_keys WHERE id = '"+oldKID+"'")
		s3 := startServer(t, withDataDir(s.DataDir), withClock(clk), withIssuer(issuer))
		tokenRefused(t, s3, tok)
		fresh := mustToken(t, s3, key, client.TokenOptions{})
		if kid := jwtPart(t, fresh, 0)["kid"]; kid == oldKID {
			t.Fatalf("a new token is signed by the deleted key %s", oldKID)
		}
		tokenWorks(t, s3, fresh)
	})
}
