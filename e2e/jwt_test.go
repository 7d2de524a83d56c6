package e2e_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"gatehouse/client"
)

// fetchJWKS reads /identity/keys over HTTP into go-jose's key set.
func fetchJWKS(t *testing.T, s *server) (jose.JSONWebKeySet, []byte) {
	t.Helper()
	raw, err := s.client().JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("JWKS %s: %v", raw, err)
	}
	return set, raw
}

// gatehouseClaims are the non-registered claims of SPEC §3.4.
type gatehouseClaims struct {
	IAMID   string `json:"iam_id"`
	SubType string `json:"sub_type"`
	Account *struct {
		BSS string `json:"bss"`
	} `json:"account"`
	APIKeyID  string `json:"apikey_id"`
	GrantType string `json:"grant_type"`
	Scope     string `json:"scope"`
	Name      string `json:"name"`
	Role      string `json:"role"`
}

// Every algorithm's tokens verify with go-jose against the published JWKS.
func TestTokensVerifyWithGoJose(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{"ES256", "ES384", "EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, withSigningAlg(alg))
			me, err := s.asAdmin(t).Me(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{Role: "Writer"})
			set, raw := fetchJWKS(t, s)

			parsed, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatalf("go-jose cannot parse the token: %v", err)
			}
			h := parsed.Headers[0]
			if h.Algorithm != alg || h.KeyID == "" || h.ExtraHeaders["typ"] != "JWT" {
				t.Errorf("header %+v", h)
			}
			keys := set.Key(h.KeyID)
			if len(keys) != 1 {
				t.Fatalf("JWKS %s has %d keys with kid %s", raw, len(keys), h.KeyID)
			}
			jwk := keys[0]
			if jwk.Algorithm != alg || jwk.Use != "sig" || !jwk.IsPublic() || !jwk.Valid() {
				t.Errorf("JWK alg %q use %q public %v", jwk.Algorithm, jwk.Use, jwk.IsPublic())
			}
			switch k := jwk.Key.(type) {
			case *ecdsa.PublicKey:
				want := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384()}[alg]
				if k.Curve != want {
					t.Errorf("%s key on curve %s", alg, k.Curve.Params().Name)
				}
			case ed25519.PublicKey:
				if alg != "EdDSA" {
					t.Errorf("%s key is Ed25519", alg)
				}
			case *rsa.PublicKey:
				if alg != "RS256" || k.N.BitLen() < 2048 {
					t.Errorf("%s key is RSA-%d", alg, k.N.BitLen())
				}
			default:
				t.Fatalf("JWK key type %T", jwk.Key)
			}
			for _, member := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`} {
				if strings.Contains(string(raw), member+":") {
					t.Errorf("JWKS publishes private member %s", member)
				}
			}

			var std josejwt.Claims
			var gh gatehouseClaims
			if err := parsed.Claims(jwk.Key, &std, &gh); err != nil {
				t.Fatalf("signature does not verify with the published key: %v", err)
			}
			now := s.clock.Now()
			if err := std.ValidateWithLeeway(josejwt.Expected{Issuer: s.Issuer, Subject: me.IAMID, Time: now}, 0); err != nil {
				t.Errorf("claims: %v", err)
			}
			if std.IssuedAt == nil || !std.IssuedAt.Time().Equal(now) || std.Expiry == nil || !std.Expiry.Time().Equal(now.Add(time.Hour)) {
				t.Errorf("iat %v exp %v, want %v and +1h", std.IssuedAt, std.Expiry, now)
			}
			if _, err := uuid.Parse(std.ID); err != nil {
				t.Errorf("jti %q: %v", std.ID, err)
			}
			if gh.IAMID != me.IAMID || gh.SubType != "user" || gh.Account == nil || gh.Account.BSS != me.AccountID ||
				gh.APIKeyID != s.admin.UUID || gh.GrantType != grantAPIKey || gh.Scope != "ibm openid" ||
				gh.Name != me.Name || gh.Role != "Writer" {
				t.Errorf("claims %+v (me %+v)", gh, me)
			}

			// The check can fail: a flipped payload byte no longer verifies.
			parts := strings.Split(tok, ".")
			tampered, _ := josejwt.ParseSigned(parts[0]+"."+reencode(t, parts[1], func(m map[string]any) { m["role"] = "Administrator" })+"."+parts[2],
				[]jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if tampered == nil || tampered.Claims(jwk.Key, &std) == nil {
				t.Error("go-jose verified a tampered token")
			}
		})
	}
}

// reencode decodes a JWS segment, lets edit change it, and encodes it again.
func reencode(t *testing.T, seg string, edit func(map[string]any)) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	return b64json(t, m)
}

func b64json(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// hs256 signs claims with secret as an HMAC key, golang-jwt style.
func hs256(t *testing.T, claims map[string]any, kid string, secret []byte) string {
	t.Helper()
	tok := gojwt.NewWithClaims(gojwt.SigningMethodHS256, gojwt.MapClaims(claims))
	tok.Header["kid"] = kid
	s, err := tok.SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Forged, altered, foreign and expired tokens are all refused with 401 (SPEC §3.4, §4).
func TestAttackTokensAreRefused(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := startServer(t, withClock(clk))
	// The same store, signing keys and account under another issuer: its tokens
	// carry a valid signature of a published key, and only iss is wrong.
	other := startServer(t, withClock(clk), withDataDir(s.DataDir), withIssuer("http://issuer.example"))
	foreign := startServer(t, withClock(clk))

	tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	readerTok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{Role: "Reader"})
	otherTok := mustToken(t, other, other.admin.APIKey, client.TokenOptions{})
	foreignTok := mustToken(t, foreign, foreign.admin.APIKey, client.TokenOptions{})
	parts := strings.Split(tok, ".")
	rparts := strings.Split(readerTok, ".")
	hdr, claims := jwtPart(t, tok, 0), jwtPart(t, tok, 1)
	kid := hdr["kid"].(string)
	if ok := jwtPart(t, otherTok, 0)["kid"]; ok != kid {
		t.Fatalf("the second issuer signs with kid %v, not %s: the wrong-issuer case would test the kid instead", ok, kid)
	}
	if jwtPart(t, otherTok, 1)["iss"] != "http://issuer.example" {
		t.Fatal("the second server does not use its issuer")
	}

	// Controls: the genuine tokens work, so each refusal below is the attack's doing.
	for name, c := range map[string]struct {
		s   *server
		tok string
	}{"token": {s, tok}, "reader-token": {s, readerTok}, "other-issuer-at-home": {other, otherTok}, "foreign-at-home": {foreign, foreignTok}} {
		if r := c.s.do(t, req{method: "GET", path: "/v1/me", token: c.tok}); r.status != http.StatusOK {
			t.Fatalf("control %s: %d %s", name, r.status, r.body)
		}
	}

	set, rawJWKS := fetchJWKS(t, s)
	pub := set.Key(kid)[0]
	der, err := x509.MarshalPKIXPublicKey(pub.Key)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	jwkJSON, err := pub.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var served struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(rawJWKS, &served); err != nil {
		t.Fatal(err)
	}
	foreignKID := jwtPart(t, foreignTok, 0)["kid"].(string)

	none := func(alg string, withKID bool, sig string) string {
		h := map[string]any{"alg": alg, "typ": "JWT"}
		if withKID {
			h["kid"] = kid
		}
		return b64json(t, h) + "." + parts[1] + "." + sig
	}
	withHeader := func(edit func(map[string]any)) string {
		return reencode(t, parts[0], edit) + "." + parts[1] + "." + parts[2]
	}
	withPayload := func(p []string, edit func(map[string]any)) string {
		return p[0] + "." + reencode(t, p[1], edit) + "." + p[2]
	}
	huge := withPayload(parts, func(m map[string]any) { m["pad"] = strings.Repeat("A", 9<<10) })

	cases := []struct {
		name string
		auth string // the whole Authorization header
	}{
		{"fail/alg-none", "Bearer " + none("none", true, "")},
		{"fail/alg-None", "Bearer " + none("None", true, "")},
		{"fail/alg-NONE", "Bearer " + none("NONE", true, "")},
		{"fail/alg-nOnE", "Bearer " + none("nOnE", true, "")},
		{"fail/alg-none-without-kid", "Bearer " + none("none", false, "")},
		{"fail/alg-none-keeping-signature", "Bearer " + none("none", true, parts[2])},
		{"fail/alg-empty", "Bearer " + none("", true, parts[2])},
		{"fail/hs256-public-key-pem", "Bearer " + hs256(t, claims, kid, pemBytes)},
		{"fail/hs256-public-key-der", "Bearer " + hs256(t, claims, kid, der)},
		{"fail/hs256-jwk-json", "Bearer " + hs256(t, claims, kid, jwkJSON)},
		{"fail/hs256-served-jwk-bytes", "Bearer " + hs256(t, claims, kid, served.Keys[0])},
		{"fail/hs256-whole-jwks", "Bearer " + hs256(t, claims, kid, rawJWKS)},
		{"fail/hs256-empty-secret", "Bearer " + hs256(t, claims, kid, []byte{})},
		{"fail/tampered-role-raised", "Bearer " + withPayload(rparts, func(m map[string]any) { m["role"] = "Administrator" })},
		{"fail/tampered-role-removed", "Bearer " + withPayload(rparts, func(m map[string]any) { delete(m, "role") })},
		{"fail/tampered-iam-id", "Bearer " + withPayload(parts, func(m map[string]any) { m["iam_id"], m["sub"] = "iam-User-someone-else", "iam-User-someone-else" })},
		{"fail/tampered-exp-extended", "Bearer " + withPayload(parts, func(m map[string]any) { m["exp"] = num(t, claims, "exp") + 3600 })},
		{"fail/tampered-header-typ", "Bearer " + withHeader(func(m map[string]any) { m["typ"] = "jwt+x" })},
		{"fail/signature-swapped", "Bearer " + parts[0] + "." + parts[1] + "." + rparts[2]},
		{"fail/signature-stripped", "Bearer " + parts[0] + "." + parts[1] + "."},
		{"fail/foreign-kid", "Bearer " + withHeader(func(m map[string]any) { m["kid"] = "bm90LWEta2lkLWF0LWFsbA" })},
		{"fail/kid-of-another-server", "Bearer " + withHeader(func(m map[string]any) { m["kid"] = foreignKID })},
		{"fail/no-kid", "Bearer " + withHeader(func(m map[string]any) { delete(m, "kid") })},
		{"fail/embedded-jwk", "Bearer " + withHeader(func(m map[string]any) { m["jwk"] = json.RawMessage(served.Keys[0]) })},
		{"fail/token-of-another-server", "Bearer " + foreignTok},
		{"fail/wrong-issuer", "Bearer " + otherTok},
		{"fail/over-8KiB", "Bearer " + huge},
		{"fail/two-segments", "Bearer " + parts[0] + "." + parts[1]},
		{"fail/padded-base64", "Bearer " + tok + "="},
		{"fail/not-a-jwt", "Bearer " + uuid.NewString()},
		{"fail/no-scheme", tok},
		{"fail/basic-scheme", "Basic " + base64.StdEncoding.EncodeToString([]byte("apikey:"+s.admin.APIKey))},
		{"fail/token-scheme", "Token " + tok},
		{"fail/api-key-as-bearer", "Bearer " + s.admin.APIKey},
		{"fail/bearer-without-token", "Bearer"},
		{"fail/bearer-blank-token", "Bearer    "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantUnauthorized(t, s.do(t, req{method: "GET", path: "/v1/me", auth: tc.auth}))
		})
	}
	t.Run("fail/empty-authorization-header", func(t *testing.T) {
		wantUnauthorized(t, s.do(t, req{method: "GET", path: "/v1/me"}))
	})
	t.Run("fail/own-token-at-the-other-issuer", func(t *testing.T) {
		wantUnauthorized(t, other.do(t, req{method: "GET", path: "/v1/me", token: tok}))
	})

	// Expiry last: it moves the clock every server of this test shares.
	t.Run("fail/expired", func(t *testing.T) {
		short, err := s.client().IAMToken(t.Context(), s.admin.APIKey, client.TokenOptions{ExpiresIn: 60})
		if err != nil {
			t.Fatal(err)
		}
		if r := s.do(t, req{method: "GET", path: "/v1/me", token: short.AccessToken}); r.status != http.StatusOK {
			t.Fatalf("fresh short token: %d", r.status)
		}
		clk.Advance(60*time.Second + 60*time.Second + time.Second) // past exp and the 60 s leeway
		wantUnauthorized(t, s.do(t, req{method: "GET", path: "/v1/me", token: short.AccessToken}))
		if r := s.do(t, req{method: "GET", path: "/v1/me", token: tok}); r.status != http.StatusOK {
			t.Fatalf("the 1h token stopped working after 2 minutes: %d", r.status)
		}
		clk.Advance(time.Hour)
		wantUnauthorized(t, s.do(t, req{method: "GET", path: "/v1/me", token: tok}))
	})
}

// Rotating the signing key immediately publishes the new key, signs with it at once, and
// keeps the old one published so its tokens still verify (SPEC §3.5).
func TestSigningKeyRotation(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	before := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	oldKID := jwtPart(t, before, 0)["kid"].(string)

	k, err := s.asAdmin(t).RotateSigningKey(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	if k.KID == "" || k.KID == oldKID || k.Algorithm != "ES256" || !k.ActivateAt.Equal(s.clock.Now()) {
		t.Errorf("rotation answered %+v (old kid %s)", k, oldKID)
	}
	after := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	if kid := jwtPart(t, after, 0)["kid"]; kid != k.KID {
		t.Errorf("a token minted after the rotation has kid %v, want %s", kid, k.KID)
	}
	set, raw := fetchJWKS(t, s)
	if len(set.Keys) != 2 || set.Keys[0].KeyID != k.KID || set.Keys[1].KeyID != oldKID {
		t.Fatalf("JWKS after rotation, want the new key then the old one: %s", raw)
	}
	for name, tok := range map[string]string{"before": before, "after": after} {
		tokenWorks(t, s, tok)
		parsed, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		var c josejwt.Claims
		if err := parsed.Claims(set.Key(parsed.Headers[0].KeyID)[0].Key, &c); err != nil {
			t.Errorf("token minted %s the rotation does not verify with the JWKS: %v", name, err)
		}
	}
}
