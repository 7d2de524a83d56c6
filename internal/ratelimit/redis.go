package ratelimit

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of RedisOptions.
const (
	DefaultRedisPrefix     = "gatehouse:rl:"
	DefaultRedisRetryAfter = 5 * time.Second
	DefaultRedisTimeout    = 200 * time.Millisecond
)

// expiryMargin is how long a counter outlives its window in Redis, so a node
// whose clock runs a little behind still finds the count of a window the
// others have finished.
const expiryMargin = time.Second

// takeScript counts one call in a window's counter and, on the window's first
// call, makes the counter expire when the window ends (plus the margin).
// INCR and PEXPIRE run atomically, so no counter is ever left without an
// expiry. The expiry is relative (PEXPIRE, not PEXPIREAT): Redis's clock and
// the nodes' clocks need not agree, only their rates.
//
//	KEYS[1]  the counter: prefix, key, window length and window start
//	ARGV[1]  milliseconds until it may expire
var takeScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then
	redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
`)

// RedisOptions configures a Redis limiter. Every field is optional.
type RedisOptions struct {
	// Prefix starts every key the limiter writes (default "gatehouse:rl:").
	Prefix string
	// Now is the clock windows, Reset and the retry delay are read from
	// (default time.Now).
	Now func() time.Time
	// Fallback answers while Redis is unreachable (default NewMemory(Now)):
	// limits are then enforced per node. Sweep it periodically if it holds
	// memory (a Memory does; Redis.Sweep forwards to it).
	Fallback Limiter
	// RetryAfter is how long Redis is left alone after it failed (default 5 s).
	RetryAfter time.Duration
	// Timeout bounds each call to Redis (default 200 ms).
	Timeout time.Duration
	// Logger receives one line when Redis becomes unreachable and one when
	// it is back (default slog.Default()).
	Logger *slog.Logger
	// OnFallback, if set, is called once each time Redis becomes unreachable
	// (e.g. to count it in a metric). It must not block.
	OnFallback func()
}

// Redis is a Limiter for a cluster: the counters live in one Redis, so every
// node counts against the same limit. Each Take is one round trip running a
// script that increments the counter of the key's current window and sets
// its expiry; the windows are those of Memory, epoch-aligned, read from the
// limiter's own clock.
//
// When Redis fails or does not answer within the timeout, Take answers from
// the fallback limiter instead, so limits hold per node rather than per
// cluster, and a circuit breaker keeps every call off Redis for RetryAfter;
// then one call tries it again. Each such episode is logged and reported to
// OnFallback once, and its end is logged once. Redis being down is never an
// error of Take.
//
// Redis is safe for concurrent use. It does not own the client: close it
// yourself.
type Redis struct {
	client     redis.UniversalClient
	prefix     string
	now        func() time.Time
	fallback   Limiter
	retryAfter time.Duration
	timeout    time.Duration
	log        *slog.Logger
	onFallback func()

	// The circuit breaker. While open, Take uses the fallback until the
	// clock reaches retryAt (Unix nanoseconds), and then the one call that
	// moves retryAt on by retryAfter probes Redis. Opening and closing are
	// each one Swap, so exactly one caller logs each transition.
	open    atomic.Bool
	retryAt atomic.Int64
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a limiter counting in Redis through client, which may be
// a single server, a failover or a cluster client.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	r := &Redis{
		client:     client,
		prefix:     opts.Prefix,
		now:        opts.Now,
		fallback:   opts.Fallback,
		retryAfter: opts.RetryAfter,
		timeout:    opts.Timeout,
		log:        opts.Logger,
		onFallback: opts.OnFallback,
	}
	if r.prefix == "" {
		r.prefix = DefaultRedisPrefix
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.fallback == nil {
		r.fallback = NewMemory(r.now)
	}
	if r.retryAfter <= 0 {
		r.retryAfter = DefaultRedisRetryAfter
	}
	if r.timeout <= 0 {
		r.timeout = DefaultRedisTimeout
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	return r
}

// Take counts one call against key under rate, in Redis or, while Redis is
// unreachable, in the fallback. Its only error is ErrInvalidRate (wrapped),
// or whatever the fallback returns. A ctx that is done before Redis answers
// makes the call count in the fallback, without taking Redis for down.
func (r *Redis) Take(ctx context.Context, key string, rate Rate) (Result, error) {
	if rate.Unlimited {
		return unlimited, nil
	}
	if err := rate.check(); err != nil {
		return Result{}, err
	}
	now := r.now()
	probe := false
	if r.open.Load() {
		if !r.mayProbe(now.UnixNano()) {
			return r.fallback.Take(ctx, key, rate)
		}
		probe = true
	}
	res, err := r.take(ctx, key, rate, now.UnixNano())
	if err != nil {
		if ctx.Err() == nil { // else the caller gave up, which says nothing of Redis
			r.failed(now.UnixNano(), err)
		}
		return r.fallback.Take(ctx, key, rate)
	}
	if probe {
		r.recovered()
	}
	return res, nil
}

// take counts the call in Redis, at the instant now (Unix nanoseconds).
func (r *Redis) take(ctx context.Context, key string, rate Rate, now int64) (Result, error) {
	w := int64(rate.Window)
	start := windowStart(now, w)
	reset := time.Duration(start + w - now)
	ttl := (reset+time.Millisecond-1)/time.Millisecond + expiryMargin/time.Millisecond

	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	used, err := takeScript.Run(ctx, r.client, []string{r.counterKey(key, w, start)}, int64(ttl)).Int64()
	if err != nil {
		return Result{}, err
	}
	return result(rate.Count, used, reset), nil
}

// counterKey names the counter of key in the window of length w (ns)
// starting at start (Unix ns): prefix + key + ":" + w + ":" + start. The two
// numbers end the name, so keys holding ':' cannot collide.
func (r *Redis) counterKey(key string, w, start int64) string {
	var buf [128]byte // on the stack: the string is the one allocation for most keys
	b := append(buf[:0], r.prefix...)
	b = append(b, key...)
	b = append(b, ':')
	b = strconv.AppendInt(b, w, 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, start, 10)
	return string(b)
}

// mayProbe reports whether this call, at now (Unix ns), is the one to try
// Redis again: the retry time has come and no other call took the turn. A
// retry time further ahead than retryAfter means the clock stepped back; it
// is due as well, so a clock change cannot keep Redis unused.
func (r *Redis) mayProbe(now int64) bool {
	at := r.retryAt.Load()
	if now < at && at-now <= int64(r.retryAfter) {
		return false
	}
	return r.retryAt.CompareAndSwap(at, now+int64(r.retryAfter))
}

// failed opens the breaker after Redis failed at now (Unix ns), or keeps it
// open for another retryAfter if it already was (a failed probe, or calls
// that were in flight when the episode began).
func (r *Redis) failed(now int64, err error) {
	r.retryAt.Store(now + int64(r.retryAfter)) // before open: a caller seeing it open sees the time
	if r.open.Swap(true) {
		return
	}
	r.log.Warn("Redis unreachable; enforcing limits per node until it is back",
		"err", err, "retry_after", r.retryAfter)
	if r.onFallback != nil {
		r.onFallback()
	}
}

// recovered closes the breaker after a probe reached Redis.
func (r *Redis) recovered() {
	if r.open.Swap(false) {
		r.log.Info("Redis back; limits are shared again")
	}
}

// Sweep sweeps the fallback, if it has a Sweep method, like Memory. Redis
// drops its own counters: each expires a second after its window ends.
func (r *Redis) Sweep() {
	if s, ok := r.fallback.(interface{ Sweep() }); ok {
		s.Sweep()
	}
}
