package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/store"
	"gatehouse/internal/store/postgres"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/testenv"
)

// migrated gives each test a database in the state Open leaves a new one
// in: migrated, every table empty but schema_migrations. Making each anew
// (CREATE DATABASE, then the migrations) would cost more than the tests
// themselves, so databases are emptied after a test and reused.
var migrated = testenv.NewPostgresTemplate(func(ctx context.Context, url string) error {
	s, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		return err
	}
	return s.Close()
}).ReuseEmptied("schema_migrations")

func TestMain(m *testing.M) {
	code := m.Run()
	migrated.Drop()
	os.Exit(code)
}

func TestConformance(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) store.Store {
		return open(t, migrated.URL(t), postgres.Options{})
	})
}

func TestShared(t *testing.T) {
	storetest.RunSharedTests(t, func(t *testing.T, n int) []store.Store {
		url := migrated.URL(t)
		nodes := make([]store.Store, n)
		for i := range nodes {
			nodes[i] = open(t, url, postgres.Options{})
		}
		return nodes
	})
}

// open opens url and closes the store when the test ends.
func open(t *testing.T, url string, opts postgres.Options) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// inspect connects to url directly, to look at what the store wrote
// without going through it.
func inspect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestMigrationsRunOnceWhenNodesStartTogether: several nodes opening an empty
// database at the same moment migrate it exactly once (a second run of a
// migration would fail on its CREATE TABLEs) and all come up working.
func TestMigrationsRunOnceWhenNodesStartTogether(t *testing.T) {
	url := testenv.PostgresURL(t)
	const nodes = 3
	stores := make([]*postgres.Store, nodes)
	errs := make([]error, nodes)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range nodes {
		at := time.Unix(int64(1000*(i+1)), 0)
		wg.Go(func() {
			<-start
			stores[i], errs[i] = postgres.Open(t.Context(), url, postgres.Options{Now: func() time.Time { return at }})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open on node %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	for i, s := range stores {
		if err := s.PutMetaIfAbsent(t.Context(), fmt.Sprint("node-", i), "up"); err != nil {
			t.Fatalf("PutMetaIfAbsent on node %d: %v", i, err)
		}
	}

	rows, err := inspect(t, url).Query(t.Context(), `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
		Version   string
		AppliedAt int64
	}])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0001_init", "0002_orgs_audit", "0003_apim", "0004_audit_exchange_indexes"}
	if len(versions) != len(want) {
		t.Fatalf("schema_migrations = %+v, want one row for each of %v", versions, want)
	}
	for i, v := range versions {
		if v.Version != want[i] {
			t.Fatalf("migration %d is %q, want %q", i, v.Version, want[i])
		}
		// All by one node: the one that got the lock first ran them all.
		if v.AppliedAt != versions[0].AppliedAt {
			t.Errorf("migration %s applied at %d, the first at %d: two nodes migrated", v.Version, v.AppliedAt, versions[0].AppliedAt)
		}
	}

	// A node started later finds nothing to do.
	open(t, url, postgres.Options{Now: func() time.Time { return time.Unix(9999, 0) }})
	var n int
	if err := inspect(t, url).QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations WHERE applied_at = 9999000000`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a later Open recorded %d migrations (%v), want none", n, err)
	}
}

// TestChangeTimesUseTheInjectedClock, as the SQLite backend's.
func TestChangeTimesUseTheInjectedClock(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2030, 1, 2, 3, 4, 5, 678901234, time.UTC)
	s := open(t, migrated.URL(t), postgres.Options{Now: func() time.Time { return now }})
	if err := s.CreateSigningKey(ctx, store.SigningKey{ID: "k1", Generation: 1, Algorithm: "ES256"}); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Changes(ctx, 0, 10)
	if err != nil || len(cs) != 1 {
		t.Fatalf("Changes = %+v, %v; want one", cs, err)
	}
	if want := now.Truncate(time.Microsecond); cs[0].Time != want {
		t.Fatalf("change at %v, want %v", cs[0].Time, want)
	}
}

// TestAuditLogIsAppendOnly: the schema itself refuses to change or remove an
// audit entry.
func TestAuditLogIsAppendOnly(t *testing.T) {
	ctx := t.Context()
	url := migrated.URL(t)
	s := open(t, url, postgres.Options{})
	e := store.AuditEntry{AccountID: "acct", Time: time.Now(), Action: "user.create", Outcome: "success"}
	if err := s.AppendAudit(ctx, []store.AuditEntry{e}, func(_ store.AuditEntry, e *store.AuditEntry) { e.Hash = "h1" }); err != nil {
		t.Fatal(err)
	}
	conn := inspect(t, url)
	for _, q := range []string{`UPDATE audit_log SET message = 'edited' WHERE seq = 1`, `DELETE FROM audit_log WHERE seq = 1`, `TRUNCATE audit_log`} {
		if _, err := conn.Exec(ctx, q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
	es, err := s.ListAudit(ctx, store.AuditQuery{})
	if err != nil || len(es) != 1 || es[0].Hash != "h1" {
		t.Fatalf("ListAudit = %+v, %v; want the entry as appended", es, err)
	}
}

// TestOrderIsByteOrderWhateverTheDatabaseCollation: in a database whose
// default collation sorts "a" < "A" < "b" (ICU's en-US), names still sort
// and page in byte order, as the SQLite backend has them.
func TestOrderIsByteOrderWhateverTheDatabaseCollation(t *testing.T) {
	ctx := t.Context()
	url := testenv.PostgresURLWithOptions(t, `TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'`)
	s := open(t, url, postgres.Options{})
	for _, name := range []string{"b", "a", "B", "_x", "A", "ä"} {
		if err := s.CreateUser(ctx, store.User{ID: "User-" + name, IAMID: "iam-User-" + name, AccountID: "acct", Username: name}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"A", "B", "_x", "a", "b", "ä"}
	var got []string
	for p := (store.Page{Limit: 1}); ; {
		us, err := s.ListUsers(ctx, "acct", p)
		if err != nil {
			t.Fatal(err)
		}
		if len(us) == 0 || len(got) > len(want) {
			break
		}
		got = append(got, us[0].Username)
		p.After = us[0].Username
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("usernames listed page by page %q, want %q", got, want)
	}
}

func TestOpenUnreachableServerIsUnavailable(t *testing.T) {
	port := testenv.FreePort(t) // nothing listens there
	url := fmt.Sprintf("postgres://gatehouse@127.0.0.1:%d/gatehouse?sslmode=disable", port)
	start := time.Now()
	_, err := postgres.Open(t.Context(), url, postgres.Options{})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open = %v, want store.ErrUnavailable", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Open took %v to fail", d)
	}
}

// unavailableWithin bounds how long a call may take to report a server that
// is down. Connection attempts time out after 3 seconds; a refused one
// fails at once.
const unavailableWithin = 8 * time.Second

// TestServerDownAndBack stops a private server under two nodes: every method
// then fails fast with store.ErrUnavailable; once the server is back, the
// listener reconnects (and says so through Changed), writes work again, and
// a change on one node wakes the other again.
func TestServerDownAndBack(t *testing.T) {
	pg := testenv.StartPostgres(t)
	url := pg.NewDatabase()
	a := open(t, url, postgres.Options{})
	b := open(t, url, postgres.Options{})
	ctx := t.Context()

	changed := a.Changed()
	storetest.WaitChanged(t, changed, "the listener to connect")
	if err := b.CreateUser(ctx, store.User{ID: "User-1", IAMID: "iam-User-1", AccountID: "acct", Username: "one"}); err != nil {
		t.Fatal(err)
	}
	storetest.WaitChanged(t, changed, "a user created on the other node")
	// Use both nodes' pools, so that they hold connections the stop breaks.
	for _, s := range []*postgres.Store{a, b} {
		if _, err := s.GetUser(ctx, "User-1"); err != nil {
			t.Fatal(err)
		}
	}

	pg.Stop()
	for _, s := range []*postgres.Store{a, b} {
		for _, c := range everyMethod() {
			cctx, cancel := context.WithTimeout(ctx, 3*unavailableWithin) // a hang ends, and fails below
			start := time.Now()
			err := c.call(cctx, s)
			cancel()
			if d := time.Since(start); d > unavailableWithin {
				t.Errorf("%s with the server down took %v", c.name, d)
			}
			if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("%s with the server down: %v, want store.ErrUnavailable", c.name, err)
			}
		}
	}
	if t.Failed() {
		return
	}

	pg.Start()
	// The listener's retry: a value says it listens again.
	storetest.WaitChanged(t, changed, "the listener to reconnect after the restart")
	deadline := time.Now().Add(unavailableWithin)
	for i := 0; ; i++ {
		err := b.CreateUser(ctx, store.User{ID: fmt.Sprint("User-back-", i), IAMID: fmt.Sprint("iam-User-back-", i), AccountID: "acct", Username: fmt.Sprint("back-", i)})
		if err == nil {
			break
		}
		// A connection the pool handed out before noticing it was broken
		// may fail once; the pool discards it.
		if !errors.Is(err, store.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("CreateUser after the restart: %v", err)
		}
	}
	storetest.WaitChanged(t, changed, "a user created on the other node after the restart")
	if err := a.Ping(ctx); err != nil {
		t.Fatalf("Ping after the restart: %v", err)
	}
	us, err := a.ListUsers(ctx, "acct", store.Page{})
	if err != nil || len(us) < 2 {
		t.Fatalf("ListUsers after the restart = %d users, %v", len(us), err)
	}
}

// method is one method of store.Store called with arguments that would make
// it reach the database.
type method struct {
	name string
	call func(ctx context.Context, s store.Store) error
}

// everyMethod calls each method of store.Store but Close. TestEveryMethodIsCovered
// keeps the list complete.
func everyMethod() []method {
	const id = "x"
	now := time.Now()
	key := store.APIKey{ID: "ApiKey-x", Digest: []byte("digest")}
	org := store.Org{ID: "org", AccountID: "acct", Name: "org"}
	env := store.Environment{ID: "env", AccountID: "acct", OrgID: "org", Name: "sb"}
	corg := store.ConsumerOrg{ID: "corg", AccountID: "acct", OrgID: "org", EnvID: "env", Name: "c"}
	app := store.App{ID: "app", AccountID: "acct", OrgID: "org", EnvID: "env", ConsumerOrgID: "corg", Name: "a"}
	cred := store.Credential{ClientID: "client", AppID: "app", EnvID: "env"}
	sub := store.Subscription{ID: "sub", AppID: "app", EnvID: "env", ConsumerOrgID: "corg", AccountID: "acct", OrgID: "org"}
	doc := store.Document{ID: "doc", OrgID: "org", Name: "d", Version: "1"}
	noop := func(any) error { return nil }
	return []method{
		{"Bootstrap", func(ctx context.Context, s store.Store) error {
			return s.Bootstrap(ctx, store.Bootstrap{Account: store.Account{ID: "acct"}, APIKey: key})
		}},
		{"Ping", func(ctx context.Context, s store.Store) error { return s.Ping(ctx) }},
		{"GetAccount", func(ctx context.Context, s store.Store) error { _, err := s.GetAccount(ctx, id); return err }},
		{"ListAccounts", func(ctx context.Context, s store.Store) error { _, err := s.ListAccounts(ctx); return err }},
		{"CreateUser", func(ctx context.Context, s store.Store) error { return s.CreateUser(ctx, store.User{ID: id}) }},
		{"GetUser", func(ctx context.Context, s store.Store) error { _, err := s.GetUser(ctx, id); return err }},
		{"GetUserByUsername", func(ctx context.Context, s store.Store) error { _, err := s.GetUserByUsername(ctx, id, id); return err }},
		{"ListUsers", func(ctx context.Context, s store.Store) error {
			_, err := s.ListUsers(ctx, id, store.Page{})
			return err
		}},
		{"UpdateUser", func(ctx context.Context, s store.Store) error {
			_, err := s.UpdateUser(ctx, id, func(u *store.User) error { return noop(u) })
			return err
		}},
		{"DeleteUser", func(ctx context.Context, s store.Store) error { return s.DeleteUser(ctx, id) }},
		{"CreateServiceID", func(ctx context.Context, s store.Store) error {
			return s.CreateServiceID(ctx, store.ServiceID{ID: id}, nil)
		}},
		{"GetServiceID", func(ctx context.Context, s store.Store) error { _, err := s.GetServiceID(ctx, id); return err }},
		{"ListServiceIDs", func(ctx context.Context, s store.Store) error {
			_, err := s.ListServiceIDs(ctx, id, store.Page{})
			return err
		}},
		{"UpdateServiceID", func(ctx context.Context, s store.Store) error {
			_, err := s.UpdateServiceID(ctx, id, func(v *store.ServiceID) error { return noop(v) })
			return err
		}},
		{"DeleteServiceID", func(ctx context.Context, s store.Store) error { return s.DeleteServiceID(ctx, id, nil) }},
		{"CreatePolicy", func(ctx context.Context, s store.Store) error { return s.CreatePolicy(ctx, store.Policy{ID: id}) }},
		{"GetPolicy", func(ctx context.Context, s store.Store) error { _, err := s.GetPolicy(ctx, id); return err }},
		{"ListPolicies", func(ctx context.Context, s store.Store) error {
			_, err := s.ListPolicies(ctx, store.PolicyQuery{})
			return err
		}},
		{"DeletePolicy", func(ctx context.Context, s store.Store) error { return s.DeletePolicy(ctx, id) }},
		{"CreateAPIKey", func(ctx context.Context, s store.Store) error { return s.CreateAPIKey(ctx, key) }},
		{"GetAPIKey", func(ctx context.Context, s store.Store) error { _, err := s.GetAPIKey(ctx, id); return err }},
		{"GetAPIKeyByDigest", func(ctx context.Context, s store.Store) error {
			_, err := s.GetAPIKeyByDigest(ctx, []byte(id))
			return err
		}},
		{"ListAPIKeys", func(ctx context.Context, s store.Store) error {
			_, err := s.ListAPIKeys(ctx, store.APIKeyQuery{AccountID: id})
			return err
		}},
		{"UpdateAPIKey", func(ctx context.Context, s store.Store) error {
			_, err := s.UpdateAPIKey(ctx, id, func(k *store.APIKey) error { return noop(k) })
			return err
		}},
		{"RotateAPIKey", func(ctx context.Context, s store.Store) error {
			_, _, err := s.RotateAPIKey(ctx, id, func(*store.APIKey) (store.APIKey, error) { return key, nil })
			return err
		}},
		{"DeleteAPIKey", func(ctx context.Context, s store.Store) error { return s.DeleteAPIKey(ctx, id, nil) }},
		{"RecordAPIKeyActivity", func(ctx context.Context, s store.Store) error {
			return s.RecordAPIKeyActivity(ctx, []store.APIKeyActivity{{ID: id, Count: 1, Last: now}})
		}},
		{"CreateSigningKey", func(ctx context.Context, s store.Store) error {
			return s.CreateSigningKey(ctx, store.SigningKey{ID: id, Generation: 1})
		}},
		{"ListSigningKeys", func(ctx context.Context, s store.Store) error { _, err := s.ListSigningKeys(ctx); return err }},
		{"DeleteSigningKey", func(ctx context.Context, s store.Store) error { return s.DeleteSigningKey(ctx, id) }},
		{"CreateOrg", func(ctx context.Context, s store.Store) error { return s.CreateOrg(ctx, org, nil) }},
		{"GetOrg", func(ctx context.Context, s store.Store) error { _, err := s.GetOrg(ctx, id, id); return err }},
		{"ListOrgs", func(ctx context.Context, s store.Store) error {
			_, err := s.ListOrgs(ctx, id, store.Page{})
			return err
		}},
		{"UpdateOrg", func(ctx context.Context, s store.Store) error {
			_, err := s.UpdateOrg(ctx, id, func(o *store.Org) error { return noop(o) })
			return err
		}},
		{"DeleteOrg", func(ctx context.Context, s store.Store) error { return s.DeleteOrg(ctx, id, nil) }},
		{"CreateEnvironment", func(ctx context.Context, s store.Store) error { return s.CreateEnvironment(ctx, env) }},
		{"GetEnvironment", func(ctx context.Context, s store.Store) error { _, err := s.GetEnvironment(ctx, id, id); return err }},
		{"ListEnvironments", func(ctx context.Context, s store.Store) error { _, err := s.ListEnvironments(ctx, id); return err }},
		{"DeleteEnvironment", func(ctx context.Context, s store.Store) error { return s.DeleteEnvironment(ctx, id, id) }},
		{"AppendAudit", func(ctx context.Context, s store.Store) error {
			return s.AppendAudit(ctx, []store.AuditEntry{{Action: id, Time: now}}, nil)
		}},
		{"ListAudit", func(ctx context.Context, s store.Store) error {
			_, err := s.ListAudit(ctx, store.AuditQuery{})
			return err
		}},
		{"CreateDocument", func(ctx context.Context, s store.Store) error { return s.CreateDocument(ctx, "api", doc) }},
		{"GetDocument", func(ctx context.Context, s store.Store) error {
			_, err := s.GetDocument(ctx, "api", id, id)
			return err
		}},
		{"ListDocuments", func(ctx context.Context, s store.Store) error {
			_, err := s.ListDocuments(ctx, "product", id, store.Page{})
			return err
		}},
		{"UpdateDocument", func(ctx context.Context, s store.Store) error {
			_, err := s.UpdateDocument(ctx, "api", id, func(d *store.Document) error { return noop(d) })
			return err
		}},
		{"DeleteDocument", func(ctx context.Context, s store.Store) error { return s.DeleteDocument(ctx, "api", id, nil) }},
		{"PutPublication", func(ctx context.Context, s store.Store) error {
			_, err := s.PutPublication(ctx, id, id, id, func(*store.Publication) (store.Publication, error) {
				return store.Publication{ID: id}, nil
			})
			return err
		}},
		{"GetPublication", func(ctx context.Context, s store.Store) error { _, err := s.GetPublication(ctx, id, id); return err }},
		{"ListPublications", func(ctx context.Context, s store.Store) error {
			_, err := s.ListPublications(ctx, store.PublicationQuery{States: []string{"published"}})
			return err
		}},
		{"UpdatePublication", func(ctx context.Context, s store.Store) error {
			_, err := s.UpdatePublication(ctx, id, func(p *store.Publication) error { return noop(p) })
			return err
		}},
		{"DeletePublication", func(ctx context.Context, s store.Store) error { return s.DeletePublication(ctx, id) }},
		{"CreateConsumerOrg", func(ctx context.Context, s store.Store) error { return s.CreateConsumerOrg(ctx, corg) }},
		{"GetConsumerOrg", func(ctx context.Context, s store.Store) error { _, err := s.GetConsumerOrg(ctx, id, id); return err }},
		{"ListConsumerOrgs", func(ctx context.Context, s store.Store) error {
			_, err := s.ListConsumerOrgs(ctx, id, store.Page{})
			return err
		}},
		{"DeleteConsumerOrg", func(ctx context.Context, s store.Store) error { return s.DeleteConsumerOrg(ctx, id) }},
		{"CreateApp", func(ctx context.Context, s store.Store) error { return s.CreateApp(ctx, app, cred) }},
		{"GetApp", func(ctx context.Context, s store.Store) error { _, err := s.GetApp(ctx, id, id); return err }},
		{"ListApps", func(ctx context.Context, s store.Store) error {
			_, err := s.ListApps(ctx, store.ConsumerQuery{})
			return err
		}},
		{"DeleteApp", func(ctx context.Context, s store.Store) error { return s.DeleteApp(ctx, id) }},
		{"CreateCredential", func(ctx context.Context, s store.Store) error { return s.CreateCredential(ctx, cred) }},
		{"GetCredential", func(ctx context.Context, s store.Store) error { _, err := s.GetCredential(ctx, id); return err }},
		{"ListCredentials", func(ctx context.Context, s store.Store) error { _, err := s.ListCredentials(ctx, id); return err }},
		{"UpdateCredential", func(ctx context.Context, s store.Store) error {
			_, err := s.UpdateCredential(ctx, id, func(c *store.Credential) error { return noop(c) })
			return err
		}},
		{"DeleteCredential", func(ctx context.Context, s store.Store) error { return s.DeleteCredential(ctx, id) }},
		{"CreateSubscription", func(ctx context.Context, s store.Store) error { return s.CreateSubscription(ctx, sub) }},
		{"GetSubscription", func(ctx context.Context, s store.Store) error { _, err := s.GetSubscription(ctx, id); return err }},
		{"ListSubscriptions", func(ctx context.Context, s store.Store) error {
			_, err := s.ListSubscriptions(ctx, store.ConsumerQuery{})
			return err
		}},
		{"UpdateSubscription", func(ctx context.Context, s store.Store) error {
			_, err := s.UpdateSubscription(ctx, id, func(v *store.Subscription) error { return noop(v) })
			return err
		}},
		{"DeleteSubscription", func(ctx context.Context, s store.Store) error { return s.DeleteSubscription(ctx, id) }},
		{"GatewayState", func(ctx context.Context, s store.Store) error { _, err := s.GatewayState(ctx, id); return err }},
		{"AppendEvents", func(ctx context.Context, s store.Store) error {
			return s.AppendEvents(ctx, []store.Event{{EnvID: id, Time: now}})
		}},
		{"ListEvents", func(ctx context.Context, s store.Store) error {
			_, err := s.ListEvents(ctx, store.EventQuery{})
			return err
		}},
		{"DeleteEventsBefore", func(ctx context.Context, s store.Store) error { _, err := s.DeleteEventsBefore(ctx, now); return err }},
		{"GetMeta", func(ctx context.Context, s store.Store) error { _, err := s.GetMeta(ctx, id); return err }},
		{"PutMetaIfAbsent", func(ctx context.Context, s store.Store) error { return s.PutMetaIfAbsent(ctx, id, id) }},
		{"Changes", func(ctx context.Context, s store.Store) error { _, err := s.Changes(ctx, 0, 10); return err }},
		{"LastChange", func(ctx context.Context, s store.Store) error { _, err := s.LastChange(ctx); return err }},
		{"PruneChanges", func(ctx context.Context, s store.Store) error { return s.PruneChanges(ctx, now) }},
		{"Import", func(ctx context.Context, s store.Store) error {
			return s.Import(ctx, store.Import{APIKeys: []store.APIKey{key}})
		}},
	}
}

// TestEveryMethodIsCovered keeps everyMethod in step with store.Store.
func TestEveryMethodIsCovered(t *testing.T) {
	listed := map[string]bool{}
	for _, m := range everyMethod() {
		if listed[m.name] {
			t.Errorf("%s is listed twice", m.name)
		}
		listed[m.name] = true
	}
	st := reflect.TypeFor[store.Store]()
	for i := range st.NumMethod() {
		if name := st.Method(i).Name; name != "Close" && !listed[name] {
			t.Errorf("everyMethod does not call %s", name)
		}
	}
}

// TestClosedStoreStopsListening: Close ends the listener and its connection,
// and Changed after Close starts nothing.
func TestClosedStoreStopsListening(t *testing.T) {
	url := migrated.URL(t)
	s, err := postgres.Open(t.Context(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.WaitChanged(t, s.Changed(), "the listener to connect")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = s.Changed()
	// The server notices closed connections a moment later.
	conn := inspect(t, url)
	deadline := time.Now().Add(unavailableWithin)
	for {
		var n int
		err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND pid <> pg_backend_pid()`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d other connections to the database %v after Close, want none", n, unavailableWithin)
		}
		time.Sleep(50 * time.Millisecond) // polling the server's view; nothing to synchronise on
	}
}
