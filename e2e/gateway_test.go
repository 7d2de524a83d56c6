package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/client"
)

// The journey of SPEC §7–§8 with the project's sample documents: a provider
// imports and publishes, a consumer subscribes, its app calls through the
// gateway, and real backends check what arrives.
func TestGatewayJourney(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	ctx := t.Context()

	t.Run("ok/samples-imported-as-drafts", func(t *testing.T) {
		apis, _, err := p.admin.ListAPIs(ctx, p.org, client.PageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range apis {
			if a.BasePath == nil {
				t.Fatalf("API %s without basePath", a.Ref())
			}
			got = append(got, a.Ref()+" "+*a.BasePath)
		}
		want := []string{"pet-store:2.1.0 /petstore", "status:1.0.0 /status", "weather:1.0.0 /weather"}
		if !slices.Equal(got, want) {
			t.Errorf("draft APIs %q, want %q", got, want)
		}
		pub, err := p.admin.GetPublication(ctx, p.org, "sb", weatherProduct)
		if err != nil {
			t.Fatal(err)
		}
		var plans []string
		for _, pl := range pub.Plans {
			plans = append(plans, fmt.Sprintf("%s approval=%v %v", pl.Name, pl.Approval, pl.RateLimits))
		}
		wantPlans := []string{
			"default approval=false [{default 100/1hour true}]",
			"forecast-only approval=false [{default 1000/1day true}]",
			"gold approval=true [{per-day 100000/1day false} {per-second 50/1second true}]",
		}
		if pub.State != client.StatePublished || !slices.Equal(plans, wantPlans) {
			t.Errorf("publication %s %q, want published %q", pub.State, plans, wantPlans)
		}
	})

	c := p.newConsumer(t, "sb", weatherProduct, "default")
	base := "/" + p.org + "/sb"

	t.Run("ok/client-secret-shown-once", func(t *testing.T) {
		if len(c.secret) < 64 {
			t.Errorf("client secret %q: want at least 32 random bytes (64 hex)", c.secret)
		}
		for _, path := range []string{
			"/v1/orgs/" + p.org + "/environments/sb/consumerOrgs/" + c.ref.ConsumerOrg + "/apps/" + c.ref.App,
			"/v1/orgs/" + p.org + "/environments/sb/consumerOrgs/" + c.ref.ConsumerOrg + "/apps",
			"/v1/orgs/" + p.org + "/environments/sb/consumerOrgs/" + c.ref.ConsumerOrg + "/apps/" + c.ref.App + "/credentials",
			"/v1/orgs/" + p.org + "/environments/sb/consumerApps",
		} {
			r := p.s.do(t, req{method: "GET", path: path, token: mustToken(t, p.s, p.s.admin.APIKey, client.TokenOptions{})})
			if r.status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, r.status, r.body)
			}
			if bytes.Contains(r.body, []byte(c.secret)) || bytes.Contains(r.body, []byte("clientSecret")) {
				t.Errorf("GET %s returns the client secret: %s", path, r.body)
			}
		}
		creds, err := p.admin.ListCredentials(ctx, c.ref)
		if err != nil {
			t.Fatal(err)
		}
		if len(creds) != 1 || creds[0].ClientID != c.id || creds[0].SecretHint != "…"+c.secret[len(c.secret)-4:] {
			t.Errorf("credentials %+v, want one for %s hinted …%s", creds, c.id, c.secret[len(c.secret)-4:])
		}
	})

	t.Run("ok/call-right-after-subscribing-routes", func(t *testing.T) {
		// The subscription was made just before: no retry, no wait.
		r := p.call(t, c, base+"/weather/current?city=Oslo&units=metric")
		wantFrom(t, r, p.weather)
		got := p.weather.last(t)
		if got.Method != "GET" || got.Path != "/v2/current" || got.RawQuery != "city=Oslo&units=metric" {
			t.Errorf("backend got %s %s?%s, want GET /v2/current?city=Oslo&units=metric", got.Method, got.Path, got.RawQuery)
		}
		if string(r.body) != `{"backend":"weather","path":"/v2/current"}` {
			t.Errorf("body %s: not the backend's", r.body)
		}
	})

	t.Run("ok/path-templates", func(t *testing.T) {
		for _, tc := range []struct {
			path     string
			b        *backend
			method   string
			wantPath string
		}{
			{base + "/weather/forecast/Trondheim", p.weather, "GET", "/v2/forecast/Trondheim"},
			{base + "/weather/forecast/S%C3%A3o%20Paulo", p.weather, "GET", "/v2/forecast/S%C3%A3o%20Paulo"},
			{base + "/petstore/pets/42?client_id=" + c.id, p.pets, "GET", "/pets/42"},
			{base + "/petstore/pets/42?client_id=" + c.id, p.pets, "DELETE", "/pets/42"},
			{base + "/petstore/pets?client_id=" + c.id, p.pets, "POST", "/pets"},
		} {
			r := p.s.gw(t, gwReq{method: tc.method, path: tc.path, header: c.creds()}) // the petstore reads the query
			wantFrom(t, r, tc.b)
			if got := tc.b.last(t); got.Method != tc.method || got.Path != tc.wantPath {
				t.Errorf("%s %s: backend got %s %s, want %s", tc.method, tc.path, got.Method, got.Path, tc.wantPath)
			}
		}
	})

	t.Run("ok/body-streamed", func(t *testing.T) {
		// The backend reads the first part before the client has sent the
		// second: the gateway streams the body rather than buffering it.
		part1 := bytes.Repeat([]byte(`{"alert":"storm"}`), 64)
		part2 := []byte(`{"end":true}`)
		got1 := make(chan struct{})
		p.weather.setHandler(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadFull(r.Body, make([]byte, len(part1))); err == nil {
				close(got1)
			}
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusCreated)
		})
		defer p.weather.setHandler(nil)
		pr, pw := io.Pipe()
		streamed := make(chan bool, 1)
		go func() {
			pw.Write(part1)
			select {
			case <-got1:
				streamed <- true
			case <-time.After(10 * time.Second): // only when the gateway buffers: the test fails below
				streamed <- false
			}
			pw.Write(part2)
			pw.Close()
		}()
		h := c.creds()
		h["Content-Type"] = "application/json"
		r := p.s.gw(t, gwReq{method: "POST", path: base + "/weather/alerts?severity=high", header: h, body: pr})
		if !<-streamed {
			t.Error("the backend did not get the first part of the body before the client sent the rest: the gateway buffers request bodies")
		}
		if r.status != http.StatusCreated {
			t.Fatalf("POST alerts: %d %s", r.status, r.body)
		}
		got := p.weather.last(t)
		if got.Method != "POST" || got.Path != "/v2/alerts" || got.RawQuery != "severity=high" ||
			!bytes.Equal(got.Body, append(bytes.Clone(part1), part2...)) || got.Header.Get("Content-Type") != "application/json" {
			t.Errorf("backend got %s %s?%s %q (%d bytes) Content-Type %q", got.Method, got.Path, got.RawQuery, got.Body[:min(len(got.Body), 40)], len(got.Body), got.Header.Get("Content-Type"))
		}
	})

	t.Run("ok/headers-without-hop-by-hop", func(t *testing.T) {
		h := c.creds()
		for k, v := range map[string]string{
			"Connection":          "keep-alive, X-Hop-Named",
			"X-Hop-Named":         "named in Connection",
			"Keep-Alive":          "timeout=5",
			"TE":                  "deflate",
			"Upgrade":             "websocket",
			"Proxy-Authorization": "Basic Zm9vOmJhcg==",
			"Proxy-Connection":    "keep-alive",
			"Proxy-Authenticate":  "Basic",
			"X-Custom":            "kept",
			"Accept-Language":     "nb",
		} {
			h[k] = v
		}
		r := p.s.gw(t, gwReq{method: "POST", path: base + "/weather/alerts", header: h, body: strings.NewReader(`{"a":1}`)})
		if r.status != http.StatusCreated {
			t.Fatalf("POST alerts: %d %s", r.status, r.body)
		}
		got := p.weather.last(t)
		for _, name := range []string{"Connection", "X-Hop-Named", "Keep-Alive", "Te", "Transfer-Encoding", "Upgrade", "Proxy-Authorization", "Proxy-Connection", "Proxy-Authenticate", "X-Ibm-Client-Secret"} {
			if v, ok := got.Header[http.CanonicalHeaderKey(name)]; ok {
				t.Errorf("backend got %s: %q", name, v)
			}
		}
		if got.Header.Get("X-Custom") != "kept" || got.Header.Get("Accept-Language") != "nb" || string(got.Body) != `{"a":1}` {
			t.Errorf("backend got X-Custom %q, Accept-Language %q, body %q", got.Header.Get("X-Custom"), got.Header.Get("Accept-Language"), got.Body)
		}
	})

	t.Run("ok/client-secret-never-reaches-the-backend", func(t *testing.T) {
		// In the header the API asks for, and in the query as well.
		r := p.call(t, c, base+"/weather/current?city=Oslo&client_secret="+c.secret)
		wantFrom(t, r, p.weather)
		got := p.weather.last(t)
		if got.RawQuery != "city=Oslo" {
			t.Errorf("backend query %q, want city=Oslo", got.RawQuery)
		}
		noSecret(t, got, c.secret)
		// The query-identified API: client_id passes, client_secret does not.
		r = p.s.gw(t, gwReq{path: base + "/petstore/pets?limit=5&client_id=" + c.id + "&client_secret=" + c.secret})
		wantFrom(t, r, p.pets)
		got = p.pets.last(t)
		if got.RawQuery != "client_id="+c.id+"&limit=5" {
			t.Errorf("backend query %q, want client_id and limit only", got.RawQuery)
		}
		noSecret(t, got, c.secret)
	})

	t.Run("ok/one-transaction-id-both-ways", func(t *testing.T) {
		r := p.s.gw(t, gwReq{path: base + "/weather/current?city=Oslo", header: map[string]string{
			"X-IBM-Client-Id": c.id, "X-IBM-Client-Secret": c.secret, "X-Global-Transaction-ID": "forged-by-the-client",
		}})
		wantFrom(t, r, p.weather)
		id := txID(t, r) // one value: the backend's own echo is dropped
		sent := p.weather.last(t).Header.Values("X-Global-Transaction-Id")
		if len(sent) != 1 || sent[0] != id || id == "forged-by-the-client" {
			t.Errorf("backend got X-Global-Transaction-ID %q, the client %q", sent, id)
		}
		if id2 := txID(t, p.call(t, c, base+"/weather/current?city=Oslo")); id2 == id {
			t.Errorf("two calls share the transaction id %q", id)
		}
	})

	t.Run("ok/rate-limit-headers-on-identified-calls", func(t *testing.T) {
		r := p.call(t, c, base+"/weather/current?city=Oslo")
		if r.header.Get("X-RateLimit-Limit") != "name=default,100;" || !strings.HasPrefix(r.header.Get("X-RateLimit-Remaining"), "name=default,") {
			t.Errorf("X-RateLimit-Limit %q, -Remaining %q", r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"))
		}
	})

	t.Run("ok/backend-connections-are-reused", func(t *testing.T) {
		n := p.weather.count()
		for range 20 {
			wantFrom(t, p.call(t, c, base+"/weather/current?city=Oslo"), p.weather)
		}
		conns := map[string]bool{}
		for _, r := range p.weather.since(n) {
			conns[r.Remote] = true
		}
		if len(conns) > 2 {
			t.Errorf("20 calls in a row took %d backend connections: no keep-alive", len(conns))
		}
	})

	t.Run("ok/head-is-served-by-get", func(t *testing.T) {
		r := p.s.gw(t, gwReq{method: "HEAD", path: base + "/weather/current?city=Oslo", header: c.creds()})
		if r.status != http.StatusOK || p.weather.last(t).Method != "HEAD" {
			t.Errorf("HEAD: %d, backend got %s", r.status, p.weather.last(t).Method)
		}
	})

	t.Run("ok/public-api-needs-no-client-id", func(t *testing.T) {
		r := p.s.gw(t, gwReq{path: base + "/status/health?verbose=1"})
		wantFrom(t, r, p.status)
		if got := p.status.last(t); got.Path != "/health" || got.RawQuery != "verbose=1" {
			t.Errorf("backend got %s?%s", got.Path, got.RawQuery)
		}
		if r.header.Get("X-RateLimit-Limit") != "" {
			t.Errorf("an anonymous call has X-RateLimit-Limit %q", r.header.Get("X-RateLimit-Limit"))
		}
		txID(t, r)
	})

	t.Run("ok/query-client-id", func(t *testing.T) {
		r := p.s.gw(t, gwReq{path: base + "/petstore/pets?client_id=" + c.id})
		wantFrom(t, r, p.pets)
		if got := p.pets.last(t); got.Path != "/pets" {
			t.Errorf("backend path %q", got.Path)
		}
		// The header does not identify the app to an API that asks for the query.
		wantGWError(t, p.s.gw(t, gwReq{path: base + "/petstore/pets", header: map[string]string{"X-IBM-Client-Id": c.id}}), 401, "Client id missing.")
	})

	t.Run("ok/catalog-overrides-target-url", func(t *testing.T) {
		mustEnv(t, p.admin, p.org, "prod")
		mustPublish(t, p.admin, p.org, "prod", weatherProduct)
		pc := p.newConsumer(t, "prod", weatherProduct, "default")
		before := p.weather.count()
		r := p.call(t, pc, "/"+p.org+"/prod/weather/current?city=Bergen")
		wantFrom(t, r, p.weatherProd)
		if got := p.weatherProd.last(t); got.Path != "/v2/current" || got.RawQuery != "city=Bergen" {
			t.Errorf("prod backend got %s?%s", got.Path, got.RawQuery)
		}
		if p.weather.count() != before {
			t.Error("the sandbox backend got the prod call")
		}
		// Client ids belong to one catalog.
		wantGWError(t, p.call(t, c, "/"+p.org+"/prod/weather/current?city=Bergen"), 401, "Client id not registered.")
		wantGWError(t, p.call(t, pc, base+"/weather/current?city=Bergen"), 401, "Client id not registered.")
		// The sandbox still uses the default target.
		wantFrom(t, p.call(t, c, base+"/weather/current?city=Oslo"), p.weather)
	})
}

// noSecret fails if secret appears anywhere in what a backend received.
func noSecret(t *testing.T, got seen, secret string) {
	t.Helper()
	dump, _ := json.Marshal(got)
	if strings.Contains(got.RawQuery+got.Path+string(got.Body)+fmt.Sprint(got.Header)+string(dump), secret) {
		t.Errorf("the client secret reached the backend: %s", dump)
	}
}

// Every row of SPEC §8's error table, with the exact V5 body.
func TestGatewayErrors(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	base := "/" + p.org + "/sb"
	c := p.newConsumer(t, "sb", weatherProduct, "default")
	unsubscribed := p.newConsumer(t, "sb", "", "")
	pending := p.newConsumer(t, "sb", weatherProduct, "gold")
	if pending.sub.State != client.SubscriptionPending || pending.sub.Approved {
		t.Fatalf("gold subscription %+v, want pending", pending.sub)
	}
	hdr := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	const (
		id     = "X-IBM-Client-Id"
		secret = "X-IBM-Client-Secret"
	)
	cases := []struct {
		name   string
		r      gwReq
		status int
		more   string
		allow  string
	}{
		{"fail/no-client-id", gwReq{path: base + "/weather/current?city=Oslo"}, 401, "Client id missing.", ""},
		{"fail/empty-client-id", gwReq{path: base + "/weather/current", header: hdr(id, "", secret, c.secret)}, 401, "Client id missing.", ""},
		{"fail/no-client-id-in-query", gwReq{path: base + "/petstore/pets"}, 401, "Client id missing.", ""},
		{"fail/unknown-client-id", gwReq{path: base + "/weather/current", header: hdr(id, "0123456789abcdef0123456789abcdef", secret, c.secret)}, 401, "Client id not registered.", ""},
		{"fail/unknown-client-id-in-query", gwReq{path: base + "/petstore/pets?client_id=nope"}, 401, "Client id not registered.", ""},
		{"fail/wrong-secret", gwReq{path: base + "/weather/current", header: hdr(id, c.id, secret, c.secret[:63]+"x")}, 401, "Client secret not valid.", ""},
		{"fail/no-secret", gwReq{path: base + "/weather/current", header: hdr(id, c.id)}, 401, "Client secret not valid.", ""},
		{"fail/another-apps-secret", gwReq{path: base + "/weather/current", header: hdr(id, c.id, secret, unsubscribed.secret)}, 401, "Client secret not valid.", ""},
		{"fail/not-subscribed", gwReq{path: base + "/weather/current", header: unsubscribed.creds()}, 401, "Client id not subscribed.", ""},
		{"fail/not-subscribed-query", gwReq{path: base + "/petstore/pets?client_id=" + unsubscribed.id}, 401, "Client id not subscribed.", ""},
		{"fail/subscription-pending", gwReq{path: base + "/weather/current", header: pending.creds()}, 401, "Client id not subscribed.", ""},
		{"fail/unknown-org", gwReq{path: "/no-such-org/sb/weather/current", header: c.creds()}, 404, "No resources match requested URI", ""},
		{"fail/unknown-catalog", gwReq{path: "/" + p.org + "/no-such-catalog/weather/current", header: c.creds()}, 404, "No resources match requested URI", ""},
		{"fail/unknown-api", gwReq{path: base + "/no-such-api/current", header: c.creds()}, 404, "No resources match requested URI", ""},
		{"fail/unknown-path", gwReq{path: base + "/weather/history", header: c.creds()}, 404, "No resources match requested URI", ""},
		{"fail/template-matches-one-segment", gwReq{path: base + "/weather/forecast/a/b", header: c.creds()}, 404, "No resources match requested URI", ""},
		{"fail/template-needs-a-segment", gwReq{path: base + "/weather/forecast/", header: c.creds()}, 404, "No resources match requested URI", ""},
		{"fail/base-path-is-not-a-prefix-of-a-segment", gwReq{path: base + "/weatherman/current", header: c.creds()}, 404, "No resources match requested URI", ""},
		{"fail/root", gwReq{path: "/"}, 404, "No resources match requested URI", ""},
		{"fail/org-only", gwReq{path: "/" + p.org}, 404, "No resources match requested URI", ""},
		{"fail/method-not-declared", gwReq{method: "DELETE", path: base + "/weather/current", header: c.creds()}, 405, "The method is not allowed for the requested URL", "GET"},
		{"fail/method-not-declared-on-template", gwReq{method: "PUT", path: base + "/petstore/pets/7?client_id=" + c.id}, 405, "The method is not allowed for the requested URL", "DELETE, GET"},
		{"fail/method-not-declared-public", gwReq{method: "POST", path: base + "/status/health"}, 405, "The method is not allowed for the requested URL", "GET"},
	}
	calls := p.weather.count() + p.pets.count() + p.status.count()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := p.s.gw(t, tc.r)
			wantGWError(t, r, tc.status, tc.more)
			if got := r.header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
		})
	}
	if n := p.weather.count() + p.pets.count() + p.status.count(); n != calls {
		t.Errorf("refused calls reached the backends (%d requests)", n-calls)
	}

	t.Run("fail/backend-unreachable", func(t *testing.T) {
		mustImportAPI(t, p.admin, p.org, publicAPIDoc("down", "/down", "http://"+closedPort(t), 0), client.ContentTypeYAML)
		mustCreateProduct(t, p.admin, p.org, productDoc("down-product", "1.0.0", []string{"down: down:1.0.0"}, ""), client.ContentTypeYAML)
		mustPublish(t, p.admin, p.org, "sb", "down-product:1.0.0")
		wantGWError(t, p.s.gw(t, gwReq{path: base + "/down/ping"}), 502, "The backend could not be reached")
	})
}

// A backend slower than the invoke timeout gets 504. This needs real time:
// the API's timeout is 1 s (the least a document may set), and the backend
// blocks until the gateway gives up or the test ends.
func TestGatewayBackendTimeout(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	slow := newBackend(t, "slow")
	done := t.Context()
	arrived := make(chan struct{}, 1)
	slow.setHandler(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done(): // the gateway gave up
		case <-done.Done():
		}
	})
	mustImportAPI(t, p.admin, p.org, publicAPIDoc("slow", "/slow", slow.URL, 1), client.ContentTypeYAML)
	mustCreateProduct(t, p.admin, p.org, productDoc("slow-product", "1.0.0", []string{"slow: slow:1.0.0"}, ""), client.ContentTypeYAML)
	mustPublish(t, p.admin, p.org, "sb", "slow-product:1.0.0")
	start := time.Now()
	r := p.s.gw(t, gwReq{path: "/" + p.org + "/sb/slow/ping"})
	elapsed := time.Since(start)
	wantGWError(t, r, 504, "The backend did not answer in time")
	if elapsed < time.Second || elapsed > 10*time.Second {
		t.Errorf("504 after %v, want about the 1 s invoke timeout", elapsed)
	}
	select {
	case <-arrived: // the call reached the backend (its handler may still be returning)
	case <-time.After(5 * time.Second):
		t.Error("the slow backend never got the call")
	}
}

// Publishing is synchronous on one node: the gateway routes a product the
// moment its publish call has answered (SPEC §8 allows a second; one node
// needs none), with no retry.
func TestPublishRoutesAtOnce(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	for i := range 5 {
		name := fmt.Sprintf("instant%d", i)
		b := newBackend(t, name)
		mustImportAPI(t, p.admin, p.org, publicAPIDoc(name, "/"+name, b.URL, 0), client.ContentTypeYAML)
		mustCreateProduct(t, p.admin, p.org, productDoc(name+"-product", "1.0.0", []string{name + ": " + name + ":1.0.0"}, ""), client.ContentTypeYAML)
		mustPublish(t, p.admin, p.org, "sb", name+"-product:1.0.0")
		wantFrom(t, p.s.gw(t, gwReq{path: "/" + p.org + "/sb/" + name + "/ping"}), b)
	}
}
