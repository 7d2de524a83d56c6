package e2e_test

import (
	"net/http"
	"testing"
)

// Only declared operations route: a template parameter cannot smuggle "..",
// an encoded slash or backslash, or an empty segment past the gateway to a
// backend that would normalise or decode it (SPEC §7: only declared paths and
// methods route).
func TestGatewayRefusesPathTricks(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	c := p.newConsumer(t, "sb", weatherProduct, "default")
	base := "/" + p.org + "/sb/weather"
	before := p.weather.count()
	for _, path := range []string{
		"/forecast/..", "/forecast/.", "/forecast/%2e%2e", "/forecast/..%2Fadmin", "/forecast/a%2Fb",
		"/forecast/a%5Cb", "/forecast/%00", "//current", "/forecast//oslo",
	} {
		wantGWError(t, p.call(t, c, base+path), http.StatusNotFound, "No resources match requested URI")
	}
	if n := p.weather.count(); n != before {
		t.Fatalf("the backend was called %d times for refused paths", n-before)
	}
	if r := p.call(t, c, base+"/forecast/oslo"); r.status != http.StatusOK {
		t.Fatalf("a clean templated path: %d %s", r.status, r.body)
	}
}
