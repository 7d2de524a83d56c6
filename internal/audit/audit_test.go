package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/audit"
	"gatehouse/internal/store"
	"gatehouse/internal/store/sqlite"
)

// The tests run the log against the real SQLite store, the one users have:
// durability, ordering and tampering are properties of the pair.

// clock is an injected, manually advanced clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// t0 has nanoseconds and a non-UTC zone on purpose: the log stores UTC
// microseconds, and the hash must cover exactly what is stored.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))

type env struct {
	path  string
	store *sqlite.Store
	clock *clock
	log   *audit.Log
}

// newEnv opens a fresh store in a temporary directory and starts a log on it.
// Both are closed when the test ends (closing twice is allowed).
func newEnv(t *testing.T) *env {
	t.Helper()
	clk := &clock{t: t0}
	path := filepath.Join(t.TempDir(), "a.db")
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	l := audit.New(st, clk.Now, nil)
	t.Cleanup(func() {
		l.Close()
		if err := st.Close(); err != nil {
			t.Errorf("store Close: %v", err)
		}
	})
	return &env{path: path, store: st, clock: clk, log: l}
}

func entry(i int) audit.Entry {
	return audit.Entry{
		AccountID:     "acc-1",
		ActorIAMID:    "IBMid-actor",
		ActorAPIKeyID: "ApiKey-1",
		Action:        fmt.Sprintf("test.action.%d", i),
		Target:        fmt.Sprintf("target-%d", i),
		Outcome:       audit.Success,
		RequestID:     fmt.Sprintf("req-%d", i),
		SourceIP:      "192.0.2.7",
		Message:       "detail",
	}
}

func mustRecord(t *testing.T, l *audit.Log, e audit.Entry) {
	t.Helper()
	if err := l.Record(t.Context(), e); err != nil {
		t.Fatalf("Record(%s): %v", e.Action, err)
	}
}

// fill writes n entries numbered 1..n and waits until they are durable.
func fill(t *testing.T, ev *env, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		ev.clock.Advance(time.Second)
		ev.log.Submit(entry(i))
	}
	ev.log.Close()
}

// listAll pages through the whole log.
func listAll(t *testing.T, st store.AuditStore) []store.AuditEntry {
	t.Helper()
	var all []store.AuditEntry
	for {
		var after int64
		if len(all) > 0 {
			after = all[len(all)-1].Seq
		}
		page, err := st.ListAudit(t.Context(), store.AuditQuery{AfterSeq: after, Limit: 500})
		if err != nil {
			t.Fatalf("ListAudit: %v", err)
		}
		all = append(all, page...)
		if len(page) < 500 {
			return all
		}
	}
}

func mustVerify(t *testing.T, st store.AuditStore) audit.Verification {
	t.Helper()
	v, err := audit.Verify(t.Context(), st)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return v
}

// checkChain asserts the chain's invariants entry by entry, independently of
// Verify: Seq is 1, 2, …; each PrevHash is the previous Hash; each Hash is
// what Seal computes from the entry's content and its predecessor.
func checkChain(t *testing.T, es []store.AuditEntry) {
	t.Helper()
	var prev store.AuditEntry
	for i, e := range es {
		if e.Seq != int64(i+1) {
			t.Fatalf("entry %d: Seq = %d, want %d", i, e.Seq, i+1)
		}
		if e.PrevHash != prev.Hash {
			t.Fatalf("entry %d: PrevHash = %q, want previous Hash %q", e.Seq, e.PrevHash, prev.Hash)
		}
		if e.Hash == "" {
			t.Fatalf("entry %d: empty Hash", e.Seq)
		}
		re := e
		re.PrevHash, re.Hash = "", ""
		audit.Seal(prev, &re)
		if re.Hash != e.Hash || re.PrevHash != e.PrevHash {
			t.Fatalf("entry %d: Seal recomputes (%q, %q), stored (%q, %q)", e.Seq, re.PrevHash, re.Hash, e.PrevHash, e.Hash)
		}
		prev = e
	}
}

func TestRecordReturnsOnceDurable(t *testing.T) {
	ev := newEnv(t)
	for i := 1; i <= 3; i++ {
		ev.clock.Advance(time.Millisecond)
		mustRecord(t, ev.log, entry(i))
		// No Close, no waiting: Record's return is the durability point.
		es := listAll(t, ev.store)
		if len(es) != i {
			t.Fatalf("after Record #%d ListAudit has %d entries, want %d", i, len(es), i)
		}
		got := es[i-1]
		want := entry(i)
		if got.AccountID != want.AccountID || got.ActorIAMID != want.ActorIAMID || got.ActorAPIKeyID != want.ActorAPIKeyID ||
			got.Action != want.Action || got.Target != want.Target || got.Outcome != want.Outcome ||
			got.RequestID != want.RequestID || got.SourceIP != want.SourceIP || got.Message != want.Message {
			t.Fatalf("stored entry %+v does not carry the recorded fields %+v", got, want)
		}
		wantTime := ev.clock.Now().UTC().Truncate(time.Microsecond)
		if !got.Time.Equal(wantTime) {
			t.Fatalf("entry Time = %v, want the injected clock at microsecond precision %v", got.Time, wantTime)
		}
	}
}

func TestRecordIsVisibleToAnotherConnection(t *testing.T) {
	// Committed, not merely buffered in the store's own connection.
	ev := newEnv(t)
	mustRecord(t, ev.log, entry(1))
	db := rawDB(t, ev.path)
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("another connection sees %d rows after Record, want 1", n)
	}
}

func TestSubmitIsWrittenByClose(t *testing.T) {
	ev := newEnv(t)
	const n = 300
	for i := 1; i <= n; i++ {
		ev.log.Submit(entry(i))
	}
	ev.log.Close()

	es := listAll(t, ev.store)
	if len(es) != n {
		t.Fatalf("after Close: %d entries, want %d", len(es), n)
	}
	// One submitter: submission order is chain order.
	for i, e := range es {
		if want := entry(i + 1).Action; e.Action != want {
			t.Fatalf("entry %d: Action %q, want %q", e.Seq, e.Action, want)
		}
	}
	checkChain(t, es)
}

func TestChainLinksAndVerifies(t *testing.T) {
	ev := newEnv(t)
	const n = 25
	for i := 1; i <= n; i++ {
		ev.clock.Advance(1500 * time.Nanosecond) // sub-microsecond parts are dropped before hashing
		if i%2 == 0 {
			mustRecord(t, ev.log, entry(i))
		} else {
			ev.log.Submit(entry(i))
		}
	}
	ev.log.Close()

	es := listAll(t, ev.store)
	if len(es) != n {
		t.Fatalf("%d entries, want %d", len(es), n)
	}
	checkChain(t, es)
	if es[0].PrevHash != "" {
		t.Fatalf("first entry PrevHash = %q, want empty", es[0].PrevHash)
	}
	v := mustVerify(t, ev.store)
	if !v.OK || v.Entries != n || v.Head != es[n-1].Hash || v.BrokenAt != 0 || v.Reason != "" {
		t.Fatalf("Verify = %+v, want ok with %d entries and head %q", v, n, es[n-1].Hash)
	}
}

func TestVerifyEmptyLog(t *testing.T) {
	ev := newEnv(t)
	v := mustVerify(t, ev.store)
	if !v.OK || v.Entries != 0 || v.Head != "" || v.BrokenAt != 0 {
		t.Fatalf("Verify(empty) = %+v, want ok with 0 entries", v)
	}
}

func TestConcurrentRecordAndSubmit(t *testing.T) {
	ev := newEnv(t)
	const goroutines, perG = 20, 50
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perG)
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				e := entry(g*perG + i)
				if (g+i)%2 == 0 {
					if err := ev.log.Record(context.Background(), e); err != nil {
						errs <- err
					}
				} else {
					ev.log.Submit(e)
				}
			}
		})
	}
	wg.Wait()
	ev.log.Close()
	close(errs)
	for err := range errs {
		t.Errorf("Record: %v", err)
	}

	es := listAll(t, ev.store)
	if len(es) != goroutines*perG {
		t.Fatalf("%d entries, want exactly %d", len(es), goroutines*perG)
	}
	seen := map[string]bool{}
	for _, e := range es {
		if seen[e.Action] {
			t.Fatalf("entry %q written twice", e.Action)
		}
		seen[e.Action] = true
	}
	checkChain(t, es)
	v := mustVerify(t, ev.store)
	if !v.OK || v.Entries != goroutines*perG || v.Head != es[len(es)-1].Hash {
		t.Fatalf("Verify = %+v, want ok with %d entries", v, goroutines*perG)
	}
}

func TestRecordAfterCloseFails(t *testing.T) {
	ev := newEnv(t)
	ev.log.Close()
	if err := ev.log.Record(t.Context(), entry(1)); !errors.Is(err, audit.ErrClosed) {
		t.Fatalf("Record after Close = %v, want ErrClosed", err)
	}
	ev.log.Submit(entry(2)) // dropped (and logged), never a panic
	ev.log.Close()          // a second Close returns
	if es := listAll(t, ev.store); len(es) != 0 {
		t.Fatalf("%d entries written after Close, want 0", len(es))
	}
}

func TestRecordWithCanceledContextStillWrites(t *testing.T) {
	// Record's contract: a caller that stops waiting does not unwrite the entry.
	ev := newEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := ev.log.Record(ctx, entry(1))
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Record(canceled ctx) = %v, want nil or context.Canceled", err)
	}
	ev.log.Close()
	if es := listAll(t, ev.store); len(es) != 1 {
		t.Fatalf("%d entries, want 1", len(es))
	}
}

func TestRecordWhenStoreClosedFailsPromptly(t *testing.T) {
	ev := newEnv(t)
	mustRecord(t, ev.log, entry(1))
	if err := ev.store.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	err := ev.log.Record(ctx, entry(2))
	if err == nil {
		t.Fatal("Record on a closed store returned nil, want an error")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Record on a closed store hung until the caller's deadline (%v)", time.Since(start))
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Record on a closed store = %v, want it to wrap store.ErrUnavailable", err)
	}

	done := make(chan struct{})
	go func() { ev.log.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return after the store failed")
	}
}

// --- tampering ------------------------------------------------------------

// rawDB opens the store's file with a plain connection of the same driver, as
// someone with access to the file would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// attacker opens the file and removes the append-only triggers, which someone
// with the file can do; the chain is what must catch what follows.
func attacker(t *testing.T, path string) *sql.DB {
	t.Helper()
	db := rawDB(t, path)
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return db
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	res, err := db.ExecContext(t.Context(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatalf("%s: no row changed", q)
	}
}

// insertRow writes e as a raw row, hashes as given.
func insertRow(t *testing.T, db *sql.DB, e store.AuditEntry) {
	t.Helper()
	exec(t, db, `INSERT INTO audit_log (seq, account_id, time, actor_iam_id, actor_apikey_id, action, target, outcome,
		request_id, source_ip, message, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.AccountID, e.Time.UnixMicro(), e.ActorIAMID, e.ActorAPIKeyID, e.Action, e.Target, e.Outcome,
		e.RequestID, e.SourceIP, e.Message, e.PrevHash, e.Hash)
}

func TestTheDatabaseRefusesUpdatesAndDeletes(t *testing.T) {
	ev := newEnv(t)
	fill(t, ev, 3)
	db := rawDB(t, ev.path)
	for _, q := range []string{`UPDATE audit_log SET outcome = 'denied' WHERE seq = 2`, `DELETE FROM audit_log WHERE seq = 2`} {
		if _, err := db.ExecContext(t.Context(), q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s = %v, want the append-only trigger to abort it", q, err)
		}
	}
	if v := mustVerify(t, ev.store); !v.OK || v.Entries != 3 {
		t.Fatalf("Verify = %+v, want ok with 3 entries", v)
	}
}

// snapshot writes n entries to a fresh log and returns the closed database
// file's bytes, so table cases can each tamper with their own copy without
// writing the log again (slow under -race).
func snapshot(t *testing.T, n int) []byte {
	t.Helper()
	ev := newEnv(t)
	fill(t, ev, n)
	if v := mustVerify(t, ev.store); !v.OK || v.Entries != int64(n) {
		t.Fatalf("before tampering: Verify = %+v, want ok with %d entries", v, n)
	}
	if err := ev.store.Close(); err != nil { // checkpoints the WAL into the file
		t.Fatal(err)
	}
	img, err := os.ReadFile(ev.path)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// restore writes img to a new file and opens a store on it.
func restore(t *testing.T, img []byte) (string, *sqlite.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "a.db")
	if err := os.WriteFile(path, img, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return path, st
}

func TestVerifyDetectsTampering(t *testing.T) {
	const n = 10
	tests := []struct {
		name       string
		tamper     func(t *testing.T, db *sql.DB, es []store.AuditEntry)
		brokenAt   int64
		reasonHas  string
		wantChecks int64 // entries accepted before the break
	}{
		{
			name: "fail/changed-outcome",
			tamper: func(t *testing.T, db *sql.DB, _ []store.AuditEntry) {
				exec(t, db, `UPDATE audit_log SET outcome = 'failure' WHERE seq = 4`)
			},
			brokenAt: 4, reasonHas: "altered", wantChecks: 3,
		},
		{
			name: "fail/changed-actor",
			tamper: func(t *testing.T, db *sql.DB, _ []store.AuditEntry) {
				exec(t, db, `UPDATE audit_log SET actor_iam_id = 'IBMid-someone-else' WHERE seq = 7`)
			},
			brokenAt: 7, reasonHas: "altered", wantChecks: 6,
		},
		{
			name: "fail/changed-time-by-one-microsecond",
			tamper: func(t *testing.T, db *sql.DB, _ []store.AuditEntry) {
				exec(t, db, `UPDATE audit_log SET time = time + 1 WHERE seq = 1`)
			},
			brokenAt: 1, reasonHas: "altered", wantChecks: 0,
		},
		{
			name: "fail/changed-last-entry",
			tamper: func(t *testing.T, db *sql.DB, _ []store.AuditEntry) {
				exec(t, db, `UPDATE audit_log SET message = '' WHERE seq = 10`)
			},
			brokenAt: 10, reasonHas: "altered", wantChecks: 9,
		},
		{
			name: "fail/changed-hash",
			tamper: func(t *testing.T, db *sql.DB, _ []store.AuditEntry) {
				exec(t, db, `UPDATE audit_log SET hash = ? WHERE seq = 5`, strings.Repeat("0", 64))
			},
			// entry 5 no longer matches its hash (checked before 6's link)
			brokenAt: 5, reasonHas: "altered", wantChecks: 4,
		},
		{
			name: "fail/deleted-middle-entry",
			tamper: func(t *testing.T, db *sql.DB, _ []store.AuditEntry) {
				exec(t, db, `DELETE FROM audit_log WHERE seq = 5`)
			},
			brokenAt: 5, reasonHas: "missing", wantChecks: 4,
		},
		{
			name: "fail/deleted-first-entry",
			tamper: func(t *testing.T, db *sql.DB, _ []store.AuditEntry) {
				exec(t, db, `DELETE FROM audit_log WHERE seq = 1`)
			},
			brokenAt: 1, reasonHas: "missing", wantChecks: 0,
		},
		{
			name: "fail/rehashed-edit-breaks-next-link",
			tamper: func(t *testing.T, db *sql.DB, es []store.AuditEntry) {
				// The attacker edits entry 6 and reseals it as the log would;
				// entry 7 still carries the old hash.
				e := es[5]
				e.Outcome = audit.Denied
				audit.Seal(es[4], &e)
				exec(t, db, `UPDATE audit_log SET outcome = ?, hash = ? WHERE seq = 6`, e.Outcome, e.Hash)
			},
			brokenAt: 7, reasonHas: "does not link", wantChecks: 6,
		},
		{
			name: "fail/entry-appended-after-a-gap",
			tamper: func(t *testing.T, db *sql.DB, es []store.AuditEntry) {
				e := es[n-1]
				e.Seq = n + 2
				audit.Seal(es[n-1], &e)
				insertRow(t, db, e)
			},
			brokenAt: n + 1, reasonHas: "missing", wantChecks: n,
		},
		{
			name: "fail/entry-inserted-in-the-middle",
			tamper: func(t *testing.T, db *sql.DB, es []store.AuditEntry) {
				// Shift 4..10 up by one and put a well-sealed forgery at 4.
				exec(t, db, `UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 4`)
				exec(t, db, `UPDATE audit_log SET seq = seq - 999 WHERE seq > 1000`)
				forged := es[2]
				forged.Seq, forged.Action, forged.Target = 4, "apikey.delete", "ApiKey-forged"
				audit.Seal(es[2], &forged)
				insertRow(t, db, forged)
			},
			brokenAt: 5, reasonHas: "does not link", wantChecks: 4,
		},
		{
			name: "fail/entries-swapped",
			tamper: func(t *testing.T, db *sql.DB, _ []store.AuditEntry) {
				exec(t, db, `UPDATE audit_log SET seq = 1000 WHERE seq = 3`)
				exec(t, db, `UPDATE audit_log SET seq = 3 WHERE seq = 4`)
				exec(t, db, `UPDATE audit_log SET seq = 4 WHERE seq = 1000`)
			},
			brokenAt: 3, reasonHas: "does not link", wantChecks: 2,
		},
		{
			name: "fail/relinked-to-skip-a-deleted-entry",
			tamper: func(t *testing.T, db *sql.DB, es []store.AuditEntry) {
				// Delete 5 and point 6 at 4, but leave the numbering: the gap shows.
				exec(t, db, `DELETE FROM audit_log WHERE seq = 5`)
				e := es[5]
				audit.Seal(es[3], &e)
				exec(t, db, `UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = 6`, e.PrevHash, e.Hash)
			},
			brokenAt: 5, reasonHas: "missing", wantChecks: 4,
		},
	}
	img := snapshot(t, n)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, st := restore(t, img)
			es := listAll(t, st)

			tt.tamper(t, attacker(t, path), es)

			v := mustVerify(t, st)
			if v.OK {
				t.Fatalf("Verify after tampering = %+v, want not ok", v)
			}
			if v.BrokenAt != tt.brokenAt {
				t.Errorf("BrokenAt = %d, want %d (reason %q)", v.BrokenAt, tt.brokenAt, v.Reason)
			}
			if !strings.Contains(v.Reason, tt.reasonHas) {
				t.Errorf("Reason = %q, want it to mention %q", v.Reason, tt.reasonHas)
			}
			if v.Entries != tt.wantChecks {
				t.Errorf("Entries = %d, want %d accepted before the break", v.Entries, tt.wantChecks)
			}
			if v.Head != "" {
				t.Errorf("Head = %q on a broken chain, want empty", v.Head)
			}
		})
	}
}

func TestVerifyAcrossPages(t *testing.T) {
	// Verify reads the log in pages (of 1000 today); a break on either side
	// of a page boundary must be found like any other.
	const n = 1100
	tests := []struct {
		name    string
		deleted int64
	}{
		{"fail/deleted-last-of-first-page", 1000},
		{"fail/deleted-first-of-second-page", 1001},
		{"fail/deleted-in-second-page", 1050},
	}
	img := snapshot(t, n)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, st := restore(t, img)
			exec(t, attacker(t, path), `DELETE FROM audit_log WHERE seq = ?`, tt.deleted)
			v := mustVerify(t, st)
			if v.OK || v.BrokenAt != tt.deleted || v.Entries != tt.deleted-1 {
				t.Fatalf("Verify = %+v, want broken at %d after %d good entries", v, tt.deleted, tt.deleted-1)
			}
		})
	}
}
