package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/store"
)

// change is a Change without its Seq and Time, for comparing logs.
type change struct{ Kind, Key string }

func (c change) String() string { return c.Kind + ":" + c.Key }

// changesSince returns the changes after seq, sorted (the order within one
// mutation is not part of the contract).
func changesSince(t *testing.T, s store.Store, seq int64) []change {
	t.Helper()
	cs, err := s.Changes(t.Context(), seq, 1000)
	if err != nil {
		t.Fatalf("Changes(%d): %v", seq, err)
	}
	out := make([]change, len(cs))
	for i, c := range cs {
		out[i] = change{c.Kind, c.Key}
	}
	slices.SortFunc(out, func(x, y change) int { return strings.Compare(x.String(), y.String()) })
	return out
}

func testChangesLogged(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Each case creates what its mutation needs, then returns the mutation, the
	// error it must return and the changes it must log (in any order).
	type mutation struct {
		do   func() error
		err  error
		want []change
	}
	cases := []struct {
		name    string
		prepare func(t *testing.T) mutation
	}{
		{"bootstrap", func(t *testing.T) mutation {
			b := newBootstrap(acct)
			return mutation{func() error { return s.Bootstrap(ctx, b) }, nil, []change{
				{store.ChangeAccount, b.Account.ID}, {store.ChangeUser, b.User.IAMID},
				{store.ChangePolicy, b.User.IAMID}, {store.ChangeAPIKey, b.APIKey.ID}}}
		}},
		{"bootstrap-again", func(t *testing.T) mutation {
			return mutation{func() error { return s.Bootstrap(ctx, newBootstrap(other)) }, store.ErrAlreadyExists, nil}
		}},
		{"create-user", func(t *testing.T) mutation {
			u := newUser("carol")
			return mutation{func() error { return s.CreateUser(ctx, u) }, nil, []change{{store.ChangeUser, u.IAMID}}}
		}},
		{"create-duplicate-user", func(t *testing.T) mutation {
			u := mustCreateUser(t, s, newUser("dave"))
			return mutation{func() error { return s.CreateUser(ctx, u) }, store.ErrAlreadyExists, nil}
		}},
		{"update-user", func(t *testing.T) mutation {
			u := mustCreateUser(t, s, newUser("erin"))
			return mutation{func() error {
				_, err := s.UpdateUser(ctx, u.ID, func(v *store.User) error { v.Name = "x"; return nil })
				return err
			}, nil, []change{{store.ChangeUser, u.IAMID}}}
		}},
		{"update-user-fn-error", func(t *testing.T) mutation {
			u := mustCreateUser(t, s, newUser("frank"))
			return mutation{func() error {
				_, err := s.UpdateUser(ctx, u.ID, func(*store.User) error { return errBoom })
				return err
			}, errBoom, nil}
		}},
		{"delete-user-with-keys-and-policy", func(t *testing.T) mutation {
			u := mustCreateUser(t, s, newUser("grace"))
			k1 := mustCreateAPIKey(t, s, newAPIKey(u.IAMID, "one"))
			k2 := mustCreateAPIKey(t, s, newAPIKey(u.IAMID, "two"))
			mustCreatePolicy(t, s, newPolicy(u.IAMID, "Writer", ""))
			return mutation{func() error { return s.DeleteUser(ctx, u.ID) }, nil, []change{
				{store.ChangeUser, u.IAMID}, {store.ChangeAPIKey, k1.ID}, {store.ChangeAPIKey, k2.ID},
				{store.ChangePolicy, u.IAMID}}}
		}},
		{"create-service-id", func(t *testing.T) mutation {
			v := newServiceID("one")
			return mutation{func() error { return s.CreateServiceID(ctx, v, nil) }, nil, []change{{store.ChangeServiceID, v.IAMID}}}
		}},
		{"create-service-id-with-key", func(t *testing.T) mutation {
			v := newServiceID("two")
			k := newAPIKey(v.IAMID, "first")
			return mutation{func() error { return s.CreateServiceID(ctx, v, &k) }, nil, []change{
				{store.ChangeServiceID, v.IAMID}, {store.ChangeAPIKey, k.ID}}}
		}},
		{"update-service-id", func(t *testing.T) mutation {
			v := mustCreateServiceID(t, s, newServiceID("three"))
			return mutation{func() error {
				_, err := s.UpdateServiceID(ctx, v.IAMID, func(w *store.ServiceID) error { w.Locked = true; return nil })
				return err
			}, nil, []change{{store.ChangeServiceID, v.IAMID}}}
		}},
		{"delete-service-id-with-key-and-policy", func(t *testing.T) mutation {
			v := mustCreateServiceID(t, s, newServiceID("four"))
			k := mustCreateAPIKey(t, s, newAPIKey(v.IAMID, "one"))
			mustCreatePolicy(t, s, newPolicy(v.IAMID, "Reader", "org-1"))
			return mutation{func() error { return s.DeleteServiceID(ctx, v.ID, nil) }, nil, []change{
				{store.ChangeServiceID, v.IAMID}, {store.ChangeAPIKey, k.ID}, {store.ChangePolicy, v.IAMID}}}
		}},
		{"create-policy", func(t *testing.T) mutation {
			p := newPolicy("iam-User-p", "Reader", "org-9")
			return mutation{func() error { return s.CreatePolicy(ctx, p) }, nil, []change{{store.ChangePolicy, p.Subject}}}
		}},
		{"delete-policy", func(t *testing.T) mutation {
			p := mustCreatePolicy(t, s, newPolicy("iam-User-q", "Reader", ""))
			return mutation{func() error { return s.DeletePolicy(ctx, p.ID) }, nil, []change{{store.ChangePolicy, p.Subject}}}
		}},
		{"create-api-key", func(t *testing.T) mutation {
			k := newAPIKey("iam-User-k", "new")
			return mutation{func() error { return s.CreateAPIKey(ctx, k) }, nil, []change{{store.ChangeAPIKey, k.ID}}}
		}},
		{"update-api-key", func(t *testing.T) mutation {
			k := mustCreateAPIKey(t, s, newAPIKey("iam-User-k", "upd"))
			return mutation{func() error {
				_, err := s.UpdateAPIKey(ctx, k.ID, func(v *store.APIKey) error { v.Disabled = true; return nil })
				return err
			}, nil, []change{{store.ChangeAPIKey, k.ID}}}
		}},
		{"rotate-api-key", func(t *testing.T) mutation {
			k := mustCreateAPIKey(t, s, newAPIKey("iam-User-k", "rot"))
			r := newAPIKey(k.IAMID, "rot")
			return mutation{func() error {
				_, _, err := s.RotateAPIKey(ctx, k.ID, func(*store.APIKey) (store.APIKey, error) { return r, nil })
				return err
			}, nil, []change{{store.ChangeAPIKey, k.ID}, {store.ChangeAPIKey, r.ID}}}
		}},
		{"delete-api-key", func(t *testing.T) mutation {
			k := mustCreateAPIKey(t, s, newAPIKey("iam-User-k", "del"))
			return mutation{func() error { return s.DeleteAPIKey(ctx, k.ID, nil) }, nil, []change{{store.ChangeAPIKey, k.ID}}}
		}},
		{"delete-missing-api-key", func(t *testing.T) mutation {
			return mutation{func() error { return s.DeleteAPIKey(ctx, "ApiKey-missing", nil) }, store.ErrNotFound, nil}
		}},
		{"record-activity", func(t *testing.T) mutation {
			k := mustCreateAPIKey(t, s, newAPIKey("iam-User-k", "act"))
			return mutation{func() error {
				return s.RecordAPIKeyActivity(ctx, []store.APIKeyActivity{{ID: k.ID, Count: 1, Last: t0}})
			}, nil, nil}
		}},
		{"create-signing-key", func(t *testing.T) mutation {
			k := newSigningKey(1)
			return mutation{func() error { return s.CreateSigningKey(ctx, k) }, nil, []change{{store.ChangeSigningKey, k.ID}}}
		}},
		{"delete-signing-key", func(t *testing.T) mutation {
			k := mustCreateSigningKey(t, s, newSigningKey(2))
			return mutation{func() error { return s.DeleteSigningKey(ctx, k.ID) }, nil, []change{{store.ChangeSigningKey, k.ID}}}
		}},
		{"create-org-with-environments", func(t *testing.T) mutation {
			o := newOrg("acme")
			sb, prod := newEnv(o, "sb"), newEnv(o, "prod")
			return mutation{func() error { return s.CreateOrg(ctx, o, []store.Environment{sb, prod}) }, nil, []change{
				{store.ChangeOrg, o.ID}, {store.ChangeEnv, sb.ID}, {store.ChangeEnv, prod.ID}}}
		}},
		{"create-org-without-environments", func(t *testing.T) mutation {
			o := newOrg("bare")
			return mutation{func() error { return s.CreateOrg(ctx, o, nil) }, nil, []change{{store.ChangeOrg, o.ID}}}
		}},
		{"create-duplicate-org", func(t *testing.T) mutation {
			o, _ := mustCreateOrg(t, s, newOrg("taken"))
			v := newOrg(o.Name)
			return mutation{func() error { return s.CreateOrg(ctx, v, []store.Environment{newEnv(v, "sb")}) }, store.ErrAlreadyExists, nil}
		}},
		{"update-org", func(t *testing.T) mutation {
			o, _ := mustCreateOrg(t, s, newOrg("upd"), "sb")
			return mutation{func() error {
				_, err := s.UpdateOrg(ctx, o.ID, func(v *store.Org) error { v.Name = "updated"; return nil })
				return err
			}, nil, []change{{store.ChangeOrg, o.ID}}}
		}},
		{"update-org-fn-error", func(t *testing.T) mutation {
			o, _ := mustCreateOrg(t, s, newOrg("fnerr"))
			return mutation{func() error {
				_, err := s.UpdateOrg(ctx, o.ID, func(*store.Org) error { return errBoom })
				return err
			}, errBoom, nil}
		}},
		{"delete-org-with-environments-and-policies", func(t *testing.T) mutation {
			o, envs := mustCreateOrg(t, s, newOrg("del"), "sb", "prod")
			survivor, _ := mustCreateOrg(t, s, newOrg("survivor"), "sb")
			mustCreatePolicy(t, s, newPolicy("iam-User-m", "Manager", o.ID))
			mustCreatePolicy(t, s, newPolicy("iam-User-r", "Reader", o.ID))
			mustCreatePolicy(t, s, newPolicy("iam-User-w", "Writer", survivor.ID))
			mustCreatePolicy(t, s, newPolicy("iam-User-w", "Writer", ""))
			return mutation{func() error { return s.DeleteOrg(ctx, o.ID, nil) }, nil, []change{
				{store.ChangeOrg, o.ID}, {store.ChangeEnv, envs[0].ID}, {store.ChangeEnv, envs[1].ID},
				{store.ChangePolicy, "iam-User-m"}, {store.ChangePolicy, "iam-User-r"}}}
		}},
		{"delete-org-refused-by-check", func(t *testing.T) mutation {
			o, _ := mustCreateOrg(t, s, newOrg("guarded"), "sb")
			mustCreatePolicy(t, s, newPolicy("iam-User-g", "Manager", o.ID))
			return mutation{func() error { return s.DeleteOrg(ctx, o.ID, func(store.Org) error { return errBoom }) }, errBoom, nil}
		}},
		{"delete-missing-org", func(t *testing.T) mutation {
			return mutation{func() error { return s.DeleteOrg(ctx, "no-such-org", nil) }, store.ErrNotFound, nil}
		}},
		{"create-environment", func(t *testing.T) mutation {
			o, _ := mustCreateOrg(t, s, newOrg("envs"))
			e := newEnv(o, "staging")
			return mutation{func() error { return s.CreateEnvironment(ctx, e) }, nil, []change{{store.ChangeEnv, e.ID}}}
		}},
		{"create-environment-in-missing-org", func(t *testing.T) mutation {
			e := newEnv(newOrg("never-created"), "sb")
			return mutation{func() error { return s.CreateEnvironment(ctx, e) }, store.ErrNotFound, nil}
		}},
		{"delete-environment", func(t *testing.T) mutation {
			o, envs := mustCreateOrg(t, s, newOrg("envdel"), "sb", "prod")
			return mutation{func() error { return s.DeleteEnvironment(ctx, o.ID, envs[1].ID) }, nil, []change{{store.ChangeEnv, envs[1].ID}}}
		}},
		{"delete-missing-environment", func(t *testing.T) mutation {
			o, _ := mustCreateOrg(t, s, newOrg("noenv"))
			return mutation{func() error { return s.DeleteEnvironment(ctx, o.ID, "no-such-env") }, store.ErrNotFound, nil}
		}},
		{"append-audit", func(t *testing.T) mutation {
			return mutation{func() error {
				return s.AppendAudit(ctx, []store.AuditEntry{newAuditEntry("org.create", "acme")}, sealChain)
			}, nil, nil}
		}},
	}
	for _, tc := range cases {
		m := tc.prepare(t)
		seq := mustLastChange(t, s)
		wantErr(t, tc.name, m.do(), m.err)
		got := changesSince(t, s, seq)
		slices.SortFunc(m.want, func(x, y change) int { return strings.Compare(x.String(), y.String()) })
		if len(got) != 0 || len(m.want) != 0 {
			wantEqual(t, "changes of "+tc.name, got, m.want)
		}
	}
}

func testChangesPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := time.Now()
	var want []change
	for i := range 7 {
		u := mustCreateUser(t, s, newUser(fmt.Sprint("user-", i)))
		want = append(want, change{store.ChangeUser, u.IAMID})
	}
	after := time.Now()

	all, err := s.Changes(ctx, 0, 100)
	wantErr(t, "Changes", err, nil)
	if len(all) != len(want) {
		t.Fatalf("Changes returned %d entries, want %d", len(all), len(want))
	}
	for i, c := range all {
		wantEqual(t, fmt.Sprint("change ", i), change{c.Kind, c.Key}, want[i]) // one per transaction: in commit order
		if i > 0 && c.Seq <= all[i-1].Seq {
			t.Fatalf("Seq %d follows %d", c.Seq, all[i-1].Seq)
		}
		// The store's clock is the backend's own; only a sane value is required.
		if c.Time.Location() != time.UTC || c.Time.Before(before.Add(-time.Minute)) || c.Time.After(after.Add(time.Minute)) {
			t.Fatalf("change %d Time = %v, want a UTC time near now", i, c.Time)
		}
	}
	wantEqual(t, "LastChange", mustLastChange(t, s), all[len(all)-1].Seq)

	var paged []store.Change
	for seq := int64(0); ; {
		page, err := s.Changes(ctx, seq, 3)
		wantErr(t, "Changes page", err, nil)
		if len(page) > 3 {
			t.Fatalf("Changes(%d, 3) returned %d entries", seq, len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		seq = page[len(page)-1].Seq
	}
	wantEqual(t, "changes read in pages", paged, all)
	rest, err := s.Changes(ctx, all[len(all)-1].Seq, 10)
	wantErr(t, "Changes after the last", err, nil)
	wantEqual(t, "changes after the last", len(rest), 0)
}

func testChangesEmpty(t *testing.T, s store.Store) {
	wantEqual(t, "LastChange of an empty log", mustLastChange(t, s), 0)
	cs, err := s.Changes(t.Context(), 0, 10)
	wantErr(t, "Changes", err, nil)
	wantEqual(t, "changes of an empty log", len(cs), 0)
}

func testChangesPrune(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 6 {
		mustCreateUser(t, s, newUser(fmt.Sprint("user-", i)))
	}
	all, err := s.Changes(ctx, 0, 100)
	wantErr(t, "Changes", err, nil)

	wantErr(t, "PruneChanges(long ago)", s.PruneChanges(ctx, all[0].Time.Add(-time.Hour)), nil)
	kept, err := s.Changes(ctx, 0, 100)
	wantErr(t, "Changes", err, nil)
	wantEqual(t, "changes after pruning nothing", kept, all)

	// Cut at the fourth change's time: exactly the changes before that time go.
	cut := all[3].Time
	var want []store.Change
	for _, c := range all {
		if !c.Time.Before(cut) {
			want = append(want, c)
		}
	}
	wantErr(t, "PruneChanges(cut)", s.PruneChanges(ctx, cut), nil)
	kept, err = s.Changes(ctx, 0, 100)
	wantErr(t, "Changes", err, nil)
	wantEqual(t, "changes after pruning before the fourth", kept, want)

	wantErr(t, "PruneChanges(all)", s.PruneChanges(ctx, all[len(all)-1].Time.Add(time.Hour)), nil)
	kept, err = s.Changes(ctx, 0, 100)
	wantErr(t, "Changes", err, nil)
	wantEqual(t, "changes after pruning everything", len(kept), 0)

	// Seqs are never reused: a tailer that saw the last one sees the next.
	u := mustCreateUser(t, s, newUser("after-prune"))
	next, err := s.Changes(ctx, all[len(all)-1].Seq, 10)
	wantErr(t, "Changes", err, nil)
	if len(next) != 1 || next[0].Key != u.IAMID || next[0].Seq <= all[len(all)-1].Seq {
		t.Fatalf("changes after prune and create = %+v, want one for %s with Seq > %d", next, u.IAMID, all[len(all)-1].Seq)
	}
}
