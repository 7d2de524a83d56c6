package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// shardCount is the number of independently locked parts of a Memory. A power
// of two, so a hash picks a shard with a mask.
const shardCount = 64

// Memory is a Limiter for one node: counters live in this process only. It is
// safe for concurrent use; calls on keys in different shards never contend.
//
// Each key and window length has one counter holding the start of the window
// it counts. A counter whose window has ended is reset in place the next time
// the key is taken, and dropped by Sweep; call Sweep periodically so keys that
// are no longer used do not hold memory.
type Memory struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [shardCount]shard
}

// shard is one lock and the counters it guards, padded to a cache line of its
// own so that neighbouring shards' locks do not false-share.
type shard struct {
	mu       sync.Mutex
	counters map[counterKey]*counter
	peak     int // the most counters held since the map was last rebuilt
	_        [64 - 24]byte
}

// counterKey names a counter: the caller's key and the window length, so
// rates with different windows on the same key never share a count.
type counterKey struct {
	key    string
	window time.Duration
}

// counter is the number of calls made in the window starting at start (Unix
// nanoseconds).
type counter struct {
	start int64
	used  int64
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns an empty Memory that reads the time from now (time.Now if
// nil).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{now: now, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].counters = make(map[counterKey]*counter)
	}
	return m
}

// Take counts one call against key under r. It returns an error only for an
// invalid rate (ErrInvalidRate); ctx is not consulted, as nothing blocks.
func (m *Memory) Take(_ context.Context, key string, r Rate) (Result, error) {
	if r.Unlimited {
		return unlimited, nil
	}
	if err := r.check(); err != nil {
		return Result{}, err
	}
	now := m.now().UnixNano()
	w := int64(r.Window)
	start := windowStart(now, w)
	k := counterKey{key, r.Window}

	s := &m.shards[maphash.String(m.seed, key)&(shardCount-1)]
	s.mu.Lock()
	c := s.counters[k]
	switch {
	case c == nil:
		c = &counter{start: start}
		s.counters[k] = c
		s.peak = max(s.peak, len(s.counters))
	case c.start < start: // the counted window has ended: reuse the counter
		c.start, c.used = start, 0
	case c.start > start:
		// The wall clock stepped back into an earlier window. Keep counting
		// in the later one rather than start afresh, which would let a
		// clock adjustment hand out a second allowance.
		start = c.start
	}
	c.used++
	used := c.used
	s.mu.Unlock()

	return result(r.Count, used, time.Duration(start+w-now)), nil
}

// Sweep drops every counter whose window has ended, so memory is bounded by
// the keys used in their current windows. Each shard is locked in turn, never
// all at once. A shard's map is rebuilt when it holds under a quarter of its
// peak, as Go maps do not give memory back on delete.
func (m *Memory) Sweep() {
	now := m.now().UnixNano()
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		for k, c := range s.counters {
			if c.start+int64(k.window) <= now {
				delete(s.counters, k)
			}
		}
		if n := len(s.counters); s.peak >= 1024 && n < s.peak/4 {
			fresh := make(map[counterKey]*counter, n)
			for k, c := range s.counters {
				fresh[k] = c
			}
			s.counters, s.peak = fresh, n
		}
		s.mu.Unlock()
	}
}

// len returns the number of counters held, for tests.
func (m *Memory) len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.counters)
		s.mu.Unlock()
	}
	return n
}
