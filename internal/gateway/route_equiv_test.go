package gateway

import (
	"net/url"
	"strings"
	"testing"

	"gatehouse/internal/apidef"
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
