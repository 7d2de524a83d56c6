package iam

import (
	"context"
	"sync"
)

// lazyCache keeps the key and identity states that bearer authentication
// consults on every request, so a request costs no store round trip when
// nothing changed. Entries are filled on first use and dropped when a change to
// the record is seen (locally at once, from other nodes through the change log).
//
// A generation counter closes the race between a fill and an invalidation: a
// value read from the store is only cached if no invalidation happened while it
// was being read, so a revocation can never be overwritten by a stale read.
// The bound is crude on purpose (clear when full): entries are cheap to reload.
type lazyCache[V any] struct {
	mu  sync.RWMutex
	gen uint64
	m   map[string]V
	max int
}

func newLazyCache[V any](max int) *lazyCache[V] {
	return &lazyCache[V]{m: make(map[string]V), max: max}
}

// get returns the cached value for key, or loads, caches and returns it.
func (c *lazyCache[V]) get(ctx context.Context, key string, load func(context.Context, string) (V, error)) (V, error) {
	c.mu.RLock()
	v, ok := c.m[key]
	gen := c.gen
	c.mu.RUnlock()
	if ok {
		return v, nil
	}
	v, err := load(ctx, key)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.m) >= c.max {
			clear(c.m)
		}
		c.m[key] = v
	}
	c.mu.Unlock()
	return v, nil
}

func (c *lazyCache[V]) forget(key string) {
	c.mu.Lock()
	c.gen++
	delete(c.m, key)
	c.mu.Unlock()
}

func (c *lazyCache[V]) forgetAll() {
	c.mu.Lock()
	c.gen++
	clear(c.m)
	c.mu.Unlock()
}
