//go:build unix

// Process-level tests: the real binary, started and killed as an operator (or
// a crash) would, on a real data directory.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"gatehouse/client"
)

// binary is the gatehouse command built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gatehouse")
	args := []string{"build", "-o", binary}
	if raceEnabled() {
		// The packages are already compiled with -race for this test binary,
		// so this costs little and makes the server report its own races.
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gatehouse:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// childEnv is the environment without GATEHOUSE_* variables, so that the
// caller's settings do not leak into the tests.
func childEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GATEHOUSE_") })
}

// logSink collects a process's stderr and reports the first "serving" record.
type logSink struct {
	mu      sync.Mutex
	all     bytes.Buffer
	partial []byte
	serving chan map[string]any // gets the first serving record
	sent    bool
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := l.partial[:i]
		l.partial = l.partial[i+1:]
		var rec map[string]any
		if !l.sent && json.Unmarshal(line, &rec) == nil && rec["msg"] == "serving" {
			l.sent = true
			l.serving <- rec // buffered, sent once
		}
	}
	return len(p), nil
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all.String()
}

// proc is a running gatehouse process in its own process group.
type proc struct {
	t       *testing.T
	cmd     *exec.Cmd
	stderr  *logSink
	stdout  bytes.Buffer // written only by exec's copier; read after exit
	exited  chan struct{}
	waitErr error

	// from the serving log record
	Addr, GatewayAddr, Issuer string
}

// launch starts gatehouse with args and kills its process group when the
// test ends, whatever happened.
func launch(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, stderr: &logSink{serving: make(chan map[string]any, 1)}, exited: make(chan struct{})}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = childEnv()
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start gatehouse: %v", err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
		if strings.Contains(p.stderr.String(), "WARNING: DATA RACE") {
			t.Errorf("gatehouse %s reported a data race:\n%s", strings.Join(args, " "), p.stderr)
		}
	})
	return p
}

// serveArgs are the flags of a serve on data that binds free ports.
func serveArgs(data string, extra ...string) []string {
	return append([]string{"serve", "--data", data, "--addr", "127.0.0.1:0",
		"--gateway-addr", "127.0.0.1:0", "--log-format", "json"}, extra...)
}

// startServe runs `gatehouse serve` on data and waits for its serving log line.
func startServe(t *testing.T, data string, extra ...string) *proc {
	t.Helper()
	p := launch(t, serveArgs(data, extra...)...)
	select {
	case rec := <-p.stderr.serving:
		p.Addr, _ = rec["addr"].(string)
		p.GatewayAddr, _ = rec["gateway_addr"].(string)
		p.Issuer, _ = rec["issuer"].(string)
		if p.Addr == "" || p.GatewayAddr == "" || p.Issuer == "" {
			t.Fatalf("serving record lacks addr, gateway_addr or issuer: %v", rec)
		}
		return p
	case <-p.exited:
		t.Fatalf("gatehouse serve exited before serving (%v):\n%s", p.waitErr, p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("gatehouse serve did not log serving within 60s:\n%s", p.stderr)
	}
	return nil
}

// waitExit waits for the process to end and returns its exit code (-1 when a
// signal ended it).
func (p *proc) waitExit(within time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(within):
		p.t.Fatalf("gatehouse did not exit within %s:\n%s", within, p.stderr)
		return 0
	}
}

// kill9 kills the process with SIGKILL: no shutdown code runs.
func (p *proc) kill9() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatalf("kill -9: %v", err)
	}
	if code := p.waitExit(30 * time.Second); code != -1 {
		p.t.Fatalf("after kill -9 the exit code is %d, want death by signal", code)
	}
}

// stop sends SIGTERM and wants a clean exit 0.
func (p *proc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("SIGTERM: %v", err)
	}
	if code := p.waitExit(30 * time.Second); code != 0 {
		p.t.Fatalf("after SIGTERM: exit %d, want 0:\n%s", code, p.stderr)
	}
}

func (p *proc) client() *client.Client { return client.New("http://" + p.Addr) }

// run runs a gatehouse command to completion.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	p := launch(t, args...)
	code = p.waitExit(60 * time.Second)
	return p.stdout.String(), p.stderr.String(), code
}

func readKeyFile(t *testing.T, data string) client.KeyFile {
	t.Helper()
	kf, err := client.ReadKeyFile(filepath.Join(data, "admin-apikey.json"))
	if err != nil {
		t.Fatal(err)
	}
	return kf
}

// adminClient exchanges the bootstrap key of data at p.
func adminClient(t *testing.T, p *proc, data string) *client.Client {
	t.Helper()
	c := p.client()
	tok, err := c.IAMToken(context.Background(), readKeyFile(t, data).APIKey, client.TokenOptions{})
	if err != nil {
		t.Fatalf("exchange the admin key: %v", err)
	}
	return c.WithToken(tok.AccessToken)
}

// noSecrets fails when any process's output contains one of the values.
func noSecrets(t *testing.T, procs []*proc, values ...string) {
	t.Helper()
	for _, p := range procs {
		out := p.stderr.String()
		select {
		case <-p.exited:
			out += p.stdout.String()
		default:
		}
		for _, v := range values {
			if v != "" && strings.Contains(out, v) {
				t.Errorf("the output of gatehouse %s contains a key value", strings.Join(p.cmd.Args[1:], " "))
			}
		}
	}
}

// listAll lists every key of the account, all pages.
func listAll(t *testing.T, c *client.Client) []client.APIKey {
	t.Helper()
	var all []client.APIKey
	opts := client.ListAPIKeysOptions{Scope: "account", PageSize: 100}
	for range 1000 {
		page, err := c.ListAPIKeys(context.Background(), opts)
		if err != nil {
			t.Fatalf("list keys: %v", err)
		}
		all = append(all, page.APIKeys...)
		if opts.PageToken = page.NextPageToken(); opts.PageToken == "" {
			return all
		}
	}
	t.Fatal("listing does not end")
	return nil
}

// --- kill -9 durability -------------------------------------------------------

// want is the acknowledged state of a key.
type want struct {
	id, name, value           string
	locked, disabled, deleted bool
	rotated                   bool // replaced with a grace period: expires, still works
}

// ledger records every acknowledged (2xx) write.
type ledger struct {
	mu     sync.Mutex
	keys   map[string]*want // by id
	list   []*want          // in creation order
	shared map[string]bool  // names a rotation gave to two keys
}

func newLedger() *ledger { return &ledger{keys: map[string]*want{}, shared: map[string]bool{}} }

func (l *ledger) created(k *client.APIKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := &want{id: k.ID, name: k.Name, value: k.APIKey}
	l.keys[k.ID] = w
	l.list = append(l.list, w)
}

func (l *ledger) values() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var v []string
	for _, w := range l.list {
		v = append(v, w.value)
	}
	return v
}

func mustCreate(t *testing.T, c *client.Client, l *ledger, name string) *want {
	t.Helper()
	k, err := c.CreateAPIKey(context.Background(), client.CreateAPIKey{Name: name, Description: "durability"})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if k.ID == "" || k.APIKey == "" || k.Name != name {
		t.Fatalf("create %s answered %+v", name, k)
	}
	l.created(k)
	return l.keys[k.ID]
}

// createBurst creates n keys with `workers` concurrent clients and waits for
// all of them; every one must succeed.
func createBurst(t *testing.T, c *client.Client, l *ledger, prefix string, n, workers int) {
	t.Helper()
	names := make(chan string, n)
	for i := range n {
		names <- fmt.Sprintf("%s%03d", prefix, i)
	}
	close(names)
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for range workers {
		wg.Go(func() {
			for name := range names {
				k, err := c.CreateAPIKey(context.Background(), client.CreateAPIKey{Name: name})
				if err != nil {
					errc <- fmt.Errorf("create %s: %w", name, err)
					continue
				}
				l.created(k)
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// mustRotate rotates w with a grace period and records both keys.
func mustRotate(t *testing.T, c *client.Client, l *ledger, w *want) *want {
	t.Helper()
	k, err := c.RotateAPIKey(context.Background(), w.id, "1h")
	if err != nil {
		t.Fatalf("rotate %s: %v", w.name, err)
	}
	if k.ID == "" || k.ID == w.id || k.APIKey == "" || k.Name != w.name {
		t.Fatalf("rotate %s answered %+v", w.name, k)
	}
	l.created(k)
	l.mu.Lock()
	defer l.mu.Unlock()
	w.rotated = true
	l.shared[w.name] = true
	return l.keys[k.ID]
}

func mustDo(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// verify checks, on a restarted server, that every acknowledged write is
// there as acknowledged and that the store holds nothing half-written. With
// exact, every write was answered, so the keys are exactly the ledger's;
// otherwise an unanswered creation (its name in maybe) may or may not be there.
func (l *ledger) verify(t *testing.T, p *proc, data string, exact bool, maybe func(name string) bool) {
	t.Helper()
	ctx := context.Background()
	admin := adminClient(t, p, data)
	adminID := readKeyFile(t, data).UUID

	listed := map[string]client.APIKey{}
	names := map[string]string{}
	for _, k := range listAll(t, admin) {
		if _, dup := listed[k.ID]; dup {
			t.Errorf("key %s listed twice", k.ID)
		}
		if other, dup := names[k.Name]; dup && !l.shared[k.Name] {
			t.Errorf("two keys named %q: %s and %s", k.Name, other, k.ID)
		}
		listed[k.ID], names[k.Name] = k, k.ID
		if !strings.HasPrefix(k.ID, "ApiKey-") || k.Name == "" || k.Hint == "" || k.IAMID == "" ||
			k.AccountID == "" || k.EntityTag == "" || k.CreatedAt.IsZero() || k.ModifiedAt.IsZero() {
			t.Errorf("half-written key record: %+v", k)
		}
	}
	if k, ok := listed[adminID]; !ok || k.Name != "admin" {
		t.Errorf("the bootstrap key %s is not listed as admin", adminID)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	live := 0
	for _, w := range l.list {
		k, inList := listed[w.id]
		got, err := admin.GetAPIKey(ctx, w.id, false, false)
		if w.deleted {
			if inList || client.StatusOf(err) != 404 {
				t.Errorf("key %s (%s) was deleted with a 2xx and is back (listed %v, get: %v)", w.name, w.id, inList, err)
			}
			if _, err := p.client().IAMToken(ctx, w.value, client.TokenOptions{}); client.StatusOf(err)/100 != 4 {
				t.Errorf("deleted key %s exchanges: %v", w.name, err)
			}
			continue
		}
		live++
		if !inList {
			t.Errorf("key %s (%s) was created with a 201 and is lost", w.name, w.id)
			continue
		}
		if err != nil {
			t.Errorf("get %s: %v", w.id, err)
			continue
		}
		for _, r := range []client.APIKey{k, *got} {
			if r.Name != w.name || r.Locked != w.locked || r.Disabled != w.disabled || (r.ExpiresAt != nil) != w.rotated {
				t.Errorf("key %s: name %q locked %v disabled %v expires %v; acknowledged %q locked %v disabled %v rotated %v",
					w.id, r.Name, r.Locked, r.Disabled, r.ExpiresAt, w.name, w.locked, w.disabled, w.rotated)
			}
		}
		tok, err := p.client().IAMToken(ctx, w.value, client.TokenOptions{})
		switch {
		case w.disabled && client.StatusOf(err)/100 != 4:
			t.Errorf("disabled key %s: exchange answered %v, want a 4xx", w.name, err)
		case !w.disabled && err != nil:
			t.Errorf("key %s does not exchange after the restart: %v", w.name, err)
		case !w.disabled:
			me, err := p.client().WithToken(tok.AccessToken).Me(ctx)
			if err != nil || me.APIKey.ID != w.id {
				t.Errorf("key %s: /v1/me with its token: %+v, %v", w.name, me, err)
			}
		}
	}
	for id, k := range listed {
		if id == adminID || l.keys[id] != nil {
			continue
		}
		if exact || maybe == nil || !maybe(k.Name) {
			t.Errorf("unexpected key %s (%q) after the restart", id, k.Name)
		}
	}
	if exact && len(listed) != live+1 {
		t.Errorf("%d keys listed, want %d (admin and %d acknowledged)", len(listed), live+1, live)
	}
}

// checkIntegrity opens the stopped server's database and runs SQLite's own checks.
func checkIntegrity(t *testing.T, data string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(data, "gatehouse.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Errorf("integrity_check: %q, %v", res, err)
	}
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Error("foreign_key_check found dangling references")
	}
}

// A 2xx on a write means it is durable: kill -9 right after it loses nothing
// (SPEC §12). Killed twice: after a create/lock/disable/delete sequence, then
// again after more writes on the recovered store.
func TestKill9AfterAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	// A fixed issuer, so that a token minted before a crash can be checked after it.
	const issuer = "http://gatehouse.test"
	srv := startServe(t, data, "--issuer", issuer)
	procs := []*proc{srv}
	ctx := context.Background()
	tok, err := srv.client().IAMToken(ctx, readKeyFile(t, data).APIKey, client.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	adminToken := tok.AccessToken
	admin := srv.client().WithToken(adminToken)
	l := newLedger()

	for i := range 15 {
		mustCreate(t, admin, l, fmt.Sprintf("seq-%02d", i))
	}
	createBurst(t, admin, l, "burst-", 15, 6)
	k := l.list
	mustDo(t, "lock", admin.LockAPIKey(ctx, k[0].id, true))
	k[0].locked = true
	mustDo(t, "disable", admin.DisableAPIKey(ctx, k[1].id, true))
	k[1].disabled = true
	mustDo(t, "delete", admin.DeleteAPIKey(ctx, k[2].id))
	k[2].deleted = true
	mustRotate(t, admin, l, k[5]) // two rows in one transaction
	mustDo(t, "lock", admin.LockAPIKey(ctx, k[20].id, true))
	k[20].locked = true
	srv.kill9() // right after the last 2xx, an update

	srv = startServe(t, data, "--issuer", issuer)
	procs = append(procs, srv)
	// The admin token minted before the crash is still good: the signing key is durable.
	if _, err := srv.client().WithToken(adminToken).Me(ctx); err != nil {
		t.Errorf("a token minted before kill -9 is refused after the restart: %v", err)
	}
	l.verify(t, srv, data, true, nil)

	// Writes on the recovered store, then a crash right after a delete.
	admin = adminClient(t, srv, data)
	mustDo(t, "unlock", admin.LockAPIKey(ctx, k[0].id, false))
	k[0].locked = false
	mustDo(t, "enable", admin.DisableAPIKey(ctx, k[1].id, false))
	k[1].disabled = false
	mustDo(t, "disable", admin.DisableAPIKey(ctx, k[3].id, true))
	k[3].disabled = true
	for i := range 5 {
		mustCreate(t, admin, l, fmt.Sprintf("after-crash-%d", i))
	}
	mustRotate(t, admin, l, k[6])
	mustDo(t, "delete", admin.DeleteAPIKey(ctx, k[0].id))
	k[0].deleted = true
	srv.kill9() // right after the last 2xx, a delete

	srv = startServe(t, data, "--issuer", issuer)
	procs = append(procs, srv)
	l.verify(t, srv, data, true, nil)
	srv.stop()
	checkIntegrity(t, data)
	noSecrets(t, procs, append(l.values(), readKeyFile(t, data).APIKey)...)
}

// kill -9 while concurrent creations are in flight: every creation answered
// 201 is there after the restart; the unanswered ones may or may not be, but
// whole.
func TestKill9DuringConcurrentCreates(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	srv := startServe(t, data)
	procs := []*proc{srv}
	admin := adminClient(t, srv, data)
	l := newLedger()

	var attempted sync.Map
	var killing atomic.Bool
	acked := make(chan struct{}, 10000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	var unexpected []error
	var mu sync.Mutex
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				name := fmt.Sprintf("w%d-%04d", w, i)
				attempted.Store(name, true)
				k, err := admin.CreateAPIKey(ctx, client.CreateAPIKey{Name: name})
				if err != nil {
					if !killing.Load() {
						mu.Lock()
						unexpected = append(unexpected, err)
						mu.Unlock()
					}
					return
				}
				l.created(k)
				acked <- struct{}{}
			}
		})
	}
	for range 25 {
		select {
		case <-acked:
		case <-time.After(60 * time.Second):
			killing.Store(true)
			cancel()
			wg.Wait()
			t.Fatalf("creations stalled: %v", unexpected)
		}
	}
	killing.Store(true)
	srv.kill9() // the workers are in the middle of requests
	cancel()
	wg.Wait()
	for _, err := range unexpected {
		t.Errorf("a creation failed before the kill: %v", err)
	}
	t.Logf("%d creations acknowledged before kill -9", len(l.list))

	srv = startServe(t, data)
	procs = append(procs, srv)
	l.verify(t, srv, data, false, func(name string) bool { _, ok := attempted.Load(name); return ok })

	// The recovered store takes writes.
	mustCreate(t, adminClient(t, srv, data), l, "after-recovery")
	l.verify(t, srv, data, false, func(name string) bool { _, ok := attempted.Load(name); return ok })
	srv.stop()
	checkIntegrity(t, data)
	noSecrets(t, procs, append(l.values(), readKeyFile(t, data).APIKey)...)
}

// --- bootstrap ---------------------------------------------------------------

var (
	keyFileTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d\+0000$`)
	keyFileUUID = regexp.MustCompile(`^ApiKey-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// checkBootstrapFile checks admin-apikey.json against SPEC §2.2 and returns it.
func checkBootstrapFile(t *testing.T, data string) ([]byte, client.KeyFile) {
	t.Helper()
	path := filepath.Join(data, "admin-apikey.json")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want 0600", path, fi.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("admin-apikey.json is not JSON: %v\n%s", err, raw)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range fields {
			if !yield(k) {
				return
			}
		}
	})
	if want := []string{"apikey", "createdAt", "description", "locked", "name", "uuid"}; !slices.Equal(keys, want) {
		t.Errorf("admin-apikey.json fields %v, want %v", keys, want)
	}
	if !bytes.HasPrefix(raw, []byte("{\n\t\"name\": ")) || !bytes.Contains(raw, []byte("\n\t\"apikey\": ")) {
		t.Errorf("admin-apikey.json is not tab-indented:\n%s", raw)
	}
	kf := readKeyFile(t, data)
	if kf.Name != "admin" || len(kf.APIKey) < 32 || kf.Locked || !keyFileTime.MatchString(kf.CreatedAt) || !keyFileUUID.MatchString(kf.UUID) {
		t.Errorf("admin-apikey.json content: %+v", kf)
	}
	return raw, kf
}

func TestBootstrapHappensOnce(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	first := startServe(t, data)
	raw, kf := checkBootstrapFile(t, data)
	if !strings.Contains(first.stderr.String(), filepath.Join(data, "admin-apikey.json")) {
		t.Errorf("the first start does not log the key file's path:\n%s", first.stderr)
	}
	fi, err := os.Stat(data)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory: %v, %v; want mode 0700", fi.Mode(), err)
	}
	for _, f := range []string{"master.key", "gatehouse.db"} {
		if fi, err := os.Stat(filepath.Join(data, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", f, err)
		}
	}
	first.stop()

	second := startServe(t, data)
	again, _ := checkBootstrapFile(t, data)
	if !bytes.Equal(raw, again) {
		t.Errorf("the restart rewrote admin-apikey.json:\n%s\nwas\n%s", again, raw)
	}
	if strings.Contains(second.stderr.String(), "bootstrap") {
		t.Errorf("the restart bootstrapped again:\n%s", second.stderr)
	}
	keys := listAll(t, adminClient(t, second, data))
	if len(keys) != 1 || keys[0].Name != "admin" || keys[0].ID != kf.UUID {
		t.Errorf("account keys after a restart: %+v; want only the admin key %s", keys, kf.UUID)
	}
	second.stop()
	noSecrets(t, []*proc{first, second}, kf.APIKey)
}

func TestInitThenServe(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	out, errOut, code := run(t, "init", "--data", data)
	if code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
	}
	raw, kf := checkBootstrapFile(t, data)
	if !strings.Contains(out, filepath.Join(data, "admin-apikey.json")) {
		t.Errorf("init does not print the key file's path:\n%s", out)
	}

	srv := startServe(t, data)
	if strings.Contains(srv.stderr.String(), "bootstrap") {
		t.Errorf("serve after init bootstrapped again:\n%s", srv.stderr)
	}
	keys := listAll(t, adminClient(t, srv, data))
	if len(keys) != 1 || keys[0].ID != kf.UUID {
		t.Errorf("account keys: %+v; want only the admin key %s", keys, kf.UUID)
	}
	if again, _ := checkBootstrapFile(t, data); !bytes.Equal(raw, again) {
		t.Error("serve rewrote the key file init wrote")
	}
	srv.stop()
	noSecrets(t, []*proc{srv}, kf.APIKey)
	if strings.Contains(out+errOut, kf.APIKey) {
		t.Error("init printed the key value")
	}
}

// --- shutdown and start-up failures --------------------------------------------

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			srv := startServe(t, filepath.Join(t.TempDir(), "data"))
			res, err := http.Get("http://" + srv.Addr + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Errorf("healthz: %d", res.StatusCode)
			}
			start := time.Now()
			if err := srv.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := srv.waitExit(10 * time.Second); code != 0 {
				t.Errorf("exit %d after %v, want 0:\n%s", code, sig, srv.stderr)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("shutdown took %s", d)
			}
			if !strings.Contains(srv.stderr.String(), `"msg":"shutting down"`) {
				t.Errorf("no shutting down record:\n%s", srv.stderr)
			}
		})
	}
}

// An unreachable PostgreSQL stops the start with a clear message (exit 1) that
// never shows the password; a malformed URL is a usage error (exit 2).
func TestClusterFlagsAreChecked(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, flag, value string
		code              int
	}{
		{"postgres-unreachable", "--database", "postgres://gh:s3cret@127.0.0.1:1/gh?connect_timeout=2", 1},
		{"postgres-malformed", "--database", "postgres:///gh", 2},
		{"redis-malformed", "--redis", "memcache://:s3cret@x", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := filepath.Join(t.TempDir(), "data")
			_, errOut, code := run(t, serveArgs(data, tt.flag, tt.value)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d:\n%s", code, tt.code, errOut)
			}
			if !strings.Contains(errOut, tt.flag[2:]) && !strings.Contains(errOut, "database") {
				t.Errorf("stderr does not name the problem:\n%s", errOut)
			}
			if strings.Contains(errOut, "s3cret") {
				t.Errorf("stderr shows the password:\n%s", errOut)
			}
		})
	}
}

// A second serve on a port in use fails clearly with exit 1 and leaves the
// first one serving.
func TestPortInUse(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	first := startServe(t, data)
	for _, tt := range []struct{ name, flag, addr string }{
		{"addr", "--addr", first.Addr},
		{"gateway-addr", "--gateway-addr", first.GatewayAddr},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := run(t, serveArgs(data, tt.flag, tt.addr)...)
			if code != 1 {
				t.Errorf("exit %d, want 1:\n%s", code, errOut)
			}
			if !strings.Contains(errOut, tt.addr) || !strings.Contains(errOut, "address already in use") {
				t.Errorf("stderr does not say %s is in use:\n%s", tt.addr, errOut)
			}
		})
	}
	if _, err := adminClient(t, first, data).Me(context.Background()); err != nil {
		t.Errorf("the first server stopped answering: %v", err)
	}
	first.stop()
}
