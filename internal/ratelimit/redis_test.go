package ratelimit_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"gatehouse/internal/ratelimit"
	"gatehouse/internal/ratelimit/ratelimittest"
	"gatehouse/internal/testenv"
)

func TestRedisConformance(t *testing.T) {
	client := newRedisClient(t, testenv.RedisURL(t))
	prefix := testPrefix(t, client)
	ratelimittest.Run(t, func(t *testing.T, clock *ratelimittest.Clock) ratelimit.Limiter {
		return ratelimit.NewRedis(client, ratelimit.RedisOptions{
			Prefix: prefix, Now: clock.Now, OnFallback: failOnFallback(t),
		})
	})
}

func TestRedisNodesShareOneCount(t *testing.T) {
	// Two nodes, each with its own client and limiter, against one server:
	// 2 × 40 calls under a limit of 50 let exactly 50 through, in total.
	url := testenv.RedisURL(t)
	prefix := testPrefix(t, newRedisClient(t, url))
	clock := ratelimittest.NewClock(noon)
	const perNode, count = 40, 50
	r := ratelimit.Rate{Count: count, Window: time.Minute}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		node := ratelimit.NewRedis(newRedisClient(t, url), ratelimit.RedisOptions{
			Prefix: prefix, Now: clock.Now, OnFallback: failOnFallback(t),
		})
		for range 4 {
			wg.Go(func() {
				for range perNode / 4 {
					res, err := node.Take(context.Background(), "sub-1|default", r)
					if err != nil {
						t.Errorf("Take: %v", err)
						return
					}
					if res.Allowed {
						allowed.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	if got := allowed.Load(); got != count {
		t.Errorf("allowed %d of %d calls on two nodes, want exactly %d", got, 2*perNode, count)
	}
}

func TestRedisCounterExpiresAfterItsWindow(t *testing.T) {
	client := newRedisClient(t, testenv.RedisURL(t))
	for _, tc := range []struct {
		name    string
		at      time.Time
		rate    ratelimit.Rate
		wantTTL time.Duration // until the window ends, plus a second
	}{
		{"minute/20s-in", noon.Add(20 * time.Second), ratelimit.Rate{Count: 5, Window: time.Minute}, 41 * time.Second},
		{"hour/at-the-start", noon, ratelimit.Rate{Count: 5, Window: time.Hour}, time.Hour + time.Second},
		{"second/1ns-before-the-end", noon.Add(-time.Nanosecond), ratelimit.Rate{Count: 5, Window: time.Second}, time.Second + time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := testPrefix(t, client)
			clock := ratelimittest.NewClock(tc.at)
			l := ratelimit.NewRedis(client, ratelimit.RedisOptions{Prefix: prefix, Now: clock.Now})
			mustTake(t, l, "k", tc.rate)
			mustTake(t, l, "k", tc.rate) // later calls leave the expiry alone
			keys := redisKeys(t, client, prefix)
			if len(keys) != 1 {
				t.Fatalf("keys under the prefix: %q, want one counter", keys)
			}
			ttl, err := client.PTTL(context.Background(), keys[0]).Result()
			if err != nil {
				t.Fatal(err)
			}
			// PTTL counts down in real time from when the key was written.
			if ttl > tc.wantTTL || ttl < tc.wantTTL-5*time.Second {
				t.Errorf("PTTL %s = %v, want just under %v", keys[0], ttl, tc.wantTTL)
			}
		})
	}
}

func TestRedisKeyNamesKeyWindowAndStart(t *testing.T) {
	client := newRedisClient(t, testenv.RedisURL(t))
	prefix := testPrefix(t, client)
	clock := ratelimittest.NewClock(noon.Add(90 * time.Second))
	l := ratelimit.NewRedis(client, ratelimit.RedisOptions{Prefix: prefix, Now: clock.Now})
	mustTake(t, l, "sub:1|default", ratelimit.Rate{Count: 5, Window: 2 * time.Minute})
	want := prefix + "sub:1|default:" + strconv.FormatInt(int64(2*time.Minute), 10) + ":" +
		strconv.FormatInt(noon.UnixNano(), 10)
	if keys := redisKeys(t, client, prefix); len(keys) != 1 || keys[0] != want {
		t.Errorf("keys = %q, want [%q]", keys, want)
	}
}

func TestRedisUnlimitedAndInvalidRatesDoNotCallRedis(t *testing.T) {
	client := newRedisClient(t, testenv.RedisURL(t))
	calls := countCalls(client)
	l := ratelimit.NewRedis(client, ratelimit.RedisOptions{Prefix: testPrefix(t, client)})
	if res := mustTake(t, l, "k", ratelimit.Rate{Unlimited: true}); res != (ratelimit.Result{Allowed: true, Limit: -1, Remaining: -1}) {
		t.Errorf("unlimited: %+v", res)
	}
	if _, err := l.Take(context.Background(), "k", ratelimit.Rate{Count: 1}); err == nil {
		t.Error("a rate without a window: no error")
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d commands sent to Redis, want none", n)
	}
}

func TestRedisFallsBackWhileRedisIsDown(t *testing.T) {
	srv := testenv.StartRedis(t)
	client := newRedisClient(t, srv.URL())
	calls := countCalls(client)
	clock := ratelimittest.NewClock(noon)
	logs := &logRecorder{}
	var fallbacks atomic.Int64
	const retryAfter = 5 * time.Second
	l := ratelimit.NewRedis(client, ratelimit.RedisOptions{
		Prefix: "gatehouse:rltest:", Now: clock.Now, RetryAfter: retryAfter,
		Logger: slog.New(logs), OnFallback: func() { fallbacks.Add(1) },
	})
	r := ratelimit.Rate{Count: 100, Window: time.Minute}
	take := func() ratelimit.Result {
		t.Helper()
		begin := time.Now()
		res := mustTake(t, l, "sub-1|default", r)
		if d := time.Since(begin); d > time.Second {
			t.Errorf("Take took %v with Redis down, want well under a second", d)
		}
		return res
	}
	wantEpisodes := func(n int64, wantLogs ...string) {
		t.Helper()
		if got := fallbacks.Load(); got != n {
			t.Errorf("OnFallback called %d times, want %d", got, n)
		}
		logs.want(t, wantLogs...)
	}

	// Up: Redis counts.
	if res := take(); res.Remaining != 99 {
		t.Fatalf("with Redis up: %+v, want Remaining 99", res)
	}
	wantEpisodes(0)

	// Down: the fallback counts, from zero, on this node alone; one episode.
	srv.Stop()
	for i := range int64(50) {
		if res := take(); !res.Allowed || res.Remaining != 99-i || res.Reset != time.Minute {
			t.Fatalf("call %d with Redis down: %+v, want allowed with Remaining %d from the fallback", i+1, res, 99-i)
		}
	}
	const down = "WARN Redis unreachable; enforcing limits per node until it is back"
	wantEpisodes(1, down)

	// The breaker keeps calls off Redis until RetryAfter has passed.
	sent := calls.Load()
	clock.Advance(retryAfter - time.Nanosecond)
	take()
	if n := calls.Load(); n != sent {
		t.Errorf("%d commands sent to Redis within RetryAfter of the failure, want none", n-sent)
	}

	// Then one call tries Redis, which is still down: the episode goes on,
	// silently, and the next try is RetryAfter later.
	clock.Advance(time.Nanosecond)
	if res := take(); res.Remaining != 48 {
		t.Errorf("a failed retry: %+v, want the fallback's Remaining 48", res)
	}
	if n := calls.Load(); n == sent {
		t.Error("no command sent to Redis once RetryAfter had passed")
	}
	sent = calls.Load()
	clock.Advance(retryAfter - time.Nanosecond)
	take()
	if n := calls.Load(); n != sent {
		t.Errorf("%d commands sent to Redis within RetryAfter of a failed retry, want none", n-sent)
	}
	wantEpisodes(1, down)

	// Back (empty, as it keeps nothing on disk): the next call after
	// RetryAfter counts in Redis again, and so do the ones after it.
	srv.Start()
	clock.Advance(time.Nanosecond)
	if res := take(); res.Remaining != 99 {
		t.Fatalf("first call with Redis back: %+v, want Remaining 99 from Redis", res)
	}
	if res := take(); res.Remaining != 98 {
		t.Fatalf("second call with Redis back: %+v, want Remaining 98 from Redis", res)
	}
	const back = "INFO Redis back; limits are shared again"
	wantEpisodes(1, down, back)
	other := ratelimit.NewRedis(newRedisClient(t, srv.URL()), ratelimit.RedisOptions{
		Prefix: "gatehouse:rltest:", Now: clock.Now, OnFallback: failOnFallback(t),
	})
	if res := mustTake(t, other, "sub-1|default", r); res.Remaining != 97 {
		t.Errorf("another node after Redis came back: %+v, want Remaining 97 (the count is shared)", res)
	}

	// A second outage is a second episode.
	srv.Stop()
	take()
	take()
	wantEpisodes(2, down, back, down)
}

func TestRedisConcurrentCallsOpenOneEpisode(t *testing.T) {
	// Redis dies under load: every call is answered, from the fallback,
	// which counts exactly; the outage is logged and reported once.
	srv := testenv.StartRedis(t)
	client := newRedisClient(t, srv.URL())
	calls := countCalls(client)
	clock := ratelimittest.NewClock(noon)
	logs := &logRecorder{}
	var fallbacks atomic.Int64
	l := ratelimit.NewRedis(client, ratelimit.RedisOptions{
		Now: clock.Now, Logger: slog.New(logs), OnFallback: func() { fallbacks.Add(1) },
	})
	r := ratelimit.Rate{Count: 100, Window: time.Minute}
	mustTake(t, l, "warm-up", r) // connections in the pool, for the server to break
	srv.Stop()

	const goroutines, perGoroutine = 32, 20
	var (
		allowed atomic.Int64
		wg      sync.WaitGroup
	)
	for range goroutines {
		wg.Go(func() {
			for range perGoroutine {
				begin := time.Now()
				res, err := l.Take(context.Background(), "hot", r)
				if d := time.Since(begin); d > time.Second {
					t.Errorf("Take took %v with Redis down, want well under a second", d)
				}
				if err != nil {
					t.Errorf("Take: %v", err)
					return
				}
				if res.Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != r.Count {
		t.Errorf("allowed %d of %d, want the fallback's exact %d", got, goroutines*perGoroutine, r.Count)
	}
	if n := fallbacks.Load(); n != 1 {
		t.Errorf("OnFallback called %d times, want once", n)
	}

	// Once RetryAfter has passed, one of many concurrent calls tries Redis;
	// the others keep to the fallback rather than wait on it too.
	sent := calls.Load()
	clock.Advance(5 * time.Second)
	for range goroutines {
		wg.Go(func() {
			if _, err := l.Take(context.Background(), "hot", r); err != nil {
				t.Errorf("Take: %v", err)
			}
		})
	}
	wg.Wait()
	if n := calls.Load() - sent; n != 1 {
		t.Errorf("%d commands sent to Redis by %d calls after RetryAfter, want 1", n, goroutines)
	}
	if n := fallbacks.Load(); n != 1 {
		t.Errorf("OnFallback called %d times after a failed retry, want still once", n)
	}
	logs.want(t, "WARN Redis unreachable; enforcing limits per node until it is back")
}

func TestRedisCallerGivingUpIsNotAnOutage(t *testing.T) {
	client := newRedisClient(t, testenv.RedisURL(t))
	prefix := testPrefix(t, client)
	logs := &logRecorder{}
	l := ratelimit.NewRedis(client, ratelimit.RedisOptions{
		Prefix: prefix, Logger: slog.New(logs), OnFallback: failOnFallback(t),
	})
	r := ratelimit.Rate{Count: 10, Window: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Take(ctx, "k", r); err != nil {
		t.Errorf("Take with a cancelled context: %v, want an answer", err)
	}
	logs.want(t)
	// Redis is still used: the cancelled call did not count there.
	if res := mustTake(t, l, "k", r); res.Remaining != 9 {
		t.Errorf("next call: %+v, want Remaining 9 from Redis", res)
	}
}

func BenchmarkRedisTake(b *testing.B) {
	client := newRedisClient(b, testenv.RedisURL(b))
	l := ratelimit.NewRedis(client, ratelimit.RedisOptions{
		Prefix: testPrefix(b, client), OnFallback: func() { b.Fatal("Redis unreachable") },
	})
	r := ratelimit.Rate{Count: 1 << 40, Window: time.Hour}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Take(ctx, "sub-1|default", r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRedisTakeParallel(b *testing.B) {
	const keys = 10_000
	names := make([]string, keys)
	for i := range names {
		names[i] = "sub-" + strconv.Itoa(i) + "|default"
	}
	client := newRedisClient(b, testenv.RedisURL(b))
	var fallbacks atomic.Int64
	l := ratelimit.NewRedis(client, ratelimit.RedisOptions{
		Prefix: testPrefix(b, client), OnFallback: func() { fallbacks.Add(1) },
	})
	r := ratelimit.Rate{Count: 1 << 40, Window: time.Hour}
	ctx := context.Background()
	var worker atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(worker.Add(1)) * 7919
		for pb.Next() {
			if _, err := l.Take(ctx, names[i%keys], r); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	if n := fallbacks.Load(); n != 0 {
		b.Errorf("Redis unreachable %d times during the benchmark", n)
	}
}

// newRedisClient returns a client for url, closed when the test ends.
func newRedisClient(t testing.TB, url string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("redis.ParseURL(%q): %v", url, err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// testPrefix returns a key prefix of its own for a test on a shared server,
// and deletes its keys when the test ends.
func testPrefix(t testing.TB, client *redis.Client) string {
	t.Helper()
	prefix := "gatehouse:rltest:" + rand.Text()[:12] + ":"
	t.Cleanup(func() {
		if keys := redisKeys(t, client, prefix); len(keys) > 0 {
			if err := client.Del(context.Background(), keys...).Err(); err != nil {
				t.Errorf("delete the test's keys: %v", err)
			}
		}
	})
	return prefix
}

// redisKeys returns the keys that start with prefix.
func redisKeys(t testing.TB, client *redis.Client, prefix string) []string {
	t.Helper()
	var keys []string
	iter := client.Scan(context.Background(), 0, prefix+"*", 1000).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("scan %s*: %v", prefix, err)
	}
	return keys
}

// failOnFallback is an OnFallback for tests where Redis must stay reachable.
func failOnFallback(t testing.TB) func() {
	return func() { t.Error("the limiter fell back: Redis was unreachable") }
}

// countCalls counts the commands the client sends (or tries to).
func countCalls(client *redis.Client) *atomic.Int64 {
	n := new(atomic.Int64)
	client.AddHook(callCounter{n})
	return n
}

type callCounter struct{ n *atomic.Int64 }

func (h callCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h callCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h callCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// logRecorder is a slog.Handler keeping "LEVEL message" of each record.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, r.Level.String()+" "+r.Message)
	return nil
}

// want checks the lines logged so far.
func (h *logRecorder) want(t *testing.T, want ...string) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.msgs) != len(want) {
		t.Errorf("logged %q, want %q", h.msgs, want)
		return
	}
	for i := range want {
		if h.msgs[i] != want[i] {
			t.Errorf("logged %q, want %q", h.msgs, want)
			return
		}
	}
}
