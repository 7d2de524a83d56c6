package storetest

import (
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/store"
)

// newOrgOf is newOrg in the given account.
func newOrgOf(accountID, name string) store.Org {
	o := newOrg(name)
	o.AccountID = accountID
	return o
}

// newConsumerOrg is a consumer org of the catalog e.
func newConsumerOrg(e store.Environment, name string) store.ConsumerOrg {
	return store.ConsumerOrg{
		ID:        newUUID(),
		AccountID: e.AccountID,
		OrgID:     e.OrgID,
		EnvID:     e.ID,
		Name:      name,
		Title:     "Consumer org " + name,
		CreatedBy: "iam-User-creator",
		CreatedAt: t0,
	}
}

// newApp is an app of c with its first credential.
func newApp(c store.ConsumerOrg, name string) (store.App, store.Credential) {
	a := store.App{
		ID:            newUUID(),
		AccountID:     c.AccountID,
		OrgID:         c.OrgID,
		EnvID:         c.EnvID,
		ConsumerOrgID: c.ID,
		Name:          name,
		Description:   "app " + name,
		CreatedBy:     "iam-User-creator",
		CreatedAt:     t0,
	}
	return a, newCredential(a)
}

// newCredential is a credential of a with a client id of its own.
func newCredential(a store.App) store.Credential {
	clientID := strings.ReplaceAll(newUUID(), "-", "")
	digest := sha256.Sum256([]byte("secret of " + clientID))
	return store.Credential{
		ClientID:     clientID,
		AppID:        a.ID,
		EnvID:        a.EnvID,
		SecretDigest: digest[:],
		SecretHint:   clientID[len(clientID)-4:],
		CreatedAt:    t0,
		ModifiedAt:   t0,
	}
}

// newSubscription is a subscription of a to the product name:version.
func newSubscription(a store.App, name, version string) store.Subscription {
	return store.Subscription{
		ID:             newUUID(),
		AccountID:      a.AccountID,
		OrgID:          a.OrgID,
		EnvID:          a.EnvID,
		AppID:          a.ID,
		ConsumerOrgID:  a.ConsumerOrgID,
		ProductName:    name,
		ProductVersion: version,
		Plan:           "default",
		Approved:       true,
		State:          "active",
		CreatedBy:      "iam-User-creator",
		CreatedAt:      t0,
	}
}

func consumerOrgID(c store.ConsumerOrg) string { return c.ID }
func appID(a store.App) string                 { return a.ID }
func clientID(c store.Credential) string       { return c.ClientID }
func subID(v store.Subscription) string        { return v.ID }

func mustCreateConsumerOrg(t *testing.T, s store.Store, c store.ConsumerOrg) store.ConsumerOrg {
	t.Helper()
	if err := s.CreateConsumerOrg(t.Context(), c); err != nil {
		t.Fatalf("CreateConsumerOrg(%s): %v", c.Name, err)
	}
	return c
}

// mustCreateApp creates an app of c with its first credential.
func mustCreateApp(t *testing.T, s store.Store, c store.ConsumerOrg, name string) (store.App, store.Credential) {
	t.Helper()
	a, first := newApp(c, name)
	if err := s.CreateApp(t.Context(), a, first); err != nil {
		t.Fatalf("CreateApp(%s): %v", a.Name, err)
	}
	return a, first
}

func mustCreateCredential(t *testing.T, s store.Store, c store.Credential) store.Credential {
	t.Helper()
	if err := s.CreateCredential(t.Context(), c); err != nil {
		t.Fatalf("CreateCredential(%s): %v", c.ClientID, err)
	}
	return c
}

func mustCreateSubscription(t *testing.T, s store.Store, v store.Subscription) store.Subscription {
	t.Helper()
	if err := s.CreateSubscription(t.Context(), v); err != nil {
		t.Fatalf("CreateSubscription(%s:%s): %v", v.ProductName, v.ProductVersion, err)
	}
	return v
}

func mustGetConsumerOrg(t *testing.T, s store.Store, envID, ref string) store.ConsumerOrg {
	t.Helper()
	c, err := s.GetConsumerOrg(t.Context(), envID, ref)
	if err != nil {
		t.Fatalf("GetConsumerOrg(%s): %v", ref, err)
	}
	return c
}

func mustGetApp(t *testing.T, s store.Store, consumerOrgID, ref string) store.App {
	t.Helper()
	a, err := s.GetApp(t.Context(), consumerOrgID, ref)
	if err != nil {
		t.Fatalf("GetApp(%s): %v", ref, err)
	}
	return a
}

func mustGetCredential(t *testing.T, s store.Store, clientID string) store.Credential {
	t.Helper()
	c, err := s.GetCredential(t.Context(), clientID)
	if err != nil {
		t.Fatalf("GetCredential(%s): %v", clientID, err)
	}
	return c
}

func mustGetSubscription(t *testing.T, s store.Store, id string) store.Subscription {
	t.Helper()
	v, err := s.GetSubscription(t.Context(), id)
	if err != nil {
		t.Fatalf("GetSubscription(%s): %v", id, err)
	}
	return v
}

func mustListApps(t *testing.T, s store.Store, q store.ConsumerQuery) []store.App {
	t.Helper()
	as, err := s.ListApps(t.Context(), q)
	if err != nil {
		t.Fatalf("ListApps(%+v): %v", q, err)
	}
	return as
}

func mustListCredentials(t *testing.T, s store.Store, appID string) []store.Credential {
	t.Helper()
	cs, err := s.ListCredentials(t.Context(), appID)
	if err != nil {
		t.Fatalf("ListCredentials(%s): %v", appID, err)
	}
	return cs
}

func mustListSubscriptions(t *testing.T, s store.Store, q store.ConsumerQuery) []store.Subscription {
	t.Helper()
	vs, err := s.ListSubscriptions(t.Context(), q)
	if err != nil {
		t.Fatalf("ListSubscriptions(%+v): %v", q, err)
	}
	return vs
}

// sortedBy returns a copy of records sorted by key, for comparing listings
// whose order the contract leaves open.
func sortedBy[T any](records []T, key func(T) string) []T {
	out := slices.Clone(records)
	slices.SortFunc(out, func(x, y T) int { return cmp.Compare(key(x), key(y)) })
	return out
}

func testConsumerOrgCreateGetListDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	sb, prod := envs[0], envs[1]
	byName := map[string]store.ConsumerOrg{}
	for _, name := range []string{"gamma", "beta", "Alpha", "delta"} {
		byName[name] = mustCreateConsumerOrg(t, s, newConsumerOrg(sb, name))
	}
	prodBeta := mustCreateConsumerOrg(t, s, newConsumerOrg(prod, "beta")) // names are unique per catalog

	beta := byName["beta"]
	for _, ref := range []string{beta.ID, beta.Name} {
		wantEqual(t, "GetConsumerOrg("+ref+")", mustGetConsumerOrg(t, s, sb.ID, ref), beta)
	}
	wantEqual(t, "GetConsumerOrg(beta) in prod", mustGetConsumerOrg(t, s, prod.ID, "beta"), prodBeta)
	for _, ref := range []string{beta.ID, "gamma", "Beta", "no-such-corg"} {
		_, err := s.GetConsumerOrg(ctx, prod.ID, ref)
		wantErr(t, "GetConsumerOrg("+ref+") in prod", err, store.ErrNotFound)
	}

	want := []string{byName["Alpha"].ID, beta.ID, byName["delta"].ID, byName["gamma"].ID}
	all, err := s.ListConsumerOrgs(ctx, sb.ID, store.Page{})
	wantErr(t, "ListConsumerOrgs", err, nil)
	wantEqual(t, "consumer orgs in one page", idsOf(all, consumerOrgID), want)
	wantEqual(t, "first listed consumer org", all[0], byName["Alpha"])
	for _, limit := range []int{1, 3, 4} {
		got := walkPages(t, limit, func(p store.Page) ([]store.ConsumerOrg, error) { return s.ListConsumerOrgs(ctx, sb.ID, p) },
			func(c store.ConsumerOrg) string { return c.Name })
		wantEqual(t, fmt.Sprintf("consumer orgs in pages of %d", limit), idsOf(got, consumerOrgID), want)
	}

	gamma := byName["gamma"]
	wantErr(t, "DeleteConsumerOrg by name", s.DeleteConsumerOrg(ctx, gamma.Name), store.ErrNotFound) // ids only
	wantErr(t, "DeleteConsumerOrg", s.DeleteConsumerOrg(ctx, gamma.ID), nil)
	_, err = s.GetConsumerOrg(ctx, sb.ID, gamma.ID)
	wantErr(t, "GetConsumerOrg(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteConsumerOrg again", s.DeleteConsumerOrg(ctx, gamma.ID), store.ErrNotFound)
	all, err = s.ListConsumerOrgs(ctx, sb.ID, store.Page{})
	wantErr(t, "ListConsumerOrgs", err, nil)
	wantEqual(t, "consumer orgs after the delete", idsOf(all, consumerOrgID), want[:3])
	mustCreateConsumerOrg(t, s, newConsumerOrg(sb, "gamma")) // the name is free again
}

func testConsumerOrgDuplicates(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	sb, prod := envs[0], envs[1]
	c := mustCreateConsumerOrg(t, s, newConsumerOrg(sb, "climbers"))
	seq := mustLastChange(t, s)
	sameID := newConsumerOrg(prod, "other")
	sameID.ID = c.ID
	wantErr(t, "CreateConsumerOrg(same id)", s.CreateConsumerOrg(ctx, sameID), store.ErrAlreadyExists)
	wantErr(t, "CreateConsumerOrg(same name)", s.CreateConsumerOrg(ctx, newConsumerOrg(sb, "climbers")), store.ErrAlreadyExists)
	wantNoChange(t, s, seq)
	cs, err := s.ListConsumerOrgs(ctx, sb.ID, store.Page{})
	wantErr(t, "ListConsumerOrgs", err, nil)
	wantEqual(t, "consumer orgs after the failed creates", cs, []store.ConsumerOrg{c})
	cs, err = s.ListConsumerOrgs(ctx, prod.ID, store.Page{})
	wantErr(t, "ListConsumerOrgs(prod)", err, nil)
	wantEqual(t, "consumer orgs of prod", len(cs), 0)
}

func testConsumerOrgMissingEnv(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, envs := mustCreateOrg(t, s, newOrg("acme"), "sb", "gone")
	bolt, _ := mustCreateOrg(t, s, newOrg("bolt"))
	wantErr(t, "DeleteEnvironment", s.DeleteEnvironment(ctx, o.ID, envs[1].ID), nil)
	seq := mustLastChange(t, s)

	// The environment must exist with the consumer org's org and account.
	wrongOrg := newConsumerOrg(envs[0], "wrong-org")
	wrongOrg.OrgID = bolt.ID
	wrongAccount := newConsumerOrg(envs[0], "wrong-account")
	wrongAccount.AccountID = other
	for name, c := range map[string]store.ConsumerOrg{
		"missing":       newConsumerOrg(store.Environment{ID: "no-such-env", AccountID: acct, OrgID: o.ID}, "missing"),
		"deleted":       newConsumerOrg(envs[1], "deleted"),
		"other-org":     wrongOrg,
		"other-account": wrongAccount,
	} {
		wantErr(t, "CreateConsumerOrg in a "+name+" environment", s.CreateConsumerOrg(ctx, c), store.ErrNotFound)
		_, err := s.GetConsumerOrg(ctx, c.EnvID, c.ID)
		wantErr(t, "GetConsumerOrg after CreateConsumerOrg in a "+name+" environment", err, store.ErrNotFound)
	}
	wantNoChange(t, s, seq)
}

func testAppCreateWithFirstCredential(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	c := mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers"))
	d := mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "divers"))
	a, cred := mustCreateApp(t, s, c, "ropes")

	for _, ref := range []string{a.ID, a.Name} {
		wantEqual(t, "GetApp("+ref+")", mustGetApp(t, s, c.ID, ref), a)
		_, err := s.GetApp(ctx, d.ID, ref)
		wantErr(t, "GetApp("+ref+") in another consumer org", err, store.ErrNotFound)
	}
	wantEqual(t, "GetCredential", mustGetCredential(t, s, cred.ClientID), cred)
	wantEqual(t, "credentials of the app", mustListCredentials(t, s, a.ID), []store.Credential{cred})

	// An app of the same name in another consumer org is another app.
	b, _ := mustCreateApp(t, s, d, "ropes")
	wantEqual(t, "GetApp(ropes) in the other consumer org", mustGetApp(t, s, d.ID, "ropes"), b)
}

func testAppCreateFails(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, envs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	sb, prod := envs[0], envs[1]
	c := mustCreateConsumerOrg(t, s, newConsumerOrg(sb, "climbers"))
	a, cred := mustCreateApp(t, s, c, "ropes")
	seq := mustLastChange(t, s)

	for _, tc := range []struct {
		name  string
		build func() (store.App, store.Credential)
		want  error // nil: any error
	}{
		{"same-id", func() (store.App, store.Credential) {
			b, _ := newApp(c, "other")
			b.ID = a.ID
			return b, newCredential(b)
		}, store.ErrAlreadyExists},
		{"same-name", func() (store.App, store.Credential) { return newApp(c, "ropes") }, store.ErrAlreadyExists},
		{"client-id-taken", func() (store.App, store.Credential) {
			b, first := newApp(c, "other")
			first.ClientID = cred.ClientID
			return b, first
		}, store.ErrAlreadyExists},
		{"missing-consumer-org", func() (store.App, store.Credential) {
			return newApp(store.ConsumerOrg{ID: "no-such-corg", AccountID: acct, OrgID: o.ID, EnvID: sb.ID}, "other")
		}, store.ErrNotFound},
		{"consumer-org-in-another-environment", func() (store.App, store.Credential) {
			b, _ := newApp(c, "other")
			b.EnvID = prod.ID
			return b, newCredential(b)
		}, store.ErrNotFound},
		{"consumer-org-of-another-account", func() (store.App, store.Credential) {
			b, _ := newApp(c, "other")
			b.AccountID = other
			return b, newCredential(b)
		}, store.ErrNotFound},
		// A first credential that is not the new app's is the caller's
		// mistake, refused whole.
		{"credential-of-another-app", func() (store.App, store.Credential) {
			b, _ := newApp(c, "other")
			return b, newCredential(a)
		}, nil},
		{"credential-in-another-environment", func() (store.App, store.Credential) {
			b, first := newApp(c, "other")
			first.EnvID = prod.ID
			return b, first
		}, nil},
	} {
		b, first := tc.build()
		err := s.CreateApp(ctx, b, first)
		if tc.want == nil && err == nil {
			t.Fatalf("CreateApp %s succeeded", tc.name)
		}
		if tc.want != nil {
			wantErr(t, "CreateApp "+tc.name, err, tc.want)
		}
		if first.ClientID != cred.ClientID {
			_, err = s.GetCredential(ctx, first.ClientID)
			wantErr(t, "GetCredential after CreateApp "+tc.name, err, store.ErrNotFound)
		}
	}
	wantNoChange(t, s, seq)
	wantEqual(t, "apps after the failed creates", mustListApps(t, s, store.ConsumerQuery{}), []store.App{a})
	wantEqual(t, "credentials after the failed creates", mustListCredentials(t, s, a.ID), []store.Credential{cred})

	// Nothing of the failed attempts is left to clash with.
	mustCreateApp(t, s, c, "other")
}

func testAppList(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	sb, prod := envs[0], envs[1]
	c := mustCreateConsumerOrg(t, s, newConsumerOrg(sb, "climbers"))
	d := mustCreateConsumerOrg(t, s, newConsumerOrg(sb, "divers"))
	e := mustCreateConsumerOrg(t, s, newConsumerOrg(prod, "climbers"))
	var ofC, ofD, ofE []store.App
	for i := range 5 {
		a, _ := mustCreateApp(t, s, c, fmt.Sprint("c-", i))
		ofC = append(ofC, a)
	}
	for i := range 3 {
		a, _ := mustCreateApp(t, s, d, fmt.Sprint("d-", i))
		ofD = append(ofD, a)
	}
	for i := range 2 {
		a, _ := mustCreateApp(t, s, e, fmt.Sprint("e-", i))
		ofE = append(ofE, a)
	}
	inSB := sortedBy(slices.Concat(ofC, ofD), appID)

	for _, tc := range []struct {
		name string
		q    store.ConsumerQuery
		want []store.App
	}{
		{"env", store.ConsumerQuery{EnvID: sb.ID}, inSB},
		{"other-env", store.ConsumerQuery{EnvID: prod.ID}, sortedBy(ofE, appID)},
		{"consumer-org", store.ConsumerQuery{ConsumerOrgID: d.ID}, sortedBy(ofD, appID)},
		{"env-and-consumer-org", store.ConsumerQuery{EnvID: sb.ID, ConsumerOrgID: c.ID}, sortedBy(ofC, appID)},
		{"consumer-org-of-another-env", store.ConsumerQuery{EnvID: prod.ID, ConsumerOrgID: c.ID}, nil},
		{"app", store.ConsumerQuery{AppID: ofD[1].ID}, []store.App{ofD[1]}},
		{"app-of-another-consumer-org", store.ConsumerQuery{ConsumerOrgID: c.ID, AppID: ofD[1].ID}, nil},
		{"no-filter", store.ConsumerQuery{}, sortedBy(slices.Concat(ofC, ofD, ofE), appID)},
		{"limit", store.ConsumerQuery{EnvID: sb.ID, Page: store.Page{Limit: 3}}, inSB[:3]},
		{"after", store.ConsumerQuery{EnvID: sb.ID, Page: store.Page{After: inSB[5].ID}}, inSB[6:]},
		{"unknown-env", store.ConsumerQuery{EnvID: "no-such-env"}, nil},
	} {
		got := mustListApps(t, s, tc.q)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		wantEqual(t, "apps listed by "+tc.name, got, tc.want)
	}
	for _, limit := range []int{1, 2, 8} {
		got := walkPages(t, limit, func(p store.Page) ([]store.App, error) {
			return s.ListApps(ctx, store.ConsumerQuery{EnvID: sb.ID, Page: p})
		}, appID)
		wantEqual(t, fmt.Sprintf("apps of sb in pages of %d", limit), got, inSB)
	}
}

func testAppDeleteCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	c := mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers"))
	a, first := mustCreateApp(t, s, c, "ropes")
	second := mustCreateCredential(t, s, newCredential(a))
	subs := []store.Subscription{
		mustCreateSubscription(t, s, newSubscription(a, "climbon", "1.0.0")),
		mustCreateSubscription(t, s, newSubscription(a, "routes", "1.0.0")),
	}
	sibling, siblingCred := mustCreateApp(t, s, c, "harness")
	siblingSub := mustCreateSubscription(t, s, newSubscription(sibling, "climbon", "1.0.0"))

	seq := mustLastChange(t, s)
	wantErr(t, "DeleteApp by name", s.DeleteApp(ctx, a.Name), store.ErrNotFound) // ids only
	wantErr(t, "DeleteApp", s.DeleteApp(ctx, a.ID), nil)
	wantEqual(t, "changes of DeleteApp", changesSince(t, s, seq), sortedChanges(
		change{store.ChangeConsumer, a.ID}, change{store.ChangeConsumer, first.ClientID},
		change{store.ChangeConsumer, second.ClientID}, change{store.ChangeConsumer, subs[0].ID},
		change{store.ChangeConsumer, subs[1].ID}))

	_, err := s.GetApp(ctx, c.ID, a.ID)
	wantErr(t, "GetApp(deleted)", err, store.ErrNotFound)
	for _, cred := range []store.Credential{first, second} {
		_, err := s.GetCredential(ctx, cred.ClientID)
		wantErr(t, "GetCredential(of the deleted app)", err, store.ErrNotFound)
	}
	for _, v := range subs {
		_, err := s.GetSubscription(ctx, v.ID)
		wantErr(t, "GetSubscription(of the deleted app)", err, store.ErrNotFound)
	}
	wantEqual(t, "credentials of the deleted app", len(mustListCredentials(t, s, a.ID)), 0)
	wantEqual(t, "subscriptions of the deleted app", len(mustListSubscriptions(t, s, store.ConsumerQuery{AppID: a.ID})), 0)
	wantErr(t, "DeleteApp again", s.DeleteApp(ctx, a.ID), store.ErrNotFound)

	wantEqual(t, "the sibling app", mustGetApp(t, s, c.ID, sibling.ID), sibling)
	wantEqual(t, "the sibling's credentials", mustListCredentials(t, s, sibling.ID), []store.Credential{siblingCred})
	wantEqual(t, "the sibling's subscriptions", mustListSubscriptions(t, s, store.ConsumerQuery{AppID: sibling.ID}),
		[]store.Subscription{siblingSub})
	wantEqual(t, "the consumer org", mustGetConsumerOrg(t, s, c.EnvID, c.ID), c)
	mustCreateApp(t, s, c, "ropes") // the name is free again
}

func testCredentials(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	c := mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers"))
	a, first := mustCreateApp(t, s, c, "ropes")
	b, bFirst := mustCreateApp(t, s, c, "harness")

	// Oldest first, whatever the order of creation; ties by client id.
	older := newCredential(a)
	older.CreatedAt = t0.Add(-time.Hour)
	newer := newCredential(a)
	newer.CreatedAt, newer.ModifiedAt = t0.Add(time.Hour), t0.Add(time.Hour)
	tieA, tieB := newCredential(a), newCredential(a)
	for _, cred := range []store.Credential{newer, tieA, older, tieB} {
		mustCreateCredential(t, s, cred)
	}
	ties := sortedBy([]store.Credential{first, tieA, tieB}, clientID)
	wantEqual(t, "credentials of the app", mustListCredentials(t, s, a.ID), slices.Concat([]store.Credential{older}, ties, []store.Credential{newer}))
	wantEqual(t, "credentials of the other app", mustListCredentials(t, s, b.ID), []store.Credential{bFirst})
	wantEqual(t, "GetCredential", mustGetCredential(t, s, newer.ClientID), newer)

	seq := mustLastChange(t, s)
	taken := newCredential(b)
	taken.ClientID = first.ClientID
	wrongEnv := newCredential(a)
	wrongEnv.EnvID = envs[1].ID
	for _, tc := range []struct {
		name string
		cred store.Credential
		want error
	}{
		{"client-id-taken", taken, store.ErrAlreadyExists},
		{"missing-app", newCredential(store.App{ID: "no-such-app", EnvID: envs[0].ID}), store.ErrNotFound},
		{"app-in-another-environment", wrongEnv, store.ErrNotFound},
	} {
		wantErr(t, "CreateCredential "+tc.name, s.CreateCredential(ctx, tc.cred), tc.want)
	}
	wantNoChange(t, s, seq)
	wantEqual(t, "credentials of the other app after the failed creates", mustListCredentials(t, s, b.ID), []store.Credential{bFirst})
	_, err := s.GetCredential(ctx, wrongEnv.ClientID)
	wantErr(t, "GetCredential(refused)", err, store.ErrNotFound)

	wantErr(t, "DeleteCredential", s.DeleteCredential(ctx, older.ClientID), nil)
	_, err = s.GetCredential(ctx, older.ClientID)
	wantErr(t, "GetCredential(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteCredential again", s.DeleteCredential(ctx, older.ClientID), store.ErrNotFound)
	wantEqual(t, "credentials after the delete", mustListCredentials(t, s, a.ID), append(ties, newer))
	wantEqual(t, "the app", mustGetApp(t, s, c.ID, a.ID), a)
}

func testCredentialUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	c := mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers"))
	_, cred := mustCreateApp(t, s, c, "ropes")
	digest := sha256.Sum256([]byte("a new secret"))
	got, err := s.UpdateCredential(ctx, cred.ClientID, func(v *store.Credential) error {
		if !reflect.DeepEqual(*v, cred) {
			return fmt.Errorf("fn got %+v, want the stored credential %+v", *v, cred)
		}
		v.SecretDigest, v.SecretHint, v.ModifiedAt = digest[:], "cret", t0.Add(time.Hour)
		// Ignored: the store keeps these.
		v.ClientID, v.AppID, v.EnvID, v.CreatedAt = "changed", "app-x", "env-x", t0.Add(time.Hour)
		return nil
	})
	wantErr(t, "UpdateCredential", err, nil)
	want := cred
	want.SecretDigest, want.SecretHint, want.ModifiedAt = digest[:], "cret", t0.Add(time.Hour)
	wantEqual(t, "returned credential", got, want)
	wantEqual(t, "stored credential", mustGetCredential(t, s, cred.ClientID), want)

	seq := mustLastChange(t, s)
	_, err = s.UpdateCredential(ctx, cred.ClientID, func(v *store.Credential) error {
		v.SecretHint = "oops"
		return errBoom
	})
	if err != errBoom {
		t.Fatalf("UpdateCredential with failing fn: got %v, want fn's own error", err)
	}
	wantEqual(t, "credential after the failed update", mustGetCredential(t, s, cred.ClientID), want)
	wantNoChange(t, s, seq)
}

func testSubscriptions(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	sb, prod := envs[0], envs[1]
	c := mustCreateConsumerOrg(t, s, newConsumerOrg(sb, "climbers"))
	d := mustCreateConsumerOrg(t, s, newConsumerOrg(sb, "divers"))
	e := mustCreateConsumerOrg(t, s, newConsumerOrg(prod, "climbers"))
	a, _ := mustCreateApp(t, s, c, "ropes")
	b, _ := mustCreateApp(t, s, d, "fins")
	p, _ := mustCreateApp(t, s, e, "ropes")

	pending := newSubscription(a, "climbon", "1.0.0")
	pending.Plan, pending.Approved, pending.State = "gold", false, "pending"
	aClimbon := mustCreateSubscription(t, s, pending)
	aClimbon2 := mustCreateSubscription(t, s, newSubscription(a, "climbon", "2.0.0")) // another version
	aRoutes := mustCreateSubscription(t, s, newSubscription(a, "routes", "1.0.0"))
	bClimbon := mustCreateSubscription(t, s, newSubscription(b, "climbon", "1.0.0")) // another app
	pClimbon := mustCreateSubscription(t, s, newSubscription(p, "climbon", "1.0.0"))
	wantEqual(t, "GetSubscription", mustGetSubscription(t, s, aClimbon.ID), aClimbon)

	seq := mustLastChange(t, s)
	sameID := newSubscription(b, "weather", "1.0.0")
	sameID.ID = aRoutes.ID
	otherPlan := newSubscription(a, "climbon", "1.0.0")
	otherPlan.Plan = "silver"
	wrongCorg := newSubscription(a, "weather", "1.0.0")
	wrongCorg.ConsumerOrgID = d.ID
	wrongEnv := newSubscription(a, "weather", "1.0.0")
	wrongEnv.EnvID = prod.ID
	for _, tc := range []struct {
		name string
		sub  store.Subscription
		want error
	}{
		{"same-id", sameID, store.ErrAlreadyExists},
		{"same-app-and-product-other-plan", otherPlan, store.ErrAlreadyExists},
		{"missing-app", newSubscription(store.App{ID: "no-such-app", AccountID: acct, OrgID: sb.OrgID, EnvID: sb.ID, ConsumerOrgID: c.ID}, "climbon", "1.0.0"), store.ErrNotFound},
		{"app-of-another-consumer-org", wrongCorg, store.ErrNotFound},
		{"app-in-another-environment", wrongEnv, store.ErrNotFound},
	} {
		wantErr(t, "CreateSubscription "+tc.name, s.CreateSubscription(ctx, tc.sub), tc.want)
		if tc.sub.ID != aRoutes.ID {
			_, err := s.GetSubscription(ctx, tc.sub.ID)
			wantErr(t, "GetSubscription after CreateSubscription "+tc.name, err, store.ErrNotFound)
		}
	}
	wantNoChange(t, s, seq)

	inSB := sortedBy([]store.Subscription{aClimbon, aClimbon2, aRoutes, bClimbon}, subID)
	for _, tc := range []struct {
		name string
		q    store.ConsumerQuery
		want []store.Subscription
	}{
		{"env", store.ConsumerQuery{EnvID: sb.ID}, inSB},
		{"other-env", store.ConsumerQuery{EnvID: prod.ID}, []store.Subscription{pClimbon}},
		{"app", store.ConsumerQuery{AppID: a.ID}, sortedBy([]store.Subscription{aClimbon, aClimbon2, aRoutes}, subID)},
		{"consumer-org", store.ConsumerQuery{ConsumerOrgID: d.ID}, []store.Subscription{bClimbon}},
		{"env-and-app", store.ConsumerQuery{EnvID: sb.ID, AppID: b.ID}, []store.Subscription{bClimbon}},
		{"app-of-another-env", store.ConsumerQuery{EnvID: sb.ID, AppID: p.ID}, nil},
		{"no-filter", store.ConsumerQuery{}, sortedBy(append(slices.Clone(inSB), pClimbon), subID)},
		{"limit", store.ConsumerQuery{EnvID: sb.ID, Page: store.Page{Limit: 2}}, inSB[:2]},
		{"after", store.ConsumerQuery{EnvID: sb.ID, Page: store.Page{After: inSB[1].ID}}, inSB[2:]},
	} {
		got := mustListSubscriptions(t, s, tc.q)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		wantEqual(t, "subscriptions listed by "+tc.name, got, tc.want)
	}

	wantErr(t, "DeleteSubscription", s.DeleteSubscription(ctx, aRoutes.ID), nil)
	_, err := s.GetSubscription(ctx, aRoutes.ID)
	wantErr(t, "GetSubscription(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteSubscription again", s.DeleteSubscription(ctx, aRoutes.ID), store.ErrNotFound)
	mustCreateSubscription(t, s, newSubscription(a, "routes", "1.0.0")) // the product is free again
}

func testSubscriptionUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	c := mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers"))
	a, _ := mustCreateApp(t, s, c, "ropes")
	v := newSubscription(a, "climbon", "1.0.0")
	v.Plan, v.Approved, v.State = "gold", false, "pending"
	v = mustCreateSubscription(t, s, v)

	got, err := s.UpdateSubscription(ctx, v.ID, func(w *store.Subscription) error {
		if !reflect.DeepEqual(*w, v) {
			return fmt.Errorf("fn got %+v, want the stored subscription %+v", *w, v)
		}
		w.Plan, w.Approved, w.State, w.ApprovedBy, w.ApprovedAt = "silver", true, "active", "iam-User-manager", t0.Add(time.Hour)
		// Ignored: the store keeps what the subscription is of and for.
		w.ID, w.AppID, w.EnvID, w.ProductName, w.ProductVersion, w.CreatedAt = "x", "x", "x", "x", "x", t0.Add(time.Hour)
		w.AccountID, w.OrgID, w.ConsumerOrgID, w.CreatedBy = other, "x", "x", "x"
		return nil
	})
	wantErr(t, "UpdateSubscription", err, nil)
	want := v
	want.Plan, want.Approved, want.State, want.ApprovedBy, want.ApprovedAt = "silver", true, "active", "iam-User-manager", t0.Add(time.Hour)
	wantEqual(t, "returned subscription", got, want)
	wantEqual(t, "stored subscription", mustGetSubscription(t, s, v.ID), want)

	seq := mustLastChange(t, s)
	_, err = s.UpdateSubscription(ctx, v.ID, func(w *store.Subscription) error {
		w.State = "pending"
		return errBoom
	})
	if err != errBoom {
		t.Fatalf("UpdateSubscription with failing fn: got %v, want fn's own error", err)
	}
	wantEqual(t, "subscription after the failed update", mustGetSubscription(t, s, v.ID), want)
	wantNoChange(t, s, seq)
}

// catalogContents is what populateCatalog puts in a catalog.
type catalogContents struct {
	envID string
	pubs  []store.Publication
	corgs []store.ConsumerOrg
	apps  []store.App
	creds []store.Credential
	subs  []store.Subscription
}

// populateCatalog gives e a live, a deprecated and a retired publication,
// two consumer orgs with three apps between them, each app with credentials
// and subscriptions.
func populateCatalog(t *testing.T, s store.Store, e store.Environment) catalogContents {
	t.Helper()
	cc := catalogContents{envID: e.ID}
	for i, state := range []string{"published", "deprecated", "retired"} {
		p := newPublication(e, "climbon", fmt.Sprintf("%d.0.0", i+1))
		p.State = state
		cc.pubs = append(cc.pubs, mustPublish(t, s, p))
	}
	for _, name := range []string{"climbers", "divers"} {
		cc.corgs = append(cc.corgs, mustCreateConsumerOrg(t, s, newConsumerOrg(e, name)))
	}
	for i, c := range []store.ConsumerOrg{cc.corgs[0], cc.corgs[0], cc.corgs[1]} {
		a, first := mustCreateApp(t, s, c, fmt.Sprint("app-", i))
		cc.apps = append(cc.apps, a)
		cc.creds = append(cc.creds, first)
		if i == 0 {
			cc.creds = append(cc.creds, mustCreateCredential(t, s, newCredential(a)))
			cc.subs = append(cc.subs, mustCreateSubscription(t, s, newSubscription(a, "climbon", "2.0.0")))
		}
		cc.subs = append(cc.subs, mustCreateSubscription(t, s, newSubscription(a, "climbon", "1.0.0")))
	}
	return cc
}

// changes are the change-log entries of deleting everything in cc.
func (cc catalogContents) changes() []change {
	var cs []change
	for _, p := range cc.pubs {
		cs = append(cs, change{store.ChangePublish, p.ID})
	}
	for _, c := range cc.corgs {
		cs = append(cs, change{store.ChangeConsumer, c.ID})
	}
	for _, a := range cc.apps {
		cs = append(cs, change{store.ChangeConsumer, a.ID})
	}
	for _, c := range cc.creds {
		cs = append(cs, change{store.ChangeConsumer, c.ClientID})
	}
	for _, v := range cc.subs {
		cs = append(cs, change{store.ChangeConsumer, v.ID})
	}
	return cs
}

// wantGone fails unless every record of cc is gone.
func (cc catalogContents) wantGone(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	for _, p := range cc.pubs {
		_, err := s.GetPublication(ctx, p.EnvID, p.ID)
		wantErr(t, "GetPublication(deleted with its catalog)", err, store.ErrNotFound)
	}
	for _, c := range cc.corgs {
		_, err := s.GetConsumerOrg(ctx, c.EnvID, c.ID)
		wantErr(t, "GetConsumerOrg(deleted with its parent)", err, store.ErrNotFound)
	}
	for _, a := range cc.apps {
		_, err := s.GetApp(ctx, a.ConsumerOrgID, a.ID)
		wantErr(t, "GetApp(deleted with its parent)", err, store.ErrNotFound)
	}
	for _, c := range cc.creds {
		_, err := s.GetCredential(ctx, c.ClientID)
		wantErr(t, "GetCredential(deleted with its parent)", err, store.ErrNotFound)
	}
	for _, v := range cc.subs {
		_, err := s.GetSubscription(ctx, v.ID)
		wantErr(t, "GetSubscription(deleted with its parent)", err, store.ErrNotFound)
	}
	if cc.envID != "" {
		wantEqual(t, "publications of the deleted catalog", len(mustListPublications(t, s, store.PublicationQuery{EnvID: cc.envID})), 0)
		wantEqual(t, "apps of the deleted catalog", len(mustListApps(t, s, store.ConsumerQuery{EnvID: cc.envID})), 0)
		wantEqual(t, "subscriptions of the deleted catalog", len(mustListSubscriptions(t, s, store.ConsumerQuery{EnvID: cc.envID})), 0)
	}
}

// wantKept fails unless every record of cc is as created.
func (cc catalogContents) wantKept(t *testing.T, s store.Store) {
	t.Helper()
	for _, p := range cc.pubs {
		wantEqual(t, "kept publication", mustGetPublication(t, s, p.EnvID, p.ID), p)
	}
	for _, c := range cc.corgs {
		wantEqual(t, "kept consumer org", mustGetConsumerOrg(t, s, c.EnvID, c.ID), c)
	}
	for _, a := range cc.apps {
		wantEqual(t, "kept app", mustGetApp(t, s, a.ConsumerOrgID, a.ID), a)
	}
	for _, c := range cc.creds {
		wantEqual(t, "kept credential", mustGetCredential(t, s, c.ClientID), c)
	}
	for _, v := range cc.subs {
		wantEqual(t, "kept subscription", mustGetSubscription(t, s, v.ID), v)
	}
}

func testConsumerOrgDeleteCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	cc := populateCatalog(t, s, envs[0])
	// climbers (the first consumer org) has the first two apps, with the
	// first three credentials and subscriptions.
	gone := catalogContents{corgs: cc.corgs[:1], apps: cc.apps[:2], creds: cc.creds[:3], subs: cc.subs[:3]}
	kept := catalogContents{pubs: cc.pubs, corgs: cc.corgs[1:], apps: cc.apps[2:], creds: cc.creds[3:], subs: cc.subs[3:]}

	seq := mustLastChange(t, s)
	wantErr(t, "DeleteConsumerOrg", s.DeleteConsumerOrg(ctx, cc.corgs[0].ID), nil)
	wantEqual(t, "changes of DeleteConsumerOrg", changesSince(t, s, seq), sortedChanges(gone.changes()...))
	gone.wantGone(t, s)
	kept.wantKept(t, s)
	wantErr(t, "DeleteConsumerOrg again", s.DeleteConsumerOrg(ctx, cc.corgs[0].ID), store.ErrNotFound)
}

func testEnvDeleteCascadesToCatalog(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, envs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	api := mustCreateDocument(t, s, "api", newDocument(o, "routes", "1.0.0"))
	product := mustCreateDocument(t, s, "product", newDocument(o, "climbon", "1.0.0"))
	gone := populateCatalog(t, s, envs[0])
	kept := populateCatalog(t, s, envs[1])

	seq := mustLastChange(t, s)
	wantErr(t, "DeleteEnvironment", s.DeleteEnvironment(ctx, o.ID, envs[0].ID), nil)
	wantEqual(t, "changes of DeleteEnvironment", changesSince(t, s, seq),
		sortedChanges(append(gone.changes(), change{store.ChangeEnv, envs[0].ID})...))
	gone.wantGone(t, s)
	kept.wantKept(t, s)
	wantEqual(t, "the org's api", mustGetDocument(t, s, "api", o.ID, api.ID), api)
	wantEqual(t, "the org's product", mustGetDocument(t, s, "product", o.ID, product.ID), product)

	// The names are free again in a new catalog of the same name.
	sb := mustCreateEnv(t, s, newEnv(o, "sb"))
	populateCatalog(t, s, sb)
}

func testOrgDeleteCascadesToAPIManager(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, envs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	survivor, survivorEnvs := mustCreateOrg(t, s, newOrg("bolt"), "sb")
	var docs []change
	for _, kind := range docKinds {
		for _, version := range []string{"1.0.0", "2.0.0"} {
			d := mustCreateDocument(t, s, kind, newDocument(o, "climbon", version))
			docs = append(docs, change{map[string]string{"api": store.ChangeAPI, "product": store.ChangeProduct}[kind], d.ID})
		}
	}
	keptAPI := mustCreateDocument(t, s, "api", newDocument(survivor, "climbon", "1.0.0"))
	keptProduct := mustCreateDocument(t, s, "product", newDocument(survivor, "climbon", "1.0.0"))
	sb, prod := populateCatalog(t, s, envs[0]), populateCatalog(t, s, envs[1])
	kept := populateCatalog(t, s, survivorEnvs[0])

	seq := mustLastChange(t, s)
	wantErr(t, "DeleteOrg", s.DeleteOrg(ctx, o.ID, nil), nil)
	want := slices.Concat(docs, sb.changes(), prod.changes(),
		[]change{{store.ChangeOrg, o.ID}, {store.ChangeEnv, envs[0].ID}, {store.ChangeEnv, envs[1].ID}})
	wantEqual(t, "changes of DeleteOrg", changesSince(t, s, seq), sortedChanges(want...))
	for _, kind := range docKinds {
		wantEqual(t, kind+" drafts of the deleted org", len(mustListDocuments(t, s, kind, o.ID)), 0)
	}
	sb.wantGone(t, s)
	prod.wantGone(t, s)
	kept.wantKept(t, s)
	wantEqual(t, "the other org's api", mustGetDocument(t, s, "api", survivor.ID, keptAPI.ID), keptAPI)
	wantEqual(t, "the other org's product", mustGetDocument(t, s, "product", survivor.ID, keptProduct.ID), keptProduct)
}

func testGatewayState(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme, acmeEnvs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	bolt, boltEnvs := mustCreateOrg(t, s, newOrg("bolt"), "sb")
	strangerOrg, strangerEnvs := mustCreateOrg(t, s, newOrgOf(other, "acme"), "sb")
	mustCreateDocument(t, s, "product", newDocument(acme, "climbon", "1.0.0"))
	var mine []catalogContents
	for _, e := range slices.Concat(acmeEnvs, boltEnvs) {
		mine = append(mine, populateCatalog(t, s, e))
	}
	stranger := populateCatalog(t, s, strangerEnvs[0])

	want := store.GatewayState{Envs: slices.Concat(acmeEnvs, boltEnvs), Orgs: []store.Org{acme, bolt}}
	for _, cc := range mine {
		want.Publications = append(want.Publications, cc.pubs[:2]...) // published and deprecated, not retired
		want.Apps = append(want.Apps, cc.apps...)
		want.Credentials = append(want.Credentials, cc.creds...)
		want.Subscriptions = append(want.Subscriptions, cc.subs...)
	}
	check := func(what string, got, want store.GatewayState) {
		t.Helper()
		wantEqual(t, what+": environments", sortedBy(got.Envs, envID), sortedBy(want.Envs, envID))
		wantEqual(t, what+": orgs", sortedBy(got.Orgs, orgID), sortedBy(want.Orgs, orgID))
		wantEqual(t, what+": publications", sortedBy(got.Publications, pubID), sortedBy(want.Publications, pubID))
		wantEqual(t, what+": apps", sortedBy(got.Apps, appID), sortedBy(want.Apps, appID))
		wantEqual(t, what+": credentials", sortedBy(got.Credentials, clientID), sortedBy(want.Credentials, clientID))
		wantEqual(t, what+": subscriptions", sortedBy(got.Subscriptions, subID), sortedBy(want.Subscriptions, subID))
	}
	got, err := s.GatewayState(ctx, acct)
	wantErr(t, "GatewayState", err, nil)
	check("state of the account", got, want)

	// The other account sees only its own.
	got, err = s.GatewayState(ctx, other)
	wantErr(t, "GatewayState(other)", err, nil)
	check("state of the other account", got, store.GatewayState{
		Envs:          strangerEnvs,
		Orgs:          []store.Org{strangerOrg},
		Publications:  stranger.pubs[:2],
		Apps:          stranger.apps,
		Credentials:   stranger.creds,
		Subscriptions: stranger.subs,
	})

	// Retiring takes a publication out, deprecating keeps it.
	live := mine[0].pubs[0]
	_, err = s.UpdatePublication(ctx, live.ID, func(p *store.Publication) error { p.State = "retired"; return nil })
	wantErr(t, "UpdatePublication(retire)", err, nil)
	got, err = s.GatewayState(ctx, acct)
	wantErr(t, "GatewayState after a retirement", err, nil)
	want.Publications = slices.DeleteFunc(want.Publications, func(p store.Publication) bool { return p.ID == live.ID })
	check("state after a retirement", got, want)

	got, err = s.GatewayState(ctx, "0000000000000000000000000000000a")
	wantErr(t, "GatewayState(unknown account)", err, nil)
	if len(got.Envs)+len(got.Orgs)+len(got.Publications)+len(got.Apps)+len(got.Credentials)+len(got.Subscriptions) != 0 {
		t.Fatalf("GatewayState of an unknown account = %+v, want it empty", got)
	}
}

// testGatewayStateSnapshot: the gateway builds its routing table from one
// GatewayState, so the parts must agree. A writer keeps creating apps (each
// with its first credential, atomically), adding credentials and
// subscriptions and deleting apps with theirs, while readers check in every
// state they get that each credential and subscription has its app and each
// app has a credential. A backend that read the parts separately would
// sooner or later return a credential without its app or an app without
// its credentials.
func testGatewayStateSnapshot(t *testing.T, s store.Store) {
	const rounds, readers = 100, 2
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	c := mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers"))

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		var apps []store.App
		for i := range rounds {
			a, first := newApp(c, fmt.Sprint("app-", i))
			if err := s.CreateApp(ctx, a, first); err != nil {
				t.Errorf("CreateApp: %v", err)
				return
			}
			apps = append(apps, a)
			if err := s.CreateCredential(ctx, newCredential(a)); err != nil {
				t.Errorf("CreateCredential: %v", err)
				return
			}
			if err := s.CreateSubscription(ctx, newSubscription(a, "climbon", "1.0.0")); err != nil {
				t.Errorf("CreateSubscription: %v", err)
				return
			}
			if i%3 == 2 {
				if err := s.DeleteApp(ctx, apps[i-1].ID); err != nil {
					t.Errorf("DeleteApp: %v", err)
					return
				}
			}
		}
	})
	reads := make([]int, readers)
	for r := range readers {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				st, err := s.GatewayState(ctx, acct)
				if err != nil {
					t.Errorf("GatewayState: %v", err)
					return
				}
				reads[r]++
				if err := consistent(st); err != nil {
					t.Errorf("GatewayState read %d of reader %d: %v", reads[r], r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	st, err := s.GatewayState(ctx, acct)
	wantErr(t, "GatewayState", err, nil)
	wantEqual(t, "apps in the final state", len(st.Apps), rounds-rounds/3)
	wantEqual(t, "credentials in the final state", len(st.Credentials), 2*(rounds-rounds/3))
	wantErr(t, "final state", consistent(st), nil)
}

// consistent reports a credential or subscription whose app is not in st, or
// an app of st without a credential.
func consistent(st store.GatewayState) error {
	apps := map[string]int{}
	for _, a := range st.Apps {
		apps[a.ID] = 0
	}
	for _, c := range st.Credentials {
		n, ok := apps[c.AppID]
		if !ok {
			return fmt.Errorf("credential %s of app %s, which is not in the state", c.ClientID, c.AppID)
		}
		apps[c.AppID] = n + 1
	}
	for _, v := range st.Subscriptions {
		if _, ok := apps[v.AppID]; !ok {
			return fmt.Errorf("subscription %s of app %s, which is not in the state", v.ID, v.AppID)
		}
	}
	for id, n := range apps {
		if n == 0 {
			return errors.New("app " + id + " has no credential in the state")
		}
	}
	return nil
}

func testConcurrentSubscriptions(t *testing.T, s store.Store) {
	const n = 32
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	c := mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers"))
	a, _ := mustCreateApp(t, s, c, "ropes")
	subs := make([]store.Subscription, n)
	errs := make([]error, n)
	for i := range subs {
		subs[i] = newSubscription(a, "climbon", "1.0.0")
		subs[i].Plan = fmt.Sprint("plan-", i)
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.CreateSubscription(t.Context(), subs[i]) })
	}
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("two subscriptions of one app to climbon:1.0.0 created (calls %d and %d)", winner, i)
		case err == nil:
			winner = i
		default:
			wantErr(t, "losing CreateSubscription", err, store.ErrAlreadyExists)
		}
	}
	if winner < 0 {
		t.Fatal("no CreateSubscription succeeded")
	}
	wantEqual(t, "subscriptions of the app", mustListSubscriptions(t, s, store.ConsumerQuery{AppID: a.ID}),
		[]store.Subscription{subs[winner]})
}
