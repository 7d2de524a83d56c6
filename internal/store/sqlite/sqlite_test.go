package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/store"
	"gatehouse/internal/store/sqlite"
	"gatehouse/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "gatehouse.db"), sqlite.Options{})
	})
}

// Several processes may open one SQLite file (serve and init at once): the
// cross-node subtests hold for it too.
func TestShared(t *testing.T) {
	storetest.RunSharedTests(t, func(t *testing.T, n int) []store.Store {
		path := filepath.Join(t.TempDir(), "shared.db")
		out := make([]store.Store, n)
		for i := range out {
			out[i] = open(t, path, sqlite.Options{})
		}
		return out
	})
}

// open opens path and closes it when the test ends.
func open(t *testing.T, path string, opts sqlite.Options) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, opts)
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

// inspect opens path with a plain connection of the driver, to look at what
// the store wrote without going through it.
func inspect(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{Now: fixedClock(time.Unix(1000, 0))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutMetaIfAbsent(ctx, "cluster-id", "c1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path, sqlite.Options{Now: fixedClock(time.Unix(2000, 0))})
	if v, err := s.GetMeta(ctx, "cluster-id"); err != nil || v != "c1" {
		t.Fatalf("GetMeta after reopen = %q, %v; want c1", v, err)
	}
	// Each migration is recorded once, when the file was created.
	rows, err := inspect(t, path).QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var version string
		var at int64
		if err := rows.Scan(&version, &at); err != nil {
			t.Fatal(err)
		}
		if at != 1000*1e6 {
			t.Errorf("migration %s applied at %d, want %d (the first Open)", version, at, int64(1000*1e6))
		}
		n++
	}
	if err := rows.Err(); err != nil || n == 0 {
		t.Fatalf("schema_migrations has %d rows (%v), want at least one", n, err)
	}
}

func TestFileIsPrivateAndInWALMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s := open(t, path, sqlite.Options{})
	if err := s.PutMetaIfAbsent(t.Context(), "k", "v"); err != nil { // so the WAL exists
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(p), mode)
		}
	}
	var mode string
	if err := inspect(t, path).QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode = %q, want wal", mode)
	}
}

func TestChangeTimesUseTheInjectedClock(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2030, 1, 2, 3, 4, 5, 678901234, time.UTC)
	s := open(t, filepath.Join(t.TempDir(), "gatehouse.db"), sqlite.Options{Now: func() time.Time { return now }})
	if err := s.CreateSigningKey(ctx, store.SigningKey{ID: "k1", Generation: 1, Algorithm: "ES256"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	if err := s.CreateSigningKey(ctx, store.SigningKey{ID: "k2", Generation: 2, Algorithm: "ES256"}); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Changes(ctx, 0, 10)
	if err != nil || len(cs) != 2 {
		t.Fatalf("Changes = %+v, %v; want two", cs, err)
	}
	if want := now.Add(-time.Hour).Truncate(time.Microsecond); cs[0].Time != want {
		t.Fatalf("first change at %v, want %v", cs[0].Time, want)
	}
	// Pruning before the second change's time removes only the first.
	if err := s.PruneChanges(ctx, now.Truncate(time.Microsecond)); err != nil {
		t.Fatal(err)
	}
	if cs, err := s.Changes(ctx, 0, 10); err != nil || len(cs) != 1 || cs[0].Key != "k2" {
		t.Fatalf("Changes after prune = %+v, %v; want only k2's", cs, err)
	}
}

// TestConcurrentWritersAndReaders is the "no database is locked" guarantee:
// many goroutines writing at once while others read get no error at all.
func TestConcurrentWritersAndReaders(t *testing.T) {
	const writers, perWriter, readers = 64, 3, 8
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "gatehouse.db"), sqlite.Options{})
	owner := "iam-ServiceId-load"

	stop := make(chan struct{})
	var rg sync.WaitGroup
	for range readers {
		rg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.ListAPIKeys(ctx, store.APIKeyQuery{AccountID: "acct", IAMID: owner, Limit: 20}); err != nil {
					t.Errorf("ListAPIKeys: %v", err)
					return
				}
				if _, err := s.LastChange(ctx); err != nil {
					t.Errorf("LastChange: %v", err)
					return
				}
			}
		})
	}

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				id := fmt.Sprintf("ApiKey-%d-%d", w, i)
				k := store.APIKey{ID: id, AccountID: "acct", IAMID: owner, Name: id, Digest: []byte(id), CreatedAt: time.Now()}
				if err := s.CreateAPIKey(ctx, k); err != nil {
					t.Errorf("CreateAPIKey: %v", err)
					return
				}
				if _, err := s.UpdateAPIKey(ctx, id, func(k *store.APIKey) error { k.Description = "updated"; return nil }); err != nil {
					t.Errorf("UpdateAPIKey: %v", err)
					return
				}
				if err := s.RecordAPIKeyActivity(ctx, []store.APIKeyActivity{{ID: id, Count: 1, Last: time.Now()}}); err != nil {
					t.Errorf("RecordAPIKeyActivity: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	rg.Wait()

	ks, err := s.ListAPIKeys(ctx, store.APIKeyQuery{AccountID: "acct", Limit: 1000})
	if err != nil || len(ks) != writers*perWriter {
		t.Fatalf("ListAPIKeys = %d keys, %v; want %d", len(ks), err, writers*perWriter)
	}
}

// TestAuditLogIsAppendOnly: the schema itself refuses to change or remove an
// audit entry, so a stray statement cannot quietly break the chain.
func TestAuditLogIsAppendOnly(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s := open(t, path, sqlite.Options{})
	e := store.AuditEntry{AccountID: "acct", Time: time.Now(), Action: "user.create", Outcome: "success"}
	if err := s.AppendAudit(ctx, []store.AuditEntry{e}, func(_ store.AuditEntry, e *store.AuditEntry) { e.Hash = "h1" }); err != nil {
		t.Fatal(err)
	}
	db := inspect(t, path)
	for _, q := range []string{`UPDATE audit_log SET message = 'edited' WHERE seq = 1`, `DELETE FROM audit_log WHERE seq = 1`} {
		if _, err := db.ExecContext(ctx, q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
	es, err := s.ListAudit(ctx, store.AuditQuery{})
	if err != nil || len(es) != 1 || es[0].Message != "" || es[0].Hash != "h1" {
		t.Fatalf("ListAudit = %+v, %v; want the entry as appended", es, err)
	}
}

func TestOpenRefusesMemory(t *testing.T) {
	if _, err := sqlite.Open(context.Background(), ":memory:", sqlite.Options{}); err == nil {
		t.Fatal("Open(:memory:) succeeded; readers and the writer would see different databases")
	}
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// A flush of more keys than one activity statement holds, with repeated and
// unknown ids, adds every count once and keeps each key's latest time.
func TestActivityOfManyKeys(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "gatehouse.db"), sqlite.Options{})
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	const n = 1203
	var keys []store.APIKey
	for i := range n {
		keys = append(keys, store.APIKey{ID: fmt.Sprintf("ApiKey-%04d", i), AccountID: "acct", IAMID: "iam-a",
			Name: "k", Digest: []byte(fmt.Sprintf("digest-%04d", i)), CreatedAt: t0, ModifiedAt: t0, Version: 1})
	}
	if err := s.Import(ctx, store.Import{APIKeys: keys}); err != nil {
		t.Fatal(err)
	}
	var batch []store.APIKeyActivity
	for i := n - 1; i >= 0; i-- { // not in id order
		batch = append(batch, store.APIKeyActivity{ID: keys[i].ID, Count: int64(i + 1), Last: t0.Add(time.Duration(i) * time.Second)})
		if i%100 == 0 { // a second, older entry of the same key in the same batch
			batch = append(batch, store.APIKeyActivity{ID: keys[i].ID, Count: 1000, Last: t0})
		}
	}
	batch = append(batch, store.APIKeyActivity{ID: "ApiKey-unknown", Count: 7, Last: t0})
	for range 2 {
		if err := s.RecordAPIKeyActivity(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range keys {
		got, err := s.GetAPIKey(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := int64(2 * (i + 1))
		if i%100 == 0 {
			want += 2000
		}
		if last := t0.Add(time.Duration(i) * time.Second); got.AuthnCount != want || !got.LastAuthn.Equal(last) || got.Version != 1 {
			t.Fatalf("key %d: count %d, last %v, version %d; want %d, %v, 1", i, got.AuthnCount, got.LastAuthn, got.Version, want, last)
		}
	}
}

// Activity counted before migration 0005 stays in api_keys; what is counted
// after goes to api_key_activity; reads add the two, and a deleted key's row
// goes with it.
func TestAPIKeyActivityAcrossMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s := open(t, path, sqlite.Options{})
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	keys := []store.APIKey{
		{ID: "ApiKey-old", AccountID: "acct", IAMID: "iam-a", Name: "a", Digest: []byte("d-old"), CreatedAt: t0, ModifiedAt: t0, Version: 1},
		{ID: "ApiKey-new", AccountID: "acct", IAMID: "iam-a", Name: "b", Digest: []byte("d-new"), CreatedAt: t0, ModifiedAt: t0, Version: 1},
	}
	if err := s.Import(ctx, store.Import{APIKeys: keys}); err != nil {
		t.Fatal(err)
	}
	// What a store migrated from 0004 holds: counts in the api_keys row.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := t0.Add(time.Hour)
	if _, err := db.ExecContext(ctx, `UPDATE api_keys SET authn_count = 3, last_authn = ? WHERE id = 'ApiKey-old'`, before.UnixMicro()); err != nil {
		t.Fatal(err)
	}
	after := t0.Add(2 * time.Hour)
	if err := s.RecordAPIKeyActivity(ctx, []store.APIKeyActivity{{ID: "ApiKey-old", Count: 2, Last: after}, {ID: "ApiKey-new", Count: 1, Last: before}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		n    int64
		last time.Time
	}{"ApiKey-old": {5, after}, "ApiKey-new": {1, before}}
	check := func(where string, k store.APIKey) {
		t.Helper()
		if w := want[k.ID]; k.AuthnCount != w.n || !k.LastAuthn.Equal(w.last) {
			t.Errorf("%s %s: %d, %v; want %d, %v", where, k.ID, k.AuthnCount, k.LastAuthn, w.n, w.last)
		}
	}
	for id := range want {
		k, err := s.GetAPIKey(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		check("get", k)
	}
	list, err := s.ListAPIKeys(ctx, store.APIKeyQuery{AccountID: "acct"})
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %d keys, %v", len(list), err)
	}
	for _, k := range list {
		check("list", k)
	}
	if err := s.DeleteAPIKey(ctx, "ApiKey-old", nil); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM api_key_activity WHERE key_id = 'ApiKey-old'`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("activity rows of the deleted key: %d, %v; want 0", rows, err)
	}
}
