// Package testenv gives tests the servers that scripts/services.sh started
// (PostgreSQL, Redis) and starts private ones for fault tests. It is only
// imported by tests.
//
// When GATEHOUSE_TEST_REQUIRE_SERVICES is set (the test command sets it), a
// test that needs a server which is not there FAILS; otherwise it is skipped
// with a message saying how to run it. It never skips silently in CI.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables set by scripts/services.sh.
const (
	EnvPostgres = "GATEHOUSE_TEST_POSTGRES"         // admin URL of a running server
	EnvRedis    = "GATEHOUSE_TEST_REDIS"            // URL of a running server
	EnvPGBin    = "GATEHOUSE_TEST_PGBIN"            // directory of initdb, pg_ctl, postgres
	EnvRedisBin = "GATEHOUSE_TEST_REDIS_SERVER"     // path of redis-server
	EnvRequire  = "GATEHOUSE_TEST_REQUIRE_SERVICES" // set: missing servers fail tests
)

// need returns the variable's value, or fails (required) or skips the test.
func need(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	msg := fmt.Sprintf("%s is not set: this test needs the servers that `make test` starts (scripts/services.sh)", name)
	if os.Getenv(EnvRequire) != "" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED: " + msg)
	return ""
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// PostgresURL creates a fresh database on the shared server and returns its
// URL; the database is dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := need(t, EnvPostgres)
	return createDatabase(t, admin)
}

// PostgresURLWithOptions is PostgresURL for a database created with the
// given options of CREATE DATABASE, such as a locale:
// "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'".
func PostgresURLWithOptions(t testing.TB, options string) string {
	t.Helper()
	admin := need(t, EnvPostgres)
	return newDatabase(t, admin, " "+options)
}

func createDatabase(t testing.TB, admin string) string {
	t.Helper()
	return newDatabase(t, admin, "")
}

// cloneDatabase creates a database on the server of admin, a copy of
// template, and drops it when the test ends.
func cloneDatabase(t testing.TB, admin, template string) string {
	t.Helper()
	return newDatabase(t, admin, " TEMPLATE "+template)
}

// newDatabase creates a database on the server of admin with the options
// of CREATE DATABASE given, and drops it when the test ends.
func newDatabase(t testing.TB, admin, options string) string {
	t.Helper()
	name := randomName("gh_")
	if err := execAdmin(admin, "CREATE DATABASE "+name+options); err != nil {
		t.Fatalf("testenv: create database: %v", err)
	}
	t.Cleanup(func() { _ = execAdmin(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, err := databaseURL(admin, name)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return u
}

// execAdmin runs one statement on a connection of its own to admin.
func execAdmin(admin, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// databaseURL is admin with the database name replaced.
func databaseURL(admin, name string) (string, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", fmt.Errorf("%s: %w", EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// PostgresTemplate is a database on the shared server that tests copy, so
// that a suite needing many databases in the same prepared state (say,
// migrated) pays for preparing it once. Declare one per package, get
// databases with URL (the first call creates the template), and drop what
// is left from TestMain with Drop.
//
// A copy (CREATE DATABASE … TEMPLATE) copies the whole system catalog and
// takes about a third of a second. When the prepared state is tables with
// no rows, ReuseEmptied makes URL hand out databases that earlier tests
// used, emptied again, which takes milliseconds.
type PostgresTemplate struct {
	prepare func(ctx context.Context, url string) error
	keep    []string // with reuse: the tables whose rows are part of the prepared state
	reuse   bool

	once  sync.Once
	admin string
	name  string
	err   error

	mu   sync.Mutex
	free []string // emptied databases ready for the next test
}

// NewPostgresTemplate returns a template that prepare brings to its state;
// prepare gets the URL of the empty template database and must close every
// connection it opens before returning (PostgreSQL copies only a database
// nobody is connected to).
func NewPostgresTemplate(prepare func(ctx context.Context, url string) error) *PostgresTemplate {
	return &PostgresTemplate{prepare: prepare}
}

// ReuseEmptied says that the prepared state is the schema with every table
// of the public schema empty but those named in keep, so that a database a
// test has finished with can be brought back to it by disconnecting what is
// still connected and truncating the other tables (restarting their
// identity columns, firing no triggers). URL then hands such databases out
// before it makes new copies. It returns p.
func (p *PostgresTemplate) ReuseEmptied(keep ...string) *PostgresTemplate {
	p.reuse, p.keep = true, keep
	return p
}

// URL returns the URL of a database in the template's prepared state on the
// shared server, which no other test uses until this one ends: a fresh copy
// of the template (which the first call creates and prepares) or, with
// ReuseEmptied, one emptied after an earlier test. When the test ends, the
// database is dropped, or emptied for the next test. Like PostgresURL, it
// skips or fails the test when there is no server.
func (p *PostgresTemplate) URL(t testing.TB) string {
	t.Helper()
	admin := need(t, EnvPostgres)
	p.once.Do(func() {
		p.admin, p.name = admin, randomName("gh_tpl_")
		if p.err = execAdmin(admin, "CREATE DATABASE "+p.name); p.err != nil {
			p.name = ""
			return
		}
		u, err := databaseURL(admin, p.name)
		if err != nil {
			p.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		p.err = p.prepare(ctx, u)
	})
	if p.err != nil {
		t.Fatalf("testenv: prepare template database: %v", p.err)
	}
	if !p.reuse {
		return cloneDatabase(t, admin, p.name)
	}

	p.mu.Lock()
	var name string
	if n := len(p.free); n > 0 {
		name, p.free = p.free[n-1], p.free[:n-1]
	}
	p.mu.Unlock()
	if name == "" {
		name = randomName("gh_")
		if err := execAdmin(admin, "CREATE DATABASE "+name+" TEMPLATE "+p.name); err != nil {
			t.Fatalf("testenv: create database: %v", err)
		}
	}
	t.Cleanup(func() {
		if err := p.empty(name); err != nil {
			_ = execAdmin(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			return
		}
		p.mu.Lock()
		p.free = append(p.free, name)
		p.mu.Unlock()
	})
	u, err := databaseURL(admin, name)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return u
}

// empty brings a used database back to the prepared state (see
// ReuseEmptied).
func (p *PostgresTemplate) empty(name string) error {
	u, err := databaseURL(p.admin, name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	// Whatever the test left connected goes, with its locks and LISTENs.
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		return err
	}
	var tables []string
	rows, err := conn.Query(ctx, `SELECT quote_ident(tablename) FROM pg_tables
		WHERE schemaname = 'public' AND NOT tablename = ANY($1) ORDER BY tablename`, p.keep)
	if err != nil {
		return err
	}
	if tables, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || len(tables) == 0 {
		return err
	}
	// replica: triggers (such as an append-only guard) do not fire.
	_, err = conn.Exec(ctx, `SET session_replication_role = replica; TRUNCATE `+strings.Join(tables, ", ")+` RESTART IDENTITY`)
	return err
}

// Drop drops the template database and the emptied copies, if they were
// created. Call it from TestMain after m.Run.
func (p *PostgresTemplate) Drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, name := range append(p.free, p.name) {
		if name != "" {
			_ = execAdmin(p.admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		}
	}
	p.free = nil
}

// RedisURL returns the shared Redis server's URL. Tests keep apart by key
// prefix (each limiter suite run uses its own).
func RedisURL(t testing.TB) string {
	t.Helper()
	return need(t, EnvRedis)
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Postgres is a private PostgreSQL server a test can stop and start.
type Postgres struct {
	t    testing.TB
	bin  string
	data string
	port int
}

// StartPostgres initialises and starts a private server in a temporary
// directory; it is stopped when the test ends. As root it runs as the
// postgres system user (PostgreSQL refuses root).
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bin := need(t, EnvPGBin)
	base, err := os.MkdirTemp("", "gh-pg-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(base, 0o711); err != nil {
		t.Fatal(err)
	}
	p := &Postgres{t: t, bin: bin, data: filepath.Join(base, "data"), port: FreePort(t)}
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("testenv: the postgres system user is missing: %v", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		sock := filepath.Join(base, "sock")
		if err := os.Mkdir(sock, 0o700); err != nil {
			t.Fatal(err)
		}
		_ = os.Chown(sock, uid, gid)
		_ = os.Chown(base, uid, gid)
	}
	t.Cleanup(func() {
		_ = p.run("pg_ctl", "-D", p.data, "-m", "immediate", "-w", "stop")
		os.RemoveAll(base)
	})
	if err := p.run("initdb", "-D", p.data, "-U", "gatehouse", "--auth=trust", "-E", "UTF8", "--no-locale"); err != nil {
		t.Fatalf("testenv: initdb: %v", err)
	}
	p.Start()
	return p
}

func (p *Postgres) run(name string, args ...string) error {
	path := filepath.Join(p.bin, name)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %v: %w: %s", name, args, err, out)
	}
	return nil
}

// URL is the admin URL of the server's postgres database.
func (p *Postgres) URL() string {
	return fmt.Sprintf("postgres://gatehouse@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

// NewDatabase creates a database on this server and returns its URL.
func (p *Postgres) NewDatabase() string { return createDatabase(p.t, p.URL()) }

// Start starts (or restarts) the server and waits until it accepts connections.
func (p *Postgres) Start() {
	p.t.Helper()
	sock := filepath.Join(filepath.Dir(p.data), "sock")
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c max_connections=200", p.port, sock)
	if err := p.run("pg_ctl", "-D", p.data, "-l", filepath.Join(filepath.Dir(p.data), "server.log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		p.t.Fatalf("testenv: start PostgreSQL: %v", err)
	}
}

// Stop stops the server at once (like a crash or a network cut for clients).
func (p *Postgres) Stop() {
	p.t.Helper()
	if err := p.run("pg_ctl", "-D", p.data, "-m", "immediate", "-w", "stop"); err != nil {
		p.t.Fatalf("testenv: stop PostgreSQL: %v", err)
	}
}

// Redis is a private Redis server a test can stop and start.
type Redis struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
}

// StartRedis starts a private Redis on a free loopback port; stopped when the test ends.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	r := &Redis{t: t, bin: need(t, EnvRedisBin), dir: t.TempDir(), port: FreePort(t)}
	t.Cleanup(r.stop)
	r.Start()
	return r
}

// URL is the server's URL.
func (r *Redis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// Start starts the server and waits until it accepts connections.
func (r *Redis) Start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("testenv: start Redis: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("testenv: Redis did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // waiting for a child process to listen; nothing to synchronise on
	}
}

// Stop kills the server.
func (r *Redis) Stop() {
	r.t.Helper()
	r.stop()
}

func (r *Redis) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_, _ = r.cmd.Process.Wait()
		r.cmd = nil
	}
}

// EnvChromium names the Chromium binary for browser tests
// (scripts/services.sh sets it to the Chromium it installed from Debian).
const EnvChromium = "GATEHOUSE_TEST_CHROMIUM"

// Chromium returns the path of a Chromium to drive headless: the one
// GATEHOUSE_TEST_CHROMIUM names, else one on PATH. Without one the test fails when GATEHOUSE_TEST_REQUIRE_SERVICES is
// set, and is skipped loudly otherwise.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvChromium); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("testenv: %s=%s: %v", EnvChromium, p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (set " + EnvChromium + ", or install Debian's chromium: `make test` does through scripts/services.sh)"
	if os.Getenv(EnvRequire) != "" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED: " + msg)
	return ""
}
