package gateway

import (
	"strconv"
	"testing"

	"gatehouse/internal/apidef"
)

// The routing decision of one call — catalog, longest base path, operation —
// against a catalog of 1 and of 10 000 APIs (SPEC §12: the gateway with 10k
// APIs ≥ 0.9× the 1-API figure, so the lookup must not grow with the
// catalog). scripts/benchguard.sh keeps its allocations from creeping up.
func BenchmarkRouteMatch(b *testing.B) {
	for _, n := range []int{1, 10_000} {
		b.Run("apis="+strconv.Itoa(n), func(b *testing.B) {
			snap := routingSnapshot(n)
			path := "/acme/sb/api" + strconv.Itoa(n/2) + "/v1/items/42"
			b.ReportAllocs()
			for b.Loop() {
				_, rt, rest, ok := snap.lookup(path)
				if !ok || !cleanPath(rest) {
					b.Fatalf("no route for %s", path)
				}
				nd := rt.ops.match(rest)
				if nd == nil || nd.methods["GET"] == nil {
					b.Fatalf("no operation for %s", rest)
				}
			}
		})
	}
}

// routingSnapshot is one catalog with n APIs at /api{i}/v1, each with the
// operations of a small REST resource.
func routingSnapshot(n int) *snapshot {
	cat := &catalog{orgID: "o1", envID: "e1", orgName: "acme", envName: "sb", apis: make(map[string]*route, n), creds: map[string]*credential{}}
	for i := range n {
		bp := "/api" + strconv.Itoa(i) + "/v1"
		cat.apis[bp] = routeOf(apidef.API{Name: "api" + strconv.Itoa(i), Version: "1.0.0", BasePath: bp, Operations: []apidef.Operation{
			{Method: "GET", Path: "/items"}, {Method: "POST", Path: "/items"},
			{Method: "GET", Path: "/items/{id}"}, {Method: "PUT", Path: "/items/{id}"}, {Method: "DELETE", Path: "/items/{id}"},
			{Method: "GET", Path: "/items/{id}/history"},
		}})
		cat.maxDepth = 2
	}
	return &snapshot{catalogs: map[string]*catalog{"acme/sb": cat}}
}
