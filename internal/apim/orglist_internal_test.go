package apim

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"gatehouse/internal/store"
	"gatehouse/internal/store/sqlite"
)

func newOrgStore(t *testing.T) (*Service, store.Store) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(Config{Store: st, AccountID: "acct"}), st
}

func mustOrg(t *testing.T, st store.Store, name string) store.Org {
	t.Helper()
	now := time.Unix(1700000000, 0).UTC()
	o := store.Org{ID: "id-" + name, AccountID: "acct", Name: name, Title: name, Version: 1, CreatedAt: now, ModifiedAt: now}
	if err := st.CreateOrg(context.Background(), o, nil); err != nil {
		t.Fatal(err)
	}
	return o
}

func names(orgs []store.Org) []string {
	out := []string{}
	for _, o := range orgs {
		out = append(out, o.Name)
	}
	return out
}

func TestOrgListFollowsChanges(t *testing.T) {
	s, st := newOrgStore(t)
	ctx := t.Context()
	mustOrg(t, st, "beta")
	mustOrg(t, st, "alpha")
	all, ok, err := s.allOrgs(ctx)
	if err != nil || !ok || !slices.Equal(names(all), []string{"alpha", "beta"}) {
		t.Fatalf("allOrgs = %v, %v, %v", names(all), ok, err)
	}

	// Written behind the service's back: the cached list stands until the
	// change log says otherwise, then the new org is listed at once.
	mustOrg(t, st, "a-first")
	if all, _, _ := s.allOrgs(ctx); len(all) != 2 {
		t.Fatalf("list was reloaded without a change: %v", names(all))
	}
	s.Invalidate(store.Change{Kind: store.ChangeOrg, Key: "id-a-first"})
	if all, _, _ := s.allOrgs(ctx); !slices.Equal(names(all), []string{"a-first", "alpha", "beta"}) {
		t.Fatalf("after the change: %v", names(all))
	}
	if err := st.DeleteOrg(ctx, "id-alpha", nil); err != nil {
		t.Fatal(err)
	}
	s.Invalidate(store.Change{Kind: store.ChangeAccount})
	if all, _, _ := s.allOrgs(ctx); !slices.Equal(names(all), []string{"a-first", "beta"}) {
		t.Fatalf("after the delete: %v", names(all))
	}
}

func TestOrgListFillRacingAnInvalidationIsDropped(t *testing.T) {
	s, st := newOrgStore(t)
	mustOrg(t, st, "alpha")
	s.orgList.mu.Lock()
	gen := s.orgList.gen
	s.orgList.mu.Unlock()
	s.forgetOrgs() // an invalidation lands while a fill (started at gen) runs
	s.orgList.mu.Lock()
	if s.orgList.gen == gen {
		t.Fatal("forgetOrgs did not advance the generation")
	}
	s.orgList.mu.Unlock()
}

func TestOrgListPagesLikeTheStore(t *testing.T) {
	s, st := newOrgStore(t)
	var all []store.Org
	for i := range 12 {
		all = append(all, mustOrg(t, st, "org-"+strconv.Itoa(100+i)))
	}
	odd := func(o store.Org) bool { return o.Name[len(o.Name)-1]%2 == 1 }
	cases := []struct {
		after string
		limit int
		keep  func(store.Org) bool
		want  []string
	}{
		{"", 3, func(store.Org) bool { return true }, []string{"org-100", "org-101", "org-102", "org-103"}},
		{"org-102", 2, func(store.Org) bool { return true }, []string{"org-103", "org-104", "org-105"}},
		{"org-1025", 1, odd, []string{"org-103", "org-105"}},
		{"org-111", 5, odd, nil},
		{"", 100, odd, []string{"org-101", "org-103", "org-105", "org-107", "org-109", "org-111"}},
	}
	for _, c := range cases {
		got := names(listCachedOrgs(all, c.after, c.limit, c.keep))
		if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("after %q limit %d: %v, want %v", c.after, c.limit, got, c.want)
		}
	}
	if got, ok, _ := s.allOrgs(t.Context()); !ok || len(got) != 12 {
		t.Errorf("allOrgs: %d orgs, cached %v", len(got), ok)
	}
}
