package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"gatehouse/internal/store"
)

var _ store.Store = (*Store)(nil)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// Now is the clock used for Change.Time; time.Now when nil.
	Now func() time.Time
}

// Store is a store.Store kept in one SQLite file. It is safe for concurrent use.
type Store struct {
	w   *sql.DB // exactly one connection: every write transaction goes through it
	r   *sql.DB // read-only connections
	now func() time.Time

	closed atomic.Bool
	stmts  sync.Map // query text -> *sql.Stmt prepared on r
}

// Pragmas every connection gets. They are DSN parameters rather than
// statements run after Open so that connections the pool opens later (after
// an error, say) get them too.
const commonPragmas = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"

// The writer: WAL (persistent in the file, so readers inherit it) with an fsync
// of the log at every commit, and BEGIN IMMEDIATE so that a transaction takes
// the write lock up front instead of failing to upgrade a read lock later.
const writerDSN = commonPragmas + "&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"

// Readers cannot write even by mistake. query_only is used rather than SQLite's
// mode=ro, which cannot create the WAL index (-shm) when it is missing.
const readerDSN = commonPragmas + "&_pragma=query_only(1)"

//go:embed migrations/*.sql
var migrations embed.FS

// Open opens the database at path, creating the file (mode 0600) when it is
// missing, and brings its schema up to date. path must be a file name: the
// reader and writer connections need a shared file, so ":memory:" is refused.
//
// Errors: store.ErrUnavailable, wrapping the cause, when the file cannot be
// opened or migrated.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: open: unsupported database path %q", path)
	}
	s, err := open(ctx, path, opts)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w: %w", path, store.ErrUnavailable, err)
	}
	return s, nil
}

func open(ctx context.Context, path string, opts Options) (*Store, error) {
	// SQLite would create the file with the umask's permissions; it gives its
	// -wal and -shm files the same mode as the database, so creating the file
	// here is enough to keep all three private.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}

	s := &Store{now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if s.w, err = sql.Open("sqlite", path+"?"+writerDSN); err != nil {
		return nil, err
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	// The writer migrates before any reader exists, so the readers find the
	// file in WAL mode with the current schema.
	if err := migrate(ctx, s.w, s.now); err != nil {
		s.w.Close()
		return nil, err
	}

	if s.r, err = sql.Open("sqlite", path+"?"+readerDSN); err != nil {
		s.w.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(n)
	s.r.SetMaxIdleConns(n)
	if err := s.r.PingContext(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, in file-name order, each in its own transaction.
func migrate(ctx context.Context, db *sql.DB, now func() time.Time) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT    NOT NULL PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql") // sorted
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := migrateOne(ctx, db, name, now); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

func migrateOne(ctx context.Context, db *sql.DB, name string, now func() time.Time) error {
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Checked inside the (immediate) transaction: another process opening the
	// same file at the same moment waits here and then sees our row.
	var done bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, version).Scan(&done); err != nil {
		return err
	}
	if done {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, micros(now())); err != nil {
		return err
	}
	return tx.Commit()
}

// Ping reports whether the database can be read and written.
//
// Errors: store.ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return s.wrap("ping", err)
	}
	return s.wrap("ping", s.w.PingContext(ctx))
}

// Close closes the database. Calls after the first do nothing; other methods
// called after Close return store.ErrUnavailable.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	// Readers first: the last connection to close checkpoints the WAL.
	errR := s.r.Close()
	return errors.Join(errR, s.w.Close())
}

// wrap gives err the operation as context and translates what the driver says
// into the store's sentinel errors, keeping the cause in the chain for logs.
func (s *Store) wrap(op string, err error) error {
	var fe fnError
	var se *sqlite.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return fe.err // the caller's own error, as is
	case s.closed.Load():
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrUnavailable)
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	case errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
		return fmt.Errorf("sqlite: %s: %w: %w", op, store.ErrAlreadyExists, err)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// fnError carries an error returned by a caller's Update or Rotate closure out
// of write, which returns it unwrapped as the contract says.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// write runs fn in a transaction on the writer connection and commits it when
// fn returns nil. Because there is one writer connection and transactions
// begin IMMEDIATE, fn sees the latest committed state and nothing can change
// it before the commit: read-modify-write inside fn is compare-and-swap safe.
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(op, err)
	}
	defer tx.Rollback() // a no-op after Commit
	if err := fn(tx); err != nil {
		return s.wrap(op, err)
	}
	return s.wrap(op, tx.Commit())
}

// logChange appends one change per key to the change log, inside the
// mutation's transaction. A single writer commits in order, so Seq order is
// also commit order and a reader tailing the log never skips a change.
func (s *Store) logChange(ctx context.Context, tx *sql.Tx, kind string, keys ...string) error {
	t := micros(s.now())
	for _, key := range keys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO changes (kind, key, time) VALUES (?, ?, ?)`, kind, key, t); err != nil {
			return err
		}
	}
	return nil
}

// stmt returns q prepared on the reader pool, preparing it on first use. The
// set of queries is small and fixed (the listings build theirs from a few
// optional clauses), so the cache stays small.
func (s *Store) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.r.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// row runs a single-row query on the reader pool.
func (s *Store) row(ctx context.Context, q string, args ...any) scanner {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return errScanner{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// list runs a query on the reader pool and scans every row.
func list[T any](ctx context.Context, s *Store, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scan)
}

// pageLimit applies the default page size of the store contract.
func pageLimit(n int) int {
	if n <= 0 {
		return 100
	}
	return n
}

// where joins conditions into a WHERE clause; empty when there are none.
func where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}
