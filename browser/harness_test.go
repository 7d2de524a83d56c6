// Package browser_test drives the console in a real browser: Debian's
// Chromium, headless, through chromedp, against the real server started
// through internal/app on 127.0.0.1:0. It clicks what a person clicks, finds
// fields by their labels, downloads apikey.json, and saves a screenshot at
// each major step (GATEHOUSE_TEST_ARTIFACTS, default a temporary
// directory); with GATEHOUSE_UPDATE_SCREENSHOTS=1 it also refreshes the
// curated screenshots of docs/console/.
package browser_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"gatehouse/client"
	"gatehouse/internal/app"
	"gatehouse/internal/config"
	"gatehouse/internal/testenv"
)

// clock is real time plus an offset that tests move forward, so gateway
// calls land in different minutes while their latencies stay real.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// server is a real Gatehouse.
type server struct {
	app   *app.App
	URL   string
	GWURL string
	clock *clock
	admin client.KeyFile
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
	clk := &clock{}
	logs := &logBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, app.Options{Now: clk.Now, LogOutput: logs})
	if err != nil {
		cancel()
		t.Fatalf("app.New: %v", err)
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
			t.Errorf("Run did not return")
		}
		for line := range strings.Lines(logs.String()) {
			if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, "panic") {
				t.Errorf("server logged: %s", line)
			}
		}
	})
	s := &server{app: a, URL: "http://" + a.Addr(), GWURL: "http://" + a.GatewayAddr(), clock: clk}
	if s.admin, err = client.ReadKeyFile(cfg.BootstrapFile); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *server) adminSDK(t *testing.T) *client.Client {
	t.Helper()
	c := client.New(s.URL)
	tok, err := c.IAMToken(t.Context(), s.admin.APIKey, client.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c.WithToken(tok.AccessToken)
}

// stepTimeout bounds each step, so a step that waits for something that
// never comes fails in seconds, with a screenshot.
const stepTimeout = 15 * time.Second

// Viewport of every screenshot: fixed, so the committed ones stay comparable.
const viewW, viewH = 1280, 800

// chrome is one headless Chromium with one tab.
type chrome struct {
	t         *testing.T
	ctx       context.Context
	downloads string
	artifacts string
	step      int
}

func startChrome(t *testing.T) *chrome {
	t.Helper()
	path := testenv.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // root in a container
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(viewW, viewH),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })

	c := &chrome{t: t, ctx: ctx, downloads: t.TempDir(), artifacts: os.Getenv("GATEHOUSE_TEST_ARTIFACTS")}
	if c.artifacts == "" {
		c.artifacts = t.TempDir()
	}
	if err := os.MkdirAll(c.artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	// The first call starts the browser, which lives as long as the context
	// of that call: no step timeout on this one.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(viewW, viewH)); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: c.downloads, EventsEnabled: new(true),
	}); err != nil {
		t.Fatalf("set the download directory: %v", err)
	}
	t.Logf("screenshots go to %s", c.artifacts)
	return c
}

// do runs steps and fails the test, with a screenshot, when one fails.
func (c *chrome) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		c.failed(what, err)
	}
}

// value runs an action that reads something.
func value[T any](c *chrome, what string, a chromedp.Action[T]) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		c.failed(what, err)
	}
	return v
}

func (c *chrome) failed(what string, err error) {
	c.t.Helper()
	sctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	if png, serr := chromedp.Run(sctx, chromedp.CaptureScreenshot()); serr == nil {
		p := filepath.Join(c.artifacts, "failed-"+slug(what)+".png")
		_ = os.WriteFile(p, png, 0o644)
		c.t.Logf("screenshot of the failure: %s", p)
	}
	c.t.Fatalf("%s: %v", what, err)
}

func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, s)
}

// shot saves a screenshot of the viewport as a test artifact, and as
// docs/console/<curated> when GATEHOUSE_UPDATE_SCREENSHOTS=1.
func (c *chrome) shot(name, curated string) {
	c.t.Helper()
	png := value(c, "screenshot "+name, chromedp.CaptureScreenshot())
	c.step++
	if err := os.WriteFile(filepath.Join(c.artifacts, fmt.Sprintf("%02d-%s.png", c.step, name)), png, 0o644); err != nil {
		c.t.Fatal(err)
	}
	if curated != "" && os.Getenv("GATEHOUSE_UPDATE_SCREENSHOTS") == "1" {
		dir := filepath.Join("..", "docs", "console")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			c.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, curated), png, 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
}

// XPath selectors of what a person looks for: a field by its label, a
// button or link by its text.

func byLabel(label string) string {
	return fmt.Sprintf(`//*[@id=//label[normalize-space(.)=%q]/@for]`, label)
}

func inDialog(id, xpath string) string {
	return fmt.Sprintf(`//dialog[@id=%q]`, id) + xpath
}

func button(text string) string {
	return fmt.Sprintf(`//button[normalize-space(.)=%q]`, text)
}

func link(text string) string {
	return fmt.Sprintf(`//a[normalize-space(.)=%q]`, text)
}

// rowButton is a button in the API key list's row of the named key.
func rowButton(keyName, text string) string {
	return fmt.Sprintf(`//tr[@data-key-name=%q]//button[normalize-space(.)=%q]`, keyName, text)
}
