// Package cache holds the small in-process caches that keep hot paths off the
// store. A cache never decides anything; it only remembers what a loader said
// until it is told the record changed.
package cache

import (
	"context"
	"sync"
)

// Lazy keeps the key and identity states that bearer authentication
// consults on every request, so a request costs no store round trip when
// nothing changed. Entries are filled on first use and dropped when a change to
// the record is seen (locally at once, from other nodes through the change log).
//
// A generation counter closes the race between a fill and an invalidation: a
// value read from the store is only cached if no invalidation happened while it
// was being read, so a revocation can never be overwritten by a stale read.
// The bound is crude on purpose (clear when full): entries are cheap to reload.
type Lazy[V any] struct {
	mu  sync.RWMutex
	gen uint64
	m   map[string]V
	max int
}

// NewLazy returns a cache of at most max entries.
func NewLazy[V any](max int) *Lazy[V] {
	return &Lazy[V]{m: make(map[string]V), max: max}
}

// Get returns the cached value for key, or loads, caches and returns it.
func (c *Lazy[V]) Get(ctx context.Context, key string, load func(context.Context, string) (V, error)) (V, error) {
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

// Forget drops key; a fill that raced it is not kept.
func (c *Lazy[V]) Forget(key string) {
	c.mu.Lock()
	c.gen++
	delete(c.m, key)
	c.mu.Unlock()
}

// ForgetAll drops everything.
func (c *Lazy[V]) ForgetAll() {
	c.mu.Lock()
	c.gen++
	clear(c.m)
	c.mu.Unlock()
}
