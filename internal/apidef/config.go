package apidef

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Invoke timeouts (SPEC §8): the default, and the bounds a document may set.
const (
	DefaultTimeout = 60 * time.Second
	MinTimeout     = 1 * time.Second
	MaxTimeout     = 3600 * time.Second
)

// DefaultTargetURL is the backend template of an API whose assembly has no
// invoke or proxy policy.
const DefaultTargetURL = "$(target-url)"

const cfgPtr ptr = "/x-ibm-configuration"

// property is a property value with where it was written.
type property struct {
	value string
	at    ptr
}

// compileConfig reads x-ibm-configuration: properties, per-catalog
// overrides, and the backend (target URL and timeout) of the assembly.
func compileConfig(root *yaml.Node, a *API, c *collector) {
	cfg := get(root, "x-ibm-configuration")
	if !isNull(cfg) && !isMap(cfg) {
		c.add(cfgPtr, "x-ibm-configuration must be an object (with properties, catalogs and assembly), not a %s", kindName(cfg))
		cfg = nil
	}
	props := readProperties(get(cfg, "properties"), cfgPtr.key("properties"), c)
	a.Properties = values(props)

	catalogProps := map[string]map[string]property{}
	cats := get(cfg, "catalogs")
	if !isNull(cats) && !isMap(cats) {
		c.add(cfgPtr.key("catalogs"), "catalogs must be an object of catalog name → {properties: {…}}, not a %s", kindName(cats))
	}
	for _, e := range entries(cats) {
		at := cfgPtr.key("catalogs").key(e.key)
		cat := deref(e.val)
		if isNull(cat) {
			continue
		}
		if !isMap(cat) {
			c.add(at, "the catalog %q must be an object such as {properties: {target-url: http://…}}, not a %s", e.key, kindName(cat))
			continue
		}
		if p := readProperties(get(cat, "properties"), at.key("properties"), c); len(p) > 0 {
			catalogProps[e.key] = p
			if a.Catalogs == nil {
				a.Catalogs = map[string]map[string]string{}
			}
			a.Catalogs[e.key] = values(p)
		}
	}

	// Literal backend URLs must be usable as they are.
	checkLiteralURL(props["target-url"], c)
	for _, p := range catalogProps {
		checkLiteralURL(p["target-url"], c)
	}

	a.TargetURL, a.Timeout = DefaultTargetURL, DefaultTimeout
	tmplAt := cfgPtr.key("properties").key("target-url")
	if pol, ok := backendPolicy(get(cfg, "assembly"), cfgPtr.key("assembly"), c); ok {
		body := pol.body
		if u, ok := str(get(body, "target-url")); ok && strings.TrimSpace(u) != "" {
			a.TargetURL = strings.TrimSpace(u)
			tmplAt = pol.at.key("target-url")
			checkLiteralURL(property{value: a.TargetURL, at: tmplAt}, c)
		} else {
			c.add(pol.at, "the %s policy has no target-url: set target-url to the backend URL, e.g. $(target-url)$(request.path)$(request.search)", pol.name)
		}
		if t := get(body, "timeout"); t != nil {
			s, _ := scalarText(t)
			n, err := strconv.Atoi(s)
			if err != nil || n < int(MinTimeout/time.Second) || n > int(MaxTimeout/time.Second) {
				c.add(pol.at.key("timeout"), "timeout must be a whole number of seconds from %d to %d (the default is %d); got %q", int(MinTimeout/time.Second), int(MaxTimeout/time.Second), int(DefaultTimeout/time.Second), s)
			} else {
				a.Timeout = time.Duration(n) * time.Second
			}
		}
	}

	// Every $(name) of the backend template must be defined somewhere.
	defined := func(name string) bool {
		if props[name].value != "" {
			return true
		}
		for _, p := range catalogProps {
			if p[name].value != "" {
				return true
			}
		}
		return false
	}
	names, ok := templateNames(a.TargetURL)
	if !ok {
		c.add(tmplAt, "the backend URL %q has a $( without its closing ')'", a.TargetURL)
		return
	}
	for _, n := range names {
		switch {
		case n == "request.path" || n == "request.search" || defined(n):
		case n == "target-url" && a.TargetURL == DefaultTargetURL:
			c.add(tmplAt, "the API has no backend: set x-ibm-configuration.properties.target-url.value to the backend URL (e.g. http://backend:8080), or add an invoke policy with a target-url to x-ibm-configuration.assembly.execute")
		default:
			c.add(tmplAt, "the backend URL %q uses $(%s), which is not a property of this API: define x-ibm-configuration.properties.%s (or set it in every catalog), or use only $(request.path) and $(request.search)", a.TargetURL, n, n)
		}
	}
}

// readProperties reads {name: {value: v}} or {name: v}; a property without a
// value is "" (a catalog may set it).
func readProperties(n *yaml.Node, at ptr, c *collector) map[string]property {
	if isNull(n) {
		return nil
	}
	if !isMap(n) {
		c.add(at, "properties must be an object of name → {value: …}, not a %s", kindName(n))
		return nil
	}
	out := map[string]property{}
	for _, e := range entries(n) {
		pat := at.key(e.key)
		v := deref(e.val)
		switch {
		case isNull(v):
			out[e.key] = property{at: pat}
		case v.Kind == yaml.ScalarNode:
			out[e.key] = property{value: v.Value, at: pat}
		case v.Kind == yaml.MappingNode:
			val := get(v, "value")
			if isNull(val) {
				out[e.key] = property{at: pat}
			} else if s, ok := scalarText(val); ok {
				out[e.key] = property{value: s, at: pat.key("value")}
			} else {
				c.add(pat.key("value"), "the value of property %q must be a string, not a %s", e.key, kindName(val))
			}
		default:
			c.add(pat, "the property %q must be {value: …} or a string, not a %s", e.key, kindName(v))
		}
	}
	return out
}

func values(props map[string]property) map[string]string {
	if len(props) == 0 {
		return nil
	}
	out := make(map[string]string, len(props))
	for k, p := range props {
		out[k] = p.value
	}
	return out
}

// checkLiteralURL reports a backend URL without $(…) substitutions that is
// not an absolute http or https URL.
func checkLiteralURL(p property, c *collector) {
	if p.value == "" || strings.Contains(p.value, "$(") {
		return
	}
	u, err := url.Parse(p.value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.add(p.at, "the backend URL %q is not an absolute http or https URL, e.g. http://backend:8080/v1", p.value)
	}
}

// templateNames lists the names of the $(name) references in s; ok is false
// when a "$(" is not closed.
func templateNames(s string) (names []string, ok bool) {
	for {
		i := strings.Index(s, "$(")
		if i < 0 {
			return names, true
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return names, false
		}
		names = append(names, s[i+2:i+j])
		s = s[i+j+1:]
	}
}

// policy is an invoke or proxy step of the assembly.
type policy struct {
	name string // invoke or proxy
	body *yaml.Node
	at   ptr // of the policy's object, e.g. /x-ibm-configuration/assembly/execute/0/invoke
}

// backendPolicy returns the first invoke or proxy policy of assembly.execute.
// When the top level has none, the cases of switch and operation-switch
// policies are searched: they must then all call the same backend, because
// Gatehouse sends every operation of an API to one backend.
func backendPolicy(assembly *yaml.Node, at ptr, c *collector) (policy, bool) {
	if isNull(assembly) {
		return policy{}, false
	}
	if !isMap(assembly) {
		c.add(at, "assembly must be an object such as {execute: [{invoke: {target-url: …}}]}, not a %s", kindName(assembly))
		return policy{}, false
	}
	exec := get(assembly, "execute")
	if isNull(exec) {
		return policy{}, false
	}
	if !isSeq(exec) {
		c.add(at.key("execute"), "execute must be a list of policies such as [{invoke: {target-url: …}}], not a %s", kindName(exec))
		return policy{}, false
	}
	var top, nested []policy
	collectPolicies(exec, at.key("execute"), &top, &nested, false, c)
	if len(top) > 0 {
		return top[0], true
	}
	if len(nested) == 0 {
		return policy{}, false
	}
	first := nested[0]
	for _, p := range nested[1:] {
		if !sameBackend(first.body, p.body) {
			c.add(p.at, "the assembly's switch cases call different backends (%s and %s); Gatehouse sends every operation of an API to one backend: use one invoke outside the switch, with catalog properties where the URL differs", first.at, p.at)
			break
		}
	}
	return first, true
}

func collectPolicies(exec *yaml.Node, at ptr, top, nested *[]policy, inSwitch bool, c *collector) {
	for i, step := range items(exec) {
		sat := at.idx(i)
		es := entries(step)
		if len(es) != 1 {
			c.add(sat, "each step of execute must be an object with exactly one policy, e.g. {invoke: {target-url: …}}")
			continue
		}
		name, body := es[0].key, deref(es[0].val)
		pat := sat.key(name)
		switch name {
		case "invoke", "proxy":
			if !isMap(body) {
				c.add(pat, "the %s policy must be an object such as {target-url: …, timeout: 60}, not a %s", name, kindName(body))
				continue
			}
			p := policy{name: name, body: body, at: pat}
			if inSwitch {
				*nested = append(*nested, p)
			} else {
				*top = append(*top, p)
			}
		case "switch", "operation-switch":
			for j, cs := range items(get(body, "case")) {
				cat := pat.key("case").idx(j)
				collectPolicies(get(cs, "execute"), cat.key("execute"), top, nested, true, c)
				collectPolicies(get(cs, "otherwise"), cat.key("otherwise"), top, nested, true, c)
			}
			collectPolicies(get(body, "otherwise"), pat.key("otherwise"), top, nested, true, c)
		}
	}
}

func sameBackend(a, b *yaml.Node) bool {
	ua, _ := scalarText(get(a, "target-url"))
	ub, _ := scalarText(get(b, "target-url"))
	ta, _ := scalarText(get(a, "timeout"))
	tb, _ := scalarText(get(b, "timeout"))
	return ua == ub && ta == tb
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
