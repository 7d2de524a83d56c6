// Package ratelimittest is the conformance suite every ratelimit.Limiter
// implementation runs, so the one-node and cluster limiters count alike.
//
// The suite drives time through a Clock and never sleeps. It only uses the
// Limiter interface (and an optional Sweep method), and its keys are unique
// to each run, so it works unchanged against a limiter that shares a server,
// such as Redis, across tests and repeated runs.
package ratelimittest

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/ratelimit"
)

// Clock is a settable fake clock. Pass its Now to the limiter under test.
// It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, backwards or forwards.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// noon is where every test's clock starts: the start of a window of every
// length the tests use up to an hour (minutes and hours since the epoch are
// whole at noon UTC).
var noon = time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)

// Run runs the suite. newLimiter must return a limiter that reads the time
// from clock.Now; it may be fresh for each call or shared (keys never repeat
// across subtests or runs), and registers its own cleanup with t.
func Run(t *testing.T, newLimiter func(t *testing.T, clock *Clock) ratelimit.Limiter) {
	run := rand.Text()[:8] // keys unique to this run, for limiters that outlive it
	for _, tc := range []struct {
		name string
		test func(t *testing.T, s *suite)
	}{
		{"allows-up-to-count-then-refuses", testAllowsUpToCount},
		{"remaining-decreases-by-one-per-call", testRemainingDecreases},
		{"every-call-counts-refused-ones-too", testRefusedCallsCount},
		{"reset-is-until-the-epoch-aligned-window-end", testResetIsExact},
		{"long-windows-align-to-the-epoch", testLongWindowsAlign},
		{"new-window-starts-fresh-exactly-at-the-edge", testWindowEdge},
		{"a-quiet-key-starts-fresh-windows-later", testQuietKey},
		{"keys-are-independent", testKeysIndependent},
		{"different-windows-on-one-key-do-not-share-counters", testWindowsIndependent},
		{"a-changed-count-keeps-the-calls-already-made", testCountChange},
		{"multi-unit-window", testMultiUnitWindow},
		{"unlimited-never-refuses-and-counts-nothing", testUnlimited},
		{"count-zero-refuses-the-first-call", testCountZero},
		{"invalid-rate-is-an-error", testInvalidRate},
		{"concurrent-takes-on-one-key-are-exact", testConcurrentExact},
		{"concurrent-takes-on-many-keys-are-exact", testConcurrentManyKeys},
		{"sweep-keeps-live-counts", testSweepKeepsLiveCounts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewClock(noon)
			s := &suite{
				t:     t,
				clock: clock,
				l:     newLimiter(t, clock),
				keys:  "rltest/" + run + "/" + tc.name + "/",
			}
			tc.test(t, s)
		})
	}
}

// suite is one subtest's limiter, clock and key namespace.
type suite struct {
	t     *testing.T
	clock *Clock
	l     ratelimit.Limiter
	keys  string
}

// key returns a key unique to this subtest and run.
func (s *suite) key(name string) string { return s.keys + name }

// take counts one call and fails the test on an error.
func (s *suite) take(key string, r ratelimit.Rate) ratelimit.Result {
	s.t.Helper()
	res, err := s.l.Take(context.Background(), s.key(key), r)
	if err != nil {
		s.t.Fatalf("Take(%q, %v) at %v: %v", key, r, s.clock.Now().Format(time.RFC3339Nano), err)
	}
	return res
}

// want takes one call and checks all of its Result.
func (s *suite) want(key string, r ratelimit.Rate, want ratelimit.Result) {
	s.t.Helper()
	if got := s.take(key, r); got != want {
		s.t.Errorf("Take(%q, %v) at %v = %+v, want %+v",
			key, r, s.clock.Now().Format(time.RFC3339Nano), got, want)
	}
}

// mustParse parses a rate of the product grammar.
func mustParse(t *testing.T, v string) ratelimit.Rate {
	t.Helper()
	r, err := ratelimit.ParseRate(v)
	if err != nil {
		t.Fatalf("ParseRate(%q): %v", v, err)
	}
	return r
}

// allow and refuse build expected Results.
func allow(limit, remaining int64, reset time.Duration) ratelimit.Result {
	return ratelimit.Result{Allowed: true, Limit: limit, Remaining: remaining, Reset: reset}
}

func refuse(limit int64, reset time.Duration) ratelimit.Result {
	return ratelimit.Result{Allowed: false, Limit: limit, Remaining: 0, Reset: reset}
}

func testAllowsUpToCount(t *testing.T, s *suite) {
	r := mustParse(t, "3/1minute")
	for i := range 3 {
		if res := s.take("k", r); !res.Allowed {
			t.Fatalf("call %d of 3: refused: %+v", i+1, res)
		}
	}
	for range 3 {
		s.want("k", r, refuse(3, time.Minute))
	}
}

func testRemainingDecreases(t *testing.T, s *suite) {
	r := mustParse(t, "5/1hour")
	for i := range int64(5) {
		s.clock.Advance(time.Second)
		s.want("k", r, allow(5, 4-i, time.Hour-time.Duration(i+1)*time.Second))
	}
	s.want("k", r, refuse(5, time.Hour-5*time.Second))
}

func testRefusedCallsCount(t *testing.T, s *suite) {
	// A refused call still counts: the limit stays refused for the rest of
	// the window however often the client retries, and only the window edge
	// lets it in again.
	r := mustParse(t, "2/1minute")
	s.take("k", r)
	s.take("k", r)
	for range 10 {
		s.want("k", r, refuse(2, time.Minute))
	}
	s.clock.Advance(time.Minute)
	s.want("k", r, allow(2, 1, time.Minute))
}

func testResetIsExact(t *testing.T, s *suite) {
	// The window of a minute that starts at 12:00:00 ends at 12:01:00, even
	// if the first call comes at 12:00:59.
	r := mustParse(t, "10/1minute")
	s.clock.Set(noon.Add(59 * time.Second))
	s.want("late", r, allow(10, 9, time.Second))
	s.clock.Set(noon.Add(59*time.Second + 999*time.Millisecond))
	s.want("late", r, allow(10, 8, time.Millisecond))
	s.clock.Set(noon.Add(time.Minute - time.Nanosecond))
	s.want("late", r, allow(10, 7, time.Nanosecond))

	s.clock.Set(noon.Add(30*time.Minute + 17*time.Second + 250*time.Millisecond))
	s.want("hourly", mustParse(t, "10/hour"), allow(10, 9, 29*time.Minute+42*time.Second+750*time.Millisecond))
	s.want("secondly", mustParse(t, "10/second"), allow(10, 9, 750*time.Millisecond))
}

func testLongWindowsAlign(t *testing.T, s *suite) {
	// Day windows start at midnight UTC; week windows at midnight UTC on a
	// Thursday (1970-01-01 was one); 30-day "months" every 30 days since the
	// epoch. noon is Monday 2025-06-02, day 20241 since the epoch.
	for _, tc := range []struct {
		rate string
		end  time.Time
	}{
		{"1/1day", time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC)},
		{"1/2days", time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC)},   // 20241 is odd: window 20240–20241
		{"1/1week", time.Date(2025, 6, 5, 0, 0, 0, 0, time.UTC)},   // the coming Thursday
		{"1/1month", time.Date(2025, 6, 11, 0, 0, 0, 0, time.UTC)}, // day 20250 = 675 × 30
		{"1/6hours", time.Date(2025, 6, 2, 18, 0, 0, 0, time.UTC)},
	} {
		r := mustParse(t, tc.rate)
		s.want("k/"+tc.rate, r, allow(1, 0, tc.end.Sub(noon)))
	}
}

func testWindowEdge(t *testing.T, s *suite) {
	r := mustParse(t, "1/1minute")
	edge := noon.Add(time.Minute)
	s.clock.Set(edge.Add(-time.Nanosecond))
	s.want("k", r, allow(1, 0, time.Nanosecond))
	s.want("k", r, refuse(1, time.Nanosecond))
	s.clock.Set(edge)
	s.want("k", r, allow(1, 0, time.Minute))
	s.want("k", r, refuse(1, time.Minute))
}

func testQuietKey(t *testing.T, s *suite) {
	r := mustParse(t, "2/1minute")
	s.take("k", r)
	s.take("k", r)
	s.want("k", r, refuse(2, time.Minute))
	s.clock.Advance(10*time.Minute + 30*time.Second)
	s.want("k", r, allow(2, 1, 30*time.Second))
}

func testKeysIndependent(t *testing.T, s *suite) {
	r := mustParse(t, "2/1minute")
	s.take("a", r)
	s.take("a", r)
	s.want("a", r, refuse(2, time.Minute))
	s.want("b", r, allow(2, 1, time.Minute))
	s.want("a/b", r, allow(2, 1, time.Minute)) // no confusion of keys that share a prefix
	s.want("", r, allow(2, 1, time.Minute))
}

func testWindowsIndependent(t *testing.T, s *suite) {
	perMinute := mustParse(t, "2/1minute")
	perHour := mustParse(t, "2/1hour")
	perTwoMinutes := mustParse(t, "2/2minutes")
	s.take("k", perMinute)
	s.take("k", perMinute)
	s.want("k", perMinute, refuse(2, time.Minute))
	s.want("k", perHour, allow(2, 1, time.Hour))
	s.want("k", perTwoMinutes, allow(2, 1, 2*time.Minute))
	s.want("k", perHour, allow(2, 0, time.Hour))
	s.want("k", perTwoMinutes, allow(2, 0, 2*time.Minute))
}

func testCountChange(t *testing.T, s *suite) {
	// The same window with another Count (a republished plan) keeps counting
	// the calls made in the window so far.
	s.take("k", mustParse(t, "3/1minute"))
	s.take("k", mustParse(t, "3/1minute"))
	s.want("k", mustParse(t, "5/1minute"), allow(5, 2, time.Minute))
	s.want("k", mustParse(t, "3/1minute"), refuse(3, time.Minute))
}

func testMultiUnitWindow(t *testing.T, s *suite) {
	// 5/2minute: windows of two minutes starting at even minutes since the
	// epoch, so 12:00–12:02, 12:02–12:04, …
	r := mustParse(t, "5/2minute")
	s.clock.Set(noon.Add(90 * time.Second))
	for i := range int64(5) {
		s.want("k", r, allow(5, 4-i, 30*time.Second))
	}
	s.want("k", r, refuse(5, 30*time.Second))
	s.clock.Set(noon.Add(2 * time.Minute))
	s.want("k", r, allow(5, 4, 2*time.Minute))
	s.clock.Set(noon.Add(4*time.Minute - time.Nanosecond))
	for range 4 {
		s.take("k", r)
	}
	s.want("k", r, refuse(5, time.Nanosecond))
}

func testUnlimited(t *testing.T, s *suite) {
	r := mustParse(t, "unlimited")
	want := ratelimit.Result{Allowed: true, Limit: -1, Remaining: -1}
	for range 1000 {
		s.want("k", r, want)
	}
	// Unlimited calls count nothing: a limited rate on the key starts full.
	s.want("k", mustParse(t, "1/1minute"), allow(1, 0, time.Minute))
	s.want("k", ratelimit.Rate{Unlimited: true, Count: 0, Window: time.Minute}, want)
}

func testCountZero(t *testing.T, s *suite) {
	r := mustParse(t, "0/1hour")
	s.want("k", r, refuse(0, time.Hour))
	s.want("k", r, refuse(0, time.Hour))
	s.clock.Advance(time.Hour)
	s.want("k", r, refuse(0, time.Hour))
}

func testInvalidRate(t *testing.T, s *suite) {
	for _, r := range []ratelimit.Rate{
		{},
		{Count: 10},
		{Count: 10, Window: -time.Minute},
		{Count: -1, Window: time.Minute},
	} {
		_, err := s.l.Take(context.Background(), s.key("k"), r)
		if !errors.Is(err, ratelimit.ErrInvalidRate) {
			t.Errorf("Take(%+v) error = %v, want ErrInvalidRate", r, err)
		}
	}
	// Nothing was counted.
	s.want("k", mustParse(t, "1/1minute"), allow(1, 0, time.Minute))
}

func testConcurrentExact(t *testing.T, s *suite) {
	// 64 goroutines × 20 calls against one key with room for 500: exactly
	// 500 are let through, each seeing a different Remaining.
	const goroutines, calls, count = 64, 20, 500
	r := ratelimit.Rate{Count: count, Window: time.Minute}
	key := s.key("hot")
	var (
		allowed atomic.Int64
		seen    [count]atomic.Int32
		wg      sync.WaitGroup
	)
	for range goroutines {
		wg.Go(func() {
			for range calls {
				res, err := s.l.Take(context.Background(), key, r)
				if err != nil {
					t.Errorf("Take: %v", err)
					return
				}
				if res.Limit != count || res.Reset != time.Minute {
					t.Errorf("Take = %+v, want Limit %d and Reset %v", res, count, time.Minute)
				}
				if !res.Allowed {
					if res.Remaining != 0 {
						t.Errorf("refused with Remaining %d", res.Remaining)
					}
					continue
				}
				allowed.Add(1)
				if res.Remaining < 0 || res.Remaining >= count {
					t.Errorf("allowed with Remaining %d", res.Remaining)
					continue
				}
				seen[res.Remaining].Add(1)
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != count {
		t.Errorf("allowed %d of %d calls, want exactly %d", got, goroutines*calls, count)
	}
	for rem := range seen {
		if n := seen[rem].Load(); n != 1 {
			t.Errorf("Remaining %d seen %d times, want once", rem, n)
		}
	}
	s.want("hot", r, refuse(count, time.Minute))
}

func testConcurrentManyKeys(t *testing.T, s *suite) {
	// Goroutines spread over keys: each key lets through exactly its Count.
	const goroutines, keys, count = 32, 16, 10
	r := ratelimit.Rate{Count: count, Window: time.Hour}
	var (
		allowed [keys]atomic.Int64
		wg      sync.WaitGroup
	)
	for g := range goroutines {
		wg.Go(func() {
			for i := range 3 * keys {
				k := (g + i) % keys
				res, err := s.l.Take(context.Background(), s.key(string(rune('a'+k))), r)
				if err != nil {
					t.Errorf("Take: %v", err)
					return
				}
				if res.Allowed {
					allowed[k].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for k := range allowed {
		if got := allowed[k].Load(); got != count {
			t.Errorf("key %c: allowed %d, want %d", 'a'+k, got, count)
		}
	}
}

// sweeper is implemented by limiters that drop ended windows on request.
type sweeper interface{ Sweep() }

func testSweepKeepsLiveCounts(t *testing.T, s *suite) {
	sw, ok := s.l.(sweeper)
	if !ok {
		t.Skipf("%T has no Sweep method: nothing to test", s.l)
	}
	perMinute := mustParse(t, "3/1minute")
	perHour := mustParse(t, "3/1hour")
	s.take("minute", perMinute)
	s.take("minute", perMinute)
	s.take("hour", perHour)
	s.take("ended", perMinute)
	s.clock.Advance(30 * time.Second)
	sw.Sweep()
	s.want("minute", perMinute, allow(3, 0, 30*time.Second))
	s.want("hour", perHour, allow(3, 1, time.Hour-30*time.Second))

	s.clock.Advance(30 * time.Second) // the minute ends; the hour goes on
	sw.Sweep()
	s.want("hour", perHour, allow(3, 0, time.Hour-time.Minute))
	s.want("minute", perMinute, allow(3, 2, time.Minute))
	s.want("ended", perMinute, allow(3, 2, time.Minute))
}
