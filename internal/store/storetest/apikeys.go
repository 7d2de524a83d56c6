package storetest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/store"
)

func testAPIKeyCreateGet(t *testing.T, s store.Store) {
	k := mustCreateAPIKey(t, s, newAPIKey("iam-User-a", "mine"))
	wantEqual(t, "GetAPIKey", mustGetAPIKey(t, s, k.ID), k)
	got, err := s.GetAPIKeyByDigest(t.Context(), k.Digest)
	wantErr(t, "GetAPIKeyByDigest", err, nil)
	wantEqual(t, "key by digest", got, k)
	unknown := sha256.Sum256([]byte("no such key"))
	_, err = s.GetAPIKeyByDigest(t.Context(), unknown[:])
	wantErr(t, "GetAPIKeyByDigest(unknown)", err, store.ErrNotFound)
}

func testAPIKeyDuplicates(t *testing.T, s store.Store) {
	ctx := t.Context()
	k := mustCreateAPIKey(t, s, newAPIKey("iam-User-a", "mine"))
	sameID := newAPIKey("iam-User-b", "same id")
	sameID.ID = k.ID
	wantErr(t, "CreateAPIKey(same id)", s.CreateAPIKey(ctx, sameID), store.ErrAlreadyExists)
	sameDigest := newAPIKey("iam-User-b", "same digest")
	sameDigest.Digest = k.Digest
	wantErr(t, "CreateAPIKey(same digest)", s.CreateAPIKey(ctx, sameDigest), store.ErrAlreadyExists)
	_, err := s.GetAPIKey(ctx, sameDigest.ID)
	wantErr(t, "GetAPIKey(rejected)", err, store.ErrNotFound)
	wantEqual(t, "original key", mustGetAPIKey(t, s, k.ID), k)
}

func testAPIKeyListFilters(t *testing.T, s store.Store) {
	a1 := mustCreateAPIKey(t, s, newAPIKey("iam-User-a", "a1"))
	a2 := mustCreateAPIKey(t, s, newAPIKey("iam-User-a", "a2"))
	b1 := mustCreateAPIKey(t, s, newAPIKey("iam-User-b", "b1"))
	stranger := newAPIKey("iam-User-a", "elsewhere")
	stranger.AccountID = other
	mustCreateAPIKey(t, s, stranger)

	for _, tc := range []struct {
		name string
		q    store.APIKeyQuery
		want []store.APIKey
	}{
		{"account", store.APIKeyQuery{AccountID: acct, SortBy: "name"}, []store.APIKey{a1, a2, b1}},
		{"owner", store.APIKeyQuery{AccountID: acct, IAMID: "iam-User-a", SortBy: "name"}, []store.APIKey{a1, a2}},
		{"other-account", store.APIKeyQuery{AccountID: other}, []store.APIKey{stranger}},
		{"unknown-owner", store.APIKeyQuery{AccountID: acct, IAMID: "iam-User-z"}, nil},
	} {
		got := mustListAPIKeys(t, s, tc.q)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		wantEqual(t, "keys "+tc.name, got, tc.want)
	}
}

func testAPIKeyListPages(t *testing.T, s store.Store) {
	// Ties in both sort columns, so the id must break them; names whose byte
	// order differs from dictionary order ("Zed" < "alpha" < "beta").
	specs := []struct {
		name string
		sec  int
	}{
		{"beta", 3}, {"Beta", 1}, {"alpha", 2}, {"alpha", 2}, {"gamma", 0},
		{"alpha", 2}, {"Zed", 5}, {"beta", 1}, {"delta", 4}, {"Beta", 1},
	}
	var keys []store.APIKey
	for _, sp := range specs {
		k := newAPIKey("iam-User-a", sp.name)
		k.CreatedAt = t0.Add(time.Duration(sp.sec) * time.Second)
		keys = append(keys, mustCreateAPIKey(t, s, k))
	}
	mustCreateAPIKey(t, s, newAPIKey("iam-User-b", "not mine"))

	for _, sortBy := range []string{"", "created_at", "name"} {
		for _, desc := range []bool{false, true} {
			want := slices.Clone(keys)
			slices.SortFunc(want, func(x, y store.APIKey) int {
				c := x.CreatedAt.Compare(y.CreatedAt)
				if sortBy == "name" {
					c = strings.Compare(x.Name, y.Name)
				}
				c = cmp.Or(c, strings.Compare(x.ID, y.ID))
				if desc {
					return -c
				}
				return c
			})
			for _, limit := range []int{1, 3, 10, 100} {
				name := fmt.Sprintf("sort=%q desc=%v limit=%d", sortBy, desc, limit)
				q := store.APIKeyQuery{AccountID: acct, IAMID: "iam-User-a", SortBy: sortBy, Desc: desc, Limit: limit}
				var got []store.APIKey
				for range len(keys) + 2 {
					page := mustListAPIKeys(t, s, q)
					if len(page) > limit {
						t.Fatalf("%s: page of %d keys", name, len(page))
					}
					got = append(got, page...)
					if len(page) < limit {
						break
					}
					last := page[len(page)-1]
					q.After = &store.APIKeyCursor{Name: last.Name, CreatedAt: last.CreatedAt, ID: last.ID}
				}
				wantEqual(t, name, idsOf(got, apiKeyID), idsOf(want, apiKeyID))
			}
		}
	}
}

func testAPIKeyListDefaultLimit(t *testing.T, s store.Store) {
	for i := range 101 {
		mustCreateAPIKey(t, s, newAPIKey("iam-User-a", fmt.Sprintf("key-%03d", i)))
	}
	first := mustListAPIKeys(t, s, store.APIKeyQuery{AccountID: acct, SortBy: "name"})
	wantEqual(t, "keys on a page without a limit", len(first), 100)
	last := first[99]
	rest := mustListAPIKeys(t, s, store.APIKeyQuery{AccountID: acct, SortBy: "name",
		After: &store.APIKeyCursor{Name: last.Name, CreatedAt: last.CreatedAt, ID: last.ID}})
	wantEqual(t, "names on the second page", idsOf(rest, func(k store.APIKey) string { return k.Name }), []string{"key-100"})
}

func testAPIKeyUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	k := newAPIKey("iam-User-a", "mine")
	k.History = []store.HistoryEntry{{Time: t0, IAMID: "iam-User-a", Action: "create"}}
	mustCreateAPIKey(t, s, k)
	newDigest := sha256.Sum256([]byte("another value"))
	got, err := s.UpdateAPIKey(ctx, k.ID, func(v *store.APIKey) error {
		if !reflect.DeepEqual(*v, k) {
			return fmt.Errorf("fn got %+v, want the stored key %+v", *v, k)
		}
		// What an update may change...
		v.Name = "renamed"
		v.Description = "new description"
		v.Role = "Reader"
		v.Locked = true
		v.Disabled = true
		v.ExpiresAt = t0.Add(48 * time.Hour)
		v.ActionWhenLeaked = "delete"
		v.ModifiedAt = t0.Add(time.Hour)
		v.History = append(v.History, store.HistoryEntry{Time: t0.Add(time.Hour), IAMID: "iam-User-b", Action: "update", Message: "renamed"})
		// ...and what it must not.
		v.ID = "ApiKey-hijacked"
		v.AccountID = other
		v.IAMID = "iam-User-b"
		v.Digest = newDigest[:]
		v.CreatedBy = "iam-User-b"
		v.CreatedAt = t0.Add(time.Hour)
		v.Version = 99
		return nil
	})
	wantErr(t, "UpdateAPIKey", err, nil)
	want := k
	want.Name, want.Description, want.Role = "renamed", "new description", "Reader"
	want.Locked, want.Disabled = true, true
	want.ExpiresAt = t0.Add(48 * time.Hour)
	want.ActionWhenLeaked = "delete"
	want.ModifiedAt = t0.Add(time.Hour)
	want.History = append(slices.Clone(k.History), store.HistoryEntry{Time: t0.Add(time.Hour), IAMID: "iam-User-b", Action: "update", Message: "renamed"})
	want.Version = k.Version + 1
	wantEqual(t, "returned key", got, want)
	wantEqual(t, "stored key", mustGetAPIKey(t, s, k.ID), want)

	byDigest, err := s.GetAPIKeyByDigest(ctx, k.Digest)
	wantErr(t, "GetAPIKeyByDigest(original digest)", err, nil)
	wantEqual(t, "key by original digest", byDigest.ID, k.ID)
	_, err = s.GetAPIKeyByDigest(ctx, newDigest[:])
	wantErr(t, "GetAPIKeyByDigest(digest set by fn)", err, store.ErrNotFound)
	_, err = s.GetAPIKey(ctx, "ApiKey-hijacked")
	wantErr(t, "GetAPIKey(id set by fn)", err, store.ErrNotFound)
}

func testAPIKeyUpdateFnError(t *testing.T, s store.Store) {
	k := mustCreateAPIKey(t, s, newAPIKey("iam-User-a", "mine"))
	seq := mustLastChange(t, s)
	_, err := s.UpdateAPIKey(t.Context(), k.ID, func(v *store.APIKey) error {
		v.Disabled = true
		v.Name = "changed"
		return errBoom
	})
	wantErr(t, "UpdateAPIKey with failing fn", err, errBoom)
	wantEqual(t, "key after the failed update", mustGetAPIKey(t, s, k.ID), k)
	wantNoChange(t, s, seq)
}

func testAPIKeyHistory(t *testing.T, s store.Store) {
	k := newAPIKey("iam-User-a", "mine")
	k.History = []store.HistoryEntry{
		{Time: t0, IAMID: "iam-User-a", Action: "create"},
		{Time: t0.Add(time.Minute), IAMID: "iam-User-b", Action: "lock", Message: "by the admin, with \"quotes\" and ünïcode"},
	}
	mustCreateAPIKey(t, s, k)
	wantEqual(t, "history", mustGetAPIKey(t, s, k.ID).History, k.History)

	entry := store.HistoryEntry{Time: t0.Add(time.Hour), IAMID: "iam-User-a", Action: "unlock"}
	_, err := s.UpdateAPIKey(t.Context(), k.ID, func(v *store.APIKey) error {
		v.History = append(v.History, entry)
		return nil
	})
	wantErr(t, "UpdateAPIKey", err, nil)
	wantEqual(t, "history after update", mustGetAPIKey(t, s, k.ID).History, append(slices.Clone(k.History), entry))
}

func testAPIKeyRotate(t *testing.T, s store.Store) {
	k := mustCreateAPIKey(t, s, newAPIKey("iam-User-a", "mine"))
	r := newAPIKey(k.IAMID, k.Name)
	r.Description = k.Description
	old, repl, err := s.RotateAPIKey(t.Context(), k.ID, func(v *store.APIKey) (store.APIKey, error) {
		if !reflect.DeepEqual(*v, k) {
			return store.APIKey{}, fmt.Errorf("fn got %+v, want the stored key %+v", *v, k)
		}
		v.ExpiresAt = t0.Add(24 * time.Hour) // the grace period
		v.History = append(v.History, store.HistoryEntry{Time: t0, IAMID: "iam-User-a", Action: "rotate"})
		return r, nil
	})
	wantErr(t, "RotateAPIKey", err, nil)
	wantOld := k
	wantOld.ExpiresAt = t0.Add(24 * time.Hour)
	wantOld.History = []store.HistoryEntry{{Time: t0, IAMID: "iam-User-a", Action: "rotate"}}
	wantOld.Version = k.Version + 1
	wantEqual(t, "returned old key", old, wantOld)
	wantEqual(t, "stored old key", mustGetAPIKey(t, s, k.ID), wantOld)
	wantEqual(t, "returned replacement", repl, r)
	wantEqual(t, "stored replacement", mustGetAPIKey(t, s, r.ID), r)
	got, err := s.GetAPIKeyByDigest(t.Context(), r.Digest)
	wantErr(t, "GetAPIKeyByDigest(replacement)", err, nil)
	wantEqual(t, "replacement by digest", got.ID, r.ID)
}

func testAPIKeyRotateFnError(t *testing.T, s store.Store) {
	k := mustCreateAPIKey(t, s, newAPIKey("iam-User-a", "mine"))
	seq := mustLastChange(t, s)
	_, _, err := s.RotateAPIKey(t.Context(), k.ID, func(v *store.APIKey) (store.APIKey, error) {
		v.ExpiresAt = t0.Add(time.Hour)
		return newAPIKey(k.IAMID, "replacement"), errBoom
	})
	wantErr(t, "RotateAPIKey with failing fn", err, errBoom)
	wantEqual(t, "key after the failed rotation", mustGetAPIKey(t, s, k.ID), k)
	wantEqual(t, "keys after the failed rotation", idsOf(mustListAPIKeys(t, s, store.APIKeyQuery{AccountID: acct}), apiKeyID), []string{k.ID})
	wantNoChange(t, s, seq)
}

func testAPIKeyRotateConflict(t *testing.T, s store.Store) {
	k := mustCreateAPIKey(t, s, newAPIKey("iam-User-a", "mine"))
	taken := mustCreateAPIKey(t, s, newAPIKey("iam-User-b", "taken"))
	seq := mustLastChange(t, s)
	r := newAPIKey(k.IAMID, "replacement")
	r.Digest = taken.Digest
	_, _, err := s.RotateAPIKey(t.Context(), k.ID, func(v *store.APIKey) (store.APIKey, error) {
		v.ExpiresAt = t0.Add(time.Hour)
		return r, nil
	})
	wantErr(t, "RotateAPIKey to a taken digest", err, store.ErrAlreadyExists)
	wantEqual(t, "key after the failed rotation", mustGetAPIKey(t, s, k.ID), k)
	_, err = s.GetAPIKey(t.Context(), r.ID)
	wantErr(t, "GetAPIKey(rejected replacement)", err, store.ErrNotFound)
	wantNoChange(t, s, seq)
}

func testAPIKeyDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	k := mustCreateAPIKey(t, s, newAPIKey("iam-User-a", "mine"))
	kept := mustCreateAPIKey(t, s, newAPIKey("iam-User-a", "kept"))
	wantErr(t, "DeleteAPIKey", s.DeleteAPIKey(ctx, k.ID, nil), nil)
	_, err := s.GetAPIKey(ctx, k.ID)
	wantErr(t, "GetAPIKey(deleted)", err, store.ErrNotFound)
	_, err = s.GetAPIKeyByDigest(ctx, k.Digest)
	wantErr(t, "GetAPIKeyByDigest(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteAPIKey again", s.DeleteAPIKey(ctx, k.ID, nil), store.ErrNotFound)
	wantEqual(t, "remaining key", mustGetAPIKey(t, s, kept.ID), kept)
	// The digest is free again.
	again := newAPIKey("iam-User-a", "again")
	again.Digest = k.Digest
	mustCreateAPIKey(t, s, again)
}

func testAPIKeyDeleteCheck(t *testing.T, s store.Store) {
	ctx := t.Context()
	k := newAPIKey("iam-User-a", "guarded")
	k.Locked = true
	k = mustCreateAPIKey(t, s, k)
	seq := mustLastChange(t, s)
	refused := errors.New("locked")
	var seen store.APIKey
	err := s.DeleteAPIKey(ctx, k.ID, func(cur store.APIKey) error {
		seen = cur
		if cur.Locked {
			return refused
		}
		return nil
	})
	if err != refused {
		t.Fatalf("DeleteAPIKey with a refusing check: got %v, want the check's own error", err)
	}
	wantEqual(t, "record the check saw", seen, k)
	wantEqual(t, "key after the refused delete", mustGetAPIKey(t, s, k.ID), k)
	wantNoChange(t, s, seq)
	wantErr(t, "DeleteAPIKey with a passing check", s.DeleteAPIKey(ctx, k.ID, func(store.APIKey) error { return nil }), nil)
	_, err = s.GetAPIKey(ctx, k.ID)
	wantErr(t, "GetAPIKey(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteAPIKey(missing) with a check", s.DeleteAPIKey(ctx, k.ID, func(store.APIKey) error { return nil }), store.ErrNotFound)
}

func testAPIKeyActivity(t *testing.T, s store.Store) {
	ctx := t.Context()
	k1 := mustCreateAPIKey(t, s, newAPIKey("iam-User-a", "one"))
	k2 := mustCreateAPIKey(t, s, newAPIKey("iam-User-a", "two"))
	seq := mustLastChange(t, s)

	wantErr(t, "RecordAPIKeyActivity", s.RecordAPIKeyActivity(ctx, []store.APIKeyActivity{
		{ID: k1.ID, Count: 2, Last: t0.Add(time.Hour)},
		{ID: "ApiKey-unknown", Count: 5, Last: t0.Add(9 * time.Hour)},
		{ID: k2.ID, Count: 1, Last: t0.Add(2 * time.Hour)},
	}), nil)
	wantErr(t, "RecordAPIKeyActivity", s.RecordAPIKeyActivity(ctx, []store.APIKeyActivity{
		{ID: k1.ID, Count: 1, Last: t0.Add(3 * time.Hour)},
		{ID: k1.ID, Count: 3, Last: t0.Add(30 * time.Minute)}, // older: must not lower LastAuthn
	}), nil)
	wantErr(t, "RecordAPIKeyActivity(empty batch)", s.RecordAPIKeyActivity(ctx, nil), nil)

	want1, want2 := k1, k2
	want1.AuthnCount, want1.LastAuthn = 6, t0.Add(3*time.Hour)
	want2.AuthnCount, want2.LastAuthn = 1, t0.Add(2*time.Hour)
	wantEqual(t, "first key (same Version)", mustGetAPIKey(t, s, k1.ID), want1)
	wantEqual(t, "second key (same Version)", mustGetAPIKey(t, s, k2.ID), want2)
	wantNoChange(t, s, seq)
	_, err := s.GetAPIKey(ctx, "ApiKey-unknown")
	wantErr(t, "GetAPIKey(unknown id of the batch)", err, store.ErrNotFound)

	// An update leaves the activity alone.
	got, err := s.UpdateAPIKey(ctx, k1.ID, func(v *store.APIKey) error { v.Name = "renamed"; return nil })
	wantErr(t, "UpdateAPIKey", err, nil)
	if got.AuthnCount != 6 || !got.LastAuthn.Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("activity after update = %d, %v; want 6, %v", got.AuthnCount, got.LastAuthn, t0.Add(3*time.Hour))
	}
}

func testTimesRoundTrip(t *testing.T, s store.Store) {
	// Nanoseconds and a zone that is not UTC, as callers may pass them.
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	at := time.Date(2026, 6, 1, 12, 0, 0, 987654321, zone)
	stored := time.Date(2026, 6, 1, 6, 30, 0, 987654000, time.UTC)

	k := newAPIKey("iam-User-a", "mine")
	k.CreatedAt, k.ModifiedAt = at, at.Add(time.Second)
	k.ExpiresAt = time.Time{} // never
	k.History = []store.HistoryEntry{{Time: at, IAMID: "iam-User-a", Action: "create"}}
	mustCreateAPIKey(t, s, k)
	wantErr(t, "RecordAPIKeyActivity", s.RecordAPIKeyActivity(t.Context(), []store.APIKeyActivity{{ID: k.ID, Count: 1, Last: at}}), nil)

	got := mustGetAPIKey(t, s, k.ID)
	for _, tc := range []struct {
		name      string
		got, want time.Time
	}{
		{"CreatedAt", got.CreatedAt, stored},
		{"ModifiedAt", got.ModifiedAt, stored.Add(time.Second)},
		{"ExpiresAt", got.ExpiresAt, time.Time{}},
		{"LastAuthn", got.LastAuthn, stored},
		{"History[0].Time", got.History[0].Time, stored},
	} {
		// == rather than Equal: same instant, same location (UTC), no
		// monotonic reading.
		if tc.got != tc.want {
			t.Errorf("%s = %v (%s), want %v", tc.name, tc.got, tc.got.Location(), tc.want)
		}
	}

	u := newUser("alice")
	u.CreatedAt, u.ModifiedAt = at, time.Time{}
	mustCreateUser(t, s, u)
	gotU := mustGetUser(t, s, u.ID)
	if gotU.CreatedAt != stored || !gotU.ModifiedAt.IsZero() {
		t.Errorf("user times = %v, %v; want %v, zero", gotU.CreatedAt, gotU.ModifiedAt, stored)
	}
}

// keyScanner is what both stores offer iam to fill its key index: a count of
// an account's keys, and its keys page by page with what an exchange needs.
type keyScanner interface {
	CountAPIKeys(ctx context.Context, accountID string) (int, error)
	ScanAPIKeyDigests(ctx context.Context, accountID, after string, limit int) ([]store.APIKey, string, error)
}

func testAPIKeyCountAndScan(t *testing.T, s store.Store) {
	sc, ok := s.(keyScanner)
	if !ok {
		t.Skip("the store does not count or scan its keys (iam then fills its key index as keys are used)")
	}
	ctx := t.Context()
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	want := map[string]store.APIKey{}
	var keys []store.APIKey
	for i := range 7 {
		k := store.APIKey{ID: fmt.Sprintf("ApiKey-%d", (i*5)%7), AccountID: "acct", IAMID: fmt.Sprintf("iam-%d", i%2),
			Name: "k", Digest: []byte(fmt.Sprintf("digest-%d", i)), CreatedAt: at, ModifiedAt: at, Version: 1}
		switch i {
		case 1:
			k.Disabled, k.Role, k.ExpiresAt = true, "Reader", at.Add(time.Hour)
		case 5, 6:
			k.AccountID = "other"
		}
		if k.AccountID == "acct" {
			want[k.ID] = k
		}
		keys = append(keys, k)
	}
	wantErr(t, "Import", s.Import(ctx, store.Import{APIKeys: keys}), nil)
	for acct, n := range map[string]int{"acct": 5, "other": 2, "none": 0} {
		if got, err := sc.CountAPIKeys(ctx, acct); err != nil || got != n {
			t.Errorf("CountAPIKeys(%s) = %d, %v; want %d", acct, got, err, n)
		}
	}
	got := map[string]store.APIKey{}
	pages := 0
	for after := ""; ; {
		page, next, err := sc.ScanAPIKeyDigests(ctx, "acct", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, k := range page {
			if _, dup := got[k.ID]; dup {
				t.Fatalf("%s returned twice", k.ID)
			}
			got[k.ID] = k
		}
		if next == "" {
			break
		}
		after = next
	}
	if len(got) != len(want) || pages < 3 {
		t.Fatalf("got %d keys in %d pages, want %d keys in pages of 2", len(got), pages, len(want))
	}
	for id, w := range want {
		g := got[id]
		if g.AccountID != w.AccountID || g.IAMID != w.IAMID || string(g.Digest) != string(w.Digest) || g.Role != w.Role ||
			g.Disabled != w.Disabled || !g.ExpiresAt.Equal(w.ExpiresAt) {
			t.Errorf("%s = %+v, want %+v", id, g, w)
		}
	}
}
