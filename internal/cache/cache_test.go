package iam

import (
	"context"
	"errors"
	"testing"
)

func TestLazyCacheLoadsOnceAndForgets(t *testing.T) {
	c := newLazyCache[int](10)
	loads := 0
	load := func(context.Context, string) (int, error) { loads++; return loads, nil }
	for range 3 {
		if v, _ := c.get(t.Context(), "k", load); v != 1 {
			t.Fatalf("get = %d, want the first load's value", v)
		}
	}
	c.forget("k")
	if v, _ := c.get(t.Context(), "k", load); v != 2 || loads != 2 {
		t.Fatalf("after forget: get = %d with %d loads, want a reload", v, loads)
	}
}

func TestLazyCacheDoesNotCacheErrors(t *testing.T) {
	c := newLazyCache[int](10)
	boom := errors.New("down")
	if _, err := c.get(t.Context(), "k", func(context.Context, string) (int, error) { return 0, boom }); err != boom {
		t.Fatalf("err = %v", err)
	}
	if v, _ := c.get(t.Context(), "k", func(context.Context, string) (int, error) { return 7, nil }); v != 7 {
		t.Fatalf("an error was cached: got %d", v)
	}
}

// A value read before an invalidation must not be cached after it: otherwise a
// revocation racing a cache fill would be lost until the next change.
func TestLazyCacheDropsAFillThatRacedAnInvalidation(t *testing.T) {
	c := newLazyCache[string](10)
	stale := func(context.Context, string) (string, error) {
		c.forget("key") // the revocation lands while the old state is being read
		return "enabled", nil
	}
	if v, _ := c.get(t.Context(), "key", stale); v != "enabled" {
		t.Fatalf("get = %q", v)
	}
	v, _ := c.get(t.Context(), "key", func(context.Context, string) (string, error) { return "disabled", nil })
	if v != "disabled" {
		t.Fatalf("the stale fill was cached: got %q", v)
	}
}

func TestLazyCacheIsBounded(t *testing.T) {
	c := newLazyCache[int](4)
	for i := range 10 {
		c.get(t.Context(), string(rune('a'+i)), func(context.Context, string) (int, error) { return i, nil })
		if n := len(c.m); n > 4 {
			t.Fatalf("cache holds %d entries, bound is 4", n)
		}
	}
}

func TestPrincipalRoles(t *testing.T) {
	id := &identity{IAMID: "iam-User-x", Account: Reader, Orgs: map[string]Role{"o1": Manager, "o2": Reader}}
	tests := []struct {
		name                    string
		keyCap, tokenRole       Role
		account, o1, o2, maxAny Role
	}{
		{"uncapped", NoRole, NoRole, Reader, Manager, Reader, Manager},
		{"key-capped-writer", Writer, NoRole, Reader, Writer, Reader, Writer},
		{"token-down-scoped-reader", NoRole, Reader, Reader, Reader, Reader, Reader},
		{"both-lowest-wins", Writer, Manager, Reader, Writer, Reader, Writer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Principal{ident: id, KeyCap: tt.keyCap, TokenRole: tt.tokenRole}
			if got := p.AccountRole(); got != tt.account {
				t.Errorf("AccountRole = %v, want %v", got, tt.account)
			}
			if got := p.OrgRole("o1"); got != tt.o1 {
				t.Errorf("OrgRole(o1) = %v, want %v", got, tt.o1)
			}
			if got := p.OrgRole("o2"); got != tt.o2 {
				t.Errorf("OrgRole(o2) = %v, want %v", got, tt.o2)
			}
			if got := p.OrgRole("unknown"); got != tt.account {
				t.Errorf("OrgRole(unknown) = %v, want the account role %v", got, tt.account)
			}
			if got := p.MaxRole(); got != tt.maxAny {
				t.Errorf("MaxRole = %v, want %v", got, tt.maxAny)
			}
		})
	}
}
