package token_test

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"gatehouse/internal/store"
)

// fakeStore is an in-memory store.SigningKeyStore with the contract's
// uniqueness rules (id and generation), call counters, and an optional gate
// that holds ListSigningKeys callers back until several have arrived, to force
// nodes into the same decision at once.
type fakeStore struct {
	mu   sync.Mutex
	keys []store.SigningKey

	lists   atomic.Int64
	creates atomic.Int64

	gate    *gate
	listErr error
}

var _ store.SigningKeyStore = (*fakeStore)(nil)

func (s *fakeStore) CreateSigningKey(_ context.Context, k store.SigningKey) error {
	s.creates.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.keys {
		if x.ID == k.ID || x.Generation == k.Generation {
			return store.ErrAlreadyExists
		}
	}
	s.keys = append(s.keys, cloneKey(k))
	return nil
}

func (s *fakeStore) ListSigningKeys(context.Context) ([]store.SigningKey, error) {
	s.lists.Add(1)
	s.mu.Lock()
	g, err := s.gate, s.listErr
	out := make([]store.SigningKey, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, cloneKey(k))
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b store.SigningKey) int { return int(a.Generation - b.Generation) })
	if g != nil {
		g.wait() // with the state read before waiting, every caller at the gate sees the same keys
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *fakeStore) DeleteSigningKey(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.keys {
		if x.ID == id {
			s.keys = slices.Delete(s.keys, i, i+1)
			return nil
		}
	}
	return store.ErrNotFound
}

// generations returns the stored generations in order.
func (s *fakeStore) generations() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var g []int64
	for _, k := range s.keys {
		g = append(g, k.Generation)
	}
	slices.Sort(g)
	return g
}

func (s *fakeStore) setGate(g *gate) { s.mu.Lock(); s.gate = g; s.mu.Unlock() }

func (s *fakeStore) setListErr(err error) { s.mu.Lock(); s.listErr = err; s.mu.Unlock() }

// corrupt flips a bit of every stored sealed private key.
func (s *fakeStore) corrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.keys {
		s.keys[i].PrivateKey[len(s.keys[i].PrivateKey)-1] ^= 1
	}
}

func cloneKey(k store.SigningKey) store.SigningKey {
	k.PublicKey = bytes.Clone(k.PublicKey)
	k.PrivateKey = bytes.Clone(k.PrivateKey)
	return k
}

// gate blocks its first n callers until all n have arrived; later callers pass.
type gate struct {
	mu      sync.Mutex
	n       int
	arrived int
	open    chan struct{}
}

func newGate(n int) *gate { return &gate{n: n, open: make(chan struct{})} }

func (g *gate) wait() {
	g.mu.Lock()
	if g.arrived >= g.n {
		g.mu.Unlock()
		return
	}
	g.arrived++
	if g.arrived == g.n {
		close(g.open)
	}
	g.mu.Unlock()
	<-g.open
}
