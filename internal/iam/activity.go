package iam

import (
	"context"
	"sync"
	"time"

	"gatehouse/internal/store"
)

// activity batches the per-key authentication counters so a token exchange
// never waits for a store write: counts accumulate here and FlushActivity
// writes them in one transaction. Reads add what is still pending, so a key's
// activity is exact on this node even between flushes.
type activity struct {
	// flush is held for writing while a batch moves from pending to the store,
	// and for reading while a key is read together with its pending counts, so
	// a read never counts a batch twice or misses one.
	flush   sync.RWMutex
	mu      sync.Mutex
	pending map[string]store.APIKeyActivity
}

func newActivity() *activity {
	return &activity{pending: map[string]store.APIKeyActivity{}}
}

func (a *activity) record(id string, at time.Time) {
	a.mu.Lock()
	p := a.pending[id]
	p.ID = id
	p.Count++
	if at.After(p.Last) {
		p.Last = at
	}
	a.pending[id] = p
	a.mu.Unlock()
}

func (a *activity) peek(id string) store.APIKeyActivity {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pending[id]
}

func (a *activity) take() []store.APIKeyActivity {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.pending) == 0 {
		return nil
	}
	out := make([]store.APIKeyActivity, 0, len(a.pending))
	for _, p := range a.pending {
		out = append(out, p)
	}
	clear(a.pending)
	return out
}

// putBack returns a batch that could not be written, merging it with newer counts.
func (a *activity) putBack(batch []store.APIKeyActivity) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, b := range batch {
		p := a.pending[b.ID]
		p.ID = b.ID
		p.Count += b.Count
		if b.Last.After(p.Last) {
			p.Last = b.Last
		}
		a.pending[b.ID] = p
	}
}

// FlushActivity writes pending key activity to the store; on failure the
// counts are kept for the next flush.
func (s *Service) FlushActivity(ctx context.Context) error {
	s.activity.flush.Lock()
	defer s.activity.flush.Unlock()
	batch := s.activity.take()
	if len(batch) == 0 {
		return nil
	}
	if err := s.store.RecordAPIKeyActivity(ctx, batch); err != nil {
		s.activity.putBack(batch)
		return err
	}
	return nil
}

// getKeyWithActivity reads a key and adds its activity not yet flushed.
func (s *Service) getKeyWithActivity(get func() (store.APIKey, error)) (store.APIKey, error) {
	s.activity.flush.RLock()
	defer s.activity.flush.RUnlock()
	k, err := get()
	if err != nil {
		return k, err
	}
	s.activity.addPending(&k)
	return k, nil
}

// listKeysWithActivity lists keys and adds their activity not yet flushed, so
// a listing agrees with reading each key.
func (s *Service) listKeysWithActivity(ctx context.Context, q store.APIKeyQuery) ([]store.APIKey, error) {
	s.activity.flush.RLock()
	defer s.activity.flush.RUnlock()
	keys, err := s.store.ListAPIKeys(ctx, q)
	if err != nil {
		return nil, err
	}
	for i := range keys {
		s.activity.addPending(&keys[i])
	}
	return keys, nil
}

// addPending adds the counts of k not yet flushed to k.
func (a *activity) addPending(k *store.APIKey) {
	p := a.peek(k.ID)
	k.AuthnCount += p.Count
	if p.Last.After(k.LastAuthn) {
		k.LastAuthn = p.Last
	}
}
