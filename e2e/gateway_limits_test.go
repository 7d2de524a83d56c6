package e2e_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/client"
)

// Rate limits (SPEC §7, §8) on the fake clock: windows are fixed and aligned
// to the epoch, so the clock decides exactly when a window ends.

// untilWindowEnd is the Retry-After of a window of length w at now, in seconds.
func untilWindowEnd(now time.Time, w time.Duration) string {
	return strconv.FormatInt(int64(now.Truncate(w).Add(w).Sub(now)/time.Second), 10)
}

// The weather product's default plan, 100 calls an hour, hard.
func TestRateLimitDefaultPlan(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	c := p.newConsumer(t, "sb", weatherProduct, "default")
	path := "/" + p.org + "/sb/weather/current?city=Oslo"
	before := p.weather.count()
	for i := 1; i <= 100; i++ {
		r := p.call(t, c, path)
		wantFrom(t, r, p.weather)
		// The exact header text, as V5 clients parse it.
		if got, want := r.header.Get("X-RateLimit-Limit"), "name=default,100;"; got != want {
			t.Fatalf("call %d: X-RateLimit-Limit %q, want %q", i, got, want)
		}
		if got, want := r.header.Get("X-RateLimit-Remaining"), "name=default,"+strconv.Itoa(100-i)+";"; got != want {
			t.Fatalf("call %d: X-RateLimit-Remaining %q, want %q", i, got, want)
		}
	}
	r := p.call(t, c, path)
	wantGWError(t, r, http.StatusTooManyRequests, "Rate Limit exceeded")
	// The fake clock stands at 09:26:53: the hour's window ends in 33 min 7 s.
	if got := r.header.Get("Retry-After"); got != "1987" || got != untilWindowEnd(p.s.clock.Now(), time.Hour) {
		t.Errorf("Retry-After %q, want 1987 (to the end of the hour)", got)
	}
	if r.header.Get("X-RateLimit-Limit") != "name=default,100;" || r.header.Get("X-RateLimit-Remaining") != "name=default,0;" {
		t.Errorf("429 with X-RateLimit-Limit %q, -Remaining %q", r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"))
	}
	if n := p.weather.count() - before; n != 100 {
		t.Errorf("the backend got %d calls, want 100", n)
	}
	// Still refused one second before the hour; a new window at the hour.
	p.s.clock.Advance(1986 * time.Second)
	wantGWError(t, p.call(t, c, path), http.StatusTooManyRequests, "Rate Limit exceeded")
	p.s.clock.Advance(time.Second)
	r = p.call(t, c, path)
	wantFrom(t, r, p.weather)
	if got := r.header.Get("X-RateLimit-Remaining"); got != "name=default,99;" {
		t.Errorf("after the hour: X-RateLimit-Remaining %q, want name=default,99;", got)
	}
	// Both refusals are events marked rate-limited.
	for _, e := range waitEvents(t, p, "sb", client.EventQuery{Status: "429"}, 2) {
		if !e.RateLimited || e.AppID != c.app.ID || e.Plan != "default" {
			t.Errorf("429 event %+v: want rateLimited, of the app and plan", e)
		}
	}
	// Limits count per subscription: another app has its own.
	other := p.newConsumer(t, "sb", weatherProduct, "default")
	wantLimits(t, p.call(t, other, path), map[string]int64{"default": 100}, map[string]int64{"default": 99})
}

// The gold plan needs approval and has two named limits, one soft.
func TestRateLimitGoldPlanApproval(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	mgr := newUser(t, p.s, p.admin, uniq("manager"), grant{"Manager", p.org})
	c := p.newConsumer(t, "sb", weatherProduct, "gold")
	if c.sub.State != client.SubscriptionPending || c.sub.Approved || c.sub.Plan != "gold" || c.sub.Product != weatherProduct {
		t.Fatalf("gold subscription %+v, want pending and not approved", c.sub)
	}
	path := "/" + p.org + "/sb/weather/current?city=Oslo"
	r := p.call(t, c, path)
	wantGWError(t, r, http.StatusUnauthorized, "Client id not subscribed.")
	if r.header.Get("X-RateLimit-Limit") != "" {
		t.Errorf("a refused subscription counts against limits: %q", r.header.Get("X-RateLimit-Limit"))
	}

	sub, err := mgr.C.Approve(t.Context(), c.ref, c.sub.ID)
	if err != nil {
		t.Fatalf("approve as Manager: %v", err)
	}
	if sub.State != client.SubscriptionActive || !sub.Approved || sub.ApprovedAt.IsZero() {
		t.Errorf("approved subscription %+v", sub)
	}
	_, err = mgr.C.Approve(t.Context(), c.ref, c.sub.ID)
	wantErr(t, err, http.StatusConflict, "conflict")

	r = p.call(t, c, path)
	wantFrom(t, r, p.weather)
	wantLimits(t, r, map[string]int64{"per-day": 100000, "per-second": 50}, map[string]int64{"per-day": 99999, "per-second": 49})
	// The order the gateway uses: the plan's limits by name.
	if got := r.header.Get("X-RateLimit-Limit"); got != "name=per-day,100000; name=per-second,50;" {
		t.Errorf("X-RateLimit-Limit %q, want name=per-day,100000; name=per-second,50;", got)
	}
	if got := r.header.Get("X-RateLimit-Remaining"); got != "name=per-day,99999; name=per-second,49;" {
		t.Errorf("X-RateLimit-Remaining %q", got)
	}
	// The hard per-second limit: 50 in this second (one used), then 429
	// until the next second, which the fake clock reaches without sleeping.
	for i := 2; i <= 50; i++ {
		wantFrom(t, p.call(t, c, path), p.weather)
	}
	r = p.call(t, c, path)
	wantGWError(t, r, http.StatusTooManyRequests, "Rate Limit exceeded")
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q, want 1", r.header.Get("Retry-After"))
	}
	wantLimits(t, r, map[string]int64{"per-day": 100000, "per-second": 50}, map[string]int64{"per-day": 100000 - 51, "per-second": 0})
	p.s.clock.Advance(time.Second)
	wantLimits(t, p.call(t, c, path), map[string]int64{"per-day": 100000, "per-second": 50}, map[string]int64{"per-day": 100000 - 52, "per-second": 49})
}

// A soft limit lets calls through when exceeded and logs the overrun.
func TestRateLimitSoft(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	mustCreateProduct(t, p.admin, p.org, productDoc("soft-product", "1.0.0", []string{"weather: weather:1.0.0"}, `  default:
    title: Soft
    rate-limits:
      burst: {value: 2/1minute, hard-limit: false}
      hourly: {value: 100/1hour, hard-limit: true}
`), client.ContentTypeYAML)
	mustPublish(t, p.admin, p.org, "sb", "soft-product:1.0.0")
	c := p.newConsumer(t, "sb", "soft-product:1.0.0", "default")
	path := "/" + p.org + "/sb/weather/current?city=Oslo"
	for i, want := range []int64{1, 0, 0, 0} {
		r := p.call(t, c, path)
		wantFrom(t, r, p.weather)
		wantLimits(t, r, map[string]int64{"burst": 2, "hourly": 100}, map[string]int64{"burst": want, "hourly": int64(99 - i)})
		if r.header.Get("Retry-After") != "" {
			t.Errorf("call %d over a soft limit has Retry-After %q", i+1, r.header.Get("Retry-After"))
		}
	}
	if n := strings.Count(p.s.logs.String(), "soft rate limit exceeded"); n != 1 {
		t.Errorf("the soft overrun is logged %d times in its window, want once", n)
	}
	events := waitEvents(t, p, "sb", client.EventQuery{App: c.app.ID}, 4)
	for i, e := range events {
		if e.RateLimited != (i >= 2) || e.Status != 200 {
			t.Errorf("event %d: status %d rateLimited %v, want 200 and %v", i+1, e.Status, e.RateLimited, i >= 2)
		}
	}
}

// The forecast-only plan includes one operation, which has its own limit
// (named "operation") on top of the plan's.
func TestRateLimitOperationPlan(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	c := p.newConsumer(t, "sb", weatherProduct, "forecast-only")
	base := "/" + p.org + "/sb/weather"
	plan := map[string]int64{"default": 1000, "operation": 10}
	for i := 1; i <= 10; i++ {
		r := p.call(t, c, base+"/forecast/Oslo")
		wantFrom(t, r, p.weather)
		wantLimits(t, r, plan, map[string]int64{"default": int64(1000 - i), "operation": int64(10 - i)})
		if i == 1 && r.header.Get("X-RateLimit-Limit") != "name=default,1000; name=operation,10;" {
			t.Errorf("X-RateLimit-Limit %q: the plan's limit, then the operation's", r.header.Get("X-RateLimit-Limit"))
		}
	}
	// Operations the plan does not include.
	wantGWError(t, p.call(t, c, base+"/current?city=Oslo"), http.StatusUnauthorized, "Client id not subscribed.")
	wantGWError(t, p.s.gw(t, gwReq{method: "POST", path: base + "/alerts", header: c.creds()}), http.StatusUnauthorized, "Client id not subscribed.")
	wantGWError(t, p.call(t, c, "/"+p.org+"/sb/petstore/pets?client_id="+c.id), http.StatusUnauthorized, "Client id not subscribed.")

	r := p.call(t, c, base+"/forecast/Bergen")
	wantGWError(t, r, http.StatusTooManyRequests, "Rate Limit exceeded")
	if got := r.header.Get("Retry-After"); got != "7" || got != untilWindowEnd(p.s.clock.Now(), time.Minute) {
		t.Errorf("Retry-After %q, want 7 (09:26:53 to the minute)", got)
	}
	// Refused calls count too (ratelimit.Limiter): the plan's day shows 11.
	wantLimits(t, r, plan, map[string]int64{"default": 989, "operation": 0})
	p.s.clock.Advance(7 * time.Second)
	wantLimits(t, p.call(t, c, base+"/forecast/Bergen"), plan, map[string]int64{"default": 988, "operation": 9})
}
