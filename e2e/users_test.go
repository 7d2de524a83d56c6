package e2e_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/client"
)

var (
	uuidRE    = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`
	userIDRE  = regexp.MustCompile(`^User-(` + uuidRE + `)$`)
	accountRE = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

func ptr[T any](v T) *T { return &v }

// The local user registry (SPEC §5.1): create, read by any reference, list in
// pages, change with an optional If-Match, and the validation of each field.
func TestUserLifecycle(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	ctx := t.Context()
	const password = "correct horse battery staple"

	tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	r := s.do(t, req{method: "POST", path: "/v1/users", token: tok, ctype: "application/json",
		body: `{"username":"ada","name":"Ada Lovelace","email":"ada@example.com","password":"` + password + `"}`})
	if r.status != http.StatusCreated {
		t.Fatalf("create user: %d %s", r.status, r.body)
	}
	var ada client.User
	r.decode(t, &ada)
	m := userIDRE.FindStringSubmatch(ada.ID)
	if m == nil || ada.IAMID != "iam-User-"+m[1] || !accountRE.MatchString(ada.AccountID) || ada.Username != "ada" ||
		ada.Name != "Ada Lovelace" || ada.Email != "ada@example.com" || ada.Disabled || !ada.PasswordSet ||
		ada.EntityTag == "" || !ada.CreatedAt.Equal(epoch) || !ada.ModifiedAt.Equal(epoch) {
		t.Errorf("created user %+v", ada)
	}
	if r.header.Get("Location") != "/v1/users/"+ada.ID || r.header.Get("ETag") != `"`+ada.EntityTag+`"` {
		t.Errorf("Location %q ETag %q", r.header.Get("Location"), r.header.Get("ETag"))
	}
	if strings.Contains(string(r.body), password) || strings.Contains(string(r.body), "argon2") {
		t.Errorf("the response holds the password or its hash: %s", r.body)
	}

	t.Run("fail/invalid", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			in     client.CreateUser
			target string
		}{
			{"password-of-11-characters", client.CreateUser{Username: "bob", Password: "abcdefghijk"}, "password"},
			{"uppercase-username", client.CreateUser{Username: "Bob"}, "username"},
			{"username-with-space", client.CreateUser{Username: "b ob"}, "username"},
			{"empty-username", client.CreateUser{}, "username"},
			{"bad-email", client.CreateUser{Username: "bob", Email: "not-an-address"}, "email"},
		} {
			_, err := admin.CreateUser(ctx, tc.in)
			if e := wantErr(t, err, http.StatusBadRequest, "validation_failed"); e.Target != tc.target {
				t.Errorf("%s: target %q, want %q", tc.name, e.Target, tc.target)
			}
		}
		_, err := admin.CreateUser(ctx, client.CreateUser{Username: "ada", Password: "another long password"})
		wantErr(t, err, http.StatusConflict, "already_exists")
	})

	t.Run("ok/get-by-id-iam-id-or-username", func(t *testing.T) {
		for _, ref := range []string{ada.ID, ada.IAMID, ada.Username} {
			u, err := admin.GetUser(ctx, ref)
			if err != nil || *u != ada {
				t.Errorf("GET /v1/users/%s: %+v %v, want %+v", ref, u, err, ada)
			}
		}
		_, err := admin.GetUser(ctx, "nobody")
		wantErr(t, err, http.StatusNotFound, "not_found")
	})

	t.Run("ok/list-in-pages", func(t *testing.T) {
		for _, n := range []string{"eve", "carol", "dave", "bob"} {
			mustUser(t, admin, client.CreateUser{Username: n})
		}
		var names []string
		o := client.ListOptions{PageSize: 2}
		for page := 0; ; page++ {
			l, err := admin.ListUsers(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if l.Offset != 2*page || l.Limit != 2 || len(l.Users) > 2 || l.First != "/v1/users?pagesize=2" {
				t.Errorf("page %d envelope: offset %d limit %d first %q, %d users", page, l.Offset, l.Limit, l.First, len(l.Users))
			}
			for _, u := range l.Users {
				names = append(names, u.Username)
			}
			if o.PageToken = l.NextPageToken(); o.PageToken == "" {
				break
			}
			if page > 10 {
				t.Fatal("listing never ends")
			}
		}
		if want := []string{"ada", "admin", "bob", "carol", "dave", "eve"}; !slices.Equal(names, want) {
			t.Errorf("users in pages: %v, want %v", names, want)
		}
		for _, bad := range []string{"0", "101", "x"} {
			r := s.do(t, req{method: "GET", path: "/v1/users?pagesize=" + bad, token: tok})
			if target := wantAPIError(t, r, http.StatusBadRequest, "validation_failed"); target != "pagesize" {
				t.Errorf("pagesize=%s: target %q", bad, target)
			}
		}
		r := s.do(t, req{method: "GET", path: "/v1/users?pagetoken=garbage", token: tok})
		wantAPIError(t, r, http.StatusBadRequest, "validation_failed")
	})

	t.Run("ok/patch-with-optional-if-match", func(t *testing.T) {
		cur, err := admin.GetUser(ctx, ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		s.clock.Advance(time.Minute)
		u, err := admin.UpdateUser(ctx, ada.ID, cur.EntityTag, client.UpdateUser{Name: ptr("Countess of Lovelace"), Email: ptr("ada@lovelace.example")})
		if err != nil || u.Name != "Countess of Lovelace" || u.Email != "ada@lovelace.example" || u.EntityTag == cur.EntityTag ||
			!u.ModifiedAt.Equal(epoch.Add(time.Minute)) || !u.CreatedAt.Equal(epoch) {
			t.Fatalf("patch: %+v %v", u, err)
		}
		_, err = admin.UpdateUser(ctx, ada.ID, cur.EntityTag, client.UpdateUser{Name: ptr("stale")})
		wantErr(t, err, http.StatusPreconditionFailed, "precondition_failed")
		u2, err := admin.UpdateUser(ctx, ada.ID, "", client.UpdateUser{Password: ptr("an even longer passphrase")})
		if err != nil || !u2.PasswordSet || u2.Name != "Countess of Lovelace" {
			t.Fatalf("patch without If-Match: %+v %v", u2, err)
		}
		_, err = admin.UpdateUser(ctx, ada.ID, "", client.UpdateUser{Password: ptr("short")})
		if e := wantErr(t, err, http.StatusBadRequest, "validation_failed"); e.Target != "password" {
			t.Errorf("target %q", e.Target)
		}
		_, err = admin.UpdateUser(ctx, ada.ID, "", client.UpdateUser{Email: ptr("nope")})
		wantErr(t, err, http.StatusBadRequest, "validation_failed")
		if got, _ := admin.GetUser(ctx, ada.ID); got.Name != "Countess of Lovelace" || got.Email != "ada@lovelace.example" {
			t.Errorf("refused patches changed the user: %+v", got)
		}
	})
}

// Disabling a user stops their keys and live tokens at once; enabling them
// again restores both. Deleting a user deletes their keys and policies and
// kills their live tokens. Nobody disables or deletes themselves.
func TestUserDisableAndDelete(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	ctx := t.Context()
	org := mustOrg(t, admin, "acme")
	grace := newUser(t, s, admin, "grace", grant{"Writer", ""}, grant{"Manager", org.Name})
	own := mustCreateKey(t, grace.C, client.CreateAPIKey{Name: "her-own"})
	tokenWorks(t, s, grace.Token)

	t.Run("ok/disable-stops-keys-and-tokens", func(t *testing.T) {
		u, err := admin.UpdateUser(ctx, grace.ID, "", client.UpdateUser{Disabled: ptr(true)})
		if err != nil || !u.Disabled {
			t.Fatalf("disable: %+v %v", u, err)
		}
		tokenRefused(t, s, grace.Token)
		exchangeRefused(t, s, grace.Key.APIKey)
		exchangeRefused(t, s, own.APIKey)
	})
	t.Run("ok/enable-restores", func(t *testing.T) {
		if _, err := admin.UpdateUser(ctx, grace.ID, "", client.UpdateUser{Disabled: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		tokenWorks(t, s, grace.Token)
		tokenWorks(t, s, mustToken(t, s, own.APIKey, client.TokenOptions{}))
	})
	t.Run("fail/nobody-disables-or-deletes-themselves", func(t *testing.T) {
		me, err := admin.Me(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = admin.UpdateUser(ctx, me.ID, "", client.UpdateUser{Disabled: ptr(true)})
		wantErr(t, err, http.StatusConflict, "conflict")
		wantErr(t, admin.DeleteUser(ctx, me.IAMID), http.StatusConflict, "conflict")
		_, err = grace.C.UpdateUser(ctx, grace.ID, "", client.UpdateUser{Disabled: ptr(true)})
		wantErr(t, err, http.StatusConflict, "conflict")
		tokenWorks(t, s, mustToken(t, s, s.admin.APIKey, client.TokenOptions{}))
		tokenWorks(t, s, grace.Token)
		// Changing one's own name is self-service.
		if u, err := grace.C.UpdateUser(ctx, "grace", "", client.UpdateUser{Name: ptr("Grace Hopper")}); err != nil || u.Name != "Grace Hopper" {
			t.Errorf("self rename: %+v %v", u, err)
		}
	})
	t.Run("ok/delete-removes-keys-policies-and-tokens", func(t *testing.T) {
		if err := admin.DeleteUser(ctx, grace.Username); err != nil {
			t.Fatal(err)
		}
		tokenRefused(t, s, grace.Token)
		exchangeRefused(t, s, grace.Key.APIKey)
		exchangeRefused(t, s, own.APIKey)
		for _, id := range []string{grace.Key.ID, own.ID} {
			_, err := admin.GetAPIKey(ctx, id, false, false)
			wantErr(t, err, http.StatusNotFound, "not_found")
		}
		if keys := listAll(t, admin, client.ListAPIKeysOptions{IAMID: grace.IAMID}); len(keys) != 0 {
			t.Errorf("keys of the deleted user: %+v", keys)
		}
		if pols := allPolicies(t, admin, client.ListPoliciesOptions{Subject: grace.IAMID}); len(pols) != 0 {
			t.Errorf("policies of the deleted user: %+v", pols)
		}
		for _, p := range grace.Policies {
			_, err := admin.GetPolicy(ctx, p.ID)
			wantErr(t, err, http.StatusNotFound, "not_found")
		}
		_, err := admin.GetUser(ctx, grace.ID)
		wantErr(t, err, http.StatusNotFound, "not_found")
		wantErr(t, admin.DeleteUser(ctx, grace.ID), http.StatusNotFound, "not_found")
		// The name is free again.
		mustUser(t, admin, client.CreateUser{Username: "grace"})
	})
}
