package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Cookie names. Both are HttpOnly, SameSite=Strict, Path=/console/, and
// Secure when the server runs TLS.
const (
	sessionCookie = "gatehouse_session" // the access token: the session itself
	signinCookie  = "gatehouse_signin"  // a random nonce binding the sign-in form's CSRF token
	cookiePath    = "/console/"
	csrfField     = "csrf"
)

// keyLabel is the HMAC label under which the app derives the console's CSRF
// key from the master key (DeriveKey): every node of a cluster shares the
// master key, so every node accepts the forms every other node rendered.
const keyLabel = "gatehouse console csrf v1"

// DeriveKey derives the console's CSRF key from the master key:
// HMAC-SHA256(masterKey, "gatehouse console csrf v1"). The master key never
// leaves the app; the derived key only signs form tokens.
func DeriveKey(masterKey []byte) []byte {
	m := hmac.New(sha256.New, masterKey)
	m.Write([]byte(keyLabel))
	return m.Sum(nil)
}

// csrf makes and checks form tokens: HMAC-SHA256 under the key of a purpose
// and a value bound to the browser (the session token's jti, or the sign-in
// nonce), so a token from one session is worthless in another.
type csrf struct{ key []byte }

func (c csrf) token(purpose, bound string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(bound))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// valid compares in constant time.
func (c csrf) valid(purpose, bound, got string) bool {
	if bound == "" || got == "" {
		return false
	}
	want := c.token(purpose, bound)
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// sessionBinding is what a session's CSRF tokens are bound to: the token's
// jti (unverified here; the API verifies the token itself on every request),
// or, for a token without one, its digest.
func sessionBinding(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) == 3 {
		if payload, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			var claims struct {
				JTI string `json:"jti"`
			}
			if json.Unmarshal(payload, &claims) == nil && claims.JTI != "" {
				return "jti:" + claims.JTI
			}
		}
	}
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + base64.RawURLEncoding.EncodeToString(sum[:])
}

func (s *Console) cookie(name, value string, maxAge int) *http.Cookie {
	c := &http.Cookie{
		Name: name, Value: value, Path: cookiePath,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secure,
		MaxAge: maxAge,
	}
	if maxAge > 0 {
		c.Expires = s.now().Add(time.Duration(maxAge) * time.Second)
	}
	return c
}

// setSession stores the access token as the session cookie, expiring with it.
func (s *Console) setSession(w http.ResponseWriter, token string, expiresIn int64) {
	if expiresIn <= 0 {
		expiresIn = 1
	}
	http.SetCookie(w, s.cookie(sessionCookie, token, int(expiresIn)))
}

// clearSession removes the session cookie.
func (s *Console) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, s.cookie(sessionCookie, "", -1))
}

// signinNonce returns the browser's sign-in nonce, setting a new one when
// it has none.
func (s *Console) signinNonce(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(signinCookie); err == nil && len(c.Value) >= 16 {
		return c.Value
	}
	var b [18]byte
	_, _ = rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, s.cookie(signinCookie, v, 3600))
	return v
}

// sameOrigin refuses cross-site POSTs before any token is looked at. A
// browser's Sec-Fetch-Site, when sent, decides: it must say same-origin.
// Without it (older browsers, curl), an Origin header must name this host.
// "Origin: null" is no evidence either way: browsers send it for every POST
// of a page with Referrer-Policy no-referrer, as the console's pages are, and
// a foreign page still lacks the session's CSRF token and, being another
// site, the SameSite=Strict cookie.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}
