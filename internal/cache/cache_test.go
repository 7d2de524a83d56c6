package cache

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestLazyCacheLoadsOnceAndForgets(t *testing.T) {
	c := NewLazy[int](10)
	loads := 0
	load := func(context.Context, string) (int, error) { loads++; return loads, nil }
	for range 3 {
		if v, _ := c.Get(t.Context(), "k", load); v != 1 {
			t.Fatalf("get = %d, want the first load's value", v)
		}
	}
	c.Forget("k")
	if v, _ := c.Get(t.Context(), "k", load); v != 2 || loads != 2 {
		t.Fatalf("after forget: get = %d with %d loads, want a reload", v, loads)
	}
}

func TestLazyCacheDoesNotCacheErrors(t *testing.T) {
	c := NewLazy[int](10)
	boom := errors.New("down")
	if _, err := c.Get(t.Context(), "k", func(context.Context, string) (int, error) { return 0, boom }); err != boom {
		t.Fatalf("err = %v", err)
	}
	if v, _ := c.Get(t.Context(), "k", func(context.Context, string) (int, error) { return 7, nil }); v != 7 {
		t.Fatalf("an error was cached: got %d", v)
	}
}

// A value read before an invalidation must not be cached after it: otherwise a
// revocation racing a cache fill would be lost until the next change.
func TestLazyCacheDropsAFillThatRacedAnInvalidation(t *testing.T) {
	c := NewLazy[string](10)
	stale := func(context.Context, string) (string, error) {
		c.Forget("key") // the revocation lands while the old state is being read
		return "enabled", nil
	}
	if v, _ := c.Get(t.Context(), "key", stale); v != "enabled" {
		t.Fatalf("get = %q", v)
	}
	v, _ := c.Get(t.Context(), "key", func(context.Context, string) (string, error) { return "disabled", nil })
	if v != "disabled" {
		t.Fatalf("the stale fill was cached: got %q", v)
	}
}

func TestLazyCacheIsBounded(t *testing.T) {
	c := NewLazy[int](4)
	for i := range 10 {
		c.Get(t.Context(), string(rune('a'+i)), func(context.Context, string) (int, error) { return i, nil })
		if n := len(c.m); n > 4 {
			t.Fatalf("cache holds %d entries, bound is 4", n)
		}
	}
}

func TestVerifiedExpiresAndIsBounded(t *testing.T) {
	c := NewVerified[string](32)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	k := Key("token-a")
	c.Put(k, "claims-a", now.Add(time.Minute))
	if v, ok := c.Get(k, now); !ok || v != "claims-a" {
		t.Fatalf("Get = %q, %v", v, ok)
	}
	if _, ok := c.Get(Key("token-b"), now); ok {
		t.Fatal("an unknown token was found")
	}
	if _, ok := c.Get(k, now.Add(time.Minute)); ok {
		t.Fatal("an entry was returned at its expiry")
	}
	for i := range 10_000 {
		c.Put(Key(fmt.Sprint("t", i)), "x", now.Add(time.Hour))
	}
	n := 0
	for i := range c.shards {
		n += len(c.shards[i].m)
	}
	if n > 32+16 {
		t.Fatalf("cache holds %d entries, bound is about 32", n)
	}
	c.Clear()
	if _, ok := c.Get(Key("t9999"), now); ok {
		t.Fatal("Clear left an entry")
	}
}
