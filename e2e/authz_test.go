package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gatehouse/client"
	"gatehouse/internal/httpapi"
	"gatehouse/internal/iam"
)

// The authorization matrix (SPEC §4, §5.2): every /v1 route of httpapi.Table(),
// called by every kind of principal, is answered as a small oracle written
// here decides from the route's Rule and the principal's effective role at
// the rule's scope. A refused call changes nothing.

func isRead(method string) bool { return method == http.MethodGet || method == http.MethodHead }

// ladder is the oracle's own copy of the role ladder, lowest first; rank 0
// is no role at all.
var ladder = []string{"", "Reader", "Writer", "Manager", "Administrator"}

const (
	noRole = iota
	reader
	writer
	manager
	administrator
)

// rank places a role of the route table on the oracle's ladder; ok is false
// for a role the oracle does not know.
func rank(r iam.Role) (n int, ok bool) {
	if r == iam.NoRole {
		return noRole, true
	}
	i := slices.Index(ladder, r.String())
	return i, i > 0
}

// principal is a caller of the matrix: the roles its identity holds from
// policies (on the whole account and on org A), the role cap of the key
// behind its token, and the token's down-scoped role (0: none).
type principal struct {
	name      string
	account   int
	orgA      int
	keyCap    int
	tokenRole int
}

// limit applies the key cap and the token role to an identity role.
func (p principal) limit(r int) int {
	if r == noRole {
		return noRole
	}
	if p.keyCap != noRole {
		r = min(r, p.keyCap)
	}
	if p.tokenRole != noRole {
		r = min(r, p.tokenRole)
	}
	return r
}

// role is the effective role at a scope: "account", "self" (the highest
// anywhere), or an org: "A" (where the org policy is) or "B" (no org policy).
func (p principal) role(scope string) int {
	switch scope {
	case "account", "B":
		return p.limit(p.account)
	case "A", "self":
		return p.limit(max(p.account, p.orgA))
	}
	panic("unknown scope " + scope)
}

type verdict int

const (
	allow verdict = iota // reaches the handler: neither 401 nor 403 (nor the org's 404)
	deny                 // 403 forbidden, nothing changed
	hide                 // 404: the caller has no role in the org, which it is told does not exist
)

func (v verdict) String() string { return [...]string{"allowed", "refused (403)", "hidden (404)"}[v] }

// oracle decides how a call of rt by p, with {org} naming org A or B, must be
// answered. It fails for a rule it does not understand.
func oracle(rt httpapi.Route, p principal, org string) (verdict, error) {
	need, ok := rank(rt.Rule.Role)
	if !ok {
		return 0, fmt.Errorf("rule %+v: role unknown to the oracle", rt.Rule)
	}
	read := isRead(rt.Method())
	var have int
	switch rt.Rule.Scope {
	case httpapi.ScopeAuthenticated:
		if read {
			return allow, nil
		}
		have = p.role("self")
	case httpapi.ScopeSelf:
		have = p.role("self")
	case httpapi.ScopeAccount:
		have = p.role("account")
	case httpapi.ScopeOrg:
		if !strings.Contains(rt.Pattern, "{org}") {
			return 0, fmt.Errorf("rule %+v: an org-scoped route without {org}", rt.Rule)
		}
		if have = p.role(org); have == noRole {
			return hide, nil
		}
	default:
		return 0, fmt.Errorf("rule %+v: scope unknown to the oracle", rt.Rule)
	}
	if rt.Rule.Scope != httpapi.ScopeAuthenticated && need == noRole {
		return 0, fmt.Errorf("rule %+v: a scoped rule without a role", rt.Rule)
	}
	if !read {
		need = max(need, writer) // the Reader promise, whatever the rule says
	}
	if have < need {
		return deny, nil
	}
	return allow, nil
}

// Every route of the table carries a rule the oracle understands, keeps the
// Reader promise, is audited when it changes something, and has a request
// template in the matrix. A route added without any of these fails here.
func TestRouteTableHasARuleForEveryRoute(t *testing.T) {
	t.Parallel()
	table := httpapi.Table()
	if len(table) == 0 {
		t.Fatal("the route table is empty")
	}
	seen := map[string]bool{}
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
			if _, err := oracle(rt, principal{account: administrator}, "A"); err != nil {
				t.Error(err)
			}
			if rt.Rule.Scope != httpapi.ScopeAuthenticated && !isRead(method) {
				if r, _ := rank(rt.Rule.Role); r < writer {
					t.Errorf("%s route with rule %+v: anything but a read needs at least Writer", method, rt.Rule)
				}
			}
			if isRead(method) != (rt.Action == "") {
				t.Errorf("audit action %q: every change (and only a change) is audited", rt.Action)
			}
			if _, ok := matrixCalls[rt.Pattern]; !ok {
				t.Errorf("no request template in matrixCalls: the authorization matrix cannot call this route")
			}
		})
	}
}

// The oracle itself, on the rules it must get right.
func TestAuthzOracle(t *testing.T) {
	t.Parallel()
	route := func(pattern string, role iam.Role, scope httpapi.Scope) httpapi.Route {
		return httpapi.Route{Pattern: pattern, Rule: httpapi.Rule{Role: role, Scope: scope}}
	}
	orgManager := principal{orgA: manager}
	cases := []struct {
		name string
		rt   httpapi.Route
		p    principal
		org  string
		want verdict
	}{
		{"ok/authenticated-read-needs-no-role", route("GET /v1/x", iam.NoRole, httpapi.ScopeAuthenticated), principal{}, "A", allow},
		{"fail/authenticated-write-needs-writer", route("POST /v1/x", iam.NoRole, httpapi.ScopeAuthenticated), principal{account: reader}, "A", deny},
		{"fail/reader-rule-on-a-write-still-needs-writer", route("POST /v1/x", iam.Reader, httpapi.ScopeSelf), principal{account: reader}, "A", deny},
		{"ok/org-policy-counts-for-self", route("POST /v1/x", iam.Manager, httpapi.ScopeSelf), orgManager, "A", allow},
		{"fail/org-policy-does-not-count-for-account", route("GET /v1/x", iam.Reader, httpapi.ScopeAccount), orgManager, "A", deny},
		{"ok/org-scope-is-the-higher-of-account-and-org", route("PUT /v1/orgs/{org}", iam.Manager, httpapi.ScopeOrg), principal{account: reader, orgA: manager}, "A", allow},
		{"fail/no-role-in-the-org-hides-it", route("GET /v1/orgs/{org}", iam.Reader, httpapi.ScopeOrg), orgManager, "B", hide},
		{"fail/key-cap-below-owner", route("POST /v1/x", iam.Administrator, httpapi.ScopeAccount), principal{account: administrator, keyCap: manager}, "A", deny},
		{"fail/token-role-below-key", route("DELETE /v1/x", iam.Writer, httpapi.ScopeSelf), principal{account: administrator, tokenRole: reader}, "A", deny},
		{"fail/capped-reader-in-org-is-reader", route("PUT /v1/orgs/{org}", iam.Manager, httpapi.ScopeOrg), principal{orgA: manager, keyCap: reader}, "A", deny},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := oracle(tc.rt, tc.p, tc.org)
			if err != nil || got != tc.want {
				t.Errorf("oracle = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	for _, bad := range []httpapi.Rule{{}, {Role: iam.Reader}, {Role: iam.NoRole, Scope: httpapi.ScopeSelf}, {Role: iam.Administrator + 1, Scope: httpapi.ScopeAccount}, {Role: iam.Reader, Scope: httpapi.ScopeOrg + 1}} {
		if _, err := oracle(httpapi.Route{Pattern: "GET /v1/x", Rule: bad}, principal{account: administrator}, "A"); err == nil {
			t.Errorf("the oracle accepts rule %+v", bad)
		}
	}
	if _, err := oracle(route("GET /v1/x", iam.Reader, httpapi.ScopeOrg), principal{account: administrator}, "A"); err == nil {
		t.Errorf("the oracle accepts an org-scoped route without {org}")
	}
}

// matrixEnv is one principal's server, with the fixtures its calls act on.
type matrixEnv struct {
	t     *testing.T
	s     *server
	admin *client.Client // the bootstrap Administrator: makes fixtures, reads the state
	me    *identity      // the principal's identity
	orgs  map[string]*client.Org
	sid   *client.ServiceID // a service ID that stays
	apim  map[string]*apimFixture
	p     principal
}

// orgRef names org A by name and org B by id: {org} accepts either.
func (e *matrixEnv) orgRef(org string) string {
	if org == "A" {
		return e.orgs[org].Name
	}
	return e.orgs[org].ID
}

// ownKey is a fresh key of the principal's identity, capped at Reader so that
// no object-level rule (no rotating a key more powerful than oneself) interferes.
func (e *matrixEnv) ownKey() *client.APIKey {
	return mustCreateKey(e.t, e.admin, client.CreateAPIKey{Name: uniq("own"), IAMID: e.me.IAMID, Role: "Reader"})
}

func (e *matrixEnv) freshUser() *client.User {
	return mustUser(e.t, e.admin, client.CreateUser{Username: uniq("fixture")})
}

func (e *matrixEnv) freshServiceID() *client.ServiceID {
	v, err := e.admin.CreateServiceID(e.t.Context(), client.CreateServiceID{Name: uniq("fixture")})
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// call is a request of a route that succeeds for a caller the route allows.
type call struct {
	params map[string]string
	body   any
	header map[string]string
	want   int // the status of success
}

// matrixCalls has a request template for every route of the table; where a
// successful call destroys its object, the template makes a fresh one.
var matrixCalls = map[string]func(e *matrixEnv, org string) call{
	"GET /v1/me": func(e *matrixEnv, _ string) call { return call{want: 200} },

	"POST /v1/apikeys": func(e *matrixEnv, _ string) call {
		return call{body: map[string]string{"name": "made-by-the-matrix"}, want: 201}
	},
	"GET /v1/apikeys": func(e *matrixEnv, _ string) call { return call{want: 200} },
	"GET /v1/apikeys/details": func(e *matrixEnv, _ string) call {
		return call{header: map[string]string{"IAM-ApiKey": e.ownKey().APIKey}, want: 200}
	},
	"POST /v1/apikeys/leaked": func(e *matrixEnv, _ string) call {
		return call{body: map[string][]string{"apikeys": {e.ownKey().APIKey}}, want: 200}
	},
	"GET /v1/apikeys/{id}": func(e *matrixEnv, _ string) call {
		return call{params: map[string]string{"id": e.ownKey().ID}, want: 200}
	},
	"PUT /v1/apikeys/{id}": func(e *matrixEnv, _ string) call {
		return call{params: map[string]string{"id": e.ownKey().ID}, body: map[string]string{"description": "changed by the matrix"},
			header: map[string]string{"If-Match": "*"}, want: 200}
	},
	"DELETE /v1/apikeys/{id}":         ownKeyCall(204),
	"POST /v1/apikeys/{id}/lock":      ownKeyCall(204),
	"DELETE /v1/apikeys/{id}/lock":    ownKeyCall(204),
	"POST /v1/apikeys/{id}/disable":   ownKeyCall(204),
	"DELETE /v1/apikeys/{id}/disable": ownKeyCall(204),
	"POST /v1/apikeys/{id}/rotate": func(e *matrixEnv, _ string) call {
		return call{params: map[string]string{"id": e.ownKey().ID}, body: map[string]string{"grace": "1h"}, want: 201}
	},

	"POST /v1/users": func(e *matrixEnv, _ string) call {
		return call{body: map[string]string{"username": uniq("made")}, want: 201}
	},
	"GET /v1/users": func(e *matrixEnv, _ string) call { return call{want: 200} },
	"GET /v1/users/{id}": func(e *matrixEnv, _ string) call {
		return call{params: map[string]string{"id": e.me.IAMID}, want: 200} // oneself: always visible
	},
	"PATCH /v1/users/{id}": func(e *matrixEnv, _ string) call {
		return call{params: map[string]string{"id": e.me.ID}, body: map[string]string{"name": uniq("renamed")}, want: 200}
	},
	"DELETE /v1/users/{id}": func(e *matrixEnv, _ string) call {
		return call{params: map[string]string{"id": e.freshUser().ID}, want: 204}
	},

	"POST /v1/serviceids": func(e *matrixEnv, _ string) call {
		return call{body: map[string]string{"name": "made-by-the-matrix"}, want: 201}
	},
	"GET /v1/serviceids": func(e *matrixEnv, _ string) call { return call{want: 200} },
	"GET /v1/serviceids/{id}": func(e *matrixEnv, _ string) call {
		c := call{params: map[string]string{"id": e.sid.ID}, want: 200}
		if e.p.role("account") == noRole {
			c.want = 404 // service IDs are visible to account Readers (and themselves) only
		}
		return c
	},
	"PUT /v1/serviceids/{id}": func(e *matrixEnv, _ string) call {
		return call{params: map[string]string{"id": e.freshServiceID().ID}, body: map[string]string{"description": "changed"},
			header: map[string]string{"If-Match": "*"}, want: 200}
	},
	"DELETE /v1/serviceids/{id}":      freshServiceIDCall(204),
	"POST /v1/serviceids/{id}/lock":   freshServiceIDCall(204),
	"DELETE /v1/serviceids/{id}/lock": freshServiceIDCall(204),

	"POST /v1/policies": func(e *matrixEnv, _ string) call {
		body := map[string]any{"subject": e.freshUser().IAMID, "role": "Reader", "resource": map[string]string{"org": e.orgRef("A")}}
		return call{body: body, want: 201}
	},
	"GET /v1/policies": func(e *matrixEnv, _ string) call { return call{want: 200} },
	"GET /v1/policies/{id}": func(e *matrixEnv, _ string) call {
		return call{params: map[string]string{"id": e.me.Policies[0].ID}, want: 200} // one's own
	},
	"DELETE /v1/policies/{id}": func(e *matrixEnv, _ string) call {
		pol := mustPolicy(e.t, e.admin, e.freshUser().IAMID, grant{"Reader", e.orgs["A"].ID})
		return call{params: map[string]string{"id": pol.ID}, want: 204}
	},

	"GET /v1/audit":                   func(e *matrixEnv, _ string) call { return call{want: 200} },
	"GET /v1/audit/verify":            func(e *matrixEnv, _ string) call { return call{want: 200} },
	"POST /v1/signing-keys/rotate":    func(e *matrixEnv, _ string) call { return call{want: 201} },
	"GET /v1/orgs":                    func(e *matrixEnv, _ string) call { return call{want: 200} },
	"GET /v1/orgs/{org}":              orgCall(200),
	"GET /v1/orgs/{org}/environments": orgCall(200),
	"POST /v1/orgs": func(e *matrixEnv, _ string) call {
		return call{body: map[string]string{"name": uniq("made"), "title": "Made"}, want: 201}
	},
	"PUT /v1/orgs/{org}": func(e *matrixEnv, org string) call {
		return call{params: map[string]string{"org": e.orgRef(org)}, body: map[string]string{"title": uniq("Title")},
			header: map[string]string{"If-Match": "*"}, want: 200}
	},
	"DELETE /v1/orgs/{org}": func(e *matrixEnv, _ string) call {
		return call{params: map[string]string{"org": mustOrg(e.t, e.admin, uniq("doomed")).Name}, want: 204}
	},
	"POST /v1/orgs/{org}/environments": func(e *matrixEnv, org string) call {
		return call{params: map[string]string{"org": e.orgRef(org)}, body: map[string]string{"name": uniq("cat"), "title": "Cat"}, want: 201}
	},
	"GET /v1/orgs/{org}/environments/{env}": func(e *matrixEnv, org string) call {
		env := "sb"
		if org == "B" {
			sb, err := e.admin.GetEnvironment(e.t.Context(), e.orgRef(org), "sb")
			if err != nil {
				e.t.Fatal(err)
			}
			env = sb.ID
		}
		return call{params: map[string]string{"org": e.orgRef(org), "env": env}, want: 200}
	},
	"DELETE /v1/orgs/{org}/environments/{env}": func(e *matrixEnv, org string) call {
		env := mustEnv(e.t, e.admin, e.orgRef(org), uniq("doomed"))
		return call{params: map[string]string{"org": e.orgRef(org), "env": env.Name}, want: 204}
	},

	// API Manager: drafts of org A are named by name:version, those of org B
	// by id; likewise catalogs, consumer orgs and apps (see apimFixture).
	"POST /v1/orgs/{org}/apis": func(e *matrixEnv, org string) call {
		return call{params: e.orgParam(org), body: matrixAPIDoc(uniq("made")), want: 201}
	},
	"GET /v1/orgs/{org}/apis": func(e *matrixEnv, org string) call { return call{params: e.orgParam(org), want: 200} },
	"GET /v1/orgs/{org}/apis/{api}": func(e *matrixEnv, org string) call {
		return call{params: e.orgParam(org, "api", e.apim[org].api), want: 200}
	},
	"PUT /v1/orgs/{org}/apis/{api}": func(e *matrixEnv, org string) call {
		name, ref := e.freshAPI(org)
		return call{params: e.orgParam(org, "api", ref), body: matrixAPIDoc(name), header: map[string]string{"If-Match": "*"}, want: 200}
	},
	"DELETE /v1/orgs/{org}/apis/{api}": func(e *matrixEnv, org string) call {
		_, ref := e.freshAPI(org)
		return call{params: e.orgParam(org, "api", ref), want: 204}
	},
	"POST /v1/orgs/{org}/products": func(e *matrixEnv, org string) call {
		return call{params: e.orgParam(org), body: matrixProductDoc(uniq("made")), want: 201}
	},
	"GET /v1/orgs/{org}/products": func(e *matrixEnv, org string) call { return call{params: e.orgParam(org), want: 200} },
	"GET /v1/orgs/{org}/products/{product}": func(e *matrixEnv, org string) call {
		return call{params: e.orgParam(org, "product", e.apim[org].product), want: 200}
	},
	"PUT /v1/orgs/{org}/products/{product}": func(e *matrixEnv, org string) call {
		name, ref := e.freshProduct(org)
		return call{params: e.orgParam(org, "product", ref), body: matrixProductDoc(name), header: map[string]string{"If-Match": "*"}, want: 200}
	},
	"DELETE /v1/orgs/{org}/products/{product}": func(e *matrixEnv, org string) call {
		_, ref := e.freshProduct(org)
		return call{params: e.orgParam(org, "product", ref), want: 204}
	},

	"POST /v1/orgs/{org}/environments/{env}/products": func(e *matrixEnv, org string) call {
		name, _ := e.freshProduct(org)
		return call{params: e.envParam(org), body: map[string]string{"product": name + ":1.0.0"}, want: 201}
	},
	"GET /v1/orgs/{org}/environments/{env}/products": func(e *matrixEnv, org string) call { return call{params: e.envParam(org), want: 200} },
	"GET /v1/orgs/{org}/environments/{env}/products/{product}": func(e *matrixEnv, org string) call {
		return call{params: e.envParam(org, "product", e.apim[org].pub), want: 200}
	},
	"PATCH /v1/orgs/{org}/environments/{env}/products/{product}": func(e *matrixEnv, org string) call {
		return call{params: e.envParam(org, "product", e.freshPublication(org)), body: map[string]string{"state": "deprecated"}, want: 200}
	},

	"POST /v1/orgs/{org}/environments/{env}/consumerOrgs": func(e *matrixEnv, org string) call {
		return call{params: e.envParam(org), body: map[string]string{"name": uniq("made"), "title": "Made"}, want: 201}
	},
	"GET /v1/orgs/{org}/environments/{env}/consumerOrgs": func(e *matrixEnv, org string) call { return call{params: e.envParam(org), want: 200} },
	"GET /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}": func(e *matrixEnv, org string) call {
		return call{params: e.envParam(org, "corg", e.apim[org].corg), want: 200}
	},
	"DELETE /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}": func(e *matrixEnv, org string) call {
		return call{params: e.envParam(org, "corg", e.freshConsumerOrg(org)), want: 204}
	},
	"POST /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps": func(e *matrixEnv, org string) call {
		return call{params: e.envParam(org, "corg", e.apim[org].corg), body: map[string]string{"name": uniq("made"), "description": "Made"}, want: 201}
	},
	"GET /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps": func(e *matrixEnv, org string) call {
		return call{params: e.envParam(org, "corg", e.apim[org].corg), want: 200}
	},
	"GET /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}": func(e *matrixEnv, org string) call {
		return call{params: e.appParam(org, e.apim[org].app), want: 200}
	},
	"DELETE /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}": func(e *matrixEnv, org string) call {
		return call{params: e.appParam(org, e.freshApp(org)), want: 204}
	},
	"GET /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/credentials": func(e *matrixEnv, org string) call {
		return call{params: e.appParam(org, e.apim[org].app), want: 200}
	},
	"POST /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/credentials": func(e *matrixEnv, org string) call {
		return call{params: e.appParam(org, e.apim[org].app), want: 201}
	},
	"DELETE /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/credentials/{clientID}": func(e *matrixEnv, org string) call {
		return call{params: e.appParam(org, e.apim[org].app, "clientID", e.freshCredential(org)), want: 204}
	},
	"POST /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/credentials/{clientID}/reset-secret": func(e *matrixEnv, org string) call {
		return call{params: e.appParam(org, e.apim[org].app, "clientID", e.freshCredential(org)), want: 200}
	},
	"GET /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/subscriptions": func(e *matrixEnv, org string) call {
		return call{params: e.appParam(org, e.apim[org].app), want: 200}
	},
	"POST /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/subscriptions": func(e *matrixEnv, org string) call {
		return call{params: e.appParam(org, e.freshApp(org)), body: map[string]string{"product": "mx-product:1.0.0", "plan": "default"}, want: 201}
	},
	"DELETE /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/subscriptions/{id}": func(e *matrixEnv, org string) call {
		app, sub := e.freshSubscription(org, "default")
		return call{params: e.appParam(org, app, "id", sub), want: 204}
	},
	"POST /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/subscriptions/{id}/approve": func(e *matrixEnv, org string) call {
		app, sub := e.freshSubscription(org, "gated")
		return call{params: e.appParam(org, app, "id", sub), want: 200}
	},
	"GET /v1/orgs/{org}/environments/{env}/consumerApps":  func(e *matrixEnv, org string) call { return call{params: e.envParam(org), want: 200} },
	"GET /v1/orgs/{org}/environments/{env}/subscriptions": func(e *matrixEnv, org string) call { return call{params: e.envParam(org), want: 200} },
	"GET /v1/orgs/{org}/environments/{env}/events":        func(e *matrixEnv, org string) call { return call{params: e.envParam(org), want: 200} },
	"GET /v1/orgs/{org}/environments/{env}/analytics":     func(e *matrixEnv, org string) call { return call{params: e.envParam(org), want: 200} },
}

// apimFixture is what the API Manager templates act on in one org: a draft
// API (mx:1.0.0) and product (mx-product:1.0.0, plans default and gated,
// which needs approval) published to the Sandbox, a consumer org with an app
// subscribed to the default plan. The refs are what the templates put in
// paths: names for org A, ids for org B, since every segment takes either.
type apimFixture struct {
	orgName string // for the administrator's fixture calls
	env     string // the Sandbox
	api     string
	product string
	pub     string
	corg    string
	corgRef string // by name, for the administrator
	app     string
	appRef  client.AppRef // by names, for the administrator
}

// matrixAPIDoc is a small public API named name (as JSON).
func matrixAPIDoc(name string) map[string]any {
	return map[string]any{
		"openapi":             "3.0.3",
		"info":                map[string]any{"title": name, "version": "1.0.0", "x-ibm-name": name},
		"servers":             []any{map[string]any{"url": "/" + name}},
		"x-ibm-configuration": map[string]any{"properties": map[string]any{"target-url": map[string]any{"value": "http://127.0.0.1:9"}}},
		"paths":               map[string]any{"/ping": map[string]any{"get": map[string]any{"responses": map[string]any{"200": map[string]any{"description": "pong"}}}}},
	}
}

// matrixProductDoc is a product named name of the API mx:1.0.0 (as JSON).
func matrixProductDoc(name string) map[string]any {
	return map[string]any{
		"product": "1.0.0",
		"info":    map[string]any{"name": name, "title": name, "version": "1.0.0"},
		"apis":    map[string]any{"mx": map[string]any{"name": "mx:1.0.0"}},
		"plans": map[string]any{
			"default": map[string]any{"title": "Default", "rate-limit": map[string]any{"value": "100/1hour", "hard-limit": true}},
			"gated":   map[string]any{"title": "Gated", "approval": true},
		},
	}
}

func asJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newAPIMFixture sets the fixtures of org up (org is "A" or "B").
func (e *matrixEnv) newAPIMFixture(org string) *apimFixture {
	t, o := e.t, e.orgs[org]
	ctx := t.Context()
	api := mustImportAPI(t, e.admin, o.Name, asJSON(t, matrixAPIDoc("mx")), client.ContentTypeJSON)
	prod := mustCreateProduct(t, e.admin, o.Name, asJSON(t, matrixProductDoc("mx-product")), client.ContentTypeJSON)
	pub := mustPublish(t, e.admin, o.Name, "sb", prod.Ref())
	sb, err := e.admin.GetEnvironment(ctx, o.Name, "sb")
	if err != nil {
		t.Fatal(err)
	}
	corg, err := e.admin.CreateConsumerOrg(ctx, o.Name, "sb", "mx-corg", "Matrix")
	if err != nil {
		t.Fatal(err)
	}
	app, err := e.admin.CreateApp(ctx, o.Name, "sb", corg.Name, "mx-app", "")
	if err != nil {
		t.Fatal(err)
	}
	f := &apimFixture{orgName: o.Name, corgRef: corg.Name, appRef: client.AppRef{Org: o.Name, Env: "sb", ConsumerOrg: corg.Name, App: app.Name}}
	mustSubscribe(t, e.admin, f.appRef, prod.Ref(), "default")
	if org == "A" {
		f.env, f.api, f.product, f.pub, f.corg, f.app = "sb", api.Ref(), prod.Ref(), prod.Ref(), corg.Name, app.Name
	} else {
		f.env, f.api, f.product, f.pub, f.corg, f.app = sb.ID, api.ID, prod.ID, pub.ID, corg.ID, app.ID
	}
	return f
}

// orgParam, envParam and appParam fill the path parameters of a template up
// to the org, the catalog and the app, then the extra name, value pairs.
func (e *matrixEnv) orgParam(org string, kv ...string) map[string]string {
	m := map[string]string{"org": e.orgRef(org)}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func (e *matrixEnv) envParam(org string, kv ...string) map[string]string {
	return e.orgParam(org, append([]string{"env", e.apim[org].env}, kv...)...)
}

func (e *matrixEnv) appParam(org, app string, kv ...string) map[string]string {
	return e.envParam(org, append([]string{"corg", e.apim[org].corg, "app", app}, kv...)...)
}

// matrixRef is what a template puts in a path for an object of org: its name in
// org A, its id in org B.
func matrixRef(org, name, id string) string {
	if org == "A" {
		return name
	}
	return id
}

// freshAPI makes a draft API; it returns its name and its ref.
func (e *matrixEnv) freshAPI(org string) (string, string) {
	name := uniq("fresh")
	d := mustImportAPI(e.t, e.admin, e.apim[org].orgName, asJSON(e.t, matrixAPIDoc(name)), client.ContentTypeJSON)
	return name, matrixRef(org, d.Ref(), d.ID)
}

// freshProduct makes a draft product of mx:1.0.0; it returns its name and ref.
func (e *matrixEnv) freshProduct(org string) (string, string) {
	name := uniq("fresh")
	d := mustCreateProduct(e.t, e.admin, e.apim[org].orgName, asJSON(e.t, matrixProductDoc(name)), client.ContentTypeJSON)
	return name, matrixRef(org, d.Ref(), d.ID)
}

// freshPublication publishes a fresh product to the Sandbox; it returns the
// publication's ref.
func (e *matrixEnv) freshPublication(org string) string {
	name, _ := e.freshProduct(org)
	pub := mustPublish(e.t, e.admin, e.apim[org].orgName, "sb", name+":1.0.0")
	return matrixRef(org, name+":1.0.0", pub.ID)
}

func (e *matrixEnv) freshConsumerOrg(org string) string {
	c, err := e.admin.CreateConsumerOrg(e.t.Context(), e.apim[org].orgName, "sb", uniq("fresh"), "")
	if err != nil {
		e.t.Fatal(err)
	}
	return matrixRef(org, c.Name, c.ID)
}

// freshApp makes an app in the fixture's consumer org and returns its ref.
func (e *matrixEnv) freshApp(org string) string {
	f := e.apim[org]
	a, err := e.admin.CreateApp(e.t.Context(), f.orgName, "sb", f.corgRef, uniq("fresh"), "")
	if err != nil {
		e.t.Fatal(err)
	}
	return matrixRef(org, a.Name, a.ID)
}

// freshCredential adds a credential to the fixture's app; it returns the client id.
func (e *matrixEnv) freshCredential(org string) string {
	c, err := e.admin.AddCredential(e.t.Context(), e.apim[org].appRef)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.ClientID
}

// freshSubscription makes an app subscribed to plan of the fixture's
// product; it returns the app's ref and the subscription id.
func (e *matrixEnv) freshSubscription(org, plan string) (string, string) {
	f := e.apim[org]
	a, err := e.admin.CreateApp(e.t.Context(), f.orgName, "sb", f.corgRef, uniq("fresh"), "")
	if err != nil {
		e.t.Fatal(err)
	}
	appRef := f.appRef
	appRef.App = a.Name
	sub := mustSubscribe(e.t, e.admin, appRef, "mx-product:1.0.0", plan)
	return matrixRef(org, a.Name, a.ID), sub.ID
}

func ownKeyCall(want int) func(e *matrixEnv, _ string) call {
	return func(e *matrixEnv, _ string) call {
		return call{params: map[string]string{"id": e.ownKey().ID}, want: want}
	}
}

func freshServiceIDCall(want int) func(e *matrixEnv, _ string) call {
	return func(e *matrixEnv, _ string) call {
		return call{params: map[string]string{"id": e.freshServiceID().ID}, want: want}
	}
}

func orgCall(want int) func(e *matrixEnv, org string) call {
	return func(e *matrixEnv, org string) call {
		return call{params: map[string]string{"org": e.orgRef(org)}, want: want}
	}
}

var pathParam = regexp.MustCompile(`\{([^}]*)\}`)

// request turns a template's call of rt into a raw request.
func (c call) request(t *testing.T, rt httpapi.Route, token string) req {
	t.Helper()
	method, path, _ := strings.Cut(rt.Pattern, " ")
	used := 0
	path = pathParam.ReplaceAllStringFunc(path, func(m string) string {
		v, ok := c.params[m[1:len(m)-1]]
		if !ok || v == "" {
			t.Fatalf("%s: the template has no value for %s", rt.Pattern, m)
		}
		used++
		return url.PathEscape(v)
	})
	if used != len(c.params) {
		t.Fatalf("%s: the template fills %d parameters, the pattern has %d", rt.Pattern, len(c.params), used)
	}
	r := req{method: method, path: path, token: token, header: c.header}
	if c.body != nil {
		b, err := json.Marshal(c.body)
		if err != nil {
			t.Fatal(err)
		}
		r.ctype, r.body = "application/json", string(b)
	}
	return r
}

// state is everything a /v1 route could change, as the Administrator reads
// it: keys (with history), users, service IDs, policies, orgs and their
// catalogs, the API Manager objects of orgs A and B, and the published
// signing keys. The audit log and key activity
// are left out: refused attempts are recorded there on purpose.
func state(t *testing.T, s *server, admin *client.Client) string {
	t.Helper()
	var b strings.Builder
	add := func(what string, v any) {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s: %s\n", what, data)
	}
	add("keys", listAll(t, admin, client.ListAPIKeysOptions{Scope: "account", IncludeHistory: true, PageSize: 100}))
	add("users", allUsers(t, admin))
	add("serviceids", allServiceIDs(t, admin))
	add("policies", allPolicies(t, admin, client.ListPoliciesOptions{}))
	orgs := allOrgs(t, admin)
	add("orgs", orgs)
	for _, o := range orgs {
		envs, err := admin.ListEnvironments(t.Context(), o.ID)
		if err != nil {
			t.Fatal(err)
		}
		add("catalogs of "+o.Name, envs)
	}
	for _, o := range orgs {
		if !strings.HasPrefix(o.Name, "org-") {
			continue // the matrix's API Manager fixtures are in orgs A and B only
		}
		apimState(t, admin, o.Name, add)
	}
	jwks, err := s.client().JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	add("jwks", jwks)
	return b.String()
}

// apimState adds an org's API Manager state: drafts, and in the Sandbox
// (where every template acts) the publications, consumer orgs, apps,
// subscriptions, and the credentials of the fixture app (where the
// templates make credentials).
func apimState(t *testing.T, admin *client.Client, org string, add func(string, any)) {
	t.Helper()
	ctx := t.Context()
	apis, _, err := admin.ListAPIs(ctx, org, client.PageOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	add("apis of "+org, apis)
	products, _, err := admin.ListProducts(ctx, org, client.PageOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	add("products of "+org, products)
	pubs, err := admin.ListPublications(ctx, org, "sb")
	if err != nil {
		t.Fatal(err)
	}
	add("publications of "+org, pubs)
	corgs, _, err := admin.ListConsumerOrgs(ctx, org, "sb", client.PageOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	add("consumer orgs of "+org, corgs)
	apps, _, err := admin.ListConsumerApps(ctx, org, "sb", client.PageOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	add("apps of "+org, apps)
	subs, _, err := admin.ListCatalogSubscriptions(ctx, org, "sb", client.PageOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	add("subscriptions of "+org, subs)
	creds, err := admin.ListCredentials(ctx, client.AppRef{Org: org, Env: "sb", ConsumerOrg: "mx-corg", App: "mx-app"})
	if err != nil {
		t.Fatal(err)
	}
	add("credentials of the fixture app of "+org, creds)
}

// matrixPrincipals: each rung of the ladder held account-wide and on org A
// only, keys capped below their owner's role, and down-scoped tokens.
var matrixPrincipals = []principal{
	{name: "account-reader", account: reader},
	{name: "account-writer", account: writer},
	{name: "account-manager", account: manager},
	{name: "account-administrator", account: administrator},
	{name: "org-reader", orgA: reader},
	{name: "org-writer", orgA: writer},
	{name: "org-manager", orgA: manager},
	{name: "org-administrator", orgA: administrator},
	{name: "account-administrator/key-capped-writer", account: administrator, keyCap: writer},
	{name: "org-manager/key-capped-reader", orgA: manager, keyCap: reader},
	{name: "account-reader+org-manager/key-capped-writer", account: reader, orgA: manager, keyCap: writer},
	{name: "account-administrator/token-role-reader", account: administrator, tokenRole: reader},
	{name: "account-manager/token-role-writer", account: manager, tokenRole: writer},
	{name: "org-administrator/token-role-manager", orgA: administrator, tokenRole: manager},
}

// newMatrixEnv starts a server for p: orgs A and B, p's identity with its
// policies, a key with p's cap and a token with p's role.
func newMatrixEnv(t *testing.T, p principal) *matrixEnv {
	t.Helper()
	s := startServer(t)
	admin := s.asAdmin(t)
	e := &matrixEnv{t: t, s: s, admin: admin, p: p, orgs: map[string]*client.Org{
		"A": mustOrg(t, admin, uniq("org-a")),
		"B": mustOrg(t, admin, uniq("org-b")),
	}}
	var grants []grant
	if p.account != noRole {
		grants = append(grants, grant{ladder[p.account], ""})
	}
	if p.orgA != noRole {
		grants = append(grants, grant{ladder[p.orgA], e.orgs["A"].Name})
	}
	e.me = newUser(t, s, admin, uniq("principal"), grants...)
	if p.keyCap != noRole || p.tokenRole != noRole {
		k := e.me.Key
		if p.keyCap != noRole {
			k = mustCreateKey(t, admin, client.CreateAPIKey{Name: "capped", IAMID: e.me.IAMID, Role: ladder[p.keyCap]})
		}
		e.me.Token = mustToken(t, s, k.APIKey, client.TokenOptions{Role: ladder[p.tokenRole]})
		e.me.C = s.client().WithToken(e.me.Token)
	}
	e.sid = e.freshServiceID()
	e.apim = map[string]*apimFixture{"A": e.newAPIMFixture("A"), "B": e.newAPIMFixture("B")}

	// The server agrees with the oracle on who p is.
	me, err := e.me.C.Me(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var acct string
	for _, r := range me.Roles {
		if r.Scope == "account" {
			acct = r.Role
		}
	}
	if acct != ladder[p.role("account")] {
		t.Fatalf("/v1/me: account role %q, the oracle says %q", acct, ladder[p.role("account")])
	}
	return e
}

// Every route, called by every principal, answers as the oracle says: allowed
// calls reach the handler and succeed, refused ones get 403 (or 404 for an
// org the caller has no role in) and change nothing.
//
// Each principal has its own server. The refused calls go first, all their
// fixtures made up front, so one snapshot of the state after each call is
// also the "before" of the next; then the allowed calls.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	table := httpapi.Table()
	for _, p := range matrixPrincipals {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			e := newMatrixEnv(t, p)
			type planned struct {
				name string
				rt   httpapi.Route
				org  string
				want verdict
			}
			var refused, allowed []planned
			for _, rt := range table {
				orgs := []string{"A"}
				if rt.Rule.Scope == httpapi.ScopeOrg {
					orgs = []string{"A", "B"} // B: where no org policy gives a role
				}
				for _, org := range orgs {
					name := rt.Pattern
					if len(orgs) > 1 {
						name += " in org " + org
					}
					want, err := oracle(rt, p, org)
					if err != nil {
						t.Errorf("%s: %v", rt.Pattern, err)
						continue
					}
					if _, ok := matrixCalls[rt.Pattern]; !ok {
						t.Errorf("no request template for %s: add one to matrixCalls", rt.Pattern)
						continue
					}
					if p.role("self") <= reader && !isRead(rt.Method()) && want == allow {
						// The Reader promise, independently of the oracle.
						t.Errorf("%s: the oracle lets %s change something", rt.Pattern, p.name)
						continue
					}
					pl := planned{name, rt, org, want}
					if want == allow {
						allowed = append(allowed, pl)
					} else {
						refused = append(refused, pl)
					}
				}
			}

			e.t = t
			reqs := make([]req, len(refused))
			for i, pl := range refused {
				reqs[i] = matrixCalls[pl.rt.Pattern](e, pl.org).request(t, pl.rt, e.me.Token)
			}
			before := state(t, e.s, e.admin)
			for i, pl := range refused {
				t.Run("fail/"+pl.name, func(t *testing.T) {
					r := reqs[i]
					res := e.s.do(t, r)
					switch pl.want {
					case deny:
						if res.status != http.StatusForbidden {
							t.Errorf("%s %s: %d %s, want 403", r.method, r.path, res.status, res.body)
						} else {
							wantAPIError(t, res, http.StatusForbidden, "forbidden")
						}
					case hide:
						if res.status != http.StatusNotFound {
							t.Errorf("%s %s: %d %s, want 404 (no role in the org)", r.method, r.path, res.status, res.body)
						} else {
							wantAPIError(t, res, http.StatusNotFound, "not_found")
						}
					}
					after := state(t, e.s, e.admin)
					if after != before {
						t.Errorf("%s %s: refused, but the state changed:\nbefore %s\nafter  %s", r.method, r.path, before, after)
					}
					before = after
				})
			}
			for _, pl := range allowed {
				t.Run("ok/"+pl.name, func(t *testing.T) {
					e.t = t
					defer func() { e.t = nil }()
					c := matrixCalls[pl.rt.Pattern](e, pl.org)
					r := c.request(t, pl.rt, e.me.Token)
					res := e.s.do(t, r)
					switch {
					case res.status == http.StatusUnauthorized || res.status == http.StatusForbidden ||
						pl.rt.Rule.Scope == httpapi.ScopeOrg && res.status == http.StatusNotFound:
						t.Errorf("%s %s: %d %s; the oracle says %v", r.method, r.path, res.status, res.body, pl.want)
					case res.status != c.want:
						t.Errorf("%s %s: %d %s, want %d", r.method, r.path, res.status, res.body, c.want)
					}
				})
			}
		})
	}
}

// No route answers without a valid token, and such calls change nothing.
func TestEveryRouteNeedsAToken(t *testing.T) {
	t.Parallel()
	e := newMatrixEnv(t, principal{name: "administrator", account: administrator})
	e.t = t
	var reqs []req // requests an Administrator's token would make succeed
	for _, rt := range httpapi.Table() {
		tmpl, ok := matrixCalls[rt.Pattern]
		if !ok {
			t.Errorf("no request template for %s", rt.Pattern)
			continue
		}
		reqs = append(reqs, tmpl(e, "A").request(t, rt, ""))
	}
	before := state(t, e.s, e.admin)
	for _, auth := range []struct{ name, header string }{{"none", ""}, {"junk", "Bearer not-a-token"}, {"basic", "Basic YWRtaW46YWRtaW4="}} {
		t.Run("fail/token-"+auth.name, func(t *testing.T) {
			for _, r := range reqs {
				r.auth = auth.header
				res := e.s.do(t, r)
				if res.status != http.StatusUnauthorized {
					t.Errorf("%s %s: %d %s, want 401", r.method, r.path, res.status, res.body)
					continue
				}
				wantUnauthorized(t, res)
			}
		})
	}
	if after := state(t, e.s, e.admin); after != before {
		t.Errorf("calls without a valid token changed the state:\nbefore %s\nafter  %s", before, after)
	}
}
