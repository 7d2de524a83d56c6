// Package config is the typed configuration of `gatehouse serve` and `gatehouse
// init`: flags, their GATEHOUSE_* environment equivalents (a flag beats the
// environment), derived defaults, and one Validate that reports every problem at
// once. It never opens files or sockets.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"gatehouse/internal/token"
)

// Config is everything `serve` needs. Zero-valued derived fields (Database,
// Issuer, MasterKeyFile, BootstrapFile) are filled in by Finalize.
type Config struct {
	Addr               string
	GatewayAddr        string
	DataDir            string
	Database           string
	Redis              string
	Issuer             string
	TokenTTL           time.Duration
	SigningAlg         string
	SigningKeyRotation time.Duration
	MasterKeyFile      string
	TLSCert            string
	TLSKey             string
	LogFormat          string
	LogLevel           string
	TrustedProxies     []netip.Prefix
	BootstrapFile      string
	TokenFailureLimit  int
	TokenFailureWindow time.Duration
	AnalyticsRetention time.Duration

	trustedProxies string // raw flag value, parsed by Validate
}

// MaxTokenTTL is the largest accepted --token-ttl (SPEC §1).
const MaxTokenTTL = token.MaxTokenTTL

// Default returns the defaults of SPEC §1.
func Default() Config {
	return Config{
		Addr:               "127.0.0.1:8080",
		GatewayAddr:        "127.0.0.1:8081",
		DataDir:            "./gatehouse-data",
		TokenTTL:           time.Hour,
		SigningAlg:         "ES256",
		SigningKeyRotation: 30 * 24 * time.Hour,
		LogFormat:          "text",
		LogLevel:           "info",
		TokenFailureLimit:  20,
		TokenFailureWindow: time.Minute,
		AnalyticsRetention: 7 * 24 * time.Hour,
	}
}

// RegisterFlags binds c's fields to flags on fs; the values already in c are the defaults.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "management API, token service and console listen address")
	fs.StringVar(&c.GatewayAddr, "gateway-addr", c.GatewayAddr, "gateway listen address")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory (created 0700)")
	fs.StringVar(&c.Database, "database", c.Database, "sqlite://PATH or postgres://… (default sqlite://<data>/gatehouse.db)")
	fs.StringVar(&c.Redis, "redis", c.Redis, "redis://… for shared rate-limit counters (cluster mode)")
	fs.StringVar(&c.Issuer, "issuer", c.Issuer, "iss of every token and base of discovery URLs (default http://<addr>)")
	fs.Var((*durationValue)(&c.TokenTTL), "token-ttl", "access-token lifetime, at most 24h")
	fs.StringVar(&c.SigningAlg, "signing-alg", c.SigningAlg, "ES256, ES384, EdDSA or RS256")
	fs.Var((*durationValue)(&c.SigningKeyRotation), "signing-key-rotation", "how often signing keys rotate (e.g. 30d)")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", c.MasterKeyFile, "32-byte key encrypting secrets at rest (default <data>/master.key, generated 0600)")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "PEM certificate: serve HTTPS on both listeners")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "PEM private key for --tls-cert")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", c.trustedProxies, "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed")
	fs.IntVar(&c.TokenFailureLimit, "token-failure-limit", c.TokenFailureLimit, "failed token requests from one client address before it is refused (429) until the window passes")
	fs.Var((*durationValue)(&c.TokenFailureWindow), "token-failure-window", "the window of --token-failure-limit")
	fs.Var((*durationValue)(&c.AnalyticsRetention), "analytics-retention", "how long gateway call events are kept (e.g. 7d)")
	fs.StringVar(&c.BootstrapFile, "bootstrap-file", c.BootstrapFile, "where the first start writes the admin API key (default <data>/admin-apikey.json)")
}

// EnvName is the environment variable read for a flag: GATEHOUSE_ + name, upper
// case, with '-' as '_'.
func EnvName(flag string) string {
	return "GATEHOUSE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// ApplyEnv sets every flag of fs that was not given on the command line from its
// environment variable, if that is set. Bad values are reported with the
// variable's name.
func ApplyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed {
			return
		}
		name := EnvName(f.Name)
		if v := getenv(name); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	})
	return errors.Join(errs...)
}

// Finalize fills the derived defaults and validates the result.
func (c *Config) Finalize() error {
	if c.Database == "" {
		c.Database = "sqlite://" + filepath.Join(c.DataDir, "gatehouse.db")
	}
	if c.MasterKeyFile == "" {
		c.MasterKeyFile = filepath.Join(c.DataDir, "master.key")
	}
	if c.BootstrapFile == "" {
		c.BootstrapFile = filepath.Join(c.DataDir, "admin-apikey.json")
	}
	return c.Validate()
}

// Validate reports every problem with c at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	for _, a := range []struct{ flag, v string }{{"addr", c.Addr}, {"gateway-addr", c.GatewayAddr}} {
		if _, port, err := net.SplitHostPort(a.v); err != nil {
			bad("--%s %q: want host:port", a.flag, a.v)
		} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			bad("--%s %q: bad port", a.flag, a.v)
		}
	}
	if c.DataDir == "" {
		bad("--data: must not be empty")
	}
	switch scheme, _, _ := strings.Cut(c.Database, "://"); scheme {
	case "sqlite":
		if c.SQLitePath() == "" {
			bad("--database %q: want sqlite://PATH", c.Database)
		}
	case "postgres", "postgresql":
		if u, err := url.Parse(c.Database); err != nil || u.Host == "" {
			bad("--database %q: want postgres://USER:PASSWORD@HOST:PORT/DATABASE", redactURL(c.Database))
		}
	default:
		bad("--database %q: want sqlite://PATH or postgres://…", redactURL(c.Database))
	}
	if c.Redis != "" {
		if u, err := url.Parse(c.Redis); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			bad("--redis %q: want redis://[:PASSWORD@]HOST:PORT/DB (or rediss:// for TLS)", redactURL(c.Redis))
		}
	}
	if c.Issuer != "" {
		if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			bad("--issuer %q: want an absolute http(s) URL without query or fragment", c.Issuer)
		}
	}
	if c.TokenTTL < time.Minute || c.TokenTTL > MaxTokenTTL {
		bad("--token-ttl %s: must be between 1m and 24h", c.TokenTTL)
	}
	if _, err := token.ParseAlgorithm(c.SigningAlg); err != nil {
		bad("--signing-alg %q: want ES256, ES384, EdDSA or RS256", c.SigningAlg)
	}
	if c.SigningKeyRotation < time.Hour {
		bad("--signing-key-rotation %s: must be at least 1h", c.SigningKeyRotation)
	}
	if c.TokenFailureLimit < 1 || c.TokenFailureLimit > 1_000_000 {
		bad("--token-failure-limit %d: must be between 1 and 1000000", c.TokenFailureLimit)
	}
	if c.TokenFailureWindow < time.Second || c.TokenFailureWindow > 24*time.Hour {
		bad("--token-failure-window %s: must be between 1s and 24h", c.TokenFailureWindow)
	}
	if c.AnalyticsRetention < time.Hour {
		bad("--analytics-retention %s: must be at least 1h", c.AnalyticsRetention)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("--tls-cert and --tls-key go together")
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("--log-format %q: want text or json", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	c.TrustedProxies = nil
	for _, s := range strings.Split(c.trustedProxies, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := parsePrefix(s)
		if err != nil {
			bad("--trusted-proxies: %q is not a CIDR or IP address", s)
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	return errors.Join(errs...)
}

// SetTrustedProxies sets the raw --trusted-proxies value (for programmatic use; Validate parses it).
func (c *Config) SetTrustedProxies(s string) { c.trustedProxies = s }

// Postgres reports whether the database is PostgreSQL (cluster mode).
func (c *Config) Postgres() bool {
	return strings.HasPrefix(c.Database, "postgres://") || strings.HasPrefix(c.Database, "postgresql://")
}

// SQLitePath is the file path of a sqlite:// database URL.
func (c *Config) SQLitePath() string {
	p, ok := strings.CutPrefix(c.Database, "sqlite://")
	if !ok {
		return ""
	}
	return p
}

// TLS reports whether the listeners serve HTTPS.
func (c *Config) TLS() bool { return c.TLSCert != "" }

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// redactURL hides a password in a URL so it can be printed. A value that does
// not parse as a URL with an authority (a mistyped port, a missing "//") may
// still hold one: everything between its scheme and its last '@' is hidden.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.Opaque == "" {
		if u.User == nil {
			return s
		}
		// Scheme and host only: the user name, path, query or fragment
		// could repeat the password ("a://:pw@#:pw@").
		r := u.Scheme + "://xxxxx@" + u.Host
		if u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
			r += "/…"
		}
		return r
	}
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return s
	}
	start := 0
	if i := strings.Index(s, "://"); i >= 0 && i+3 <= at {
		start = i + 3
	} else if i := strings.Index(s, ":"); i >= 0 && i < at {
		start = i + 1
	}
	return s[:start] + "xxxxx" + s[at:]
}

// EnsureDataDir creates dir 0700, or tightens an existing one to 0700.
func EnsureDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("data directory %s is not a directory", dir)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("data directory: set mode 0700: %w", err)
		}
	}
	return nil
}
