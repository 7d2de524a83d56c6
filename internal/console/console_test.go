package console_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/client"
)

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func TestSignInWithAPIKey(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t, s)
	p := b.signIn(s.admin.APIKey)

	c := sessionCookieOf(p.res)
	if c == nil || c.Value == "" {
		t.Fatalf("no session cookie: %v", p.header["Set-Cookie"])
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/console/" || c.Secure {
		t.Fatalf("cookie flags: HttpOnly=%v SameSite=%v Path=%q Secure=%v; want HttpOnly, Strict, /console/, not Secure without TLS",
			c.HttpOnly, c.SameSite, c.Path, c.Secure)
	}
	if c.MaxAge <= 0 || c.MaxAge > 3600 {
		t.Fatalf("cookie Max-Age %d, want the token's lifetime (≤ 1h)", c.MaxAge)
	}
	if strings.Contains(p.body, s.admin.APIKey) {
		t.Fatal("the sign-in answer echoes the key")
	}
	home := b.get("/console/apikeys")
	if home.status != http.StatusOK {
		t.Fatalf("GET /console/apikeys: %d", home.status)
	}
	mustContain(t, home, "admin", "Sign out", `aria-current="page">API keys`)
	if strings.Contains(home.body, s.admin.APIKey) {
		t.Fatal("the keys page shows a key value")
	}
}

func TestSignInWithAPIKeyFile(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t, s)
	file, err := os.ReadFile(s.file)
	if err != nil {
		t.Fatal(err)
	}
	p := b.postMultipart("/console/signin", url.Values{"csrf": {b.signinForm()}, "method": {"apikey"}},
		map[string][2]string{"apikey_file": {"apikey.json", string(file)}})
	if p.status != http.StatusSeeOther || sessionCookieOf(p.res) == nil {
		t.Fatalf("sign-in with apikey.json: %d\n%s", p.status, p.body)
	}
	// Only "apikey" is required in a file read (SPEC §2.2).
	b2 := newBrowser(t, s)
	p = b2.postMultipart("/console/signin", url.Values{"csrf": {b2.signinForm()}, "method": {"apikey"}},
		map[string][2]string{"apikey_file": {"k.json", `{"apikey": "` + s.admin.APIKey + `"}`}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("sign-in with a minimal file: %d\n%s", p.status, p.body)
	}
}

func TestSignInWithPassword(t *testing.T) {
	s := startServer(t)
	adm := s.adminSDK(t)
	u, err := adm.CreateUser(t.Context(), client.CreateUser{Username: "ada", Name: "Ada Lovelace", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreatePolicy(t.Context(), client.CreatePolicy{Subject: u.IAMID, Role: "Writer"}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, s)
	p := b.post("/console/signin", url.Values{"csrf": {b.signinForm()}, "method": {"password"}, "username": {"ada"}, "password": {"correct horse battery"}})
	if p.status != http.StatusSeeOther || sessionCookieOf(p.res) == nil {
		t.Fatalf("password sign-in: %d\n%s", p.status, p.body)
	}
	mustContain(t, b.get("/console/apikeys"), "Ada Lovelace", "Writer")
}

func TestBadSignInRevealsNothing(t *testing.T) {
	s := startServer(t)
	adm := s.adminSDK(t)
	if _, err := adm.CreateUser(t.Context(), client.CreateUser{Username: "ada", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	disabled, err := adm.CreateAPIKey(t.Context(), client.CreateAPIKey{Name: "off"})
	if err != nil {
		t.Fatal(err)
	}
	if err := adm.DisableAPIKey(t.Context(), disabled.ID, true); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		form url.Values
		file string
	}{
		{"fail/unknown-key", url.Values{"method": {"apikey"}, "apikey": {"gatehouse_" + strings.Repeat("A", 49)}}, ""},
		{"fail/disabled-key", url.Values{"method": {"apikey"}, "apikey": {disabled.APIKey}}, ""},
		{"fail/garbage-key", url.Values{"method": {"apikey"}, "apikey": {"not a key"}}, ""},
		{"fail/not-a-key-file", url.Values{"method": {"apikey"}}, `{"name": "no key here"}`},
		{"fail/wrong-password", url.Values{"method": {"password"}, "username": {"ada"}, "password": {"wrong wrong wrong"}}, ""},
		{"fail/unknown-user", url.Values{"method": {"password"}, "username": {"nobody"}, "password": {"correct horse battery"}}, ""},
	}
	var messages []string
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, s)
			tc.form.Set("csrf", b.signinForm())
			var p *page
			if tc.file != "" {
				p = b.postMultipart("/console/signin", tc.form, map[string][2]string{"apikey_file": {"apikey.json", tc.file}})
			} else {
				p = b.post("/console/signin", tc.form)
			}
			if p.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400\n%s", p.status, p.body)
			}
			if c := sessionCookieOf(p.res); c != nil && c.Value != "" {
				t.Fatal("a failed sign-in set a session")
			}
			m := regexp.MustCompile(`role="alert">\s*<p>([^<]*)</p>`).FindStringSubmatch(p.body)
			if m == nil {
				t.Fatalf("no error shown:\n%s", p.body)
			}
			messages = append(messages, m[1])
			if strings.Contains(p.body, disabled.APIKey) {
				t.Fatal("the page echoes the key")
			}
		})
	}
	for _, m := range messages[1:] {
		if m != messages[0] {
			t.Fatalf("sign-in errors differ (%q vs %q): they must not say which part was wrong", m, messages[0])
		}
	}
}

func TestSignInFormNeedsCSRFAndSameOrigin(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t, s)
	tok := b.signinForm()
	form := url.Values{"method": {"apikey"}, "apikey": {s.admin.APIKey}}
	if p := b.post("/console/signin", form); p.status != http.StatusForbidden || sessionCookieOf(p.res) != nil {
		t.Fatalf("without CSRF token: %d, want 403", p.status)
	}
	form.Set("csrf", tok)
	if p := b.post("/console/signin", form, "Origin", "https://evil.example"); p.status != http.StatusForbidden {
		t.Fatalf("cross-origin: %d, want 403", p.status)
	}
	if p := b.post("/console/signin", form, "Sec-Fetch-Site", "cross-site"); p.status != http.StatusForbidden {
		t.Fatalf("cross-site: %d, want 403", p.status)
	}
	// Another browser's token does not do either.
	other := newBrowser(t, s)
	form.Set("csrf", other.signinForm())
	if p := b.post("/console/signin", form); p.status != http.StatusForbidden {
		t.Fatalf("another browser's token: %d, want 403", p.status)
	}
	form.Set("csrf", tok)
	if p := b.post("/console/signin", form, "Origin", s.URL, "Sec-Fetch-Site", "same-origin"); p.status != http.StatusSeeOther {
		t.Fatalf("same origin: %d\n%s", p.status, p.body)
	}
}

func TestCSRFRefusesForeignForms(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t, s)
	b.signIn(s.admin.APIKey)
	tok := b.token()
	other := newBrowser(t, s)
	other.signIn(s.admin.APIKey)
	otherTok := other.token()
	if tok == otherTok {
		t.Fatal("two sessions share a CSRF token")
	}
	create := func(csrf string, headers ...string) *page {
		return b.post("/console/apikeys", url.Values{"csrf": {csrf}, "name": {"k"}}, headers...)
	}
	for name, p := range map[string]*page{
		"fail/no-token":                  create(""),
		"fail/forged-token":              create(strings.Repeat("A", len(tok))),
		"fail/other-session":             create(otherTok),
		"fail/cross-origin":              create(tok, "Origin", "https://evil.example"),
		"fail/null-origin-cross-site":    create(tok, "Origin", "null", "Sec-Fetch-Site", "cross-site"),
		"fail/foreign-origin-cross-site": create(tok, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"),
		"fail/cross-site":                create(tok, "Sec-Fetch-Site", "cross-site"),
		"fail/same-site-sibling":         create(tok, "Sec-Fetch-Site", "same-site"),
	} {
		if p.status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, p.status)
		}
		if p.header.Get("Content-Security-Policy") != wantCSP {
			t.Errorf("%s: no CSP on the 403 page", name)
		}
	}
	l, err := s.adminSDK(t).ListAPIKeys(t.Context(), client.ListAPIKeysOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.APIKeys) != 1 {
		t.Fatalf("a refused form created a key: %d keys", len(l.APIKeys))
	}
	if p := create(tok, "Origin", s.URL); p.status != http.StatusCreated {
		t.Fatalf("a good form: %d\n%s", p.status, p.body)
	}
	// What Chromium sends from a page with Referrer-Policy: no-referrer.
	if p := create(tok, "Origin", "null", "Sec-Fetch-Site", "same-origin"); p.status != http.StatusCreated {
		t.Fatalf("a good form from a no-referrer page: %d\n%s", p.status, p.body)
	}
	// Signing out needs the token too.
	if p := b.post("/console/signout", url.Values{"csrf": {otherTok}}); p.status != http.StatusForbidden {
		t.Fatalf("sign-out with another session's token: %d", p.status)
	}
	p := b.post("/console/signout", url.Values{"csrf": {tok}})
	if c := sessionCookieOf(p.res); p.status != http.StatusSeeOther || c == nil || c.MaxAge >= 0 {
		t.Fatalf("sign-out: %d, cookie %v", p.status, c)
	}
	if p := b.get("/console/apikeys"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/console/signin") {
		t.Fatalf("after sign-out: %d %s", p.status, p.location())
	}
}

func TestCreateKeyShowsItOnceAsAPIKeyJSON(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t, s)
	b.signIn(s.admin.APIKey)
	p := b.post("/console/apikeys", url.Values{"csrf": {b.token()}, "name": {"MyKey"}, "description": {"this is my API key"}})
	if p.status != http.StatusCreated {
		t.Fatalf("create: %d\n%s", p.status, p.body)
	}
	m := regexp.MustCompile(`<input id="secret-apikey" type="text" readonly value="([^"]+)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no key in the dialog:\n%s", p.body)
	}
	key := m[1]
	mustContain(t, p, `download="apikey.json"`, ">Download</a>", ">Copy</button>", `data-modal`)
	d := regexp.MustCompile(`href="data:application/json;base64,([^"]+)"`).FindStringSubmatch(p.body)
	if d == nil {
		t.Fatal("no data: link")
	}
	raw, err := base64.StdEncoding.DecodeString(d[1])
	if err != nil {
		t.Fatal(err)
	}
	checkKeyFile(t, raw, "MyKey", "this is my API key", key)
	if cc := p.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("the page with a key has Cache-Control %q", cc)
	}
	// The key works, and is never shown again.
	s.sdk(t, key)
	for _, path := range []string{"/console/apikeys", "/console/apikeys?scope=account"} {
		if strings.Contains(b.get(path).body, key) || strings.Contains(b.get(path).body, d[1]) {
			t.Fatalf("%s shows the key again", path)
		}
	}
}

// checkKeyFile checks an apikey.json against SPEC §2.2.
func checkKeyFile(t *testing.T, raw []byte, name, desc, key string) {
	t.Helper()
	var kf map[string]any
	if err := json.Unmarshal(raw, &kf); err != nil {
		t.Fatalf("apikey.json: %v\n%s", err, raw)
	}
	if kf["name"] != name || kf["description"] != desc || kf["apikey"] != key || kf["locked"] != false {
		t.Fatalf("apikey.json fields: %s", raw)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d\+0000$`).MatchString(kf["createdAt"].(string)) {
		t.Fatalf("createdAt %q, want minute precision and +0000", kf["createdAt"])
	}
	if !regexp.MustCompile(`^ApiKey-[0-9a-f-]{36}$`).MatchString(kf["uuid"].(string)) {
		t.Fatalf("uuid %q", kf["uuid"])
	}
	if !strings.HasPrefix(string(raw), "{\n\t\"name\": ") {
		t.Fatalf("apikey.json is not tab-indented in the spec's order:\n%s", raw)
	}
}

func TestDestructiveActionsAskFirstWithoutScript(t *testing.T) {
	s := startServer(t)
	adm := s.adminSDK(t)
	k, err := adm.CreateAPIKey(t.Context(), client.CreateAPIKey{Name: "victim"})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, s)
	b.signIn(s.admin.APIKey)
	tok := b.token()
	for _, action := range []string{"lock", "disable", "delete", "rotate"} {
		p := b.post("/console/apikeys/"+k.ID+"/"+action, url.Values{"csrf": {tok}, "name": {"victim"}})
		if p.status != http.StatusOK {
			t.Fatalf("%s without confirmation: %d", action, p.status)
		}
		mustContain(t, p, `name="confirm" value="yes"`, `action="/console/apikeys/`+k.ID+`/`+action+`"`, "victim")
	}
	if got, err := adm.GetAPIKey(t.Context(), k.ID, false, false); err != nil || got.Locked || got.Disabled {
		t.Fatalf("an unconfirmed action changed the key: %+v %v", got, err)
	}
	steps := []struct {
		action string
		check  func(*client.APIKey, error) bool
	}{
		{"lock", func(k *client.APIKey, err error) bool { return err == nil && k.Locked }},
		{"unlock", func(k *client.APIKey, err error) bool { return err == nil && !k.Locked }},
		{"disable", func(k *client.APIKey, err error) bool { return err == nil && k.Disabled }},
		{"enable", func(k *client.APIKey, err error) bool { return err == nil && !k.Disabled }},
		{"delete", func(k *client.APIKey, err error) bool { return client.StatusOf(err) == http.StatusNotFound }},
	}
	for _, st := range steps {
		p := b.post("/console/apikeys/"+k.ID+"/"+st.action, url.Values{"csrf": {tok}, "confirm": {"yes"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", st.action, p.status, p.body)
		}
		if !st.check(adm.GetAPIKey(t.Context(), k.ID, false, false)) {
			t.Fatalf("%s did not take effect", st.action)
		}
	}
	// The API's own refusals show as what they are.
	locked, _ := adm.CreateAPIKey(t.Context(), client.CreateAPIKey{Name: "locked"})
	adm.LockAPIKey(t.Context(), locked.ID, true)
	p := b.post("/console/apikeys/"+locked.ID+"/delete", url.Values{"csrf": {tok}, "confirm": {"yes"}})
	if p.status != http.StatusConflict {
		t.Fatalf("deleting a locked key: %d, want 409", p.status)
	}
}

func TestDisabledKeySessionIsSignedOut(t *testing.T) {
	s := startServer(t)
	adm := s.adminSDK(t)
	k, err := adm.CreateAPIKey(t.Context(), client.CreateAPIKey{Name: "browser"})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, s)
	b.signIn(k.APIKey)
	if p := b.get("/console/apikeys"); p.status != http.StatusOK {
		t.Fatalf("signed in: %d", p.status)
	}
	if err := adm.DisableAPIKey(t.Context(), k.ID, true); err != nil {
		t.Fatal(err)
	}
	p := b.get("/console/apikeys")
	if p.status != http.StatusSeeOther || p.location() != "/console/signin?reason=ended" {
		t.Fatalf("after the key was disabled: %d %q", p.status, p.location())
	}
	if c := sessionCookieOf(p.res); c == nil || c.MaxAge >= 0 {
		t.Fatalf("the session cookie is not cleared: %v", c)
	}
	mustContain(t, b.get("/console/signin?reason=ended"), "Your session has ended")
}

// fixture is one of everything the console shows.
type fixture struct {
	org, env, corg, app, product, api, sub string
}

func seed(t *testing.T, s *server) fixture {
	t.Helper()
	ctx := t.Context()
	adm := s.adminSDK(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fail") != "" {
			w.WriteHeader(http.StatusInternalServerError)
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(backend.Close)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := adm.CreateOrg(ctx, "acme", "Acme Climbing")
	must(err)
	weather, err := os.ReadFile("../apidef/testdata/weather-oas2.yaml")
	must(err)
	_, err = adm.ImportAPI(ctx, "acme", weather, client.ContentTypeYAML)
	must(err)
	status := `{"openapi": "3.1.0", "info": {"title": "Status", "version": "1.0.0", "x-ibm-name": "status"},
		"servers": [{"url": "/status"}],
		"x-ibm-configuration": {"properties": {"target-url": {"value": "` + backend.URL + `"}}},
		"paths": {"/health": {"get": {"responses": {"200": {"description": "up"}}}}}}`
	_, err = adm.ImportAPI(ctx, "acme", []byte(status), client.ContentTypeJSON)
	must(err)
	product := "product: 1.0.0\ninfo: {name: status-product, title: Status Product, version: 1.0.0}\n" +
		"apis:\n  status: {name: 'status:1.0.0'}\n  weather: {name: 'weather:1.0.0'}\n" +
		"plans:\n  default: {title: Default, approval: false, rate-limit: {value: 1000/1hour, hard-limit: true}}\n" +
		"  gold: {title: Gold, approval: true, rate-limit: {value: 10/1second, hard-limit: true}}\n"
	_, err = adm.CreateProduct(ctx, "acme", []byte(product), client.ContentTypeYAML)
	must(err)
	_, err = adm.Publish(ctx, "acme", "sb", "status-product:1.0.0")
	must(err)
	_, err = adm.CreateConsumerOrg(ctx, "acme", "sb", "climbers", "Climbers")
	must(err)
	app, err := adm.CreateApp(ctx, "acme", "sb", "climbers", "route-finder", "finds routes")
	must(err)
	ref := client.AppRef{Org: "acme", Env: "sb", ConsumerOrg: "climbers", App: "route-finder"}
	sub, err := adm.Subscribe(ctx, ref, "status-product:1.0.0", "gold")
	must(err)
	sid, err := adm.CreateServiceID(ctx, client.CreateServiceID{Name: "billing-job"})
	must(err)
	_, err = adm.CreatePolicy(ctx, client.CreatePolicy{Subject: sid.IAMID, Role: "Writer", Org: "acme"})
	must(err)
	_, err = adm.CreateUser(ctx, client.CreateUser{Username: "ada", Name: "Ada"})
	must(err)
	// Gateway calls for the analytics (a public API: no client id needed).
	hc := &http.Client{Timeout: 10 * time.Second}
	for i := range 12 {
		u := s.GWURL + "/acme/sb/status/health"
		if i%4 == 3 {
			u += "?fail=1"
		}
		res, err := hc.Get(u)
		must(err)
		res.Body.Close()
	}
	must(s.app.FlushEvents(ctx))
	_ = app
	return fixture{org: "acme", env: "sb", corg: "climbers", app: "route-finder", product: "status-product:1.0.0", api: "weather:1.0.0", sub: sub.ID}
}

func (f fixture) pages() []string {
	cat := "/console/orgs/" + f.org + "/catalogs/" + f.env
	return []string{
		"/console/apikeys", "/console/apikeys?scope=account", "/console/apikeys/new",
		"/console/serviceids", "/console/users", "/console/policies",
		"/console/orgs", "/console/orgs/" + f.org,
		"/console/orgs/" + f.org + "/apis/new", "/console/orgs/" + f.org + "/apis/" + f.api,
		"/console/orgs/" + f.org + "/products/new", "/console/orgs/" + f.org + "/products/" + f.product,
		cat, cat + "/analytics", cat + "/analytics?range=24h",
		cat + "/consumer-orgs/" + f.corg, cat + "/consumer-orgs/" + f.corg + "/apps/" + f.app,
	}
}

func checkHeaders(t *testing.T, path string, p *page) {
	t.Helper()
	if got := p.header.Get("Content-Security-Policy"); got != wantCSP {
		t.Errorf("%s: CSP %q", path, got)
	}
	if p.header.Get("X-Content-Type-Options") != "nosniff" || p.header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("%s: nosniff %q, referrer %q", path, p.header.Get("X-Content-Type-Options"), p.header.Get("Referrer-Policy"))
	}
}

func TestEveryPageRendersForAnAdministrator(t *testing.T) {
	s := startServer(t)
	f := seed(t, s)
	b := newBrowser(t, s)
	b.signIn(s.admin.APIKey)
	for _, path := range append(f.pages(), "/console/audit", "/console/audit?verify=1", "/console/audit?action=apikey.create") {
		p := b.get(path)
		if p.status != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", path, p.status, p.body)
			continue
		}
		checkHeaders(t, path, p)
		if cc := p.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q", path, cc)
		}
		if strings.Contains(p.body, "ZgotmplZ") || strings.Contains(p.body, "<no value>") {
			t.Errorf("%s: a template value was refused or missing", path)
		}
		if strings.Contains(p.body, " style=") || regexp.MustCompile(`<script>|<style|\son[a-z]+=`).MatchString(p.body) {
			t.Errorf("%s: inline script or style (the CSP forbids them)", path)
		}
	}
	an := b.get("/console/orgs/acme/catalogs/sb/analytics")
	mustContain(t, an, "<svg", `class="s2xx"`, `class="s5xx"`, `class="line p99"`, "<strong>12</strong> calls")
	mustContain(t, b.get("/console/orgs/acme/catalogs/sb"), "Approve", "status-product:1.0.0", "Deprecate")
	mustContain(t, b.get("/console/audit?verify=1"), "is intact")
}

func TestSecurityHeadersEverywhere(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t, s)
	for _, path := range []string{"/console/signin", "/console/", "/console/apikeys", "/console/nope", "/console/static/console.css", "/console/static/nope.js"} {
		checkHeaders(t, path, b.get(path))
	}
	p := b.get("/console/signin")
	css := regexp.MustCompile(`href="(/console/static/console\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(p.body)
	js := regexp.MustCompile(`src="(/console/static/console\.js\?v=[0-9a-f]+)"`).FindStringSubmatch(p.body)
	if css == nil || js == nil {
		t.Fatalf("assets are not linked with a content hash:\n%s", p.body)
	}
	for _, u := range []string{css[1], js[1]} {
		a := b.get(u)
		if a.status != http.StatusOK || !strings.Contains(a.header.Get("Cache-Control"), "immutable") {
			t.Fatalf("%s: %d %q", u, a.status, a.header.Get("Cache-Control"))
		}
	}
	if ct := b.get(js[1]).header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Fatalf("script Content-Type %q", ct)
	}
}

func TestReaderSeesNoWriteForms(t *testing.T) {
	s := startServer(t)
	f := seed(t, s)
	adm := s.adminSDK(t)
	reader, err := adm.CreateAPIKey(t.Context(), client.CreateAPIKey{Name: "dashboards", Role: "Reader"})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, s)
	b.signIn(reader.APIKey)
	postForm := regexp.MustCompile(`<form[^>]*method="post"[^>]*action="([^"]*)"`)
	for _, path := range f.pages() {
		if strings.HasSuffix(path, "/new") || strings.Contains(path, "scope=account") {
			continue // pages a Reader is not linked to (and the API refuses the account's keys)
		}
		p := b.get(path)
		if p.status != http.StatusOK {
			t.Errorf("GET %s as Reader: %d", path, p.status)
			continue
		}
		for _, m := range postForm.FindAllStringSubmatch(p.body, -1) {
			if m[1] != "/console/signout" {
				t.Errorf("%s offers a Reader the form %s", path, m[1])
			}
		}
		for _, label := range []string{">Create<", ">Delete<", ">Import<", ">Publish<", ">Lock<", ">Approve<"} {
			if strings.Contains(p.body, label) {
				t.Errorf("%s shows a Reader the button %s", path, label)
			}
		}
	}
	for _, path := range f.pages() {
		if strings.HasSuffix(path, "/new") {
			if p := b.get(path); p.status != http.StatusForbidden {
				t.Errorf("GET %s as Reader: %d, want 403", path, p.status)
			}
		}
	}
	mustContain(t, b.get("/console/apikeys"), "Reader")
	if p := b.get("/console/audit"); p.status != http.StatusForbidden {
		t.Errorf("audit as Reader: %d, want the API's 403", p.status)
	}
	// And the API refuses what the pages do not offer.
	tok := b.token()
	p := b.post("/console/apikeys", url.Values{"csrf": {tok}, "name": {"sneaky"}})
	if p.status != http.StatusForbidden {
		t.Fatalf("a Reader's create: %d, want 403", p.status)
	}
	p = b.post("/console/orgs/acme/catalogs/sb/publish", url.Values{"csrf": {tok}, "product": {f.product}})
	if p.status != http.StatusForbidden {
		t.Fatalf("a Reader's publish: %d, want 403", p.status)
	}
}

func TestImportAndPublishThroughForms(t *testing.T) {
	s := startServer(t)
	adm := s.adminSDK(t)
	if _, err := adm.CreateOrg(t.Context(), "acme", "Acme"); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, s)
	b.signIn(s.admin.APIKey)
	tok := b.token()
	weather, err := os.ReadFile("../apidef/testdata/weather-oas2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := b.postMultipart("/console/orgs/acme/apis", url.Values{"csrf": {tok}}, map[string][2]string{"document_file": {"weather-oas2.yaml", string(weather)}})
	if p.status != http.StatusSeeOther || p.location() != "/console/orgs/acme/apis/weather:1.0.0?done=imported" {
		t.Fatalf("import: %d %s\n%s", p.status, p.location(), p.body)
	}
	// A broken document: the API's problems, located.
	p = b.postMultipart("/console/orgs/acme/apis", url.Values{"csrf": {tok}, "document": {"swagger: '2.0'\ninfo: {title: x}\npaths: {}\n"}}, nil)
	if p.status != http.StatusBadRequest {
		t.Fatalf("a broken document: %d", p.status)
	}
	mustContain(t, p, "/info/version")
	product := "product: 1.0.0\ninfo: {name: wx, title: WX, version: 1.0.0}\napis:\n  weather: {name: 'weather:1.0.0'}\n"
	p = b.post("/console/orgs/acme/products", url.Values{"csrf": {tok}, "document": {product}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("product: %d\n%s", p.status, p.body)
	}
	p = b.post("/console/orgs/acme/catalogs/sb/publish", url.Values{"csrf": {tok}, "product": {"wx:1.0.0"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("publish: %d\n%s", p.status, p.body)
	}
	pubs, err := adm.ListPublications(t.Context(), "acme", "sb")
	if err != nil || len(pubs) != 1 || pubs[0].State != "published" {
		t.Fatalf("publications: %+v %v", pubs, err)
	}
	for _, state := range []string{"deprecated", "retired", "published"} {
		form := url.Values{"csrf": {tok}, "state": {state}, "confirm": {"yes"}}
		if p := b.post("/console/orgs/acme/catalogs/sb/publications/wx:1.0.0/state", form); p.status != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", state, p.status, p.body)
		}
		if pub, err := adm.GetPublication(t.Context(), "acme", "sb", "wx:1.0.0"); err != nil || pub.State != state {
			t.Fatalf("after %s: %+v %v", state, pub, err)
		}
	}
}

func TestAppSecretShownOnce(t *testing.T) {
	s := startServer(t)
	f := seed(t, s)
	b := newBrowser(t, s)
	b.signIn(s.admin.APIKey)
	corg := "/console/orgs/acme/catalogs/sb/consumer-orgs/" + f.corg
	p := b.post(corg+"/apps", url.Values{"csrf": {b.token()}, "name": {"second"}})
	if p.status != http.StatusCreated {
		t.Fatalf("create app: %d\n%s", p.status, p.body)
	}
	m := regexp.MustCompile(`id="secret-client-secret" type="text" readonly value="([^"]+)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no secret shown:\n%s", p.body)
	}
	if strings.Contains(b.get(corg+"/apps/second").body, m[1]) {
		t.Fatal("the app page shows the secret again")
	}
}
