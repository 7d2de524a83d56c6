package iam

import (
	"context"
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
// keeps a fill that raced an invalidation out.
type digestCache struct {
	mu       sync.RWMutex
	gen      uint64
	byDigest map[[32]byte]*keyState
	digestOf map[string][32]byte // key id → digest
	max      int
}

func newDigestCache(max int) *digestCache {
	return &digestCache{byDigest: map[[32]byte]*keyState{}, digestOf: map[string][32]byte{}, max: max}
}

// get returns the key with this digest in the account, or nil.
func (c *digestCache) get(ctx context.Context, d [32]byte, load func(context.Context, [32]byte) (*keyState, error)) (*keyState, error) {
	c.mu.RLock()
	k, ok := c.byDigest[d]
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
		if len(c.byDigest) >= c.max {
			clear(c.byDigest)
			clear(c.digestOf)
		}
		c.byDigest[d] = k
		c.digestOf[k.ID] = d
	}
	c.mu.Unlock()
	return k, nil
}

func (c *digestCache) forget(id string) {
	c.mu.Lock()
	c.gen++
	if d, ok := c.digestOf[id]; ok {
		delete(c.byDigest, d)
		delete(c.digestOf, id)
	}
	c.mu.Unlock()
}

func (c *digestCache) forgetAll() {
	c.mu.Lock()
	c.gen++
	clear(c.byDigest)
	clear(c.digestOf)
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
