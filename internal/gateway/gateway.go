package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gatehouse/internal/apidef"
	"gatehouse/internal/apim"
	"gatehouse/internal/ratelimit"
	"gatehouse/internal/store"
)

// EventSink receives one event per call; Emit must never block.
type EventSink interface {
	Emit(e store.Event)
}

// Config holds the gateway's dependencies.
type Config struct {
	// State reads the routing state (store.ConsumerStore.GatewayState).
	State     func(ctx context.Context) (store.GatewayState, error)
	AccountID string
	Limiter   ratelimit.Limiter
	Events    EventSink
	Now       func() time.Time
	Logger    *slog.Logger
	// Transport reaches the backends; default: a tuned http.Transport.
	Transport http.RoundTripper
}

// Gateway serves the gateway listener.
type Gateway struct {
	cfg     Config
	snap    atomic.Pointer[snapshot]
	proxy   *httputil.ReverseProxy
	refresh chan struct{}
	txBase  string
	txSeq   atomic.Uint64

	buildMu sync.Mutex
	decoded map[string]cachedPub

	// Refresh tickets: want counts requests, done the requests a finished
	// rebuild covered; built is closed and replaced after each rebuild.
	ticketMu sync.Mutex
	want     uint64
	done     uint64
	built    chan struct{}

	softMu     sync.Mutex
	softLogged map[string]time.Time // subscription|limit → window end already logged
}

// NewTransport returns the tuned transport used to reach backends:
// keep-alive with many idle connections per host, bounded dial and TLS
// handshakes, no transparent compression (bodies pass through as they are).
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
}

// copyBufSize is the size of the buffer responses are copied through (the
// size httputil allocates per response when it has no pool).
const copyBufSize = 32 << 10

var copyBufPool = sync.Pool{New: func() any { return new([copyBufSize]byte) }}

// copyBuffers lends the proxy its copy buffers from a pool, so a call does
// not allocate (and the collector does not clear) 32 KiB.
type copyBuffers struct{}

func (copyBuffers) Get() []byte { return copyBufPool.Get().(*[copyBufSize]byte)[:] }

func (copyBuffers) Put(b []byte) {
	if len(b) == copyBufSize {
		copyBufPool.Put((*[copyBufSize]byte)(b))
	}
}

// New returns a gateway with an empty snapshot; call Load before serving.
func New(cfg Config) *Gateway {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Transport == nil {
		cfg.Transport = NewTransport()
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	g := &Gateway{
		cfg: cfg, refresh: make(chan struct{}, 1), txBase: hex.EncodeToString(b[:]) + "-",
		decoded: map[string]cachedPub{}, softLogged: map[string]time.Time{}, built: make(chan struct{}),
	}
	g.snap.Store(&snapshot{catalogs: map[string]*catalog{}})
	g.proxy = &httputil.ReverseProxy{
		Rewrite:        g.rewrite,
		Transport:      cfg.Transport,
		FlushInterval:  0, // streamed through a small buffer; event streams flush at once
		BufferPool:     copyBuffers{},
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.proxyError,
		ErrorLog:       slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	return g
}

// Load builds the routing snapshot from the store and swaps it in. On error
// the previous snapshot stays (the gateway keeps serving what it had).
func (g *Gateway) Load(ctx context.Context) error {
	g.buildMu.Lock()
	defer g.buildMu.Unlock()
	st, err := g.cfg.State(ctx)
	if err != nil {
		return fmt.Errorf("gateway: load routing state: %w", err)
	}
	snap, decoded, err := build(st, g.decoded)
	if err != nil {
		return fmt.Errorf("gateway: build routing snapshot: %w", err)
	}
	g.decoded = decoded
	g.snap.Store(snap)
	return nil
}

// Refresh asks for a rebuild of the snapshot soon; it never blocks. Changes
// made on other nodes come this way (through the change log).
func (g *Gateway) Refresh() { g.request() }

func (g *Gateway) request() uint64 {
	g.ticketMu.Lock()
	g.want++
	t := g.want
	g.ticketMu.Unlock()
	select {
	case g.refresh <- struct{}{}:
	default: // one is pending; it will see this change too
	}
	return t
}

// Sync asks for a rebuild and waits until one that started after the call has
// finished (or ctx ends), so a change made on this node routes as soon as its
// write is answered. Concurrent calls share rebuilds.
func (g *Gateway) Sync(ctx context.Context) error {
	t := g.request()
	for {
		g.ticketMu.Lock()
		done, built := g.done, g.built
		g.ticketMu.Unlock()
		if done >= t {
			return nil
		}
		select {
		case <-built:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Run rebuilds the snapshot whenever Refresh or Sync asked, until ctx ends.
func (g *Gateway) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-g.refresh:
			g.ticketMu.Lock()
			target := g.want
			g.ticketMu.Unlock()
			if err := g.Load(ctx); err != nil && ctx.Err() == nil {
				g.cfg.Logger.Warn("gateway: keeping the previous routing snapshot", "err", err)
			}
			g.ticketMu.Lock()
			g.done = target
			close(g.built)
			g.built = make(chan struct{})
			g.ticketMu.Unlock()
		}
	}
}

// Errors in the V5 gateway shape (SPEC §8), their JSON body built once.
type gwError struct {
	status int
	more   string
	body   []byte
}

func newGWError(status int, more string) gwError {
	body := fmt.Sprintf(`{"httpCode":"%d","httpMessage":%q,"moreInformation":%q}`+"\n", status, http.StatusText(status), more)
	return gwError{status: status, more: more, body: []byte(body)}
}

var (
	errNoRoute     = newGWError(http.StatusNotFound, "No resources match requested URI")
	errMethod      = newGWError(http.StatusMethodNotAllowed, "The method is not allowed for the requested URL")
	errIDMissing   = newGWError(http.StatusUnauthorized, "Client id missing.")
	errIDUnknown   = newGWError(http.StatusUnauthorized, "Client id not registered.")
	errSecret      = newGWError(http.StatusUnauthorized, "Client secret not valid.")
	errUnsubscribe = newGWError(http.StatusUnauthorized, "Client id not subscribed.")
	errRate        = newGWError(http.StatusTooManyRequests, "Rate Limit exceeded")
	errBackend     = newGWError(http.StatusBadGateway, "The backend could not be reached")
	errTimeout     = newGWError(http.StatusGatewayTimeout, "The backend did not answer in time")
	errInternal    = newGWError(http.StatusInternalServerError, "Internal error")
)

func writeError(w http.ResponseWriter, e gwError) {
	h := w.Header()
	vals := []string{"application/json", "nosniff"}
	h[hdrContentType], h[hdrContentTypeNo] = vals[0:1:1], vals[1:2:2]
	w.WriteHeader(e.status)
	w.Write(e.body)
}

// Header names in canonical form, so the hot path reads and writes the
// header maps directly: http.Header's methods canonicalise the name on every
// call, which allocates for names such as "X-Global-Transaction-ID".
const (
	hdrTxID          = "X-Global-Transaction-Id"
	hdrLimit         = "X-Ratelimit-Limit"
	hdrRemaining     = "X-Ratelimit-Remaining"
	hdrRetryAfter    = "Retry-After"
	hdrIBMSecret     = "X-Ibm-Client-Secret"
	hdrContentType   = "Content-Type"
	hdrContentTypeNo = "X-Content-Type-Options"
)

// call is the per-request state, in one allocation. It is also the proxied
// request's context (the caller's, with the API's invoke timeout), which is
// how the proxy callbacks find it.
type call struct {
	context.Context
	route     *route
	op        *apidef.Operation
	opName    string // "GET /path", as events and limiter keys name it
	rest      string // path after the base path
	query     url.Values
	queryEdit bool     // a parameter (a secret) was removed from query
	secretHdr string   // header to remove before proxying, canonical
	txID      []string // the transaction id as a header value (txBuf), shared by the answer and the backend request
	txBuf     [1]string
	target    *url.URL
	start     time.Time
	backendAt time.Time // when the backend's response headers arrived
	event     store.Event
	rec       counter      // the answer, counted
	in        countingBody // the request body, counted

	// Room for what the call would otherwise allocate on its own: the
	// backend URL, and the header values of X-Forwarded-* and X-RateLimit-*.
	targetURL url.URL
	xfwd      [3]string
	limVals   [2]string
}

type callKey struct{}

// Value answers callKey with the call itself.
func (c *call) Value(key any) any {
	if key == (callKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// callOf is the call a proxied request belongs to.
func callOf(r *http.Request) *call { return r.Context().Value(callKey{}).(*call) }

// ServeHTTP routes, identifies, limits and proxies one call.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := g.cfg.Now()
	c := &call{start: start}
	c.txBuf[0] = g.txID()
	c.txID = c.txBuf[:]
	w.Header()[hdrTxID] = c.txID
	c.rec = counter{ResponseWriter: w, status: http.StatusOK}
	c.in = countingBody{ReadCloser: r.Body}
	rec, in := &c.rec, &c.in
	r.Body = in
	ev, gerr := g.serve(rec, r, c)
	if gerr != nil {
		writeError(rec, *gerr)
	}
	if ev == nil {
		return // unrouted: no catalog to account the event to
	}
	ev.Time = start
	ev.RequestID = c.txID[0]
	ev.Status = rec.status
	ev.Latency = g.cfg.Now().Sub(start)
	if !c.backendAt.IsZero() {
		ev.BackendLatency = c.backendAt.Sub(start)
	}
	ev.BytesIn, ev.BytesOut = in.n, rec.bytes
	if g.cfg.Events != nil {
		g.cfg.Events.Emit(*ev)
	}
}

// txID returns the next transaction id: this gateway's random base and a
// sequence number, built in one allocation.
func (g *Gateway) txID() string {
	var b [64]byte
	return string(strconv.AppendUint(append(b[:0], g.txBase...), g.txSeq.Add(1), 36))
}

// serve does the work of ServeHTTP; it returns the event to emit (nil for
// calls that matched no catalog) and the error to answer, if any.
func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, c *call) (*store.Event, *gwError) {
	snap := g.snap.Load()
	cat, rt, rest, ok := snap.lookup(r.URL.EscapedPath())
	if cat == nil {
		return nil, &errNoRoute
	}
	ev := &c.event
	ev.AccountID, ev.OrgID, ev.EnvID = g.cfg.AccountID, cat.orgID, cat.envID
	if !ok {
		return ev, &errNoRoute
	}
	ev.API = rt.apiID
	if !cleanPath(rest) {
		return ev, &errNoRoute
	}
	n := rt.ops.match(rest)
	if n == nil {
		return ev, &errNoRoute
	}
	op := n.methods[r.Method]
	if op == nil && r.Method == http.MethodHead {
		op = n.methods[http.MethodGet]
	}
	if op == nil {
		w.Header().Set("Allow", allowed(n))
		return ev, &errMethod
	}
	c.route, c.op, c.rest = rt, op, rest
	c.opName = n.names[op.Method]
	ev.Operation = c.opName

	if sec := rt.api.Security; sec.ClientID != nil {
		if gerr := g.admit(w, r, c, cat, sec); gerr != nil {
			return ev, gerr
		}
	}
	target, err := g.target(c, r)
	if err != nil {
		g.cfg.Logger.Warn("gateway: bad target url", "api", ev.API, "err", err)
		return ev, &errBackend
	}
	c.target = target
	ctx, cancel := context.WithTimeout(r.Context(), rt.api.Timeout)
	defer cancel()
	c.Context = ctx
	g.proxy.ServeHTTP(w, r.WithContext(c))
	return ev, nil
}

// cleanPath reports whether a path remainder is safe to route and forward:
// no empty segment (except one trailing slash), and no segment that decodes
// to "." or ".." or holds a '/' or '\' — a backend that normalises or decodes
// paths must not be led outside the declared operations.
func cleanPath(p string) bool {
	if p == "" || p == "/" {
		return true
	}
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	for {
		seg, rest, more := strings.Cut(p, "/")
		if seg == "" {
			return false
		}
		d, err := url.PathUnescape(seg) // allocates only for a segment with escapes
		if err != nil || d == "." || d == ".." || strings.ContainsAny(d, "/\\\x00") {
			return false
		}
		if !more {
			return true
		}
		p = rest
	}
}

// credentialValue reads a credential from where the API's security says;
// hdr is p.Name in canonical form (computed with the snapshot).
func credentialValue(r *http.Request, q url.Values, p *apidef.Param, hdr string) string {
	if p.In == "query" {
		return q.Get(p.Name)
	}
	if v := r.Header[hdr]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// admit identifies the app, checks its subscription and applies the limits.
func (g *Gateway) admit(w http.ResponseWriter, r *http.Request, c *call, cat *catalog, sec apidef.Security) *gwError {
	ev := &c.event
	// The query is parsed only when it may hold a credential or a secret
	// to remove; otherwise it is forwarded as the caller wrote it.
	if raw := r.URL.RawQuery; raw != "" && (sec.ClientID.In == "query" ||
		sec.ClientSecret != nil && sec.ClientSecret.In == "query" || mayHoldParam(raw, "client_secret")) {
		c.query = r.URL.Query()
	}
	id := credentialValue(r, c.query, sec.ClientID, c.route.idHeader)
	if id == "" {
		return &errIDMissing
	}
	cred := cat.creds[id]
	if cred == nil {
		return &errIDUnknown
	}
	ev.ClientID, ev.AppID, ev.ConsumerOrgID = cred.clientID, cred.app.id, cred.app.consumerOrgID
	if sec.ClientSecret != nil {
		secret := credentialValue(r, c.query, sec.ClientSecret, c.route.secretHeader)
		d := secretDigest(secret)
		if secret == "" || subtle.ConstantTimeCompare(d[:], cred.digest) != 1 {
			return &errSecret
		}
		if sec.ClientSecret.In == "header" {
			c.secretHdr = c.route.secretHeader
		}
	}
	// Never forward a secret, whichever way it came.
	for _, name := range []string{"client_secret", secretParam(sec)} {
		if c.query.Has(name) {
			c.query.Del(name)
			c.queryEdit = true
		}
	}

	sub, opLimits := subscribed(cred.app, c.route, c.op)
	if sub == nil {
		return &errUnsubscribe
	}
	ev.Product, ev.Plan = sub.pub.productID, sub.plan.Name
	return g.limit(w, r.Context(), c, sub, opLimits)
}

// mayHoldParam reports whether a raw query may have a parameter called name
// once decoded: it holds name as it is, or escapes ('%', '+') that could
// spell it.
func mayHoldParam(raw, name string) bool {
	return strings.Contains(raw, name) || strings.ContainsAny(raw, "%+")
}

// secretDigest is apim.SecretDigest (SHA-256) as an array; a secret of
// usual length is copied to the stack rather than to a new slice.
func secretDigest(secret string) [sha256.Size]byte {
	var buf [128]byte
	if len(secret) <= len(buf) {
		return sha256.Sum256(append(buf[:0], secret...))
	}
	return sha256.Sum256([]byte(secret))
}

// secretParam is the query parameter of the API's secret, or "client_secret".
func secretParam(sec apidef.Security) string {
	if sec.ClientSecret != nil && sec.ClientSecret.In == "query" {
		return sec.ClientSecret.Name
	}
	return "client_secret"
}

// subscribed finds an active subscription of the app whose plan includes the
// operation, with the operation's own limits.
func subscribed(a *app, rt *route, op *apidef.Operation) (*subscription, []apidef.Limit) {
	for _, s := range a.subs {
		if !s.active {
			continue
		}
		for _, o := range rt.offered {
			if o.pub != s.pub {
				continue
			}
			if s.plan.APIs == nil {
				return s, nil
			}
			pa, ok := s.plan.APIs[o.key]
			if !ok {
				continue
			}
			if len(pa.Operations) == 0 {
				return s, nil
			}
			for _, po := range pa.Operations {
				if apim.Includes(po, op) {
					return s, po.Limits
				}
			}
		}
	}
	return nil, nil
}

// limit counts the call against every limit of the plan and the operation,
// sets the X-RateLimit headers, and refuses it when a hard limit is exceeded
// (Retry-After: the refusing limit whose window resets last).
func (g *Gateway) limit(w http.ResponseWriter, ctx context.Context, c *call, sub *subscription, opLimits []apidef.Limit) *gwError {
	var lbuf, rbuf [128]byte // header values, on the stack while they fit
	lim, rem := lbuf[:0], rbuf[:0]
	var refuse ratelimit.Result
	refused := false
	plan := sub.plan.Limits
	for i := range len(plan) + len(opLimits) {
		var l apidef.Limit
		var key, name string
		if i < len(plan) {
			l, key = plan[i], sub.limitKeys[i]
			name = l.Name
		} else {
			l = opLimits[i-len(plan)]
			key = sub.id + "|" + c.opName + "|" + l.Name
			name = l.Name
			if name == "default" {
				name = "operation"
			}
		}
		if l.Rate.Unlimited {
			continue
		}
		res, err := g.cfg.Limiter.Take(ctx, key, l.Rate)
		if err != nil {
			g.cfg.Logger.Warn("gateway: rate limiter failed; letting the call through", "err", err)
			continue
		}
		if len(lim) > 0 {
			lim, rem = append(lim, ' '), append(rem, ' ')
		}
		lim, rem = appendLimitValue(lim, name, res.Limit), appendLimitValue(rem, name, res.Remaining)
		if res.Allowed {
			continue
		}
		c.event.RateLimited = true
		if !l.Hard {
			g.logSoft(sub, name, res)
		} else if !refused || res.Reset > refuse.Reset {
			refuse, refused = res, true
		}
	}
	h := w.Header()
	if len(lim) > 0 {
		// One string and one slice hold both header values.
		both := string(append(lim, rem...))
		c.limVals = [2]string{both[:len(lim)], both[len(lim):]}
		h[hdrLimit], h[hdrRemaining] = c.limVals[0:1:1], c.limVals[1:2:2]
	}
	if refused {
		h[hdrRetryAfter] = []string{strconv.FormatInt(int64((refuse.Reset+time.Second-1)/time.Second), 10)}
		return &errRate
	}
	return nil
}

// appendLimitValue appends "name=<name>,<n>;", one limit's part of an
// X-RateLimit header.
func appendLimitValue(b []byte, name string, n int64) []byte {
	b = append(b, "name="...)
	b = append(b, name...)
	b = append(b, ',')
	b = strconv.AppendInt(b, n, 10)
	return append(b, ';')
}

// logSoft logs a soft limit's overrun once per subscription, limit and window.
func (g *Gateway) logSoft(sub *subscription, name string, res ratelimit.Result) {
	end := g.cfg.Now().Add(res.Reset)
	key := sub.id + "|" + name
	g.softMu.Lock()
	last, seen := g.softLogged[key]
	if !seen || end.After(last) {
		g.softLogged[key] = end
	}
	if len(g.softLogged) > 100_000 {
		clear(g.softLogged)
	}
	g.softMu.Unlock()
	if !seen || end.After(last) {
		g.cfg.Logger.Info("gateway: soft rate limit exceeded; calls continue", "subscription", sub.id, "limit", name, "product", sub.pub.productID, "plan", sub.plan.Name)
	}
}

// target expands the route's target template for this call.
func (g *Gateway) target(c *call, r *http.Request) (*url.URL, error) {
	if base := c.route.targetBase; base != nil {
		joinTarget(&c.targetURL, base, c.route.targetBasePath, c.rest, c.search(r))
		return &c.targetURL, nil
	}
	search := ""
	switch {
	case c.queryEdit && len(c.query) > 0:
		search = "?" + c.query.Encode()
	case !c.queryEdit && r.URL.RawQuery != "":
		search = "?" + r.URL.RawQuery // the caller's own encoding and order
	}
	t := strings.ReplaceAll(c.route.target, "$(request.path)", c.rest)
	t = strings.ReplaceAll(t, "$(request.search)", search)
	u, err := url.Parse(t)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("target %q is not an absolute http(s) URL", t)
	}
	return u, nil
}

// search is the query to forward, without its '?': the caller's own, or
// the re-encoded one when a secret was removed from it.
func (c *call) search(r *http.Request) string {
	if c.queryEdit {
		return c.query.Encode()
	}
	return r.URL.RawQuery
}

// joinTarget sets u to the URL that parsing base's text followed by rest
// (an escaped path) and "?"+query would give, without parsing it again. The
// path keeps the caller's escaping (RawPath); a '#' in the query ends it, as
// it would the parsed text.
func joinTarget(u, base *url.URL, baseEscaped, rest, query string) {
	*u = *base
	if rest != "" {
		unescaped, _ := url.PathUnescape(rest) // cleanPath has checked every escape
		if unescaped == rest && baseEscaped == base.Path {
			u.Path = base.Path + rest
			u.RawPath = u.Path
		} else {
			u.Path, u.RawPath = base.Path+unescaped, baseEscaped+rest
		}
	}
	if q, _, cut := strings.Cut(query, "#"); cut {
		u.RawQuery, u.ForceQuery = q, q == ""
	} else {
		u.RawQuery = query
	}
}

// rewrite prepares the outbound request: target URL, host, transaction id,
// no client secret; httputil has already removed hop-by-hop headers.
func (g *Gateway) rewrite(pr *httputil.ProxyRequest) {
	c := callOf(pr.In)
	pr.Out.URL = c.target
	pr.Out.Host = c.target.Host
	setXForwarded(pr, &c.xfwd)
	h := pr.Out.Header
	h[hdrTxID] = c.txID
	if c.secretHdr != "" {
		delete(h, c.secretHdr)
	}
	delete(h, hdrIBMSecret)
}

// setXForwarded sets X-Forwarded-For, -Host and -Proto exactly as
// httputil's ProxyRequest.SetXForwarded does, with the values in vals
// instead of three new slices.
func setXForwarded(pr *httputil.ProxyRequest, vals *[3]string) {
	h := pr.Out.Header
	if clientIP, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
		if prior := h["X-Forwarded-For"]; len(prior) > 0 {
			clientIP = strings.Join(prior, ", ") + ", " + clientIP
		}
		vals[0] = clientIP
		h["X-Forwarded-For"] = vals[0:1:1]
	} else {
		delete(h, "X-Forwarded-For")
	}
	vals[1] = pr.In.Host
	h["X-Forwarded-Host"] = vals[1:2:2]
	vals[2] = "http"
	if pr.In.TLS != nil {
		vals[2] = "https"
	}
	h["X-Forwarded-Proto"] = vals[2:3:3]
}

func (g *Gateway) modifyResponse(res *http.Response) error {
	c := callOf(res.Request)
	c.backendAt = g.cfg.Now()
	// The response already carries this call's id (set before proxying, so
	// error answers have it too); a backend's own would be a second value.
	delete(res.Header, hdrTxID) // the transport canonicalised the backend's names
	return nil
}

// proxyError answers a failed proxy: 504 when the invoke timeout passed,
// 502 when the backend could not be reached or broke the exchange.
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	c := callOf(r)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, errTimeout)
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
		w.WriteHeader(499)
	default:
		g.cfg.Logger.Debug("gateway: backend failed", "api", c.event.API, "err", err)
		writeError(w, errBackend)
	}
}

// counter records a response's status and size.
type counter struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (c *counter) WriteHeader(code int) {
	if !c.wrote {
		c.status, c.wrote = code, true
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *counter) Write(b []byte) (int, error) {
	c.wrote = true
	n, err := c.ResponseWriter.Write(b)
	c.bytes += int64(n)
	return n, err
}

func (c *counter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (c *counter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// countingBody counts the request body as the proxy reads it.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}
