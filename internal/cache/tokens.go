package cache

import (
	"crypto/sha256"
	"sync"
	"time"
)

// Verified remembers tokens whose signature, issuer and times were checked,
// keyed by the SHA-256 of the token, so a token seen again costs a hash and
// a map lookup instead of a signature verification. An entry is only good
// until the token's own expiry (plus leeway); what can change about a valid
// token — its key revoked, its owner disabled — is checked by the caller on
// every request, never cached here.
//
// It is bounded: a shard that fills up is emptied (verifying again is only
// slower, never wrong).
type Verified[V any] struct {
	shards [16]verifiedShard[V]
	max    int // per shard
}

type verifiedShard[V any] struct {
	mu sync.RWMutex
	m  map[[32]byte]verifiedEntry[V]
}

type verifiedEntry[V any] struct {
	v       V
	expires time.Time
}

// NewVerified returns a cache of about max entries.
func NewVerified[V any](max int) *Verified[V] {
	c := &Verified[V]{max: max/16 + 1}
	for i := range c.shards {
		c.shards[i].m = make(map[[32]byte]verifiedEntry[V])
	}
	return c
}

// Key is the cache key of a token.
func Key(token string) [32]byte { return sha256.Sum256([]byte(token)) }

func (c *Verified[V]) shard(k [32]byte) *verifiedShard[V] { return &c.shards[k[0]&15] }

// Get returns the value stored for k if it has not expired at now.
func (c *Verified[V]) Get(k [32]byte, now time.Time) (V, bool) {
	s := c.shard(k)
	s.mu.RLock()
	e, ok := s.m[k]
	s.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put stores v for k until expires.
func (c *Verified[V]) Put(k [32]byte, v V, expires time.Time) {
	s := c.shard(k)
	s.mu.Lock()
	if len(s.m) >= c.max {
		clear(s.m)
	}
	s.m[k] = verifiedEntry[V]{v: v, expires: expires}
	s.mu.Unlock()
}

// Clear empties the cache (signing keys changed).
func (c *Verified[V]) Clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.m)
		s.mu.Unlock()
	}
}
