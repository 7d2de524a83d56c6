package iam

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A full digest cache drops one entry for a new key, not all of them.
func TestDigestCacheEvictsOne(t *testing.T) {
	c := newDigestCache(3)
	ids := []string{"ApiKey-" + uuid.NewString(), "imported-1", "ApiKey-" + uuid.NewString(), "ApiKey-" + uuid.NewString()}
	for i, id := range ids {
		st := &keyState{ID: id, IAMID: "iam-x"}
		d := [32]byte{byte(i + 1)}
		if _, err := c.get(context.Background(), d, func(context.Context, [32]byte) (*keyState, error) { return st, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if c.len() != 3 {
		t.Fatalf("cache holds %d keys, want 3", c.len())
	}
	if i, ok := c.x.lookup(&[32]byte{4}); !ok || c.x.state(i).ID != ids[3] {
		t.Fatal("the newest key is not cached")
	}
	checkDigestCache(t, c)
}

// Every field an exchange needs comes back as it went in, for both forms of
// key id, and forgetting by id finds the entry.
func TestDigestCacheRoundTrip(t *testing.T) {
	c := newDigestCache(10)
	exp := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	in := []*keyState{
		{ID: "ApiKey-" + uuid.NewString(), IAMID: "iam-ServiceId-a", Disabled: true, ExpiresAt: exp, Cap: Reader},
		{ID: "legacy key", IAMID: "iam-ServiceId-a", Cap: NoRole},
		{ID: "ApiKey-" + uuid.NewString(), IAMID: "IBMid-b", Cap: Administrator},
		// Not the canonical spelling: kept as a raw id, so it comes back unchanged.
		{ID: "ApiKey-" + "ABCDEF01-2345-6789-ABCD-EF0123456789", IAMID: "IBMid-b"},
	}
	for i, k := range in {
		got, err := c.get(t.Context(), [32]byte{byte(i)}, func(context.Context, [32]byte) (*keyState, error) { return k, nil })
		if err != nil || *got != *k {
			t.Fatalf("load %d: %+v, %v", i, got, err)
		}
	}
	for i, k := range in {
		got, _ := c.get(t.Context(), [32]byte{byte(i)}, func(context.Context, [32]byte) (*keyState, error) {
			t.Fatal("a cached key went to the store")
			return nil, nil
		})
		if *got != *k {
			t.Errorf("cached %d = %+v, want %+v", i, got, k)
		}
	}
	if len(c.x.owners) != 2 {
		t.Errorf("%d owners interned, want 2", len(c.x.owners))
	}
	for i, k := range in {
		c.forget(k.ID)
		if _, ok := c.x.lookup(&[32]byte{byte(i)}); ok {
			t.Fatalf("forget(%q) left its digest", k.ID)
		}
	}
	checkDigestCache(t, c)
}

// Random puts, replacements (a key's digest changes when it is rotated),
// forgets and evictions against a plain map of what must be cached.
func TestDigestCacheModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := newDigestCache(50)
	ids := make([]string, 80)
	for i := range ids {
		if i%5 == 0 {
			ids[i] = "raw-" + strconv.Itoa(i)
		} else {
			ids[i] = "ApiKey-" + uuid.NewString()
		}
	}
	model := map[[32]byte]keyState{} // what the cache may hold: never a stale entry
	for step := range 20000 {
		id := ids[r.IntN(len(ids))]
		switch r.IntN(3) {
		case 0, 1:
			if r.IntN(2000) == 0 { // everything dropped: a new index, the old one's memory released
				c.forgetAll()
				clear(model)
				continue
			}
			d := [32]byte{byte(r.IntN(120)), 1}
			k := keyState{ID: id, IAMID: "iam-" + strconv.Itoa(r.IntN(7)), Disabled: r.IntN(2) == 0, Cap: Role(r.IntN(5))}
			c.mu.Lock()
			c.put(d, &k)
			c.mu.Unlock()
			for od, ok := range model {
				if ok.ID == id || od == d {
					delete(model, od)
				}
			}
			model[d] = k
		case 2:
			c.forget(id)
			for od, ok := range model {
				if ok.ID == id {
					delete(model, od)
				}
			}
		}
		// Evictions may drop what the model holds; never the reverse.
		for i := uint32(1); i < c.x.nrecs; i++ {
			r := c.x.rec(i)
			if r.flags&recUsed == 0 {
				continue
			}
			want, ok := model[r.digest]
			if got := c.x.state(i); !ok || *got != want {
				t.Fatalf("step %d: cache has %+v under %v, model %+v (%v)", step, got, r.digest[0], want, ok)
			}
		}
		for d := range model {
			if _, ok := c.x.lookup(&d); !ok {
				delete(model, d) // evicted
			}
		}
		if c.len() > 50 {
			t.Fatalf("step %d: %d entries over the bound of 50", step, c.len())
		}
	}
	checkDigestCache(t, c)
}

// checkDigestCache checks that the tables, records and free lists agree:
// every record in use is found by its digest and by its id, and each table
// slot in use belongs to a distinct record in use.
func checkDigestCache(t *testing.T, c *digestCache) {
	t.Helper()
	x := c.x
	used := 0
	for i := uint32(1); i < x.nrecs; i++ {
		r := x.rec(i)
		if r.flags&recUsed == 0 {
			continue
		}
		used++
		if j, ok := x.lookup(&r.digest); !ok || j != i {
			t.Fatalf("record %d is not found by its digest", i)
		}
		if j, ok := x.lookupID(x.id(r)); !ok || j != i {
			t.Fatalf("record %d is not found by its id %q", i, x.id(r))
		}
	}
	if used != x.len() || int(x.nrecs)-1-len(x.free) != used {
		t.Fatalf("%d records in use, len %d, %d records and %d free", used, x.len(), x.nrecs-1, len(x.free))
	}
	for _, tab := range [][]uint32{x.byDigest, x.byID} {
		seen := map[uint32]bool{}
		for _, i := range tab {
			if i == 0 {
				continue
			}
			if seen[i] || x.rec(i).flags&recUsed == 0 {
				t.Fatalf("slot of record %d is stale or repeated", i)
			}
			seen[i] = true
		}
		if len(seen) != used {
			t.Fatalf("%d slots in use for %d records", len(seen), used)
		}
	}
}
