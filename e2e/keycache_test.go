package e2e_test

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"gatehouse/client"
)

// metricValue reads one unlabelled metric from /metrics; -1 when absent.
func metricValue(t *testing.T, s *server, name string) int {
	t.Helper()
	m := s.do(t, req{method: "GET", path: "/metrics"})
	sub := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\d+)$`).FindSubmatch(m.body)
	if sub == nil {
		return -1
	}
	n, err := strconv.Atoi(string(sub[1]))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// After a restart the key digest cache is filled from the store in the
// background (SPEC §12: no store round trip on the exchange when nothing
// changed); /metrics says when and how many. A key deleted afterwards
// leaves the cache and stops working, a key created afterwards works.
func TestKeyCacheWarmsAfterRestart(t *testing.T) {
	s := startServer(t)
	admin := s.asAdmin(t)
	var values []string
	for i := range 25 {
		values = append(values, mustCreateKey(t, admin, client.CreateAPIKey{Name: "warm-" + strconv.Itoa(i)}).APIKey)
	}
	all := listAll(t, admin, client.ListAPIKeysOptions{Scope: "account"})
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}

	s2 := startServer(t, withDataDir(s.DataDir))
	select {
	case <-s2.logs.waitFor(`"msg":"key digest cache warmed"`):
	case <-time.After(time.Minute): // a deadline, not a synchronisation
		t.Fatalf("the key cache was not warmed within a minute:\n%s", s2.logs)
	}
	if w, n := metricValue(t, s2, "gatehouse_key_cache_warm"), metricValue(t, s2, "gatehouse_key_cache_keys"); w != 1 || n != len(all) {
		t.Fatalf("after warming: warm %d, %d keys cached; want 1 and %d", w, n, len(all))
	}
	for _, v := range values {
		mustToken(t, s2, v, client.TokenOptions{})
	}

	admin2 := s2.asAdmin(t)
	gone := listAll(t, admin2, client.ListAPIKeysOptions{Scope: "account"})
	var victim client.APIKey
	for _, k := range gone {
		if k.Name == "warm-3" {
			victim = k
		}
	}
	if err := admin2.DeleteAPIKey(t.Context(), victim.ID); err != nil {
		t.Fatal(err)
	}
	exchangeRefused(t, s2, values[3])
	if n := metricValue(t, s2, "gatehouse_key_cache_keys"); n != len(all)-1 {
		t.Errorf("%d keys cached after a delete, want %d", n, len(all)-1)
	}
	fresh := mustCreateKey(t, admin2, client.CreateAPIKey{Name: "after-warm"})
	mustToken(t, s2, fresh.APIKey, client.TokenOptions{})
}
