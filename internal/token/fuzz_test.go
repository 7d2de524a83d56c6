package token_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"gatehouse/internal/token"
)

// FuzzClaims reaches what FuzzVerify cannot: the checks after a valid
// signature. Fuzzed members are appended to the header and to valid claims,
// the result is signed with the keyring's own key, and the strict JSON reader
// of the verification path is held against encoding/json:
//   - whatever it accepts is valid UTF-8 JSON without a duplicate member
//     name at any depth, and the claims read are the ones encoding/json reads
//     (member names compared exactly);
//   - it never calls JSON malformed that encoding/json finds valid.
//
// Seeds: testdata/fuzz/FuzzClaims.
func FuzzClaims(f *testing.F) {
	e := newEnv(f)
	kr := e.mustKeyring(f, token.EdDSA)
	header := `{"alg":"EdDSA","kid":"` + kr.ActiveKeyID() + `","typ":"JWT"`
	f.Add(``, `,"iam_id":"iam-x","name":"N","email":"e@x","role":"Reader","scope":"ibm openid"`)
	f.Add(`,"cty":"JWT"`, `,"account":{"bss":"0123456789abcdef0123456789abcdef"},"jti":"j"`)
	f.Add(``, `,"x":{"y":[1,2.5e3,-0,true,null,"\u00e9\ud83d\ude00"]}`)
	f.Add(``, `,"x":{"a":1,"a":2}`)
	f.Add(`,"alg":"none"`, ``)
	f.Add(``, `,"ISS":"other"`)
	f.Add(``, `,"nbf":1e3`)
	f.Add(``, `,"s":"\udc00"`)
	f.Add(``, `,"d":`+strings.Repeat("[", 40)+strings.Repeat("]", 40))
	f.Fuzz(func(t *testing.T, hextra, cextra string) {
		payload := e.claimsJSON(cextra)
		tok := kr.SignRawForTest(header+hextra+`}`, payload)
		c, err := kr.Verify(context.Background(), tok)
		if err != nil {
			if !errors.Is(err, token.ErrInvalidToken) {
				t.Fatalf("error %v does not wrap ErrInvalidToken", err)
			}
			if strings.Contains(err.Error(), "claims: malformed JSON") && json.Valid([]byte(payload)) {
				t.Fatalf("claims %s called malformed, but they are valid JSON: %v", payload, err)
			}
			return
		}
		if !utf8.ValidString(payload) || !json.Valid([]byte(payload)) {
			t.Fatalf("accepted claims that are not valid UTF-8 JSON: %q", payload)
		}
		if name, dup := duplicateMember([]byte(payload)); dup {
			t.Fatalf("accepted claims with the member %q twice: %s", name, payload)
		}
		if name, dup := duplicateMember([]byte(header + hextra + `}`)); dup {
			t.Fatalf("accepted a header with the member %q twice: %s", name, header+hextra+"}")
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal([]byte(payload), &members); err != nil {
			t.Fatal(err)
		}
		for name, got := range map[string]any{
			"iss": c.Issuer, "sub": c.Subject, "iam_id": c.IAMID, "sub_type": c.SubType, "apikey_id": c.APIKeyID,
			"jti": c.ID, "grant_type": c.GrantType, "scope": c.Scope, "name": c.Name, "email": c.Email, "role": c.Role,
			"iat": c.IssuedAt, "exp": c.ExpiresAt, "nbf": c.NotBefore, "account": c.Account,
		} {
			raw, ok := members[name]
			if !ok || string(raw) == "null" {
				continue
			}
			want := newLike(got)
			if err := json.Unmarshal(raw, want.ptr); err != nil {
				t.Fatalf("accepted %s = %s, which encoding/json cannot read as %T: %v", name, raw, got, err)
			}
			if want.value() != got {
				t.Fatalf("claim %s = %#v, encoding/json reads %s as %#v", name, got, raw, want.value())
			}
		}
	})
}

// like holds a fresh value of a claim's type for encoding/json to fill.
type like struct {
	ptr   any
	value func() any
}

func newLike(v any) like {
	switch v.(type) {
	case string:
		var s string
		return like{&s, func() any { return s }}
	case int64:
		var n int64
		return like{&n, func() any { return n }}
	case token.Account:
		var a token.Account
		return like{&a, func() any { return a }}
	}
	panic("unexpected claim type")
}

// duplicateMember reports a member name that appears twice in one object of
// the JSON text b (which must be valid).
func duplicateMember(b []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		object bool
		names  map[string]bool
		key    bool // the next string is a member name
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return "", false
		}
		if err != nil {
			return "", false
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				if top != nil && top.object {
					top.key = true
				}
				stack = append(stack, &frame{object: true, names: map[string]bool{}, key: true})
				continue
			case '[':
				if top != nil && top.object {
					top.key = true
				}
				stack = append(stack, &frame{})
				continue
			default:
				stack = stack[:len(stack)-1]
				continue
			}
		case string:
			if top != nil && top.object && top.key {
				if top.names[v] {
					return v, true
				}
				top.names[v] = true
				top.key = false
				continue
			}
		}
		if top != nil && top.object {
			top.key = true
		}
	}
}
