package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/apidef"
	"gatehouse/internal/apim"
	"gatehouse/internal/gateway"
	"gatehouse/internal/ratelimit"
	"gatehouse/internal/store"
)

// The gateway against a bare, tuned httputil.ReverseProxy to the same
// backend, both over real loopback HTTP (SPEC §12: gateway ≥ 0.8× the bare
// proxy). Run:
//
//	go test -run '^$' -bench 'Proxy' -benchtime 5s ./internal/gateway/
//
// The *Call benchmarks do the same work in one goroutine with no network: a
// stub transport answers for the backend and the response goes to a reused
// writer, so their allocations per call are the gateway's and the proxy's
// own and do not vary between runs (scripts/benchguard.sh guards them).

const (
	benchClientID = "0123456789abcdef0123456789abcdef"
	benchSecret   = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t"
)

func backend(b *testing.B) *httptest.Server {
	body := []byte(`{"ok":true,"city":"Oslo","temp":3}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchState is one org, one catalog, one API with client id and secret, one
// product with a large hard limit, one app subscribed.
func benchState(b *testing.B, target string) store.GatewayState {
	api := apidef.API{
		Name: "weather", Version: "1.0.0", BasePath: "/weather",
		Properties: map[string]string{"target-url": target}, TargetURL: "$(target-url)", Timeout: 60 * time.Second,
		Security: apidef.Security{
			ClientID:     &apidef.Param{In: "header", Name: "X-IBM-Client-Id"},
			ClientSecret: &apidef.Param{In: "header", Name: "X-IBM-Client-Secret"},
		},
		Operations: []apidef.Operation{{Method: "GET", Path: "/current"}, {Method: "GET", Path: "/forecast/{city}"}},
	}
	prod := apidef.Product{Name: "weather-product", Version: "1.0.0", APIs: map[string]string{"weather": api.ID()},
		Plans: map[string]apidef.Plan{"default": {Name: "default", Limits: []apidef.Limit{{Name: "default", Rate: ratelimit.Rate{Count: 1 << 40, Window: time.Hour}, Hard: true}}}}}
	snap, err := json.Marshal(apim.Snapshot{Product: prod, APIs: map[string]apidef.API{"weather": api}})
	if err != nil {
		b.Fatal(err)
	}
	return store.GatewayState{
		Orgs:         []store.Org{{ID: "o1", Name: "acme"}},
		Envs:         []store.Environment{{ID: "e1", OrgID: "o1", Name: "sb"}},
		Publications: []store.Publication{{ID: "p1", OrgID: "o1", EnvID: "e1", ProductName: prod.Name, ProductVersion: prod.Version, State: "published", Snapshot: snap, Rev: 1}},
		Apps:         []store.App{{ID: "a1", EnvID: "e1", ConsumerOrgID: "c1", Name: "app"}},
		Credentials:  []store.Credential{{ClientID: benchClientID, AppID: "a1", EnvID: "e1", SecretDigest: apim.SecretDigest(benchSecret)}},
		Subscriptions: []store.Subscription{{ID: "s1", EnvID: "e1", AppID: "a1", ProductName: prod.Name, ProductVersion: prod.Version,
			Plan: "default", Approved: true, State: apim.SubActive}},
	}
}

// discard is an event sink that keeps nothing.
type discard struct{}

func (discard) Emit(store.Event) {}

func drive(b *testing.B, url string, header http.Header) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512}}
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header = header.Clone()
			res, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
}

func BenchmarkProxyBare(b *testing.B) {
	be := backend(b)
	target, _ := url.Parse(be.URL)
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: gateway.NewTransport(),
	}
	front := httptest.NewServer(rp)
	b.Cleanup(front.Close)
	drive(b, front.URL+"/current?city=Oslo", http.Header{})
}

// The bare proxy with the one tuning the gateway has beyond its transport:
// response bodies copied through pooled buffers instead of a new 32 KiB
// buffer per call.
func BenchmarkProxyBarePooled(b *testing.B) {
	be := backend(b)
	target, _ := url.Parse(be.URL)
	rp := &httputil.ReverseProxy{
		Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport:  gateway.NewTransport(),
		BufferPool: &bufPool{},
	}
	front := httptest.NewServer(rp)
	b.Cleanup(front.Close)
	drive(b, front.URL+"/current?city=Oslo", http.Header{})
}

type bufPool struct{ p sync.Pool }

func (bp *bufPool) Get() []byte {
	if b, ok := bp.p.Get().(*[32 << 10]byte); ok {
		return b[:]
	}
	return make([]byte, 32<<10)
}

func (bp *bufPool) Put(b []byte) { bp.p.Put((*[32 << 10]byte)(b)) }

func BenchmarkProxyGateway(b *testing.B) {
	be := backend(b)
	st := benchState(b, be.URL)
	gw := gateway.New(gateway.Config{
		State:   func(context.Context) (store.GatewayState, error) { return st, nil },
		Limiter: ratelimit.NewMemory(nil), Events: discard{},
	})
	if err := gw.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	front := httptest.NewServer(gw)
	b.Cleanup(front.Close)
	drive(b, front.URL+"/acme/sb/weather/current?city=Oslo", http.Header{
		"X-Ibm-Client-Id": {benchClientID}, "X-Ibm-Client-Secret": {benchSecret},
	})
}

// stubBackend answers every request with the same small JSON document, as a
// fresh response each time (the proxy edits the response's header).
type stubBackend struct{ body []byte }

func (s stubBackend) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(s.body)),
		ContentLength: int64(len(s.body)),
		Request:       r,
	}, nil
}

var stubBody = []byte(`{"ok":true,"city":"Oslo","temp":3}`)

// sinkWriter is a ResponseWriter reused across calls: it keeps the status and
// counts the body, so the benchmark itself allocates nothing per call.
type sinkWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *sinkWriter) Header() http.Header { return w.h }
func (w *sinkWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *sinkWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

func (w *sinkWriter) reset() {
	clear(w.h)
	w.status, w.n = 0, 0
}

// serveCalls sends the same GET through h b.N times and checks each answer
// (status want; for 200, the backend's body).
func serveCalls(b *testing.B, h http.Handler, target string, header http.Header, want int) {
	tmpl := httptest.NewRequest("GET", target, nil)
	tmpl.Header = header
	w := &sinkWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		r := *tmpl // the server makes a new request per call; the header is only read
		h.ServeHTTP(w, &r)
		if w.status != want || want == http.StatusOK && w.n != len(stubBody) {
			b.Fatalf("status %d, %d bytes; headers %v", w.status, w.n, w.h)
		}
	}
}

func BenchmarkProxyBareCall(b *testing.B) {
	target, _ := url.Parse("http://backend.test")
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: stubBackend{stubBody},
	}
	serveCalls(b, rp, "http://gw.test/current?city=Oslo", http.Header{}, http.StatusOK)
}

// The gateway's whole call in process: route, client id and secret,
// subscription, one hard limit on the memory limiter, headers, proxy, event.
func BenchmarkGatewayCall(b *testing.B) {
	serveCalls(b, stubGateway(b), "http://gw.test/acme/sb/weather/current?city=Oslo", http.Header{
		"X-Ibm-Client-Id": {benchClientID}, "X-Ibm-Client-Secret": {benchSecret},
	}, http.StatusOK)
}

// A refused call (wrong secret): what a flood of bad credentials costs.
func BenchmarkGatewayRefused(b *testing.B) {
	serveCalls(b, stubGateway(b), "http://gw.test/acme/sb/weather/current?city=Oslo", http.Header{
		"X-Ibm-Client-Id": {benchClientID}, "X-Ibm-Client-Secret": {"not-the-secret"},
	}, http.StatusUnauthorized)
}

// stubGateway is the gateway of benchState in front of the stub backend.
func stubGateway(b *testing.B) *gateway.Gateway {
	st := benchState(b, "http://backend.test")
	gw := gateway.New(gateway.Config{
		State:   func(context.Context) (store.GatewayState, error) { return st, nil },
		Limiter: ratelimit.NewMemory(nil), Events: discard{}, Transport: stubBackend{stubBody},
	})
	if err := gw.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	return gw
}
