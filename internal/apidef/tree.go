package apidef

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Limits on a document (SPEC §4). They are checked on the raw bytes and on the
// parsed node tree before anything decodes the document into Go values, so a
// hostile document costs one bounded parse.
const (
	// MaxDocumentSize is the largest API or product document accepted.
	MaxDocumentSize = 5 << 20
	// MaxDepth is the deepest nesting of objects and arrays, counted with
	// YAML aliases expanded; the document's root object is depth 1.
	MaxDepth = 64
	// MaxPaths is the most paths an API document may declare.
	MaxPaths = 1000
	// maxAliasExpansion bounds how many nodes YAML aliases may add when the
	// document is expanded. Real documents use a few anchors; a "billion
	// laughs" document needs far more and is refused before anything
	// expands it.
	maxAliasExpansion = 1 << 20
)

// Errors returned for a document that cannot be read at all. Every other
// defect is reported as a Problem.
var (
	// ErrTooLarge: the document is larger than MaxDocumentSize.
	ErrTooLarge = errors.New("document is too large")
	// ErrUnreadable: the document is not one JSON or YAML object within the
	// limits, or (for an API) not a supported OpenAPI version.
	ErrUnreadable = errors.New("document cannot be read")
)

func unreadable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnreadable, fmt.Sprintf(format, args...))
}

// readTree parses doc into a node tree: JSON when its first non-space byte is
// '{', YAML otherwise. It enforces the size, depth and alias limits and
// returns the root mapping.
func readTree(doc []byte) (*yaml.Node, error) {
	if len(doc) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d bytes (5 MiB)", ErrTooLarge, len(doc), MaxDocumentSize)
	}
	body := bytes.TrimPrefix(doc, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	if !utf8.Valid(body) {
		// encoding/json would read bad bytes as U+FFFD and keep going.
		return nil, unreadable("the document is not valid UTF-8")
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, unreadable("the document is empty")
	}
	var (
		root *yaml.Node
		err  error
	)
	if trimmed[0] == '{' {
		root, err = parseJSON(body)
	} else {
		root, err = parseYAML(body)
	}
	if err != nil {
		return nil, err
	}
	if root.Kind != yaml.MappingNode {
		return nil, unreadable("the document must be a JSON or YAML object (a mapping of keys to values), not a %s", kindName(root))
	}
	if err := checkShape(root); err != nil {
		return nil, err
	}
	return root, nil
}

func parseYAML(doc []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, unreadable("the document is empty")
		}
		return nil, unreadable("not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, unreadable("the document holds more than one YAML document; send one")
	}
	if n.Kind != yaml.DocumentNode || len(n.Content) != 1 {
		return nil, unreadable("the document is empty")
	}
	return n.Content[0], nil
}

// parseJSON builds a yaml.Node tree from JSON tokens, so the rest of the
// package reads one tree type. Positions are 1-based lines and columns in
// characters, as the YAML parser reports them (kin-openapi parses JSON with a
// YAML parser, and its error positions are mapped back through them). The
// nesting limit is enforced while reading, without recursion.
func parseJSON(doc []byte) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	lines := lineStarts(doc)
	type frame struct {
		n      *yaml.Node
		object bool
		key    bool // an object expects a key next
	}
	var (
		stack []frame
		root  *yaml.Node
	)
	for {
		start := skipJSONSpace(doc, int(dec.InputOffset()))
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if root == nil || len(stack) > 0 {
				return nil, unreadable("not valid JSON: unexpected end of input")
			}
			return root, nil
		}
		if err != nil {
			return nil, unreadable("not valid JSON: %s", jsonErrorText(err, doc, lines))
		}
		if root != nil && len(stack) == 0 {
			return nil, unreadable("not valid JSON: data after the top-level value at %s", posText(doc, lines, start))
		}
		line, col := position(doc, lines, start)
		var n *yaml.Node
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) >= MaxDepth {
					return nil, unreadable("nesting deeper than %d levels at %s", MaxDepth, posText(doc, lines, start))
				}
				kind := yaml.SequenceNode
				tag := "!!seq"
				if t == '{' {
					kind, tag = yaml.MappingNode, "!!map"
				}
				n = &yaml.Node{Kind: kind, Tag: tag, Style: yaml.FlowStyle, Line: line, Column: col}
			default: // '}' or ']'
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].key = true
				}
				continue
			}
		case string:
			n = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t, Style: yaml.DoubleQuotedStyle, Line: line, Column: col}
		case json.Number:
			tag := "!!int"
			if strings.ContainsAny(string(t), ".eE") {
				tag = "!!float"
			}
			n = &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(t), Line: line, Column: col}
		case bool:
			n = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(t), Line: line, Column: col}
		case nil:
			n = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null", Line: line, Column: col}
		}
		if len(stack) == 0 {
			root = n
		} else {
			top := &stack[len(stack)-1]
			top.n.Content = append(top.n.Content, n)
			if top.object {
				top.key = !top.key
			}
		}
		if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
			stack = append(stack, frame{n: n, object: n.Kind == yaml.MappingNode, key: true})
		}
	}
}

func skipJSONSpace(doc []byte, i int) int {
	for i < len(doc) && strings.IndexByte(" \t\r\n,:", doc[i]) >= 0 {
		i++
	}
	return i
}

func lineStarts(doc []byte) []int {
	starts := []int{0}
	for i, b := range doc {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// position turns a byte offset into a 1-based line and character column.
func position(doc []byte, lines []int, off int) (int, int) {
	off = min(max(off, 0), len(doc))
	i := sort.Search(len(lines), func(i int) bool { return lines[i] > off }) - 1
	return i + 1, utf8.RuneCount(doc[lines[i]:off]) + 1
}

func posText(doc []byte, lines []int, off int) string {
	l, c := position(doc, lines, off)
	return fmt.Sprintf("line %d, column %d", l, c)
}

func jsonErrorText(err error, doc []byte, lines []int) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at %s", se.Error(), posText(doc, lines, int(se.Offset)-1))
	}
	return err.Error()
}

func kindName(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "object"
	case yaml.AliasNode:
		return "alias"
	}
	switch n.ShortTag() {
	case "!!str":
		return "string"
	case "!!int", "!!float":
		return "number"
	case "!!bool":
		return "boolean"
	case "!!null":
		return "null"
	}
	return "scalar"
}

// checkShape refuses trees nested deeper than MaxDepth or whose aliases would
// expand beyond maxAliasExpansion nodes, and alias cycles. It measures each
// node once (aliases share their target's measure), so it is linear in the
// size of the tree however much the aliases would expand, and it never
// recurses deeper than MaxDepth.
func checkShape(root *yaml.Node) error {
	type measure struct{ height, size int }
	memo := map[*yaml.Node]measure{}
	active := map[*yaml.Node]bool{}
	plain := 0
	var walk func(n *yaml.Node, depth int) (measure, error)
	walk = func(n *yaml.Node, depth int) (measure, error) {
		// Only anchored nodes can be reached twice (through aliases), so
		// only they are remembered, and only they can close a cycle.
		anchored := n.Anchor != ""
		if anchored {
			if m, ok := memo[n]; ok {
				if depth+m.height-1 > MaxDepth {
					return m, unreadable("nesting deeper than %d levels (line %d)", MaxDepth, n.Line)
				}
				return m, nil
			}
			if active[n] {
				return measure{}, unreadable("the YAML alias at line %d refers to a node that contains it", n.Line)
			}
			active[n] = true
			defer delete(active, n)
		}
		var m measure
		switch n.Kind {
		case yaml.AliasNode:
			if n.Alias == nil {
				return m, unreadable("unknown YAML alias at line %d", n.Line)
			}
			plain++
			t, err := walk(n.Alias, depth)
			if err != nil {
				return m, err
			}
			m = t
		case yaml.MappingNode, yaml.SequenceNode:
			if depth > MaxDepth {
				return m, unreadable("nesting deeper than %d levels (line %d)", MaxDepth, n.Line)
			}
			plain++
			m.size = 1
			for _, c := range n.Content {
				cm, err := walk(c, depth+1)
				if err != nil {
					return m, err
				}
				m.height = max(m.height, cm.height)
				m.size += cm.size
				if m.size > MaxDocumentSize+maxAliasExpansion {
					return m, unreadable("YAML aliases expand to more than %d nodes", maxAliasExpansion)
				}
			}
			m.height++
		default:
			if strings.ContainsRune(n.Value, 0) {
				return m, unreadable("a NUL character in a string (line %d)", n.Line)
			}
			plain++
			m.size = 1
		}
		if anchored {
			memo[n] = m
		}
		return m, nil
	}
	m, err := walk(root, 1)
	if err != nil {
		return err
	}
	if m.size-plain > maxAliasExpansion {
		return unreadable("YAML aliases expand to more than %d nodes", maxAliasExpansion)
	}
	return nil
}

// deref follows an alias to its target (checkShape has refused cycles).
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// entry is one key of a mapping with its value.
type entry struct {
	key   string
	kNode *yaml.Node
	val   *yaml.Node
}

// entries lists the keys of mapping n in document order, with YAML merge
// keys ("<<: *base") expanded; a key written in n wins over a merged one.
// A non-mapping yields nothing.
func entries(n *yaml.Node) []entry {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var own, merged []entry
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			src := deref(v)
			var srcs []*yaml.Node
			if src != nil && src.Kind == yaml.SequenceNode {
				srcs = src.Content
			} else {
				srcs = []*yaml.Node{src}
			}
			for _, s := range srcs {
				merged = append(merged, entries(s)...)
			}
			continue
		}
		own = append(own, entry{key: k.Value, kNode: k, val: v})
		seen[k.Value] = true
	}
	for _, e := range merged {
		if !seen[e.key] {
			seen[e.key] = true
			own = append(own, e)
		}
	}
	return own
}

// get returns the value of key in mapping n, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	for _, e := range entries(n) {
		if e.key == key {
			return deref(e.val)
		}
	}
	return nil
}

// items returns the elements of sequence n (nil for anything else).
func items(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out
}

func isMap(n *yaml.Node) bool { n = deref(n); return n != nil && n.Kind == yaml.MappingNode }
func isSeq(n *yaml.Node) bool { n = deref(n); return n != nil && n.Kind == yaml.SequenceNode }

// isNull reports whether n is absent or an explicit null ("key:" in YAML).
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// str returns a string scalar's value; ok is false for anything else.
func str(n *yaml.Node) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return "", false
	}
	return n.Value, true
}

// scalarText returns the text of any non-null scalar (a number or boolean as
// written); ok is false for collections and null.
func scalarText(n *yaml.Node) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return "", false
	}
	return n.Value, true
}

// boolean returns a boolean scalar's value.
func boolean(n *yaml.Node) (bool, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return false, false
	}
	b, err := strconv.ParseBool(strings.ToLower(n.Value))
	return b, err == nil
}

// ptr is an RFC 6901 JSON pointer being built.
type ptr string

func (p ptr) key(k string) ptr { return p + "/" + ptr(escapePointer(k)) }
func (p ptr) idx(i int) ptr    { return p + "/" + ptr(strconv.Itoa(i)) }

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// collector gathers problems.
type collector struct{ list []Problem }

func (c *collector) add(p ptr, format string, args ...any) {
	c.list = append(c.list, Problem{Pointer: string(p), Message: fmt.Sprintf(format, args...)})
}

// result returns the problems sorted by pointer (stable, so problems at one
// pointer keep the order they were found in), without exact repeats.
func (c *collector) result() []Problem {
	if len(c.list) == 0 {
		return nil
	}
	sort.SliceStable(c.list, func(i, j int) bool { return c.list[i].Pointer < c.list[j].Pointer })
	seen := map[Problem]bool{}
	out := make([]Problem, 0, len(c.list))
	for _, p := range c.list {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// checkDuplicateKeys reports keys written twice in one mapping. JSON parsers
// disagree about them (first or last wins) and YAML forbids them, so they
// are refused rather than guessed at.
func checkDuplicateKeys(root *yaml.Node, c *collector) {
	seen := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node, p ptr)
	walk = func(n *yaml.Node, p ptr) {
		if n == nil || n.Kind == yaml.AliasNode || seen[n] {
			return
		}
		seen[n] = true
		switch n.Kind {
		case yaml.MappingNode:
			keys := map[string]bool{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if k.ShortTag() == "!!merge" {
					continue
				}
				if keys[k.Value] {
					c.add(p.key(k.Value), "the key %q appears twice in this object (line %d); keep one", k.Value, k.Line)
				}
				keys[k.Value] = true
				walk(n.Content[i+1], p.key(k.Value))
			}
		case yaml.SequenceNode:
			for i, v := range n.Content {
				walk(v, p.idx(i))
			}
		}
	}
	walk(root, "")
}
