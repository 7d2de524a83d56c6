package iam

import (
	"context"
	"testing"
)

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

// A key read by digest before it was disabled must not stay cached after.
func TestDigestCacheDropsAFillThatRacedAnInvalidation(t *testing.T) {
	c := newDigestCache(10)
	d := [32]byte{1}
	_, _ = c.get(t.Context(), d, func(context.Context, [32]byte) (*keyState, error) {
		c.forget("ApiKey-1") // disabled while the old state was being read
		return &keyState{ID: "ApiKey-1"}, nil
	})
	k, _ := c.get(t.Context(), d, func(context.Context, [32]byte) (*keyState, error) {
		return &keyState{ID: "ApiKey-1", Disabled: true}, nil
	})
	if !k.Disabled {
		t.Fatal("the stale fill was cached")
	}
	c.forget("ApiKey-1")
	if _, ok := c.x.lookup(&d); ok {
		t.Fatal("forget by id left the digest cached")
	}
	if k, _ := c.get(t.Context(), [32]byte{2}, func(context.Context, [32]byte) (*keyState, error) { return nil, nil }); k != nil || c.len() != 0 {
		t.Fatal("an unknown digest was cached")
	}
}
