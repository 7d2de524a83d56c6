// Package app wires configuration, store, services and listeners into a
// running Gatehouse. It owns start-up order and shutdown; it holds no business
// rules. End-to-end tests run the real thing through it on port 0.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"gatehouse/internal/analytics"
	"gatehouse/internal/apim"
	"gatehouse/internal/audit"
	"gatehouse/internal/config"
	"gatehouse/internal/console"
	"gatehouse/internal/gateway"
	"gatehouse/internal/httpapi"
	"gatehouse/internal/iam"
	"gatehouse/internal/ratelimit"
	"gatehouse/internal/store"
	"gatehouse/internal/store/postgres"
	"gatehouse/internal/store/sqlite"
	"gatehouse/internal/token"
)

// Options are the parts tests replace.
type Options struct {
	Now       func() time.Time // default time.Now
	LogOutput io.Writer        // default os.Stderr
	// WatchInterval is how often the change log is polled (default 1s, or
	// 500ms on PostgreSQL, where notifications wake the reader at once and
	// polling is only the safety net).
	WatchInterval time.Duration
	// Tap, when set, sees a copy of every exchange of the management
	// listener (httpapi.Config.Tap); tests use it to check the contract.
	Tap func(httpapi.Exchange)
	// ReadHeaderTimeout is how long a client may take to send a request's
	// headers on either listener (default 10s); tests of slow clients
	// shorten it rather than wait.
	ReadHeaderTimeout time.Duration
}

// App is a configured Gatehouse with its listeners bound.
type App struct {
	cfg      config.Config
	opts     Options
	log      *slog.Logger
	store    store.Store
	keyring  *token.Keyring
	iam      *iam.Service
	apim     *apim.Service
	audit    *audit.Log
	gateway  *gateway.Gateway
	limiter  *ratelimit.Memory // this node's counters (all of them without Redis; the fallback with it)
	redis    *redis.Client
	events   *analytics.Writer
	mgmt     *http.Server
	gw       *http.Server
	mgmtLn   net.Listener
	gwLn     net.Listener
	issuer   string
	closeMu  sync.Mutex
	closed   bool
	bgCancel context.CancelFunc
	bgDone   sync.WaitGroup
	// keysWarm is set once the key digest cache's warm-up after start-up
	// has ended (filled, skipped or failed); /metrics shows it.
	keysWarm atomic.Bool
}

// core is what both `init` and `serve` set up: data directory, master key,
// store, bootstrap.
type core struct {
	log          *slog.Logger
	store        store.Store
	sealer       *token.Sealer
	consoleKey   []byte // the console's CSRF key, derived from the master key
	bootstrapped bool   // this start created the account and admin key
}

func openCore(ctx context.Context, cfg config.Config, opts Options) (*core, error) {
	log := newLogger(cfg, opts.LogOutput)
	if err := config.EnsureDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	mk, created, err := token.LoadOrCreateMasterKey(cfg.MasterKeyFile)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if created {
		log.Info("generated a new master key", "path", cfg.MasterKeyFile)
	}
	sealer, err := token.NewSealer(mk)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	st, err := openStore(ctx, cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := checkMasterKey(ctx, st, sealer, cfg.MasterKeyFile); err != nil {
		st.Close()
		return nil, err
	}
	made, err := iam.Bootstrap(ctx, st, iam.BootstrapOptions{File: cfg.BootstrapFile, Now: opts.Now})
	if err != nil {
		st.Close()
		return nil, err
	}
	if made {
		log.Info("bootstrap: created the account, user admin and an Administrator API key", "file", cfg.BootstrapFile)
	}
	return &core{log: log, store: st, sealer: sealer, consoleKey: console.DeriveKey(mk), bootstrapped: made}, nil
}

// openStore opens the configured backend: SQLite (embedded) or PostgreSQL
// (cluster mode).
func openStore(ctx context.Context, cfg config.Config, opts Options) (store.Store, error) {
	if cfg.Postgres() {
		return postgres.Open(ctx, cfg.Database, postgres.Options{Now: opts.Now})
	}
	return sqlite.Open(ctx, cfg.SQLitePath(), sqlite.Options{Now: opts.Now})
}

const metaMasterKey = "master_key_fingerprint"

// checkMasterKey records the master key's fingerprint on first use and
// refuses to start with a different key, which could not open the stored secrets.
func checkMasterKey(ctx context.Context, st store.Store, s *token.Sealer, path string) error {
	fp := s.Fingerprint()
	err := st.PutMetaIfAbsent(ctx, metaMasterKey, fp)
	if err == nil {
		return nil
	}
	if !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("master key: %w", err)
	}
	have, err := st.GetMeta(ctx, metaMasterKey)
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	if s.CheckFingerprint(have) != nil {
		return fmt.Errorf("the master key in %s is not the one this database was created with; restore the original key file", path)
	}
	return nil
}

func newLogger(cfg config.Config, out io.Writer) *slog.Logger {
	if out == nil {
		out = os.Stderr
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	ho := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(out, ho))
	}
	return slog.New(slog.NewTextHandler(out, ho))
}

// Init creates the data directory, master key, store and the bootstrap admin
// key and first signing key, then returns (`gatehouse init`). It reports
// whether this call bootstrapped the store.
func Init(ctx context.Context, cfg config.Config, opts Options) (bool, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c, err := openCore(ctx, cfg, opts)
	if err != nil {
		return false, err
	}
	defer c.store.Close()
	// init signs no token; the issuer only satisfies the keyring (serve sets its own).
	issuer := cfg.Issuer
	if issuer == "" {
		issuer = "http://" + cfg.Addr
	}
	if _, err := newKeyring(ctx, cfg, opts, c, issuer); err != nil {
		return false, err
	}
	return c.bootstrapped, nil
}

func newKeyring(ctx context.Context, cfg config.Config, opts Options, c *core, issuer string) (*token.Keyring, error) {
	alg, err := token.ParseAlgorithm(cfg.SigningAlg)
	if err != nil {
		return nil, err
	}
	kr, err := token.NewKeyring(ctx, token.Config{
		Store: c.store, Sealer: c.sealer, Algorithm: alg, Issuer: issuer,
		RotationPeriod: cfg.SigningKeyRotation, Now: opts.Now, Logger: c.log,
	})
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return kr, nil
}

// New sets everything up and binds both listeners; Run serves.
func New(ctx context.Context, cfg config.Config, opts Options) (*App, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ReadHeaderTimeout <= 0 {
		opts.ReadHeaderTimeout = 10 * time.Second
	}
	if opts.WatchInterval <= 0 {
		opts.WatchInterval = time.Second
		if cfg.Postgres() {
			opts.WatchInterval = 500 * time.Millisecond
		}
	}
	c, err := openCore(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, opts: opts, log: c.log, store: c.store}
	if err := a.build(ctx, c); err != nil {
		a.closeListeners()
		c.store.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) build(ctx context.Context, c *core) error {
	var tlsCfg *tls.Config
	if a.cfg.TLS() {
		cert, err := tls.LoadX509KeyPair(a.cfg.TLSCert, a.cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	var err error
	if a.mgmtLn, err = listen(a.cfg.Addr, tlsCfg); err != nil {
		return err
	}
	if a.gwLn, err = listen(a.cfg.GatewayAddr, tlsCfg); err != nil {
		return err
	}
	a.issuer = a.cfg.Issuer
	if a.issuer == "" {
		scheme := "http"
		if tlsCfg != nil {
			scheme = "https"
		}
		a.issuer = scheme + "://" + a.mgmtLn.Addr().String()
	}
	if a.keyring, err = newKeyring(ctx, a.cfg, a.opts, c, a.issuer); err != nil {
		return err
	}
	if a.iam, err = iam.New(ctx, iam.Config{
		Store: a.store, Tokens: a.keyring, Issuer: a.issuer, TokenTTL: a.cfg.TokenTTL,
		Now: a.opts.Now,
	}); err != nil {
		return err
	}

	a.audit = audit.New(a.store, a.opts.Now, a.log)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_key_cache_keys",
			Help: "API keys in the digest cache the token exchange looks keys up in.",
		}, func() float64 { return float64(a.iam.CachedKeys()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_key_cache_warm",
			Help: "1 once the digest cache's warm-up after start-up has ended.",
		}, func() float64 {
			if a.keysWarm.Load() {
				return 1
			}
			return 0
		}),
	)
	a.limiter = ratelimit.NewMemory(a.opts.Now)
	var limiter ratelimit.Limiter = a.limiter
	if a.cfg.Redis != "" {
		ro, err := redis.ParseURL(a.cfg.Redis)
		if err != nil {
			return fmt.Errorf("--redis: %w", err)
		}
		a.redis = redis.NewClient(ro)
		fallbacks := prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_ratelimit_redis_fallbacks_total",
			Help: "Times Redis was unreachable and the gateway fell back to per-node rate limits.",
		})
		reg.MustRegister(fallbacks)
		limiter = ratelimit.NewRedis(a.redis, ratelimit.RedisOptions{
			Now: a.opts.Now, Fallback: a.limiter, Logger: a.log, OnFallback: fallbacks.Inc,
		})
	}
	a.events = analytics.NewWriter(a.store, a.log)
	accountID := a.iam.AccountID()
	a.gateway = gateway.New(gateway.Config{
		State:     func(ctx context.Context) (store.GatewayState, error) { return a.store.GatewayState(ctx, accountID) },
		AccountID: accountID, Limiter: limiter, Events: a.events, Now: a.opts.Now, Logger: a.log,
	})
	if err := a.gateway.Load(ctx); err != nil {
		return err
	}
	a.apim = apim.New(apim.Config{
		Store: a.store, AccountID: accountID, Now: a.opts.Now,
		PoliciesChanged: a.iam.InvalidateAll,
		GatewayChanged: func(ctx context.Context) {
			if err := a.gateway.Sync(ctx); err != nil {
				a.log.Warn("gateway: a change is not routed yet; it will be on the next rebuild", "err", err)
			}
		},
	})

	// The console calls the management API in-process (same rules, same
	// audit); the API handler exists only once the server is built.
	var apiHandler http.Handler
	con := console.New(console.Config{
		API:    http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { apiHandler.ServeHTTP(w, r) }),
		Secure: tlsCfg != nil,
		// Derived from the master key, which every node shares: a form
		// rendered by one node is accepted by any other.
		CSRFKey: c.consoleKey, Logger: a.log, Now: a.opts.Now,
	})
	api := httpapi.New(httpapi.Config{
		Console: con,
		IAM:     a.iam, APIM: a.apim, Audit: a.audit, AuditStore: a.store,
		Throttle: iam.NewThrottle(a.cfg.TokenFailureLimit, a.cfg.TokenFailureWindow, a.opts.Now),
		Events:   a.store, Now: a.opts.Now,
		Keyring: a.keyring, Ready: a.store.Ping, Issuer: a.issuer, Logger: a.log,
		Metrics: httpapi.NewMetrics(reg), Gatherer: reg, TrustedProxies: a.cfg.TrustedProxies,
		Tap: a.opts.Tap,
	})
	apiHandler = api.Handler()
	a.mgmt = newHTTPServer(apiHandler, a.log, a.opts.ReadHeaderTimeout)
	a.gw = newHTTPServer(a.gateway, a.log, a.opts.ReadHeaderTimeout)
	return nil
}

func listen(addr string, tlsCfg *tls.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	return ln, nil
}

// newHTTPServer sets the timeouts and limits of SPEC §12 on a server.
func newHTTPServer(h http.Handler, log *slog.Logger, readHeader time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeader,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Addr is the management listener's address (host:port).
func (a *App) Addr() string { return a.mgmtLn.Addr().String() }

// GatewayAddr is the gateway listener's address.
func (a *App) GatewayAddr() string { return a.gwLn.Addr().String() }

// Issuer is the iss of the tokens this app signs.
func (a *App) Issuer() string { return a.issuer }

// Store is the app's store (for tests and the benchmark seeder).
func (a *App) Store() store.Store { return a.store }

// FlushEvents returns once the gateway events emitted so far are written
// (for tests: events are otherwise written in background batches).
func (a *App) FlushEvents(ctx context.Context) error { return a.events.Flush(ctx) }

// Run serves until ctx is done, then drains in-flight requests for up to 30 s
// and releases everything.
func (a *App) Run(ctx context.Context) error {
	a.closeMu.Lock()
	if a.closed {
		a.closeMu.Unlock()
		return errors.New("app: Run after Close")
	}
	bg, cancel := context.WithCancel(context.Background())
	a.bgCancel = cancel
	a.startBackground(bg)
	a.closeMu.Unlock()
	a.log.Info("serving", "addr", a.Addr(), "gateway_addr", a.GatewayAddr(), "issuer", a.issuer)

	errc := make(chan error, 2)
	go func() { errc <- serve(a.mgmt, a.mgmtLn) }()
	go func() { errc <- serve(a.gw, a.gwLn) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	a.log.Info("shutting down")
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	err = errors.Join(err, a.mgmt.Shutdown(sctx), a.gw.Shutdown(sctx))
	return errors.Join(err, a.Close())
}

func serve(s *http.Server, ln net.Listener) error {
	if err := s.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close stops background work, writes pending activity and closes the store.
// Run calls it; call it directly only for an App that never ran.
func (a *App) Close() error {
	a.closeMu.Lock()
	defer a.closeMu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	if a.bgCancel != nil {
		a.bgCancel()
	}
	a.bgDone.Wait()
	a.closeListeners()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	if a.audit != nil {
		a.audit.Close() // after the listeners: nothing records any more
	}
	if a.events != nil {
		a.events.Close()
	}
	if a.redis != nil {
		a.redis.Close()
	}
	if a.iam != nil {
		err = a.iam.FlushActivity(ctx)
	}
	return errors.Join(err, a.store.Close())
}

func (a *App) closeListeners() {
	for _, ln := range []net.Listener{a.mgmtLn, a.gwLn} {
		if ln != nil {
			ln.Close()
		}
	}
}
