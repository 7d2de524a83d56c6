package config_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"gatehouse/internal/config"
)

// valid is a configuration that passes Validate; cases change one thing.
func valid(t *testing.T) config.Config {
	t.Helper()
	c := config.Default()
	c.DataDir = "/srv/gatehouse"
	if err := c.Finalize(); err != nil {
		t.Fatalf("Finalize of the defaults: %v", err)
	}
	return c
}

func TestDefaultMatchesSpec(t *testing.T) {
	got := config.Default()
	want := config.Config{
		Addr:               "127.0.0.1:8080",
		GatewayAddr:        "127.0.0.1:8081",
		DataDir:            "./gatehouse-data",
		TokenTTL:           time.Hour,
		SigningAlg:         "ES256",
		SigningKeyRotation: 30 * 24 * time.Hour,
		LogFormat:          "text",
		LogLevel:           "info",
		// Database, Issuer, MasterKeyFile and BootstrapFile are derived (Finalize,
		// and the bound address for the issuer); Redis, TLS and proxies are empty.
	}
	if !configEqual(got, want) {
		t.Errorf("Default() = %+v\nwant %+v", got, want)
	}
	if err := got.Finalize(); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
	if got.Database != "sqlite://gatehouse-data/gatehouse.db" || got.SQLitePath() != "gatehouse-data/gatehouse.db" {
		t.Errorf("default database = %q (path %q), want sqlite://<data>/gatehouse.db", got.Database, got.SQLitePath())
	}
	if got.Issuer != "" {
		t.Errorf("default issuer = %q; it must stay empty so that the server derives http://<bound addr>", got.Issuer)
	}
	if got.TLS() {
		t.Error("TLS() is true by default")
	}
}

func configEqual(a, b config.Config) bool {
	return a.Addr == b.Addr && a.GatewayAddr == b.GatewayAddr && a.DataDir == b.DataDir &&
		a.Database == b.Database && a.Redis == b.Redis && a.Issuer == b.Issuer &&
		a.TokenTTL == b.TokenTTL && a.SigningAlg == b.SigningAlg &&
		a.SigningKeyRotation == b.SigningKeyRotation && a.MasterKeyFile == b.MasterKeyFile &&
		a.TLSCert == b.TLSCert && a.TLSKey == b.TLSKey && a.LogFormat == b.LogFormat &&
		a.LogLevel == b.LogLevel && slices.Equal(a.TrustedProxies, b.TrustedProxies) &&
		a.BootstrapFile == b.BootstrapFile
}

func TestEnvName(t *testing.T) {
	for flag, want := range map[string]string{
		"gateway-addr":    "GATEHOUSE_GATEWAY_ADDR",
		"addr":            "GATEHOUSE_ADDR",
		"token-ttl":       "GATEHOUSE_TOKEN_TTL",
		"master-key-file": "GATEHOUSE_MASTER_KEY_FILE",
		"trusted-proxies": "GATEHOUSE_TRUSTED_PROXIES",
	} {
		if got := config.EnvName(flag); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", flag, got, want)
		}
	}
}

// load parses args into a fresh config, applies env as the environment and
// finalizes, the way the serve command does.
func load(args []string, env map[string]string) (config.Config, error) {
	c := config.Default()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(discard{})
	c.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := config.ApplyEnv(fs, func(k string) string { return env[k] }); err != nil {
		return c, err
	}
	return c, c.Finalize()
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestFlagsAndEnvironment(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c config.Config)
	}{
		{
			name: "ok/nothing-given-keeps-defaults",
			check: func(t *testing.T, c config.Config) {
				if c.GatewayAddr != "127.0.0.1:8081" || c.TokenTTL != time.Hour || c.LogFormat != "text" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "ok/flag-beats-environment",
			args: []string{"--gateway-addr", "127.0.0.1:9001", "--token-ttl", "15m", "--log-format=json"},
			env: map[string]string{
				"GATEHOUSE_GATEWAY_ADDR": "127.0.0.1:9002",
				"GATEHOUSE_TOKEN_TTL":    "2h",
				"GATEHOUSE_LOG_FORMAT":   "text",
			},
			check: func(t *testing.T, c config.Config) {
				if c.GatewayAddr != "127.0.0.1:9001" || c.TokenTTL != 15*time.Minute || c.LogFormat != "json" {
					t.Errorf("flags lost to the environment: gateway %q ttl %s log %q", c.GatewayAddr, c.TokenTTL, c.LogFormat)
				}
			},
		},
		{
			name: "ok/environment-applies-when-flag-absent",
			args: []string{"--addr", "0.0.0.0:8000"},
			env: map[string]string{
				"GATEHOUSE_GATEWAY_ADDR":         "127.0.0.1:9002",
				"GATEHOUSE_TOKEN_TTL":            "2h",
				"GATEHOUSE_SIGNING_KEY_ROTATION": "7d",
				"GATEHOUSE_SIGNING_ALG":          "EdDSA",
				"GATEHOUSE_DATA":                 "/var/lib/gh",
				"GATEHOUSE_TRUSTED_PROXIES":      "10.0.0.0/8",
			},
			check: func(t *testing.T, c config.Config) {
				if c.Addr != "0.0.0.0:8000" || c.GatewayAddr != "127.0.0.1:9002" || c.TokenTTL != 2*time.Hour ||
					c.SigningKeyRotation != 7*24*time.Hour || c.SigningAlg != "EdDSA" || c.DataDir != "/var/lib/gh" {
					t.Errorf("environment not applied: %+v", c)
				}
				if c.Database != "sqlite:///var/lib/gh/gatehouse.db" {
					t.Errorf("database derived from GATEHOUSE_DATA = %q", c.Database)
				}
				if want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}; !slices.Equal(c.TrustedProxies, want) {
					t.Errorf("trusted proxies = %v, want %v", c.TrustedProxies, want)
				}
			},
		},
		{
			name: "ok/empty-environment-variable-is-ignored",
			env:  map[string]string{"GATEHOUSE_ADDR": "", "GATEHOUSE_TOKEN_TTL": ""},
			check: func(t *testing.T, c config.Config) {
				if c.Addr != "127.0.0.1:8080" || c.TokenTTL != time.Hour {
					t.Errorf("got addr %q ttl %s", c.Addr, c.TokenTTL)
				}
			},
		},
		{
			name: "ok/day-durations-on-flags",
			args: []string{"--signing-key-rotation", "90d"},
			check: func(t *testing.T, c config.Config) {
				if c.SigningKeyRotation != 90*24*time.Hour {
					t.Errorf("rotation = %s", c.SigningKeyRotation)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(tt.args, tt.env)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestBadInputIsNamed(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // substrings of the error
	}{
		{
			name: "fail/bad-env-duration-names-the-variable",
			env:  map[string]string{"GATEHOUSE_TOKEN_TTL": "soon"},
			want: []string{"GATEHOUSE_TOKEN_TTL", "soon"},
		},
		{
			name: "fail/every-bad-env-variable-is-named",
			env: map[string]string{
				"GATEHOUSE_TOKEN_TTL":            "soon",
				"GATEHOUSE_SIGNING_KEY_ROTATION": "monthly",
			},
			want: []string{"GATEHOUSE_TOKEN_TTL", "GATEHOUSE_SIGNING_KEY_ROTATION"},
		},
		{
			name: "fail/bad-flag-duration",
			args: []string{"--token-ttl", "junk"},
			want: []string{"token-ttl", "junk"},
		},
		{
			name: "fail/env-value-out-of-range-is-validated",
			env:  map[string]string{"GATEHOUSE_TOKEN_TTL": "48h"},
			want: []string{"token-ttl", "24h"},
		},
		{
			name: "fail/bad-flag-not-hidden-by-good-env",
			args: []string{"--signing-alg", "HS256"},
			env:  map[string]string{"GATEHOUSE_SIGNING_ALG": "ES256"},
			want: []string{"--signing-alg", "HS256"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(tt.args, tt.env)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestFinalizeDerivesPathsFromData(t *testing.T) {
	tests := []struct {
		name                                     string
		setup                                    func(c *config.Config)
		wantDB, wantMasterKey, wantBootstrapFile string
	}{
		{
			name:              "ok/derived-from-data",
			setup:             func(c *config.Config) { c.DataDir = "/srv/gh" },
			wantDB:            "sqlite:///srv/gh/gatehouse.db",
			wantMasterKey:     "/srv/gh/master.key",
			wantBootstrapFile: "/srv/gh/admin-apikey.json",
		},
		{
			name:              "ok/relative-data",
			setup:             func(c *config.Config) { c.DataDir = "state" },
			wantDB:            "sqlite://state/gatehouse.db",
			wantMasterKey:     "state/master.key",
			wantBootstrapFile: "state/admin-apikey.json",
		},
		{
			name: "ok/explicit-values-are-kept",
			setup: func(c *config.Config) {
				c.DataDir = "/srv/gh"
				c.Database = "sqlite:///var/db/gh.db"
				c.MasterKeyFile = "/etc/gh/master.key"
				c.BootstrapFile = "/srv/gatehouse/admin.json"
			},
			wantDB:            "sqlite:///var/db/gh.db",
			wantMasterKey:     "/etc/gh/master.key",
			wantBootstrapFile: "/srv/gatehouse/admin.json",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.setup(&c)
			if err := c.Finalize(); err != nil {
				t.Fatalf("Finalize: %v", err)
			}
			if c.Database != tt.wantDB || c.MasterKeyFile != tt.wantMasterKey || c.BootstrapFile != tt.wantBootstrapFile {
				t.Errorf("got database %q, master key %q, bootstrap file %q; want %q, %q, %q",
					c.Database, c.MasterKeyFile, c.BootstrapFile, tt.wantDB, tt.wantMasterKey, tt.wantBootstrapFile)
			}
		})
	}
}

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	c := valid(t)
	c.Addr = "nope"
	c.GatewayAddr = "127.0.0.1:99999"
	c.DataDir = ""
	c.Database = "mysql://db"
	c.Redis = "cache:6379" // no scheme
	c.Issuer = "ftp://issuer"
	c.TokenTTL = 48 * time.Hour
	c.SigningAlg = "HS256"
	c.SigningKeyRotation = time.Minute
	c.TLSCert = "cert.pem"
	c.LogFormat = "xml"
	c.LogLevel = "loud"
	c.SetTrustedProxies("10.0.0.0/8,not-an-ip")
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted a config with a dozen problems")
	}
	for _, flag := range []string{
		"--addr", "--gateway-addr", "--data", "--database", "--redis", "--issuer", "--token-ttl",
		"--signing-alg", "--signing-key-rotation", "--tls-cert", "--log-format", "--log-level",
		"--trusted-proxies",
	} {
		if !strings.Contains(err.Error(), flag+" ") && !strings.Contains(err.Error(), flag+":") {
			t.Errorf("error does not name %s:\n%v", flag, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n < 13 {
		t.Errorf("%d problems reported, want 13 (one per line):\n%v", n, err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *config.Config)
		want   string // "" = valid; else a substring of the error
		not    string // must not be in the error
		check  func(t *testing.T, c config.Config)
	}{
		{name: "ok/defaults", change: func(*config.Config) {}},

		// cluster mode is not there yet: say so, not "bad URL"
		{name: "ok/postgres", change: func(c *config.Config) { c.Database = "postgres://gh:s3cret@db/gh" }},
		{name: "ok/postgresql", change: func(c *config.Config) { c.Database = "postgresql://db/gh" }},
		{name: "ok/redis", change: func(c *config.Config) { c.Redis = "redis://cache:6379/0" }},
		{name: "fail/postgres-without-host", change: func(c *config.Config) { c.Database = "postgres:///gh" }, want: "--database"},
		{name: "fail/redis-without-host", change: func(c *config.Config) { c.Redis = "redis:///0" }, want: "--redis"},
		{name: "fail/redis-wrong-scheme", change: func(c *config.Config) { c.Redis = "http://:s3cret@cache:6379" }, want: "--redis", not: "s3cret"},
		{name: "fail/unknown-database-scheme", change: func(c *config.Config) { c.Database = "mysql://root:hunter22@db/gh" }, want: "--database", not: "hunter22"},
		{name: "fail/sqlite-without-path", change: func(c *config.Config) { c.Database = "sqlite://" }, want: "--database"},
		{name: "ok/sqlite-path", change: func(c *config.Config) { c.Database = "sqlite:///var/lib/gatehouse/x.db" }},

		{name: "fail/token-ttl-under-1m", change: func(c *config.Config) { c.TokenTTL = 59 * time.Second }, want: "--token-ttl"},
		{name: "fail/token-ttl-zero", change: func(c *config.Config) { c.TokenTTL = 0 }, want: "--token-ttl"},
		{name: "fail/token-ttl-negative", change: func(c *config.Config) { c.TokenTTL = -time.Hour }, want: "--token-ttl"},
		{name: "ok/token-ttl-1m", change: func(c *config.Config) { c.TokenTTL = time.Minute }},
		{name: "ok/token-ttl-24h", change: func(c *config.Config) { c.TokenTTL = 24 * time.Hour }},
		{name: "fail/token-ttl-over-24h", change: func(c *config.Config) { c.TokenTTL = 24*time.Hour + time.Second }, want: "--token-ttl"},

		{name: "ok/signing-alg-ES256", change: func(c *config.Config) { c.SigningAlg = "ES256" }},
		{name: "ok/signing-alg-ES384", change: func(c *config.Config) { c.SigningAlg = "ES384" }},
		{name: "ok/signing-alg-EdDSA", change: func(c *config.Config) { c.SigningAlg = "EdDSA" }},
		{name: "ok/signing-alg-RS256", change: func(c *config.Config) { c.SigningAlg = "RS256" }},
		{name: "fail/signing-alg-HS256", change: func(c *config.Config) { c.SigningAlg = "HS256" }, want: `--signing-alg "HS256"`},
		{name: "fail/signing-alg-lower-case", change: func(c *config.Config) { c.SigningAlg = "es256" }, want: "--signing-alg"},
		{name: "fail/signing-alg-none", change: func(c *config.Config) { c.SigningAlg = "none" }, want: "--signing-alg"},
		{name: "fail/signing-alg-empty", change: func(c *config.Config) { c.SigningAlg = "" }, want: "--signing-alg"},

		{name: "ok/log-format-json", change: func(c *config.Config) { c.LogFormat = "json" }},
		{name: "ok/log-format-text", change: func(c *config.Config) { c.LogFormat = "text" }},
		{name: "fail/log-format-xml", change: func(c *config.Config) { c.LogFormat = "xml" }, want: "--log-format"},
		{name: "fail/log-format-empty", change: func(c *config.Config) { c.LogFormat = "" }, want: "--log-format"},

		{name: "ok/tls-cert-and-key", change: func(c *config.Config) { c.TLSCert, c.TLSKey = "c.pem", "k.pem" }},
		{name: "fail/tls-cert-without-key", change: func(c *config.Config) { c.TLSCert = "c.pem" }, want: "--tls-cert and --tls-key"},
		{name: "fail/tls-key-without-cert", change: func(c *config.Config) { c.TLSKey = "k.pem" }, want: "--tls-cert and --tls-key"},

		{name: "ok/issuer-https", change: func(c *config.Config) { c.Issuer = "https://gh.example.com" }},
		{name: "fail/issuer-not-http", change: func(c *config.Config) { c.Issuer = "ftp://gh.example.com" }, want: "--issuer"},
		{name: "fail/issuer-relative", change: func(c *config.Config) { c.Issuer = "/iam" }, want: "--issuer"},
		{name: "fail/issuer-with-query", change: func(c *config.Config) { c.Issuer = "https://gh.example.com/?a=b" }, want: "--issuer"},

		{name: "ok/addr-any-host", change: func(c *config.Config) { c.Addr = ":8080" }},
		{name: "ok/addr-port-0", change: func(c *config.Config) { c.Addr = "127.0.0.1:0" }},
		{name: "fail/addr-without-port", change: func(c *config.Config) { c.Addr = "localhost" }, want: "--addr"},
		{name: "fail/addr-port-too-big", change: func(c *config.Config) { c.Addr = "127.0.0.1:65536" }, want: "--addr"},
		{name: "fail/gateway-addr-named-port", change: func(c *config.Config) { c.GatewayAddr = "127.0.0.1:http" }, want: "--gateway-addr"},
		{name: "fail/data-empty", change: func(c *config.Config) { c.DataDir = "" }, want: "--data"},
		{name: "fail/rotation-under-1h", change: func(c *config.Config) { c.SigningKeyRotation = time.Minute }, want: "--signing-key-rotation"},
		{name: "fail/log-level", change: func(c *config.Config) { c.LogLevel = "trace" }, want: "--log-level"},

		{
			name: "ok/trusted-proxies-cidrs-and-bare-ips", change: func(c *config.Config) {
				c.SetTrustedProxies("10.0.0.0/8, 192.168.1.7 ,fd00::/8,::1,172.16.5.4/12,,")
			},
			check: func(t *testing.T, c config.Config) {
				want := []netip.Prefix{
					netip.MustParsePrefix("10.0.0.0/8"),
					netip.MustParsePrefix("192.168.1.7/32"), // a bare IP is a single host
					netip.MustParsePrefix("fd00::/8"),
					netip.MustParsePrefix("::1/128"),
					netip.MustParsePrefix("172.16.0.0/12"), // host bits masked off
				}
				if !slices.Equal(c.TrustedProxies, want) {
					t.Errorf("trusted proxies = %v, want %v", c.TrustedProxies, want)
				}
			},
		},
		{
			name:   "ok/trusted-proxies-empty",
			change: func(c *config.Config) { c.SetTrustedProxies("") },
			check: func(t *testing.T, c config.Config) {
				if len(c.TrustedProxies) != 0 {
					t.Errorf("trusted proxies = %v, want none", c.TrustedProxies)
				}
			},
		},
		{name: "fail/trusted-proxies-junk", change: func(c *config.Config) { c.SetTrustedProxies("10.0.0.0/8,proxy.local") }, want: `"proxy.local"`},
		{name: "fail/trusted-proxies-bad-prefix-length", change: func(c *config.Config) { c.SetTrustedProxies("10.0.0.0/33") }, want: "--trusted-proxies"},
		{name: "fail/trusted-proxies-bad-ip", change: func(c *config.Config) { c.SetTrustedProxies("300.1.1.1") }, want: "--trusted-proxies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid(t)
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("Validate accepted it; want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if err != nil && tt.not != "" && strings.Contains(err.Error(), tt.not) {
				t.Errorf("error %q leaks %q", err, tt.not)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestValidateReparsesTrustedProxies(t *testing.T) {
	c := valid(t)
	c.SetTrustedProxies("10.0.0.1")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 1 {
		t.Errorf("after two Validate calls: %v, want one prefix", c.TrustedProxies)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "30d", want: 30 * 24 * time.Hour},
		{in: "1d", want: 24 * time.Hour},
		{in: "0d", want: 0},
		{in: "3650d", want: 3650 * 24 * time.Hour},
		{in: "90s", want: 90 * time.Second},
		{in: "30m", want: 30 * time.Minute},
		{in: "24h", want: 24 * time.Hour},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "1.5h", want: 90 * time.Minute},
		{in: "", bad: true},
		{in: "d", bad: true},
		{in: "30", bad: true},
		{in: "junk", bad: true},
		{in: "1w", bad: true},
		{in: "-1d", bad: true},
		{in: "1.5d", bad: true},
		{in: "3651d", bad: true},
		{in: "99999999999999999999d", bad: true},
		{in: "30 d", bad: true},
		{in: "h", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := config.ParseDuration(tt.in)
			if tt.bad {
				if err == nil {
					t.Fatalf("ParseDuration(%q) = %s, want an error", tt.in, got)
				}
				if !strings.Contains(err.Error(), strconv.Quote(tt.in)) {
					t.Errorf("error %q does not quote the input", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseDuration(%q) = %s, %v; want %s", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestEnsureDataDir(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string) // dir does not exist yet
		wantErr bool
	}{
		{name: "ok/creates-missing-dir-and-parents"},
		{name: "ok/tightens-0755", setup: mkdir(0o755)},
		{name: "ok/tightens-0777", setup: mkdir(0o777)},
		{name: "ok/keeps-0700", setup: mkdir(0o700)},
		{name: "ok/opens-up-0500-for-the-owner", setup: mkdir(0o500)},
		{
			name: "fail/a-file-is-not-a-dir",
			setup: func(t *testing.T, dir string) {
				if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dir, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a", "data")
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			err := config.EnsureDataDir(dir)
			if tt.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatalf("EnsureDataDir: %v", err)
			}
			fi, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
				t.Errorf("data dir mode = %v, want drwx------", fi.Mode())
			}
		})
	}
}

func mkdir(mode os.FileMode) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil { // Chmod: the umask does not apply
			t.Fatal(err)
		}
	}
}
