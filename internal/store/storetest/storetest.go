package storetest

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"gatehouse/internal/store"
)

// RunTests runs the conformance suite. newStore must return a fresh, empty
// store for each call and register its own cleanup (Close) with t; the
// cleanup may find the store already closed by a test.
func RunTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"bootstrap/creates-all-four-records", testBootstrapCreates},
		{"bootstrap/second-call-fails-and-changes-nothing", testBootstrapTwice},
		{"bootstrap/conflict-rolls-back-everything", testBootstrapRollsBack},
		{"bootstrap/concurrent-calls-one-wins", testBootstrapConcurrent},

		{"users/create-and-get", testUserCreateGet},
		{"users/duplicates-fail", testUserDuplicates},
		{"users/list-by-username-in-pages", testUserList},
		{"users/update-bumps-version", testUserUpdate},
		{"users/update-to-taken-username-fails", testUserUpdateTakenUsername},
		{"users/update-fn-error-changes-nothing", testUserUpdateFnError},
		{"users/delete-cascades-to-keys-and-policies", testUserDeleteCascades},

		{"serviceids/create-and-get", testServiceIDCreateGet},
		{"serviceids/create-with-first-key", testServiceIDFirstKey},
		{"serviceids/first-key-conflict-creates-neither", testServiceIDFirstKeyConflict},
		{"serviceids/duplicates-fail", testServiceIDDuplicates},
		{"serviceids/list-by-id-in-pages", testServiceIDList},
		{"serviceids/update-bumps-version", testServiceIDUpdate},
		{"serviceids/update-fn-error-changes-nothing", testServiceIDUpdateFnError},
		{"serviceids/delete-cascades-to-keys-and-policies", testServiceIDDeleteCascades},
		{"serviceids/delete-check-runs-in-the-transaction", testServiceIDDeleteCheck},

		{"policies/create-and-get", testPolicyCreateGet},
		{"policies/one-per-subject-and-scope", testPolicyDuplicates},
		{"policies/list-filters", testPolicyListFilters},
		{"policies/list-by-id-in-pages", testPolicyListPages},
		{"policies/delete", testPolicyDelete},

		{"apikeys/create-and-get-by-id-and-digest", testAPIKeyCreateGet},
		{"apikeys/duplicate-id-or-digest-fails", testAPIKeyDuplicates},
		{"apikeys/list-filters-by-account-and-owner", testAPIKeyListFilters},
		{"apikeys/list-sorts-and-pages", testAPIKeyListPages},
		{"apikeys/list-default-limit-is-100", testAPIKeyListDefaultLimit},
		{"apikeys/update-bumps-version-keeps-immutable-fields", testAPIKeyUpdate},
		{"apikeys/update-fn-error-changes-nothing", testAPIKeyUpdateFnError},
		{"apikeys/history-round-trips", testAPIKeyHistory},
		{"apikeys/delete-check-runs-in-the-transaction", testAPIKeyDeleteCheck},
		{"apikeys/count-and-scan-digests", testAPIKeyCountAndScan},
		{"apikeys/rotate-writes-both", testAPIKeyRotate},
		{"apikeys/rotate-fn-error-changes-nothing", testAPIKeyRotateFnError},
		{"apikeys/rotate-conflict-changes-nothing", testAPIKeyRotateConflict},
		{"apikeys/delete", testAPIKeyDelete},
		{"apikeys/activity-adds-counts-keeps-latest", testAPIKeyActivity},
		{"apikeys/times-round-trip-in-utc-microseconds", testTimesRoundTrip},

		{"signingkeys/listed-by-generation", testSigningKeyList},
		{"signingkeys/duplicate-id-or-generation-fails", testSigningKeyDuplicates},
		{"signingkeys/delete", testSigningKeyDelete},

		{"orgs/create-and-get-by-id-and-name", testOrgCreateGet},
		{"orgs/get-prefers-id-over-name", testOrgGetPrefersID},
		{"orgs/duplicate-id-or-name-in-account-fails", testOrgDuplicates},
		{"orgs/create-with-environments-is-atomic", testOrgCreateAtomic},
		{"orgs/list-by-name-in-pages", testOrgList},
		{"orgs/update-bumps-version-keeps-immutable-fields", testOrgUpdate},
		{"orgs/update-to-taken-name-fails", testOrgUpdateTakenName},
		{"orgs/update-fn-error-changes-nothing", testOrgUpdateFnError},
		{"orgs/delete-cascades-to-environments-and-org-policies", testOrgDeleteCascades},
		{"orgs/delete-check-runs-in-the-transaction", testOrgDeleteCheck},

		{"environments/create-get-list-delete", testEnvCreateGetListDelete},
		{"environments/duplicate-id-or-name-in-org-fails", testEnvDuplicates},
		{"environments/create-in-missing-org-fails", testEnvMissingOrg},

		{"documents/create-and-get-by-id-and-name-version", testDocCreateGet},
		{"documents/duplicate-id-or-name-version-in-org-fails", testDocDuplicates},
		{"documents/kinds-are-separate-namespaces", testDocKindsAreSeparate},
		{"documents/unknown-kind-fails-without-sentinel", testDocUnknownKind},
		{"documents/list-by-name-and-version-in-pages", testDocList},
		{"documents/update-bumps-rev-keeps-immutable-fields", testDocUpdate},
		{"documents/update-to-taken-name-version-fails", testDocUpdateTakenName},
		{"documents/update-fn-error-changes-nothing", testDocUpdateFnError},
		{"documents/delete-check-runs-in-the-transaction", testDocDeleteCheck},

		{"publications/put-creates-then-republishes", testPublicationPut},
		{"publications/put-failures-change-nothing", testPublicationPutFails},
		{"publications/get-by-id-and-name-version", testPublicationGet},
		{"publications/list-filters-by-account-org-env-and-states", testPublicationList},
		{"publications/update-writes-only-state", testPublicationUpdate},
		{"publications/delete", testPublicationDelete},

		{"consumerorgs/create-get-list-delete", testConsumerOrgCreateGetListDelete},
		{"consumerorgs/duplicate-id-or-name-in-catalog-fails", testConsumerOrgDuplicates},
		{"consumerorgs/create-in-missing-environment-fails", testConsumerOrgMissingEnv},
		{"consumerorgs/delete-cascades-to-apps-credentials-subscriptions", testConsumerOrgDeleteCascades},

		{"apps/create-with-first-credential", testAppCreateWithFirstCredential},
		{"apps/failed-create-creates-neither", testAppCreateFails},
		{"apps/list-filters-and-pages-by-id", testAppList},
		{"apps/delete-cascades-to-credentials-and-subscriptions", testAppDeleteCascades},

		{"credentials/create-list-oldest-first-delete", testCredentials},
		{"credentials/update-keeps-immutable-fields", testCredentialUpdate},

		{"subscriptions/create-get-list-delete-one-per-app-and-product", testSubscriptions},
		{"subscriptions/update-keeps-immutable-fields", testSubscriptionUpdate},

		{"environments/delete-cascades-to-publications-and-consumers", testEnvDeleteCascadesToCatalog},
		{"orgs/delete-cascades-to-drafts-and-catalog-contents", testOrgDeleteCascadesToAPIManager},

		{"gateway/state-is-live-publications-and-consumers-of-the-account", testGatewayState},
		{"gateway/state-is-one-snapshot-under-concurrent-writes", testGatewayStateSnapshot},

		{"events/append-numbers-across-batches", testEventsAppend},
		{"events/list-filters", testEventsFilters},
		{"events/list-pages-after-seq", testEventsPages},
		{"events/list-default-limit-is-100", testEventsDefaultLimit},
		{"events/delete-before-counts-and-deletes", testEventsDeleteBefore},
		{"events/delete-before-many", testEventsDeleteMany},
		{"events/times-and-durations-round-trip-in-microseconds", testEventsRoundTrip},
		{"events/append-and-delete-write-no-change", testEventsNoChange},

		{"audit/append-numbers-from-one-across-batches", testAuditAppend},
		{"audit/seal-sees-the-true-previous-entry", testAuditSealSeesPrevious},
		{"audit/seal-sees-the-entry-as-stored", testAuditSealedAsStored},
		{"audit/list-filters", testAuditListFilters},
		{"audit/list-pages-after-seq", testAuditListPages},
		{"audit/list-default-limit-is-100", testAuditListDefaultLimit},
		{"audit/append-writes-no-change", testAuditNoChange},

		{"meta/put-if-absent-sets-once", testMeta},

		{"errors/missing-records-not-found", testNotFound},
		{"errors/closed-store-unavailable", testClosed},

		{"import/creates-keys-apps-credentials-subscriptions", testImport},
		{"import/a-duplicate-writes-nothing", testImportDuplicateWritesNothing},

		{"changes/every-mutation-is-logged", testChangesLogged},
		{"changes/seq-increases-and-pages", testChangesPaging},
		{"changes/empty-log", testChangesEmpty},
		{"changes/prune", testChangesPrune},

		{"concurrency/updates-are-compare-and-swap", testConcurrentUpdates},
		{"concurrency/same-username-one-wins", testConcurrentUsername},
		{"concurrency/creates-all-succeed", testConcurrentCreates},
		{"concurrency/paging-while-inserting-no-duplicates", testConcurrentPaging},
		{"concurrency/audit-appends-never-fork-the-chain", testConcurrentAudit},
		{"concurrency/same-subscription-one-wins", testConcurrentSubscriptions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

// Two accounts: most records live in acct; other checks that filters and
// uniqueness are per account.
const (
	acct  = "0123456789abcdef0123456789abcdef"
	other = "fedcba9876543210fedcba9876543210"
)

// t0 has microsecond precision and is in UTC, as stored times are, so records
// built from it round-trip exactly and can be compared whole.
var t0 = time.Date(2026, 11, 25, 10, 24, 30, 123456000, time.UTC)

var errBoom = errors.New("boom from the caller's closure")

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func newUser(username string) store.User {
	id := newUUID()
	return store.User{
		ID:           "User-" + id,
		IAMID:        "iam-User-" + id,
		AccountID:    acct,
		Username:     username,
		Name:         "Name of " + username,
		Email:        username + "@example.com",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		Version:      1,
		CreatedAt:    t0,
		ModifiedAt:   t0,
	}
}

func newServiceID(name string) store.ServiceID {
	id := newUUID()
	return store.ServiceID{
		ID:          "ServiceId-" + id,
		IAMID:       "iam-ServiceId-" + id,
		AccountID:   acct,
		Name:        name,
		Description: "service id " + name,
		Version:     1,
		CreatedBy:   "iam-User-creator",
		CreatedAt:   t0,
		ModifiedAt:  t0,
	}
}

func newPolicy(subject, role, org string) store.Policy {
	return store.Policy{
		ID:        "Policy-" + newUUID(),
		AccountID: acct,
		Subject:   subject,
		Role:      role,
		Org:       org,
		CreatedBy: "iam-User-creator",
		CreatedAt: t0,
	}
}

// newAPIKey is a key of owner (an iam_id) with a digest of its own.
func newAPIKey(owner, name string) store.APIKey {
	id := "ApiKey-" + newUUID()
	digest := sha256.Sum256([]byte(id))
	return store.APIKey{
		ID:               id,
		AccountID:        acct,
		IAMID:            owner,
		Name:             name,
		Description:      "key " + name,
		Digest:           digest[:],
		Hint:             "gh_…" + id[len(id)-4:],
		Role:             "Writer",
		ActionWhenLeaked: "disable",
		CreatedBy:        owner,
		CreatedAt:        t0,
		ModifiedAt:       t0,
		Version:          1,
	}
}

func newSigningKey(generation int64) store.SigningKey {
	pub, priv := make([]byte, 91), make([]byte, 138)
	rand.Read(pub)
	rand.Read(priv)
	pub[0], priv[len(priv)-1] = 0, 0 // bytes, not strings: NULs must survive
	return store.SigningKey{
		ID:         fmt.Sprintf("kid-%d-%s", generation, newUUID()),
		Generation: generation,
		Algorithm:  "ES256",
		PublicKey:  pub,
		PrivateKey: priv,
		CreatedAt:  t0,
		ActivateAt: t0.Add(time.Duration(generation) * time.Hour),
	}
}

func newOrg(name string) store.Org {
	return store.Org{
		ID:         newUUID(),
		AccountID:  acct,
		Name:       name,
		Title:      "Org " + name,
		Version:    1,
		CreatedBy:  "iam-User-creator",
		CreatedAt:  t0,
		ModifiedAt: t0,
	}
}

// newEnv is an environment of o.
func newEnv(o store.Org, name string) store.Environment {
	return store.Environment{
		ID:         newUUID(),
		AccountID:  o.AccountID,
		OrgID:      o.ID,
		Name:       name,
		Title:      "Environment " + name,
		CreatedBy:  "iam-User-creator",
		CreatedAt:  t0,
		ModifiedAt: t0.Add(time.Second),
	}
}

func newBootstrap(accountID string) store.Bootstrap {
	u := newUser("admin")
	u.AccountID = accountID
	p := newPolicy(u.IAMID, "Administrator", "")
	p.AccountID = accountID
	k := newAPIKey(u.IAMID, "admin")
	k.AccountID = accountID
	return store.Bootstrap{
		Account: store.Account{ID: accountID, Name: "Account " + accountID[:4], CreatedAt: t0},
		User:    u,
		Policy:  p,
		APIKey:  k,
	}
}

func mustCreateUser(t *testing.T, s store.Store, u store.User) store.User {
	t.Helper()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", u.Username, err)
	}
	return u
}

func mustCreateServiceID(t *testing.T, s store.Store, v store.ServiceID) store.ServiceID {
	t.Helper()
	if err := s.CreateServiceID(t.Context(), v, nil); err != nil {
		t.Fatalf("CreateServiceID(%s): %v", v.Name, err)
	}
	return v
}

func mustCreatePolicy(t *testing.T, s store.Store, p store.Policy) store.Policy {
	t.Helper()
	if err := s.CreatePolicy(t.Context(), p); err != nil {
		t.Fatalf("CreatePolicy(%s %s %q): %v", p.Subject, p.Role, p.Org, err)
	}
	return p
}

func mustCreateAPIKey(t *testing.T, s store.Store, k store.APIKey) store.APIKey {
	t.Helper()
	if err := s.CreateAPIKey(t.Context(), k); err != nil {
		t.Fatalf("CreateAPIKey(%s): %v", k.Name, err)
	}
	return k
}

func mustCreateSigningKey(t *testing.T, s store.Store, k store.SigningKey) store.SigningKey {
	t.Helper()
	if err := s.CreateSigningKey(t.Context(), k); err != nil {
		t.Fatalf("CreateSigningKey(%d): %v", k.Generation, err)
	}
	return k
}

// mustCreateOrg creates o with an environment of each name and returns them.
func mustCreateOrg(t *testing.T, s store.Store, o store.Org, envNames ...string) (store.Org, []store.Environment) {
	t.Helper()
	envs := make([]store.Environment, len(envNames))
	for i, name := range envNames {
		envs[i] = newEnv(o, name)
	}
	if err := s.CreateOrg(t.Context(), o, envs); err != nil {
		t.Fatalf("CreateOrg(%s): %v", o.Name, err)
	}
	return o, envs
}

func mustCreateEnv(t *testing.T, s store.Store, e store.Environment) store.Environment {
	t.Helper()
	if err := s.CreateEnvironment(t.Context(), e); err != nil {
		t.Fatalf("CreateEnvironment(%s): %v", e.Name, err)
	}
	return e
}

func mustGetUser(t *testing.T, s store.Store, id string) store.User {
	t.Helper()
	u, err := s.GetUser(t.Context(), id)
	if err != nil {
		t.Fatalf("GetUser(%s): %v", id, err)
	}
	return u
}

func mustGetServiceID(t *testing.T, s store.Store, id string) store.ServiceID {
	t.Helper()
	v, err := s.GetServiceID(t.Context(), id)
	if err != nil {
		t.Fatalf("GetServiceID(%s): %v", id, err)
	}
	return v
}

func mustGetAPIKey(t *testing.T, s store.Store, id string) store.APIKey {
	t.Helper()
	k, err := s.GetAPIKey(t.Context(), id)
	if err != nil {
		t.Fatalf("GetAPIKey(%s): %v", id, err)
	}
	return k
}

func mustGetOrg(t *testing.T, s store.Store, accountID, idOrName string) store.Org {
	t.Helper()
	o, err := s.GetOrg(t.Context(), accountID, idOrName)
	if err != nil {
		t.Fatalf("GetOrg(%s): %v", idOrName, err)
	}
	return o
}

func mustGetEnv(t *testing.T, s store.Store, orgID, idOrName string) store.Environment {
	t.Helper()
	e, err := s.GetEnvironment(t.Context(), orgID, idOrName)
	if err != nil {
		t.Fatalf("GetEnvironment(%s): %v", idOrName, err)
	}
	return e
}

func mustListEnvs(t *testing.T, s store.Store, orgID string) []store.Environment {
	t.Helper()
	es, err := s.ListEnvironments(t.Context(), orgID)
	if err != nil {
		t.Fatalf("ListEnvironments(%s): %v", orgID, err)
	}
	return es
}

func mustLastChange(t *testing.T, s store.Store) int64 {
	t.Helper()
	seq, err := s.LastChange(t.Context())
	if err != nil {
		t.Fatalf("LastChange: %v", err)
	}
	return seq
}

func mustListAPIKeys(t *testing.T, s store.Store, q store.APIKeyQuery) []store.APIKey {
	t.Helper()
	ks, err := s.ListAPIKeys(t.Context(), q)
	if err != nil {
		t.Fatalf("ListAPIKeys(%+v): %v", q, err)
	}
	return ks
}

// wantErr fails unless err is (or wraps) want; want nil means no error.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) { // errors.Is(err, nil) is err == nil
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

// wantEqual fails unless got and want are deeply equal.
func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// wantNoChange fails when the change log moved past seq.
func wantNoChange(t *testing.T, s store.Store, seq int64) {
	t.Helper()
	if got := mustLastChange(t, s); got != seq {
		t.Fatalf("LastChange = %d, want %d: a failed or activity-only call wrote to the change log", got, seq)
	}
}

// idsOf lists the ids (or Seqs) of records, for comparing listings.
func idsOf[T, K any](records []T, id func(T) K) []K {
	out := make([]K, len(records))
	for i, r := range records {
		out[i] = id(r)
	}
	return out
}

func userID(u store.User) string           { return u.ID }
func serviceIDID(v store.ServiceID) string { return v.ID }
func policyID(p store.Policy) string       { return p.ID }
func apiKeyID(k store.APIKey) string       { return k.ID }
func orgID(o store.Org) string             { return o.ID }
func envID(e store.Environment) string     { return e.ID }
func auditSeq(e store.AuditEntry) int64    { return e.Seq }

// walkPages calls list with p.After set to the cursor of the last record of
// the previous page until a page is shorter than limit, and returns every
// record in the order received. It fails on a page longer than limit and on
// a walk that does not end.
func walkPages[T any](t *testing.T, limit int, list func(p store.Page) ([]T, error), cursor func(T) string) []T {
	t.Helper()
	var all []T
	p := store.Page{Limit: limit}
	for range 1000 {
		page, err := list(p)
		if err != nil {
			t.Fatalf("list page after %q: %v", p.After, err)
		}
		if len(page) > limit {
			t.Fatalf("page after %q has %d records, limit %d", p.After, len(page), limit)
		}
		all = append(all, page...)
		if len(page) < limit {
			return all
		}
		p.After = cursor(page[len(page)-1])
	}
	t.Fatalf("pagination did not end after 1000 pages")
	return nil
}
