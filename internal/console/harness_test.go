package console_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/client"
	"gatehouse/internal/app"
	"gatehouse/internal/config"
)

// server is a real Gatehouse run through internal/app on 127.0.0.1:0.
type server struct {
	app   *app.App
	URL   string
	GWURL string
	admin client.KeyFile // the bootstrap admin-apikey.json
	file  string         // its path
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startServer(t *testing.T) *server {
	t.Helper()
	cfg := config.Default()
	cfg.Addr, cfg.GatewayAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.LogFormat = "json"
	if err := cfg.Finalize(); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, app.Options{LogOutput: logs})
	if err != nil {
		cancel()
		t.Fatalf("app.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	s := &server{app: a, URL: "http://" + a.Addr(), GWURL: "http://" + a.GatewayAddr(), file: cfg.BootstrapFile, logs: logs}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(45 * time.Second):
			t.Errorf("Run did not return")
		}
		for line := range strings.Lines(logs.String()) {
			if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, "panic") {
				t.Errorf("server logged: %s", line)
			}
		}
	})
	if s.admin, err = client.ReadKeyFile(cfg.BootstrapFile); err != nil {
		t.Fatal(err)
	}
	return s
}

// sdk returns an SDK client with a token of key.
func (s *server) sdk(t *testing.T, key string) *client.Client {
	t.Helper()
	c := client.New(s.URL)
	tok, err := c.IAMToken(t.Context(), key, client.TokenOptions{})
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	return c.WithToken(tok.AccessToken)
}

func (s *server) adminSDK(t *testing.T) *client.Client { return s.sdk(t, s.admin.APIKey) }

// browser is a plain HTTP client with a cookie jar that does not follow
// redirects (tests look at them).
type browser struct {
	t  *testing.T
	s  *server
	hc *http.Client
}

func newBrowser(t *testing.T, s *server) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, s: s, hc: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is a response.
type page struct {
	status int
	header http.Header
	body   string
	res    *http.Response
}

func (p *page) location() string { return p.header.Get("Location") }

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return &page{status: res.StatusCode, header: res.Header, body: string(body), res: res}
}

func (b *browser) get(path string) *page {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.s.URL+path, nil)
	return b.do(req)
}

// post sends a url-encoded form, as a browser would from the same origin.
func (b *browser) post(path string, form url.Values, headers ...string) *page {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

// postMultipart sends a multipart form with files (name → filename, content).
func (b *browser) postMultipart(path string, form url.Values, files map[string][2]string) *page {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for field, f := range files {
		fw, _ := mw.CreateFormFile(field, f[0])
		fw.Write([]byte(f[1]))
	}
	mw.Close()
	req, _ := http.NewRequest("POST", b.s.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of a page's forms.
func (b *browser) csrf(p *page) string {
	b.t.Helper()
	m := csrfRe.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("no CSRF token in the page:\n%s", p.body)
	}
	return html.UnescapeString(m[1])
}

// signinForm loads the sign-in page and returns its CSRF token.
func (b *browser) signinForm() string {
	b.t.Helper()
	p := b.get("/console/signin")
	if p.status != http.StatusOK {
		b.t.Fatalf("GET /console/signin: %d", p.status)
	}
	return b.csrf(p)
}

// signIn signs in with an API key and checks the redirect.
func (b *browser) signIn(key string) *page {
	b.t.Helper()
	p := b.post("/console/signin", url.Values{"csrf": {b.signinForm()}, "method": {"apikey"}, "apikey": {key}})
	if p.status != http.StatusSeeOther || p.location() != "/console/apikeys" {
		b.t.Fatalf("sign-in: %d %s\n%s", p.status, p.location(), p.body)
	}
	return p
}

// token is the session's CSRF token, read from the API keys page.
func (b *browser) token() string {
	b.t.Helper()
	p := b.get("/console/apikeys")
	if p.status != http.StatusOK {
		b.t.Fatalf("GET /console/apikeys: %d", p.status)
	}
	return b.csrf(p)
}

func sessionCookieOf(res *http.Response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == "gatehouse_session" {
			return c
		}
	}
	return nil
}

func mustContain(t *testing.T, p *page, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(p.body, s) {
			t.Fatalf("page lacks %q:\n%s", s, p.body)
		}
	}
}
