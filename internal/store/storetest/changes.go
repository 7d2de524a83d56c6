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
		{"create-api", func(t *testing.T) mutation {
			o, _ := mustCreateOrg(t, s, newOrg("apis"))
			d := newDocument(o, "weather", "1.0.0")
			return mutation{func() error { return s.CreateDocument(ctx, "api", d) }, nil, []change{{store.ChangeAPI, d.ID}}}
		}},
		{"create-product", func(t *testing.T) mutation {
			o, _ := mustCreateOrg(t, s, newOrg("products"))
			d := newDocument(o, "climbon", "1.0.0")
			return mutation{func() error { return s.CreateDocument(ctx, "product", d) }, nil, []change{{store.ChangeProduct, d.ID}}}
		}},
		{"create-duplicate-document", func(t *testing.T) mutation {
			o, _ := mustCreateOrg(t, s, newOrg("dupdocs"))
			mustCreateDocument(t, s, "api", newDocument(o, "weather", "1.0.0"))
			return mutation{func() error { return s.CreateDocument(ctx, "api", newDocument(o, "weather", "1.0.0")) }, store.ErrAlreadyExists, nil}
		}},
		{"update-api", func(t *testing.T) mutation {
			o, _ := mustCreateOrg(t, s, newOrg("updapi"))
			d := mustCreateDocument(t, s, "api", newDocument(o, "weather", "1.0.0"))
			return mutation{func() error {
				_, err := s.UpdateDocument(ctx, "api", d.ID, func(v *store.Document) error { v.Title = "x"; return nil })
				return err
			}, nil, []change{{store.ChangeAPI, d.ID}}}
		}},
		{"update-product-fn-error", func(t *testing.T) mutation {
			o, _ := mustCreateOrg(t, s, newOrg("updproduct"))
			d := mustCreateDocument(t, s, "product", newDocument(o, "climbon", "1.0.0"))
			return mutation{func() error {
				_, err := s.UpdateDocument(ctx, "product", d.ID, func(*store.Document) error { return errBoom })
				return err
			}, errBoom, nil}
		}},
		{"update-product", func(t *testing.T) mutation {
			o, _ := mustCreateOrg(t, s, newOrg("updproduct2"))
			d := mustCreateDocument(t, s, "product", newDocument(o, "climbon", "1.0.0"))
			return mutation{func() error {
				_, err := s.UpdateDocument(ctx, "product", d.ID, func(v *store.Document) error { v.Version = "1.0.1"; return nil })
				return err
			}, nil, []change{{store.ChangeProduct, d.ID}}}
		}},
		{"delete-api", func(t *testing.T) mutation {
			o, _ := mustCreateOrg(t, s, newOrg("delapi"))
			d := mustCreateDocument(t, s, "api", newDocument(o, "weather", "1.0.0"))
			return mutation{func() error { return s.DeleteDocument(ctx, "api", d.ID, nil) }, nil, []change{{store.ChangeAPI, d.ID}}}
		}},
		{"delete-product", func(t *testing.T) mutation {
			o, _ := mustCreateOrg(t, s, newOrg("delproduct"))
			d := mustCreateDocument(t, s, "product", newDocument(o, "climbon", "1.0.0"))
			return mutation{func() error { return s.DeleteDocument(ctx, "product", d.ID, nil) }, nil, []change{{store.ChangeProduct, d.ID}}}
		}},
		{"delete-document-refused-by-check", func(t *testing.T) mutation {
			o, _ := mustCreateOrg(t, s, newOrg("guardeddoc"))
			d := mustCreateDocument(t, s, "api", newDocument(o, "weather", "1.0.0"))
			return mutation{func() error {
				return s.DeleteDocument(ctx, "api", d.ID, func(store.Document) error { return errBoom })
			}, errBoom, nil}
		}},
		{"publish", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("publish"), "sb")
			p := newPublication(envs[0], "climbon", "1.0.0")
			return mutation{func() error {
				_, err := s.PutPublication(ctx, p.EnvID, p.ProductName, p.ProductVersion, func(*store.Publication) (store.Publication, error) { return p, nil })
				return err
			}, nil, []change{{store.ChangePublish, p.ID}}}
		}},
		{"republish", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("republish"), "sb")
			p := mustPublish(t, s, newPublication(envs[0], "climbon", "1.0.0"))
			return mutation{func() error {
				_, err := s.PutPublication(ctx, p.EnvID, p.ProductName, p.ProductVersion, func(old *store.Publication) (store.Publication, error) {
					return newPublication(envs[0], "climbon", "1.0.0"), nil // a new id, which the existing record ignores
				})
				return err
			}, nil, []change{{store.ChangePublish, p.ID}}}
		}},
		{"publish-fn-error", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("publisherr"), "sb")
			return mutation{func() error {
				_, err := s.PutPublication(ctx, envs[0].ID, "climbon", "1.0.0", func(*store.Publication) (store.Publication, error) {
					return store.Publication{}, errBoom
				})
				return err
			}, errBoom, nil}
		}},
		{"update-publication", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("deprecate"), "sb")
			p := mustPublish(t, s, newPublication(envs[0], "climbon", "1.0.0"))
			return mutation{func() error {
				_, err := s.UpdatePublication(ctx, p.ID, func(v *store.Publication) error { v.State = "deprecated"; return nil })
				return err
			}, nil, []change{{store.ChangePublish, p.ID}}}
		}},
		{"delete-publication", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("unpublish"), "sb")
			p := mustPublish(t, s, newPublication(envs[0], "climbon", "1.0.0"))
			return mutation{func() error { return s.DeletePublication(ctx, p.ID) }, nil, []change{{store.ChangePublish, p.ID}}}
		}},
		{"create-consumer-org", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("corg"), "sb")
			c := newConsumerOrg(envs[0], "climbers")
			return mutation{func() error { return s.CreateConsumerOrg(ctx, c) }, nil, []change{{store.ChangeConsumer, c.ID}}}
		}},
		{"create-consumer-org-in-missing-environment", func(t *testing.T) mutation {
			c := newConsumerOrg(store.Environment{ID: "no-such-env", AccountID: acct, OrgID: "no-such-org"}, "climbers")
			return mutation{func() error { return s.CreateConsumerOrg(ctx, c) }, store.ErrNotFound, nil}
		}},
		{"delete-consumer-org-with-apps", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("delcorg"), "sb")
			cc := populateCatalog(t, s, envs[0])
			gone := catalogContents{corgs: cc.corgs[:1], apps: cc.apps[:2], creds: cc.creds[:3], subs: cc.subs[:3]}
			return mutation{func() error { return s.DeleteConsumerOrg(ctx, cc.corgs[0].ID) }, nil, gone.changes()}
		}},
		{"create-app-with-credential", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("app"), "sb")
			a, first := newApp(mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers")), "ropes")
			return mutation{func() error { return s.CreateApp(ctx, a, first) }, nil, []change{
				{store.ChangeConsumer, a.ID}, {store.ChangeConsumer, first.ClientID}}}
		}},
		{"create-app-with-taken-client-id", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("dupapp"), "sb")
			c := mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers"))
			_, taken := mustCreateApp(t, s, c, "ropes")
			a, first := newApp(c, "harness")
			first.ClientID = taken.ClientID
			return mutation{func() error { return s.CreateApp(ctx, a, first) }, store.ErrAlreadyExists, nil}
		}},
		{"delete-app", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("delapp"), "sb")
			cc := populateCatalog(t, s, envs[0])
			gone := catalogContents{apps: cc.apps[:1], creds: cc.creds[:2], subs: cc.subs[:2]}
			return mutation{func() error { return s.DeleteApp(ctx, cc.apps[0].ID) }, nil, gone.changes()}
		}},
		{"create-credential", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("cred"), "sb")
			a, _ := mustCreateApp(t, s, mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers")), "ropes")
			c := newCredential(a)
			return mutation{func() error { return s.CreateCredential(ctx, c) }, nil, []change{{store.ChangeConsumer, c.ClientID}}}
		}},
		{"update-credential", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("updcred"), "sb")
			_, c := mustCreateApp(t, s, mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers")), "ropes")
			return mutation{func() error {
				_, err := s.UpdateCredential(ctx, c.ClientID, func(v *store.Credential) error { v.SecretHint = "abcd"; return nil })
				return err
			}, nil, []change{{store.ChangeConsumer, c.ClientID}}}
		}},
		{"delete-credential", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("delcred"), "sb")
			_, c := mustCreateApp(t, s, mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers")), "ropes")
			return mutation{func() error { return s.DeleteCredential(ctx, c.ClientID) }, nil, []change{{store.ChangeConsumer, c.ClientID}}}
		}},
		{"create-subscription", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("sub"), "sb")
			a, _ := mustCreateApp(t, s, mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers")), "ropes")
			v := newSubscription(a, "climbon", "1.0.0")
			return mutation{func() error { return s.CreateSubscription(ctx, v) }, nil, []change{{store.ChangeConsumer, v.ID}}}
		}},
		{"create-duplicate-subscription", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("dupsub"), "sb")
			a, _ := mustCreateApp(t, s, mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers")), "ropes")
			mustCreateSubscription(t, s, newSubscription(a, "climbon", "1.0.0"))
			return mutation{func() error { return s.CreateSubscription(ctx, newSubscription(a, "climbon", "1.0.0")) }, store.ErrAlreadyExists, nil}
		}},
		{"update-subscription", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("updsub"), "sb")
			a, _ := mustCreateApp(t, s, mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers")), "ropes")
			v := mustCreateSubscription(t, s, newSubscription(a, "climbon", "1.0.0"))
			return mutation{func() error {
				_, err := s.UpdateSubscription(ctx, v.ID, func(w *store.Subscription) error { w.State = "active"; return nil })
				return err
			}, nil, []change{{store.ChangeConsumer, v.ID}}}
		}},
		{"delete-subscription", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("delsub"), "sb")
			a, _ := mustCreateApp(t, s, mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers")), "ropes")
			v := mustCreateSubscription(t, s, newSubscription(a, "climbon", "1.0.0"))
			return mutation{func() error { return s.DeleteSubscription(ctx, v.ID) }, nil, []change{{store.ChangeConsumer, v.ID}}}
		}},
		{"delete-environment-with-catalog", func(t *testing.T) mutation {
			o, envs := mustCreateOrg(t, s, newOrg("delcatalog"), "sb", "prod")
			cc := populateCatalog(t, s, envs[0])
			populateCatalog(t, s, envs[1])
			return mutation{func() error { return s.DeleteEnvironment(ctx, o.ID, envs[0].ID) }, nil,
				append(cc.changes(), change{store.ChangeEnv, envs[0].ID})}
		}},
		{"delete-org-with-drafts-and-catalogs", func(t *testing.T) mutation {
			o, envs := mustCreateOrg(t, s, newOrg("delapim"), "sb")
			api := mustCreateDocument(t, s, "api", newDocument(o, "weather", "1.0.0"))
			product := mustCreateDocument(t, s, "product", newDocument(o, "climbon", "1.0.0"))
			cc := populateCatalog(t, s, envs[0])
			return mutation{func() error { return s.DeleteOrg(ctx, o.ID, nil) }, nil, append(cc.changes(),
				change{store.ChangeOrg, o.ID}, change{store.ChangeEnv, envs[0].ID},
				change{store.ChangeAPI, api.ID}, change{store.ChangeProduct, product.ID})}
		}},
		{"append-events", func(t *testing.T) mutation {
			_, envs := mustCreateOrg(t, s, newOrg("events"), "sb")
			return mutation{func() error { return s.AppendEvents(ctx, []store.Event{newEvent(envs[0], 0)}) }, nil, nil}
		}},
		{"delete-events", func(t *testing.T) mutation {
			return mutation{func() error { _, err := s.DeleteEventsBefore(ctx, t0.Add(time.Hour)); return err }, nil, nil}
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

// sortedChanges is cs in the order changesSince returns changes.
func sortedChanges(cs ...change) []change {
	out := slices.Clone(cs)
	slices.SortFunc(out, func(x, y change) int { return strings.Compare(x.String(), y.String()) })
	return out
}
