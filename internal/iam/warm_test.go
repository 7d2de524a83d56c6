package iam_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/iam"
	"gatehouse/internal/store"
	"gatehouse/internal/store/sqlite"
	"gatehouse/internal/token"
)

// countingStore counts the digest lookups that reach the store.
type countingStore struct {
	*sqlite.Store
	mu      sync.Mutex
	lookups int
}

func (c *countingStore) GetAPIKeyByDigest(ctx context.Context, d []byte) (store.APIKey, error) {
	c.mu.Lock()
	c.lookups++
	c.mu.Unlock()
	return c.Store.GetAPIKeyByDigest(ctx, d)
}

func (c *countingStore) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookups
}

// warmEnv is a bootstrapped store with n more keys (created in order after
// the admin key, whose value comes first in the returned list) and a second
// service over it with a digest cache of cacheSize that counts lookups.
func warmEnv(t *testing.T, n, cacheSize int) (*iam.Service, *countingStore, []iam.CreatedKey) {
	t.Helper()
	ctx := context.Background()
	e := newEnv(t)
	admin := e.principal(t, e.admin, "")
	adminKey, err := e.store.GetAPIKey(ctx, admin.APIKeyID)
	if err != nil {
		t.Fatal(err)
	}
	keys := []iam.CreatedKey{{Key: adminKey, Value: e.admin}}
	for i := range n {
		e.clock.Advance(time.Second) // creation order = this order
		keys = append(keys, e.mustKey(t, admin, iam.CreateKeyInput{Name: "k" + strconv.Itoa(i)}))
	}
	cs := &countingStore{Store: e.store.(*sqlite.Store)}
	sealer, err := token.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := token.NewKeyring(ctx, token.Config{Store: cs, Sealer: sealer, Algorithm: token.EdDSA, Issuer: "https://gh.test", Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := iam.New(ctx, iam.Config{Store: cs, Tokens: kr, Issuer: "https://gh.test", TokenTTL: time.Hour, Now: e.clock.Now, KeyIndexSize: cacheSize})
	if err != nil {
		t.Fatal(err)
	}
	return svc, cs, keys
}

func exchangeAll(t *testing.T, svc *iam.Service, keys []iam.CreatedKey) {
	t.Helper()
	for _, k := range keys {
		tok, err := svc.Exchange(context.Background(), iam.ExchangeRequest{APIKey: k.Value})
		if err != nil || tok.APIKeyID != k.Key.ID {
			t.Fatalf("Exchange(%s): %+v, %v", k.Key.ID, tok, err)
		}
	}
}

// Once warmed, exchanges of every key skip the store; an invalidated key is
// read again.
func TestWarmDigestsExchangeWithoutStoreLookups(t *testing.T) {
	svc, cs, keys := warmEnv(t, 3, 10)
	if _, err := svc.WarmDigests(context.Background()); err != nil {
		t.Fatal(err)
	}
	exchangeAll(t, svc, keys)
	if n := cs.count(); n != 0 {
		t.Fatalf("%d digest lookups reached the store after warming, want 0", n)
	}
	svc.Invalidate(store.Change{Kind: store.ChangeAPIKey, Key: keys[2].Key.ID})
	exchangeAll(t, svc, keys)
	if n := cs.count(); n != 1 {
		t.Fatalf("%d digest lookups after invalidating one key, want 1", n)
	}
}

// A cache that holds half of the keys is filled with the first ones created;
// keys past it are read on use, each evicting one entry rather than the whole
// cache.
func TestWarmDigestsFillsHalf(t *testing.T) {
	svc, cs, keys := warmEnv(t, 3, 2) // 4 keys, room for 2
	if _, err := svc.WarmDigests(context.Background()); err != nil {
		t.Fatal(err)
	}
	exchangeAll(t, svc, keys)
	if n := cs.count(); n != 2 {
		t.Fatalf("%d digest lookups, want 2 (the two keys that did not fit)", n)
	}
}

// A cache far smaller than the key count is not warmed.
func TestWarmDigestsSkipsASmallCache(t *testing.T) {
	svc, cs, keys := warmEnv(t, 3, 1) // 4 keys, room for 1
	if _, err := svc.WarmDigests(context.Background()); err != nil {
		t.Fatal(err)
	}
	exchangeAll(t, svc, keys[:1])
	if n := cs.count(); n != 1 {
		t.Fatalf("%d digest lookups, want 1: nothing should have been warmed", n)
	}
}
