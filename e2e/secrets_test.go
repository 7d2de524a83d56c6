package e2e_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse/client"
	"gatehouse/internal/iam"
	"gatehouse/internal/token"
)

// secretSet collects secret values with the encodings they could leak in.
type secretSet map[string]string // encoded form → what it is

func (s secretSet) add(what string, forms ...string) {
	for _, f := range forms {
		if len(f) >= 8 {
			s[f] = what
		}
	}
}

// addKey adds an API key value and a stretch from its middle (the hint shows
// only the last four characters).
func (s secretSet) addKey(what, v string) {
	s.add(what, v, v[len(v)/2-8:len(v)/2+8])
}

// addToken adds a token and its payload and signature segments.
func (s secretSet) addToken(what, tok string) {
	parts := strings.Split(tok, ".")
	s.add(what, tok, parts[1], parts[2])
}

func (s secretSet) addBytes(what string, b []byte) {
	s.add(what, base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b), hex.EncodeToString(b))
}

// Secrets never reach the log or the metrics; the apikey parameter is redacted
// from the access log; files are private (SPEC §12).
func TestSecretsStayOutOfLogsAndMetrics(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, withLogFormat(format))
			secrets := secretSet{}
			secrets.addKey("admin key", s.admin.APIKey)

			// Exchange as users do, with the key in the query string.
			r := s.do(t, req{method: "POST", path: "/apikey?apikey=" + url.QueryEscape(s.admin.APIKey) + "&role=Administrator"})
			if r.status != http.StatusOK {
				t.Fatalf("query exchange: %d %s", r.status, r.body)
			}
			var v5 client.V5Token
			r.decode(t, &v5)
			secrets.addToken("token", v5.JWT)
			admin := s.client().WithToken(v5.JWT)

			imported := "imported-" + strings.Repeat("Zq9", 12)
			k1 := mustCreateKey(t, admin, client.CreateAPIKey{Name: "generated"})
			k2 := mustCreateKey(t, admin, client.CreateAPIKey{Name: "imported", APIKey: imported, ActionWhenLeaked: "none"})
			k3, err := admin.RotateAPIKey(t.Context(), k1.ID, "1h")
			if err != nil {
				t.Fatal(err)
			}
			secrets.addKey("generated key", k1.APIKey)
			secrets.addKey("imported key", imported)
			secrets.addKey("rotated key", k3.APIKey)

			for _, key := range []string{k1.APIKey, k2.APIKey, k3.APIKey} {
				q := s.do(t, req{method: "POST", path: "/apikey?apikey=" + url.QueryEscape(key)})
				f := s.postForm(t, "/apikey", url.Values{"apikey": {key}})
				i := s.postForm(t, "/identity/token", url.Values{"grant_type": {grantAPIKey}, "apikey": {key}, "role": {"Reader"}})
				for _, rr := range []reply{q, f, i} {
					if rr.status != http.StatusOK {
						t.Fatalf("exchange: %d %s", rr.status, rr.body)
					}
					var body struct {
						JWT         string `json:"jwt"`
						AccessToken string `json:"access_token"`
					}
					rr.decode(t, &body)
					secrets.addToken("token", body.JWT+body.AccessToken)
				}
			}
			if _, err := admin.GetAPIKeyDetails(t.Context(), k2.APIKey); err != nil {
				t.Fatal(err)
			}
			unknown, _ := iam.GenerateKey(nil)
			nearMiss := k3.APIKey[:len(k3.APIKey)-1] + flip(k3.APIKey[len(k3.APIKey)-1])
			foreign := "foreign-" + strings.Repeat("Xy7", 12)
			secrets.addKey("unknown key", unknown)
			secrets.addKey("mistyped key", nearMiss)
			secrets.addKey("foreign key", foreign)
			if _, err := admin.ReportLeakedAPIKeys(t.Context(), []string{k2.APIKey, unknown}); err != nil {
				t.Fatal(err)
			}
			if _, err := admin.GetAPIKeyDetails(t.Context(), foreign); client.StatusOf(err) != http.StatusNotFound {
				t.Fatalf("details of an unknown key: %v", err)
			}
			for _, bad := range []string{unknown, nearMiss, foreign} {
				wantTokenError(t, s.do(t, req{method: "POST", path: "/apikey?apikey=" + url.QueryEscape(bad)}), 400, "BXNIM0415E")
				wantTokenError(t, s.postForm(t, "/identity/token", url.Values{"grant_type": {grantAPIKey}, "apikey": {bad}}), 400, "BXNIM0415E")
			}
			// Keys and tokens sent where they do not belong.
			wantUnauthorized(t, s.do(t, req{method: "GET", path: "/v1/me", token: unknown}))
			wantUnauthorized(t, s.do(t, req{method: "GET", path: "/v1/me", token: v5.JWT + "x"}))
			wantTokenError(t, s.do(t, req{method: "GET", path: "/apikey?apikey=" + url.QueryEscape(k3.APIKey)}), 405, "BXNIM0060E")

			// Key material: the master key and every signing key's private part.
			mkFile, err := os.ReadFile(s.cfg.MasterKeyFile)
			if err != nil {
				t.Fatal(err)
			}
			mk, _, err := token.LoadOrCreateMasterKey(s.cfg.MasterKeyFile)
			if err != nil {
				t.Fatal(err)
			}
			secrets.add("master key file", strings.TrimSpace(string(mkFile)))
			secrets.addBytes("master key", mk)
			sealer, err := token.NewSealer(mk)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := s.app.Store().ListSigningKeys(t.Context())
			if err != nil || len(recs) == 0 {
				t.Fatalf("signing keys: %d, %v", len(recs), err)
			}
			for _, rec := range recs {
				der, err := sealer.Open(rec.PrivateKey, []byte(rec.ID))
				if err != nil {
					t.Fatal(err)
				}
				secrets.addBytes("signing key (PKCS#8)", der)
				priv, err := x509.ParsePKCS8PrivateKey(der)
				if err != nil {
					t.Fatal(err)
				}
				ec, ok := priv.(*ecdsa.PrivateKey)
				if !ok {
					t.Fatalf("signing key %T", priv)
				}
				d, _ := ec.Bytes()
				secrets.addBytes("signing key scalar", d)
				secrets.add("signing key scalar", new(big.Int).SetBytes(d).String())
				secrets.addBytes("sealed signing key", rec.PrivateKey)
			}

			m := s.do(t, req{method: "GET", path: "/metrics"})
			if m.status != http.StatusOK || !strings.Contains(string(m.body), `gatehouse_token_exchanges_total{endpoint="v5",outcome="success"}`) {
				t.Fatalf("metrics: %d, no exchange counter:\n%.2000s", m.status, m.body)
			}
			logText := s.logs.String()
			for form, what := range secrets {
				if strings.Contains(logText, form) {
					t.Errorf("the log holds the %s", what)
				}
				if strings.Contains(string(m.body), form) {
					t.Errorf("the metrics hold the %s", what)
				}
			}

			// The access log shows the query exchanges, parameter redacted.
			redacted := 0
			for line := range strings.Lines(logText) {
				if strings.Contains(line, "/apikey?") && strings.Contains(line, "apikey=REDACTED") {
					redacted++
				}
			}
			if redacted < 5 { // 1 admin + 3 keys + 3 failed + 1 GET, at least the successes
				t.Errorf("%d access-log lines show /apikey?apikey=REDACTED:\n%s", redacted, logText)
			}
			if format == "json" {
				found := false
				for _, rec := range s.logs.records(t) {
					if rec["msg"] == "request" && rec["method"] == "POST" && rec["status"] == float64(200) &&
						rec["path"] == "/apikey?apikey=REDACTED&role=Administrator" {
						found = true
					}
				}
				if !found {
					t.Error("no access-log record for POST /apikey?apikey=REDACTED&role=Administrator with status 200")
				}
			}

			checkMode(t, s.DataDir, 0o700)
			checkMode(t, s.cfg.MasterKeyFile, 0o600)
			checkMode(t, s.cfg.BootstrapFile, 0o600)
			checkMode(t, filepath.Join(s.DataDir, "gatehouse.db"), 0o600)
			if filepath.Dir(s.cfg.MasterKeyFile) != s.DataDir || filepath.Dir(s.cfg.BootstrapFile) != s.DataDir {
				t.Errorf("key files outside the data directory: %s, %s", s.cfg.MasterKeyFile, s.cfg.BootstrapFile)
			}
		})
	}
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %04o, want %04o", path, got, want)
	}
}
