package apidef

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	yaml4 "go.yaml.in/yaml/v4"
	"gopkg.in/yaml.v3"
)

// loadOpenAPI parses doc with kin-openapi — converting a 2.0 document to 3.0
// — and validates it. $refs outside the document are refused, never
// fetched: the loader's IsExternalRefsAllowed is false and it has no
// ReadFromURIFunc, and the JSON Schema compiler kin-openapi uses for 3.1 has
// no URL loader. T.Validate itself switches to OpenAPI 3.1 rules (JSON
// Schema 2020-12, webhooks, type arrays, …) when the document says
// openapi: 3.1.x, so no option is needed for 3.1; EnableMultiError makes it
// report every independent problem instead of the first.
//
// The returned document is nil when it could not be loaded; the problems
// then say why.
func loadOpenAPI(doc []byte, root *yaml.Node, v oasVersion) (*openapi3.T, []Problem) {
	m := &errorMapper{root: root, v: v}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	var t *openapi3.T
	if v == oas2 {
		var d2 openapi2.T
		if err := guard(func() error { return openapi2.UnmarshalFromData(doc, &d2) }); err != nil {
			return nil, m.loadProblems(err)
		}
		err := guard(func() (err error) {
			t, err = openapi2conv.ToV3WithLoader(&d2, loader, nil)
			return err
		})
		if err != nil {
			return nil, m.loadProblems(err)
		}
	} else {
		// Origins (line and column of each element) let validation errors
		// be located in the document as written.
		loader.IncludeOrigin = true
		err := guard(func() (err error) {
			t, err = loader.LoadFromData(doc)
			return err
		})
		if err != nil {
			return nil, m.loadProblems(err)
		}
	}
	err := guard(func() error { return t.Validate(context.Background(), openapi3.EnableMultiError()) })
	return t, m.validationProblems(err)
}

// guard turns a panic of the OpenAPI library on a hostile document into an
// error: ParseAPI reads untrusted input and must never crash the server.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the OpenAPI library failed on this document (%v); check it with an OpenAPI validator", r)
		}
	}()
	return f()
}

// errorMapper locates kin-openapi's errors in the document as written.
type errorMapper struct {
	root *yaml.Node
	v    oasVersion
	ix   map[[2]int]indexed // built on first use
}

func (m *errorMapper) prefix() string {
	if m.v == oas2 {
		return "OpenAPI 2.0 (checked as its 3.0 conversion): "
	}
	return "OpenAPI " + m.v.String() + ": "
}

// loadProblems maps an error of loading (decoding, converting, resolving
// $refs) the document.
func (m *errorMapper) loadProblems(err error) []Problem {
	var out []Problem
	// Decoding errors of the 3.x loader: one per field of the wrong type,
	// each located by the pointer kin-openapi appends (" in /info"), else by
	// its line and column.
	var lerrs *yaml4.LoadErrors
	if errors.As(err, &lerrs) {
		for _, e := range lerrs.Errors {
			msg := e.Message
			var p string
			if i := strings.LastIndex(msg, " in /"); i >= 0 {
				p, msg = msg[i+4:], msg[:i]
			} else {
				p, _ = m.at(e.Mark.Line, e.Mark.Column, "")
			}
			// "… into string field "version"" names the field under p.
			if f := quotedAfter(msg, `field "`); f != "" {
				p += "/" + escapePointer(f)
			}
			out = append(out, Problem{Pointer: p, Message: m.prefix() + msg + ": give it the type the specification requires (quote values meant as strings)"})
		}
		if len(out) > 0 {
			return out
		}
	}
	var ext *openapi3.DisallowedExternalRefError
	if errors.As(err, &ext) {
		return []Problem{{Pointer: m.refPointer(ext.Ref), Message: fmt.Sprintf("the $ref %q points outside this document; Gatehouse reads one self-contained document and never fetches others: inline the referenced definition under components (definitions in 2.0) and refer to it with #/…", ext.Ref)}}
	}
	msg := err.Error()
	p := ""
	if ref := m.refIn(msg); ref != "" {
		p = m.refPointer(ref)
		msg = fmt.Sprintf("%s: the $ref %q does not resolve; point it at a definition that exists in this document", msg, ref)
	} else if m.v == oas2 && strings.Contains(msg, "invalid host") {
		p = "/host"
	}
	return []Problem{{Pointer: p, Message: m.prefix() + msg}}
}

// quotedAfter returns the text between marker and the next '"' in s.
func quotedAfter(s, marker string) string {
	i := strings.Index(s, marker)
	if i < 0 {
		return ""
	}
	rest := s[i+len(marker):]
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return rest[:j]
}

// refs lists the $ref values of the document with their pointers, in
// document order.
func (m *errorMapper) refs() [][2]string {
	var out [][2]string
	seen := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node, p ptr)
	walk = func(n *yaml.Node, p ptr) {
		if n == nil || n.Kind == yaml.AliasNode || seen[n] {
			return
		}
		seen[n] = true
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Value == "$ref" && v.Kind == yaml.ScalarNode {
					out = append(out, [2]string{v.Value, string(p.key("$ref"))})
				}
				walk(v, p.key(k.Value))
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, p.idx(i))
			}
		}
	}
	walk(m.root, "")
	return out
}

// refPointer is the pointer of the first $ref with value ref, or "".
func (m *errorMapper) refPointer(ref string) string {
	for _, r := range m.refs() {
		if r[0] == ref {
			return r[1]
		}
	}
	return ""
}

// refIn returns the $ref value quoted in an error message, if any.
func (m *errorMapper) refIn(msg string) string {
	for _, r := range m.refs() {
		if r[0] != "" && strings.Contains(msg, strconv.Quote(r[0])) {
			return r[0]
		}
	}
	return ""
}

// validationProblems maps the (multi-)error of T.Validate.
func (m *errorMapper) validationProblems(err error) []Problem {
	if err == nil {
		return nil
	}
	if me, ok := err.(openapi3.MultiError); ok {
		var out []Problem
		for _, e := range me {
			out = append(out, m.validationProblems(e)...)
		}
		return out
	}
	return []Problem{m.locate(err)}
}

// scope is what an error chain says about where it happened.
type scope struct {
	section, path, method string
	component, name       string
	webhook, explicit     string
	parameter             string
	requiredField         string
	extraFields           []string
	origin                *openapi3.Origin
	message               string
}

// locate finds the pointer of one validation error: a pointer the error
// carries, else the source position of the element it concerns (3.x only;
// a 2.0 document's errors concern its 3.0 conversion), else its context
// (section, path, operation, component), translated to 2.0 names for a 2.0
// document.
func (m *errorMapper) locate(err error) Problem {
	var s scope
	for e := err; e != nil; e = errors.Unwrap(e) {
		wrapper := true // a context wrapper: where, not what
		switch x := e.(type) {
		case *openapi3.SectionValidationError:
			s.section = x.Section
		case *openapi3.PathValidationError:
			s.path = x.Path
		case *openapi3.OperationValidationError:
			s.method = x.Method
		case *openapi3.ComponentValidationError:
			s.component, s.name = x.Section, x.Name
		case *openapi3.WebhookValidationError:
			s.webhook = x.Name
		default:
			wrapper = false
		}
		switch x := e.(type) {
		case *openapi3.PathParametersError:
			s.path, s.method = x.Path, x.Method
		case *openapi3.SecurityRequirementSchemeUndefinedError:
			s.explicit = x.JSONPointer
		case *openapi3.RequiredFieldError:
			s.requiredField = x.Field
		case *openapi3.ExtraSiblingFieldsError:
			s.extraFields = x.Fields
		case *openapi3.ParameterFieldValidationError:
			s.parameter = x.ParameterName
		}
		if o := originOf(e); o != nil {
			s.origin = o
		}
		if !wrapper && s.message == "" {
			s.message = e.Error()
		}
		if _, ok := e.(openapi3.MultiError); ok {
			break // its parts have no single place; keep the outer context
		}
	}
	if s.message == "" {
		s.message = err.Error()
	}

	p, found := s.explicit, s.explicit != ""
	if !found && s.origin != nil && s.origin.Key != nil && m.v != oas2 {
		p, found = m.at(s.origin.Key.Line, s.origin.Key.Column, s.origin.Key.Name)
	}
	if !found {
		p = m.structural(s)
	}
	if f := s.requiredField; f != "" {
		last := f[strings.LastIndexByte(f, '.')+1:]
		if !strings.HasSuffix(p, "/"+escapePointer(last)) {
			p += "/" + escapePointer(last)
		}
	}
	if len(s.extraFields) == 1 {
		p += "/" + escapePointer(s.extraFields[0])
	}
	return Problem{Pointer: p, Message: m.prefix() + s.message}
}

var originType = reflect.TypeFor[*openapi3.Origin]()

// originOf returns the Origin field of a kin-openapi error, if it has one.
// Some thirty error types carry one; reading it by reflection keeps this
// working as kin-openapi adds more.
func originOf(e error) *openapi3.Origin {
	v := reflect.ValueOf(e)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("Origin")
	if !f.IsValid() || f.Type() != originType || f.IsNil() {
		return nil
	}
	return f.Interface().(*openapi3.Origin)
}

// structural builds a pointer from an error's context.
func (m *errorMapper) structural(s scope) string {
	v2 := m.v == oas2
	switch s.section {
	case "components":
		if s.component == "" {
			return "/components"
		}
		key := map[string]string{
			"schema": "schemas", "parameter": "parameters", "header": "headers",
			"request body": "requestBodies", "response": "responses",
			"security scheme": "securitySchemes", "example": "examples",
			"link": "links", "callback": "callbacks",
		}[s.component]
		if key == "" {
			return "/components"
		}
		if v2 {
			v2key := map[string]string{
				"schemas": "definitions", "parameters": "parameters", "requestBodies": "parameters",
				"responses": "responses", "securitySchemes": "securityDefinitions",
			}[key]
			if v2key == "" {
				return ""
			}
			return string(ptr("/" + v2key).key(s.name))
		}
		return string(ptr("/components/" + key).key(s.name))
	case "paths":
		p := ptr("/paths")
		if s.path != "" {
			p = p.key(s.path)
			if s.method != "" {
				p = p.key(strings.ToLower(s.method))
			}
		}
		return string(m.parameterPointer(p, s.parameter))
	case "info", "security", "tags":
		return "/" + s.section
	case "servers":
		if v2 {
			if get(m.root, "host") != nil {
				return "/host"
			}
			return "/basePath"
		}
		return "/servers"
	case "external docs":
		return "/externalDocs"
	case "webhooks":
		if s.webhook != "" {
			return string(ptr("/webhooks").key(s.webhook))
		}
		return "/webhooks"
	case "jsonSchemaDialect":
		return "/jsonSchemaDialect"
	}
	if s.path != "" {
		return string(ptr("/paths").key(s.path).key(strings.ToLower(s.method)))
	}
	return ""
}

// parameterPointer refines the pointer of an operation (or path item) to
// its parameter named name, if the document declares one there.
func (m *errorMapper) parameterPointer(at ptr, name string) ptr {
	if name == "" {
		return at
	}
	n := m.root
	for _, tok := range strings.Split(string(at), "/")[1:] {
		n = get(n, strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~"))
	}
	for i, p := range items(get(n, "parameters")) {
		if s, _ := str(get(p, "name")); s == name {
			return at.key("parameters").idx(i)
		}
	}
	return at
}

// indexed is what sits at a source position: the pointer of the element a
// kin-openapi Origin.Key at that position designates, and the key written
// there.
type indexed struct {
	pointer string
	key     string
}

// at returns the pointer of the element whose origin key is at line:col
// (with the key name, when known, as a check).
//
// kin-openapi's Origin.Key of a collection is the position of the key
// above it (components: → /components), or, for a collection that is an
// item of a list, the position of its first key (- name: q → the item).
func (m *errorMapper) at(line, col int, name string) (string, bool) {
	if m.ix == nil {
		m.ix = map[[2]int]indexed{}
		m.index(m.root, "")
	}
	e, ok := m.ix[[2]int{line, col}]
	if !ok || name != "" && e.key != name {
		return "", false
	}
	return e.pointer, true
}

func (m *errorMapper) index(n *yaml.Node, p ptr) {
	set := func(line, col int, p ptr, key string) {
		k := [2]int{line, col}
		if _, ok := m.ix[k]; !ok {
			m.ix[k] = indexed{pointer: string(p), key: key}
		}
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			vp := p.key(k.Value)
			if i == 0 && v.Kind == yaml.ScalarNode {
				set(k.Line, k.Column, p, k.Value) // a collection that starts with this key
			} else {
				set(k.Line, k.Column, vp, k.Value)
			}
			m.index(v, vp)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			ip := p.idx(i)
			if c.Kind == yaml.MappingNode && len(c.Content) > 0 {
				k := c.Content[0]
				set(k.Line, k.Column, ip, k.Value) // the item, not its first value
			}
			m.index(c, ip)
		}
	}
}
