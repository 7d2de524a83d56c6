package iam

import (
	"context"
	"strconv"
	"testing"
)

// The key lookup of a token exchange once the key has been seen: the shape
// check, SHA-256 of the value, and the digest cache (no store round trip).
// 10 000 other keys share the cache. scripts/benchguard.sh guards the
// allocations.
func BenchmarkDigestLookupWarm(b *testing.B) {
	ctx := context.Background()
	c := newDigestCache(100_000)
	var key string
	for i := range 10_000 {
		v, err := GenerateKey(nil)
		if err != nil {
			b.Fatal(err)
		}
		st := &keyState{ID: "key-" + strconv.Itoa(i), IAMID: "iam-ServiceId-x"}
		if _, err := c.get(ctx, [32]byte(Digest(v)), func(context.Context, [32]byte) (*keyState, error) { return st, nil }); err != nil {
			b.Fatal(err)
		}
		key = v
	}
	cold := func(context.Context, [32]byte) (*keyState, error) {
		b.Fatal("warm lookup went to the store")
		return nil, nil
	}
	b.ReportAllocs()
	for b.Loop() {
		if CheckKey(key) != nil {
			b.Fatal("key refused")
		}
		k, err := c.get(ctx, [32]byte(Digest(key)), cold)
		if err != nil || k == nil || k.ID != "key-9999" {
			b.Fatalf("lookup: %v, %v", k, err)
		}
	}
}
