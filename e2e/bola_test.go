package e2e_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"gatehouse/client"
	"gatehouse/internal/httpapi"
)

// Broken object- and function-level authorization (OWASP API1 and API5).
//
// Identity A (a Writer of org X) owns API keys and policies; org X holds one
// object of every API Manager kind. Attackers with no business there — an
// identity of the account with no policy (whose token died with its last
// policy, so every call is 401), a Writer and an Administrator of another
// org Y, and Readers (of X, of the account) on routes that change things —
// call every /v1 route of httpapi.Table() that names an object,
// with A's and X's objects named by id and by every name the segment
// accepts, and for Y's members also with X's objects slipped into Y's own
// paths. Every call is refused, answers exactly as the same call naming an
// object that does not exist (so nothing is learnt about existence), and
// leaves the object as it was: the Administrator reads it back after each
// attempt, and the whole state after each route.

// bolaRef is how a path segment names one object: its id and, where the
// segment accepts them, other names (name, name:version, iam_id, username).
type bolaRef struct {
	id    string
	names []string
}

// form is the object's id (form 0) or its i-th other name; objects with
// fewer names are named by id.
func (r bolaRef) form(i int) string {
	if i == 0 || i > len(r.names) {
		return r.id
	}
	return r.names[i-1]
}

// bolaObjs are objects by the kind of path parameter that names them.
type bolaObjs map[string]bolaRef

// bolaAttacker is a caller that must be refused on every object of A and X.
type bolaAttacker struct {
	name   string
	who    *identity
	reader bool // a Reader: only the routes that change something are tried
	inY    bool // has a role in org Y: also slips X's objects into Y's paths
	// noToken: an identity without any policy, whose token was revoked
	// with its last policy; every call is 401 before anything is looked up.
	noToken bool
}

type bolaEnv struct {
	s          *server
	admin      *client.Client
	adminToken string
	orgX       *client.Org
	orgY       *client.Org
	owner      *identity // A
	x, y       bolaObjs  // A's and X's objects; Y's
	none       bolaObjs  // refs that name nothing
	attackers  []*bolaAttacker
	// markers are ids of A's and X's objects: none may appear in any answer
	// to an attacker with no role in X.
	markers []string
	// goneKey is a well-formed API key value that names nothing (its key
	// was deleted): the twin of A's key value.
	goneKey string
}

// bolaKind is the kind of object a route's path parameter names; "" for a
// parameter the suite has no fixture for (the test fails for it).
func bolaKind(pattern, param string) string {
	_, path, _ := strings.Cut(pattern, " ")
	switch param {
	case "org", "env", "api", "corg", "app", "clientID":
		return param
	case "product":
		if strings.Contains(path, "/environments/{env}/products/") {
			return "publication"
		}
		return "product"
	case "id":
		for prefix, kind := range map[string]string{
			"/v1/apikeys/": "apikey", "/v1/users/": "user", "/v1/serviceids/": "serviceid", "/v1/policies/": "policy",
		} {
			if strings.HasPrefix(path, prefix) {
				return kind
			}
		}
		if strings.Contains(path, "/subscriptions/{id}") {
			return "subscription"
		}
	}
	return ""
}

// routeParams lists the path parameters of a pattern in order.
func routeParams(pattern string) []string {
	var out []string
	for _, m := range pathParam.FindAllStringSubmatch(pattern, -1) {
		out = append(out, m[1])
	}
	return out
}

// fillPath puts values into a pattern's path, each escaped as one segment.
func fillPath(pattern string, values map[string]string) string {
	_, path, _ := strings.Cut(pattern, " ")
	return pathParam.ReplaceAllStringFunc(path, func(m string) string {
		return url.PathEscape(values[m[1:len(m)-1]])
	})
}

// bolaAPIDoc is a public API named name (basePath /name) with a backend
// nobody listens on.
func bolaAPIDoc(name string) string {
	b, _ := json.Marshal(matrixAPIDoc(name))
	return string(b)
}

// bolaProductDoc is a product of one API with a free and a gated plan.
func bolaProductDoc(name, api string) string {
	doc := matrixProductDoc(name)
	doc["apis"] = map[string]any{"the-api": map[string]any{"name": api}}
	b, _ := json.Marshal(doc)
	return string(b)
}

// apimObjs makes one object of every API Manager kind in org, named after
// tag, and returns their refs. The app's subscription is to the gated plan,
// so it is pending: it can be both approved and deleted.
func (e *bolaEnv) apimObjs(t *testing.T, org *client.Org, tag string) bolaObjs {
	t.Helper()
	ctx := t.Context()
	env := mustEnv(t, e.admin, org.Name, "cat-"+tag)
	api := mustImportAPI(t, e.admin, org.Name, []byte(bolaAPIDoc("api-"+tag)), client.ContentTypeJSON)
	prod := mustCreateProduct(t, e.admin, org.Name, []byte(bolaProductDoc("product-"+tag, api.Ref())), client.ContentTypeJSON)
	pub := mustPublish(t, e.admin, org.Name, env.Name, prod.Ref())
	corg, err := e.admin.CreateConsumerOrg(ctx, org.Name, env.Name, "corg-"+tag, "")
	if err != nil {
		t.Fatal(err)
	}
	app, err := e.admin.CreateApp(ctx, org.Name, env.Name, corg.Name, "app-"+tag, "")
	if err != nil {
		t.Fatal(err)
	}
	sub := mustSubscribe(t, e.admin, client.AppRef{Org: org.Name, Env: env.Name, ConsumerOrg: corg.Name, App: app.Name}, prod.Ref(), "gated")
	return bolaObjs{
		"org":          {org.ID, []string{org.Name}},
		"env":          {env.ID, []string{env.Name}},
		"api":          {api.ID, []string{api.Ref()}},
		"product":      {prod.ID, []string{prod.Ref()}},
		"publication":  {pub.ID, []string{prod.Ref()}},
		"corg":         {corg.ID, []string{corg.Name}},
		"app":          {app.ID, []string{app.Name}},
		"clientID":     {id: app.Credentials.ClientID},
		"subscription": {id: sub.ID},
	}
}

func newBolaEnv(t *testing.T) *bolaEnv {
	s := startServer(t)
	tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	e := &bolaEnv{s: s, admin: s.client().WithToken(tok), adminToken: tok}
	e.orgX = mustOrg(t, e.admin, uniq("bola-x"))
	e.orgY = mustOrg(t, e.admin, uniq("bola-y"))
	e.owner = newUser(t, s, e.admin, uniq("owner"), grant{"Writer", e.orgX.Name})
	svc := newServiceID(t, s, e.admin, uniq("svc"), grant{"Reader", e.orgX.Name})
	e.x = e.apimObjs(t, e.orgX, "x")
	e.y = e.apimObjs(t, e.orgY, "y")
	e.x["apikey"] = bolaRef{id: e.owner.Key.ID}
	e.x["user"] = bolaRef{e.owner.ID, []string{e.owner.IAMID, e.owner.Username}}
	e.x["serviceid"] = bolaRef{svc.ID, []string{svc.IAMID}}
	e.x["policy"] = bolaRef{id: e.owner.Policies[0].ID}

	hexID := make([]byte, 16)
	rand.Read(hexID)
	e.none = bolaObjs{
		"org":          {uuid.NewString(), []string{"bola-nowhere"}},
		"env":          {uuid.NewString(), []string{"cat-nowhere"}},
		"api":          {uuid.NewString(), []string{"api-nowhere:1.0.0"}},
		"product":      {uuid.NewString(), []string{"product-nowhere:1.0.0"}},
		"publication":  {uuid.NewString(), []string{"product-nowhere:1.0.0"}},
		"corg":         {uuid.NewString(), []string{"corg-nowhere"}},
		"app":          {uuid.NewString(), []string{"app-nowhere"}},
		"clientID":     {id: hex.EncodeToString(hexID)},
		"subscription": {id: uuid.NewString()},
		"apikey":       {id: "ApiKey-" + uuid.NewString()},
		"user":         {"User-" + uuid.NewString(), []string{"iam-User-" + uuid.NewString(), "nobody-here"}},
		"serviceid":    {"ServiceId-" + uuid.NewString(), []string{"iam-ServiceId-" + uuid.NewString()}},
		"policy":       {id: "Policy-" + uuid.NewString()},
	}
	for kind, r := range e.x {
		if kind != "user" && kind != "serviceid" {
			e.markers = append(e.markers, r.id)
		}
	}
	e.markers = append(e.markers, e.owner.ID, e.owner.IAMID, svc.ID, svc.IAMID)

	gone := mustCreateKey(t, e.admin, client.CreateAPIKey{Name: "gone"})
	if err := e.admin.DeleteAPIKey(t.Context(), gone.ID); err != nil {
		t.Fatal(err)
	}
	e.goneKey = gone.APIKey

	// One gateway call to X's API, so that X has an event to leak.
	if r := s.gw(t, gwReq{path: "/" + e.orgX.Name + "/cat-x/api-x/ping"}); r.status != http.StatusBadGateway {
		t.Fatalf("gateway call to X's API: %d %s, want 502 (its backend is down)", r.status, r.body)
	}
	if err := s.app.FlushEvents(t.Context()); err != nil {
		t.Fatal(err)
	}

	// An identity with no policy gets no token (SPEC §2.3): the one it got
	// while it had a policy stops working when the policy goes.
	nopolicy := newUser(t, s, e.admin, uniq("nopolicy"), grant{"Reader", e.orgY.Name})
	if err := e.admin.DeletePolicy(t.Context(), nopolicy.Policies[0].ID); err != nil {
		t.Fatal(err)
	}
	exchangeRefused(t, s, nopolicy.Key.APIKey)
	e.attackers = []*bolaAttacker{
		{name: "no-policy", who: nopolicy, noToken: true},
		{name: "writer-of-y", who: newUser(t, s, e.admin, uniq("writer-y"), grant{"Writer", e.orgY.Name}), inY: true},
		{name: "administrator-of-y", who: newUser(t, s, e.admin, uniq("admin-y"), grant{"Administrator", e.orgY.ID}), inY: true},
		{name: "reader-of-x", who: newUser(t, s, e.admin, uniq("reader-x"), grant{"Reader", e.orgX.Name}), reader: true},
		{name: "account-reader", who: newUser(t, s, e.admin, uniq("reader"), grant{"Reader", ""}), reader: true},
	}
	return e
}

// bolaBodies are the bodies of the routes that take one: valid requests, so
// that a refusal comes from authorization, not from validation.
var bolaBodies = map[string]string{
	"PUT /v1/apikeys/{id}":                                            `{"description":"changed by an attacker"}`,
	"POST /v1/apikeys/{id}/rotate":                                    `{"grace":"1h"}`,
	"PATCH /v1/users/{id}":                                            `{"name":"changed by an attacker"}`,
	"PUT /v1/serviceids/{id}":                                         `{"description":"changed by an attacker"}`,
	"PUT /v1/orgs/{org}":                                              `{"title":"changed by an attacker"}`,
	"POST /v1/orgs/{org}/environments":                                `{"name":"cat-made","title":"Made"}`,
	"POST /v1/orgs/{org}/apis":                                        bolaAPIDoc("api-made"),
	"PUT /v1/orgs/{org}/apis/{api}":                                   bolaAPIDoc("api-x"),
	"POST /v1/orgs/{org}/products":                                    bolaProductDoc("product-made", "api-x:1.0.0"),
	"PUT /v1/orgs/{org}/products/{product}":                           bolaProductDoc("product-x", "api-x:1.0.0"),
	"POST /v1/orgs/{org}/environments/{env}/products":                 `{"product":"product-x:1.0.0"}`,
	"PATCH /v1/orgs/{org}/environments/{env}/products/{product}":      `{"state":"retired"}`,
	"POST /v1/orgs/{org}/environments/{env}/consumerOrgs":             `{"name":"corg-made","title":"Made"}`,
	"POST /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps": `{"name":"app-made","description":"made"}`,
	"POST /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/subscriptions": `{"product":"product-x:1.0.0","plan":"default"}`,
}

// request is a call of rt with the path values, as a.
func (e *bolaEnv) request(rt httpapi.Route, a *bolaAttacker, values map[string]string) req {
	r := req{method: rt.Method(), path: fillPath(rt.Pattern, values), token: a.who.Token}
	if body, ok := bolaBodies[rt.Pattern]; ok {
		r.ctype, r.body = "application/json", body
	}
	if r.method == http.MethodPut || r.method == http.MethodPatch {
		r.header = map[string]string{"If-Match": "*"}
	}
	return r
}

// bolaGroup is a call with the values naming real objects, then its twins:
// the same call with one value replaced by a ref that names nothing. The
// attacker must get the same answer for all of them.
type bolaGroup struct {
	label string
	calls []map[string]string
}

// groups are the calls a tries on rt: A's and X's objects named by each form
// (id, name, …), and, for a member of Y, Y's path with X's object at each
// position below the org.
func (e *bolaEnv) groups(t *testing.T, rt httpapi.Route, a *bolaAttacker) []bolaGroup {
	t.Helper()
	params := routeParams(rt.Pattern)
	kinds := make([]string, len(params))
	forms := 1
	for i, p := range params {
		if kinds[i] = bolaKind(rt.Pattern, p); kinds[i] == "" {
			t.Fatalf("no BOLA fixture for {%s}: add its kind to bolaKind and an object of it to the fixtures", p)
		}
		forms = max(forms, 1+len(e.x[kinds[i]].names))
	}
	formName := func(f int) string { return [...]string{"by id", "by name", "by second name"}[f] }
	var out []bolaGroup
	for f := range forms {
		real := map[string]string{}
		for i, p := range params {
			real[p] = e.x[kinds[i]].form(f)
		}
		g := bolaGroup{label: "X's " + formName(f), calls: []map[string]string{real}}
		for i, p := range params {
			if p == "org" && a.reader {
				continue // a Reader sees the org: a missing org is a different answer, rightly
			}
			if i != 0 && i != len(params)-1 {
				continue // the outermost and the object itself; Y's paths try each position
			}
			twin := maps.Clone(real)
			twin[p] = e.none[kinds[i]].form(f)
			g.calls = append(g.calls, twin)
		}
		out = append(out, g)
	}
	if !a.inY || len(params) < 2 || params[0] != "org" {
		return out
	}
	for i := 1; i < len(params); i++ {
		for f := range forms {
			slipped := map[string]string{}
			for j, p := range params {
				switch {
				case j < i:
					slipped[p] = e.y[kinds[j]].form(f)
				case j == i:
					slipped[p] = e.x[kinds[j]].form(f)
				default:
					slipped[p] = e.y[kinds[j]].id
				}
			}
			twin := maps.Clone(slipped)
			twin[params[i]] = e.none[kinds[i]].form(f)
			out = append(out, bolaGroup{label: fmt.Sprintf("X's {%s} %s in Y's path", params[i], formName(f)), calls: []map[string]string{slipped, twin}})
		}
	}
	return out
}

// refusal is what a refused call answered, with the refs it named replaced
// by a placeholder so that twins compare equal.
type refusal struct {
	status  int
	code    string
	message string
}

// refused checks that res refuses the call in the management API's error
// shape (403 or 404; 401 for a caller without a token) and returns the
// refusal with the values taken out.
func refused(t *testing.T, a *bolaAttacker, r req, res reply, values []string) (refusal, bool) {
	t.Helper()
	if a.noToken {
		if res.status != http.StatusUnauthorized {
			t.Errorf("%s %s with a revoked token: %d %s, want 401", r.method, r.path, res.status, res.body)
			return refusal{}, false
		}
	} else if res.status != http.StatusForbidden && res.status != http.StatusNotFound {
		t.Errorf("%s %s: %d %s, want it refused (403 or 404)", r.method, r.path, res.status, res.body)
		return refusal{}, false
	}
	var e apiError
	if err := json.Unmarshal(res.body, &e); err != nil || len(e.Errors) != 1 || e.StatusCode != res.status {
		t.Errorf("%s %s: %d body %s is not the API's error shape", r.method, r.path, res.status, res.body)
		return refusal{}, false
	}
	want := map[int]string{http.StatusUnauthorized: "invalid_token", http.StatusForbidden: "forbidden", http.StatusNotFound: "not_found"}[res.status]
	if e.Errors[0].Code != want {
		t.Errorf("%s %s: %d with code %s, want %s", r.method, r.path, res.status, e.Errors[0].Code, want)
	}
	msg := e.Errors[0].Message
	// Longest first: a value may contain a shorter one.
	values = slices.Clone(values)
	slices.SortFunc(values, func(a, b string) int { return len(b) - len(a) })
	for _, v := range values {
		if v != "" {
			msg = strings.ReplaceAll(msg, v, "…")
		}
	}
	return refusal{res.status, e.Errors[0].Code, msg}, true
}

// readback is what the Administrator reads of the object a route acts on:
// the GET of the same path or, failing that, of the nearest enclosing path
// the table has (a collection listing for objects without a GET), with A's
// and X's objects by id. ok is false for a route with nothing to read.
func (e *bolaEnv) readback(t *testing.T, rt httpapi.Route) (string, bool) {
	t.Helper()
	_, path, _ := strings.Cut(rt.Pattern, " ")
	gets := map[string]bool{}
	for _, r := range httpapi.Table() {
		if r.Method() == http.MethodGet {
			gets[r.Pattern] = true
		}
	}
	for ; path != "/v1"; path = path[:strings.LastIndex(path, "/")] {
		if !gets["GET "+path] {
			continue
		}
		values := map[string]string{}
		for _, p := range routeParams(path) {
			values[p] = e.x[bolaKind("GET "+path, p)].id
		}
		u := fillPath("GET "+path, values)
		if strings.HasPrefix(path, "/v1/apikeys/") {
			u += "?include_history=true"
		}
		res := e.s.do(t, req{method: http.MethodGet, path: u, token: e.adminToken})
		if res.status != http.StatusOK {
			t.Fatalf("read back GET %s as the Administrator: %d %s", u, res.status, res.body)
		}
		return fmt.Sprintf("GET %s\nETag %s\n%s", u, res.header.Get("ETag"), res.body), true
	}
	return "", false
}

// snapshot is the whole state: everything state reads, plus the API Manager
// objects of orgs X and Y and X's events.
func (e *bolaEnv) snapshot(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(state(t, e.s, e.admin))
	ctx := t.Context()
	for _, o := range []struct {
		tag string
		org *client.Org
	}{{"x", e.orgX}, {"y", e.orgY}} {
		tag, org := o.tag, o.org
		env := "cat-" + tag
		add := func(what string, v any, err error) {
			if err != nil {
				t.Fatalf("%s of %s: %v", what, org.Name, err)
			}
			fmt.Fprintf(&b, "%s of %s: %s\n", what, org.Name, jsonOf(v))
		}
		apis, _, err := e.admin.ListAPIs(ctx, org.Name, client.PageOptions{Limit: 1000})
		add("apis", apis, err)
		products, _, err := e.admin.ListProducts(ctx, org.Name, client.PageOptions{Limit: 1000})
		add("products", products, err)
		for _, cat := range []string{"sb", env} {
			pubs, err := e.admin.ListPublications(ctx, org.Name, cat)
			add("publications in "+cat, pubs, err)
			corgs, _, err := e.admin.ListConsumerOrgs(ctx, org.Name, cat, client.PageOptions{Limit: 1000})
			add("consumer orgs in "+cat, corgs, err)
			apps, _, err := e.admin.ListConsumerApps(ctx, org.Name, cat, client.PageOptions{Limit: 1000})
			add("apps in "+cat, apps, err)
			subs, _, err := e.admin.ListCatalogSubscriptions(ctx, org.Name, cat, client.PageOptions{Limit: 1000})
			add("subscriptions in "+cat, subs, err)
		}
		creds, err := e.admin.ListCredentials(ctx, client.AppRef{Org: org.Name, Env: env, ConsumerOrg: "corg-" + tag, App: "app-" + tag})
		add("credentials", creds, err)
		events, err := e.admin.ListEvents(ctx, org.Name, env, client.EventQuery{})
		add("events", events, err)
	}
	return b.String()
}

// Every route that names an object refuses every attacker, the same way for
// existing and missing objects, and changes nothing.
func TestBrokenObjectLevelAuthorization(t *testing.T) {
	t.Parallel()
	e := newBolaEnv(t)
	before := e.snapshot(t)
	var routes, calls int
	for _, rt := range httpapi.Table() {
		if len(routeParams(rt.Pattern)) == 0 {
			continue // no object named: TestBrokenFunctionLevelAuthorization
		}
		routes++
		t.Run(rt.Pattern, func(t *testing.T) {
			back, hasBack := e.readback(t, rt)
			for _, a := range e.attackers {
				if a.reader && isRead(rt.Method()) {
					continue // reading X is what a Reader of it is for
				}
				for _, g := range e.groups(t, rt, a) {
					var first refusal
					for i, values := range g.calls {
						r := e.request(rt, a, values)
						res := e.s.do(t, r)
						calls++
						var named []string
						for _, v := range values {
							named = append(named, v, url.PathEscape(v))
						}
						got, ok := refused(t, a, r, res, named)
						if hasBack && i == 0 { // twins name a missing object: the snapshot at the end covers them
							if now, _ := e.readback(t, rt); now != back {
								t.Fatalf("%s: %s %s (%s) answered %d, and the object changed:\nbefore %s\nafter  %s", a.name, r.method, r.path, g.label, res.status, back, now)
							}
						}
						if !ok {
							continue
						}
						if i == 0 {
							first = got
						} else if got != first {
							t.Errorf("%s, %s: existence leaks: %s %s answers %+v, the same call naming an existing object %+v", a.name, g.label, r.method, r.path, got, first)
						}
					}
				}
			}
		})
	}
	if after := e.snapshot(t); after != before {
		t.Errorf("the refused calls changed the state:\n%s", changedLines(before, after))
	}
	t.Logf("%d routes naming objects, %d refused calls by %d attackers", routes, calls, len(e.attackers))
}

// bolaProbe is a call by an attacker that names A's or X's objects in its
// query, headers or body, with its twin naming nothing.
type bolaProbe struct {
	name      string
	r, twin   func(a *bolaAttacker) req
	values    []string // what the calls name, taken out of the messages
	readback  string   // the GET (as the Administrator) that must not change; "" for none
	onlyInY   bool     // only for members of Y (the call goes through Y)
	allowRead bool     // a 200 is right, but it must show nothing of A or X
}

// Function-level authorization and references smuggled in queries and
// bodies: account-level routes refuse every attacker; listing, granting,
// publishing and subscribing with A's and X's objects named in the query or
// body are refused (the same way as for objects that do not exist) or show
// nothing of them.
func TestBrokenFunctionLevelAuthorization(t *testing.T) {
	t.Parallel()
	e := newBolaEnv(t)
	before := e.snapshot(t)
	calls := 0

	// Every route of the table that names no object and needs a role on the
	// account: refused for all but a Reader of the account reading.
	t.Run("account-routes", func(t *testing.T) {
		for _, rt := range httpapi.Table() {
			if len(routeParams(rt.Pattern)) > 0 || rt.Rule.Scope != httpapi.ScopeAccount {
				continue
			}
			for _, a := range e.attackers {
				if a.name == "account-reader" && isRead(rt.Method()) {
					continue
				}
				r := e.request(rt, a, nil)
				r.ctype, r.body = "application/json", bolaAccountBodies[rt.Pattern]
				if isRead(rt.Method()) {
					r.ctype, r.body = "", ""
				}
				res := e.s.do(t, r)
				calls++
				if got, ok := refused(t, a, r, res, nil); ok && !a.noToken && got.status != http.StatusForbidden {
					t.Errorf("%s: %s %s: %d, want 403", a.name, r.method, r.path, got.status)
				}
			}
		}
	})

	x, y, none := e.x, e.y, e.none
	catY := func(rest string) string {
		return "/v1/orgs/" + y["org"].id + "/environments/" + y["env"].id + rest
	}
	appY := catY("/consumerOrgs/" + y["corg"].id + "/apps/" + y["app"].id)
	get := func(path string) func(*bolaAttacker) req {
		return func(a *bolaAttacker) req { return req{method: "GET", path: path, token: a.who.Token} }
	}
	post := func(path string, body func(a *bolaAttacker) string) func(*bolaAttacker) req {
		return func(a *bolaAttacker) req {
			return req{method: "POST", path: path, token: a.who.Token, ctype: "application/json", body: body(a)}
		}
	}
	lit := func(s string) func(*bolaAttacker) string { return func(*bolaAttacker) string { return s } }
	policyFor := func(org string) func(a *bolaAttacker) string {
		return func(a *bolaAttacker) string {
			return fmt.Sprintf(`{"subject":%q,"role":"Reader","resource":{"org":%q}}`, a.who.IAMID, org)
		}
	}
	withKey := func(value string) func(a *bolaAttacker) req {
		return func(a *bolaAttacker) req {
			return req{method: "GET", path: "/v1/apikeys/details", token: a.who.Token, header: map[string]string{"IAM-ApiKey": value}}
		}
	}
	probes := []bolaProbe{
		{name: "list-a's-keys", r: get("/v1/apikeys?iam_id=" + e.owner.IAMID), twin: get("/v1/apikeys?iam_id=" + none["user"].names[0]),
			values: []string{e.owner.IAMID, none["user"].names[0]}, readback: "/v1/apikeys?scope=account&include_history=true"},
		{name: "list-the-account's-keys", r: get("/v1/apikeys?scope=account"), twin: get("/v1/apikeys?scope=account"), readback: ""},
		{name: "read-a's-key-by-value", r: withKey(e.owner.Key.APIKey), twin: withKey(e.goneKey),
			readback: "/v1/apikeys/" + e.owner.Key.ID + "?include_history=true"},
		{name: "create-a-key-for-a", r: post("/v1/apikeys", lit(`{"name":"planted","iam_id":"`+e.owner.IAMID+`"}`)),
			twin:   post("/v1/apikeys", lit(`{"name":"planted","iam_id":"`+none["user"].names[0]+`"}`)),
			values: []string{e.owner.IAMID, none["user"].names[0]}, readback: "/v1/apikeys?iam_id=" + e.owner.IAMID + "&scope=account"},
		{name: "grant-oneself-a-role-in-x-by-name", r: post("/v1/policies", policyFor(x["org"].names[0])), twin: post("/v1/policies", policyFor(none["org"].names[0])),
			values: []string{x["org"].names[0], none["org"].names[0]}, readback: "/v1/policies?org=" + x["org"].id},
		{name: "grant-oneself-a-role-in-x-by-id", r: post("/v1/policies", policyFor(x["org"].id)), twin: post("/v1/policies", policyFor(none["org"].id)),
			values: []string{x["org"].id, none["org"].id}, readback: "/v1/policies?org=" + x["org"].id},
		{name: "list-x's-policies", r: get("/v1/policies?org=" + x["org"].names[0]), twin: get("/v1/policies?org=" + none["org"].names[0]),
			values: []string{x["org"].names[0], none["org"].names[0]}},
		{name: "list-a's-policies", r: get("/v1/policies?subject=" + e.owner.IAMID), allowRead: true},
		{name: "list-orgs", r: get("/v1/orgs"), allowRead: true},
		{name: "me", r: get("/v1/me"), allowRead: true},
		{name: "publish-x's-product-in-y-by-name", onlyInY: true,
			r:      post(catY("/products"), lit(`{"product":"`+x["product"].names[0]+`"}`)),
			twin:   post(catY("/products"), lit(`{"product":"`+none["product"].names[0]+`"}`)),
			values: []string{x["product"].names[0], none["product"].names[0]}, readback: catY("/products")},
		{name: "publish-x's-product-in-y-by-id", onlyInY: true,
			r:      post(catY("/products"), lit(`{"product":"`+x["product"].id+`"}`)),
			twin:   post(catY("/products"), lit(`{"product":"`+none["product"].id+`"}`)),
			values: []string{x["product"].id, none["product"].id}, readback: catY("/products")},
		{name: "product-in-y-of-x's-api", onlyInY: true,
			r: func(a *bolaAttacker) req {
				return req{method: "POST", path: "/v1/orgs/" + y["org"].id + "/products", token: a.who.Token, ctype: "application/json", body: bolaProductDoc("product-stolen", x["api"].names[0])}
			},
			twin: func(a *bolaAttacker) req {
				return req{method: "POST", path: "/v1/orgs/" + y["org"].id + "/products", token: a.who.Token, ctype: "application/json", body: bolaProductDoc("product-stolen", none["api"].names[0])}
			},
			values: []string{x["api"].names[0], none["api"].names[0], "api-x", "api-nowhere"}, readback: "/v1/orgs/" + y["org"].id + "/products"},
		{name: "subscribe-y's-app-to-x's-product-by-name", onlyInY: true,
			r:      post(appY+"/subscriptions", lit(`{"product":"`+x["publication"].names[0]+`","plan":"default"}`)),
			twin:   post(appY+"/subscriptions", lit(`{"product":"`+none["publication"].names[0]+`","plan":"default"}`)),
			values: []string{x["publication"].names[0], none["publication"].names[0]}, readback: appY + "/subscriptions"},
		{name: "subscribe-y's-app-to-x's-product-by-id", onlyInY: true,
			r:      post(appY+"/subscriptions", lit(`{"product":"`+x["publication"].id+`","plan":"default"}`)),
			twin:   post(appY+"/subscriptions", lit(`{"product":"`+none["publication"].id+`","plan":"default"}`)),
			values: []string{x["publication"].id, none["publication"].id}, readback: appY + "/subscriptions"},
		{name: "y's-events-filtered-on-x's-api", onlyInY: true, r: get(catY("/events?api=" + x["api"].names[0])), allowRead: true},
		{name: "y's-events-filtered-on-x's-app", onlyInY: true, r: get(catY("/events?app=" + x["app"].id)), allowRead: true},
		{name: "y's-analytics", onlyInY: true, r: get(catY("/analytics")), allowRead: true},
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			var back string
			if p.readback != "" {
				back = e.adminGet(t, p.readback)
			}
			for _, a := range e.attackers {
				if p.onlyInY && !a.inY {
					continue
				}
				r := p.r(a)
				if a.reader && isRead(r.method) && !p.allowRead {
					continue
				}
				res := e.s.do(t, r)
				calls++
				if p.readback != "" {
					if now := e.adminGet(t, p.readback); now != back {
						t.Fatalf("%s: %s %s answered %d and changed %s:\nbefore %s\nafter  %s", a.name, r.method, r.path, res.status, p.readback, back, now)
					}
				}
				if p.allowRead && !a.noToken {
					if res.status != http.StatusOK {
						t.Errorf("%s: %s %s: %d %s, want 200", a.name, r.method, r.path, res.status, res.body)
					}
					if a.reader {
						continue // a Reader of X may see X
					}
					for _, m := range e.markers {
						if strings.Contains(string(res.body), m) && !strings.Contains(r.path, m) { // an echo of the query is no leak
							t.Errorf("%s: %s %s shows %s, an object of A or X: %s", a.name, r.method, r.path, m, res.body)
						}
					}
					continue
				}
				got, ok := bolaRefused(t, a, r, res, p.values)
				if !ok || p.twin == nil {
					continue
				}
				tr := p.twin(a)
				tres := e.s.do(t, tr)
				calls++
				if twin, ok := bolaRefused(t, a, tr, tres, p.values); ok && twin != got {
					t.Errorf("%s: existence leaks: %s %s answers %+v, naming an existing object %+v", a.name, tr.method, tr.path, twin, got)
				}
			}
		})
	}
	if after := e.snapshot(t); after != before {
		t.Errorf("the refused calls changed the state:\n%s", changedLines(before, after))
	}
	t.Logf("%d refused calls", calls)
}

// bolaRefused is refused for probes, where a reference in the body may be
// refused as a bad request (400) too, e.g. an unknown product to publish.
func bolaRefused(t *testing.T, a *bolaAttacker, r req, res reply, values []string) (refusal, bool) {
	t.Helper()
	if res.status != http.StatusBadRequest || a.noToken {
		return refused(t, a, r, res, values)
	}
	var e apiError
	if err := json.Unmarshal(res.body, &e); err != nil || len(e.Errors) == 0 {
		t.Errorf("%s %s: 400 body %s is not the API's error shape", r.method, r.path, res.body)
		return refusal{}, false
	}
	var msgs []string
	for _, m := range e.Errors {
		msgs = append(msgs, m.Message)
	}
	msg := strings.Join(msgs, " | ")
	for _, v := range values {
		msg = strings.ReplaceAll(msg, v, "…")
	}
	return refusal{res.status, e.Errors[0].Code, msg}, true
}

// bolaAccountBodies are valid bodies of the account-level routes that
// take one.
var bolaAccountBodies = map[string]string{
	"POST /v1/users":      `{"username":"planted"}`,
	"POST /v1/serviceids": `{"name":"planted"}`,
	"POST /v1/orgs":       `{"name":"planted","title":"Planted"}`,
}

// adminGet reads path as the Administrator: status, ETag and body.
func (e *bolaEnv) adminGet(t *testing.T, path string) string {
	t.Helper()
	res := e.s.do(t, req{method: "GET", path: path, token: e.adminToken})
	if res.status != http.StatusOK {
		t.Fatalf("GET %s as the Administrator: %d %s", path, res.status, res.body)
	}
	return fmt.Sprintf("ETag %s\n%s", res.header.Get("ETag"), res.body)
}

// changedLines shows the lines of two snapshots that differ, matched by
// their label (the text before the first ": ").
func changedLines(before, after string) string {
	index := func(s string) (map[string]string, []string) {
		m := map[string]string{}
		var order []string
		for _, line := range strings.Split(s, "\n") {
			label, _, _ := strings.Cut(line, ": ")
			if _, dup := m[label]; !dup {
				order = append(order, label)
			}
			m[label] += line
		}
		return m, order
	}
	b, order := index(before)
	a, more := index(after)
	var out strings.Builder
	for _, label := range append(order, more...) {
		if b[label] != a[label] {
			fmt.Fprintf(&out, "before %s\nafter  %s\n", b[label], a[label])
			b[label], a[label] = "", "" // once
		}
	}
	return out.String()
}
