package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"gatehouse/internal/httpapi"
	"gatehouse/internal/iam"
)

// newTapped is a Server with only what the token service's early refusals
// and /healthz need, and a tap that keeps every exchange.
func newTapped(t *testing.T) (http.Handler, *[]httpapi.Exchange) {
	t.Helper()
	var got []httpapi.Exchange
	reg := prometheus.NewRegistry()
	s := httpapi.New(httpapi.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: httpapi.NewMetrics(reg), Gatherer: reg,
		Throttle: iam.NewThrottle(20, time.Minute, time.Now),
		Tap:      func(ex httpapi.Exchange) { got = append(got, ex) },
	})
	return s.Handler(), &got
}

func TestTapSeesRequestAndResponse(t *testing.T) {
	h, got := newTapped(t)
	form := "grant_type=bogus&apikey=secret"
	req := httptest.NewRequest("POST", "/identity/token?role=Reader", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	if len(*got) != 1 {
		t.Fatalf("%d exchanges, want 1", len(*got))
	}
	ex := (*got)[0]
	if ex.Method != "POST" || ex.Path != "/identity/token" || ex.Query.Get("role") != "Reader" {
		t.Errorf("request %s %s %v", ex.Method, ex.Path, ex.Query)
	}
	if ex.RequestHeader.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("request header %v", ex.RequestHeader)
	}
	if string(ex.RequestBody) != form {
		t.Errorf("request body %q, want what the handler read: %q", ex.RequestBody, form)
	}
	if ex.Status != http.StatusBadRequest || ex.Status != rec.Code {
		t.Errorf("status %d, sent %d", ex.Status, rec.Code)
	}
	if ex.ResponseBody == nil || string(ex.ResponseBody) != rec.Body.String() {
		t.Errorf("response body %q, sent %q", ex.ResponseBody, rec.Body.String())
	}
	for _, name := range []string{"X-Request-Id", "Content-Type", "Cache-Control"} {
		if v := ex.ResponseHeader.Get(name); v == "" || v != rec.Header().Get(name) {
			t.Errorf("response header %s = %q, sent %q", name, v, rec.Header().Get(name))
		}
	}
}

func TestTapKeepsCopies(t *testing.T) {
	h, got := newTapped(t)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	ex := (*got)[0]
	rec.Header().Set("X-Request-Id", "changed later")
	if ex.ResponseHeader.Get("X-Request-Id") == "changed later" {
		t.Error("the exchange shares the response's header map")
	}
	if ex.Status != http.StatusOK || !strings.Contains(string(ex.ResponseBody), `"ok"`) || ex.RequestBody != nil {
		t.Errorf("exchange %d %q %q", ex.Status, ex.ResponseBody, ex.RequestBody)
	}
}
