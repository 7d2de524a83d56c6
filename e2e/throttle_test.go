package e2e_test

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/config"
	"gatehouse/internal/iam"
)

// throttledServer refuses token requests from a client address after 5
// failed ones within a minute; trusted is --trusted-proxies.
func throttledServer(t *testing.T, trusted string) *server {
	t.Helper()
	return startServer(t, withConfig(func(c *config.Config) {
		c.TokenFailureLimit = 5
		c.TokenFailureWindow = time.Minute
		c.SetTrustedProxies(trusted)
	}))
}

// tokenReq is a token request at endpoint ("iam" or "v5") with key, sent
// with X-Forwarded-For: from when from is set.
func tokenReq(endpoint, key, from string) req {
	r := formReq("/apikey", url.Values{"apikey": {key}})
	if endpoint == "iam" {
		r = formReq("/identity/token", url.Values{"grant_type": {"urn:ibm:params:oauth:grant-type:apikey"}, "apikey": {key}})
	}
	if from != "" {
		r.header = map[string]string{"X-Forwarded-For": from}
	}
	return r
}

var endpoints = []string{"iam", "v5"}

// wantExchanged checks a successful exchange.
func wantExchanged(t *testing.T, res reply) {
	t.Helper()
	if res.status != http.StatusOK {
		t.Fatalf("exchange: %d %s, want 200", res.status, res.body)
	}
}

// wantThrottled checks a 429 BXNIM0440E with a Retry-After of 1 to maxWait seconds.
func wantThrottled(t *testing.T, res reply, maxWait int) {
	t.Helper()
	wantTokenError(t, res, http.StatusTooManyRequests, "BXNIM0440E")
	ra := res.header.Get("Retry-After")
	if n, err := strconv.Atoi(ra); err != nil || n < 1 || n > maxWait {
		t.Errorf("Retry-After %q, want 1 to %d seconds", ra, maxWait)
	}
}

// Brute-force protection of the token endpoints (SPEC §3.3): after too many
// failed exchanges from one client address, every token request from it —
// even with a valid key — gets 429 until the window passes; other clients are
// unaffected; X-Forwarded-For counts only from a trusted proxy.
func TestTokenBruteForceProtection(t *testing.T) {
	t.Parallel()
	unknown, err := iam.GenerateKey(rand.Reader) // well-formed, in no store
	if err != nil {
		t.Fatal(err)
	}

	t.Run("fail/blocked-after-the-limit", func(t *testing.T) {
		t.Parallel()
		s := throttledServer(t, "127.0.0.1/32")
		good := s.admin.APIKey
		malformed := good[:len(good)-1] + flip(good[len(good)-1])
		for i, bad := range []string{malformed, unknown, malformed, unknown} {
			wantTokenError(t, s.do(t, tokenReq(endpoints[i%2], bad, "")), http.StatusBadRequest, "BXNIM0415E")
		}
		// Four failures: a good key still exchanges, and a success forgives nothing.
		wantExchanged(t, s.do(t, tokenReq("iam", good, "")))
		wantTokenError(t, s.do(t, tokenReq("v5", unknown, "")), http.StatusBadRequest, "BXNIM0415E") // the fifth

		for _, ep := range endpoints {
			wantThrottled(t, s.do(t, tokenReq(ep, good, "")), 60)
			wantThrottled(t, s.do(t, tokenReq(ep, unknown, "")), 60)
		}
		// Another client (through the trusted proxy) is unaffected, and so is
		// an authenticated API call from the blocked address.
		for _, ep := range endpoints {
			wantExchanged(t, s.do(t, tokenReq(ep, good, "198.51.100.7")))
		}
		tokenWorks(t, s, mustTokenFrom(t, s, good, "198.51.100.7"))

		s.clock.Advance(30 * time.Second)
		wantThrottled(t, s.do(t, tokenReq("iam", good, "")), 30)
		s.clock.Advance(31 * time.Second) // past the window
		for _, ep := range endpoints {
			wantExchanged(t, s.do(t, tokenReq(ep, good, "")))
		}
		// A new window: one failure blocks nothing.
		wantTokenError(t, s.do(t, tokenReq("iam", unknown, "")), http.StatusBadRequest, "BXNIM0415E")
		wantExchanged(t, s.do(t, tokenReq("v5", good, "")))
	})

	t.Run("fail/malformed-keys-count", func(t *testing.T) {
		t.Parallel()
		s := throttledServer(t, "127.0.0.1/32")
		good := s.admin.APIKey
		const from = "203.0.113.9"
		for _, bad := range []string{
			good[:len(good)-1] + flip(good[len(good)-1]), // checksum
			good[:len(good)-2],                           // truncated
			strings.Replace(good, iam.KeyPrefix, "gatehause_", 1),
			strings.Repeat("x", 40),
			good + "A",
		} {
			wantTokenError(t, s.do(t, tokenReq("iam", bad, from)), http.StatusBadRequest, "BXNIM0415E")
		}
		wantThrottled(t, s.do(t, tokenReq("iam", good, from)), 60)
		wantThrottled(t, s.do(t, tokenReq("v5", good, from)), 60)
		wantExchanged(t, s.do(t, tokenReq("iam", good, "")))
	})

	t.Run("fail/forwarded-for-from-an-untrusted-peer-changes-nothing", func(t *testing.T) {
		t.Parallel()
		s := throttledServer(t, "") // no trusted proxies: the peer is the client
		good := s.admin.APIKey
		for i := range 5 {
			wantTokenError(t, s.do(t, tokenReq("v5", unknown, "192.0.2."+strconv.Itoa(i+1))), http.StatusBadRequest, "BXNIM0415E")
		}
		for _, from := range []string{"", "192.0.2.200", "192.0.2.200, 10.0.0.1"} {
			for _, ep := range endpoints {
				wantThrottled(t, s.do(t, tokenReq(ep, good, from)), 60)
			}
		}
	})

	t.Run("fail/ipv6-clients-count-per-64", func(t *testing.T) {
		t.Parallel()
		s := throttledServer(t, "127.0.0.1/32")
		good := s.admin.APIKey
		for i := range 5 {
			wantTokenError(t, s.do(t, tokenReq("v5", unknown, "2001:db8:0:1::"+strconv.Itoa(i+1))), http.StatusBadRequest, "BXNIM0415E")
		}
		wantThrottled(t, s.do(t, tokenReq("v5", good, "2001:db8:0:1:ffff::9")), 60)
		wantExchanged(t, s.do(t, tokenReq("v5", good, "2001:db8:0:2::1")))
	})

	t.Run("fail/forwarded-for-beyond-the-trusted-proxy", func(t *testing.T) {
		t.Parallel()
		// Only the nearest address the trusted proxy did not add counts: a
		// client cannot rotate its address by prepending hops.
		s := throttledServer(t, "127.0.0.1/32")
		good := s.admin.APIKey
		for i := range 5 {
			wantTokenError(t, s.do(t, tokenReq("iam", unknown, "10.9.9."+strconv.Itoa(i)+", 198.51.100.50")), http.StatusBadRequest, "BXNIM0415E")
		}
		wantThrottled(t, s.do(t, tokenReq("iam", good, "10.1.1.1, 198.51.100.50")), 60)
		wantExchanged(t, s.do(t, tokenReq("iam", good, "198.51.100.51")))
	})
}

// mustTokenFrom exchanges key at /identity/token as client address from.
func mustTokenFrom(t *testing.T, s *server, key, from string) string {
	t.Helper()
	res := s.do(t, tokenReq("iam", key, from))
	wantExchanged(t, res)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	res.decode(t, &body)
	return body.AccessToken
}
