package app_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse/client"
	"gatehouse/internal/app"
	"gatehouse/internal/config"
)

// The first throughput figures of the two hot paths, over real HTTP on
// loopback against the embedded store. Run with:
//
//	go test -run '^$' -bench . -benchtime 5s ./internal/app/
//
// They report only; the performance issue compares them with references.

func startBench(b *testing.B) (base, adminKey string) {
	b.Helper()
	cfg := config.Default()
	cfg.DataDir = b.TempDir()
	cfg.Addr, cfg.GatewayAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.LogLevel = "error"
	if err := cfg.Finalize(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, app.Options{LogOutput: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	kf, err := client.ReadKeyFile(filepath.Join(cfg.DataDir, "admin-apikey.json"))
	if err != nil {
		b.Fatal(err)
	}
	return "http://" + a.Addr(), kf.APIKey
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
}

func mustDo(b *testing.B, hc *http.Client, req *http.Request) {
	res, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.Fatalf("%s %s: %d", req.Method, req.URL.Path, res.StatusCode)
	}
}

func BenchmarkTokenExchange(b *testing.B) {
	base, key := startBench(b)
	hc := benchClient()
	form := url.Values{"apikey": {key}}.Encode()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", base+"/apikey", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			mustDo(b, hc, req)
		}
	})
}

func BenchmarkMe(b *testing.B) {
	base, key := startBench(b)
	tok, err := client.New(base).IAMToken(context.Background(), key, client.TokenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	hc := benchClient()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", base+"/v1/me", nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			mustDo(b, hc, req)
		}
	})
}
