package config_test

import (
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"gatehouse/internal/config"
)

// FuzzEnv sets one GATEHOUSE_* variable to a fuzzed value and finalizes the
// configuration, as `serve` does. Whatever the value: no panic; a failure of
// ApplyEnv names the variable; a configuration that passes is one the server
// can use (addresses, limits, database kind); and no message ever shows the
// password of a URL (SPEC §12: secrets never in error messages). Seeds:
// testdata/fuzz/FuzzEnv.
func FuzzEnv(f *testing.F) {
	var names []string
	flags(config.Default()).VisitAll(func(fl *pflag.Flag) { names = append(names, fl.Name) })
	f.Add("database", "postgres://gh:s3cret@127.0.0.1:5432/gh")
	f.Add("redis", "redis://:s3cret@127.0.0.1:6379/0")
	f.Add("token-ttl", "24h")
	f.Add("signing-key-rotation", "30d")
	f.Add("trusted-proxies", "10.0.0.0/8, ::1")
	f.Add("addr", "[::1]:0")
	f.Add("issuer", "https://id.example.com/base")
	f.Add("token-failure-limit", "20")
	f.Fuzz(func(t *testing.T, flag, value string) {
		if !slices.Contains(names, flag) {
			flag = names[len(flag)%len(names)]
		}
		cfg := config.Default()
		cfg.DataDir = "/srv/gatehouse"
		fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		cfg.RegisterFlags(fs)
		env := config.EnvName(flag)
		err := config.ApplyEnv(fs, func(name string) string {
			if name == env {
				return value
			}
			return ""
		})
		if err != nil {
			if !strings.Contains(err.Error(), env) {
				t.Fatalf("ApplyEnv error does not name %s: %v", env, err)
			}
			noPassword(t, flag, value, err)
			return
		}
		if err := cfg.Finalize(); err != nil {
			noPassword(t, flag, value, err)
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Validate after a successful Finalize: %v", err)
		}
		for _, a := range []string{cfg.Addr, cfg.GatewayAddr} {
			if _, _, err := net.SplitHostPort(a); err != nil {
				t.Fatalf("accepted address %q: %v", a, err)
			}
		}
		if cfg.TokenTTL < time.Minute || cfg.TokenTTL > config.MaxTokenTTL || cfg.SigningKeyRotation < time.Hour ||
			cfg.TokenFailureLimit < 1 || cfg.TokenFailureWindow < time.Second || cfg.AnalyticsRetention < time.Hour {
			t.Fatalf("accepted limits out of range: %+v", cfg)
		}
		if cfg.Postgres() == (cfg.SQLitePath() != "") {
			t.Fatalf("database %q is both or neither PostgreSQL and SQLite", cfg.Database)
		}
		for _, p := range cfg.TrustedProxies {
			if !p.IsValid() || p != p.Masked() {
				t.Fatalf("trusted proxy %v", p)
			}
		}
	})
}

func flags(c config.Config) *pflag.FlagSet {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	c.RegisterFlags(fs)
	return fs
}

// noPassword fails when err shows the user:password part of the URL of a
// flag that holds credentials.
func noPassword(t *testing.T, flag, value string, err error) {
	t.Helper()
	scheme, rest, ok := strings.Cut(value, "://")
	if !ok || !validScheme(scheme) || (flag != "database" && flag != "redis") {
		return
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i] // the authority (RFC 3986): an '@' after it is no userinfo
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return
	}
	userinfo := rest[:at]
	if _, pw, ok := strings.Cut(userinfo, ":"); ok && pw != "" && strings.Contains(err.Error(), userinfo+"@") {
		t.Fatalf("the error shows the password of %q: %v", value, err)
	}
}

// validScheme reports whether s is a URL scheme (RFC 3986), so that "://"
// after it starts an authority.
func validScheme(s string) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}
