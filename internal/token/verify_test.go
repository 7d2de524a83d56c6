package token_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"gatehouse/internal/token"
)

// shared returns one keyring per algorithm for the tests that neither move
// its clock nor change its keys (RSA keys are slow to generate).
var (
	sharedMu   sync.Mutex
	sharedEnvs = map[token.Algorithm]*sharedKeyring{}
)

type sharedKeyring struct {
	env *env
	kr  *token.Keyring
}

func shared(t *testing.T, alg token.Algorithm) (*env, *token.Keyring) {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	s := sharedEnvs[alg]
	if s == nil {
		e := newEnv(t)
		s = &sharedKeyring{env: e, kr: e.mustKeyring(t, alg)}
		sharedEnvs[alg] = s
	}
	return s.env, s.kr
}

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, alg := range allAlgorithms {
		t.Run(string(alg), func(t *testing.T) {
			e, kr := shared(t, alg)
			c := e.claims(time.Hour)
			c.Name, c.Email, c.Role = `Zoë "Q" <O'Brien> & co`+"\u2028\t\x01", "zoe@example.com", "Reader"
			c.NotBefore = c.IssuedAt
			tok := mustSign(t, kr, c)

			if got := mustVerify(t, kr, tok); !reflect.DeepEqual(got, c) {
				t.Fatalf("Verify returned\n%+v\nwant\n%+v", got, c)
			}
			wantHeader := `{"alg":"` + string(alg) + `","kid":"` + kr.ActiveKeyID() + `","typ":"JWT"}`
			if h := headerOf(t, tok); h != wantHeader {
				t.Fatalf("header = %s, want %s", h, wantHeader)
			}
			_, _, sig := segments(t, tok)
			wantSig := map[token.Algorithm]int{token.ES256: 64, token.ES384: 96, token.EdDSA: 64, token.RS256: 256}[alg]
			if n := len(sig) * 6 / 8; n != wantSig {
				t.Fatalf("signature is %d bytes, want %d (raw r||s for ECDSA)", n, wantSig)
			}
		})
	}
}

// TestTokensVerifyWithGoJose checks tokens and JWKS against an independent
// JOSE implementation.
func TestTokensVerifyWithGoJose(t *testing.T) {
	for _, alg := range allAlgorithms {
		t.Run(string(alg), func(t *testing.T) {
			e, kr := shared(t, alg)
			c := e.claims(time.Hour)
			c.Name = "Zoë \"Q\" \u2028 <x>"
			tok := mustSign(t, kr, c)

			set := jwksOf(t, kr)
			jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatalf("go-jose cannot parse the token: %v", err)
			}
			hdr := jws.Signatures[0].Protected
			if hdr.Algorithm != string(alg) || hdr.KeyID != kr.ActiveKeyID() || hdr.ExtraHeaders["typ"] != "JWT" {
				t.Fatalf("go-jose sees header %+v", hdr)
			}
			keys := set.Key(hdr.KeyID)
			if len(keys) != 1 {
				t.Fatalf("JWKS has %d keys with kid %s", len(keys), hdr.KeyID)
			}
			payload, err := jws.Verify(keys[0])
			if err != nil {
				t.Fatalf("go-jose does not verify the token: %v", err)
			}
			var got token.Claims
			if err := json.Unmarshal(payload, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c) {
				t.Fatalf("go-jose read claims\n%+v\nwant\n%+v", got, c)
			}
		})
	}
}

func TestJWKSShape(t *testing.T) {
	wantParams := map[token.Algorithm]map[string]any{
		token.ES256: {"kty": "EC", "crv": "P-256"},
		token.ES384: {"kty": "EC", "crv": "P-384"},
		token.EdDSA: {"kty": "OKP", "crv": "Ed25519"},
		token.RS256: {"kty": "RSA", "e": "AQAB"},
	}
	sizes := map[token.Algorithm]map[string]int{
		token.ES256: {"x": 32, "y": 32},
		token.ES384: {"x": 48, "y": 48},
		token.EdDSA: {"x": 32},
		token.RS256: {"n": 256},
	}
	for _, alg := range allAlgorithms {
		t.Run(string(alg), func(t *testing.T) {
			_, kr := shared(t, alg)
			var set struct{ Keys []map[string]any }
			if err := json.Unmarshal(kr.JWKS(), &set); err != nil {
				t.Fatal(err)
			}
			if len(set.Keys) != 1 {
				t.Fatalf("JWKS has %d keys, want 1", len(set.Keys))
			}
			k := set.Keys[0]
			want := map[string]any{"kid": kr.ActiveKeyID(), "alg": string(alg), "use": "sig"}
			for n, v := range wantParams[alg] {
				want[n] = v
			}
			for n, size := range sizes[alg] {
				s, _ := k[n].(string)
				b, err := base64.RawURLEncoding.Strict().DecodeString(s)
				if err != nil || len(b) != size {
					t.Errorf("%s: %d bytes (%v), want %d", n, len(b), err, size)
				}
				want[n] = s
			}
			if !reflect.DeepEqual(k, want) {
				t.Fatalf("JWK = %v, want exactly %v (no private parameters)", k, want)
			}
			if got := kr.Algorithms(); !reflect.DeepEqual(got, []token.Algorithm{alg}) {
				t.Fatalf("Algorithms() = %v", got)
			}
		})
	}
}

// TestVerifyRejects is the attack table: every token must fail with
// ErrInvalidToken and the named reason, and nothing may panic.
func TestVerifyRejects(t *testing.T) {
	// One node of a deployment that switched from ES256 to EdDSA: both keys published.
	e := newEnv(t)
	esNode := e.mustKeyring(t, token.ES256)
	esKID := esNode.ActiveKeyID()
	esTok := mustSign(t, esNode, e.claims(time.Hour))
	kr := e.mustKeyring(t, token.EdDSA)
	e.clock.Advance(lead) // the new algorithm's key signs after the publish lead
	edKID := kr.ActiveKeyID()
	if edKID == esKID {
		t.Fatal("changing the algorithm did not create a key")
	}
	ctx := context.Background()
	now := e.clock.Now().Unix()
	good := mustSign(t, kr, e.claims(time.Hour))
	other := mustSign(t, kr, e.claims(2*time.Hour))
	gh, gp, gs := segments(t, good)
	_, _, os := segments(t, other)
	claims := e.claimsJSON("")
	edHeader := `{"alg":"EdDSA","kid":"` + edKID + `","typ":"JWT"}`

	esAttacker, esPriv := attackerES256()
	edAttacker := attackerEdDSA()

	// The public key in the forms an HS256 confusion attack uses as the secret.
	var edJWK string
	for _, k := range jwksOf(t, kr).Keys {
		if k.KeyID == edKID {
			b, _ := json.Marshal(k)
			edJWK = string(b)
		}
	}
	var rawJWKS struct{ Keys []json.RawMessage }
	json.Unmarshal(kr.JWKS(), &rawJWKS)
	set := jwksOf(t, kr)
	pkix, err := x509.MarshalPKIXPublicKey(set.Key(edKID)[0].Key)
	if err != nil {
		t.Fatal(err)
	}

	// A signature segment with non-zero unused trailing bits: same bytes to a
	// lenient decoder, rejected by a strict one.
	last := strings.IndexByte(base64Alphabet, gs[len(gs)-1])
	nonCanonical := gs[:len(gs)-1] + string(base64Alphabet[last^1])
	if a, _ := base64.RawURLEncoding.DecodeString(gs); true {
		if b, err := base64.RawURLEncoding.DecodeString(nonCanonical); err != nil || string(a) != string(b) {
			t.Fatalf("test premise: %q should decode leniently to the same bytes", nonCanonical)
		}
	}

	big := kr.SignRawForTest(edHeader, e.claimsJSON(`,"pad":"`+strings.Repeat("x", token.MaxTokenSize)+`"`))

	tests := []struct {
		name   string
		tok    string
		reason string
	}{
		{"fail/empty", "", "empty"},
		{"fail/garbage", "not a token", "segments"},
		{"fail/dots-only", "..", "header: not a JSON object"},
		{"fail/one-segment", gh, "segments"},
		{"fail/two-segments", gh + "." + gp, "segments"},
		{"fail/four-segments", good + "." + gs, "segments"},
		{"fail/trailing-dot", good + ".", "segments"},
		{"fail/oversized", strings.Repeat("A", token.MaxTokenSize+1), "longer than 8 KiB"},
		{"fail/oversized-validly-signed", big, "longer than 8 KiB"},
		{"fail/non-ascii", "é.é.é", "base64url"},
		{"fail/space", " " + good, "base64url"},
		{"fail/standard-base64-alphabet", gh + "." + strings.NewReplacer("-", "+", "_", "/").Replace(gp) + "+/." + gs, "base64url"},
		{"fail/padded-signature", gh + "." + gp + "." + gs + "==", "base64url"},
		{"fail/padded-header", b64s(`{"alg":"EdDSA","kid":"`+edKID+`","typ":"JWT"}`) + "=." + gp + "." + gs, "base64url"},
		{"fail/non-canonical-trailing-bits", gh + "." + gp + "." + nonCanonical, "base64url"},
		{"fail/newline-in-segment", gh + "." + gp[:10] + "\n" + gp[10:] + "." + gs, "base64url"},
		{"fail/impossible-base64-length", gh + "." + gp + "A." + gs, "base64url"},

		{"fail/header-not-json", b64s("hello") + "." + gp + "." + gs, "header: not a JSON object"},
		{"fail/header-array", b64s(`["EdDSA"]`) + "." + gp + "." + gs, "header: not a JSON object"},
		{"fail/header-trailing-garbage", b64s(edHeader+"x") + "." + gp + "." + gs, "header: malformed JSON"},
		{"fail/header-bom", b64s("\ufeff"+edHeader) + "." + gp + "." + gs, "header: not a JSON object"},
		{"fail/header-invalid-utf8", b64s(`{"alg":"EdDSA","kid":"`+edKID+`","x":"`+"\xff"+`"}`) + "." + gp + "." + gs, "header: invalid UTF-8"},
		{"fail/header-duplicate-alg", kr.SignRawForTest(`{"alg":"EdDSA","alg":"EdDSA","kid":"`+edKID+`"}`, claims), "header: duplicate member name"},
		{"fail/header-duplicate-kid-escaped", kr.SignRawForTest(`{"alg":"EdDSA","kid":"`+edKID+`","\u006bid":"`+edKID+`"}`, claims), "header: duplicate member name"},
		{"fail/header-duplicate-alg-none-last", forge(`{"alg":"EdDSA","kid":"`+edKID+`","alg":"none"}`, claims, noSignature), "header: duplicate member name"},
		{"fail/header-crit", kr.SignRawForTest(`{"alg":"EdDSA","kid":"`+edKID+`","crit":["exp"],"exp":1}`, claims), "crit"},
		{"fail/header-typ-not-jwt", kr.SignRawForTest(`{"alg":"EdDSA","kid":"`+edKID+`","typ":"JWE"}`, claims), "typ"},
		{"fail/header-alg-not-string", kr.SignRawForTest(`{"alg":["EdDSA"],"kid":"`+edKID+`"}`, claims), "header: member has the wrong JSON type"},
		{"fail/header-kid-missing", kr.SignRawForTest(`{"alg":"EdDSA"}`, claims), "no kid"},
		{"fail/header-alg-missing", kr.SignRawForTest(`{"kid":"`+edKID+`"}`, claims), "alg is missing"},

		{"fail/alg-none", forge(`{"alg":"none","kid":"`+edKID+`","typ":"JWT"}`, claims, noSignature), "alg is missing or not a supported"},
		{"fail/alg-None", forge(`{"alg":"None","kid":"`+edKID+`","typ":"JWT"}`, claims, noSignature), "alg is missing or not a supported"},
		{"fail/alg-NONE", forge(`{"alg":"NONE","kid":"`+edKID+`","typ":"JWT"}`, claims, noSignature), "alg is missing or not a supported"},
		{"fail/alg-nOnE-with-signature", forge(`{"alg":"nOnE","kid":"`+edKID+`"}`, claims, edAttacker), "alg is missing or not a supported"},
		{"fail/alg-none-no-kid", forge(`{"alg":"none"}`, claims, noSignature), "alg is missing or not a supported"},
		{"fail/alg-empty", forge(`{"alg":"","kid":"`+edKID+`"}`, claims, noSignature), "alg is missing or not a supported"},
		{"fail/alg-case-eddsa", kr.SignRawForTest(`{"alg":"eddsa","kid":"`+edKID+`"}`, claims), "alg is missing or not a supported"},
		{"fail/alg-HS256-public-key-der", forge(`{"alg":"HS256","kid":"`+edKID+`","typ":"JWT"}`, claims, hmacSigner(pkix)), "alg is missing or not a supported"},
		{"fail/alg-HS256-jwk-json", forge(`{"alg":"HS256","kid":"`+edKID+`","typ":"JWT"}`, claims, hmacSigner([]byte(edJWK))), "alg is missing or not a supported"},
		{"fail/alg-HS256-jwks-entry", forge(`{"alg":"HS256","kid":"`+edKID+`","typ":"JWT"}`, claims, hmacSigner(rawJWKS.Keys[0])), "alg is missing or not a supported"},

		{"fail/kid-unknown", forge(`{"alg":"EdDSA","kid":"attacker-key","typ":"JWT"}`, claims, edAttacker), "kid names no published key"},
		{"fail/kid-empty", forge(`{"alg":"EdDSA","kid":"","typ":"JWT"}`, claims, edAttacker), "no kid"},
		{"fail/kid-other-alg-eddsa-on-es256-key", forge(`{"alg":"EdDSA","kid":"`+esKID+`","typ":"JWT"}`, claims, edAttacker), "alg is not the algorithm of the key"},
		{"fail/kid-other-alg-es256-on-eddsa-key", forge(`{"alg":"ES256","kid":"`+edKID+`","typ":"JWT"}`, claims, esAttacker), "alg is not the algorithm of the key"},
		{"fail/kid-other-alg-real-token-relabelled", b64s(`{"alg":"ES256","kid":"`+edKID+`","typ":"JWT"}`) + "." + gp + "." + gs, "alg is not the algorithm of the key"},
		{"fail/jwk-header-attacker-key", forge(`{"alg":"ES256","kid":"attacker","typ":"JWT","jwk":`+publicJWK(t, esPriv.Public(), "attacker")+`}`, claims, esAttacker), "kid names no published key"},
		{"fail/jwk-header-attacker-key-real-kid", forge(`{"alg":"ES256","kid":"`+esKID+`","typ":"JWT","jwk":`+publicJWK(t, esPriv.Public(), esKID)+`}`, claims, esAttacker), "signature does not verify"},
		{"fail/jku-header", forge(`{"alg":"ES256","kid":"attacker","jku":"https://evil.example/jwks.json"}`, claims, esAttacker), "kid names no published key"},
		{"fail/x5u-header-real-kid", forge(`{"alg":"ES256","kid":"`+esKID+`","x5u":"https://evil.example/cert.pem","x5c":["MIIB"]}`, claims, esAttacker), "signature does not verify"},

		{"fail/tampered-payload", gh + "." + b64s(e.claimsJSON(`,"role":"Administrator"`)) + "." + gs, "signature does not verify"},
		{"fail/tampered-header", b64s(`{"alg":"EdDSA","kid":"`+edKID+`","typ":"JWT","x":1}`) + "." + gp + "." + gs, "signature does not verify"},
		{"fail/signature-from-other-token", gh + "." + gp + "." + os, "signature does not verify"},
		{"fail/signature-empty", gh + "." + gp + ".", "signature does not verify"},
		{"fail/signature-truncated", gh + "." + gp + "." + b64(mustDecode(t, gs)[:63]), "signature does not verify"},
		{"fail/signature-extended", gh + "." + gp + "." + b64(append(mustDecode(t, gs), 0)), "signature does not verify"},
		{"fail/es256-token-on-eddsa-kid", b64s(edHeader) + "." + strings.Split(esTok, ".")[1] + "." + strings.Split(esTok, ".")[2], "signature does not verify"},

		{"fail/claims-not-object", kr.SignRawForTest(edHeader, `"x"`), "claims: not a JSON object"},
		{"fail/claims-trailing-garbage", kr.SignRawForTest(edHeader, claims+"{}"), "claims: malformed JSON"},
		{"fail/claims-duplicate-iss", kr.SignRawForTest(edHeader, e.claimsJSON(`,"iss":"https://evil.example"`)), "claims: duplicate member name"},
		{"fail/claims-duplicate-escaped", kr.SignRawForTest(edHeader, e.claimsJSON(`,"\u0069ss":"`+issuer+`"`)), "claims: duplicate member name"},
		{"fail/claims-duplicate-exp", kr.SignRawForTest(edHeader, e.claimsJSON(`,"exp":99999999999`)), "claims: duplicate member name"},
		{"fail/claims-duplicate-nested-account", kr.SignRawForTest(edHeader, e.claimsJSON(`,"account":{"bss":"a","bss":"b"}`)), "claims: duplicate member name"},
		{"fail/claims-duplicate-in-unknown-object", kr.SignRawForTest(edHeader, e.claimsJSON(`,"x":{"y":[{"a":1,"a":2}]}`)), "claims: duplicate member name"},
		{"fail/claims-lone-surrogate", kr.SignRawForTest(edHeader, e.claimsJSON(`,"name":"\ud800"`)), "claims: invalid UTF-8"},
		{"fail/claims-control-char", kr.SignRawForTest(edHeader, e.claimsJSON(`,"name":"a`+"\x01"+`"`)), "claims: malformed JSON"},
		{"fail/claims-nested-too-deep", kr.SignRawForTest(edHeader, e.claimsJSON(`,"x":`+strings.Repeat("[", 40)+strings.Repeat("]", 40))), "claims: JSON nested too deeply"},
		{"fail/claims-exp-string", kr.SignRawForTest(edHeader, `{"iss":"`+issuer+`","iat":`+itoa(now)+`,"exp":"`+itoa(now+60)+`"}`), "claims: member has the wrong JSON type"},
		{"fail/claims-exp-float", kr.SignRawForTest(edHeader, `{"iss":"`+issuer+`","iat":`+itoa(now)+`,"exp":`+itoa(now+60)+`.5}`), "claims: number is not an integer"},
		{"fail/claims-exp-null", kr.SignRawForTest(edHeader, `{"iss":"`+issuer+`","iat":`+itoa(now)+`,"exp":null}`), "claims: member has the wrong JSON type"},
		{"fail/claims-iss-number", kr.SignRawForTest(edHeader, `{"iss":1,"iat":`+itoa(now)+`,"exp":`+itoa(now+60)+`}`), "claims: member has the wrong JSON type"},
		{"fail/claims-account-not-object", kr.SignRawForTest(edHeader, e.claimsJSON(`,"account":"x"`)), "claims: member has the wrong JSON type"},
		{"fail/wrong-issuer", kr.SignRawForTest(edHeader, `{"iss":"https://evil.example","iat":`+itoa(now)+`,"exp":`+itoa(now+60)+`}`), "wrong issuer"},
		{"fail/issuer-missing", kr.SignRawForTest(edHeader, `{"iat":`+itoa(now)+`,"exp":`+itoa(now+60)+`}`), "wrong issuer"},
		{"fail/issuer-in-other-case", kr.SignRawForTest(edHeader, `{"ISS":"`+issuer+`","iat":`+itoa(now)+`,"exp":`+itoa(now+60)+`}`), "wrong issuer"},
		{"fail/exp-missing", kr.SignRawForTest(edHeader, `{"iss":"`+issuer+`","iat":`+itoa(now)+`}`), "exp missing"},
		{"fail/iat-missing", kr.SignRawForTest(edHeader, `{"iss":"`+issuer+`","exp":`+itoa(now+60)+`}`), "iat missing"},
		{"fail/lifetime-over-24h", kr.SignRawForTest(edHeader, `{"iss":"`+issuer+`","iat":`+itoa(now)+`,"exp":`+itoa(now+86401)+`}`), "lifetime"},
		{"fail/exp-huge", kr.SignRawForTest(edHeader, `{"iss":"`+issuer+`","iat":`+itoa(now)+`,"exp":9999999999999999999}`), "claims: number is not an integer in range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := kr.Verify(ctx, tt.tok)
			if err == nil {
				t.Fatalf("Verify accepted it: %+v", c)
			}
			wantInvalid(t, err, tt.reason)
			if c != (token.Claims{}) {
				t.Fatalf("Verify returned claims with an error: %+v", c)
			}
			if tt.tok != "" && len(tt.tok) > 20 && strings.Contains(err.Error(), tt.tok[len(tt.tok)-20:]) {
				t.Fatalf("error %q contains part of the token", err)
			}
		})
	}
	// The good ones still pass: the failures above are the attacks, not the setup.
	mustVerify(t, kr, good)
	mustVerify(t, kr, esTok)
}

const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// TestVerifyTimes checks exp, nbf and iat with the 60-second leeway, at the
// boundaries, with an injected clock.
func TestVerifyTimes(t *testing.T) {
	e := newEnv(t)
	kr := e.mustKeyring(t, token.ES256)
	now := e.clock.Now().Unix()
	tests := []struct {
		name     string
		iat, exp int64
		nbf      int64
		reason   string // empty: valid
	}{
		{"ok/fresh", now, now + 3600, 0, ""},
		{"ok/expired-within-leeway", now - 3600, now - 60, 0, ""},
		{"fail/expired-beyond-leeway", now - 3600, now - 61, 0, "expired"},
		{"ok/nbf-within-leeway", now, now + 3600, now + 60, ""},
		{"fail/nbf-in-future", now, now + 3600, now + 61, "nbf in the future"},
		{"ok/iat-within-leeway", now + 60, now + 3600, 0, ""},
		{"fail/iat-in-future", now + 61, now + 3600, 0, "iat in the future"},
		{"fail/iat-far-in-future", now + 86000, now + 86400, 0, "iat in the future"},
		{"ok/max-lifetime", now, now + 86400, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.claims(time.Hour)
			c.IssuedAt, c.ExpiresAt, c.NotBefore = tt.iat, tt.exp, tt.nbf
			tok := mustSign(t, kr, c)
			_, err := kr.Verify(context.Background(), tok)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			wantInvalid(t, err, tt.reason)
		})
	}

	t.Run("ok/expires-exactly-at-leeway", func(t *testing.T) {
		tok := mustSign(t, kr, e.claims(time.Hour))
		exp := time.Unix(now+3600, 0)
		e.clock.Set(exp.Add(token.Leeway))
		defer e.clock.Set(time.Unix(now, 0))
		mustVerify(t, kr, tok)
		e.clock.Set(exp.Add(token.Leeway + time.Nanosecond))
		_, err := kr.Verify(context.Background(), tok)
		wantInvalid(t, err, "expired")
	})
}

func TestVerifySizeLimit(t *testing.T) {
	e := newEnv(t)
	kr := e.mustKeyring(t, token.ES256)
	kid := kr.ActiveKeyID()
	// Find header spacing and padding that make a token of exactly MaxTokenSize.
	var exact string
	for spaces := 0; spaces < 4 && exact == ""; spaces++ {
		header := `{"alg":"ES256","kid":"` + kid + `",` + strings.Repeat(" ", spaces) + `"typ":"JWT"}`
		for n := 5000; n < token.MaxTokenSize; n++ {
			tok := kr.SignRawForTest(header, e.claimsJSON(`,"pad":"`+strings.Repeat("x", n)+`"`))
			if len(tok) == token.MaxTokenSize {
				exact = tok
				break
			}
			if len(tok) > token.MaxTokenSize {
				break
			}
		}
	}
	if exact == "" {
		t.Fatal("could not build a token of exactly MaxTokenSize")
	}
	mustVerify(t, kr, exact)
	h, p, s := segments(t, exact)
	_, err := kr.Verify(context.Background(), h+" ."+p+"."+s)
	wantInvalid(t, err, "longer than 8 KiB")
}

func TestSignRefusesUnverifiableClaims(t *testing.T) {
	e := newEnv(t)
	kr := e.mustKeyring(t, token.EdDSA)
	tests := []struct {
		name   string
		modify func(c *token.Claims)
	}{
		{"fail/other-issuer", func(c *token.Claims) { c.Issuer = "https://evil.example" }},
		{"fail/no-exp", func(c *token.Claims) { c.ExpiresAt = 0 }},
		{"fail/no-iat", func(c *token.Claims) { c.IssuedAt = 0 }},
		{"fail/exp-before-iat", func(c *token.Claims) { c.ExpiresAt = c.IssuedAt - 1 }},
		{"fail/lifetime-over-max", func(c *token.Claims) { c.ExpiresAt = c.IssuedAt + 86401 }},
		{"fail/exp-beyond-max-from-now", func(c *token.Claims) { c.IssuedAt += 3600; c.ExpiresAt = c.IssuedAt + 86400 }},
		{"fail/too-large", func(c *token.Claims) { c.Name = strings.Repeat("x", token.MaxTokenSize) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.claims(time.Hour)
			tt.modify(&c)
			if tok, err := kr.Sign(c); err == nil {
				t.Fatalf("Sign accepted %+v: %s", c, tok)
			}
		})
	}
	t.Run("ok/empty-issuer-is-the-configured-one", func(t *testing.T) {
		c := e.claims(time.Hour)
		c.Issuer = ""
		if got := mustVerify(t, kr, mustSign(t, kr, c)); got.Issuer != issuer {
			t.Fatalf("iss = %q", got.Issuer)
		}
	})
}

// FuzzVerify: whatever the input, Verify returns claims or an ErrInvalidToken,
// and never panics. The seeds run with every go test.
func FuzzVerify(f *testing.F) {
	e := newEnv(f)
	kr := e.mustKeyring(f, token.ES256)
	good := mustSign(f, kr, e.claims(time.Hour))
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(kr.SignRawForTest(`{"alg":"ES256","kid":"`+kr.ActiveKeyID()+`"}`, `{"a":[1,2,{"b":"\u00e9\ud83d\ude00"}],"iss":"`+issuer+`","iat":1,"exp":2}`))
	f.Add("")
	f.Add("..")
	f.Add(b64s(`{"alg":"none"}`) + "." + b64s(`{}`) + ".")
	f.Add(b64s(`{"alg":"ES256","kid":"x","kid":"y"}`) + ".e30.")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := kr.Verify(context.Background(), tok)
		if err != nil && !errors.Is(err, token.ErrInvalidToken) {
			t.Fatalf("error %v does not wrap ErrInvalidToken", err)
		}
		if err == nil && c.Issuer != issuer {
			t.Fatalf("accepted claims with iss %q", c.Issuer)
		}
	})
}

// TestClaimsJSON: the claims reader accepts every valid JSON value in unknown
// members and rejects malformed JSON, after a valid signature.
func TestClaimsJSON(t *testing.T) {
	e, kr := shared(t, token.ES256)
	header := `{"alg":"ES256","kid":"` + kr.ActiveKeyID() + `","typ":"JWT"}`
	many := func(n int, last string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `,"m%d":%d`, i, i)
		}
		return b.String() + last
	}
	tests := []struct {
		name   string
		extra  string // appended to valid claims
		reason string // empty: valid
	}{
		{"ok/literals", `,"t":true,"f":false,"n":null`, ""},
		{"ok/numbers", `,"a":0,"b":-0,"c":12.5,"d":-1e10,"e":6.02E+23,"f":1e-7,"g":[1,2.0,-3]`, ""},
		{"ok/nested", `,"o":{"a":{"b":[[],{},[{"c":"d"}]]}},"arr":[]`, ""},
		{"ok/escapes", `,"s":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"`, ""},
		{"ok/whitespace", " \t\r\n" + `, "w" : [ 1 , { } ] `, ""},
		{"ok/same-name-in-different-objects", `,"x":{"iss":1},"y":{"iss":2}`, ""},
		{"ok/many-members", many(40, ""), ""},
		{"fail/duplicate-among-many", many(40, `,"m3":0`), "duplicate member name"},
		{"fail/leading-zero", `,"n":01`, "malformed JSON"},
		{"fail/bare-minus", `,"n":-`, "malformed JSON"},
		{"fail/fraction-without-digits", `,"n":1.`, "malformed JSON"},
		{"fail/exponent-without-digits", `,"n":1e+`, "malformed JSON"},
		{"fail/plus-sign", `,"n":+1`, "malformed JSON"},
		{"fail/bad-literal", `,"b":tru`, "malformed JSON"},
		{"fail/literal-case", `,"b":True`, "malformed JSON"},
		{"fail/NaN", `,"n":NaN`, "malformed JSON"},
		{"fail/bad-escape", `,"s":"\x41"`, "malformed JSON"},
		{"fail/short-unicode-escape", `,"s":"\u12"`, "malformed JSON"},
		{"fail/lone-low-surrogate", `,"s":"\udc00"`, "invalid UTF-8"},
		{"fail/high-surrogate-then-letter", `,"s":"\ud83dx"`, "invalid UTF-8"},
		{"fail/two-high-surrogates", `,"s":"\ud83d\ud83d"`, "invalid UTF-8"},
		{"fail/trailing-comma", `,"a":1,`, "malformed JSON"},
		{"fail/trailing-comma-array", `,"a":[1,]`, "malformed JSON"},
		{"fail/missing-colon", `,"a" 1`, "malformed JSON"},
		{"fail/single-quotes", `,'a':1`, "malformed JSON"},
		{"fail/unquoted-name", `,a:1`, "malformed JSON"},
		{"fail/unterminated-string", `,"a":"abc`, "malformed JSON"},
		{"fail/unterminated-array", `,"a":[1`, "malformed JSON"},
		{"fail/comment", `,"a":1 /* x */`, "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := kr.SignRawForTest(header, e.claimsJSON(tt.extra))
			c, err := kr.Verify(context.Background(), tok)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if c.Issuer != issuer || c.Subject != "iam-x" {
					t.Fatalf("claims %+v", c)
				}
				return
			}
			wantInvalid(t, err, "claims: "+tt.reason)
		})
	}

	t.Run("fail/duplicate-among-many-header-members", func(t *testing.T) {
		h := `{"alg":"ES256","kid":"` + kr.ActiveKeyID() + `"` + many(40, `,"m39":1`) + `}`
		_, err := kr.Verify(context.Background(), kr.SignRawForTest(h, e.claimsJSON("")))
		wantInvalid(t, err, "header: duplicate member name")
	})
	t.Run("ok/escaped-claim-values", func(t *testing.T) {
		tok := kr.SignRawForTest(header, `{"iss":"https:\/\/gatehouse.test","sub":"a\u0062c","iat":`+itoa(e.clock.Now().Unix())+`,"exp":`+itoa(e.clock.Now().Unix()+60)+`}`)
		c := mustVerify(t, kr, tok)
		if c.Subject != "abc" {
			t.Fatalf("sub = %q", c.Subject)
		}
	})
}
