package browser_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"gatehouse/client"
)

// TestConsoleInChromium walks the console as a person would: sign in with
// the bootstrap key, create a key in the dialog and download its
// apikey.json, lock, disable and delete keys through confirmations, import
// an API and publish a product, look at the analytics, and check that a
// Reader is offered no change at all.
func TestConsoleInChromium(t *testing.T) {
	s := startServer(t)
	c := startChrome(t)
	adm := s.adminSDK(t)
	ctx := t.Context()
	for _, k := range []client.CreateAPIKey{
		{Name: "ci-deploy", Description: "deploys from CI", Role: "Writer"},
		{Name: "grafana", Description: "dashboards", Role: "Reader"},
	} {
		if _, err := adm.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}

	// Sign in with the bootstrap key, typed.
	c.do("open the console",
		chromedp.Navigate(s.URL+"/console/"),
		chromedp.WaitVisible(byLabel("API key")),
	)
	c.shot("signin", "signin.png")
	c.do("sign in",
		chromedp.SendKeys(byLabel("API key"), s.admin.APIKey),
		chromedp.Click(`//form[@id="signin-key"]`+button("Sign in")),
		chromedp.WaitVisible(`//h1[normalize-space(.)="API keys"]`),
	)

	// Create a key in the dialog, fields found by their labels.
	c.do("open the Create dialog",
		chromedp.Click(link("Create")),
		chromedp.WaitVisible(inDialog("create-key-dialog", byLabel("Name"))),
		chromedp.SendKeys(inDialog("create-key-dialog", byLabel("Name")), "browser-key"),
		chromedp.SendKeys(inDialog("create-key-dialog", byLabel("Description")), "made in Chromium"),
	)
	c.shot("create-dialog", "")
	c.do("create the key",
		chromedp.Click(inDialog("create-key-dialog", button("Create"))),
		chromedp.WaitVisible(chromedp.CSS(`#secret-dialog`)),
	)
	key := value(c, "read the key", chromedp.Value(inDialog("secret-dialog", byLabel("API key"))))
	if !strings.HasPrefix(key, "gatehouse_") {
		t.Fatalf("the dialog shows %q, not a key", key)
	}
	c.shot("apikey-created", "apikey-created.png")

	// Copy puts it on the clipboard.
	for _, perm := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(c.ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: perm}, Setting: browser.PermissionSettingGranted, Origin: s.URL,
		}); err != nil {
			t.Fatalf("grant %s: %v", perm, err)
		}
	}
	c.do("copy",
		chromedp.Click(inDialog("secret-dialog", button("Copy"))),
		chromedp.WaitVisible(inDialog("secret-dialog", button("Copied"))),
	)
	copied := value(c, "read the clipboard", chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if copied != key {
		t.Fatalf("the clipboard holds %q", copied)
	}

	// Download saves apikey.json, in SPEC §2.2's format, and it works.
	file := c.download(link("Download"), "apikey.json")
	kf := checkKeyFile(t, file, "browser-key", "made in Chromium", key)
	if tok, err := client.New(s.URL).V5Token(ctx, kf.APIKey, client.TokenOptions{}); err != nil || tok.JWT == "" {
		t.Fatalf("the downloaded key does not exchange at POST /apikey: %v", err)
	}

	// Closed, the key is nowhere: not in the page, not after a reload.
	c.do("close the dialog",
		chromedp.Click(inDialog("secret-dialog", link("Close"))),
		chromedp.WaitNotPresent(chromedp.CSS(`#secret-dialog`)),
		chromedp.WaitVisible(`//tr[@data-key-name="browser-key"]`),
	)
	c.keyNowhere(key, file)
	c.do("reload", chromedp.Reload(), chromedp.WaitVisible(`//tr[@data-key-name="browser-key"]`))
	c.keyNowhere(key, file)
	c.shot("apikeys", "apikeys.png")

	// Lock, unlock, disable, delete: each through its confirmation.
	id := kf.UUID
	c.do("lock", chromedp.Click(rowButton("browser-key", "Lock")), chromedp.WaitVisible(chromedp.CSS(`#confirm-dialog`)))
	c.shot("confirm-lock", "")
	c.do("confirm the lock",
		chromedp.Click(chromedp.CSS(`#confirm-ok`)),
		chromedp.WaitVisible(rowButton("browser-key", "Unlock")),
	)
	if k, err := adm.GetAPIKey(ctx, id, false, false); err != nil || !k.Locked {
		t.Fatalf("not locked: %+v %v", k, err)
	}
	c.do("unlock",
		chromedp.Click(rowButton("browser-key", "Unlock")),
		chromedp.WaitVisible(rowButton("browser-key", "Delete")),
	)
	c.do("disable",
		chromedp.Click(rowButton("browser-key", "Disable")),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-dialog`)),
		chromedp.Click(chromedp.CSS(`#confirm-ok`)),
		chromedp.WaitVisible(rowButton("browser-key", "Enable")),
	)
	if k, err := adm.GetAPIKey(ctx, id, false, false); err != nil || !k.Disabled {
		t.Fatalf("not disabled: %+v %v", k, err)
	}
	// Cancel keeps the key; confirming deletes it.
	c.do("cancel a delete",
		chromedp.Click(rowButton("browser-key", "Delete")),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-dialog`)),
		chromedp.Click(inDialog("confirm-dialog", button("Cancel"))),
		chromedp.WaitNotVisible(chromedp.CSS(`#confirm-dialog`)),
	)
	if _, err := adm.GetAPIKey(ctx, id, false, false); err != nil {
		t.Fatalf("a cancelled delete deleted: %v", err)
	}
	c.do("delete",
		chromedp.Click(rowButton("browser-key", "Delete")),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-dialog`)),
		chromedp.Click(chromedp.CSS(`#confirm-ok`)),
		chromedp.WaitVisible(`//p[@role="status"][normalize-space(.)="Deleted."]`),
		chromedp.WaitNotPresent(`//tr[@data-key-name="browser-key"]`),
	)
	if _, err := adm.GetAPIKey(ctx, id, false, false); client.StatusOf(err) != http.StatusNotFound {
		t.Fatalf("not deleted: %v", err)
	}

	// A provider org, an imported API (a file of internal/apidef/testdata),
	// a product pasted in, published.
	backend := statusBackend(t)
	c.do("create an org",
		chromedp.Navigate(s.URL+"/console/orgs"),
		chromedp.Click(`//summary[normalize-space(.)="New provider org"]`),
		chromedp.SendKeys(byLabel("Name"), "acme"),
		chromedp.SendKeys(byLabel("Title"), "Acme Climbing"),
		chromedp.Click(`//details`+button("Create")),
		chromedp.WaitVisible(`//h1[normalize-space(.)="Acme Climbing"]`),
	)
	weather, err := filepath.Abs("../internal/apidef/testdata/weather-oas2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c.do("choose the API file",
		chromedp.Click(`//summary[normalize-space(.)="Import an API"]`),
		chromedp.SetUploadFiles(byLabel("OpenAPI document file (JSON or YAML)"), []string{weather}),
		chromedp.ScrollIntoView(chromedp.CSS(`#import-api`)),
	)
	c.shot("api-import", "api-import.png")
	c.do("import the API",
		chromedp.Click(`//form[@id="apis-form"]`+button("Import")),
		chromedp.WaitVisible(`//h1[normalize-space(.)="API weather:1.0.0"]`),
		chromedp.WaitVisible(`//p[@role="status"][normalize-space(.)="Imported."]`),
	)
	// A second API, pasted: a public one whose backend this test runs.
	status := `{"openapi": "3.1.0", "info": {"title": "Status", "version": "1.0.0", "x-ibm-name": "status"},
  "servers": [{"url": "/status"}],
  "x-ibm-configuration": {"properties": {"target-url": {"value": "` + backend + `"}}},
  "paths": {"/health": {"get": {"responses": {"200": {"description": "up"}}}}}}`
	c.do("paste an API",
		chromedp.Navigate(s.URL+"/console/orgs/acme"),
		chromedp.Click(`//summary[normalize-space(.)="Import an API"]`),
		chromedp.SetValue(byLabel("Or paste the OpenAPI document"), status),
		chromedp.Click(`//form[@id="apis-form"]`+button("Import")),
		chromedp.WaitVisible(`//h1[normalize-space(.)="API status:1.0.0"]`),
	)
	product := "product: 1.0.0\ninfo: {name: climbing, title: Climbing, version: 1.0.0}\n" +
		"apis:\n  weather: {name: 'weather:1.0.0'}\n  status: {name: 'status:1.0.0'}\n" +
		"plans:\n  default: {title: Default Plan, approval: false, rate-limit: {value: 1000/1hour, hard-limit: true}}\n"
	c.do("create a product",
		chromedp.Navigate(s.URL+"/console/orgs/acme"),
		chromedp.Click(`//summary[normalize-space(.)="Create a product"]`),
		chromedp.SetValue(byLabel("Or paste the product document"), product),
		chromedp.Click(`//form[@id="products-form"]`+button("Create")),
		chromedp.WaitVisible(`//h1[normalize-space(.)="Product climbing:1.0.0"]`),
	)
	c.do("publish it",
		chromedp.Click(button("Publish to Sandbox")),
		chromedp.WaitVisible(`//tr[@data-product="climbing:1.0.0"]//span[normalize-space(.)="published"]`),
	)
	c.shot("published", "")
	if p, err := adm.GetPublication(ctx, "acme", "sb", "climbing:1.0.0"); err != nil || p.State != client.StatePublished {
		t.Fatalf("not published: %+v %v", p, err)
	}

	// Half an hour of gateway calls, then the analytics.
	callGateway(t, s)
	c.do("analytics",
		chromedp.Click(link("Analytics")),
		chromedp.WaitVisible(chromedp.CSS(`#chart-calls svg`)),
		chromedp.WaitVisible(chromedp.CSS(`#chart-latency svg polyline.p99`)),
	)
	c.shot("analytics", "analytics.png")

	// A Reader: a key capped at Reader, made in the dialog; signed in with
	// it, no page offers a change.
	c.do("create a Reader key",
		chromedp.Navigate(s.URL+"/console/apikeys"),
		chromedp.Click(link("Create")),
		chromedp.WaitVisible(inDialog("create-key-dialog", byLabel("Name"))),
		chromedp.SendKeys(inDialog("create-key-dialog", byLabel("Name")), "reader"),
		chromedp.SetValue(inDialog("create-key-dialog", byLabel("Role cap")), "Reader"),
		chromedp.Click(inDialog("create-key-dialog", button("Create"))),
		chromedp.WaitVisible(chromedp.CSS(`#secret-dialog`)),
	)
	readerKey := value(c, "read the Reader key", chromedp.Value(inDialog("secret-dialog", byLabel("API key"))))
	c.do("sign in as the Reader",
		chromedp.Click(inDialog("secret-dialog", link("Close"))),
		chromedp.WaitNotPresent(chromedp.CSS(`#secret-dialog`)),
		chromedp.Click(button("Sign out")),
		chromedp.WaitVisible(byLabel("API key")),
		chromedp.SendKeys(byLabel("API key"), readerKey),
		chromedp.Click(`//form[@id="signin-key"]`+button("Sign in")),
		chromedp.WaitVisible(`//h1[normalize-space(.)="API keys"]`),
	)
	for _, path := range []string{
		"/console/apikeys", "/console/serviceids", "/console/users", "/console/policies", "/console/orgs",
		"/console/orgs/acme", "/console/orgs/acme/apis/weather:1.0.0", "/console/orgs/acme/products/climbing:1.0.0",
		"/console/orgs/acme/catalogs/sb", "/console/orgs/acme/catalogs/sb/analytics",
	} {
		c.do("as Reader: "+path, chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS(`h1`)))
		forms := value(c, "count the forms", chromedp.Evaluate[int](
			`[...document.querySelectorAll('form[method=post]')].filter(f => f.getAttribute('action') !== '/console/signout').length`))
		buttons := value(c, "list the buttons", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll('button, a.button, summary')].map(b => b.textContent.trim())
				.filter(t => /^(Create|Delete|Lock|Unlock|Disable|Enable|Rotate|Import|Publish|Approve|Deprecate|Retire|Grant|New |Add )/.test(t))`))
		if forms != 0 || len(buttons) != 0 {
			t.Errorf("%s offers a Reader %d forms and the buttons %q", path, forms, buttons)
		}
		if path == "/console/orgs/acme/catalogs/sb" {
			c.shot("reader-catalog", "")
		}
	}
}

// download clicks what and returns the file it saved as name.
func (c *chrome) download(what, name string) []byte {
	c.t.Helper()
	lctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	events := chromedp.BrowserEvents(lctx, browser.DownloadProgress)
	c.do("download "+name, chromedp.Click(what))
	completed := false
	for ev, err := range events {
		if err != nil {
			c.t.Fatalf("the download of %s did not complete: %v", name, err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			completed = true
			break
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			c.t.Fatalf("the download of %s was cancelled", name)
		}
	}
	if !completed {
		c.t.Fatalf("the download of %s did not complete", name)
	}
	data, err := os.ReadFile(filepath.Join(c.downloads, name))
	if err != nil {
		entries, _ := os.ReadDir(c.downloads)
		c.t.Fatalf("read the download: %v (the directory holds %v)", err, entries)
	}
	return data
}

// keyNowhere checks that the page holds neither the key nor its file.
func (c *chrome) keyNowhere(key string, file []byte) {
	c.t.Helper()
	html := value(c, "read the page", chromedp.OuterHTML(chromedp.CSS("html")))
	if strings.Contains(html, key) || strings.Contains(html, base64.StdEncoding.EncodeToString(file)) {
		c.t.Fatal("the key is still in the page")
	}
	inputs := value(c, "read the fields", chromedp.Evaluate[[]string](`[...document.querySelectorAll('input, textarea')].map(i => i.value)`))
	for _, v := range inputs {
		if strings.Contains(v, key) {
			c.t.Fatal("the key is still in a field")
		}
	}
}

// checkKeyFile checks an apikey.json against SPEC §2.2.
func checkKeyFile(t *testing.T, raw []byte, name, desc, key string) client.KeyFile {
	t.Helper()
	var kf client.KeyFile
	if err := json.Unmarshal(raw, &kf); err != nil {
		t.Fatalf("apikey.json: %v\n%s", err, raw)
	}
	if kf.Name != name || kf.Description != desc || kf.APIKey != key || kf.Locked {
		t.Fatalf("apikey.json fields: %s", raw)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d\+0000$`).MatchString(kf.CreatedAt) {
		t.Fatalf("createdAt %q: want minute precision and +0000", kf.CreatedAt)
	}
	if !regexp.MustCompile(`^ApiKey-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(kf.UUID) {
		t.Fatalf("uuid %q", kf.UUID)
	}
	want := "{\n\t\"name\": \"" + name + "\",\n\t\"description\": \"" + desc + "\",\n\t\"apikey\": \"" + key +
		"\",\n\t\"createdAt\": \"" + kf.CreatedAt + "\",\n\t\"locked\": false,\n\t\"uuid\": \"" + kf.UUID + "\"\n}\n"
	if string(raw) != want {
		t.Fatalf("apikey.json is not the spec's tab-indented layout:\n%s\nwant:\n%s", raw, want)
	}
	return kf
}

// statusBackend answers the status API: ?code= sets the status, ?ms= a delay.
func statusBackend(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ms, _ := strconv.Atoi(r.URL.Query().Get("ms")); ms > 0 && ms < 100 {
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		if code >= 200 && code < 600 {
			w.WriteHeader(code)
		}
		w.Write([]byte(`{"status":"up"}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// callGateway makes half an hour of calls to the status API, a minute at a
// time on the server's clock, with a mix of answers and latencies.
func callGateway(t *testing.T, s *server) {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	for minute := range 30 {
		s.clock.Advance(time.Minute)
		n := 2 + (minute*7)%6
		for i := range n {
			q := "?ms=" + strconv.Itoa((minute+i)%5)
			switch {
			case (minute+i)%11 == 0:
				q += "&code=500"
			case (minute+i)%5 == 0:
				q += "&code=404"
			case (minute+i)%13 == 0:
				q += "&code=304"
			}
			res, err := hc.Get(s.GWURL + "/acme/sb/status/health" + q)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
		}
	}
	if err := s.app.FlushEvents(t.Context()); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
