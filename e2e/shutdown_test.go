package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/client"
)

// watchdog fails the test when ch stays silent far longer than any correct run
// needs. It is a guard against hanging, not a way to wait for something.
func watchdog[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// Shutdown drains a request in flight, Run returns nil, and activity not yet
// flushed is written: a restart on the same data directory sees it (SPEC §1,
// §2.3).
func TestShutdownDrainsAndKeepsActivity(t *testing.T) {
	t.Parallel()
	clk := newClock()
	const issuer = "http://gatehouse.test"
	s := startServer(t, withClock(clk), withIssuer(issuer))
	admin := s.asAdmin(t)
	k := mustCreateKey(t, admin, client.CreateAPIKey{Name: "counted"})
	for range 3 {
		clk.Advance(time.Minute)
		mustToken(t, s, k.APIKey, client.TokenOptions{})
	}
	survivor := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})

	// An exchange whose headers the server has read and whose handler waits for
	// the body: with Expect: 100-continue, the server's "100 Continue" is the
	// proof that the handler is running.
	body, bodyW := io.Pipe()
	hr, err := http.NewRequest("POST", s.URL+"/apikey", body)
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.Header.Set("Expect", "100-continue")
	handlerRuns := make(chan struct{})
	hr = hr.WithContext(httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got100Continue: func() { close(handlerRuns) },
	}))
	tr := &http.Transport{ExpectContinueTimeout: time.Hour} // send the body only after 100 Continue
	defer tr.CloseIdleConnections()
	type result struct {
		status int
		body   []byte
		err    error
	}
	inFlight := make(chan result, 1)
	go func() {
		res, err := tr.RoundTrip(hr)
		if err != nil {
			inFlight <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		inFlight <- result{res.StatusCode, b, err}
	}()
	watchdog(t, handlerRuns, "the server to start the in-flight request")

	clk.Advance(time.Minute)
	lastExchange := clk.Now()
	shuttingDown := s.logs.waitFor("shutting down")
	stopped := make(chan error, 1)
	go func() { stopped <- s.stop(t) }()
	watchdog(t, shuttingDown, "the server to begin shutting down")
	if _, err := io.WriteString(bodyW, "apikey="+url.QueryEscape(k.APIKey)); err != nil {
		t.Fatal(err)
	}
	bodyW.Close()

	res := watchdog(t, inFlight, "the in-flight response")
	if res.err != nil || res.status != http.StatusOK {
		t.Fatalf("in-flight exchange during shutdown: %d %s %v", res.status, res.body, res.err)
	}
	var tok client.V5Token
	if err := json.Unmarshal(res.body, &tok); err != nil || tok.JWT == "" {
		t.Fatalf("in-flight exchange answered %s", res.body)
	}
	if err := watchdog(t, stopped, "Run to return"); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	if c, err := net.Dial("tcp", s.app.Addr()); err == nil {
		c.Close()
		t.Error("the management listener still accepts connections after Run returned")
	}

	// Restart on the same data directory.
	s2 := startServer(t, withClock(clk), withIssuer(issuer), withDataDir(s.DataDir))
	if s2.admin != s.admin {
		t.Errorf("the restart changed the bootstrap key file")
	}
	if strings.Contains(s2.logs.String(), "bootstrap: created") {
		t.Error("the restart bootstrapped again")
	}
	got, err := s2.asAdmin(t).GetAPIKey(t.Context(), k.ID, true, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.Activity == nil || got.Activity.AuthnCount != 4 || got.Activity.LastAuthn == nil || !got.Activity.LastAuthn.Equal(lastExchange) {
		t.Errorf("activity after restart %+v, want 4 exchanges, the last at %v", got.Activity, lastExchange)
	}
	// Signing keys survive too: a token from before the restart still verifies.
	tokenWorks(t, s2, survivor)
	tokenWorks(t, s2, tok.JWT)
}
