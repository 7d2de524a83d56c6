package gateway

import (
	"bytes"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"gatehouse/internal/apidef"
	"gatehouse/internal/apim"
)

// The routing functions walk paths in place to allocate nothing per call;
// these tests hold them to the straightforward split-and-join versions they
// replaced, over every path built from a set of awkward pieces.

func refLookup(s *snapshot, path string) (*catalog, *route, string, bool) {
	rest := strings.TrimPrefix(path, "/")
	org, rest, ok1 := strings.Cut(rest, "/")
	env, rest, _ := strings.Cut(rest, "/")
	if !ok1 {
		return nil, nil, "", false
	}
	c := s.catalogs[org+"/"+env]
	if c == nil {
		return nil, nil, "", false
	}
	rest = "/" + rest
	segs := segments(rest)
	for n := min(len(segs), c.maxDepth); n >= 0; n-- {
		base := ""
		if n > 0 {
			base = "/" + strings.Join(segs[:n], "/")
		}
		if r := c.apis[base]; r != nil && strings.HasPrefix(rest, base) {
			return c, r, rest[len(base):], true
		}
	}
	return c, nil, "", false
}

func refMatch(n *node, segs []string) *node {
	if len(segs) == 0 {
		if n.methods != nil {
			return n
		}
		return nil
	}
	if c := n.children[segs[0]]; c != nil {
		if m := refMatch(c, segs[1:]); m != nil {
			return m
		}
	}
	if n.param != nil && segs[0] != "" {
		return refMatch(n.param, segs[1:])
	}
	return nil
}

func refCleanPath(p string) bool {
	if p == "" || p == "/" {
		return true
	}
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	for _, seg := range strings.Split(p, "/") {
		if seg == "" {
			return false
		}
		d, err := url.PathUnescape(seg)
		if err != nil || d == "." || d == ".." || strings.ContainsAny(d, "/\\\x00") {
			return false
		}
	}
	return true
}

// paths returns every concatenation of up to depth pieces.
func paths(pieces []string, depth int) []string {
	out := []string{""}
	level := []string{""}
	for range depth {
		var next []string
		for _, p := range level {
			for _, q := range pieces {
				next = append(next, p+q)
			}
		}
		out = append(out, next...)
		level = next
	}
	return out
}

func TestLookupMatchesTheSplittingVersion(t *testing.T) {
	for _, depth := range []int{0, 1, 2, 3} {
		cat := &catalog{orgName: "acme", envName: "sb", apis: map[string]*route{}, maxDepth: depth}
		for _, bp := range []string{"", "/a", "/a/b", "/a/b/c", "/b", "/b/", "/a%2Fb"} {
			if len(segments(bp)) <= depth {
				cat.apis[bp] = routeOf(apidef.API{Name: "api" + bp, BasePath: bp})
			}
		}
		noRoot := &catalog{orgName: "acme", envName: "pr", apis: map[string]*route{"/a": routeOf(apidef.API{BasePath: "/a"})}, maxDepth: depth}
		s := &snapshot{catalogs: map[string]*catalog{"acme/sb": cat, "acme/pr": noRoot}}
		for _, tail := range paths([]string{"/", "a", "b", "c", "/a", "%2F", "."}, 5) {
			for _, path := range []string{"/acme/sb" + tail, "/acme/pr" + tail, "acme/sb" + tail, "/acme" + tail, tail} {
				c1, r1, rest1, ok1 := s.lookup(path)
				c2, r2, rest2, ok2 := refLookup(s, path)
				if c1 != c2 || r1 != r2 || rest1 != rest2 || ok1 != ok2 {
					t.Fatalf("maxDepth %d, lookup(%q) = (%v, %v, %q, %v), the splitting version (%v, %v, %q, %v)",
						depth, path, c1 != nil, r1 != nil, rest1, ok1, c2 != nil, r2 != nil, rest2, ok2)
				}
			}
		}
	}
}

func TestMatchAndCleanPathMatchTheSplittingVersions(t *testing.T) {
	r := routeOf(apidef.API{Operations: []apidef.Operation{
		{Method: "GET", Path: "/"}, {Method: "GET", Path: "/a"}, {Method: "GET", Path: "/a/{x}"},
		{Method: "GET", Path: "/a/b"}, {Method: "GET", Path: "/{x}/b/{y}"}, {Method: "GET", Path: "/b/a/b"},
	}})
	for _, p := range paths([]string{"/", "a", "b", "/a", "/b", "%2e", ".", "%zz", "%5C"}, 5) {
		if got, want := r.ops.match(p), refMatch(r.ops, segments(p)); got != want {
			t.Fatalf("match(%q) differs from the splitting version", p)
		}
		if got, want := cleanPath(p), refCleanPath(p); got != want {
			t.Fatalf("cleanPath(%q) = %v, the splitting version %v", p, got, want)
		}
	}
}

// joinTarget must send the backend exactly what parsing the expanded
// template did.
func TestJoinTargetMatchesParsing(t *testing.T) {
	for _, base := range []string{"http://b", "http://b:8080", "http://b:8080/v2", "https://u@b/a%20b", "http://b/x'y", "http://b/a%2Fb/"} {
		tmpl := base + "$(request.path)$(request.search)"
		bu, esc := parseTargetBase(tmpl)
		if bu == nil {
			t.Fatalf("parseTargetBase(%q) = nil", tmpl)
		}
		for _, rest := range []string{"", "/", "/a", "/a/b/", "/caf%C3%A9", "/a%20b", "/it's", "/a+b", "/%41", "/a:b", "/x%2Fy"} {
			for _, q := range []string{"", "a=1", "a=1&b=%20+", "a=1#frag", "#x", "a=1?b"} {
				search := ""
				if q != "" {
					search = "?" + q
				}
				want, err := url.Parse(strings.NewReplacer("$(request.path)", rest, "$(request.search)", search).Replace(tmpl))
				if err != nil {
					t.Fatal(err)
				}
				got := &url.URL{}
				joinTarget(got, bu, esc, rest, q)
				if got.Scheme != want.Scheme || got.Host != want.Host || got.User.String() != want.User.String() ||
					got.Path != want.Path || got.EscapedPath() != want.EscapedPath() || got.RawQuery != want.RawQuery ||
					got.ForceQuery != want.ForceQuery || got.RequestURI() != want.RequestURI() {
					t.Errorf("%s + %q + %q: joined %#v, parsed %#v", base, rest, q, got, want)
				}
			}
		}
	}
	for _, tmpl := range []string{"$(target-url)$(request.path)$(request.search)", "http://b/$(request.path)x$(request.search)",
		"http://b?a=1$(request.path)$(request.search)", "http://b#f$(request.path)$(request.search)", "ftp://b$(request.path)$(request.search)",
		"/relative$(request.path)$(request.search)", "http://b/$(region)$(request.path)$(request.search)"} {
		if u, _ := parseTargetBase(tmpl); u != nil {
			t.Errorf("parseTargetBase(%q) took the fast path", tmpl)
		}
	}
}

func TestMayHoldParamIsNeverWrong(t *testing.T) {
	for _, raw := range []string{"client_secret=x", "a=1&client%5Fsecret=x", "client%5fsecret=x", "a=1;client_secret=x", "CLIENT_SECRET=x",
		"a=1&b=2", "client_secre=x", "a=client_secret", "%63lient_secret=1", "client+secret=1"} {
		q, _ := url.ParseQuery(raw)
		if q.Has("client_secret") && !mayHoldParam(raw, "client_secret") {
			t.Errorf("mayHoldParam(%q) = false, but the query holds client_secret", raw)
		}
	}
	if mayHoldParam("a=1&b=2", "client_secret") {
		t.Error("a plain query without the name may hold it")
	}
}

func TestSetXForwardedMatchesHTTPUtil(t *testing.T) {
	for _, in := range []struct {
		remote, host string
		tls          bool
		prior        []string
	}{
		{"10.0.0.1:5000", "gw.example", false, nil},
		{"[::1]:5000", "gw.example:8443", true, nil},
		{"not-an-address", "gw.example", false, []string{"1.2.3.4"}},
		{"10.0.0.1:5000", "", false, []string{"1.2.3.4", "5.6.7.8"}},
	} {
		mk := func() *httputil.ProxyRequest {
			r := httptest.NewRequest("GET", "http://gw.example/x", nil)
			r.RemoteAddr, r.Host = in.remote, in.host
			if in.tls {
				r.TLS = &tls.ConnectionState{}
			}
			out := r.Clone(r.Context())
			out.Header = http.Header{"Accept": {"*/*"}}
			if in.prior != nil {
				out.Header["X-Forwarded-For"] = in.prior
			}
			return &httputil.ProxyRequest{In: r, Out: out}
		}
		want, got := mk(), mk()
		want.SetXForwarded()
		setXForwarded(got, new([3]string))
		if !reflect.DeepEqual(got.Out.Header, want.Out.Header) {
			t.Errorf("%+v: headers %v, httputil's %v", in, got.Out.Header, want.Out.Header)
		}
	}
}

func TestSecretDigestIsAPIMs(t *testing.T) {
	for _, s := range []string{"", "s", strings.Repeat("0123456789abcdef", 4), "héllo"} {
		if d := secretDigest(s); !bytes.Equal(d[:], apim.SecretDigest(s)) {
			t.Errorf("secretDigest(%q) differs from apim.SecretDigest, which stored the credentials", s)
		}
	}
}
