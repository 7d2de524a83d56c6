package e2e_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"gatehouse/client"
	"gatehouse/internal/httpapi"
	"gatehouse/internal/iam"
)

func isRead(method string) bool { return method == http.MethodGet || method == http.MethodHead }

// Every route of the table carries a rule that keeps the Reader promise
// (SPEC §4: deny by default; §5.2). A route added without a rule fails here.
func TestRouteTableHasARuleForEveryRoute(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	table := httpapi.Table()
	if len(table) == 0 {
		t.Fatal("the route table is empty")
	}
	for _, rt := range table {
		t.Run(rt.Pattern, func(t *testing.T) {
			method, path, ok := strings.Cut(rt.Pattern, " ")
			if !ok || method != rt.Method() || !strings.HasPrefix(path, "/v1/") {
				t.Errorf("pattern %q is not \"METHOD /v1/…\"", rt.Pattern)
			}
			if seen[rt.Pattern] {
				t.Errorf("pattern declared twice")
			}
			seen[rt.Pattern] = true
			switch rt.Rule.Scope {
			case httpapi.ScopeAuthenticated:
			case httpapi.ScopeSelf, httpapi.ScopeAccount:
				if rt.Rule.Role < iam.Reader || rt.Rule.Role > iam.Administrator {
					t.Errorf("rule %+v: a scoped rule needs a role from Reader to Administrator", rt.Rule)
				}
			default:
				t.Errorf("rule %+v has no scope", rt.Rule)
			}
			if !isRead(method) && rt.Rule.Role < iam.Writer {
				t.Errorf("%s route with rule %+v: anything but a read needs at least Writer", method, rt.Rule)
			}
		})
	}
}

// requiredRole is the effective role a call of rt needs according to its rule.
func requiredRole(rt httpapi.Route) iam.Role {
	need := rt.Rule.Role
	if !isRead(rt.Method()) {
		need = max(need, iam.Writer)
	}
	return need
}

var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// routeCall builds a request for rt that would succeed for a caller allowed to
// make it, acting on target; known is false for routes this test has no
// request for (they are still called).
func routeCall(rt httpapi.Route, token string, target *client.APIKey) (r req, known bool) {
	method, path, _ := strings.Cut(rt.Pattern, " ")
	r = req{method: method, path: pathParam.ReplaceAllString(path, target.ID), token: token}
	jsonBody := func(v any) {
		b, _ := json.Marshal(v)
		r.ctype, r.body = "application/json", string(b)
	}
	switch rt.Pattern {
	case "POST /v1/apikeys":
		jsonBody(map[string]string{"name": "made-by-authz-walk"})
	case "PUT /v1/apikeys/{id}":
		jsonBody(map[string]string{"description": "changed by the authz walk"})
		r.header = map[string]string{"If-Match": "*"}
	case "POST /v1/apikeys/leaked":
		jsonBody(map[string][]string{"apikeys": {target.APIKey}})
	case "POST /v1/apikeys/{id}/rotate":
		jsonBody(map[string]string{"grace": "1h"})
	case "GET /v1/apikeys/details":
		r.header = map[string]string{"IAM-ApiKey": target.APIKey}
	case "GET /v1/me", "GET /v1/apikeys", "GET /v1/apikeys/{id}", "DELETE /v1/apikeys/{id}",
		"POST /v1/apikeys/{id}/lock", "DELETE /v1/apikeys/{id}/lock",
		"POST /v1/apikeys/{id}/disable", "DELETE /v1/apikeys/{id}/disable",
		"POST /v1/signing-keys/rotate":
	default:
		return r, false
	}
	return r, true
}

// Every route, called by every rung of the ladder, answers as its rule says;
// a refused call changes nothing; no route answers without a token.
func TestRouteTableIsEnforced(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	table := httpapi.Table()

	// state is everything a route of the table could change.
	state := func(t *testing.T) string {
		t.Helper()
		keys, err := json.Marshal(listAll(t, admin, client.ListAPIKeysOptions{Scope: "account", IncludeHistory: true, PageSize: 100}))
		if err != nil {
			t.Fatal(err)
		}
		jwks, err := s.client().JWKS(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return string(keys) + "\n" + string(jwks)
	}

	callers := []struct {
		name  string
		role  iam.Role
		token func(t *testing.T) string
	}{
		{"reader-capped-key", iam.Reader, nil},
		{"reader-down-scoped-token", iam.Reader, func(t *testing.T) string {
			return mustToken(t, s, s.admin.APIKey, client.TokenOptions{Role: "Reader"})
		}},
		{"writer-capped-key", iam.Writer, nil},
		{"manager-capped-key", iam.Manager, nil},
		{"administrator-capped-key", iam.Administrator, nil},
	}
	for _, c := range callers {
		t.Run(c.name, func(t *testing.T) {
			var tok string
			if c.token != nil {
				tok = c.token(t)
			} else {
				k := mustCreateKey(t, admin, client.CreateAPIKey{Name: c.name, Role: c.role.String()})
				tok = mustToken(t, s, k.APIKey, client.TokenOptions{})
			}
			for _, rt := range table {
				// A fresh key capped at the caller's role, so that object-level
				// rules (no acting on a more powerful key) never get in the way.
				target := mustCreateKey(t, admin, client.CreateAPIKey{Name: "target", Role: c.role.String()})
				r, known := routeCall(rt, tok, target)
				denied := c.role < requiredRole(rt)
				if c.role == iam.Reader && denied != !isRead(rt.Method()) {
					t.Errorf("%s: a Reader is %s by the rule %+v; the Reader promise says reads only",
						rt.Pattern, map[bool]string{true: "refused", false: "allowed"}[denied], rt.Rule)
				}
				if denied {
					before := state(t)
					res := s.do(t, r)
					if res.status != http.StatusForbidden {
						t.Errorf("%s as %s: %d %s, want 403", rt.Pattern, c.name, res.status, res.body)
						continue
					}
					wantAPIError(t, res, http.StatusForbidden, "forbidden")
					if after := state(t); after != before {
						t.Errorf("%s as %s: refused, but the state changed", rt.Pattern, c.name)
					}
					continue
				}
				res := s.do(t, r)
				switch {
				case known && (res.status < 200 || res.status > 299):
					t.Errorf("%s as %s: %d %s, want 2xx", rt.Pattern, c.name, res.status, res.body)
				case res.status == http.StatusUnauthorized || res.status == http.StatusForbidden || res.status >= 500:
					t.Errorf("%s as %s (no request template for this route): %d %s", rt.Pattern, c.name, res.status, res.body)
				}
			}
		})
	}

	target := mustCreateKey(t, admin, client.CreateAPIKey{Name: "no-token-target"})
	for _, auth := range []string{"", "Bearer not-a-token"} {
		t.Run("fail/without-a-valid-token/"+map[string]string{"": "none", "Bearer not-a-token": "junk"}[auth], func(t *testing.T) {
			before := state(t)
			for _, rt := range table {
				r, _ := routeCall(rt, "", target)
				r.auth = auth
				res := s.do(t, r)
				if res.status != http.StatusUnauthorized {
					t.Errorf("%s: %d %s, want 401", rt.Pattern, res.status, res.body)
					continue
				}
				wantUnauthorized(t, res)
			}
			if after := state(t); after != before {
				t.Errorf("unauthenticated calls changed the state")
			}
		})
	}
}
