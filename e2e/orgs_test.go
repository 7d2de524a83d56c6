package e2e_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/client"
)

// Provider orgs and their catalogs (SPEC §7): a new org has the Sandbox
// catalog; names are lowercase slugs; {org} and {env} take a name or an id;
// PUT needs If-Match; deleting an org removes its catalogs and policies.
func TestOrgLifecycle(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	ctx := t.Context()
	me, err := admin.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}

	tok := mustToken(t, s, s.admin.APIKey, client.TokenOptions{})
	r := s.do(t, req{method: "POST", path: "/v1/orgs", token: tok, ctype: "application/json", body: `{"name":"acme","title":"Acme Climbing"}`})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var acme client.Org
	r.decode(t, &acme)
	if acme.ID == "" || acme.Name != "acme" || acme.Title != "Acme Climbing" || acme.CreatedBy != me.IAMID ||
		!acme.CreatedAt.Equal(epoch) || acme.URL != "/v1/orgs/"+acme.ID || r.header.Get("ETag") == "" {
		t.Errorf("created org %+v (ETag %q)", acme, r.header.Get("ETag"))
	}
	if strings.Contains(string(r.body), `"created_at"`) || !strings.Contains(string(r.body), `"createdAt"`) {
		t.Errorf("not V5's camelCase: %s", r.body)
	}

	t.Run("ok/sandbox-catalog", func(t *testing.T) {
		envs, err := admin.ListEnvironments(ctx, "acme")
		if err != nil || len(envs) != 1 || envs[0].Name != "sb" || envs[0].Title != "Sandbox" || envs[0].OrgID != acme.ID {
			t.Fatalf("catalogs of a new org: %+v %v", envs, err)
		}
	})
	t.Run("fail/names-are-lowercase-slugs", func(t *testing.T) {
		for _, name := range []string{"Acme", "a_b", "123e4567-e89b-12d3-a456-426614174000", "", "-a", "a-", "a b", "ünicode", strings.Repeat("a", 64)} {
			_, err := admin.CreateOrg(ctx, name, "x")
			if e := wantErr(t, err, http.StatusBadRequest, "validation_failed"); e.Target != "name" {
				t.Errorf("%q: target %q", name, e.Target)
			}
			_, err = admin.CreateEnvironment(ctx, "acme", name, "x")
			if e := wantErr(t, err, http.StatusBadRequest, "validation_failed"); e.Target != "name" {
				t.Errorf("catalog %q: target %q", name, e.Target)
			}
		}
		if orgs := allOrgs(t, admin); !slices.Equal(orgNames(orgs), []string{"acme"}) {
			t.Errorf("refused creations left orgs: %v", orgNames(orgs))
		}
		_, err := admin.CreateOrg(ctx, "acme", "again")
		wantErr(t, err, http.StatusConflict, "already_exists")
	})
	t.Run("ok/org-and-catalog-by-name-or-id", func(t *testing.T) {
		prod := mustEnv(t, admin, acme.ID, "prod")
		if prod.OrgID != acme.ID || prod.Title != "Catalog prod" || prod.URL != "/v1/orgs/"+acme.ID+"/environments/"+prod.ID {
			t.Errorf("catalog %+v", prod)
		}
		for _, o := range []string{"acme", acme.ID} {
			got, err := admin.GetOrg(ctx, o)
			if err != nil || got.ID != acme.ID {
				t.Errorf("GET /v1/orgs/%s: %+v %v", o, got, err)
			}
			for _, e := range []string{"prod", prod.ID} {
				got, err := admin.GetEnvironment(ctx, o, e)
				if err != nil || got.ID != prod.ID {
					t.Errorf("GET /v1/orgs/%s/environments/%s: %+v %v", o, e, got, err)
				}
			}
		}
		_, err := admin.CreateEnvironment(ctx, "acme", "prod", "again")
		wantErr(t, err, http.StatusConflict, "already_exists")
		envs, err := admin.ListEnvironments(ctx, acme.ID)
		if err != nil || len(envs) != 2 || envs[0].Name != "prod" || envs[1].Name != "sb" {
			t.Errorf("catalogs: %+v %v", envs, err)
		}
		if err := admin.DeleteEnvironment(ctx, "acme", prod.ID); err != nil {
			t.Fatal(err)
		}
		_, err = admin.GetEnvironment(ctx, "acme", "prod")
		wantErr(t, err, http.StatusNotFound, "not_found")
		_, err = admin.GetOrg(ctx, "nope")
		wantErr(t, err, http.StatusNotFound, "not_found")
		_, err = admin.ListEnvironments(ctx, "nope")
		wantErr(t, err, http.StatusNotFound, "not_found")
	})
	t.Run("ok/put-with-if-match", func(t *testing.T) {
		cur, err := admin.GetOrg(ctx, "acme")
		if err != nil || cur.EntityTag == "" {
			t.Fatalf("GET: %+v %v", cur, err)
		}
		_, err = admin.UpdateOrg(ctx, "acme", "", client.UpdateOrg{Title: ptr("No tag")})
		wantErr(t, err, http.StatusPreconditionRequired, "precondition_required")
		_, err = admin.UpdateOrg(ctx, "acme", `"999"`, client.UpdateOrg{Title: ptr("Stale")})
		wantErr(t, err, http.StatusPreconditionFailed, "precondition_failed")
		_, err = admin.UpdateOrg(ctx, "acme", cur.EntityTag, client.UpdateOrg{Name: ptr("Not A Slug")})
		wantErr(t, err, http.StatusBadRequest, "validation_failed")
		s.clock.Advance(time.Minute)
		u, err := admin.UpdateOrg(ctx, "acme", `"`+cur.EntityTag+`"`, client.UpdateOrg{Name: ptr("acme-climbing"), Title: ptr("Acme Climbing Co")})
		if err != nil || u.Name != "acme-climbing" || u.Title != "Acme Climbing Co" || u.ID != acme.ID || u.EntityTag == cur.EntityTag ||
			!u.UpdatedAt.Equal(epoch.Add(time.Minute)) {
			t.Fatalf("update: %+v %v", u, err)
		}
		_, err = admin.UpdateOrg(ctx, acme.ID, cur.EntityTag, client.UpdateOrg{Title: ptr("Stale again")})
		wantErr(t, err, http.StatusPreconditionFailed, "precondition_failed")
		_, err = admin.GetOrg(ctx, "acme")
		wantErr(t, err, http.StatusNotFound, "not_found")
		if got, err := admin.GetOrg(ctx, "acme-climbing"); err != nil || got.ID != acme.ID {
			t.Errorf("by the new name: %+v %v", got, err)
		}
		mustOrg(t, admin, "acme") // the old name is free again
		_, err = admin.UpdateOrg(ctx, "acme-climbing", "*", client.UpdateOrg{Name: ptr("acme")})
		wantErr(t, err, http.StatusConflict, "already_exists")
	})
	t.Run("ok/list-in-pages", func(t *testing.T) {
		mustOrg(t, admin, "zeta")
		var names []string
		o := client.ListOrgsOptions{Limit: 1}
		for range 10 {
			orgs, next, err := admin.ListOrgs(ctx, o)
			if err != nil || len(orgs) > 1 {
				t.Fatalf("page: %+v %v", orgs, err)
			}
			names = append(names, orgNames(orgs)...)
			if o.After = next; next == "" {
				break
			}
		}
		if want := []string{"acme", "acme-climbing", "zeta"}; !slices.Equal(names, want) {
			t.Errorf("orgs in pages: %v, want %v", names, want)
		}
	})
}

// An org is visible only to those with a role in it (account-wide or in the
// org): others are told it does not exist, and /v1/me shows each caller its
// roles per scope and the orgs it can see.
func TestOrgVisibilityAndMe(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := s.asAdmin(t)
	ctx := t.Context()
	a := mustOrg(t, admin, "alpha")
	b := mustOrg(t, admin, "bravo")

	onlyB := newUser(t, s, admin, "only-b", grant{"Writer", b.Name})
	acctReader := newUser(t, s, admin, "acct-reader", grant{"Reader", ""}, grant{"Manager", a.ID})

	t.Run("fail/no-role-no-org", func(t *testing.T) {
		for _, ref := range []string{a.Name, a.ID} {
			_, err := onlyB.C.GetOrg(ctx, ref)
			wantErr(t, err, http.StatusNotFound, "not_found")
			_, err = onlyB.C.ListEnvironments(ctx, ref)
			wantErr(t, err, http.StatusNotFound, "not_found")
			_, err = onlyB.C.GetEnvironment(ctx, ref, "sb")
			wantErr(t, err, http.StatusNotFound, "not_found")
		}
		// Even a write the caller could never make says "not found", the
		// same as for an org that does not exist.
		_, err := onlyB.C.UpdateOrg(ctx, a.Name, "*", client.UpdateOrg{Title: ptr("x")})
		e1 := wantErr(t, err, http.StatusNotFound, "not_found")
		_, err = onlyB.C.UpdateOrg(ctx, "no-such-org", "*", client.UpdateOrg{Title: ptr("x")})
		e2 := wantErr(t, err, http.StatusNotFound, "not_found")
		if strings.Replace(e1.Message, a.Name, "X", 1) != strings.Replace(e2.Message, "no-such-org", "X", 1) {
			t.Errorf("a hidden org and a missing one answer differently: %q vs %q", e1.Message, e2.Message)
		}
		if orgs := allOrgs(t, onlyB.C); !slices.Equal(orgNames(orgs), []string{"bravo"}) {
			t.Errorf("GET /v1/orgs: %v, want bravo only", orgNames(orgs))
		}
	})
	t.Run("ok/me-of-an-org-writer", func(t *testing.T) {
		me, err := onlyB.C.Me(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []client.RoleAt{{Scope: "org", Org: b.ID, OrgName: "bravo", Role: "Writer"}}; !slices.Equal(me.Roles, want) {
			t.Errorf("roles %+v, want %+v", me.Roles, want)
		}
		if want := []client.MeOrg{{ID: b.ID, Name: "bravo", Title: b.Title, Role: "Writer"}}; !slices.Equal(me.Orgs, want) {
			t.Errorf("orgs %+v, want %+v", me.Orgs, want)
		}
	})
	t.Run("ok/me-of-an-account-reader-and-org-manager", func(t *testing.T) {
		me, err := acctReader.C.Me(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantRoles := []client.RoleAt{{Scope: "account", Role: "Reader"}, {Scope: "org", Org: a.ID, OrgName: "alpha", Role: "Manager"}}
		if !slices.Equal(me.Roles, wantRoles) {
			t.Errorf("roles %+v, want %+v", me.Roles, wantRoles)
		}
		wantOrgs := []client.MeOrg{{ID: a.ID, Name: "alpha", Title: a.Title, Role: "Manager"}, {ID: b.ID, Name: "bravo", Title: b.Title, Role: "Reader"}}
		if !slices.Equal(me.Orgs, wantOrgs) {
			t.Errorf("orgs %+v, want %+v", me.Orgs, wantOrgs)
		}
		if orgs := allOrgs(t, acctReader.C); !slices.Equal(orgNames(orgs), []string{"alpha", "bravo"}) {
			t.Errorf("GET /v1/orgs: %v", orgNames(orgs))
		}
		// A token down-scoped to Reader is a Reader everywhere.
		down := s.as(t, acctReader.Key.APIKey, client.TokenOptions{Role: "Reader"})
		me, err = down.Me(ctx)
		if err != nil || me.Orgs[0].Role != "Reader" || me.Roles[1].Role != "Reader" {
			t.Errorf("down-scoped /v1/me: %+v %v", me, err)
		}
	})
	t.Run("ok/delete-removes-catalogs-and-org-policies", func(t *testing.T) {
		mustEnv(t, acctReader.C, a.Name, "prod") // a Manager of alpha adds a catalog
		if err := admin.DeleteOrg(ctx, a.Name); err != nil {
			t.Fatal(err)
		}
		_, err := admin.GetOrg(ctx, a.ID)
		wantErr(t, err, http.StatusNotFound, "not_found")
		_, err = admin.ListEnvironments(ctx, a.ID)
		wantErr(t, err, http.StatusNotFound, "not_found")
		_, err = admin.GetPolicy(ctx, acctReader.Policies[1].ID)
		wantErr(t, err, http.StatusNotFound, "not_found")
		if pols := allPolicies(t, admin, client.ListPoliciesOptions{Subject: acctReader.IAMID}); len(pols) != 1 || pols[0].Resource.Org != "" {
			t.Errorf("policies left: %+v", pols)
		}
		me, err := acctReader.C.Me(ctx)
		if err != nil || !slices.Equal(me.Roles, []client.RoleAt{{Scope: "account", Role: "Reader"}}) || len(me.Orgs) != 1 || me.Orgs[0].Name != "bravo" {
			t.Errorf("/v1/me after the org went: %+v %v", me, err)
		}
		// The live token lost the Manager role with the org: it is a Reader now.
		_, err = acctReader.C.CreateAPIKey(ctx, client.CreateAPIKey{Name: "as-a-manager"})
		wantErr(t, err, http.StatusForbidden, "forbidden")
		// The name can be used again, and the new org knows nothing of the old one's policies.
		again := mustOrg(t, admin, "alpha")
		if _, err := acctReader.C.CreateEnvironment(ctx, again.Name, "prod", ""); err == nil {
			t.Errorf("a policy of the deleted org applies to the new one")
		}
		if envs, err := admin.ListEnvironments(ctx, again.ID); err != nil || len(envs) != 1 {
			t.Errorf("catalogs of the new alpha: %+v %v", envs, err)
		}
	})
}
