package token_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"gatehouse/internal/token"
)

const issuer = "https://gatehouse.test"

var allAlgorithms = []token.Algorithm{token.ES256, token.ES384, token.EdDSA, token.RS256}

// fakeClock is a settable clock; nothing in these tests sleeps.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *fakeClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// env is one deployment: a store, a clock and a master key shared by its nodes.
type env struct {
	store  *fakeStore
	clock  *fakeClock
	sealer *token.Sealer
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return &env{store: &fakeStore{}, clock: newClock(), sealer: mustSealer(t, randomKey(t))}
}

func (e *env) config(alg token.Algorithm) token.Config {
	return token.Config{Store: e.store, Sealer: e.sealer, Algorithm: alg, Issuer: issuer, Now: e.clock.Now}
}

// mustKeyring starts a node of e signing with alg.
func (e *env) mustKeyring(t testing.TB, alg token.Algorithm) *token.Keyring {
	t.Helper()
	k, err := token.NewKeyring(context.Background(), e.config(alg))
	if err != nil {
		t.Fatalf("NewKeyring(%s): %v", alg, err)
	}
	return k
}

// claims returns valid claims issued now for ttl.
func (e *env) claims(ttl time.Duration) token.Claims {
	now := e.clock.Now().Unix()
	return token.Claims{
		Issuer:    issuer,
		Subject:   "iam-ServiceId-0d4f1d4c-3b0e-4a8a-9d3c-6a2f6f3b8c11",
		IAMID:     "iam-ServiceId-0d4f1d4c-3b0e-4a8a-9d3c-6a2f6f3b8c11",
		SubType:   "ServiceId",
		Account:   token.Account{BSS: "0123456789abcdef0123456789abcdef"},
		APIKeyID:  "ApiKey-71c3d32a-7238-4abb-a66b-237430c96fcf",
		IssuedAt:  now,
		ExpiresAt: now + int64(ttl/time.Second),
		ID:        "jti-" + randomString(8),
		GrantType: token.GrantTypeAPIKey,
		Scope:     "ibm openid",
	}
}

func mustSign(t testing.TB, k *token.Keyring, c token.Claims) string {
	t.Helper()
	tok, err := k.Sign(c)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

func mustVerify(t testing.TB, k *token.Keyring, tok string) token.Claims {
	t.Helper()
	c, err := k.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return c
}

// wantInvalid checks that err is an invalid-token error whose reason contains reason.
func wantInvalid(t testing.TB, err error, reason string) {
	t.Helper()
	if !errors.Is(err, token.ErrInvalidToken) {
		t.Fatalf("error = %v, want one wrapping ErrInvalidToken", err)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Fatalf("error = %q, want reason containing %q", err, reason)
	}
}

func mustSealer(t testing.TB, key []byte) *token.Sealer {
	t.Helper()
	s, err := token.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func randomKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return b64(b)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64s(s string) string { return b64([]byte(s)) }

// segments splits a compact token.
func segments(t testing.TB, tok string) (header, payload, sig string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments", len(parts))
	}
	return parts[0], parts[1], parts[2]
}

// headerOf returns the decoded header of tok.
func headerOf(t testing.TB, tok string) string {
	t.Helper()
	h, _, _ := segments(t, tok)
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func kidOf(t testing.TB, tok string) string {
	t.Helper()
	var h struct{ Kid string }
	if err := json.Unmarshal([]byte(headerOf(t, tok)), &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// jwksOf parses k's JWKS with go-jose.
func jwksOf(t testing.TB, k *token.Keyring) jose.JSONWebKeySet {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(k.JWKS(), &set); err != nil {
		t.Fatalf("go-jose cannot parse the JWKS: %v\n%s", err, k.JWKS())
	}
	return set
}

func jwksKIDs(t testing.TB, k *token.Keyring) []string {
	t.Helper()
	var ids []string
	for _, key := range jwksOf(t, k).Keys {
		ids = append(ids, key.KeyID)
	}
	return ids
}

// An attacker's own keys and forged tokens.

type signer func(input []byte) []byte

func forge(header, payload string, sign signer) string {
	in := b64s(header) + "." + b64s(payload)
	return in + "." + b64(sign([]byte(in)))
}

func attackerES256() (signer, *ecdsa.PrivateKey) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return func(in []byte) []byte {
		d := sha256.Sum256(in)
		r, s, err := ecdsa.Sign(rand.Reader, priv, d[:])
		if err != nil {
			panic(err)
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}, priv
}

func attackerEdDSA() signer {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	return func(in []byte) []byte { return ed25519.Sign(priv, in) }
}

func hmacSigner(secret []byte) signer {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(in)
		return m.Sum(nil)
	}
}

func noSignature(in []byte) []byte { return nil }

// publicJWK returns the JWK JSON of an attacker's public key, as go-jose writes it.
func publicJWK(t testing.TB, pub crypto.PublicKey, kid string) string {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: "ES256", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// claimsJSON returns valid claims JSON issued now, with extra members appended.
func (e *env) claimsJSON(extra string) string {
	now := e.clock.Now().Unix()
	return `{"iss":"` + issuer + `","sub":"iam-x","iat":` + itoa(now) + `,"exp":` + itoa(now+3600) + extra + `}`
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func mustDecode(t testing.TB, seg string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
