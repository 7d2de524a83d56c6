package e2e_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/client"
	"gatehouse/internal/iam"
)

const grantAPIKey = "urn:ibm:params:oauth:grant-type:apikey"

var (
	hex32     = regexp.MustCompile(`^[0-9a-f]{32}$`)
	userIAMID = regexp.MustCompile(`^iam-User-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// The bootstrap file is the user's first contact: SPEC §1 and §2.2.
func TestBootstrapKeyFile(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	path := s.cfg.BootstrapFile
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %04o, want 0600", path, fi.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("{\n\t\"name\": ")) || !bytes.HasSuffix(raw, []byte("}\n")) {
		t.Errorf("file is not tab-indented JSON:\n%s", raw)
	}
	// Member names in the documented order, nothing else.
	dec := json.NewDecoder(bytes.NewReader(raw))
	var names []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"name", "description", "apikey", "createdAt", "locked", "uuid"}; !slices.Equal(names, want) {
		t.Errorf("members %v, want %v", names, want)
	}
	var kf struct {
		Name, Description, APIKey, CreatedAt, UUID string
		Locked                                     *bool
	}
	if err := json.Unmarshal(raw, &kf); err != nil {
		t.Fatal(err)
	}
	if kf.Name != "admin" || kf.Locked == nil || *kf.Locked {
		t.Errorf("name %q locked %v, want admin and false", kf.Name, kf.Locked)
	}
	if want := epoch.Format("2006-01-02T15:04") + "+0000"; kf.CreatedAt != want {
		t.Errorf("createdAt %q, want %q", kf.CreatedAt, want)
	}
	if _, err := time.Parse("2006-01-02T15:04-0700", kf.CreatedAt); err != nil {
		t.Errorf("createdAt: %v", err)
	}
	id, ok := strings.CutPrefix(kf.UUID, "ApiKey-")
	if _, err := uuid.Parse(id); !ok || err != nil {
		t.Errorf("uuid %q, want ApiKey-<uuid>", kf.UUID)
	}
	if iam.CheckKey(kf.APIKey) != nil || !strings.HasPrefix(kf.APIKey, iam.KeyPrefix) {
		t.Errorf("apikey is not a well-formed Gatehouse key")
	}
	if strings.Contains(s.logs.String(), kf.APIKey) {
		t.Error("the log holds the admin key")
	}
	if !strings.Contains(s.logs.String(), path) {
		t.Error("the log does not name the bootstrap file")
	}
}

// checkMe checks GET /v1/me for a token of the bootstrap key with the given
// effective account role.
func checkMe(t *testing.T, s *server, token, role string) {
	t.Helper()
	r := s.do(t, req{method: "GET", path: "/v1/me", token: token})
	if r.status != http.StatusOK {
		t.Fatalf("GET /v1/me: %d %s", r.status, r.body)
	}
	var me client.Me
	r.decode(t, &me)
	if !userIAMID.MatchString(me.IAMID) || me.IAMID != "iam-"+me.ID {
		t.Errorf("iam_id %q id %q", me.IAMID, me.ID)
	}
	if me.SubType != "user" || !hex32.MatchString(me.AccountID) {
		t.Errorf("sub_type %q account_id %q", me.SubType, me.AccountID)
	}
	if me.APIKey.ID != s.admin.UUID || me.APIKey.Name != "admin" {
		t.Errorf("apikey %+v, want {%s admin}", me.APIKey, s.admin.UUID)
	}
	if want := []client.RoleAt{{Scope: "account", Role: role}}; !slices.Equal(me.Roles, want) {
		t.Errorf("roles %+v, want %+v", me.Roles, want)
	}
}

// The V5 token service, exactly as a user calls it (SPEC §3.1).
func TestV5TokenFlow(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	key := s.admin.APIKey
	cases := []struct {
		name string
		r    req
	}{
		{"query-no-body", req{method: "POST", path: "/apikey?apikey=" + url.QueryEscape(key)}},
		{"query-empty-form", req{method: "POST", path: "/apikey?apikey=" + url.QueryEscape(key), ctype: "application/x-www-form-urlencoded"}},
		{"form-body", req{method: "POST", path: "/apikey", ctype: "application/x-www-form-urlencoded", body: url.Values{"apikey": {key}}.Encode()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, tc.r)
			if r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if got := r.keys(t); !slices.Equal(got, []string{"expiration", "expires_in", "jwt"}) {
				t.Errorf("members %v", got)
			}
			if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			var body client.V5Token
			r.decode(t, &body)
			now := s.clock.Now().Unix()
			if body.ExpiresIn != 3600 || body.Expiration != now+3600 {
				t.Errorf("expires_in %d expiration %d, want 3600 and %d", body.ExpiresIn, body.Expiration, now+3600)
			}
			claims := jwtPart(t, body.JWT, 1)
			if num(t, claims, "iat") != now || num(t, claims, "exp") != now+3600 {
				t.Errorf("iat/exp %v/%v", claims["iat"], claims["exp"])
			}
			checkMe(t, s, body.JWT, "Administrator")
		})
	}
}

// IBM IAM's token endpoint (SPEC §3.2).
func TestIAMTokenFlow(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r := s.postForm(t, "/identity/token", url.Values{
		"grant_type": {grantAPIKey}, "apikey": {s.admin.APIKey}, "response_type": {"cloud_iam"},
	})
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	want := []string{"access_token", "expiration", "expires_in", "refresh_token", "scope", "token_type"}
	if got := r.keys(t); !slices.Equal(got, want) {
		t.Errorf("members %v, want %v", got, want)
	}
	var tok client.IAMToken
	r.decode(t, &tok)
	now := s.clock.Now().Unix()
	if tok.RefreshToken != "not_supported" || tok.TokenType != "Bearer" || tok.Scope != "ibm openid" ||
		tok.ExpiresIn != 3600 || tok.Expiration != now+3600 {
		t.Errorf("token response %+v", tok)
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	checkMe(t, s, tok.AccessToken, "Administrator")

	// The SDK does the same.
	c := s.as(t, s.admin.APIKey, client.TokenOptions{})
	me, err := c.Me(t.Context())
	if err != nil || me.APIKey.ID != s.admin.UUID {
		t.Fatalf("client Me: %+v, %v", me, err)
	}
}

// Token-service errors (SPEC §3.3): every bad key gets the same answer.
func TestTokenServiceErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	deleted := mustCreateKey(t, admin, client.CreateAPIKey{Name: "deleted"})
	if err := admin.DeleteAPIKey(t.Context(), deleted.ID); err != nil {
		t.Fatal(err)
	}
	disabled := mustCreateKey(t, admin, client.CreateAPIKey{Name: "disabled"})
	if err := admin.DisableAPIKey(t.Context(), disabled.ID, true); err != nil {
		t.Fatal(err)
	}
	soon := s.clock.Now().Add(time.Minute)
	expired := mustCreateKey(t, admin, client.CreateAPIKey{Name: "expired", ExpiresAt: &soon})
	s.clock.Advance(2 * time.Minute)

	unknown, err := iam.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	good := s.admin.APIKey
	badChecksum := good[:len(good)-1] + flip(good[len(good)-1])

	badKeys := []struct{ name, key string }{
		{"unknown", unknown},
		{"unknown-foreign-format", strings.Repeat("x", 40)},
		{"malformed-checksum", badChecksum},
		{"malformed-short", "gatehouse_abc"},
		{"malformed-junk", "not a key at all"},
		{"deleted", deleted.APIKey},
		{"disabled", disabled.APIKey},
		{"expired", expired.APIKey},
	}
	// A minute between groups keeps every group of failures under the
	// per-address limit of failed attempts (SPEC §3.3: 20 a minute).
	var messages []string
	for _, k := range badKeys {
		s.clock.Advance(time.Minute)
		for _, ep := range []string{"v5-query", "v5-form", "iam"} {
			t.Run("fail/bad-key/"+k.name+"/"+ep, func(t *testing.T) {
				var r reply
				switch ep {
				case "v5-query":
					r = s.do(t, req{method: "POST", path: "/apikey?apikey=" + url.QueryEscape(k.key)})
				case "v5-form":
					r = s.postForm(t, "/apikey", url.Values{"apikey": {k.key}})
				case "iam":
					r = s.postForm(t, "/identity/token", url.Values{"grant_type": {grantAPIKey}, "apikey": {k.key}})
				}
				e := wantTokenError(t, r, http.StatusBadRequest, "BXNIM0415E")
				messages = append(messages, e.ErrorMessage)
			})
		}
	}
	if len(messages) != len(badKeys)*3 {
		t.Fatalf("%d bad-key answers, want %d", len(messages), len(badKeys)*3)
	}
	slices.Sort(messages)
	if u := slices.Compact(messages); len(u) != 1 {
		t.Errorf("bad-key messages differ: %q", u)
	}

	cases := []struct {
		name   string
		r      req
		status int
		code   string
	}{
		{"fail/v5-no-apikey", req{method: "POST", path: "/apikey"}, 400, "BXNIM0109E"},
		{"fail/v5-empty-apikey", req{method: "POST", path: "/apikey?apikey="}, 400, "BXNIM0109E"},
		{"fail/iam-no-apikey", formReq("/identity/token", url.Values{"grant_type": {grantAPIKey}}), 400, "BXNIM0109E"},
		{"fail/iam-empty-apikey", formReq("/identity/token", url.Values{"grant_type": {grantAPIKey}, "apikey": {""}}), 400, "BXNIM0109E"},
		{"fail/iam-no-grant-type", formReq("/identity/token", url.Values{"apikey": {good}}), 400, "BXNIM0109E"},
		{"fail/iam-empty-grant-type", formReq("/identity/token", url.Values{"grant_type": {""}, "apikey": {good}}), 400, "BXNIM0109E"},
		{"fail/iam-wrong-grant-type", formReq("/identity/token", url.Values{"grant_type": {"client_credentials"}, "apikey": {good}}), 400, "BXNIM0103E"},
		{"fail/iam-password-grant-without-username", formReq("/identity/token", url.Values{"grant_type": {"password"}, "password": {"x"}}), 400, "BXNIM0109E"},
		{"fail/iam-password-grant-without-password", formReq("/identity/token", url.Values{"grant_type": {"password"}, "username": {"admin"}}), 400, "BXNIM0109E"},
		{"fail/iam-password-grant-wrong-password", formReq("/identity/token", url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"not the password"}}), 400, "BXNIM0602E"},
		{"fail/iam-refresh-grant-type", formReq("/identity/token", url.Values{"grant_type": {"refresh_token"}, "apikey": {good}}), 400, "BXNIM0103E"},
		{"fail/iam-json-body", req{method: "POST", path: "/identity/token", ctype: "application/json", body: `{"grant_type":"` + grantAPIKey + `","apikey":"` + good + `"}`}, 400, "BXNIM0109E"},
		{"fail/iam-get", req{method: "GET", path: "/identity/token"}, 405, "BXNIM0060E"},
		{"fail/v5-get", req{method: "GET", path: "/apikey?apikey=" + url.QueryEscape(good)}, 405, "BXNIM0060E"},
		{"fail/iam-put", req{method: "PUT", path: "/identity/token"}, 405, "BXNIM0060E"},
		{"fail/v5-delete", req{method: "DELETE", path: "/apikey"}, 405, "BXNIM0060E"},
	}
	s.clock.Advance(time.Minute)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, tc.r)
			wantTokenError(t, r, tc.status, tc.code)
			if tc.status == 405 && r.header.Get("Allow") != "POST" {
				t.Errorf("Allow %q, want POST", r.header.Get("Allow"))
			}
		})
	}
}

// Down-scoping (SPEC §3.2): a narrower token than the key allows, never a wider one.
func TestTokenDownScoping(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	writerKey := mustCreateKey(t, s.asAdmin(t), client.CreateAPIKey{Name: "writer", Role: "Writer"})

	for _, ep := range []string{"/identity/token", "/apikey"} {
		t.Run("ok/reader-token"+ep, func(t *testing.T) {
			form := url.Values{"apikey": {s.admin.APIKey}, "role": {"Reader"}}
			if ep == "/identity/token" {
				form.Set("grant_type", grantAPIKey)
			}
			r := s.postForm(t, ep, form)
			if r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
			var body struct {
				AccessToken string `json:"access_token"`
				JWT         string `json:"jwt"`
			}
			r.decode(t, &body)
			tok := body.AccessToken + body.JWT
			if role := jwtPart(t, tok, 1)["role"]; role != "Reader" {
				t.Errorf("role claim %v, want Reader", role)
			}
			checkMe(t, s, tok, "Reader")
			w := s.do(t, req{method: "POST", path: "/v1/apikeys", token: tok, ctype: "application/json", body: `{"name":"nope"}`})
			wantAPIError(t, w, http.StatusForbidden, "forbidden")
		})
	}

	t.Run("ok/expires-in-60", func(t *testing.T) {
		tok, err := s.client().IAMToken(t.Context(), s.admin.APIKey, client.TokenOptions{ExpiresIn: 60})
		if err != nil {
			t.Fatal(err)
		}
		c := jwtPart(t, tok.AccessToken, 1)
		if tok.ExpiresIn != 60 || num(t, c, "exp")-num(t, c, "iat") != 60 || tok.Expiration != num(t, c, "exp") {
			t.Errorf("expires_in %d, claims %v", tok.ExpiresIn, c)
		}
	})
	t.Run("ok/capped-key-below-cap", func(t *testing.T) {
		for _, role := range []string{"Writer", "writer", "Reader"} {
			if _, err := s.client().V5Token(t.Context(), writerKey.APIKey, client.TokenOptions{Role: role}); err != nil {
				t.Errorf("role %s: %v", role, err)
			}
		}
	})

	fails := []struct {
		name string
		key  string
		o    client.TokenOptions
		raw  url.Values // sent as is when set (values the SDK cannot express)
	}{
		{name: "fail/role-above-key-cap", key: writerKey.APIKey, o: client.TokenOptions{Role: "Administrator"}},
		{name: "fail/role-manager-above-writer-cap", key: writerKey.APIKey, o: client.TokenOptions{Role: "Manager"}},
		{name: "fail/unknown-role", key: s.admin.APIKey, o: client.TokenOptions{Role: "Superuser"}},
		{name: "fail/expires-in-above-ttl", key: s.admin.APIKey, o: client.TokenOptions{ExpiresIn: 3601}},
		{name: "fail/expires-in-zero", raw: url.Values{"expires_in": {"0"}}},
		{name: "fail/expires-in-negative", raw: url.Values{"expires_in": {"-5"}}},
		{name: "fail/expires-in-not-a-number", raw: url.Values{"expires_in": {"soon"}}},
	}
	for _, tc := range fails {
		t.Run(tc.name, func(t *testing.T) {
			if tc.raw != nil {
				tc.raw.Set("apikey", s.admin.APIKey)
				tc.raw.Set("grant_type", grantAPIKey)
				wantTokenError(t, s.postForm(t, "/identity/token", tc.raw), http.StatusBadRequest, "BXNIM0107E")
				return
			}
			_, err := s.client().IAMToken(t.Context(), tc.key, tc.o)
			wantErr(t, err, http.StatusBadRequest, "BXNIM0107E")
			_, err = s.client().V5Token(t.Context(), tc.key, tc.o)
			wantErr(t, err, http.StatusBadRequest, "BXNIM0107E")
		})
	}
}

// Discovery and JWKS are served at both paths, cacheable (SPEC §3.5).
func TestDiscoveryAndJWKS(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	kid := jwtPart(t, tok, 0)["kid"]

	var docs [][]byte
	for _, p := range []string{"/.well-known/openid-configuration", "/identity/.well-known/openid-configuration"} {
		r := s.do(t, req{method: "GET", path: p})
		if r.status != http.StatusOK || !strings.Contains(r.header.Get("Cache-Control"), "max-age=300") {
			t.Fatalf("%s: %d, Cache-Control %q", p, r.status, r.header.Get("Cache-Control"))
		}
		docs = append(docs, r.body)
	}
	if !bytes.Equal(docs[0], docs[1]) {
		t.Errorf("discovery documents differ:\n%s\n%s", docs[0], docs[1])
	}
	d, err := s.client().OpenIDConfiguration(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d.Issuer != s.Issuer || d.Issuer != "http://"+s.app.Addr() || d.TokenEndpoint != s.Issuer+"/identity/token" || d.JWKSURI != s.Issuer+"/identity/keys" {
		t.Errorf("discovery %+v", d)
	}
	if !slices.Equal(d.GrantTypes, []string{grantAPIKey}) || !slices.Equal(d.SigningAlgs, []string{"ES256"}) || len(d.ResponseTypes) == 0 {
		t.Errorf("discovery %+v", d)
	}
	if iss := jwtPart(t, tok, 1)["iss"]; iss != d.Issuer {
		t.Errorf("token iss %v, discovery issuer %s", iss, d.Issuer)
	}

	var sets [][]byte
	for _, p := range []string{"/identity/keys", "/.well-known/jwks.json"} {
		r := s.do(t, req{method: "GET", path: p})
		if r.status != http.StatusOK || !strings.Contains(r.header.Get("Cache-Control"), "max-age=300") {
			t.Fatalf("%s: %d, Cache-Control %q", p, r.status, r.header.Get("Cache-Control"))
		}
		if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: Content-Type %q", p, r.header.Get("Content-Type"))
		}
		sets = append(sets, r.body)
	}
	if !bytes.Equal(sets[0], sets[1]) {
		t.Errorf("JWKS differ:\n%s\n%s", sets[0], sets[1])
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(sets[0], &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1: %s", len(set.Keys), sets[0])
	}
	k := set.Keys[0]
	if k["kty"] != "EC" || k["crv"] != "P-256" || k["alg"] != "ES256" || k["use"] != "sig" || k["kid"] != kid || k["x"] == nil || k["y"] == nil {
		t.Errorf("JWK %v (token kid %v)", k, kid)
	}
	if _, private := k["d"]; private {
		t.Error("the JWKS publishes a private key")
	}

	for _, p := range []string{"/healthz", "/readyz"} {
		if r := s.do(t, req{method: "GET", path: p}); r.status != http.StatusOK {
			t.Errorf("%s: %d", p, r.status)
		}
	}
}
