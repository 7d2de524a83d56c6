package iam

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	"gatehouse/internal/store"
)

// digestCache finds keys by the SHA-256 of their value without a store round
// trip once a key has been seen: the token exchange's hot path. Only keys
// that exist are cached (an attacker can make well-formed keys at will, so
// unknown ones always go to the store, behind the brute-force limit).
// Invalidation is by key id, like the other caches; a generation counter
// keeps a fill that raced an invalidation out. Its entries are a keyIndex's
// compact records, so that it can hold every key of a large deployment.
type digestCache struct {
	mu  sync.RWMutex
	gen uint64
	x   *keyIndex
	max int
}

func newDigestCache(max int) *digestCache {
	return &digestCache{x: newKeyIndex(), max: max}
}

// len is the number of cached keys. c.mu must be held.
func (c *digestCache) len() int { return c.x.len() }

// get returns the key with this digest in the account, or nil.
func (c *digestCache) get(ctx context.Context, d [32]byte, load func(context.Context, [32]byte) (*keyState, error)) (*keyState, error) {
	c.mu.RLock()
	i, ok := c.x.lookup(&d)
	var k *keyState
	if ok {
		k = c.x.state(i)
	}
	gen := c.gen
	c.mu.RUnlock()
	if ok {
		return k, nil
	}
	k, err := load(ctx, d)
	if err != nil || k == nil {
		return k, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.put(d, k)
	}
	c.mu.Unlock()
	return k, nil
}

// put caches k under d; when the cache is full it first drops one entry, a
// random one, so a full cache stays full instead of starting cold again.
// c.mu must be held for writing.
func (c *digestCache) put(d [32]byte, k *keyState) {
	c.x.removeID(k.ID)
	if _, ok := c.x.lookup(&d); !ok && c.len() >= c.max {
		c.x.evictOne()
	}
	c.x.put(d, k)
}

// fill caches a page of keys read while the generation was gen, unless an
// invalidation happened since (then the page is dropped: those keys are
// loaded on use). It reports whether the cache has room for more.
func (c *digestCache) fill(gen uint64, keys []store.APIKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		for _, k := range keys {
			if c.len() >= c.max {
				break
			}
			if len(k.Digest) == sha256.Size {
				c.put([32]byte(k.Digest), stateOf(k))
			}
		}
	}
	return c.len() < c.max
}

// reserve makes room for n keys at once.
func (c *digestCache) reserve(n int) {
	c.mu.Lock()
	c.x.reserve(n)
	c.mu.Unlock()
}

// size is the number of cached keys.
func (c *digestCache) size() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.len()
}

func (c *digestCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// CachedKeys is the number of keys in the digest cache.
func (s *Service) CachedKeys() int { return s.digests.size() }

// keyCounter is a store that counts an account's keys cheaply.
type keyCounter interface {
	CountAPIKeys(ctx context.Context, accountID string) (int, error)
}

// keyScanner is a store that reads an account's keys cheaply, in pages of
// only what an exchange needs.
type keyScanner interface {
	ScanAPIKeyDigests(ctx context.Context, accountID, after string, limit int) ([]store.APIKey, string, error)
}

// WarmDigests fills the digest cache with the account's keys when it can
// hold at least half of them, a page at a time, so that after start-up the
// first exchange of a key finds it in memory too (SPEC §12: the exchange
// without a store round trip when nothing changed). It runs in the
// background, after the server is ready, with the store's cheapest scan
// when it has one; an invalidation racing a page drops
// that page. It stops at the first error, when ctx ends, or when the cache
// is full, and returns how many keys the cache then holds.
func (s *Service) WarmDigests(ctx context.Context) (int, error) {
	// Only when the cache holds at least half of the keys (then at least
	// half of the exchanges hit it): a fill of a cache far smaller than the
	// key count saves little and costs CPU right after start-up. A store
	// that cannot count its keys is not warmed.
	c, ok := s.store.(keyCounter)
	if !ok {
		return 0, nil
	}
	n, err := c.CountAPIKeys(ctx, s.accountID)
	if err != nil {
		return 0, fmt.Errorf("warm digest cache: %w", err)
	}
	if n > 2*s.digests.max {
		return 0, nil
	}
	s.digests.reserve(min(n, s.digests.max))
	if sc, ok := s.store.(keyScanner); ok {
		for after := ""; ; {
			gen := s.digests.generation()
			page, next, err := sc.ScanAPIKeyDigests(ctx, s.accountID, after, 2000)
			if err != nil {
				return s.digests.size(), fmt.Errorf("warm digest cache: %w", err)
			}
			if !s.digests.fill(gen, page) || next == "" {
				return s.digests.size(), nil
			}
			after = next
		}
	}
	q := store.APIKeyQuery{AccountID: s.accountID, Limit: 1000}
	for {
		gen := s.digests.generation()
		page, err := s.store.ListAPIKeys(ctx, q)
		if err != nil {
			return s.digests.size(), fmt.Errorf("warm digest cache: %w", err)
		}
		if !s.digests.fill(gen, page) || len(page) < q.Limit {
			return s.digests.size(), nil
		}
		last := page[len(page)-1]
		q.After = &store.APIKeyCursor{Name: last.Name, CreatedAt: last.CreatedAt, ID: last.ID}
	}
}

func (c *digestCache) forget(id string) {
	c.mu.Lock()
	c.gen++
	c.x.removeID(id)
	c.mu.Unlock()
}

func (c *digestCache) forgetAll() {
	c.mu.Lock()
	c.gen++
	c.x.release() // no reader holds it: they read c.x under c.mu
	c.x = newKeyIndex()
	c.mu.Unlock()
}

// loadByDigest reads a key by digest; nil when it does not exist here.
func (s *Service) loadByDigest(ctx context.Context, d [32]byte) (*keyState, error) {
	k, err := s.store.GetAPIKeyByDigest(ctx, d[:])
	if errors.Is(err, store.ErrNotFound) || (err == nil && k.AccountID != s.accountID) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load api key: %w", err)
	}
	return stateOf(k), nil
}

// forgetKey drops everything cached about a key.
func (s *Service) forgetKey(id string) {
	s.keys.Forget(id)
	s.digests.forget(id)
}
