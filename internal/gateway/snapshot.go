package gateway

import (
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"gatehouse/internal/apidef"
	"gatehouse/internal/apim"
	"gatehouse/internal/store"
)

// snapshot is the whole routing state, immutable once built.
type snapshot struct {
	catalogs map[string]*catalog // "org/env" by names
}

// catalog is one provider org's catalog as the gateway sees it.
type catalog struct {
	orgID, envID     string
	orgName, envName string
	apis             map[string]*route // base path → API; "" is the root
	maxDepth         int               // most segments in any base path
	creds            map[string]*credential
}

// route is one API routed in a catalog.
type route struct {
	api     *apidef.API
	apiID   string // api.ID()
	target  string // the target-url template with this catalog's properties substituted
	ops     *node
	offered []*offer // live publications that include the API

	// targetBase is target's fixed part, parsed, when target is an absolute
	// http(s) URL without query or fragment followed by
	// "$(request.path)$(request.search)" (the usual template): the call's
	// URL is then joined to it instead of parsed. targetBasePath is its
	// escaped path.
	targetBase     *url.URL
	targetBasePath string

	// The client id's and secret's header names in canonical form, when
	// the API's security reads them from headers.
	idHeader, secretHeader string
}

// offer is an API as one live publication includes it.
type offer struct {
	pub *publication
	key string // the product's key for the API
}

// publication is a live (published or deprecated) product in a catalog.
type publication struct {
	id        string
	product   *apidef.Product
	productID string // product.ID()
}

type credential struct {
	clientID string
	digest   []byte
	app      *app
}

type app struct {
	id, consumerOrgID string
	subs              []*subscription
}

type subscription struct {
	id        string
	pub       *publication
	plan      *apidef.Plan
	limitKeys []string // the limiter's key of each of plan.Limits: "<subscription>|<limit>"
	active    bool
}

// node is a segment trie of an API's operation paths.
type node struct {
	children map[string]*node
	param    *node                        // a {name} segment
	methods  map[string]*apidef.Operation // upper-case method → operation
	names    map[string]string            // method → "METHOD /path" of its operation
}

func (n *node) insert(op *apidef.Operation) {
	cur := n
	for _, seg := range segments(op.Path) {
		if isParam(seg) {
			if cur.param == nil {
				cur.param = &node{}
			}
			cur = cur.param
			continue
		}
		if cur.children == nil {
			cur.children = map[string]*node{}
		}
		next := cur.children[seg]
		if next == nil {
			next = &node{}
			cur.children[seg] = next
		}
		cur = next
	}
	if cur.methods == nil {
		cur.methods = map[string]*apidef.Operation{}
		cur.names = map[string]string{}
	}
	cur.methods[op.Method] = op
	cur.names[op.Method] = op.Method + " " + op.Path
}

// match finds the node of path (its segments as segments splits them):
// literal segments before parameters, with backtracking, so /pets/mine beats
// /pets/{id} and both work. It walks the string in place, allocating nothing.
func (n *node) match(path string) *node {
	p := strings.Trim(path, "/")
	if p == "" {
		return n.final()
	}
	return n.matchSegs(p)
}

// matchSegs matches p, which holds at least one segment.
func (n *node) matchSegs(p string) *node {
	seg, rest, more := strings.Cut(p, "/")
	if c := n.children[seg]; c != nil {
		if m := c.matchNext(rest, more); m != nil {
			return m
		}
	}
	if n.param != nil && seg != "" {
		return n.param.matchNext(rest, more)
	}
	return nil
}

func (n *node) matchNext(rest string, more bool) *node {
	if !more {
		return n.final()
	}
	return n.matchSegs(rest)
}

// final is n when an operation ends there.
func (n *node) final() *node {
	if n.methods != nil {
		return n
	}
	return nil
}

func isParam(seg string) bool {
	return len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}'
}

// segments splits a path into its segments ("/" and "" have none).
func segments(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

var propertyRE = regexp.MustCompile(`\$\(([A-Za-z0-9_.-]+)\)`)

// expandTarget substitutes an API's properties (with the catalog's
// overrides) into its target template, leaving $(request.*) for each call.
// A template of only "$(target-url)" gets $(request.path)$(request.search).
func expandTarget(api *apidef.API, catalog string) string {
	tmpl := api.TargetURL
	if tmpl == "" || tmpl == "$(target-url)" {
		tmpl = "$(target-url)$(request.path)$(request.search)"
	}
	props := api.Catalogs[catalog]
	for range 5 { // properties may refer to properties; bounded
		next := propertyRE.ReplaceAllStringFunc(tmpl, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "request.") {
				return m
			}
			if v, ok := props[name]; ok {
				return v
			}
			if v, ok := api.Properties[name]; ok {
				return v
			}
			return m
		})
		if next == tmpl {
			break
		}
		tmpl = next
	}
	return tmpl
}

// parseTargetBase returns the parsed fixed part of a target template of the
// form "<absolute http(s) URL>$(request.path)$(request.search)", or nil.
func parseTargetBase(target string) (*url.URL, string) {
	const tail = "$(request.path)$(request.search)"
	prefix, ok := strings.CutSuffix(target, tail)
	if !ok || strings.Contains(prefix, "$(") {
		return nil, ""
	}
	u, err := url.Parse(prefix)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" ||
		u.Opaque != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.RawFragment != "" {
		return nil, ""
	}
	return u, u.EscapedPath()
}

// headerKey is the canonical header name of a credential read from a header.
func headerKey(p *apidef.Param) string {
	if p == nil || p.In != "header" {
		return ""
	}
	return http.CanonicalHeaderKey(p.Name)
}

// build makes a snapshot from the store's gateway state. decoded caches
// publication snapshots by id and revision across builds.
func build(st store.GatewayState, decoded map[string]cachedPub) (*snapshot, map[string]cachedPub, error) {
	orgNames := make(map[string]string, len(st.Orgs))
	for _, o := range st.Orgs {
		orgNames[o.ID] = o.Name
	}
	snap := &snapshot{catalogs: make(map[string]*catalog, len(st.Envs))}
	byEnv := make(map[string]*catalog, len(st.Envs))
	for _, e := range st.Envs {
		orgName, ok := orgNames[e.OrgID]
		if !ok {
			continue
		}
		c := &catalog{orgID: e.OrgID, envID: e.ID, orgName: orgName, envName: e.Name, apis: map[string]*route{}, creds: map[string]*credential{}}
		snap.catalogs[orgName+"/"+e.Name] = c
		byEnv[e.ID] = c
	}

	nextDecoded := make(map[string]cachedPub, len(st.Publications))
	pubs := make(map[string]*publication, len(st.Publications)) // env id + product id → publication
	// Oldest first, so the most recently published snapshot of an API wins.
	ordered := append([]store.Publication(nil), st.Publications...)
	sort.SliceStable(ordered, func(i, j int) bool { return ordered[i].PublishedAt.Before(ordered[j].PublishedAt) })
	for _, rec := range ordered {
		c := byEnv[rec.EnvID]
		if c == nil {
			continue
		}
		cp, ok := decoded[rec.ID]
		if !ok || cp.rev != rec.Rev {
			d, err := apim.DecodePublication(rec)
			if err != nil {
				return nil, nil, err
			}
			cp = cachedPub{rev: rec.Rev, snap: d.Snap}
		}
		nextDecoded[rec.ID] = cp
		pub := &publication{id: rec.ID, product: &cp.snap.Product, productID: cp.snap.Product.ID()}
		pubs[rec.EnvID+"|"+rec.ProductName+":"+rec.ProductVersion] = pub
		for key, a := range cp.snap.APIs {
			a := a
			r := c.apis[a.BasePath]
			if r == nil || r.api.ID() != a.ID() {
				r = &route{}
				c.apis[a.BasePath] = r
				if d := len(segments(a.BasePath)); d > c.maxDepth {
					c.maxDepth = d
				}
			}
			r.api, r.apiID = &a, a.ID()
			r.target = expandTarget(&a, c.envName)
			r.targetBase, r.targetBasePath = parseTargetBase(r.target)
			r.idHeader, r.secretHeader = headerKey(a.Security.ClientID), headerKey(a.Security.ClientSecret)
			r.ops = &node{}
			for i := range a.Operations {
				r.ops.insert(&a.Operations[i])
			}
			r.offered = append(r.offered, &offer{pub: pub, key: key})
		}
	}

	apps := make(map[string]*app, len(st.Apps))
	for _, a := range st.Apps {
		apps[a.ID] = &app{id: a.ID, consumerOrgID: a.ConsumerOrgID}
	}
	for _, cr := range st.Credentials {
		a, c := apps[cr.AppID], byEnv[cr.EnvID]
		if a == nil || c == nil {
			continue
		}
		c.creds[cr.ClientID] = &credential{clientID: cr.ClientID, digest: cr.SecretDigest, app: a}
	}
	for _, s := range st.Subscriptions {
		a := apps[s.AppID]
		pub := pubs[s.EnvID+"|"+s.ProductName+":"+s.ProductVersion]
		if a == nil || pub == nil {
			continue // the product is retired, or the app is gone
		}
		plan, ok := pub.product.Plans[s.Plan]
		if !ok {
			continue
		}
		keys := make([]string, len(plan.Limits))
		for i, l := range plan.Limits {
			keys[i] = s.ID + "|" + l.Name
		}
		a.subs = append(a.subs, &subscription{id: s.ID, pub: pub, plan: &plan, limitKeys: keys, active: s.Approved && s.State == apim.SubActive})
	}
	return snap, nextDecoded, nil
}

// cachedPub is a decoded publication snapshot at one revision.
type cachedPub struct {
	rev  int64
	snap apim.Snapshot
}

// lookup finds the route and operation node for a request path of the form
// /{org}/{env}/{basePath}{path}. It returns the remainder after the base path.
// Base paths are tried longest first, as prefixes of the path itself, so a
// lookup allocates nothing.
func (s *snapshot) lookup(path string) (*catalog, *route, string, bool) {
	rest := strings.TrimPrefix(path, "/")
	org, rest, ok1 := strings.Cut(rest, "/")
	env, rest, ok2 := strings.Cut(rest, "/")
	if !ok1 {
		return nil, nil, "", false
	}
	var kbuf [64]byte
	c := s.catalogs[string(append(append(append(kbuf[:0], org...), '/'), env...))]
	if c == nil {
		return nil, nil, "", false
	}
	if ok2 {
		rest = path[len(path)-len(rest)-1:] // with the '/' before it
	} else {
		rest = "/" // "/org/env" alone
	}
	// Candidates are the first n segments of rest for n = maxDepth..1, then
	// the root "". A path starting with "//" has an empty first segment,
	// which no base path has: only the root can match it.
	t := strings.TrimRight(rest, "/")
	if len(t) > 1 && t[1] != '/' {
		end := 0
		n := 0
		for ; n < c.maxDepth; n++ {
			j := strings.IndexByte(t[end+1:], '/')
			if j < 0 {
				end, n = len(t), n+1
				break
			}
			end += 1 + j
		}
		for ; n > 0; n-- {
			if r := c.apis[t[:end]]; r != nil {
				return c, r, rest[end:], true
			}
			end = strings.LastIndexByte(t[:end], '/')
		}
	}
	if r := c.apis[""]; r != nil {
		return c, r, rest, true
	}
	return c, nil, "", false
}

// allowed lists the methods a route's path node declares, for Allow.
func allowed(n *node) string {
	ms := make([]string, 0, len(n.methods))
	for m := range n.methods {
		ms = append(ms, m)
	}
	sort.Strings(ms)
	return strings.Join(ms, ", ")
}
