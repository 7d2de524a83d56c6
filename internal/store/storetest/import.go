package storetest

import (
	"slices"
	"strings"
	"testing"

	"gatehouse/internal/store"
)

func testImport(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	c := mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers"))
	var b store.Import
	for i := range 3 {
		b.APIKeys = append(b.APIKeys, newAPIKey("iam-User-a", "bulk"+string(rune('a'+i))))
		a, cred := newApp(c, "app"+string(rune('a'+i)))
		b.Apps = append(b.Apps, a)
		b.Credentials = append(b.Credentials, cred)
		b.Subscriptions = append(b.Subscriptions, newSubscription(a, "weather", "1.0.0"))
	}
	seq := mustLastChange(t, s)
	wantErr(t, "Import", s.Import(ctx, b), nil)

	var want []change
	for i := range b.APIKeys {
		k := b.APIKeys[i]
		wantEqual(t, "GetAPIKey", mustGetAPIKey(t, s, k.ID), k)
		got, err := s.GetAPIKeyByDigest(ctx, k.Digest)
		wantErr(t, "GetAPIKeyByDigest", err, nil)
		wantEqual(t, "key by digest", got, k)
		wantEqual(t, "GetApp", mustGetApp(t, s, c.ID, b.Apps[i].ID), b.Apps[i])
		wantEqual(t, "GetCredential", mustGetCredential(t, s, b.Credentials[i].ClientID), b.Credentials[i])
		wantEqual(t, "GetSubscription", mustGetSubscription(t, s, b.Subscriptions[i].ID), b.Subscriptions[i])
		want = append(want, change{store.ChangeAPIKey, k.ID}, change{store.ChangeConsumer, b.Apps[i].ID},
			change{store.ChangeConsumer, b.Credentials[i].ClientID}, change{store.ChangeConsumer, b.Subscriptions[i].ID})
	}
	slices.SortFunc(want, func(x, y change) int { return strings.Compare(x.String(), y.String()) })
	wantEqual(t, "changes of the import", changesSince(t, s, seq), want)
	state, err := s.GatewayState(ctx, c.AccountID)
	wantErr(t, "GatewayState", err, nil)
	wantEqual(t, "apps in the gateway state", len(state.Apps), 3)
	wantEqual(t, "subscriptions in the gateway state", len(state.Subscriptions), 3)
}

func testImportDuplicateWritesNothing(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	c := mustCreateConsumerOrg(t, s, newConsumerOrg(envs[0], "climbers"))
	old := mustCreateAPIKey(t, s, newAPIKey("iam-User-a", "old"))
	fresh := newAPIKey("iam-User-a", "fresh")
	dup := newAPIKey("iam-User-b", "same digest")
	dup.Digest = old.Digest
	a, cred := newApp(c, "ropes")
	seq := mustLastChange(t, s)
	err := s.Import(ctx, store.Import{APIKeys: []store.APIKey{fresh, dup}, Apps: []store.App{a}, Credentials: []store.Credential{cred}})
	wantErr(t, "Import(duplicate digest)", err, store.ErrAlreadyExists)
	_, err = s.GetAPIKey(ctx, fresh.ID)
	wantErr(t, "GetAPIKey(imported before the duplicate)", err, store.ErrNotFound)
	_, err = s.GetApp(ctx, c.ID, a.ID)
	wantErr(t, "GetApp(of the failed import)", err, store.ErrNotFound)
	wantNoChange(t, s, seq)

	// A duplicate among the apps fails the keys of the same batch as well.
	b, bcred := newApp(c, "ropes") // same name in the consumer org
	mustCreateApp(t, s, c, "ropes")
	seq = mustLastChange(t, s)
	err = s.Import(ctx, store.Import{APIKeys: []store.APIKey{fresh}, Apps: []store.App{b}, Credentials: []store.Credential{bcred}})
	wantErr(t, "Import(duplicate app name)", err, store.ErrAlreadyExists)
	_, err = s.GetAPIKey(ctx, fresh.ID)
	wantErr(t, "GetAPIKey(of the failed import)", err, store.ErrNotFound)
	wantNoChange(t, s, seq)
}
