package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"gatehouse/internal/store"
)

func testUserCreateGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, newUser("alice"))
	for _, id := range []string{u.ID, u.IAMID} {
		wantEqual(t, "GetUser("+id+")", mustGetUser(t, s, id), u)
	}
	got, err := s.GetUserByUsername(ctx, acct, "alice")
	wantErr(t, "GetUserByUsername", err, nil)
	wantEqual(t, "user by username", got, u)
	_, err = s.GetUserByUsername(ctx, other, "alice")
	wantErr(t, "GetUserByUsername in another account", err, store.ErrNotFound)
	_, err = s.GetUserByUsername(ctx, acct, "Alice")
	wantErr(t, "GetUserByUsername with other case", err, store.ErrNotFound)
}

func testUserDuplicates(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, newUser("alice"))
	for _, tc := range []struct {
		name  string
		clash func(v *store.User)
	}{
		{"same-id", func(v *store.User) { v.ID = u.ID }},
		{"same-iam-id", func(v *store.User) { v.IAMID = u.IAMID }},
		{"same-username", func(v *store.User) { v.Username = u.Username }},
	} {
		v := newUser("bob")
		tc.clash(&v)
		wantErr(t, "CreateUser "+tc.name, s.CreateUser(ctx, v), store.ErrAlreadyExists)
	}
	us, err := s.ListUsers(ctx, acct, store.Page{})
	wantErr(t, "ListUsers", err, nil)
	wantEqual(t, "users after failed creates", us, []store.User{u})

	// Usernames are unique per account only.
	v := newUser("alice")
	v.AccountID = other
	mustCreateUser(t, s, v)
}

func testUserList(t *testing.T, s store.Store) {
	ctx := t.Context()
	byName := map[string]store.User{}
	// Byte order, not dictionary order: "Bob" sorts before "alice".
	for _, name := range []string{"carol", "Bob", "alice", "erin", "dave"} {
		byName[name] = mustCreateUser(t, s, newUser(name))
	}
	stranger := newUser("aaron")
	stranger.AccountID = other
	mustCreateUser(t, s, stranger)
	var want []string
	for _, name := range []string{"Bob", "alice", "carol", "dave", "erin"} {
		want = append(want, byName[name].ID)
	}

	all, err := s.ListUsers(ctx, acct, store.Page{})
	wantErr(t, "ListUsers", err, nil)
	wantEqual(t, "users in one page", idsOf(all, userID), want)
	wantEqual(t, "first listed user", all[0], byName["Bob"])
	for _, limit := range []int{1, 2, 5} {
		got := walkPages(t, limit, func(p store.Page) ([]store.User, error) { return s.ListUsers(ctx, acct, p) },
			func(u store.User) string { return u.Username })
		wantEqual(t, fmt.Sprintf("users in pages of %d", limit), idsOf(got, userID), want)
	}
}

func testUserUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, newUser("alice"))
	got, err := s.UpdateUser(ctx, u.ID, func(v *store.User) error {
		if !reflect.DeepEqual(*v, u) {
			return fmt.Errorf("fn got %+v, want the stored user %+v", *v, u)
		}
		v.Username = "alice2"
		v.Name = "Alice Two"
		v.Email = "two@example.com"
		v.PasswordHash = ""
		v.Disabled = true
		v.ModifiedAt = t0.Add(time.Hour)
		v.Version = 42 // ignored: the store sets Version
		return nil
	})
	wantErr(t, "UpdateUser", err, nil)
	want := u
	want.Username, want.Name, want.Email, want.PasswordHash = "alice2", "Alice Two", "two@example.com", ""
	want.Disabled = true
	want.ModifiedAt = t0.Add(time.Hour)
	want.Version = u.Version + 1
	wantEqual(t, "returned user", got, want)
	wantEqual(t, "stored user", mustGetUser(t, s, u.ID), want)

	_, err = s.GetUserByUsername(ctx, acct, "alice")
	wantErr(t, "GetUserByUsername(old name)", err, store.ErrNotFound)
	got, err = s.GetUserByUsername(ctx, acct, "alice2")
	wantErr(t, "GetUserByUsername(new name)", err, nil)
	wantEqual(t, "user by new name", got, want)

	// Found by iam_id too, and every update counts.
	got, err = s.UpdateUser(ctx, u.IAMID, func(v *store.User) error { v.Disabled = false; return nil })
	wantErr(t, "UpdateUser by iam_id", err, nil)
	wantEqual(t, "version after two updates", got.Version, u.Version+2)
}

func testUserUpdateTakenUsername(t *testing.T, s store.Store) {
	alice := mustCreateUser(t, s, newUser("alice"))
	bob := mustCreateUser(t, s, newUser("bob"))
	_, err := s.UpdateUser(t.Context(), bob.ID, func(v *store.User) error {
		v.Username = alice.Username
		v.Name = "changed"
		return nil
	})
	wantErr(t, "UpdateUser to a taken username", err, store.ErrAlreadyExists)
	wantEqual(t, "bob after the failed update", mustGetUser(t, s, bob.ID), bob)
}

func testUserUpdateFnError(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser("alice"))
	seq := mustLastChange(t, s)
	_, err := s.UpdateUser(t.Context(), u.ID, func(v *store.User) error {
		v.Name = "changed"
		return errBoom
	})
	wantErr(t, "UpdateUser with failing fn", err, errBoom)
	wantEqual(t, "user after the failed update", mustGetUser(t, s, u.ID), u)
	wantNoChange(t, s, seq)
}

func testUserDeleteCascades(t *testing.T, s store.Store) {
	alice := mustCreateUser(t, s, newUser("alice"))
	bob := mustCreateUser(t, s, newUser("bob"))
	checkCascade(t, s, alice.IAMID, bob.IAMID, func() error { return s.DeleteUser(t.Context(), alice.ID) })
	_, err := s.GetUser(t.Context(), alice.ID)
	wantErr(t, "GetUser(deleted)", err, store.ErrNotFound)
	_, err = s.GetUser(t.Context(), alice.IAMID)
	wantErr(t, "GetUser(deleted iam_id)", err, store.ErrNotFound)
	wantErr(t, "DeleteUser again", s.DeleteUser(t.Context(), alice.ID), store.ErrNotFound)
	mustGetUser(t, s, bob.ID)
}

// checkCascade gives owner and survivor (iam_ids) keys and policies, calls
// del, which deletes owner, and checks that owner's keys and policies went
// with it while survivor's stayed.
func checkCascade(t *testing.T, s store.Store, owner, survivor string, del func() error) {
	t.Helper()
	ctx := t.Context()
	gone := []store.APIKey{
		mustCreateAPIKey(t, s, newAPIKey(owner, "one")),
		mustCreateAPIKey(t, s, newAPIKey(owner, "two")),
	}
	gonePolicies := []store.Policy{
		mustCreatePolicy(t, s, newPolicy(owner, "Writer", "")),
		mustCreatePolicy(t, s, newPolicy(owner, "Manager", "org-1")),
	}
	kept := mustCreateAPIKey(t, s, newAPIKey(survivor, "kept"))
	keptPolicy := mustCreatePolicy(t, s, newPolicy(survivor, "Reader", ""))

	wantErr(t, "delete", del(), nil)

	for _, k := range gone {
		_, err := s.GetAPIKey(ctx, k.ID)
		wantErr(t, "GetAPIKey(key of deleted owner)", err, store.ErrNotFound)
		_, err = s.GetAPIKeyByDigest(ctx, k.Digest)
		wantErr(t, "GetAPIKeyByDigest(key of deleted owner)", err, store.ErrNotFound)
	}
	for _, p := range gonePolicies {
		_, err := s.GetPolicy(ctx, p.ID)
		wantErr(t, "GetPolicy(policy of deleted owner)", err, store.ErrNotFound)
	}
	ps, err := s.ListPolicies(ctx, store.PolicyQuery{Subject: owner})
	wantErr(t, "ListPolicies", err, nil)
	wantEqual(t, "policies of deleted owner", len(ps), 0)
	ks := mustListAPIKeys(t, s, store.APIKeyQuery{AccountID: acct, IAMID: owner})
	wantEqual(t, "keys of deleted owner", len(ks), 0)

	wantEqual(t, "survivor's key", mustGetAPIKey(t, s, kept.ID), kept)
	p, err := s.GetPolicy(ctx, keptPolicy.ID)
	wantErr(t, "GetPolicy(survivor's)", err, nil)
	wantEqual(t, "survivor's policy", p, keptPolicy)
}
