package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/client"
)

// testEnv is an env on buffers with its token cache in a temporary directory.
func testEnv(t *testing.T) (*env, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errb bytes.Buffer
	dir := filepath.Join(t.TempDir(), "config", "gatehouse")
	e := &env{
		stdin:  strings.NewReader(""),
		stdout: &out,
		stderr: &errb,
		getenv: func(string) string { return "" },
		now:    time.Now,
		cache:  store{dir: func() (string, error) { return dir, nil }},
	}
	return e, &out, &errb
}

func TestRenderFormats(t *testing.T) {
	exp := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	keys := []client.APIKey{
		{ID: "ApiKey-1", Name: "ci", Role: "Writer", Hint: "gh_…abcd", ExpiresAt: &exp, CreatedAt: time.Date(2026, 11, 25, 10, 24, 0, 0, time.UTC)},
		{ID: "ApiKey-2", Name: "tab\tand\nnewline", Locked: true, Description: "true"},
	}
	mk := func() *table { return apikeyTable(keys) }

	t.Run("table/headers-and-aligned-rows", func(t *testing.T) {
		var b bytes.Buffer
		if err := render(&b, formatTable, keys, mk); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("want a header and 2 rows:\n%s", b.String())
		}
		for _, h := range []string{"ID", "NAME", "ROLE", "LOCKED", "EXPIRES", "HINT"} {
			if !strings.Contains(lines[0], h) {
				t.Errorf("header lacks %s: %q", h, lines[0])
			}
		}
		if strings.Index(lines[1], "ci") != strings.Index(lines[0], "NAME") {
			t.Errorf("columns are not aligned:\n%s", b.String())
		}
		if !strings.Contains(lines[1], "2026-12-31T00:00:00Z") || !strings.Contains(lines[2], "tab and newline") {
			t.Errorf("cells:\n%s", b.String())
		}
	})
	t.Run("json/indented-with-api-field-names", func(t *testing.T) {
		var b bytes.Buffer
		if err := render(&b, formatJSON, keys, mk); err != nil {
			t.Fatal(err)
		}
		var got []map[string]any
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatalf("%v\n%s", err, b.String())
		}
		if got[0]["id"] != "ApiKey-1" || got[0]["expires_at"] != "2026-12-31T00:00:00Z" || !strings.Contains(b.String(), "\n  ") {
			t.Errorf("json:\n%s", b.String())
		}
	})
	t.Run("yaml/json-names-in-order-and-quoted-strings", func(t *testing.T) {
		var b bytes.Buffer
		if err := render(&b, formatYAML, keys[1], mk); err != nil {
			t.Fatal(err)
		}
		y := b.String()
		if !strings.HasPrefix(y, "id: ApiKey-2\nentity_tag: \"\"\n") {
			t.Errorf("yaml does not keep the JSON order:\n%s", y)
		}
		// the string "true" must stay a string
		if !strings.Contains(y, `description: "true"`) || !strings.Contains(y, "locked: true") {
			t.Errorf("yaml types:\n%s", y)
		}
	})
}

func TestDocumentConversions(t *testing.T) {
	var b bytes.Buffer
	if err := yamlToJSON(&b, []byte("info: {title: T, version: 1.0.0}\npaths:\n  /a: {get: {responses: {'200': {description: ok}}}}\n")); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b.Bytes(), &v); err != nil || v["info"].(map[string]any)["version"] != "1.0.0" {
		t.Errorf("yaml to json: %v\n%s", err, b.String())
	}
	b.Reset()
	if err := jsonToYAML(&b, []byte(`{"swagger":"2.0","info":{"version":"1.0"}}`)); err != nil {
		t.Fatal(err)
	}
	if b.String() != "swagger: \"2.0\"\ninfo:\n  version: \"1.0\"\n" {
		t.Errorf("json to yaml:\n%s", b.String())
	}
	for doc, want := range map[string]bool{"{\"a\":1}": true, "\n  [1]": true, "a: 1": false, "": false} {
		if isJSON([]byte(doc)) != want {
			t.Errorf("isJSON(%q) != %v", doc, want)
		}
	}
}

func TestReadAPIKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return "@" + p
	}
	tests := []struct {
		name, arg, want, errPart string
	}{
		{name: "literal", arg: "gatehouse_abc", want: "gatehouse_abc"},
		{name: "literal/trimmed", arg: " gatehouse_abc\n", want: "gatehouse_abc"},
		{name: "file/full", arg: write("full.json", `{"name":"k","description":"","apikey":"gatehouse_full","createdAt":"2026-11-25T10:24+0000","locked":false,"uuid":"ApiKey-1"}`), want: "gatehouse_full"},
		{name: "file/only-apikey", arg: write("min.json", `{"apikey": "gatehouse_min"}`), want: "gatehouse_min"},
		{name: "fail/file-without-apikey", arg: write("none.json", `{"name":"k"}`), errPart: "no apikey field"},
		{name: "fail/file-not-json", arg: write("bad.json", `apikey: x`), errPart: "not an apikey.json"},
		{name: "fail/missing-file", arg: "@" + filepath.Join(dir, "nope.json"), errPart: "does not exist"},
		{name: "fail/at-without-path", arg: "@", errPart: "file name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAPIKey(tt.arg)
			if tt.errPart != "" {
				var ue usageError
				if err == nil || !strings.Contains(err.Error(), tt.errPart) || !errors.As(err, &ue) {
					t.Fatalf("readAPIKey(%q) = %q, %v; want a usage error with %q", tt.arg, got, err, tt.errPart)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("readAPIKey(%q) = %q, %v; want %q", tt.arg, got, err, tt.want)
			}
		})
	}
}

func wantPerm(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != want {
		t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
	}
}

func TestTokenCacheFiles(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "gatehouse")
	st := store{dir: func() (string, error) { return dir, nil }}
	if s, err := st.load(); s != nil || err != nil {
		t.Fatalf("load without a cache: %v, %v", s, err)
	}
	want := &session{Server: "http://h:1", Token: "tok", Expiration: time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC), KeyFingerprint: fingerprint("gatehouse_k")}
	path, err := st.save(want)
	if err != nil {
		t.Fatal(err)
	}
	wantPerm(t, dir, 0o700)
	wantPerm(t, path, 0o600)
	got, err := st.load()
	if err != nil || *got != *want {
		t.Fatalf("load: %+v, %v; want %+v", got, err, want)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), "gatehouse_k") {
		t.Errorf("the cache holds the API key:\n%s", raw)
	}

	t.Run("existing-loose-directory-is-tightened", func(t *testing.T) {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := st.save(want); err != nil {
			t.Fatal(err)
		}
		wantPerm(t, dir, 0o700)
		wantPerm(t, path, 0o600)
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Errorf("temporary files left behind: %v", ents)
		}
	})
	t.Run("damaged-cache-is-none", func(t *testing.T) {
		if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := st.load(); s != nil || err != nil {
			t.Errorf("damaged cache: %v, %v", s, err)
		}
	})
	t.Run("remove", func(t *testing.T) {
		if _, had, err := st.remove(); !had || err != nil {
			t.Errorf("remove: %v, %v", had, err)
		}
		if _, had, err := st.remove(); had || err != nil {
			t.Errorf("second remove: %v, %v", had, err)
		}
	})
}

func TestKeyFileFormat(t *testing.T) {
	k := &client.APIKey{ID: "ApiKey-71c3d32a-7238-4abb-a66b-237430c96fcf", Name: "MyKey", Description: "this is my API key",
		APIKey: "gatehouse_value", CreatedAt: time.Date(2026, 11, 25, 10, 24, 59, 0, time.FixedZone("x", 3600))}
	data, err := marshalKeyFile(keyFileOf(k))
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n\t\"name\": \"MyKey\",\n\t\"description\": \"this is my API key\",\n\t\"apikey\": \"gatehouse_value\",\n" +
		"\t\"createdAt\": \"2026-11-25T09:24+0000\",\n\t\"locked\": false,\n\t\"uuid\": \"ApiKey-71c3d32a-7238-4abb-a66b-237430c96fcf\"\n}\n"
	if string(data) != want {
		t.Errorf("apikey.json:\n%s\nwant:\n%s", data, want)
	}

	path := filepath.Join(t.TempDir(), "apikey.json")
	if err := checkNewFile(path); err != nil {
		t.Fatal(err)
	}
	if err := writeKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	wantPerm(t, path, 0o600)
	kf, err := client.ReadKeyFile(path)
	if err != nil || kf.APIKey != k.APIKey {
		t.Errorf("read back: %+v, %v", kf, err)
	}
	if err := checkNewFile(path); err == nil {
		t.Error("an existing file is accepted as a new key file")
	}
	if err := writeKeyFile(path, k); err == nil {
		t.Error("writeKeyFile overwrote an existing file")
	}
}

func TestTimeFlags(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in         string
		when, past time.Time
	}{
		{"2026-12-31T23:59:00Z", time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC), time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC)},
		{"2026-12-31T23:59:00+01:00", time.Date(2026, 12, 31, 22, 59, 0, 0, time.UTC), time.Date(2026, 12, 31, 22, 59, 0, 0, time.UTC)},
		{"2026-12-31", time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"90d", now.Add(90 * 24 * time.Hour), now.Add(-90 * 24 * time.Hour)},
		{"36h", now.Add(36 * time.Hour), now.Add(-36 * time.Hour)},
	}
	for _, tt := range tests {
		if got, err := parseWhen(tt.in, now); err != nil || !got.Equal(tt.when) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", tt.in, got, err, tt.when)
		}
		if got, err := parsePast(tt.in, now); err != nil || !got.Equal(tt.past) {
			t.Errorf("parsePast(%q) = %v, %v; want %v", tt.in, got, err, tt.past)
		}
	}
	for _, bad := range []string{"soon", "12/31/2026", "5x", ""} {
		if _, err := parseWhen(bad, now); err == nil {
			t.Errorf("parseWhen(%q) accepted", bad)
		}
	}
}

// tokenServer answers IAM token requests for the key "gatehouse_good" and
// counts them.
func tokenServer(t *testing.T, exchanges *atomic.Int32) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/identity/token" {
			http.NotFound(w, r)
			return
		}
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("apikey") != "gatehouse_good" {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"errorCode":"BXNIM0415E","errorMessage":"Provided API key could not be found","context":{"requestId":"r1"}}`)
			return
		}
		n := exchanges.Add(1)
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600,"expiration":%d}`, n, time.Now().Add(time.Hour).Unix())
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTokenResolution(t *testing.T) {
	var exchanges atomic.Int32
	srv := tokenServer(t, &exchanges)
	ctx := context.Background()
	tokenOf := func(c *client.Client) string {
		// the client keeps its token private; a request shows it
		var got string
		probe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			w.Write([]byte(`{}`))
		}))
		defer probe.Close()
		hc := &http.Client{Transport: rewrite{probe.URL}}
		c.WithHTTPClient(hc).Me(ctx)
		return got
	}

	t.Run("not-logged-in", func(t *testing.T) {
		e, _, _ := testEnv(t)
		_, err := e.api(ctx)
		var nl notLoggedIn
		if !errors.As(err, &nl) || !strings.Contains(err.Error(), "gatehouse login") {
			t.Fatalf("err = %v, want the login hint", err)
		}
	})
	t.Run("fresh-session-is-used-without-exchange", func(t *testing.T) {
		e, _, _ := testEnv(t)
		e.cache.save(&session{Server: srv.URL, Token: "cached", Expiration: time.Now().Add(10 * time.Minute)})
		before := exchanges.Load()
		c, err := e.api(ctx)
		if err != nil || tokenOf(c) != "cached" || exchanges.Load() != before {
			t.Fatalf("api: %v; want the cached token and no exchange", err)
		}
	})
	t.Run("expiring-session-without-key-asks-to-log-in", func(t *testing.T) {
		e, _, _ := testEnv(t)
		e.cache.save(&session{Server: srv.URL, Token: "cached", Expiration: time.Now().Add(30 * time.Second)})
		_, err := e.api(ctx)
		if err == nil || !strings.Contains(err.Error(), "expired") || !strings.Contains(err.Error(), "gatehouse login") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("expiring-session-is-refreshed-with-its-key", func(t *testing.T) {
		e, _, _ := testEnv(t)
		e.apikeyFlag = "gatehouse_good"
		e.cache.save(&session{Server: srv.URL, Token: "cached", Expiration: time.Now().Add(30 * time.Second), KeyFingerprint: fingerprint("gatehouse_good")})
		c, err := e.api(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tok := tokenOf(c)
		s, _ := e.cache.load()
		if tok == "cached" || s.Token != tok || !s.fresh(time.Now()) {
			t.Fatalf("token %q, cache %+v; want a new token, cached", tok, s)
		}
		before := exchanges.Load()
		if c, err := e.api(ctx); err != nil || tokenOf(c) != tok || exchanges.Load() != before {
			t.Errorf("the refreshed token is not reused: %v", err)
		}
	})
	t.Run("other-key-is-used-once-and-not-cached", func(t *testing.T) {
		e, _, _ := testEnv(t)
		e.getenv = func(k string) string {
			if k == "GATEHOUSE_APIKEY" {
				return "gatehouse_good"
			}
			return ""
		}
		e.cache.save(&session{Server: srv.URL, Token: "cached", Expiration: time.Now().Add(time.Hour), KeyFingerprint: fingerprint("gatehouse_other")})
		c, err := e.api(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tok := tokenOf(c); tok == "cached" {
			t.Error("the session of another key was used")
		}
		if s, _ := e.cache.load(); s.Token != "cached" {
			t.Errorf("the login session was replaced by another key's token")
		}
	})
	t.Run("key-without-session-starts-one", func(t *testing.T) {
		e, _, _ := testEnv(t)
		e.serverFlag = srv.URL
		e.apikeyFlag = "gatehouse_good"
		if _, err := e.api(ctx); err != nil {
			t.Fatal(err)
		}
		s, _ := e.cache.load()
		if s == nil || s.Server != srv.URL || s.KeyFingerprint != fingerprint("gatehouse_good") {
			t.Errorf("session %+v", s)
		}
	})
	t.Run("session-of-another-server-is-not-used", func(t *testing.T) {
		e, _, _ := testEnv(t)
		e.serverFlag = "http://elsewhere:8080/"
		e.cache.save(&session{Server: srv.URL, Token: "cached", Expiration: time.Now().Add(time.Hour)})
		_, err := e.api(ctx)
		if err == nil || !strings.Contains(err.Error(), "not logged in to http://elsewhere:8080") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("bad-key-says-what-the-server-said", func(t *testing.T) {
		e, _, _ := testEnv(t)
		e.serverFlag = srv.URL
		e.apikeyFlag = "gatehouse_bad"
		_, err := e.api(ctx)
		msg := describe(err, srv.URL)
		if !strings.Contains(msg, "BXNIM0415E") || !strings.Contains(msg, "could not be found") {
			t.Fatalf("message %q", msg)
		}
	})
}

// rewrite sends every request to another base URL.
type rewrite struct{ base string }

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	u, _ := url.Parse(rw.base)
	r2 := r.Clone(r.Context())
	r2.URL.Scheme, r2.URL.Host = u.Scheme, u.Host
	return http.DefaultTransport.RoundTrip(r2)
}

func TestDescribeErrors(t *testing.T) {
	apiErr := &client.Error{StatusCode: 400, Code: "validation_failed", Message: "The api document has 2 problem(s); nothing was stored.", Trace: "req-1",
		Details: []client.ErrorDetail{
			{Message: "info.version is required", Target: "/info/version", TargetType: "pointer"},
			{Message: "no operations", Target: "/paths", TargetType: "pointer"},
		}}
	msg := describe(fmt.Errorf("import x.yaml: %w", apiErr), "")
	for _, want := range []string{"import x.yaml: 400 validation_failed: The api document", "\n  /info/version: info.version is required", "\n  /paths: no operations", "req-1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	msg = describe(&client.Error{StatusCode: 403, Code: "forbidden", Message: "Writer role required"}, "")
	if !strings.Contains(msg, "403 forbidden: Writer role required") || !strings.Contains(msg, "role") {
		t.Errorf("403: %s", msg)
	}
	netErr := &url.Error{Op: "Get", URL: "http://127.0.0.1:1/v1/me", Err: errors.New("connection refused")}
	msg = describe(fmt.Errorf("x: %w", netErr), "http://127.0.0.1:1")
	if !strings.HasPrefix(msg, "cannot reach http://127.0.0.1:1: connection refused") || !strings.Contains(msg, "server running") {
		t.Errorf("network: %s", msg)
	}
}

// Client commands in process: usage errors exit 2 before any request.
func TestClientUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"usage/unknown-verb", []string{"apikey", "frobnicate"}, 2, `unknown command "frobnicate" for "gatehouse apikey"`},
		{"usage/suggestion", []string{"apikey", "lsit"}, 2, "did you mean list"},
		{"usage/missing-argument", []string{"apikey", "get"}, 2, "needs ID"},
		{"usage/extra-argument", []string{"org", "get", "a", "b"}, 2, "at most 1"},
		{"usage/unknown-flag", []string{"apikey", "list", "--frob"}, 2, "--frob"},
		{"usage/bad-output-format", []string{"me", "-o", "xml"}, 2, "table, json or yaml"},
		{"usage/required-flag", []string{"api", "list"}, 2, `"org"`},
		{"usage/disable-and-enable", []string{"user", "update", "ada", "--disable", "--enable"}, 2, "disable"},
		{"usage/delete-without-yes-off-terminal", []string{"apikey", "delete", "ApiKey-1"}, 2, "--yes"},
		{"usage/nothing-to-update", []string{"apikey", "update", "ApiKey-1"}, 2, "nothing to change"},
		{"usage/login-without-key", []string{"login", "--server", "http://127.0.0.1:1"}, 2, "needs an API key"},
		{"usage/bad-expiry", []string{"apikey", "create", "k", "--expires-at", "soon"}, 2, "--expires-at"},
		{"usage/import-missing-file", []string{"api", "import", "/nonexistent/x.yaml", "--org", "acme"}, 2, "/nonexistent/x.yaml"},
		{"no/not-logged-in", []string{"me"}, 1, "not logged in: run gatehouse login"},
		{"ok/group-shows-help", []string{"apikey"}, 0, ""},
		{"ok/completion", []string{"completion", "bash"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, out, errb := testEnv(t)
			code := run(e, tt.args)
			if code != tt.code || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("gatehouse %s: exit %d, want %d; stderr %q lacks %q", strings.Join(tt.args, " "), code, tt.code, errb.String(), tt.want)
			}
			if tt.code == 0 && out.Len() == 0 {
				t.Error("no output")
			}
		})
	}
}

var jwtShape = regexp.MustCompile(`^[\w-]+\.[\w-]+\.[\w-]+$`)

// The token command prints the bare token, for $(gatehouse token).
func TestTokenCommandPrintsBareToken(t *testing.T) {
	e, out, errb := testEnv(t)
	e.cache.save(&session{Server: "http://h:1", Token: "aaa.bbb.ccc", Expiration: time.Now().Add(time.Hour)})
	if code := run(e, []string{"token"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if got := strings.TrimSpace(out.String()); !jwtShape.MatchString(got) || got != "aaa.bbb.ccc" {
		t.Errorf("stdout %q", out.String())
	}
	e, _, errb = testEnv(t)
	e.cache.save(&session{Server: "http://h:1", Token: "aaa.bbb.ccc", Expiration: time.Now().Add(time.Hour)})
	if code := run(e, []string{"token", "--role", "Reader"}); code != 2 || !strings.Contains(errb.String(), "--apikey") {
		t.Errorf("down-scoping without a key: exit %d, %s", code, errb)
	}
}

// TestReadAllFollowsPages: every page in order, the continuation passed on,
// an error ends it, and a server that never ends is cut at maxPages.
func TestReadAllFollowsPages(t *testing.T) {
	pages := map[string][]int{"": {1, 2}, "p2": {3}, "p3": {4, 5}}
	nexts := map[string]string{"": "p2", "p2": "p3", "p3": ""}
	var asked []string
	got, err := readAll(func(next string) ([]int, string, error) {
		asked = append(asked, next)
		return pages[next], nexts[next], nil
	})
	if err != nil || !slices.Equal(got, []int{1, 2, 3, 4, 5}) || !slices.Equal(asked, []string{"", "p2", "p3"}) {
		t.Fatalf("readAll = %v, %v after asking %q", got, err, asked)
	}

	boom := errors.New("boom")
	if got, err := readAll(func(next string) ([]int, string, error) {
		if next == "" {
			return []int{1}, "p2", nil
		}
		return nil, "", boom
	}); !errors.Is(err, boom) || got != nil {
		t.Fatalf("readAll with a failing second page = %v, %v", got, err)
	}

	calls := 0
	got, err = readAll(func(string) ([]int, string, error) { calls++; return []int{calls}, "again", nil })
	if err != nil || calls != maxPages || len(got) != maxPages {
		t.Fatalf("an endless listing: %d calls, %d items, %v; want %d", calls, len(got), err, maxPages)
	}
}
