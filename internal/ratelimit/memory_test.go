package ratelimit_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/ratelimit"
	"gatehouse/internal/ratelimit/ratelimittest"
)

func TestMemoryConformance(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T, clock *ratelimittest.Clock) ratelimit.Limiter {
		return ratelimit.NewMemory(clock.Now)
	})
}

var noon = time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)

// mustTake counts one call and fails the test on an error.
func mustTake(t *testing.T, l ratelimit.Limiter, key string, r ratelimit.Rate) ratelimit.Result {
	t.Helper()
	res, err := l.Take(context.Background(), key, r)
	if err != nil {
		t.Fatalf("Take(%q, %v): %v", key, r, err)
	}
	return res
}

func wantLen(t *testing.T, m *ratelimit.Memory, want int) {
	t.Helper()
	if got := ratelimit.MemoryLen(m); got != want {
		t.Errorf("counters held = %d, want %d", got, want)
	}
}

func TestMemorySweepBoundsMemory(t *testing.T) {
	clock := ratelimittest.NewClock(noon)
	m := ratelimit.NewMemory(clock.Now)
	perMinute := ratelimit.Rate{Count: 5, Window: time.Minute}
	perHour := ratelimit.Rate{Count: 5, Window: time.Hour}
	const keys = 10_000
	for i := range keys {
		mustTake(t, m, "k"+strconv.Itoa(i), perMinute)
	}
	for i := range 10 {
		mustTake(t, m, "k"+strconv.Itoa(i), perHour)
	}
	wantLen(t, m, keys+10)

	m.Sweep() // every window is live
	wantLen(t, m, keys+10)

	clock.Advance(time.Minute - time.Nanosecond)
	m.Sweep()
	wantLen(t, m, keys+10)

	clock.Advance(time.Nanosecond) // the minute windows end
	m.Sweep()
	wantLen(t, m, 10)

	// The shrunk shards still count; the swept keys start afresh.
	if res := mustTake(t, m, "k1", perHour); res.Remaining != 3 {
		t.Errorf("k1 per hour after sweep: Remaining %d, want 3", res.Remaining)
	}
	if res := mustTake(t, m, "k1", perMinute); res.Remaining != 4 {
		t.Errorf("k1 per minute after sweep: Remaining %d, want 4", res.Remaining)
	}

	clock.Advance(time.Hour)
	m.Sweep()
	wantLen(t, m, 0)
}

func TestMemoryReusesAnEndedWindowsCounter(t *testing.T) {
	// Without Sweep, a key used in window after window holds one counter.
	clock := ratelimittest.NewClock(noon)
	m := ratelimit.NewMemory(clock.Now)
	r := ratelimit.Rate{Count: 1, Window: time.Second}
	for range 1000 {
		if res := mustTake(t, m, "k", r); !res.Allowed {
			t.Fatalf("first call of a window refused: %+v", res)
		}
		clock.Advance(time.Second)
	}
	wantLen(t, m, 1)
}

func TestMemoryClockSteppingBackKeepsCounting(t *testing.T) {
	// A wall clock stepped back into the previous window must not hand out a
	// fresh allowance: the calls count in the later window.
	clock := ratelimittest.NewClock(noon.Add(time.Minute))
	m := ratelimit.NewMemory(clock.Now)
	r := ratelimit.Rate{Count: 2, Window: time.Minute}
	mustTake(t, m, "k", r)
	mustTake(t, m, "k", r)
	clock.Set(noon.Add(59 * time.Second))
	res := mustTake(t, m, "k", r)
	want := ratelimit.Result{Allowed: false, Limit: 2, Remaining: 0, Reset: time.Minute + time.Second}
	if res != want {
		t.Errorf("after stepping back: %+v, want %+v", res, want)
	}
}

func TestMemoryWindowsBeforeTheEpoch(t *testing.T) {
	clock := ratelimittest.NewClock(time.Unix(-90, 0))
	m := ratelimit.NewMemory(clock.Now)
	res := mustTake(t, m, "k", ratelimit.Rate{Count: 1, Window: time.Minute})
	if res.Reset != 30*time.Second {
		t.Errorf("Reset at 90 s before the epoch = %v, want 30s", res.Reset)
	}
}

func TestMemoryNilClockIsTimeNow(t *testing.T) {
	m := ratelimit.NewMemory(nil)
	res := mustTake(t, m, "k", ratelimit.Rate{Count: 1, Window: time.Hour})
	if !res.Allowed || res.Reset <= 0 || res.Reset > time.Hour {
		t.Errorf("Take = %+v, want allowed with 0 < Reset <= 1h", res)
	}
	m.Sweep()
	wantLen(t, m, 1)
}

func TestMemoryTakeDoesNotAllocate(t *testing.T) {
	m := ratelimit.NewMemory(nil)
	r := ratelimit.Rate{Count: 1 << 40, Window: time.Hour}
	ctx := context.Background()
	if _, err := m.Take(ctx, "k", r); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := m.Take(ctx, "k", r); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Take on an existing key: %v allocs, want 0", allocs)
	}
}

func BenchmarkMemoryTake(b *testing.B) {
	m := ratelimit.NewMemory(nil)
	r := ratelimit.Rate{Count: 1 << 40, Window: time.Hour}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Take(ctx, "sub-1/default", r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryTakeParallel(b *testing.B) {
	const keys = 10_000
	names := make([]string, keys)
	for i := range names {
		names[i] = "sub-" + strconv.Itoa(i) + "/default"
	}
	m := ratelimit.NewMemory(nil)
	r := ratelimit.Rate{Count: 1 << 40, Window: time.Hour}
	ctx := context.Background()
	var worker atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(worker.Add(1)) * 7919 // each goroutine walks the keys from its own place
		for pb.Next() {
			if _, err := m.Take(ctx, names[i%keys], r); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
