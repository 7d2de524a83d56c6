package e2e_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/client"
)

// Gateway events and analytics (SPEC §7, §8). Latencies are made exact with
// the fake clock: the backends advance it by the ?ms= of each call, so the
// gateway measures exactly that much (the clock does not move otherwise).
func TestAnalytics(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	ctx := t.Context()
	slowBy := func(b *backend) {
		b.setHandler(func(w http.ResponseWriter, r *http.Request) {
			if ms, err := strconv.Atoi(r.URL.Query().Get("ms")); err == nil {
				p.s.clock.Advance(time.Duration(ms) * time.Millisecond)
			}
			w.WriteHeader(http.StatusOK)
			w.Write([]byte("twelve bytes"))
		})
	}
	slowBy(p.weather)
	slowBy(p.pets)
	c1 := p.newConsumer(t, "sb", weatherProduct, "default")
	c2 := p.newConsumer(t, "sb", weatherProduct, "default")
	base := "/" + p.org + "/sb"
	minute1 := p.s.clock.Now() // 09:26:53

	// Minute one: four answered calls, three refused; one that matches no
	// catalog has no event.
	first := p.call(t, c1, base+"/weather/current?city=A&ms=10")
	wantFrom(t, first, p.weather)
	wantFrom(t, p.call(t, c1, base+"/weather/forecast/B?ms=20"), p.weather)
	post := p.s.gw(t, gwReq{method: "POST", path: base + "/weather/alerts?ms=30", header: c1.creds(), body: strings.NewReader(strings.Repeat("a", 100))})
	if post.status != http.StatusOK {
		t.Fatalf("POST alerts: %d %s", post.status, post.body)
	}
	wantFrom(t, p.call(t, c2, base+"/petstore/pets?ms=40&client_id="+c2.id), p.pets)
	wantGWError(t, p.s.gw(t, gwReq{path: base + "/weather/current", header: map[string]string{"X-IBM-Client-Id": "unknown"}}), 401, "Client id not registered.")
	wantGWError(t, p.call(t, c1, base+"/weather/history"), 404, "No resources match requested URI")
	wantGWError(t, p.call(t, c1, base+"/no-such-api/x"), 404, "No resources match requested URI")
	wantGWError(t, p.call(t, c1, "/no-such-org/sb/weather/current"), 404, "No resources match requested URI")
	// Minute two.
	p.s.clock.Advance(time.Minute)
	minute2 := p.s.clock.Now().Truncate(time.Minute) // 09:27:00
	wantFrom(t, p.call(t, c1, base+"/weather/current?city=C&ms=50"), p.weather)
	wantFrom(t, p.s.gw(t, gwReq{path: base + "/status/health"}), p.status)

	all := waitEvents(t, p, "sb", client.EventQuery{}, 9)
	if len(all) != 9 {
		t.Fatalf("%d events, want 9: %s", len(all), jsonOf(all))
	}

	t.Run("ok/event-fields", func(t *testing.T) {
		e := all[0]
		want := client.Event{
			Seq: e.Seq, Time: minute1, RequestID: txID(t, first), API: "weather:1.0.0", Operation: "GET /current",
			Status: 200, LatencyMS: 10, BackendLatencyMS: 10, BytesIn: 0, BytesOut: 12,
			ClientID: c1.id, AppID: c1.app.ID, ConsumerOrgID: c1.app.ConsumerOrgID, Product: weatherProduct, Plan: "default",
		}
		if !e.Time.Equal(want.Time) {
			t.Errorf("event time %v, want %v", e.Time, want.Time)
		}
		e.Time = want.Time
		if e != want {
			t.Errorf("event\n got %+v\nwant %+v", e, want)
		}
		if pe := all[2]; pe.Operation != "POST /alerts" || pe.BytesIn != 100 || pe.LatencyMS != 30 || pe.RequestID != txID(t, post) {
			t.Errorf("POST event %+v", pe)
		}
		if u := all[4]; u.Status != 401 || u.API != "weather:1.0.0" || u.ClientID != "" || u.AppID != "" || u.Product != "" {
			t.Errorf("event of the unknown client id %+v", u)
		}
		var seqs []int64
		for _, e := range all {
			seqs = append(seqs, e.Seq)
		}
		if !slices.IsSorted(seqs) {
			t.Errorf("events not in order: %v", seqs)
		}
	})

	count := func(t *testing.T, q client.EventQuery) []client.Event {
		t.Helper()
		page, err := p.admin.ListEvents(ctx, p.org, "sb", q)
		if err != nil {
			t.Fatalf("events %+v: %v", q, err)
		}
		if page.Next != "" {
			t.Fatalf("events %+v: a next page", q)
		}
		return page.Events
	}
	t.Run("ok/filters", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			q    client.EventQuery
			want []int // indexes into all
		}{
			{"api", client.EventQuery{API: "weather:1.0.0"}, []int{0, 1, 2, 4, 5, 7}},
			// Routing comes before identification: c1's calls to an unknown
			// path or API are nobody's.
			{"app", client.EventQuery{App: c1.app.ID}, []int{0, 1, 2, 7}},
			{"status-code", client.EventQuery{Status: "401"}, []int{4}},
			{"status-class-4xx", client.EventQuery{Status: "4xx"}, []int{4, 5, 6}},
			{"status-class-2xx", client.EventQuery{Status: "2xx"}, []int{0, 1, 2, 3, 7, 8}},
			{"after", client.EventQuery{After: minute2}, []int{7, 8}},
			{"before", client.EventQuery{Before: minute2}, []int{0, 1, 2, 3, 4, 5, 6}},
			{"api-and-status", client.EventQuery{API: "weather:1.0.0", Status: "4xx"}, []int{4, 5}},
			{"nothing", client.EventQuery{App: c2.app.ID, Status: "5xx"}, nil},
		} {
			got := count(t, tc.q)
			want := []client.Event{}
			for _, i := range tc.want {
				want = append(want, all[i])
			}
			if jsonOf(got) != jsonOf(want) {
				t.Errorf("%s: %d events %s, want %v", tc.name, len(got), jsonOf(got), tc.want)
			}
		}
	})

	t.Run("ok/limit-and-link-paging", func(t *testing.T) {
		var paged []client.Event
		q := client.EventQuery{Limit: 2}
		pages := 0
		for ; pages < 10; pages++ {
			page, err := p.admin.ListEvents(ctx, p.org, "sb", q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) > 2 {
				t.Fatalf("page of %d events with limit 2", len(page.Events))
			}
			paged = append(paged, page.Events...)
			if q.Cursor = page.Next; q.Cursor == "" {
				break
			}
		}
		if pages != 4 || jsonOf(paged) != jsonOf(all) {
			t.Errorf("%d pages of %d events, want 5 pages of all 9", pages+1, len(paged))
		}
		// The Link header as sent, with the filters kept.
		r := p.s.do(t, req{method: "GET", path: "/v1/orgs/" + p.org + "/environments/sb/events?status=2xx&limit=4", token: mustToken(t, p.s, p.s.admin.APIKey, client.TokenOptions{})})
		m := regexp.MustCompile(`^<([^>]+)>; rel="next"$`).FindStringSubmatch(r.header.Get("Link"))
		if r.status != 200 || m == nil {
			t.Fatalf("%d, Link %q", r.status, r.header.Get("Link"))
		}
		u, err := url.Parse(m[1])
		if err != nil || u.Query().Get("status") != "2xx" || u.Query().Get("limit") != "4" || u.Query().Get("cursor") == "" {
			t.Errorf("next link %q", m[1])
		}
	})

	t.Run("fail/bad-filters", func(t *testing.T) {
		for _, q := range []string{"status=600", "status=6xx", "status=abc", "after=yesterday", "before=1", "limit=0", "limit=1001", "cursor=-1"} {
			r := p.s.do(t, req{method: "GET", path: "/v1/orgs/" + p.org + "/environments/sb/events?" + q, token: mustToken(t, p.s, p.s.admin.APIKey, client.TokenOptions{})})
			wantAPIError(t, r, http.StatusBadRequest, "validation_failed")
		}
	})

	t.Run("ok/analytics", func(t *testing.T) {
		since := minute1.Truncate(time.Minute)
		rep, err := p.admin.Analytics(ctx, p.org, "sb", client.AnalyticsQuery{Since: since, Until: since.Add(2 * time.Minute), Interval: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Since.Equal(since) || !rep.Until.Equal(since.Add(2*time.Minute)) || rep.Interval != "1m0s" || rep.Calls != 9 || len(rep.Buckets) != 2 {
			t.Fatalf("report %s", jsonOf(rep))
		}
		// Minute one: latencies 0 0 0 10 20 30 40 ms (nearest rank).
		b := rep.Buckets[0]
		if !b.Start.Equal(since) || b.Calls != 7 || fmt.Sprint(b.ByStatus) != "map[2xx:4 4xx:3]" || b.Latency != (client.Percentiles{P50: 10, P95: 40, P99: 40}) {
			t.Errorf("minute one %s", jsonOf(b))
		}
		// Minute two: 0 and 50 ms.
		b = rep.Buckets[1]
		if !b.Start.Equal(minute2) || b.Calls != 2 || fmt.Sprint(b.ByStatus) != "map[2xx:2]" || b.Latency != (client.Percentiles{P50: 0, P95: 50, P99: 50}) {
			t.Errorf("minute two %s", jsonOf(b))
		}
		group := func(gs []client.AnalyticsGroup, name string) client.AnalyticsGroup {
			for _, g := range gs {
				if g.Name == name {
					return g
				}
			}
			t.Errorf("no group %s in %s", name, jsonOf(gs))
			return client.AnalyticsGroup{}
		}
		// weather: 10 20 30 0 0 50.
		if g := group(rep.ByAPI, "weather:1.0.0"); g.Calls != 6 || fmt.Sprint(g.ByStatus) != "map[2xx:4 4xx:2]" || g.Latency != (client.Percentiles{P50: 10, P95: 50, P99: 50}) {
			t.Errorf("byApi weather %s", jsonOf(g))
		}
		if g := group(rep.ByAPI, "pet-store:2.1.0"); g.Calls != 1 || g.Latency.P50 != 40 {
			t.Errorf("byApi pet-store %s", jsonOf(g))
		}
		if g := group(rep.ByApp, c1.app.ID); g.Calls != 4 || fmt.Sprint(g.ByStatus) != "map[2xx:4]" || g.Latency != (client.Percentiles{P50: 20, P95: 50, P99: 50}) {
			t.Errorf("byApp c1 %s", jsonOf(g))
		}
		if g := group(rep.ByApp, c2.app.ID); g.Calls != 1 || fmt.Sprint(g.ByStatus) != "map[2xx:1]" {
			t.Errorf("byApp c2 %s", jsonOf(g))
		}
		for name, gs := range map[string][]client.AnalyticsGroup{"byApi": rep.ByAPI, "byApp": rep.ByApp} {
			n := 0
			for _, g := range gs {
				n += g.Calls
			}
			if n != 9 {
				t.Errorf("%s totals %d calls, want 9", name, n)
			}
		}
		// A range without calls has empty buckets; a bad range is refused.
		empty, err := p.admin.Analytics(ctx, p.org, "sb", client.AnalyticsQuery{Since: since.Add(-time.Hour), Until: since, Interval: 10 * time.Minute})
		if err != nil || empty.Calls != 0 || len(empty.Buckets) != 6 {
			t.Errorf("empty range: %s, %v", jsonOf(empty), err)
		}
		_, err = p.admin.Analytics(ctx, p.org, "sb", client.AnalyticsQuery{Since: since, Until: since.Add(-time.Minute)})
		wantErr(t, err, http.StatusBadRequest, "validation_failed")
		_, err = p.admin.Analytics(ctx, p.org, "sb", client.AnalyticsQuery{Since: since.Add(-48 * time.Hour), Until: since, Interval: time.Minute})
		wantErr(t, err, http.StatusBadRequest, "validation_failed")
	})

	t.Run("ok/events-are-per-catalog", func(t *testing.T) {
		mustEnv(t, p.admin, p.org, "other")
		page, err := p.admin.ListEvents(ctx, p.org, "other", client.EventQuery{})
		if err != nil || len(page.Events) != 0 {
			t.Errorf("events of an unused catalog: %d, %v", len(page.Events), err)
		}
	})
}
