package storetest

import (
	"context"
	"testing"

	"gatehouse/internal/store"
)

func testNotFound(t *testing.T, s store.Store) {
	const missing = "no-such-record"
	called := false
	// Closures of updates on missing records must not be called.
	user := func(*store.User) error { called = true; return nil }
	sid := func(*store.ServiceID) error { called = true; return nil }
	key := func(*store.APIKey) error { called = true; return nil }
	rotate := func(*store.APIKey) (store.APIKey, error) { called = true; return newAPIKey("x", "x"), nil }
	org := func(*store.Org) error { called = true; return nil }
	orgCheck := func(store.Org) error { called = true; return nil }

	for _, tc := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"GetAccount", func(ctx context.Context) error { _, err := s.GetAccount(ctx, missing); return err }},
		{"GetUser", func(ctx context.Context) error { _, err := s.GetUser(ctx, missing); return err }},
		{"GetUserByUsername", func(ctx context.Context) error { _, err := s.GetUserByUsername(ctx, acct, missing); return err }},
		{"UpdateUser", func(ctx context.Context) error { _, err := s.UpdateUser(ctx, missing, user); return err }},
		{"DeleteUser", func(ctx context.Context) error { return s.DeleteUser(ctx, missing) }},
		{"GetServiceID", func(ctx context.Context) error { _, err := s.GetServiceID(ctx, missing); return err }},
		{"UpdateServiceID", func(ctx context.Context) error { _, err := s.UpdateServiceID(ctx, missing, sid); return err }},
		{"DeleteServiceID", func(ctx context.Context) error { return s.DeleteServiceID(ctx, missing, nil) }},
		{"GetPolicy", func(ctx context.Context) error { _, err := s.GetPolicy(ctx, missing); return err }},
		{"DeletePolicy", func(ctx context.Context) error { return s.DeletePolicy(ctx, missing) }},
		{"GetAPIKey", func(ctx context.Context) error { _, err := s.GetAPIKey(ctx, missing); return err }},
		{"GetAPIKeyByDigest", func(ctx context.Context) error { _, err := s.GetAPIKeyByDigest(ctx, []byte(missing)); return err }},
		{"UpdateAPIKey", func(ctx context.Context) error { _, err := s.UpdateAPIKey(ctx, missing, key); return err }},
		{"RotateAPIKey", func(ctx context.Context) error { _, _, err := s.RotateAPIKey(ctx, missing, rotate); return err }},
		{"DeleteAPIKey", func(ctx context.Context) error { return s.DeleteAPIKey(ctx, missing, nil) }},
		{"DeleteSigningKey", func(ctx context.Context) error { return s.DeleteSigningKey(ctx, missing) }},
		{"GetOrg", func(ctx context.Context) error { _, err := s.GetOrg(ctx, acct, missing); return err }},
		{"UpdateOrg", func(ctx context.Context) error { _, err := s.UpdateOrg(ctx, missing, org); return err }},
		{"DeleteOrg", func(ctx context.Context) error { return s.DeleteOrg(ctx, missing, orgCheck) }},
		{"CreateEnvironment", func(ctx context.Context) error {
			return s.CreateEnvironment(ctx, newEnv(store.Org{ID: missing, AccountID: acct}, "sb"))
		}},
		{"GetEnvironment", func(ctx context.Context) error { _, err := s.GetEnvironment(ctx, missing, missing); return err }},
		{"DeleteEnvironment", func(ctx context.Context) error { return s.DeleteEnvironment(ctx, missing, missing) }},
		{"GetMeta", func(ctx context.Context) error { _, err := s.GetMeta(ctx, missing); return err }},
	} {
		wantErr(t, tc.name, tc.call(t.Context()), store.ErrNotFound)
		if called {
			t.Fatalf("%s called its closure for a missing record", tc.name)
		}
	}
	wantNoChange(t, s, 0)
}

func testClosed(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, newUser("alice"))
	wantErr(t, "Ping", s.Ping(ctx), nil)
	wantErr(t, "Close", s.Close(), nil)

	wantErr(t, "Ping after Close", s.Ping(ctx), store.ErrUnavailable)
	_, err := s.GetUser(ctx, u.ID)
	wantErr(t, "GetUser after Close", err, store.ErrUnavailable)
	_, err = s.ListAPIKeys(ctx, store.APIKeyQuery{AccountID: acct})
	wantErr(t, "ListAPIKeys after Close", err, store.ErrUnavailable)
	wantErr(t, "CreateUser after Close", s.CreateUser(ctx, newUser("bob")), store.ErrUnavailable)
	_, err = s.UpdateUser(ctx, u.ID, func(*store.User) error { return nil })
	wantErr(t, "UpdateUser after Close", err, store.ErrUnavailable)
	_, err = s.Changes(ctx, 0, 10)
	wantErr(t, "Changes after Close", err, store.ErrUnavailable)
	wantErr(t, "CreateOrg after Close", s.CreateOrg(ctx, newOrg("acme"), nil), store.ErrUnavailable)
	_, err = s.GetOrg(ctx, acct, "acme")
	wantErr(t, "GetOrg after Close", err, store.ErrUnavailable)
	wantErr(t, "AppendAudit after Close", s.AppendAudit(ctx, []store.AuditEntry{newAuditEntry("user.create", u.ID)}, sealChain), store.ErrUnavailable)
	_, err = s.ListAudit(ctx, store.AuditQuery{})
	wantErr(t, "ListAudit after Close", err, store.ErrUnavailable)
}
