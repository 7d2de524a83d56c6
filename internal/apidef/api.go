package apidef

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

// oasVersion is the OpenAPI version family of a document.
type oasVersion int

const (
	oas2 oasVersion = iota + 2
	oas30
	oas31
)

func (v oasVersion) String() string {
	switch v {
	case oas2:
		return "2.0"
	case oas30:
		return "3.0"
	}
	return "3.1"
}

// ParseAPI compiles an API document: OpenAPI 2.0 (swagger: "2.0"), 3.0.x or
// 3.1.x, in JSON (when its first non-space byte is '{') or YAML, with API
// Connect's x-ibm-configuration.
//
// The error is for a document that cannot be read at all: ErrTooLarge beyond
// MaxDocumentSize, and ErrUnreadable for one that is not a single JSON or
// YAML object, nests deeper than MaxDepth, expands YAML aliases without
// bound, or has no supported openapi/swagger version. Anything else wrong is
// a Problem located by a JSON pointer into the document as written (for a
// 2.0 document, into its 2.0 structure); every problem found is reported,
// sorted by pointer. The API is returned as far as it could be compiled;
// store it only when there are no problems.
//
// The document is parsed and validated with kin-openapi (2.0 documents are
// converted to 3.0 first; external $refs are never fetched). What Gatehouse
// needs beyond OpenAPI is checked here:
//   - Name is info.x-ibm-name, else the slug of info.title; Version is
//     info.version.
//   - BasePath is basePath (2.0) or the path of servers[0].url (3.x, with
//     server variables replaced by their defaults), normalized.
//   - Properties and Catalogs come from x-ibm-configuration; TargetURL and
//     Timeout from the first invoke or proxy policy of the assembly (see
//     compileConfig). Every $(name) in TargetURL must be a property.
//   - Security comes from the document-level security requirements; only
//     the client-id/secret apiKey schemes of SPEC §8 are supported, and an
//     operation may not declare security of its own that differs (Gatehouse
//     applies one security to the whole API).
//   - Operations are every path × method (sorted by path, then GET, PUT,
//     POST, DELETE, OPTIONS, HEAD, PATCH, TRACE); templates must be well
//     formed, operationIds unique, and there must be at least one.
func ParseAPI(doc []byte) (API, []Problem, error) {
	root, err := readTree(doc)
	if err != nil {
		return API{}, nil, err
	}
	ver, loadable, err := documentVersion(root)
	if err != nil {
		return API{}, nil, err
	}
	c := &collector{}
	checkDuplicateKeys(root, c)
	if !loadable {
		c.add(versionPointer(ver), "the version must be a string: quote it, e.g. %s", map[oasVersion]string{oas2: `swagger: "2.0"`, oas30: `openapi: "3.0.3"`, oas31: `openapi: "3.1.0"`}[ver])
	}

	var a API
	compileInfo(root, &a, c)
	compileBasePath(root, ver, &a, c)
	compileConfig(root, &a, c)
	if paths := get(root, "paths"); len(entries(paths)) > MaxPaths {
		c.add("/paths", "the API declares %d paths; the limit is %d: split it into several APIs", len(entries(paths)), MaxPaths)
	}

	var kinProblems []Problem
	if loadable {
		var t *openapi3.T
		t, kinProblems = loadOpenAPI(doc, root, ver)
		if t != nil {
			compileSecurity(t, ver, &a, c)
			compileOperations(t, &a, c)
		}
	}

	// kin-openapi's findings, except where a check of this package already
	// reported (with a message about Gatehouse's needs) at the same place.
	own := map[string]bool{}
	for _, p := range c.list {
		own[p.Pointer] = true
	}
	for _, p := range kinProblems {
		if !own[p.Pointer] {
			c.list = append(c.list, p)
		}
	}
	return a, c.result(), nil
}

var (
	oas30RE = regexp.MustCompile(`^3\.0(\.\d+)?$`)
	oas31RE = regexp.MustCompile(`^3\.1(\.\d+)?$`)
)

// documentVersion reads swagger or openapi. loadable is false when the
// version is written as a number (openapi: 3.0, swagger: 2.0), which the
// OpenAPI decoders refuse: that is a problem, not an unreadable document.
func documentVersion(root *yaml.Node) (v oasVersion, loadable bool, err error) {
	sw, oa := get(root, "swagger"), get(root, "openapi")
	const supported = `Gatehouse reads swagger: "2.0", openapi: 3.0.x and openapi: 3.1.x`
	switch {
	case sw != nil && oa != nil:
		return 0, false, unreadable("the document has both swagger and openapi fields; keep the one that matches it")
	case sw != nil:
		s, _ := scalarText(sw)
		if s != "2.0" {
			return 0, false, unreadable("unsupported swagger version %q; %s", s, supported)
		}
		_, isStr := str(sw)
		return oas2, isStr, nil
	case oa != nil:
		s, _ := scalarText(oa)
		// kin-openapi knows the published patch releases; an unknown one
		// would be validated under the wrong rules.
		known := (&openapi3.T{OpenAPI: s}).OpenAPIMajorMinor()
		switch {
		case oas30RE.MatchString(s) && known == "3.0":
			v = oas30
		case oas31RE.MatchString(s) && known == "3.1":
			v = oas31
		default:
			return 0, false, unreadable("unsupported openapi version %q; %s", s, supported)
		}
		_, isStr := str(oa)
		return v, isStr, nil
	}
	return 0, false, unreadable("the document has no openapi or swagger field, so it is not an OpenAPI document; %s (a product document starts with product: 1.0.0)", supported)
}

func versionPointer(v oasVersion) ptr {
	if v == oas2 {
		return "/swagger"
	}
	return "/openapi"
}

func compileInfo(root *yaml.Node, a *API, c *collector) {
	info := get(root, "info")
	if !isMap(info) {
		c.add("/info", "info is required: an object with title and version (and optionally x-ibm-name), e.g. info: {title: Weather, version: 1.0.0}")
		return
	}
	title, hasTitle := str(get(info, "title"))
	title = strings.TrimSpace(title)
	if n := get(info, "x-ibm-name"); n != nil {
		if s, ok := str(n); ok && validName(s) {
			a.Name = s
		} else {
			t, _ := scalarText(n)
			c.add("/info/x-ibm-name", "x-ibm-name %q is not a valid name: use %s, e.g. weather", t, nameRule)
		}
	} else if slug := slugify(title); hasTitle && validName(slug) {
		a.Name = slug
	} else {
		c.add("/info/x-ibm-name", "the API needs a name: set info.x-ibm-name (%s), or an info.title with letters or digits to derive it from", nameRule)
	}
	if !validTitle(title) {
		c.add("/info/title", titleRule)
	}
	a.Title = title
	if a.Title == "" {
		a.Title = a.Name
	}

	v := get(info, "version")
	s, isStr := str(v)
	switch {
	case isNull(v):
		c.add("/info/version", "info.version is required: set it to the API's version, e.g. 1.0.0")
	case !isStr:
		t, _ := scalarText(v)
		c.add("/info/version", "info.version must be a string, not a %s: quote it, e.g. version: \"%s\"", kindName(v), t)
	case !validVersion(s):
		c.add("/info/version", "info.version %q is not a valid version: use %s, e.g. 1.0.0", s, versionRule)
	default:
		a.Version = s
	}
}

// compileBasePath sets BasePath from basePath (2.0) or servers[0].url (3.x).
func compileBasePath(root *yaml.Node, v oasVersion, a *API, c *collector) {
	var raw string
	var at ptr
	if v == oas2 {
		at = "/basePath"
		bp := get(root, "basePath")
		if isNull(bp) {
			return
		}
		s, ok := str(bp)
		if !ok {
			c.add(at, "basePath must be a string such as /weather, not a %s", kindName(bp))
			return
		}
		if !strings.HasPrefix(s, "/") {
			c.add(at, "basePath %q must start with '/', e.g. /%s", s, s)
			return
		}
		raw = s
	} else {
		servers := get(root, "servers")
		if isNull(servers) {
			return
		}
		list := items(servers)
		if !isSeq(servers) || len(list) == 0 {
			if !isSeq(servers) {
				c.add("/servers", "servers must be a list such as [{url: /weather}], not a %s", kindName(servers))
			}
			return
		}
		at = "/servers/0/url"
		u, ok := str(get(list[0], "url"))
		if !ok {
			c.add(at, "servers[0].url is required and must be a string such as https://api.example.com/weather or /weather")
			return
		}
		var bad string
		raw, bad = expandServerURL(u, get(list[0], "variables"))
		if bad != "" {
			c.add(at, "the server URL %q uses the variable {%s}, which has no default under servers[0].variables: declare it with a default, or write the URL without it", u, bad)
			return
		}
		raw = urlPath(raw)
	}
	bp, msg := normalizeBasePath(raw)
	if msg != "" {
		c.add(at, "%s", msg)
		return
	}
	a.BasePath = bp
}

// expandServerURL replaces each {name} of a server URL with the default of
// its variable; bad names a variable without one.
func expandServerURL(u string, vars *yaml.Node) (string, string) {
	var b strings.Builder
	for {
		i := strings.IndexByte(u, '{')
		if i < 0 {
			b.WriteString(u)
			return b.String(), ""
		}
		j := strings.IndexByte(u[i:], '}')
		if j < 0 {
			return "", u[i+1:]
		}
		name := u[i+1 : i+j]
		def, ok := scalarText(get(get(vars, name), "default"))
		if !ok {
			return "", name
		}
		b.WriteString(u[:i])
		b.WriteString(def)
		u = u[i+j+1:]
	}
}

// urlPath returns the path of an absolute, scheme-relative or relative URL,
// without query or fragment. It is written by hand rather than with url.Parse
// because V5 server URLs often hold API Connect variables such as
// https://$(catalog.host)/weather, which are not valid hosts.
func urlPath(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	rest, hasHost := "", false
	if i := strings.Index(u, "://"); i >= 0 {
		rest, hasHost = u[i+3:], true
	} else if strings.HasPrefix(u, "//") {
		rest, hasHost = u[2:], true
	}
	if !hasHost {
		return u
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return ""
}

// normalizeBasePath gives a base path a leading '/' and no trailing '/' ("/"
// is the root, ""), and returns what is wrong with it, if anything.
func normalizeBasePath(p string) (string, string) {
	p = "/" + strings.Trim(p, "/")
	if p == "/" {
		return "", ""
	}
	for _, r := range p {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("{}?#", r) {
			return "", fmt.Sprintf("the base path %q contains a space, brace, '?' or '#'; use a plain path such as /weather", p)
		}
	}
	if strings.Contains(p, "$(") {
		return "", fmt.Sprintf("the base path %q uses an API Connect variable; Gatehouse needs a fixed base path such as /weather", p)
	}
	for _, s := range strings.Split(p[1:], "/") {
		if s == "" || s == "." || s == ".." {
			return "", fmt.Sprintf("the base path %q has an empty, '.' or '..' segment; use a plain path such as /weather", p)
		}
	}
	return p, ""
}

// schemesPointer is where security schemes are declared.
func schemesPointer(v oasVersion) ptr {
	if v == oas2 {
		return "/securityDefinitions"
	}
	return "/components/securitySchemes"
}

const supportedSchemes = "Gatehouse identifies apps by an apiKey scheme named X-IBM-Client-Id in a header or client_id in the query, optionally with X-IBM-Client-Secret (header) or client_secret (query)"

// compileSecurity resolves the document-level security requirements.
// Requirements are alternatives; Gatehouse supports one way to identify an
// app, so at most one non-empty requirement is allowed.
func compileSecurity(t *openapi3.T, v oasVersion, a *API, c *collector) {
	var schemes openapi3.SecuritySchemes
	if t.Components != nil {
		schemes = t.Components.SecuritySchemes
	}
	var chosen *Security
	empty := -1
	for i, req := range t.Security {
		if len(req) == 0 {
			empty = i
			continue
		}
		s := resolveRequirement(req, ptr("/security").idx(i), schemes, v, c)
		if chosen == nil {
			chosen = &s
		} else if !sameSecurity(*chosen, s) {
			c.add(ptr("/security").idx(i), "the API offers more than one security requirement; %s: keep a single requirement", supportedSchemes)
		}
	}
	if chosen != nil && empty >= 0 {
		c.add(ptr("/security").idx(empty), "an empty security requirement next to others makes identifying the app optional, which Gatehouse does not support: remove it to require a client id, or remove the others to make the API public")
	}
	if chosen != nil {
		a.Security = *chosen
	}

	// Operations inherit the document's security; one that declares other
	// security would be served with the document's, so it is refused.
	if t.Paths == nil {
		return
	}
	for _, path := range sortedKeys(t.Paths.Map()) {
		item := t.Paths.Value(path)
		if item == nil {
			continue
		}
		for _, m := range methods {
			op := item.GetOperation(m)
			if op == nil || op.Security == nil || sameRequirements(*op.Security, t.Security) {
				continue
			}
			c.add(ptr("/paths").key(path).key(strings.ToLower(m)).key("security"), "operation-level security is not supported: Gatehouse applies the document's security to every operation; remove this security, or make it the same as the document's")
		}
	}
}

func resolveRequirement(req openapi3.SecurityRequirement, at ptr, schemes openapi3.SecuritySchemes, v oasVersion, c *collector) Security {
	var s Security
	for _, name := range sortedKeys(req) {
		ref := schemes[name]
		if ref == nil || ref.Value == nil {
			c.add(at.key(name), "the security requirement names %q, which is not declared in %s: declare it, or remove it from the requirement", name, strings.TrimPrefix(strings.ReplaceAll(string(schemesPointer(v)), "/", "."), "."))
			continue
		}
		sc := ref.Value
		at := schemesPointer(v).key(name)
		var role string
		if sc.Type == "apiKey" {
			switch {
			case sc.In == "header" && strings.EqualFold(sc.Name, "X-IBM-Client-Id"), sc.In == "query" && sc.Name == "client_id":
				role = "id"
			case sc.In == "header" && strings.EqualFold(sc.Name, "X-IBM-Client-Secret"), sc.In == "query" && sc.Name == "client_secret":
				role = "secret"
			}
		}
		if role == "" {
			c.add(at, "the security scheme %q (%s) is not supported: %s", name, describeScheme(sc), supportedSchemes)
			continue
		}
		p := &Param{In: sc.In, Name: sc.Name}
		dst := &s.ClientID
		if role == "secret" {
			dst = &s.ClientSecret
		}
		if *dst != nil {
			c.add(at, "the security requirement asks for the client %s twice (%s and %s in the %s); keep one", role, (*dst).Name, p.Name, p.In)
			continue
		}
		*dst = p
	}
	if s.ClientSecret != nil && s.ClientID == nil {
		c.add(at, "the security requirement asks for a client secret without a client id: add the X-IBM-Client-Id (header) or client_id (query) apiKey scheme to it")
	}
	return s
}

func describeScheme(s *openapi3.SecurityScheme) string {
	switch s.Type {
	case "apiKey":
		return fmt.Sprintf("apiKey %q in the %s", s.Name, s.In)
	case "http":
		return "http " + s.Scheme
	case "":
		return "no type"
	}
	return s.Type
}

func sameSecurity(a, b Security) bool {
	eq := func(x, y *Param) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return eq(a.ClientID, b.ClientID) && eq(a.ClientSecret, b.ClientSecret)
}

// sameRequirements compares requirement lists by the scheme names of each
// requirement, ignoring order and scopes.
func sameRequirements(a, b openapi3.SecurityRequirements) bool {
	norm := func(rs openapi3.SecurityRequirements) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = strings.Join(sortedKeys(r), "\x00")
		}
		sort.Strings(out)
		return out
	}
	x, y := norm(a), norm(b)
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// compileOperations lists every path × method.
func compileOperations(t *openapi3.T, a *API, c *collector) {
	var paths []string
	if t.Paths != nil {
		paths = sortedKeys(t.Paths.Map())
	}
	shapes := map[string]string{}
	opIDs := map[string]string{}
	a.Operations = nil
	for _, path := range paths {
		at := ptr("/paths").key(path)
		if msg := checkPathTemplate(path); msg != "" {
			c.add(at, "%s", msg)
		} else if other, ok := shapes[routeShape(path)]; ok {
			c.add(at, "the path %q matches the same requests as %q; merge them into one path", path, other)
		} else {
			shapes[routeShape(path)] = path
		}
		item := t.Paths.Value(path)
		if item == nil {
			continue
		}
		for _, m := range methods {
			op := item.GetOperation(m)
			if op == nil {
				continue
			}
			if id := op.OperationID; id != "" {
				if prev, dup := opIDs[id]; dup {
					c.add(at.key(strings.ToLower(m)).key("operationId"), "the operationId %q is already used by %s; operationIds must be unique", id, prev)
				} else {
					opIDs[id] = m + " " + path
				}
			}
			a.Operations = append(a.Operations, Operation{Method: m, Path: path, OperationID: op.OperationID})
		}
	}
	if len(a.Operations) == 0 {
		c.add("/paths", "the API declares no operations; add at least one path with a method, e.g. paths: {/items: {get: {responses: {'200': {description: OK}}}}}")
	}
}
