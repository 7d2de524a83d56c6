package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"gatehouse/internal/store"
)

func testOrgCreateGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, envs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	for _, idOrName := range []string{o.ID, o.Name} {
		wantEqual(t, "GetOrg("+idOrName+")", mustGetOrg(t, s, acct, idOrName), o)
		_, err := s.GetOrg(ctx, other, idOrName)
		wantErr(t, "GetOrg("+idOrName+") in another account", err, store.ErrNotFound)
	}
	_, err := s.GetOrg(ctx, acct, "ACME")
	wantErr(t, "GetOrg with other case", err, store.ErrNotFound)

	// The first environments are created with the org.
	prod, sb := envs[1], envs[0]
	wantEqual(t, "environments of the new org", mustListEnvs(t, s, o.ID), []store.Environment{prod, sb})
	for _, e := range envs {
		for _, idOrName := range []string{e.ID, e.Name} {
			wantEqual(t, "GetEnvironment("+idOrName+")", mustGetEnv(t, s, o.ID, idOrName), e)
		}
	}
}

func testOrgGetPrefersID(t *testing.T, s store.Store) {
	// Ids are UUIDs, which are valid names too: an org may be named after
	// another org's id. A lookup by that string finds the org with the id.
	a, aEnvs := mustCreateOrg(t, s, newOrg("alpha"), "sb")
	b := newOrg(a.ID)
	b, _ = mustCreateOrg(t, s, b)
	wantEqual(t, "GetOrg(a's id, b's name)", mustGetOrg(t, s, acct, a.ID), a)
	wantEqual(t, "GetOrg(b's id)", mustGetOrg(t, s, acct, b.ID), b)

	sb := aEnvs[0]
	named := mustCreateEnv(t, s, newEnv(a, sb.ID))
	wantEqual(t, "GetEnvironment(sb's id, another's name)", mustGetEnv(t, s, a.ID, sb.ID), sb)
	wantEqual(t, "GetEnvironment(that one's id)", mustGetEnv(t, s, a.ID, named.ID), named)
}

func testOrgDuplicates(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	for _, tc := range []struct {
		name  string
		clash func(v *store.Org)
	}{
		{"same-id", func(v *store.Org) { v.ID = o.ID }},
		{"same-name", func(v *store.Org) { v.Name = o.Name }},
	} {
		v := newOrg("other")
		tc.clash(&v)
		env := newEnv(v, "sb")
		wantErr(t, "CreateOrg "+tc.name, s.CreateOrg(ctx, v, []store.Environment{env}), store.ErrAlreadyExists)
		_, err := s.GetEnvironment(ctx, v.ID, env.ID)
		wantErr(t, "GetEnvironment(environment of the rejected org)", err, store.ErrNotFound)
	}
	orgs, err := s.ListOrgs(ctx, acct, store.Page{})
	wantErr(t, "ListOrgs", err, nil)
	wantEqual(t, "orgs after failed creates", orgs, []store.Org{o})
	wantEqual(t, "environments after failed creates", mustListEnvs(t, s, o.ID), envs)

	// Names are unique per account only.
	v := newOrg("acme")
	v.AccountID = other
	mustCreateOrg(t, s, v, "sb")
}

func testOrgCreateAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	taken, takenEnvs := mustCreateOrg(t, s, newOrg("taken"), "sb")
	seq := mustLastChange(t, s)
	for _, tc := range []struct {
		name string
		envs func(o store.Org) []store.Environment
		want error // nil: any error
	}{
		{"two-environments-of-one-name", func(o store.Org) []store.Environment {
			return []store.Environment{newEnv(o, "sb"), newEnv(o, "prod"), newEnv(o, "sb")}
		}, store.ErrAlreadyExists},
		{"two-environments-of-one-id", func(o store.Org) []store.Environment {
			a, b := newEnv(o, "sb"), newEnv(o, "prod")
			b.ID = a.ID
			return []store.Environment{a, b}
		}, store.ErrAlreadyExists},
		{"environment-id-taken-in-another-org", func(o store.Org) []store.Environment {
			e := newEnv(o, "sb")
			e.ID = takenEnvs[0].ID
			return []store.Environment{newEnv(o, "prod"), e}
		}, store.ErrAlreadyExists},
		// An environment in the list that is not the new org's is the caller's
		// mistake, refused whole rather than stored elsewhere.
		{"environment-of-another-org", func(o store.Org) []store.Environment {
			return []store.Environment{newEnv(o, "sb"), newEnv(taken, "prod")}
		}, nil},
		{"environment-of-another-account", func(o store.Org) []store.Environment {
			e := newEnv(o, "prod")
			e.AccountID = other
			return []store.Environment{newEnv(o, "sb"), e}
		}, nil},
	} {
		o := newOrg("acme")
		envs := tc.envs(o)
		err := s.CreateOrg(ctx, o, envs)
		if tc.want == nil && err == nil {
			t.Fatalf("CreateOrg %s succeeded", tc.name)
		}
		if tc.want != nil {
			wantErr(t, "CreateOrg "+tc.name, err, tc.want)
		}
		_, err = s.GetOrg(ctx, acct, o.ID)
		wantErr(t, "GetOrg after CreateOrg "+tc.name, err, store.ErrNotFound)
		wantEqual(t, "environments after CreateOrg "+tc.name, len(mustListEnvs(t, s, o.ID)), 0)
		for _, e := range envs {
			if e.ID != takenEnvs[0].ID {
				_, err := s.GetEnvironment(ctx, e.OrgID, e.ID)
				wantErr(t, "GetEnvironment after CreateOrg "+tc.name, err, store.ErrNotFound)
			}
		}
	}
	wantEqual(t, "environments of the other org", mustListEnvs(t, s, taken.ID), takenEnvs)
	wantNoChange(t, s, seq)

	// Nothing of the failed attempts is left to clash with.
	mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
}

func testOrgList(t *testing.T, s store.Store) {
	ctx := t.Context()
	byName := map[string]store.Org{}
	for _, name := range []string{"gamma", "alpha", "epsilon", "beta", "delta"} {
		byName[name], _ = mustCreateOrg(t, s, newOrg(name))
	}
	stranger := newOrg("aardvark")
	stranger.AccountID = other
	mustCreateOrg(t, s, stranger)
	var want []string
	for _, name := range []string{"alpha", "beta", "delta", "epsilon", "gamma"} {
		want = append(want, byName[name].ID)
	}

	all, err := s.ListOrgs(ctx, acct, store.Page{})
	wantErr(t, "ListOrgs", err, nil)
	wantEqual(t, "orgs in one page", idsOf(all, orgID), want)
	wantEqual(t, "first listed org", all[0], byName["alpha"])
	for _, limit := range []int{1, 2, 5} {
		got := walkPages(t, limit, func(p store.Page) ([]store.Org, error) { return s.ListOrgs(ctx, acct, p) },
			func(o store.Org) string { return o.Name })
		wantEqual(t, fmt.Sprintf("orgs in pages of %d", limit), idsOf(got, orgID), want)
	}
}

func testOrgUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	got, err := s.UpdateOrg(ctx, o.ID, func(v *store.Org) error {
		if !reflect.DeepEqual(*v, o) {
			return fmt.Errorf("fn got %+v, want the stored org %+v", *v, o)
		}
		v.Name = "acme2"
		v.Title = "Acme Two"
		v.ModifiedAt = t0.Add(time.Hour)
		// Ignored: the store keeps these and sets Version.
		v.ID, v.AccountID, v.CreatedBy, v.CreatedAt = "changed", other, "iam-User-someone", t0.Add(time.Hour)
		v.Version = 42
		return nil
	})
	wantErr(t, "UpdateOrg", err, nil)
	want := o
	want.Name, want.Title = "acme2", "Acme Two"
	want.ModifiedAt = t0.Add(time.Hour)
	want.Version = o.Version + 1
	wantEqual(t, "returned org", got, want)
	wantEqual(t, "stored org", mustGetOrg(t, s, acct, o.ID), want)
	wantEqual(t, "org by new name", mustGetOrg(t, s, acct, "acme2"), want)
	_, err = s.GetOrg(ctx, acct, "acme")
	wantErr(t, "GetOrg(old name)", err, store.ErrNotFound)
	_, err = s.GetOrg(ctx, other, o.ID)
	wantErr(t, "GetOrg in the account fn tried to move it to", err, store.ErrNotFound)
	wantEqual(t, "environments after the update", mustListEnvs(t, s, o.ID), envs)

	got, err = s.UpdateOrg(ctx, o.ID, func(v *store.Org) error { v.Title = "again"; return nil })
	wantErr(t, "UpdateOrg again", err, nil)
	wantEqual(t, "version after two updates", got.Version, o.Version+2)
}

func testOrgUpdateTakenName(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme, _ := mustCreateOrg(t, s, newOrg("acme"))
	bolt, _ := mustCreateOrg(t, s, newOrg("bolt"))
	stranger := newOrg("zeta")
	stranger.AccountID = other
	mustCreateOrg(t, s, stranger)

	seq := mustLastChange(t, s)
	_, err := s.UpdateOrg(ctx, bolt.ID, func(v *store.Org) error {
		v.Name = acme.Name
		v.Title = "changed"
		return nil
	})
	wantErr(t, "UpdateOrg to a taken name", err, store.ErrAlreadyExists)
	wantEqual(t, "bolt after the failed update", mustGetOrg(t, s, acct, bolt.ID), bolt)
	wantNoChange(t, s, seq)

	// A name taken in another account only is free.
	got, err := s.UpdateOrg(ctx, bolt.ID, func(v *store.Org) error { v.Name = stranger.Name; return nil })
	wantErr(t, "UpdateOrg to another account's name", err, nil)
	wantEqual(t, "renamed org", got.Name, stranger.Name)
}

func testOrgUpdateFnError(t *testing.T, s store.Store) {
	o, _ := mustCreateOrg(t, s, newOrg("acme"))
	seq := mustLastChange(t, s)
	_, err := s.UpdateOrg(t.Context(), o.ID, func(v *store.Org) error {
		v.Title = "changed"
		return errBoom
	})
	if err != errBoom {
		t.Fatalf("UpdateOrg with failing fn: got %v, want fn's own error", err)
	}
	wantEqual(t, "org after the failed update", mustGetOrg(t, s, acct, o.ID), o)
	wantNoChange(t, s, seq)
}

func testOrgDeleteCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, envs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	late := mustCreateEnv(t, s, newEnv(o, "staging"))
	envs = append(envs, late)
	survivor, survivorEnvs := mustCreateOrg(t, s, newOrg("bolt"), "sb")
	gone := []store.Policy{
		mustCreatePolicy(t, s, newPolicy("iam-User-a", "Manager", o.ID)),
		mustCreatePolicy(t, s, newPolicy("iam-User-b", "Reader", o.ID)),
	}
	kept := []store.Policy{
		mustCreatePolicy(t, s, newPolicy("iam-User-a", "Administrator", "")), // account-wide
		mustCreatePolicy(t, s, newPolicy("iam-User-a", "Writer", survivor.ID)),
	}

	wantErr(t, "DeleteOrg", s.DeleteOrg(ctx, o.ID, nil), nil)

	for _, idOrName := range []string{o.ID, o.Name} {
		_, err := s.GetOrg(ctx, acct, idOrName)
		wantErr(t, "GetOrg(deleted "+idOrName+")", err, store.ErrNotFound)
	}
	for _, e := range envs {
		_, err := s.GetEnvironment(ctx, o.ID, e.ID)
		wantErr(t, "GetEnvironment(environment of the deleted org)", err, store.ErrNotFound)
	}
	wantEqual(t, "environments of the deleted org", len(mustListEnvs(t, s, o.ID)), 0)
	for _, p := range gone {
		_, err := s.GetPolicy(ctx, p.ID)
		wantErr(t, "GetPolicy(policy scoped to the deleted org)", err, store.ErrNotFound)
	}
	for _, p := range kept {
		got, err := s.GetPolicy(ctx, p.ID)
		wantErr(t, "GetPolicy(kept)", err, nil)
		wantEqual(t, "kept policy", got, p)
	}
	wantEqual(t, "the other org", mustGetOrg(t, s, acct, survivor.ID), survivor)
	wantEqual(t, "the other org's environments", mustListEnvs(t, s, survivor.ID), survivorEnvs)
	wantErr(t, "DeleteOrg again", s.DeleteOrg(ctx, o.ID, nil), store.ErrNotFound)

	// The name and the environments' names are free again.
	mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
}

func testOrgDeleteCheck(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	p := mustCreatePolicy(t, s, newPolicy("iam-User-a", "Manager", o.ID))
	seq := mustLastChange(t, s)
	refused := errors.New("org has published products")
	var seen store.Org
	err := s.DeleteOrg(ctx, o.Name, func(store.Org) error { return nil })
	wantErr(t, "DeleteOrg by name", err, store.ErrNotFound) // ids only
	err = s.DeleteOrg(ctx, o.ID, func(cur store.Org) error {
		seen = cur
		return refused
	})
	if err != refused {
		t.Fatalf("DeleteOrg with a refusing check: got %v, want the check's own error", err)
	}
	wantEqual(t, "org the check saw", seen, o)
	wantEqual(t, "org after the refused delete", mustGetOrg(t, s, acct, o.ID), o)
	wantEqual(t, "environments after the refused delete", mustListEnvs(t, s, o.ID), envs)
	_, err = s.GetPolicy(ctx, p.ID)
	wantErr(t, "GetPolicy after the refused delete", err, nil)
	wantNoChange(t, s, seq)

	wantErr(t, "DeleteOrg with a passing check", s.DeleteOrg(ctx, o.ID, func(store.Org) error { return nil }), nil)
	_, err = s.GetOrg(ctx, acct, o.ID)
	wantErr(t, "GetOrg(deleted)", err, store.ErrNotFound)
	called := false
	err = s.DeleteOrg(ctx, o.ID, func(store.Org) error { called = true; return nil })
	wantErr(t, "DeleteOrg(missing) with a check", err, store.ErrNotFound)
	if called {
		t.Fatal("DeleteOrg called its check for a missing org")
	}
}

func testEnvCreateGetListDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, _ := mustCreateOrg(t, s, newOrg("acme"))
	bolt, _ := mustCreateOrg(t, s, newOrg("bolt"))
	wantEqual(t, "environments of an org created without any", len(mustListEnvs(t, s, o.ID)), 0)

	byName := map[string]store.Environment{}
	for _, name := range []string{"staging", "prod", "sb"} {
		byName[name] = mustCreateEnv(t, s, newEnv(o, name))
	}
	mustCreateEnv(t, s, newEnv(bolt, "dev"))
	wantEqual(t, "environments by name", mustListEnvs(t, s, o.ID),
		[]store.Environment{byName["prod"], byName["sb"], byName["staging"]})

	sb := byName["sb"]
	for _, idOrName := range []string{sb.ID, sb.Name} {
		wantEqual(t, "GetEnvironment("+idOrName+")", mustGetEnv(t, s, o.ID, idOrName), sb)
		_, err := s.GetEnvironment(ctx, bolt.ID, idOrName)
		wantErr(t, "GetEnvironment("+idOrName+") in another org", err, store.ErrNotFound)
	}
	_, err := s.GetEnvironment(ctx, bolt.ID, "prod")
	wantErr(t, "GetEnvironment(a name of another org's)", err, store.ErrNotFound)

	wantErr(t, "DeleteEnvironment in another org", s.DeleteEnvironment(ctx, bolt.ID, sb.ID), store.ErrNotFound)
	wantErr(t, "DeleteEnvironment by name", s.DeleteEnvironment(ctx, o.ID, sb.Name), store.ErrNotFound) // ids only
	wantEqual(t, "sb after the misdirected deletes", mustGetEnv(t, s, o.ID, sb.ID), sb)
	wantErr(t, "DeleteEnvironment", s.DeleteEnvironment(ctx, o.ID, sb.ID), nil)
	_, err = s.GetEnvironment(ctx, o.ID, sb.ID)
	wantErr(t, "GetEnvironment(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteEnvironment again", s.DeleteEnvironment(ctx, o.ID, sb.ID), store.ErrNotFound)
	wantEqual(t, "environments after the delete", mustListEnvs(t, s, o.ID), []store.Environment{byName["prod"], byName["staging"]})
	wantEqual(t, "the org is untouched", mustGetOrg(t, s, acct, o.ID), o)
	mustCreateEnv(t, s, newEnv(o, "sb")) // the name is free again
}

func testEnvDuplicates(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	bolt, _ := mustCreateOrg(t, s, newOrg("bolt"))
	sb := envs[0]
	seq := mustLastChange(t, s)
	sameName := newEnv(o, "sb")
	wantErr(t, "CreateEnvironment(same name, same org)", s.CreateEnvironment(ctx, sameName), store.ErrAlreadyExists)
	sameID := newEnv(o, "prod")
	sameID.ID = sb.ID
	wantErr(t, "CreateEnvironment(same id)", s.CreateEnvironment(ctx, sameID), store.ErrAlreadyExists)
	sameIDOtherOrg := newEnv(bolt, "prod")
	sameIDOtherOrg.ID = sb.ID
	wantErr(t, "CreateEnvironment(same id, other org)", s.CreateEnvironment(ctx, sameIDOtherOrg), store.ErrAlreadyExists)
	wantNoChange(t, s, seq)
	wantEqual(t, "environments after the failed creates", mustListEnvs(t, s, o.ID), envs)
	wantEqual(t, "environments of the other org", len(mustListEnvs(t, s, bolt.ID)), 0)

	// Names are unique per org only.
	mustCreateEnv(t, s, newEnv(bolt, "sb"))
}

func testEnvMissingOrg(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, _ := mustCreateOrg(t, s, newOrg("acme"))
	deleted, _ := mustCreateOrg(t, s, newOrg("gone"))
	wantErr(t, "DeleteOrg", s.DeleteOrg(ctx, deleted.ID, nil), nil)
	seq := mustLastChange(t, s)

	missing := newEnv(newOrg("never-created"), "sb")
	ofDeleted := newEnv(deleted, "sb")
	// The org exists, but not in the environment's account.
	elsewhere := newEnv(o, "sb")
	elsewhere.AccountID = other
	for name, e := range map[string]store.Environment{"missing": missing, "deleted": ofDeleted, "other-account": elsewhere} {
		wantErr(t, "CreateEnvironment in a "+name+" org", s.CreateEnvironment(ctx, e), store.ErrNotFound)
		_, err := s.GetEnvironment(ctx, e.OrgID, e.ID)
		wantErr(t, "GetEnvironment after CreateEnvironment in a "+name+" org", err, store.ErrNotFound)
	}
	wantNoChange(t, s, seq)
	wantEqual(t, "environments of the org", len(mustListEnvs(t, s, o.ID)), 0)
}
