package iam

import (
	"context"
	"strconv"
	"testing"
)

// A full digest cache drops one entry for a new key, not all of them.
func TestDigestCacheEvictsOne(t *testing.T) {
	c := newDigestCache(3)
	for i := range 4 {
		st := &keyState{ID: "key-" + strconv.Itoa(i)}
		d := [32]byte{byte(i + 1)}
		if _, err := c.get(context.Background(), d, func(context.Context, [32]byte) (*keyState, error) { return st, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.byDigest) != 3 || len(c.digestOf) != 3 {
		t.Fatalf("cache holds %d digests and %d ids, want 3 and 3", len(c.byDigest), len(c.digestOf))
	}
	if k := c.byDigest[[32]byte{4}]; k == nil || k.ID != "key-3" || c.digestOf["key-3"] != [32]byte{4} {
		t.Fatalf("the newest key is not cached: %v", k)
	}
	for d, k := range c.byDigest {
		if c.digestOf[k.ID] != d {
			t.Fatalf("%s: the two maps disagree", k.ID)
		}
	}
}
