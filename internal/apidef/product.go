package apidef

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"gatehouse/internal/ratelimit"
)

// ProductVersion is the only product document version ("product: 1.0.0").
const ProductVersion = "1.0.0"

// DefaultPlan is the plan of a product document that declares none, as in
// API Connect: "default", titled "Default Plan", 100 calls an hour, hard.
func DefaultPlan() Plan {
	return Plan{
		Name:   "default",
		Title:  "Default Plan",
		Limits: []Limit{{Name: "default", Rate: ratelimit.Rate{Count: 100, Window: time.Hour}, Hard: true}},
	}
}

// ParseProduct compiles a V5 product document (SPEC §7), JSON or YAML:
//
//	product: 1.0.0
//	info: {name: climbon, title: ClimbOn, version: 1.0.0}
//	apis: {routes: {name: "routes:1.0.0"}}
//	plans:
//	  default:
//	    title: Default Plan
//	    approval: false
//	    rate-limit: {value: 100/1hour, hard-limit: true}     # or rate-limits: {name: {…}, …}
//	    apis: {routes: {operations: [{operation: get, path: /routes, rate-limit: {…}}]}}
//
// The error is for a document that cannot be read at all (ErrTooLarge,
// ErrUnreadable), as for ParseAPI. Anything else wrong is a Problem located
// by a JSON pointer; every problem found is reported, sorted by pointer.
//
// Rules beyond the shape above: info.title defaults to info.name and a
// plan's title to its name; approval defaults to false and hard-limit to
// true; a plan with rate-limit has one Limit named "default", one with
// rate-limits one Limit per key, sorted by name; a plan without apis includes
// every API of the product. Unknown top-level keys (visibility, …) are
// ignored, but unknown keys inside apis entries, plans, limits and
// operations are problems, so a typo such as rate_limit is not silently a
// plan without limits. A document without plans gets DefaultPlan.
// Whether the APIs exist, and which operations an operationId names, is
// checked when the product is stored or published, where the APIs are known.
func ParseProduct(doc []byte) (Product, []Problem, error) {
	root, err := readTree(doc)
	if err != nil {
		return Product{}, nil, err
	}
	c := &collector{}
	checkDuplicateKeys(root, c)
	var p Product

	switch v := get(root, "product"); {
	case isNull(v):
		c.add("/product", "product: %s is required: it marks a product document", ProductVersion)
	default:
		if s, _ := scalarText(v); s != ProductVersion {
			c.add("/product", "unsupported product document version %q: use product: %s", s, ProductVersion)
		}
	}

	info := get(root, "info")
	if !isMap(info) {
		c.add("/info", "info is required: an object with name and version, e.g. info: {name: climbon, title: ClimbOn, version: 1.0.0}")
	} else {
		p.Name = requiredString(info, "/info", "name", "climbon", validName, nameRule, c)
		p.Version = requiredString(info, "/info", "version", "1.0.0", validVersion, versionRule, c)
		if p.Title = optionalString(info, "/info", "title", c); !validTitle(p.Title) {
			c.add("/info/title", titleRule)
		}
	}
	if p.Title == "" {
		p.Title = p.Name
	}

	apiKeys := productAPIs(root, &p, c)
	p.Plans = map[string]Plan{}
	plans := get(root, "plans")
	switch {
	case isNull(plans) || isMap(plans) && len(entries(plans)) == 0:
		p.Plans["default"] = DefaultPlan()
	case !isMap(plans):
		c.add("/plans", "plans must be an object of plan name → plan, not a %s", kindName(plans))
	default:
		for _, e := range entries(plans) {
			if plan, ok := readPlan(e.key, deref(e.val), apiKeys, c); ok {
				p.Plans[e.key] = plan
			}
		}
	}
	return p, c.result(), nil
}

// productAPIs reads apis: {key: {name: "name:version"}} and returns the keys
// written (valid or not), which plans may refer to.
func productAPIs(root *yaml.Node, p *Product, c *collector) map[string]bool {
	const example = `apis: {weather: {name: "weather:1.0.0"}}`
	keys := map[string]bool{}
	p.APIs = map[string]string{}
	apis := get(root, "apis")
	switch {
	case isNull(apis) || isMap(apis) && len(entries(apis)) == 0:
		c.add("/apis", "the product must include at least one API, e.g. %s", example)
		return keys
	case !isMap(apis):
		c.add("/apis", "apis must be an object of key → {name: \"name:version\"}, e.g. %s", example)
		return keys
	}
	for _, e := range entries(apis) {
		keys[e.key] = true
		at := ptr("/apis").key(e.key)
		v := deref(e.val)
		if !isMap(v) {
			c.add(at, "each API must be an object naming it, e.g. %s: {name: \"%s:1.0.0\"}", e.key, e.key)
			continue
		}
		for _, f := range entries(v) {
			switch f.key {
			case "name":
			case "$ref":
				c.add(at.key(f.key), "Gatehouse refers to APIs by name, not by file: replace $ref with name: \"<x-ibm-name>:<version>\" of the imported API")
			default:
				c.add(at.key(f.key), "unknown field %q in an API of the product: an API entry has only name (\"name:version\")", f.key)
			}
		}
		n := get(v, "name")
		s, ok := str(n)
		if !ok {
			c.add(at.key("name"), "name is required: the API's \"name:version\", e.g. \"%s:1.0.0\"", e.key)
			continue
		}
		if msg := checkAPIRef(s); msg != "" {
			c.add(at.key("name"), "%s", msg)
			continue
		}
		p.APIs[e.key] = s
	}
	return keys
}

// checkAPIRef returns what is wrong with an API reference "name:version".
func checkAPIRef(s string) string {
	name, version, ok := strings.Cut(s, ":")
	switch {
	case !ok || name == "" || version == "" || strings.ContainsAny(s, " \t\r\n"):
		return fmt.Sprintf("the API reference %q must be \"name:version\" with no spaces, e.g. \"weather:1.0.0\"", s)
	case !validName(name):
		return fmt.Sprintf("the API name %q in %q is not a valid name: use %s", name, s, nameRule)
	case !validVersion(version):
		return fmt.Sprintf("the API version %q in %q is not a valid version: use %s", version, s, versionRule)
	}
	return ""
}

var planFields = []string{"title", "description", "approval", "rate-limit", "rate-limits", "apis"}

func readPlan(name string, body *yaml.Node, apiKeys map[string]bool, c *collector) (Plan, bool) {
	at := ptr("/plans").key(name)
	if !validIdent(name) {
		c.add(at, "the plan name %q is not valid: use %s", name, identRule)
	}
	if !isNull(body) && !isMap(body) {
		c.add(at, "the plan %q must be an object such as {title: Gold, rate-limit: {value: 100/1hour}}, not a %s", name, kindName(body))
		return Plan{}, false
	}
	unknownFields(body, at, planFields, "a plan", c)
	plan := Plan{Name: name}
	if plan.Title = optionalString(body, at, "title", c); !validTitle(plan.Title) {
		c.add(at.key("title"), titleRule)
	}
	if plan.Title == "" {
		plan.Title = name
	}
	plan.Description = optionalString(body, at, "description", c)
	if a := get(body, "approval"); !isNull(a) {
		b, ok := boolean(a)
		if !ok {
			c.add(at.key("approval"), "approval must be true or false")
		}
		plan.Approval = b
	}
	plan.Limits = readLimits(body, at, c)

	apis := get(body, "apis")
	switch {
	case isNull(apis):
	case !isMap(apis) || len(entries(apis)) == 0:
		c.add(at.key("apis"), "apis restricts the plan to some of the product's APIs: make it an object of API key → {operations: […]}, or remove it to include every API")
	default:
		plan.APIs = map[string]PlanAPI{}
		for _, e := range entries(apis) {
			aat := at.key("apis").key(e.key)
			if !apiKeys[e.key] {
				c.add(aat, "the plan refers to %q, which is not a key of the product's apis (%s)", e.key, strings.Join(sortedKeys(apiKeys), ", "))
				continue
			}
			if pa, ok := readPlanAPI(deref(e.val), aat, c); ok {
				plan.APIs[e.key] = pa
			}
		}
	}
	return plan, true
}

var operationFields = []string{"operation", "operationId", "path", "rate-limit", "rate-limits"}

func readPlanAPI(v *yaml.Node, at ptr, c *collector) (PlanAPI, bool) {
	if isNull(v) {
		return PlanAPI{}, true // every operation
	}
	if !isMap(v) {
		c.add(at, "an API of a plan must be an object such as {operations: [{operation: get, path: /items}]}, or empty for every operation; not a %s", kindName(v))
		return PlanAPI{}, false
	}
	unknownFields(v, at, []string{"operations"}, "an API of a plan", c)
	ops := get(v, "operations")
	if isNull(ops) {
		return PlanAPI{}, true
	}
	if !isSeq(ops) || len(items(ops)) == 0 {
		c.add(at.key("operations"), "operations must be a non-empty list such as [{operation: get, path: /items}]; remove it to include every operation")
		return PlanAPI{}, false
	}
	var pa PlanAPI
	seen := map[string]bool{}
	for i, o := range items(ops) {
		oat := at.key("operations").idx(i)
		op, ok := readPlanOperation(o, oat, c)
		if !ok {
			continue
		}
		key := op.Method + " " + op.Path + " " + op.OperationID
		if seen[key] {
			c.add(oat, "this operation is listed twice; keep one")
			continue
		}
		seen[key] = true
		pa.Operations = append(pa.Operations, op)
	}
	return pa, true
}

func readPlanOperation(o *yaml.Node, at ptr, c *collector) (PlanOperation, bool) {
	const example = "{operation: get, path: /items} or {operationId: getItems}"
	if !isMap(o) {
		c.add(at, "each operation must be an object such as %s", example)
		return PlanOperation{}, false
	}
	unknownFields(o, at, operationFields, "an operation", c)
	var op PlanOperation
	ok := true
	pathNode := get(o, "path")
	hasPath := !isNull(pathNode)
	if hasPath {
		s, isStr := str(pathNode)
		if msg := checkPathTemplate(s); !isStr || msg != "" {
			if !isStr {
				msg = "path must be a string such as /items/{id}, as declared in the API"
			}
			c.add(at.key("path"), "%s", msg)
			ok = false
		}
		op.Path = s
	}
	method, opID := get(o, "operation"), get(o, "operationId")
	switch {
	case !isNull(method) && !isNull(opID):
		c.add(at, "give operation (a method, with path) or operationId, not both")
		ok = false
	case !isNull(opID):
		s, isStr := str(opID)
		if !isStr || strings.TrimSpace(s) == "" || strings.ContainsAny(s, " \t\r\n") {
			c.add(at.key("operationId"), "operationId must be the operationId of an operation of the API, e.g. getItems")
			ok = false
		} else if hasPath {
			c.add(at.key("path"), "an operationId names one operation already: remove path, or use operation: <method> with it")
			ok = false
		}
		op.OperationID = s
	case !isNull(method):
		s, isStr := str(method)
		if !isStr {
			s, _ = scalarText(method)
		}
		if m := httpMethod(s); isStr && m != "" {
			op.Method = m
		} else if hasPath || !isStr || s == "" || strings.ContainsAny(s, " \t\r\n") {
			c.add(at.key("operation"), "operation %q is not an HTTP method: use one of %s with path (or give an operationId without path)", s, strings.Join(methods, ", "))
			ok = false
		} else {
			op.OperationID = s // API Connect also names operations by operationId here
		}
	default:
		c.add(at, "operation is required: %s", example)
		ok = false
	}
	op.Limits = readLimits(o, at, c)
	return op, ok
}

// readLimits reads the rate-limit or rate-limits of a plan or operation.
func readLimits(n *yaml.Node, at ptr, c *collector) []Limit {
	one, many := get(n, "rate-limit"), get(n, "rate-limits")
	if !isNull(one) && !isNull(many) {
		c.add(at.key("rate-limits"), "use either rate-limit (one limit) or rate-limits (several named limits), not both")
	}
	var out []Limit
	if !isNull(one) {
		if l, ok := readLimit(one, at.key("rate-limit"), "default", c); ok {
			out = append(out, l)
		}
	}
	if !isNull(many) {
		es := entries(many)
		switch {
		case !isMap(many) || len(es) == 0:
			c.add(at.key("rate-limits"), "rate-limits must be an object of limit name → {value, hard-limit}, e.g. {per-hour: {value: 100/1hour}}; remove it for no limit")
		default:
			for _, name := range sortedKeys(entryMap(es)) {
				lat := at.key("rate-limits").key(name)
				if !validIdent(name) {
					c.add(lat, "the limit name %q is not valid: use %s", name, identRule)
					continue
				}
				if l, ok := readLimit(get(many, name), lat, name, c); ok {
					out = append(out, l)
				}
			}
		}
	}
	return out
}

func entryMap(es []entry) map[string]*yaml.Node {
	m := make(map[string]*yaml.Node, len(es))
	for _, e := range es {
		m[e.key] = e.val
	}
	return m
}

func readLimit(n *yaml.Node, at ptr, name string, c *collector) (Limit, bool) {
	if !isMap(n) {
		c.add(at, "a rate limit must be an object such as {value: 100/1hour, hard-limit: true}, not a %s", kindName(n))
		return Limit{}, false
	}
	unknownFields(n, at, []string{"value", "hard-limit"}, "a rate limit", c)
	l := Limit{Name: name, Hard: true}
	ok := true
	v := get(n, "value")
	if s, isScalar := scalarText(v); !isScalar {
		c.add(at.key("value"), "value is required: a rate such as 100/1hour, 10/minute or unlimited")
		ok = false
	} else if r, err := ratelimit.ParseRate(s); err != nil {
		c.add(at.key("value"), "%s", err.Error())
		ok = false
	} else {
		l.Rate = r
	}
	if h := get(n, "hard-limit"); !isNull(h) {
		b, isBool := boolean(h)
		if !isBool {
			c.add(at.key("hard-limit"), "hard-limit must be true (calls over the limit are refused with 429) or false (they pass and are logged)")
			ok = false
		}
		l.Hard = b
	}
	return l, ok
}

// unknownFields reports keys of n other than allowed.
func unknownFields(n *yaml.Node, at ptr, allowed []string, what string, c *collector) {
	for _, e := range entries(n) {
		known := false
		for _, a := range allowed {
			known = known || e.key == a
		}
		if !known {
			c.add(at.key(e.key), "unknown field %q in %s: the fields are %s", e.key, what, strings.Join(allowed, ", "))
		}
	}
}

// requiredString reads a required string field checked by valid.
func requiredString(n *yaml.Node, at ptr, key, example string, valid func(string) bool, rule string, c *collector) string {
	v := get(n, key)
	s, isStr := str(v)
	field := strings.ReplaceAll(strings.TrimPrefix(string(at.key(key)), "/"), "/", ".")
	switch {
	case isNull(v):
		c.add(at.key(key), "%s is required, e.g. %s: %s", field, key, example)
	case !isStr:
		t, _ := scalarText(v)
		c.add(at.key(key), "%s must be a string, not a %s: quote it, e.g. %s: \"%s\"", field, kindName(v), key, t)
	case !valid(s):
		c.add(at.key(key), "%s %q is not valid: use %s, e.g. %s", field, s, rule, example)
	default:
		return s
	}
	return ""
}

// optionalString reads an optional string field ("" when absent).
func optionalString(n *yaml.Node, at ptr, key string, c *collector) string {
	v := get(n, key)
	if isNull(v) {
		return ""
	}
	s, ok := str(v)
	if !ok {
		// A title such as 2024 is still meant as text.
		if t, isScalar := scalarText(v); isScalar {
			return t
		}
		c.add(at.key(key), "%s must be a string, not a %s", key, kindName(v))
	}
	return strings.TrimSpace(s)
}
