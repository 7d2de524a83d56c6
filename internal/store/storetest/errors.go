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
	doc := func(*store.Document) error { called = true; return nil }
	docCheck := func(store.Document) error { called = true; return nil }
	publish := func(*store.Publication) (store.Publication, error) {
		called = true
		return newPublication(store.Environment{ID: missing, AccountID: acct}, "x", "1"), nil
	}
	pub := func(*store.Publication) error { called = true; return nil }
	cred := func(*store.Credential) error { called = true; return nil }
	sub := func(*store.Subscription) error { called = true; return nil }
	env := store.Environment{ID: missing, AccountID: acct, OrgID: missing}
	corg := newConsumerOrg(env, "climbers")
	app, first := newApp(corg, "ropes")

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
		{"GetDocument(api)", func(ctx context.Context) error { _, err := s.GetDocument(ctx, "api", missing, missing); return err }},
		{"GetDocument(product)", func(ctx context.Context) error { _, err := s.GetDocument(ctx, "product", missing, "x:1"); return err }},
		{"UpdateDocument(api)", func(ctx context.Context) error { _, err := s.UpdateDocument(ctx, "api", missing, doc); return err }},
		{"UpdateDocument(product)", func(ctx context.Context) error { _, err := s.UpdateDocument(ctx, "product", missing, doc); return err }},
		{"DeleteDocument(api)", func(ctx context.Context) error { return s.DeleteDocument(ctx, "api", missing, docCheck) }},
		{"DeleteDocument(product)", func(ctx context.Context) error { return s.DeleteDocument(ctx, "product", missing, docCheck) }},
		{"PutPublication", func(ctx context.Context) error {
			_, err := s.PutPublication(ctx, missing, "x", "1", publish)
			return err
		}},
		{"GetPublication", func(ctx context.Context) error { _, err := s.GetPublication(ctx, missing, missing); return err }},
		{"UpdatePublication", func(ctx context.Context) error { _, err := s.UpdatePublication(ctx, missing, pub); return err }},
		{"DeletePublication", func(ctx context.Context) error { return s.DeletePublication(ctx, missing) }},
		{"CreateConsumerOrg", func(ctx context.Context) error { return s.CreateConsumerOrg(ctx, corg) }},
		{"GetConsumerOrg", func(ctx context.Context) error { _, err := s.GetConsumerOrg(ctx, missing, missing); return err }},
		{"DeleteConsumerOrg", func(ctx context.Context) error { return s.DeleteConsumerOrg(ctx, missing) }},
		{"CreateApp", func(ctx context.Context) error { return s.CreateApp(ctx, app, first) }},
		{"GetApp", func(ctx context.Context) error { _, err := s.GetApp(ctx, missing, missing); return err }},
		{"DeleteApp", func(ctx context.Context) error { return s.DeleteApp(ctx, missing) }},
		{"CreateCredential", func(ctx context.Context) error { return s.CreateCredential(ctx, newCredential(app)) }},
		{"GetCredential", func(ctx context.Context) error { _, err := s.GetCredential(ctx, missing); return err }},
		{"UpdateCredential", func(ctx context.Context) error { _, err := s.UpdateCredential(ctx, missing, cred); return err }},
		{"DeleteCredential", func(ctx context.Context) error { return s.DeleteCredential(ctx, missing) }},
		{"CreateSubscription", func(ctx context.Context) error {
			return s.CreateSubscription(ctx, newSubscription(app, "climbon", "1.0.0"))
		}},
		{"GetSubscription", func(ctx context.Context) error { _, err := s.GetSubscription(ctx, missing); return err }},
		{"UpdateSubscription", func(ctx context.Context) error { _, err := s.UpdateSubscription(ctx, missing, sub); return err }},
		{"DeleteSubscription", func(ctx context.Context) error { return s.DeleteSubscription(ctx, missing) }},
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

	// Every method of the API Manager, consumer and event stores.
	env := store.Environment{ID: "env", AccountID: acct, OrgID: "org"}
	corg := newConsumerOrg(env, "climbers")
	app, first := newApp(corg, "ropes")
	for _, tc := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"CreateDocument", func(ctx context.Context) error {
			return s.CreateDocument(ctx, "api", newDocument(store.Org{ID: "org", AccountID: acct}, "x", "1"))
		}},
		{"GetDocument", func(ctx context.Context) error { _, err := s.GetDocument(ctx, "product", "org", "x:1"); return err }},
		{"ListDocuments", func(ctx context.Context) error {
			_, err := s.ListDocuments(ctx, "api", "org", store.Page{})
			return err
		}},
		{"UpdateDocument", func(ctx context.Context) error {
			_, err := s.UpdateDocument(ctx, "api", "x", func(*store.Document) error { return nil })
			return err
		}},
		{"DeleteDocument", func(ctx context.Context) error { return s.DeleteDocument(ctx, "product", "x", nil) }},
		{"PutPublication", func(ctx context.Context) error {
			_, err := s.PutPublication(ctx, "env", "x", "1", func(*store.Publication) (store.Publication, error) {
				return newPublication(env, "x", "1"), nil
			})
			return err
		}},
		{"GetPublication", func(ctx context.Context) error { _, err := s.GetPublication(ctx, "env", "x:1"); return err }},
		{"ListPublications", func(ctx context.Context) error {
			_, err := s.ListPublications(ctx, store.PublicationQuery{EnvID: "env", States: []string{"published"}})
			return err
		}},
		{"UpdatePublication", func(ctx context.Context) error {
			_, err := s.UpdatePublication(ctx, "x", func(*store.Publication) error { return nil })
			return err
		}},
		{"DeletePublication", func(ctx context.Context) error { return s.DeletePublication(ctx, "x") }},
		{"CreateConsumerOrg", func(ctx context.Context) error { return s.CreateConsumerOrg(ctx, corg) }},
		{"GetConsumerOrg", func(ctx context.Context) error { _, err := s.GetConsumerOrg(ctx, "env", "x"); return err }},
		{"ListConsumerOrgs", func(ctx context.Context) error { _, err := s.ListConsumerOrgs(ctx, "env", store.Page{}); return err }},
		{"DeleteConsumerOrg", func(ctx context.Context) error { return s.DeleteConsumerOrg(ctx, "x") }},
		{"CreateApp", func(ctx context.Context) error { return s.CreateApp(ctx, app, first) }},
		{"GetApp", func(ctx context.Context) error { _, err := s.GetApp(ctx, corg.ID, "x"); return err }},
		{"ListApps", func(ctx context.Context) error {
			_, err := s.ListApps(ctx, store.ConsumerQuery{EnvID: "env"})
			return err
		}},
		{"DeleteApp", func(ctx context.Context) error { return s.DeleteApp(ctx, "x") }},
		{"CreateCredential", func(ctx context.Context) error { return s.CreateCredential(ctx, newCredential(app)) }},
		{"GetCredential", func(ctx context.Context) error { _, err := s.GetCredential(ctx, "x"); return err }},
		{"ListCredentials", func(ctx context.Context) error { _, err := s.ListCredentials(ctx, app.ID); return err }},
		{"UpdateCredential", func(ctx context.Context) error {
			_, err := s.UpdateCredential(ctx, "x", func(*store.Credential) error { return nil })
			return err
		}},
		{"DeleteCredential", func(ctx context.Context) error { return s.DeleteCredential(ctx, "x") }},
		{"CreateSubscription", func(ctx context.Context) error {
			return s.CreateSubscription(ctx, newSubscription(app, "climbon", "1.0.0"))
		}},
		{"GetSubscription", func(ctx context.Context) error { _, err := s.GetSubscription(ctx, "x"); return err }},
		{"ListSubscriptions", func(ctx context.Context) error {
			_, err := s.ListSubscriptions(ctx, store.ConsumerQuery{AppID: app.ID})
			return err
		}},
		{"UpdateSubscription", func(ctx context.Context) error {
			_, err := s.UpdateSubscription(ctx, "x", func(*store.Subscription) error { return nil })
			return err
		}},
		{"DeleteSubscription", func(ctx context.Context) error { return s.DeleteSubscription(ctx, "x") }},
		{"GatewayState", func(ctx context.Context) error { _, err := s.GatewayState(ctx, acct); return err }},
		{"AppendEvents", func(ctx context.Context) error { return s.AppendEvents(ctx, []store.Event{newEvent(env, 0)}) }},
		{"ListEvents", func(ctx context.Context) error {
			_, err := s.ListEvents(ctx, store.EventQuery{EnvID: "env"})
			return err
		}},
		{"DeleteEventsBefore", func(ctx context.Context) error { _, err := s.DeleteEventsBefore(ctx, t0); return err }},
	} {
		wantErr(t, tc.name+" after Close", tc.call(ctx), store.ErrUnavailable)
	}
}
