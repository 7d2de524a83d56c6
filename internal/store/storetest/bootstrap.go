package storetest

import (
	"sync"
	"testing"

	"gatehouse/internal/store"
)

func testBootstrapCreates(t *testing.T, s store.Store) {
	ctx := t.Context()
	if as, err := s.ListAccounts(ctx); err != nil || len(as) != 0 {
		t.Fatalf("ListAccounts on an empty store = %v, %v; want none", as, err)
	}
	b := newBootstrap(acct)
	wantErr(t, "Bootstrap", s.Bootstrap(ctx, b), nil)

	a, err := s.GetAccount(ctx, acct)
	wantErr(t, "GetAccount", err, nil)
	wantEqual(t, "account", a, b.Account)
	as, err := s.ListAccounts(ctx)
	wantErr(t, "ListAccounts", err, nil)
	wantEqual(t, "accounts", as, []store.Account{b.Account})

	wantEqual(t, "admin user", mustGetUser(t, s, b.User.ID), b.User)
	p, err := s.GetPolicy(ctx, b.Policy.ID)
	wantErr(t, "GetPolicy", err, nil)
	wantEqual(t, "admin policy", p, b.Policy)
	wantEqual(t, "admin key", mustGetAPIKey(t, s, b.APIKey.ID), b.APIKey)
	k, err := s.GetAPIKeyByDigest(ctx, b.APIKey.Digest)
	wantErr(t, "GetAPIKeyByDigest", err, nil)
	wantEqual(t, "admin key by digest", k, b.APIKey)
}

func testBootstrapTwice(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := newBootstrap(acct)
	wantErr(t, "first Bootstrap", s.Bootstrap(ctx, first), nil)
	seq := mustLastChange(t, s)

	// Records that clash with nothing: only the existing account stops it.
	second := newBootstrap(other)
	wantErr(t, "second Bootstrap", s.Bootstrap(ctx, second), store.ErrAlreadyExists)

	as, err := s.ListAccounts(ctx)
	wantErr(t, "ListAccounts", err, nil)
	wantEqual(t, "accounts", as, []store.Account{first.Account})
	_, err = s.GetUser(ctx, second.User.ID)
	wantErr(t, "GetUser(second admin)", err, store.ErrNotFound)
	_, err = s.GetPolicy(ctx, second.Policy.ID)
	wantErr(t, "GetPolicy(second policy)", err, store.ErrNotFound)
	_, err = s.GetAPIKey(ctx, second.APIKey.ID)
	wantErr(t, "GetAPIKey(second key)", err, store.ErrNotFound)
	wantNoChange(t, s, seq)
}

func testBootstrapRollsBack(t *testing.T, s store.Store) {
	ctx := t.Context()
	b := newBootstrap(acct)
	// A key elsewhere already has the digest of the admin key, so the last of
	// the four inserts fails: the three before it must be undone.
	clash := newAPIKey("iam-ServiceId-x", "clash")
	clash.Digest = b.APIKey.Digest
	mustCreateAPIKey(t, s, clash)
	seq := mustLastChange(t, s)

	wantErr(t, "Bootstrap", s.Bootstrap(ctx, b), store.ErrAlreadyExists)
	as, err := s.ListAccounts(ctx)
	wantErr(t, "ListAccounts", err, nil)
	wantEqual(t, "accounts after failed bootstrap", len(as), 0)
	_, err = s.GetUser(ctx, b.User.ID)
	wantErr(t, "GetUser", err, store.ErrNotFound)
	_, err = s.GetPolicy(ctx, b.Policy.ID)
	wantErr(t, "GetPolicy", err, store.ErrNotFound)
	wantNoChange(t, s, seq)

	// Nothing was left behind that would block a later attempt.
	wantErr(t, "DeleteAPIKey(clash)", s.DeleteAPIKey(ctx, clash.ID, nil), nil)
	wantErr(t, "Bootstrap after removing the clash", s.Bootstrap(ctx, b), nil)
}

func testBootstrapConcurrent(t *testing.T, s store.Store) {
	const n = 16
	bs := make([]store.Bootstrap, n)
	errs := make([]error, n)
	for i := range bs {
		bs[i] = newBootstrap(newUUID()[:8] + acct[8:])
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.Bootstrap(t.Context(), bs[i]) })
	}
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("Bootstrap succeeded twice (calls %d and %d)", winner, i)
		case err == nil:
			winner = i
		default:
			wantErr(t, "losing Bootstrap", err, store.ErrAlreadyExists)
		}
	}
	if winner < 0 {
		t.Fatal("no Bootstrap succeeded")
	}
	as, err := s.ListAccounts(t.Context())
	wantErr(t, "ListAccounts", err, nil)
	wantEqual(t, "accounts", as, []store.Account{bs[winner].Account})
	wantEqual(t, "winner's admin", mustGetUser(t, s, bs[winner].User.ID), bs[winner].User)
}
