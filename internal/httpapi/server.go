package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"gatehouse/api"
	"gatehouse/internal/apim"
	"gatehouse/internal/audit"
	"gatehouse/internal/iam"
	"gatehouse/internal/store"
	"gatehouse/internal/token"
)

// Config holds the Server's dependencies.
type Config struct {
	IAM        *iam.Service
	APIM       *apim.Service
	Audit      *audit.Log
	AuditStore store.AuditStore
	Throttle   *iam.Throttle // brute-force protection of the token endpoints
	Events     store.EventStore
	// Console, when set, is mounted at /console/.
	Console        http.Handler
	Now            func() time.Time
	Keyring        *token.Keyring
	Ready          func(ctx context.Context) error // nil error: ready to serve
	Issuer         string
	Logger         *slog.Logger
	Metrics        *Metrics
	Gatherer       prometheus.Gatherer
	TrustedProxies []netip.Prefix
	// Tap, when set, is called after every response with a copy of the
	// exchange (contract tests). Without it nothing is wrapped or copied.
	Tap func(Exchange)
}

// Server serves the management listener.
type Server struct {
	iam        *iam.Service
	apim       *apim.Service
	audit      *audit.Log
	auditStore store.AuditStore
	throttle   *iam.Throttle
	events     store.EventStore
	console    http.Handler
	now        func() time.Time
	keyring    *token.Keyring
	ready      func(ctx context.Context) error
	issuer     string
	log        *slog.Logger
	metrics    *Metrics
	gatherer   prometheus.Gatherer
	proxies    []netip.Prefix
	tap        func(Exchange)
	mux        *http.ServeMux
	ridBase    string
	ridSeq     atomic.Uint64
}

// New builds the Server and mounts every route.
func New(cfg Config) *Server {
	var b [6]byte
	_, _ = rand.Read(b[:])
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		iam: cfg.IAM, apim: cfg.APIM, audit: cfg.Audit, auditStore: cfg.AuditStore, throttle: cfg.Throttle, events: cfg.Events, now: cfg.Now, console: cfg.Console, keyring: cfg.Keyring, ready: cfg.Ready, issuer: cfg.Issuer,
		log: cfg.Logger, metrics: cfg.Metrics, gatherer: cfg.Gatherer, proxies: cfg.TrustedProxies, tap: cfg.Tap,
		mux: http.NewServeMux(), ridBase: hex.EncodeToString(b[:]) + "-",
	}
	for _, rt := range s.routes() {
		s.mux.Handle(rt.Pattern, s.guard(rt))
	}
	s.mountPublic()
	return s
}

// Handler is the whole management listener: middleware around the router.
func (s *Server) Handler() http.Handler {
	if s.tap != nil {
		return http.HandlerFunc(s.serveTapped)
	}
	return http.HandlerFunc(s.serveHTTP)
}

// requestTimeout bounds the work of one management or token request.
const requestTimeout = 30 * time.Second

type ctxKey int

const ridKey ctxKey = iota

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(ridKey).(string)
	return id
}

// serveHTTP assigns the request id, recovers panics, records metrics and the
// access log, and routes.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rid := s.ridBase + strconv.FormatUint(s.ridSeq.Add(1), 36)
	// No request outlives its timeout, whatever the store does.
	ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), ridKey, rid), requestTimeout)
	defer cancel()
	r = r.WithContext(ctx)
	h := w.Header()
	h.Set("X-Request-Id", rid)
	h.Set("X-Content-Type-Options", "nosniff")
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving request", "request_id", rid, "route", r.Pattern, "panic", p)
			if !rec.wrote {
				s.writeError(rec, r, errInternal)
			}
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		s.metrics.requests.WithLabelValues(route, methodLabel(r.Method), strconv.Itoa(rec.status)).Inc()
		s.metrics.latency.WithLabelValues(route).Observe(d.Seconds())
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", rid),
			slog.String("method", r.Method),
			slog.String("path", redactedURI(r.URL)),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", d),
			slog.String("client", s.clientIP(r).String()),
		)
	}()
	s.route(rec, r)
}

// route dispatches to the mux; when nothing matches, it answers in the API's
// own error shape instead of the mux's plain text (and /v1 still demands a
// token first, so unauthenticated callers cannot probe which paths exist).
// A /v1 path with dot segments is not found: the mux would redirect it,
// method and all (307), to its clean form — another route, another object.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	v1 := strings.HasPrefix(r.URL.Path, "/v1/") || r.URL.Path == "/v1"
	h, pattern := s.mux.Handler(r)
	if pattern != "" && !(v1 && !isClean(r.URL.EscapedPath())) {
		s.mux.ServeHTTP(w, r)
		return
	}
	probe := &statusProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status != http.StatusNotFound && probe.status != http.StatusMethodNotAllowed && !v1 {
		h.ServeHTTP(w, r) // a redirect to the clean path
		return
	}
	if v1 {
		if _, err := s.authenticate(r); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		s.writeError(w, r, errMethod(r.Method))
		return
	}
	s.writeError(w, r, errNoRoute)
}

// isClean reports whether the escaped path p has no dot segments and no
// empty segments, as the mux wants it (a trailing slash is kept).
func isClean(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// methodLabel bounds the method label: net/http accepts any token as a
// method, and each new label value would be a new series forever.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// statusProbe records what the mux's fallback handler would answer.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header { return p.header }
func (p *statusProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *statusProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// secretParams are query parameters whose values never reach a log.
var secretParams = map[string]bool{
	"apikey": true, "api_key": true, "client_secret": true, "password": true,
	"access_token": true, "refresh_token": true, "token": true, "code": true,
}

// redactedURI is the request path and query with secret values replaced.
func redactedURI(u *url.URL) string {
	if u.RawQuery == "" {
		return u.EscapedPath()
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return u.EscapedPath() + "?[unparsable query]"
	}
	for k, vs := range q {
		if secretParams[strings.ToLower(k)] {
			for i := range vs {
				vs[i] = "REDACTED"
			}
		}
	}
	return u.EscapedPath() + "?" + q.Encode()
}

// clientIP is the caller's address: the connection's peer, or the nearest
// untrusted address in X-Forwarded-For when the peer is a trusted proxy.
func (s *Server) clientIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := ap.Addr().Unmap()
	if !s.trusted(addr) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr // a junk hop: trust nothing before it
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a
		}
		addr = a
	}
	return addr
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// PublicRoute is an unauthenticated endpoint of the management listener.
type PublicRoute struct {
	Pattern string // "METHOD /path", as the contract documents it
	// AnyMethod mounts the path for every method, so that the others get the
	// endpoint's own 405 (the token endpoints answer in their shape, SPEC §3.3).
	AnyMethod bool
	handler   func(s *Server) http.Handler
}

// publicRoutes are the unauthenticated endpoints; the console is mounted
// beside them when configured.
var publicRoutes = []PublicRoute{
	{"POST /apikey", true, func(s *Server) http.Handler { return http.HandlerFunc(s.handleV5Token) }},
	{"POST /identity/token", true, func(s *Server) http.Handler { return http.HandlerFunc(s.handleIAMToken) }},
	{"GET /identity/keys", false, func(s *Server) http.Handler { return http.HandlerFunc(s.handleJWKS) }},
	{"GET /.well-known/jwks.json", false, func(s *Server) http.Handler { return http.HandlerFunc(s.handleJWKS) }},
	{"GET /.well-known/openid-configuration", false, func(s *Server) http.Handler { return http.HandlerFunc(s.handleDiscovery) }},
	{"GET /identity/.well-known/openid-configuration", false, func(s *Server) http.Handler { return http.HandlerFunc(s.handleDiscovery) }},
	{"GET /healthz", false, func(s *Server) http.Handler { return http.HandlerFunc(handleHealth) }},
	{"GET /readyz", false, func(s *Server) http.Handler { return http.HandlerFunc(s.handleReady) }},
	{"GET /metrics", false, func(s *Server) http.Handler { return promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}) }},
	{"GET /openapi.json", false, func(s *Server) http.Handler { return http.HandlerFunc(s.handleOpenAPI) }},
}

// Public lists the unauthenticated endpoints, for tests that hold the
// contract (api/openapi.yaml) to the routes.
func Public() []PublicRoute { return slices.Clone(publicRoutes) }

// Method is the documented method of the route.
func (rt PublicRoute) Method() string { m, _, _ := strings.Cut(rt.Pattern, " "); return m }

// Path is the route's path.
func (rt PublicRoute) Path() string { _, p, _ := strings.Cut(rt.Pattern, " "); return p }

// mountPublic mounts the unauthenticated endpoints.
func (s *Server) mountPublic() {
	for _, rt := range publicRoutes {
		pattern := rt.Pattern
		if rt.AnyMethod {
			pattern = rt.Path()
		}
		s.mux.Handle(pattern, rt.handler(s))
	}
	if s.console != nil {
		s.mux.Handle("/console/", s.console)
		s.mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
	}
}

func handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleOpenAPI serves the management API's contract.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc, err := api.JSON()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(doc)
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
