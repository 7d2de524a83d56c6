package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"gatehouse/internal/store"
)

var (
	_ store.Store    = (*Store)(nil)
	_ store.Notifier = (*Store)(nil)
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// Now is the clock used for Change.Time; time.Now when nil.
	Now func() time.Time
	// MaxConns bounds the connection pool; when zero, the URL's
	// pool_max_conns or else 20. The listener of Changed and, while Open
	// runs, the migrations use one more connection each.
	MaxConns int32
}

// Store is a store.Store kept in a PostgreSQL database. It is safe for
// concurrent use, and several Stores (on several nodes) may share one database.
type Store struct {
	pool *pgxpool.Pool
	cfg  *pgx.ConnConfig // for the connections outside the pool (listener)
	now  func() time.Time

	closed atomic.Bool

	// The change listener, started by the first call of Changed.
	changed    chan struct{}
	mu         sync.Mutex
	listening  bool
	stopListen context.CancelFunc
	listenDone chan struct{}
}

// Advisory lock keys. PostgreSQL's advisory locks live in one 64-bit key
// space per database; these are fixed so that every node takes the same
// ones. 0x4748 is "GH".
const (
	lockMigrate   int64 = 0x4748_0000_0000_0001 // session lock: one node migrates at a time
	lockChanges   int64 = 0x4748_0000_0000_0002 // transaction lock: change rows commit in Seq order
	lockBootstrap int64 = 0x4748_0000_0000_0003 // transaction lock: one Bootstrap at a time
	lockAudit     int64 = 0x4748_0000_0000_0004 // transaction lock: the audit chain cannot fork
	lockEvents    int64 = 0x4748_0000_0000_0005 // transaction lock: events commit in Seq order
)

// notifyChannel is the LISTEN/NOTIFY channel that change-log appends signal.
const notifyChannel = "gatehouse_changes"

// connectTimeout bounds a connection attempt unless the URL sets connect_timeout.
const connectTimeout = 3 * time.Second

//go:embed migrations/*.sql
var migrations embed.FS

// Open connects to the database at url (a postgres:// URL or DSN that pgx
// understands) and brings its schema up to date. Several nodes may Open the
// same database at once: the migrations run once, on one of them, while the
// others wait.
//
// Errors: store.ErrUnavailable, wrapping the cause, when the server cannot
// be reached or the schema cannot be migrated; a plain error when url cannot
// be parsed.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(url, "pool_max_conns"):
		cfg.MaxConns = 20
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	// The liveness check of a connection idle for a while, done when it is
	// acquired: a server that went away must not hang a request.
	cfg.PingTimeout = connectTimeout
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "gatehouse"
	}

	s := &Store{cfg: cfg.ConnConfig.Copy(), now: opts.Now, changed: make(chan struct{}, 1)}
	if s.now == nil {
		s.now = time.Now
	}
	if err := migrate(ctx, cfg.ConnConfig, s.now); err != nil {
		return nil, fmt.Errorf("postgres: open: %w: %w", store.ErrUnavailable, err)
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("postgres: open: %w: %w", store.ErrUnavailable, err)
	}
	return s, nil
}

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, in file-name order, each in its own transaction. It
// works on a connection of its own holding a session-level advisory lock, so
// that nodes starting at once migrate one after the other (the later ones
// find nothing left to do); closing the connection releases the lock even
// if unlocking fails.
func migrate(ctx context.Context, cc *pgx.ConnConfig, now func() time.Time) error {
	conn, err := pgx.ConnectConfig(ctx, cc.Copy())
	if err != nil {
		return err
	}
	defer closeConn(conn)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockMigrate); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    text COLLATE "C" NOT NULL PRIMARY KEY,
		applied_at bigint           NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql") // sorted
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := migrateOne(ctx, conn, name, now); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	_, err = conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, lockMigrate)
	return err
}

func migrateOne(ctx context.Context, conn *pgx.Conn, name string, now func() time.Time) error {
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, version).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		// No arguments: pgx sends the file with the simple protocol, which
		// runs several statements.
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, version, micros(now()))
		return err
	})
}

// closeConn closes a connection outside the pool, bounded in time: a
// server that went away must not hang Close.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	_ = conn.Close(ctx)
}

// pingTimeout bounds Ping when the caller's context does not end sooner.
const pingTimeout = 5 * time.Second

// Ping reports whether the database answers, within the caller's context
// and at most a few seconds.
//
// Errors: store.ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	err := s.pool.Ping(ctx)
	if err != nil && !s.closed.Load() && !isUnavailable(err) {
		// Whatever else keeps the server from answering a ping (a dropped
		// database, a refused login) means it cannot be used either.
		return fmt.Errorf("postgres: ping: %w: %w", store.ErrUnavailable, err)
	}
	return s.wrap("ping", err)
}

// Close stops the change listener and closes the pool, waiting for the
// connections in use to be released. Calls after the first do nothing; other
// methods called after Close return store.ErrUnavailable.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.mu.Lock()
	listening := s.listening
	s.mu.Unlock()
	if listening {
		s.stopListen()
		<-s.listenDone
	}
	s.pool.Close()
	return nil
}

// fnError carries an error returned by a caller's closure or check out of
// write, which returns it unwrapped as the contract says.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// wrap gives err the operation as context and translates what the driver
// says into the store's sentinel errors, keeping the cause in the chain for
// logs.
func (s *Store) wrap(op string, err error) error {
	var fe fnError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return fe.err // the caller's own error, as is
	case s.closed.Load():
		return fmt.Errorf("postgres: %s: %w", op, store.ErrUnavailable)
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrAlreadyExists, err)
	case isUnavailable(err):
		return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// isUniqueViolation reports a unique_violation (23505), which is also what a
// duplicate primary key raises.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// isUnavailable reports an error that says the database cannot be used right
// now rather than that the request was wrong: the server could not be
// reached or went away mid-request, is starting up or shutting down, is out
// of connections or other resources, or did not answer before the caller's
// deadline (including while waiting for a pooled connection).
func isUnavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"): // connection exception
			return true
		case strings.HasPrefix(pe.Code, "53"): // insufficient resources: too many connections, disk full, …
			return true
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", pe.Code == "57P04", pe.Code == "57P05":
			// admin shutdown, crash shutdown, cannot connect now, database dropped, idle session timeout
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) ||
		pgconn.SafeToRetry(err) || // failed before anything was sent: the connection was unusable
		pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &ne)
}

// txn is a write transaction with the change-log entries it will append.
type txn struct {
	pgx.Tx
	changes []pendingChange
}

type pendingChange struct{ kind, key string }

// logChange records one change per key, to be appended when the transaction
// commits (see appendChanges).
func (t *txn) logChange(kind string, keys ...string) {
	for _, k := range keys {
		t.changes = append(t.changes, pendingChange{kind, k})
	}
}

// write runs fn in a READ COMMITTED transaction and commits it when fn
// returns nil, appending the changes fn logged just before the commit. fn
// reads the rows it changes with SELECT … FOR UPDATE, which waits for any
// other transaction (on any node) holding them and then sees their latest
// committed state, so read-modify-write inside fn is compare-and-swap safe.
func (s *Store) write(ctx context.Context, op string, fn func(t *txn) error) error {
	return s.wrap(op, s.inTx(ctx, pgx.TxOptions{}, fn))
}

func (s *Store) inTx(ctx context.Context, opts pgx.TxOptions, fn func(t *txn) error) error {
	tx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer rollback(ctx, tx) // a no-op after Commit
	t := &txn{Tx: tx}
	if err := fn(t); err != nil {
		return err
	}
	if err := s.appendChanges(ctx, t); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// rollback ends a transaction that did not commit. It does not use the
// caller's context, which may be why the transaction failed, but is bounded
// in time; a connection whose rollback fails is discarded by the pool.
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), connectTimeout)
	defer cancel()
	_ = tx.Rollback(ctx)
}

// appendChanges inserts the transaction's change-log entries and signals
// them, as the last statements before the commit.
//
// Sequence values are handed out as transactions ask for them, not as they
// commit: if two transactions could insert changes at once, the one that
// drew Seq 11 might commit before the one that drew Seq 10, and a reader
// tailing `seq > 9` in between would see 11, move on, and never see 10. So
// the entries are inserted under a transaction-scoped advisory lock, held
// until the transaction has committed (PostgreSQL releases it after the
// commit is visible): the next appender draws its Seqs only after that, so
// Seq order is commit order. Taking the lock last keeps it short and cannot
// deadlock: its holder only inserts into changes and commits, and waits for
// no row lock. The NOTIFY is delivered when (and only if) the transaction
// commits.
func (s *Store) appendChanges(ctx context.Context, t *txn) error {
	if len(t.changes) == 0 {
		return nil
	}
	kinds := make([]string, len(t.changes))
	keys := make([]string, len(t.changes))
	for i, c := range t.changes {
		kinds[i], keys[i] = c.kind, c.key
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, lockChanges)
	b.Queue(`INSERT INTO changes (kind, key, time)
		SELECT c.kind, c.key, $3 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(kind, key, n) ORDER BY c.n`,
		kinds, keys, micros(s.now()))
	b.Queue(`SELECT pg_notify($1, '')`, notifyChannel)
	return t.SendBatch(ctx, b).Close()
}

// scanner is a pgx.Row or pgx.Rows.
type scanner = pgx.Row

// querier is the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// list runs a query and scans every row.
func list[T any](ctx context.Context, q querier, scan func(scanner) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// pageLimit applies the default page size of the store contract.
func pageLimit(n int) int {
	if n <= 0 {
		return 100
	}
	return n
}

// args collects query arguments and numbers their placeholders.
type args []any

// add appends v and returns its placeholder ($1, $2, …).
func (a *args) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}

// where joins conditions into a WHERE clause; empty when there are none.
func where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// deleteOne runs a DELETE that must remove exactly one row; pgx.ErrNoRows
// (store.ErrNotFound once wrapped) when it removed none.
func deleteOne(ctx context.Context, t *txn, q string, args ...any) error {
	tag, err := t.Exec(ctx, q, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return pgx.ErrNoRows
	}
	return nil
}

// deleteReturning runs a DELETE … RETURNING of one text column and collects
// the values.
func deleteReturning(ctx context.Context, t *txn, q string, args ...any) ([]string, error) {
	return list(ctx, t, func(sc scanner) (v string, err error) { return v, sc.Scan(&v) }, q, args...)
}

// exists returns pgx.ErrNoRows unless q finds a row.
func exists(ctx context.Context, t *txn, q string, args ...any) error {
	var one int
	return t.QueryRow(ctx, q, args...).Scan(&one)
}
