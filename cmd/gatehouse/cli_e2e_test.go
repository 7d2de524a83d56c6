//go:build unix

// The CLI end to end: the built binary as a user runs it, against a real
// server, with its own HOME so that the token cache is the test's.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/client"
)

// user runs the gatehouse binary as one user: its own HOME and config directory.
type user struct {
	t      *testing.T
	home   string
	config string // XDG_CONFIG_HOME
	env    []string
}

func newCLI(t *testing.T, env ...string) *user {
	t.Helper()
	home := t.TempDir()
	return &user{t: t, home: home, config: filepath.Join(home, ".config"), env: env}
}

// cacheDir is where the CLI keeps its token.
func (c *user) cacheDir() string { return filepath.Join(c.config, "gatehouse") }

type result struct {
	stdout, stderr string
	code           int
}

// runIn runs gatehouse with stdin (never a terminal) and extra environment.
func (c *user) runIn(stdin string, env []string, args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	// GORACE: a -race binary otherwise sleeps a second at every exit.
	cmd.Env = append(childEnv(), "HOME="+c.home, "XDG_CONFIG_HOME="+c.config, "GORACE=atexit_sleep_ms=0")
	cmd.Env = append(append(cmd.Env, c.env...), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok || ctx.Err() != nil {
			c.t.Fatalf("gatehouse %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
		code = ee.ExitCode()
	}
	if strings.Contains(errb.String(), "WARNING: DATA RACE") {
		c.t.Errorf("gatehouse %s reported a data race:\n%s", strings.Join(args, " "), errb.String())
	}
	return result{out.String(), errb.String(), code}
}

func (c *user) run(args ...string) result { c.t.Helper(); return c.runIn("", nil, args...) }

// ok runs a command that must succeed and returns its stdout.
func (c *user) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("gatehouse %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// json runs a command with -o json that must succeed and decodes its output into v.
func (c *user) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "-o", "json")...)
	// a field the answer leaves out must not keep the value of an earlier decode
	rv := reflect.ValueOf(v).Elem()
	rv.Set(reflect.Zero(rv.Type()))
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("gatehouse %s -o json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fails runs a command that must exit with code and mention each of want on stderr.
func (c *user) fails(code int, want []string, args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != code {
		c.t.Errorf("gatehouse %s: exit %d, want %d\nstderr: %s", strings.Join(args, " "), r.code, code, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			c.t.Errorf("gatehouse %s: stderr lacks %q:\n%s", strings.Join(args, " "), w, r.stderr)
		}
	}
	return r
}

func wantPerm(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Error(err)
		return
	}
	if fi.Mode().Perm() != want {
		t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
	}
}

// checkKeyFile checks a key file the CLI wrote against SPEC §2.2 and returns it.
func checkKeyFile(t *testing.T, path string) client.KeyFile {
	t.Helper()
	wantPerm(t, path, 0o600)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("%s is not JSON: %v", path, err)
	}
	var keys []string
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"apikey", "createdAt", "description", "locked", "name", "uuid"}; !slices.Equal(keys, want) {
		t.Errorf("%s fields %v, want %v", path, keys, want)
	}
	if !bytes.HasPrefix(raw, []byte("{\n\t\"name\": ")) {
		t.Errorf("%s is not tab-indented in the order of §2.2:\n%s", path, raw)
	}
	kf, err := client.ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !keyFileTime.MatchString(kf.CreatedAt) || !keyFileUUID.MatchString(kf.UUID) || len(kf.APIKey) < 32 {
		t.Errorf("%s content: %+v", path, kf)
	}
	return kf
}

// copyDir copies the regular files of src into a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

var jwtShape = regexp.MustCompile(`^[\w-]+\.[\w-]+\.[\w-]+$`)

// TestCLI walks every command group against one server, as an administrator
// who logged in with the bootstrap key file.
func TestCLI(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	srv := startServe(t, data)
	server := "http://" + srv.Addr
	bootstrap := filepath.Join(data, "admin-apikey.json")
	adminKey := readKeyFile(t, data).APIKey
	admin := newCLI(t)

	// --- login with @apikey.json ---
	out := admin.ok("login", "--server", server, "--apikey", "@"+bootstrap)
	if !strings.Contains(out, "Logged in to "+server) || !strings.Contains(out, "not stored") {
		t.Errorf("login says:\n%s", out)
	}
	wantPerm(t, admin.cacheDir(), 0o700)
	cache := filepath.Join(admin.cacheDir(), "session.json")
	wantPerm(t, cache, 0o600)
	if raw, err := os.ReadFile(cache); err != nil || strings.Contains(string(raw), adminKey) || !strings.Contains(string(raw), server) {
		t.Errorf("token cache (%v) holds the key or lacks the server:\n%s", err, raw)
	}

	var me client.Me
	admin.json(&me, "me")
	if me.APIKey.ID != readKeyFile(t, data).UUID || len(me.Roles) == 0 || me.Roles[0].Role != "Administrator" {
		t.Errorf("me: %+v", me)
	}
	if out := admin.ok("me", "-o", "table"); !strings.Contains(out, "IAM ID") || !strings.Contains(out, me.IAMID) {
		t.Errorf("me -o table:\n%s", out)
	}
	if out := admin.ok("me", "-o", "yaml"); !strings.Contains(out, "iam_id: "+me.IAMID) {
		t.Errorf("me -o yaml:\n%s", out)
	}
	if tok := strings.TrimSpace(admin.ok("token")); !jwtShape.MatchString(tok) {
		t.Errorf("token printed %q", tok)
	}
	var scoped client.IAMToken
	admin.json(&scoped, "token", "--apikey", "@"+bootstrap, "--role", "Reader", "--expires-in", "600")
	if !jwtShape.MatchString(scoped.AccessToken) || scoped.ExpiresIn > 600 {
		t.Errorf("down-scoped token: %+v", scoped)
	}

	t.Run("apikeys", func(t *testing.T) { cliAPIKeys(t, admin, server) })
	t.Run("login-with-GATEHOUSE_APIKEY", func(t *testing.T) {
		u := newCLI(t, "GATEHOUSE_APIKEY="+adminKey, "GATEHOUSE_SERVER="+server)
		u.ok("login")
		wantPerm(t, filepath.Join(u.cacheDir(), "session.json"), 0o600)
		var m client.Me
		u.json(&m, "me")
		if m.IAMID != me.IAMID {
			t.Errorf("me after login with GATEHOUSE_APIKEY: %+v", m)
		}
		// Without login, the key in the environment is enough (and starts a session).
		v := newCLI(t, "GATEHOUSE_APIKEY="+adminKey)
		v.json(&m, "me", "--server", server)
		wantPerm(t, filepath.Join(v.cacheDir(), "session.json"), 0o600)
	})
	t.Run("serviceids", func(t *testing.T) { cliServiceIDs(t, admin, server) })
	t.Run("orgs-and-catalogs", func(t *testing.T) { cliOrgs(t, admin) })
	t.Run("users-and-policies", func(t *testing.T) { cliUsersAndPolicies(t, admin) })
	t.Run("apis-products-consumers", func(t *testing.T) { cliAPIManager(t, admin, srv) })
	t.Run("audit", func(t *testing.T) {
		var entries []client.AuditEntry
		admin.json(&entries, "audit", "--action", "apikey.create", "--since", "1h")
		if len(entries) == 0 {
			t.Fatal("no apikey.create entries")
		}
		for _, e := range entries {
			if e.Action != "apikey.create" || e.Actor.IAMID == "" {
				t.Errorf("entry %+v", e)
			}
		}
		r := admin.run("audit", "--limit", "2", "-o", "json")
		if r.code != 0 || !strings.Contains(r.stderr, "--after") {
			t.Errorf("audit --limit 2: exit %d, no hint for the next page:\n%s", r.code, r.stderr)
		}
		if out := admin.ok("audit", "--limit", "3", "-o", "table"); !strings.Contains(out, "SEQ") || !strings.Contains(out, "ACTION") {
			t.Errorf("audit -o table:\n%s", out)
		}
		var v client.AuditVerification
		admin.json(&v, "audit", "verify")
		if !v.OK || v.Entries == 0 {
			t.Errorf("audit verify: %+v", v)
		}
	})
	t.Run("errors", func(t *testing.T) {
		admin.fails(1, []string{"404", "not_found", "nope"}, "org", "get", "nope")
		admin.fails(1, []string{"not_found"}, "apikey", "get", "ApiKey-00000000-0000-0000-0000-000000000000")
		// A Reader key may not create anything: 403 with the server's message.
		readerFile := filepath.Join(t.TempDir(), "reader.json")
		admin.ok("apikey", "create", "reader", "--role", "Reader", "--file", readerFile)
		admin.fails(1, []string{"403", "forbidden"}, "apikey", "create", "nope", "--apikey", "@"+readerFile)
		admin.fails(2, []string{"--yes"}, "org", "delete", "acme")
		admin.fails(2, []string{"unknown command"}, "frobnicate")
		admin.fails(2, []string{"--frobnicate"}, "org", "list", "--frobnicate")
	})

	// The server goes away: the cached session points at nothing.
	srv.stop()
	admin.fails(1, []string{"cannot reach " + server, "server running"}, "me")
	noSecrets(t, []*proc{srv}, adminKey)

	// Logout forgets the session.
	admin.ok("logout")
	if _, err := os.Stat(cache); !os.IsNotExist(err) {
		t.Errorf("logout left %s: %v", cache, err)
	}
	admin.fails(1, []string{"not logged in", "gatehouse login"}, "me")
}

func cliAPIKeys(t *testing.T, admin *user, server string) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ci-apikey.json")
	var k client.APIKey
	admin.json(&k, "apikey", "create", "ci", "-d", "CI pipeline", "--role", "Writer", "--expires-at", "30d", "--file", file)
	kf := checkKeyFile(t, file)
	if k.APIKey != "" || k.ID != kf.UUID || kf.Name != "ci" || kf.Description != "CI pipeline" || k.Role != "Writer" || k.ExpiresAt == nil {
		t.Errorf("create --file: record %+v, file %+v", k, kf)
	}
	// A second create to the same file is refused before the key exists.
	admin.fails(2, []string{"already exists"}, "apikey", "create", "ci2", "--file", file)

	// Without --file the value is printed once, with a warning.
	r := admin.run("apikey", "create", "shown", "-o", "json")
	var shown client.APIKey
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &shown) != nil || len(shown.APIKey) < 32 || !strings.Contains(r.stderr, "cannot be shown again") {
		t.Errorf("create without --file: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = admin.run("apikey", "create", "shown-table", "-o", "table")
	if r.code != 0 || !strings.Contains(r.stdout, "API key: gatehouse") {
		t.Errorf("create -o table:\n%s", r.stdout)
	}

	// The file logs in.
	u := newCLI(t)
	u.ok("login", "--server", server, "--apikey", "@"+file)
	var me client.Me
	u.json(&me, "me")
	if me.APIKey.ID != k.ID {
		t.Errorf("login with the created file acts as %s, want %s", me.APIKey.ID, k.ID)
	}

	var keys []client.APIKey
	admin.json(&keys, "apikey", "list")
	ids := map[string]bool{}
	for _, x := range keys {
		ids[x.ID] = true
		if x.APIKey != "" {
			t.Errorf("list shows a key value")
		}
	}
	if !ids[k.ID] || !ids[shown.ID] {
		t.Errorf("list lacks the new keys: %v", ids)
	}
	if out := admin.ok("apikey", "list", "-o", "table"); !strings.HasPrefix(out, "ID ") || !strings.Contains(out, "NAME") || !strings.Contains(out, k.ID) {
		t.Errorf("list -o table:\n%s", out)
	}
	admin.json(&keys, "apikey", "list", "--all")
	if len(keys) < 3 {
		t.Errorf("list --all: %d keys", len(keys))
	}

	var got client.APIKey
	admin.json(&got, "apikey", "get", k.ID, "--history")
	if got.ID != k.ID || got.Name != "ci" || len(got.History) == 0 {
		t.Errorf("get: %+v", got)
	}
	admin.json(&got, "apikey", "get", "@"+file)
	if got.ID != k.ID {
		t.Errorf("get @file: %s, want %s", got.ID, k.ID)
	}
	admin.json(&got, "apikey", "update", k.ID, "--name", "ci-renamed", "-d", "renamed", "--expires-at", "never")
	if got.Name != "ci-renamed" || got.Description != "renamed" || got.ExpiresAt != nil {
		t.Errorf("update: %+v", got)
	}

	admin.json(&got, "apikey", "lock", k.ID)
	if !got.Locked {
		t.Error("lock: not locked")
	}
	admin.fails(1, []string{"409"}, "apikey", "delete", k.ID, "--yes")
	admin.json(&got, "apikey", "unlock", k.ID)
	if got.Locked {
		t.Error("unlock: still locked")
	}
	admin.json(&got, "apikey", "disable", k.ID)
	if !got.Disabled {
		t.Error("disable: not disabled")
	}
	// A disabled key's session stops working; its key no longer logs in.
	u.fails(1, []string{"401"}, "me")
	u.fails(1, []string{"BXNIM0415E"}, "login", "--server", server, "--apikey", "@"+file)
	admin.json(&got, "apikey", "enable", k.ID)
	if got.Disabled {
		t.Error("enable: still disabled")
	}

	rotated := filepath.Join(dir, "ci-rotated.json")
	var nk client.APIKey
	admin.json(&nk, "apikey", "rotate", k.ID, "--grace", "1h", "--file", rotated)
	if rkf := checkKeyFile(t, rotated); nk.ID == k.ID || rkf.UUID != nk.ID || rkf.APIKey == kf.APIKey {
		t.Errorf("rotate: %+v, file %+v", nk, rkf)
	}

	var leaks []client.LeakResult
	admin.json(&leaks, "apikey", "leaked", shown.APIKey, "gatehouse_NotAKeyAtAll0000000000000000000000000")
	if len(leaks) != 2 || !leaks[0].Matched || leaks[0].ID != shown.ID || leaks[1].Matched {
		t.Errorf("leaked: %+v", leaks)
	}
	admin.json(&got, "apikey", "get", shown.ID)
	if !got.Disabled {
		t.Error("a leaked key (action disable) is not disabled")
	}

	admin.fails(2, []string{"--yes"}, "apikey", "delete", shown.ID)
	r = admin.run("apikey", "delete", shown.ID, "--yes")
	if r.code != 0 || !strings.Contains(r.stderr, "Deleted API key "+shown.ID) {
		t.Errorf("delete: exit %d\n%s", r.code, r.stderr)
	}
	admin.fails(1, []string{"404", "not_found"}, "apikey", "get", shown.ID)
}

func cliServiceIDs(t *testing.T, admin *user, server string) {
	file := filepath.Join(t.TempDir(), "bot.json")
	var s client.ServiceID
	admin.json(&s, "serviceid", "create", "billing-job", "-d", "nightly export", "--key-name", "billing-key", "--file", file)
	kf := checkKeyFile(t, file)
	if !strings.HasPrefix(s.ID, "ServiceId-") || s.APIKey == nil || s.APIKey.APIKey != "" || kf.UUID != s.APIKey.ID {
		t.Errorf("create: %+v, file %+v", s, kf)
	}
	var list []client.ServiceID
	admin.json(&list, "serviceid", "list")
	if !slices.ContainsFunc(list, func(x client.ServiceID) bool { return x.ID == s.ID }) {
		t.Errorf("list lacks %s", s.ID)
	}
	if out := admin.ok("serviceid", "list", "-o", "table"); !strings.Contains(out, "IAM ID") || !strings.Contains(out, "billing-job") {
		t.Errorf("list -o table:\n%s", out)
	}
	var got client.ServiceID
	admin.json(&got, "serviceid", "update", s.ID, "--name", "billing", "-d", "exports")
	if got.Name != "billing" || got.Description != "exports" {
		t.Errorf("update: %+v", got)
	}
	admin.json(&got, "serviceid", "lock", s.ID)
	if !got.Locked {
		t.Error("lock: not locked")
	}
	admin.fails(1, []string{"409"}, "serviceid", "delete", s.ID, "--yes")
	admin.json(&got, "serviceid", "unlock", s.ID)
	admin.json(&got, "serviceid", "get", s.ID)
	if got.Locked || got.Name != "billing" {
		t.Errorf("get: %+v", got)
	}
	admin.ok("serviceid", "delete", s.ID, "--yes")
	admin.fails(1, []string{"not_found"}, "serviceid", "get", s.ID)
}

func cliOrgs(t *testing.T, admin *user) {
	var o client.Org
	admin.json(&o, "org", "create", "acme", "--title", "Acme")
	if o.Name != "acme" || o.Title != "Acme" {
		t.Errorf("create: %+v", o)
	}
	admin.json(&o, "org", "create", "scratch")
	var orgs []client.Org
	admin.json(&orgs, "org", "list")
	if len(orgs) != 2 {
		t.Errorf("list: %+v", orgs)
	}
	if out := admin.ok("org", "list", "-o", "table"); !strings.HasPrefix(out, "ID ") || !strings.Contains(out, "TITLE") {
		t.Errorf("list -o table:\n%s", out)
	}
	admin.json(&o, "org", "update", "acme", "--title", "Acme Climbing")
	if o.Title != "Acme Climbing" {
		t.Errorf("update: %+v", o)
	}
	admin.json(&o, "org", "get", "acme")
	if o.Title != "Acme Climbing" {
		t.Errorf("get: %+v", o)
	}

	var env client.Environment
	admin.json(&env, "catalog", "create", "prod", "--org", "acme", "--title", "Production")
	if env.Name != "prod" {
		t.Errorf("catalog create: %+v", env)
	}
	var envs []client.Environment
	admin.json(&envs, "catalog", "list", "--org", "acme")
	if len(envs) != 2 { // sb and prod
		t.Errorf("catalog list: %+v", envs)
	}
	admin.json(&env, "catalog", "get", "sb", "--org", "acme")
	if env.Name != "sb" {
		t.Errorf("catalog get: %+v", env)
	}
	admin.ok("catalog", "delete", "prod", "--org", "acme", "--yes")
	admin.fails(1, []string{"not_found"}, "catalog", "get", "prod", "--org", "acme")
	admin.ok("org", "delete", "scratch", "--yes")
	admin.fails(1, []string{"not_found"}, "org", "get", "scratch")
}

func cliUsersAndPolicies(t *testing.T, admin *user) {
	r := admin.runIn("correct horse battery staple\n", nil, "user", "create", "ada", "--name", "Ada Lovelace", "--email", "ada@example.com", "--password", "-o", "json")
	var u client.User
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &u) != nil || u.Username != "ada" || !u.PasswordSet {
		t.Fatalf("user create: exit %d %+v\n%s", r.code, u, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "correct horse") {
		t.Error("the password was echoed")
	}
	var users []client.User
	admin.json(&users, "user", "list")
	if !slices.ContainsFunc(users, func(x client.User) bool { return x.Username == "ada" }) {
		t.Errorf("list lacks ada: %+v", users)
	}
	if out := admin.ok("user", "list", "-o", "table"); !strings.Contains(out, "USERNAME") || !strings.Contains(out, "ada") {
		t.Errorf("list -o table:\n%s", out)
	}
	admin.json(&u, "user", "update", "ada", "--email", "ada@example.org", "--disable")
	if u.Email != "ada@example.org" || !u.Disabled {
		t.Errorf("update --disable: %+v", u)
	}
	admin.json(&u, "user", "update", "ada", "--enable")
	if u.Disabled {
		t.Error("update --enable: still disabled")
	}
	r = admin.runIn("another good password\n", nil, "user", "update", "ada", "--password", "-o", "json")
	if r.code != 0 {
		t.Errorf("update --password: exit %d\n%s", r.code, r.stderr)
	}
	admin.json(&u, "user", "get", "ada")
	if u.Name != "Ada Lovelace" {
		t.Errorf("get: %+v", u)
	}

	var p client.Policy
	admin.json(&p, "policy", "create", "--subject", "ada", "--role", "Writer", "--org", "acme")
	if p.Subject != u.IAMID || p.Role != "Writer" || p.Resource.Org == "" {
		t.Errorf("policy create: %+v", p)
	}
	var ps []client.Policy
	admin.json(&ps, "policy", "list", "--subject", "ada")
	if len(ps) != 1 || ps[0].ID != p.ID {
		t.Errorf("policy list --subject: %+v", ps)
	}
	if out := admin.ok("policy", "list", "-o", "table"); !strings.Contains(out, "SUBJECT") || !strings.Contains(out, "org acme") {
		t.Errorf("policy list -o table:\n%s", out)
	}
	var pg client.Policy
	admin.json(&pg, "policy", "get", p.ID)
	if pg.ID != p.ID {
		t.Errorf("policy get: %+v", pg)
	}
	admin.ok("policy", "delete", p.ID, "--yes")
	admin.fails(1, []string{"not_found"}, "policy", "get", p.ID)
	admin.ok("user", "delete", "ada", "--yes")
	admin.fails(1, []string{"not_found"}, "user", "get", "ada")
}

func cliAPIManager(t *testing.T, admin *user, srv *proc) {
	org := []string{"--org", "acme"}
	cat := []string{"--org", "acme", "--catalog", "sb"}
	corg := append(slices.Clone(cat), "--consumer-org", "climbers")
	with := func(base []string, args ...string) []string { return append(args, base...) }

	// A directory with the examples and one broken document.
	dir := copyDir(t, filepath.Join("testdata", "apis"))
	if err := os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("swagger: '2.0'\ninfo: {title: Broken}\npaths: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a document"), 0o644)
	r := admin.run(with(org, "api", "import", dir, "-o", "json")...)
	if r.code != 1 {
		t.Errorf("import with a broken file: exit %d, want 1\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"[1/4] broken.yaml … failed", "/info/version", "validation_failed",
		"[2/4] petstore-oas3.yaml … ok", "[3/4] status-public-oas3.json … ok", "[4/4] weather-oas2.yaml … ok",
		"Imported 3 of 4", "1 failed: broken.yaml",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("import progress lacks %q:\n%s", want, r.stderr)
		}
	}
	var imported []client.Draft
	if err := json.Unmarshal([]byte(r.stdout), &imported); err != nil || len(imported) != 3 {
		t.Errorf("import stdout: %v\n%s", err, r.stdout)
	}
	var apis []client.Draft
	admin.json(&apis, with(org, "api", "list")...)
	if len(apis) != 3 {
		t.Errorf("api list: %+v", apis)
	}
	if out := admin.ok(with(org, "api", "list", "-o", "table")...); !strings.Contains(out, "BASE PATH") || !strings.Contains(out, "/weather") {
		t.Errorf("api list -o table:\n%s", out)
	}
	if doc := admin.ok(with(org, "api", "get", "weather:1.0.0")...); !strings.Contains(doc, "swagger: '2.0'") {
		t.Errorf("api get prints the document as submitted:\n%s", doc)
	}
	var asJSON map[string]any
	admin.json(&asJSON, with(org, "api", "get", "weather:1.0.0")...)
	if asJSON["swagger"] != "2.0" {
		t.Errorf("api get -o json: %v", asJSON)
	}
	var d client.Draft
	admin.json(&d, with(org, "api", "replace", "status:1.0.0", filepath.Join("testdata", "apis", "status-public-oas3.json"))...)
	if d.Ref() != "status:1.0.0" {
		t.Errorf("api replace: %+v", d)
	}
	admin.ok(with(org, "api", "delete", "status:1.0.0", "--yes")...)
	admin.fails(1, []string{"not_found"}, with(org, "api", "get", "status:1.0.0")...)
	// A single file, and a broken one with its pointer.
	admin.json(&d, with(org, "api", "import", filepath.Join("testdata", "apis", "status-public-oas3.json"))...)
	admin.fails(1, []string{"/info/version"}, with(org, "api", "import", filepath.Join(dir, "broken.yaml"))...)

	// Products.
	admin.json(&d, with(org, "product", "create", filepath.Join("testdata", "weather-product.yaml"))...)
	if d.Ref() != "weather-product:1.0.0" {
		t.Errorf("product create: %+v", d)
	}
	var products []client.Draft
	admin.json(&products, with(org, "product", "list")...)
	if len(products) != 1 {
		t.Errorf("product list: %+v", products)
	}
	if doc := admin.ok(with(org, "product", "get", "weather-product:1.0.0")...); !strings.Contains(doc, "forecast-only") {
		t.Errorf("product get:\n%s", doc)
	}
	admin.json(&d, with(org, "product", "replace", "weather-product:1.0.0", filepath.Join("testdata", "weather-product.yaml"))...)
	var pub client.Publication
	admin.json(&pub, with(cat, "product", "publish", "weather-product:1.0.0")...)
	if pub.State != client.StatePublished || len(pub.Plans) != 3 {
		t.Errorf("publish: %+v", pub)
	}
	var pubs []client.Publication
	admin.json(&pubs, with(cat, "product", "list-published")...)
	if len(pubs) != 1 || pubs[0].State != client.StatePublished {
		t.Errorf("list-published: %+v", pubs)
	}
	if out := admin.ok(with(cat, "product", "list-published", "-o", "table")...); !strings.Contains(out, "STATE") || !strings.Contains(out, "published") {
		t.Errorf("list-published -o table:\n%s", out)
	}

	// Consumers.
	var co client.ConsumerOrg
	admin.json(&co, with(cat, "consumer-org", "create", "climbers", "--title", "Climbers Inc")...)
	if co.Name != "climbers" {
		t.Errorf("consumer-org create: %+v", co)
	}
	admin.json(&co, with(cat, "consumer-org", "create", "scratch")...)
	var cos []client.ConsumerOrg
	admin.json(&cos, with(cat, "consumer-org", "list")...)
	if len(cos) != 2 {
		t.Errorf("consumer-org list: %+v", cos)
	}
	admin.json(&co, with(cat, "consumer-org", "get", "climbers")...)
	admin.ok(with(cat, "consumer-org", "delete", "scratch", "--yes")...)

	r = admin.run(with(corg, "app", "create", "route-finder", "-d", "mobile app", "-o", "json")...)
	var app client.App
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &app) != nil || app.Credentials == nil || app.Credentials.ClientSecret == "" {
		t.Fatalf("app create: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "cannot be shown again") {
		t.Errorf("app create does not warn about the secret:\n%s", r.stderr)
	}
	var got client.App
	admin.json(&got, with(corg, "app", "get", "route-finder")...)
	if got.ID != app.ID || got.Credentials != nil {
		t.Errorf("app get: %+v", got)
	}
	if out := admin.ok(with(corg, "app", "get", "route-finder", "-o", "table")...); strings.Contains(out, app.Credentials.ClientSecret) {
		t.Error("app get shows the secret")
	}
	var apps []client.App
	admin.json(&apps, with(cat, "app", "list")...)
	if len(apps) != 1 {
		t.Errorf("app list (catalog): %+v", apps)
	}
	admin.json(&apps, with(corg, "app", "list")...)
	if len(apps) != 1 {
		t.Errorf("app list (consumer org): %+v", apps)
	}

	var cred client.Credential
	admin.json(&cred, with(corg, "app", "credentials", "add", "route-finder")...)
	if cred.ClientID == "" || cred.ClientSecret == "" {
		t.Errorf("credentials add: %+v", cred)
	}
	var creds []client.Credential
	admin.json(&creds, with(corg, "app", "credentials", "list", "route-finder")...)
	if len(creds) != 2 || creds[0].ClientSecret != "" {
		t.Errorf("credentials list: %+v", creds)
	}
	var reset client.Credential
	admin.json(&reset, with(corg, "app", "credentials", "reset-secret", "route-finder", cred.ClientID)...)
	if reset.ClientSecret == "" || reset.ClientSecret == cred.ClientSecret {
		t.Errorf("reset-secret: %+v", reset)
	}
	admin.ok(with(corg, "app", "credentials", "delete", "route-finder", cred.ClientID, "--yes")...)
	admin.json(&creds, with(corg, "app", "credentials", "list", "route-finder")...)
	if len(creds) != 1 {
		t.Errorf("credentials after delete: %+v", creds)
	}

	var sub client.Subscription
	admin.json(&sub, with(corg, "subscription", "create", "--app", "route-finder", "--product", "weather-product:1.0.0", "--plan", "gold")...)
	if sub.State != client.SubscriptionPending || sub.Approved {
		t.Errorf("subscription to an approval plan: %+v", sub)
	}
	admin.json(&sub, with(corg, "subscription", "approve", sub.ID, "--app", "route-finder")...)
	if sub.State != client.SubscriptionActive || !sub.Approved {
		t.Errorf("approve: %+v", sub)
	}
	var subs []client.Subscription
	admin.json(&subs, with(cat, "subscription", "list")...)
	if len(subs) != 1 || subs[0].ID != sub.ID {
		t.Errorf("subscription list: %+v", subs)
	}
	admin.json(&subs, with(corg, "subscription", "list", "--app", "route-finder")...)
	if len(subs) != 1 {
		t.Errorf("subscription list --app: %+v", subs)
	}

	// A call through the gateway makes an event (the backend is down: 502).
	gw := "http://" + srv.GatewayAddr + "/acme/sb/weather/current?city=Oslo"
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest("GET", gw, nil)
		req.Header.Set("X-IBM-Client-Id", app.Credentials.ClientID)
		req.Header.Set("X-IBM-Client-Secret", app.Credentials.ClientSecret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 && res.StatusCode != 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway does not route the published API: %d", res.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var events []client.Event
	for {
		admin.json(&events, with(cat, "events", "--api", "weather:1.0.0", "--after", "1h")...)
		if len(events) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(events) == 0 || events[0].API != "weather:1.0.0" {
		t.Errorf("events: %+v", events)
	}
	if out := admin.ok(with(cat, "events", "-o", "table")...); !strings.Contains(out, "STATUS") || !strings.Contains(out, "weather:1.0.0") {
		t.Errorf("events -o table:\n%s", out)
	}
	var an client.Analytics
	admin.json(&an, with(cat, "analytics", "--since", "1h", "--interval", "1m")...)
	if an.Calls == 0 || len(an.ByAPI) == 0 {
		t.Errorf("analytics: %+v", an)
	}
	if out := admin.ok(with(cat, "analytics", "-o", "table")...); !strings.Contains(out, "CALLS") || !strings.Contains(out, "P95") {
		t.Errorf("analytics -o table:\n%s", out)
	}

	// Lifecycle: deprecated takes no new subscriptions; retired stops serving.
	admin.json(&pub, with(cat, "product", "deprecate", "weather-product:1.0.0")...)
	if pub.State != client.StateDeprecated {
		t.Errorf("deprecate: %+v", pub)
	}
	admin.fails(1, []string{"409"}, with(corg, "subscription", "create", "--app", "route-finder", "--product", "weather-product:1.0.0")...)
	admin.json(&pub, with(cat, "product", "retire", "weather-product:1.0.0")...)
	if pub.State != client.StateRetired {
		t.Errorf("retire: %+v", pub)
	}
	admin.ok(with(corg, "subscription", "delete", sub.ID, "--app", "route-finder", "--yes")...)
	admin.ok(with(corg, "app", "delete", "route-finder", "--yes")...)
	admin.fails(1, []string{"not_found"}, with(corg, "app", "get", "route-finder")...)
	admin.ok(with(org, "product", "delete", "weather-product:1.0.0", "--yes")...)
}

// Failures before or without a server: usage errors exit 2, the rest 1 with
// what to do.
func TestCLIErrorExits(t *testing.T) {
	t.Parallel()
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close()

	u := newCLI(t)
	u.fails(2, []string{`unknown command "frobnicate"`}, "frobnicate")
	u.fails(2, []string{`unknown command "frob" for "gatehouse apikey"`}, "apikey", "frob")
	u.fails(2, []string{"--frob"}, "apikey", "list", "--frob")
	u.fails(2, []string{"table, json or yaml"}, "org", "list", "-o", "xml")
	u.fails(2, []string{`"org"`}, "api", "list")
	u.fails(2, []string{"needs ID"}, "apikey", "get")
	u.fails(2, []string{"not confirmed", "--yes"}, "apikey", "delete", "ApiKey-1")
	u.fails(1, []string{"not logged in", "gatehouse login"}, "me")
	u.fails(1, []string{"cannot reach " + down, "server running"}, "me", "--server", down, "--apikey", "gatehouse_whatever")
	u.fails(1, []string{"cannot reach " + down}, "login", "--server", down, "--apikey", "gatehouse_whatever")
	if _, err := os.Stat(u.cacheDir()); !os.IsNotExist(err) {
		t.Errorf("failed commands created %s", u.cacheDir())
	}
	if out := u.ok("completion", "bash"); !strings.Contains(out, "bash completion") {
		t.Errorf("completion bash:\n%.200s", out)
	}
	if out := u.ok("--help"); !strings.Contains(out, "apikey") || !strings.Contains(out, "subscription") {
		t.Errorf("--help:\n%s", out)
	}
}
