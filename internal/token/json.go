package token

import (
	"bytes"
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// A strict RFC 8259 reader for JWS headers and claims.
//
// encoding/json is not used on the verification path because it accepts what a
// token verifier must not: duplicate member names (the last one wins, so
// {"alg":"ES256","alg":"none"} means different things to different parsers),
// member names matched case-insensitively ("ISS" fills Issuer), invalid UTF-8
// and lone surrogates (replaced silently); and it decodes by reflection, which
// allocates on every call of the hottest path. This reader rejects all of that,
// checks duplicates in nested objects too, and lets the caller pick the members
// it knows while validating and skipping the rest.

const maxJSONDepth = 32

var (
	errJSONSyntax    = errors.New("malformed JSON")
	errJSONNotObject = errors.New("not a JSON object")
	errJSONDuplicate = errors.New("duplicate member name")
	errJSONDepth     = errors.New("JSON nested too deeply")
	errJSONUTF8      = errors.New("invalid UTF-8 in JSON string")
	errJSONType      = errors.New("member has the wrong JSON type")
	errJSONRange     = errors.New("number is not an integer in range")
)

type jsonReader struct {
	b     []byte
	s     string // optional copy of b: strings without escapes are returned as substrings of it
	i     int
	depth int
}

func (p *jsonReader) skipSpace() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonReader) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// end checks that only whitespace follows the top-level value.
func (p *jsonReader) end() error {
	p.skipSpace()
	if p.i != len(p.b) {
		return errJSONSyntax
	}
	return nil
}

// object reads an object, calling member for each member with the reader
// positioned at the member's value; member must read the value. Duplicate
// names (compared after unescaping) are an error.
func (p *jsonReader) object(member func(name []byte) error) error {
	p.skipSpace()
	if p.peek() != '{' {
		return errJSONNotObject
	}
	p.i++
	if p.depth++; p.depth > maxJSONDepth {
		return errJSONDepth
	}
	var seen nameSet
	p.skipSpace()
	if p.peek() == '}' {
		p.i++
		p.depth--
		return nil
	}
	for {
		p.skipSpace()
		name, _, err := p.str()
		if err != nil {
			return err
		}
		if !seen.add(name) {
			return errJSONDuplicate
		}
		p.skipSpace()
		if p.peek() != ':' {
			return errJSONSyntax
		}
		p.i++
		p.skipSpace()
		if err := member(name); err != nil {
			return err
		}
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			p.depth--
			return nil
		default:
			return errJSONSyntax
		}
	}
}

func (p *jsonReader) array() error {
	p.i++ // '['
	if p.depth++; p.depth > maxJSONDepth {
		return errJSONDepth
	}
	p.skipSpace()
	if p.peek() == ']' {
		p.i++
		p.depth--
		return nil
	}
	for {
		if err := p.skip(); err != nil {
			return err
		}
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			p.depth--
			return nil
		default:
			return errJSONSyntax
		}
	}
}

// skip reads and validates any value.
func (p *jsonReader) skip() error {
	p.skipSpace()
	switch c := p.peek(); {
	case c == '{':
		return p.object(func([]byte) error { return p.skip() })
	case c == '[':
		return p.array()
	case c == '"':
		_, _, err := p.str()
		return err
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		_, _, err := p.number()
		return err
	}
	return errJSONSyntax
}

func (p *jsonReader) literal(lit string) error {
	if !bytes.HasPrefix(p.b[p.i:], []byte(lit)) {
		return errJSONSyntax
	}
	p.i += len(lit)
	return nil
}

// str reads a string and returns its unescaped bytes, which alias the input
// when it has no escapes, and the offset of its raw content.
func (p *jsonReader) str() (val []byte, start int, err error) {
	if p.peek() != '"' {
		return nil, 0, errJSONSyntax
	}
	p.i++
	start = p.i
	escaped := false
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			raw := p.b[start:p.i]
			p.i++
			if !utf8.Valid(raw) {
				return nil, 0, errJSONUTF8
			}
			if !escaped {
				return raw, start, nil
			}
			val, err = unescape(raw)
			return val, -1, err
		case c == '\\':
			escaped = true
			p.i += 2 // the escape itself is checked by unescape
		case c < 0x20:
			return nil, 0, errJSONSyntax
		default:
			p.i++
		}
	}
	return nil, 0, errJSONSyntax
}

// stringValue reads a member value that must be a string.
func (p *jsonReader) stringValue() (string, error) {
	if p.peek() != '"' {
		return "", errJSONType
	}
	v, start, err := p.str()
	if err != nil {
		return "", err
	}
	if start >= 0 && len(p.s) == len(p.b) {
		return p.s[start : start+len(v)], nil
	}
	return string(v), nil
}

// bytesValue reads a member value that must be a string, without copying it
// when it has no escapes.
func (p *jsonReader) bytesValue() ([]byte, error) {
	if p.peek() != '"' {
		return nil, errJSONType
	}
	v, _, err := p.str()
	return v, err
}

// intValue reads a member value that must be an integer of at most 18 digits
// (no fraction, no exponent).
func (p *jsonReader) intValue() (int64, error) {
	if c := p.peek(); c != '-' && (c < '0' || c > '9') {
		return 0, errJSONType
	}
	lit, integer, err := p.number()
	if err != nil {
		return 0, err
	}
	if !integer {
		return 0, errJSONRange
	}
	neg := lit[0] == '-'
	if neg {
		lit = lit[1:]
	}
	if len(lit) > 18 {
		return 0, errJSONRange
	}
	var n int64
	for _, c := range lit {
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

// number reads a number as RFC 8259 §6 defines it.
func (p *jsonReader) number() (lit []byte, integer bool, err error) {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	switch c := p.peek(); {
	case c == '0':
		p.i++
	case c >= '1' && c <= '9':
		p.digits()
	default:
		return nil, false, errJSONSyntax
	}
	integer = true
	if p.peek() == '.' {
		p.i++
		if p.digits() == 0 {
			return nil, false, errJSONSyntax
		}
		integer = false
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if p.digits() == 0 {
			return nil, false, errJSONSyntax
		}
		integer = false
	}
	return p.b[start:p.i], integer, nil
}

func (p *jsonReader) digits() int {
	n := 0
	for c := p.peek(); c >= '0' && c <= '9'; c = p.peek() {
		p.i++
		n++
	}
	return n
}

// unescape decodes the escapes of a string's raw content. Lone surrogates are
// an error rather than being replaced.
func unescape(raw []byte) ([]byte, error) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(raw) {
			return nil, errJSONSyntax
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			out = append(out, raw[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(raw[i+2:])
			if !ok {
				return nil, errJSONSyntax
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r >= 0xdc00 || i+1 >= len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
					return nil, errJSONUTF8
				}
				r2, ok := hex4(raw[i+2:])
				if !ok || r2 < 0xdc00 || r2 > 0xdfff {
					return nil, errJSONUTF8
				}
				r = utf16.DecodeRune(r, r2)
				i += 6
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return nil, errJSONSyntax
		}
		i += 2
	}
	return out, nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// nameSet records an object's member names: a linear scan for the usual few,
// a map beyond that so a header with thousands of members costs linear time.
type nameSet struct {
	small [16][]byte
	n     int
	big   map[string]struct{}
}

func (s *nameSet) add(name []byte) bool {
	if s.big == nil {
		for _, x := range s.small[:s.n] {
			if bytes.Equal(x, name) {
				return false
			}
		}
		if s.n < len(s.small) {
			s.small[s.n] = name
			s.n++
			return true
		}
		s.big = make(map[string]struct{}, 2*len(s.small))
		for _, x := range s.small {
			s.big[string(x)] = struct{}{}
		}
	}
	if _, dup := s.big[string(name)]; dup {
		return false
	}
	s.big[string(name)] = struct{}{}
	return true
}

// appendJSONString appends s as a JSON string. Like encoding/json it escapes
// <, >, & and U+2028/U+2029 and replaces invalid UTF-8 with U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
