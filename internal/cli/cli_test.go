package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/cli"
)

type result struct {
	code           int
	stdout, stderr string
}

// run calls cli.Main. A command that should fail before serving but starts a
// server instead would block forever, so it is given a deadline.
func run(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- cli.Main(args, &out, &errb) }()
	select {
	case code := <-done:
		return result{code, out.String(), errb.String()}
	case <-time.After(30 * time.Second):
		t.Fatalf("gatehouse %s did not return within 30s", strings.Join(args, " "))
		return result{}
	}
}

// serveArgs are serve flags that never collide with a real server, should
// validation wrongly let serve start.
func serveArgs(t *testing.T, extra ...string) []string {
	return append([]string{"serve", "--data", filepath.Join(t.TempDir(), "data"),
		"--addr", "127.0.0.1:0", "--gateway-addr", "127.0.0.1:0"}, extra...)
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args func(t *testing.T) []string
		code int
		want []string // in stderr
	}{
		{name: "usage/unknown-command", args: fixed("frobnicate"), code: 2, want: []string{`unknown command "frobnicate"`}},
		{name: "usage/unknown-flag-on-serve", args: func(t *testing.T) []string { return serveArgs(t, "--frobnicate") }, code: 2, want: []string{"--frobnicate"}},
		{name: "usage/unknown-flag-on-init", args: fixed("init", "--frobnicate"), code: 2, want: []string{"--frobnicate"}},
		{name: "usage/unknown-shorthand", args: fixed("version", "-z"), code: 2, want: []string{"-z"}},
		{name: "usage/flag-without-value", args: fixed("serve", "--addr"), code: 2, want: []string{"--addr"}},
		{name: "usage/unparsable-duration-flag", args: func(t *testing.T) []string { return serveArgs(t, "--token-ttl", "soon") }, code: 2, want: []string{"token-ttl", "soon"}},
		{name: "usage/serve-takes-no-arguments", args: func(t *testing.T) []string { return serveArgs(t, "extra") }, code: 2, want: []string{"no arguments"}},
		{name: "usage/version-takes-no-arguments", args: fixed("version", "extra"), code: 2},
		{
			name: "usage/serve-token-ttl-over-24h",
			args: func(t *testing.T) []string { return serveArgs(t, "--token-ttl", "48h") },
			code: 2, want: []string{"invalid configuration", "--token-ttl", "24h"},
		},
		{
			name: "usage/init-token-ttl-over-24h",
			args: func(t *testing.T) []string {
				return []string{"init", "--data", filepath.Join(t.TempDir(), "d"), "--token-ttl", "48h"}
			},
			code: 2, want: []string{"--token-ttl"},
		},
		{
			name: "usage/every-config-problem-reported",
			args: func(t *testing.T) []string {
				return serveArgs(t, "--log-format", "xml", "--signing-alg", "HS256", "--tls-cert", "c.pem")
			},
			code: 2, want: []string{"--log-format", "--signing-alg", "--tls-cert"},
		},
		{name: "usage/postgres-url-without-host", args: func(t *testing.T) []string { return serveArgs(t, "--database", "postgres:///x") }, code: 2, want: []string{"--database"}},
		{name: "usage/redis-url-wrong-scheme", args: func(t *testing.T) []string { return serveArgs(t, "--redis", "memcache://x") }, code: 2, want: []string{"--redis"}},
		{
			name: "no/init-where-data-is-a-file",
			args: func(t *testing.T) []string {
				f := filepath.Join(t.TempDir(), "file")
				if err := os.WriteFile(f, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return []string{"init", "--data", f}
			},
			code: 1, want: []string{"data directory"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args(t)
			r := run(t, args...)
			if r.code != tt.code {
				t.Errorf("gatehouse %s: exit %d, want %d\nstderr: %s", strings.Join(args, " "), r.code, tt.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not mention %q:\n%s", w, r.stderr)
				}
			}
			if r.code == 2 {
				// usage errors are caught before anything touches the disk
				for i, a := range args {
					if a == "--data" {
						if _, err := os.Stat(args[i+1]); err == nil {
							t.Errorf("a usage error created the data directory %s", args[i+1])
						}
					}
				}
			}
		})
	}
}

func fixed(args ...string) func(*testing.T) []string {
	return func(*testing.T) []string { return args }
}

// A bad environment value is a usage error that names the variable.
func TestBadEnvironmentNamesTheVariable(t *testing.T) {
	t.Setenv("GATEHOUSE_TOKEN_TTL", "soon")
	t.Setenv("GATEHOUSE_SIGNING_KEY_ROTATION", "monthly")
	r := run(t, serveArgs(t)...)
	if r.code != 2 {
		t.Errorf("exit %d, want 2\nstderr: %s", r.code, r.stderr)
	}
	for _, v := range []string{"GATEHOUSE_TOKEN_TTL", "GATEHOUSE_SIGNING_KEY_ROTATION"} {
		if !strings.Contains(r.stderr, v) {
			t.Errorf("stderr does not name %s:\n%s", v, r.stderr)
		}
	}
}

// A flag beats the environment: a bad GATEHOUSE_ value is not even read
// when the flag is given.
func TestFlagBeatsEnvironment(t *testing.T) {
	t.Setenv("GATEHOUSE_LOG_FORMAT", "xml")
	t.Setenv("GATEHOUSE_SIGNING_ALG", "HS256")
	dir := filepath.Join(t.TempDir(), "data")
	r := run(t, "init", "--data", dir, "--log-format", "json", "--signing-alg", "EdDSA")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\nstderr: %s", r.code, r.stderr)
	}
}

func TestVersion(t *testing.T) {
	r := run(t, "version")
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
	}
	for _, w := range []string{"gatehouse " + cli.Version, "commit ", runtime.Version()} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("version output lacks %q:\n%s", w, r.stdout)
		}
	}
}

func TestInit(t *testing.T) {
	data := filepath.Join(t.TempDir(), "nested", "data")
	keyFile := filepath.Join(data, "admin-apikey.json")
	masterKey := filepath.Join(data, "master.key")

	r := run(t, "init", "--data", data)
	if r.code != 0 {
		t.Fatalf("init: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	wantMode(t, data, os.ModeDir|0o700)
	wantMode(t, masterKey, 0o600)
	wantMode(t, keyFile, 0o600)
	wantMode(t, filepath.Join(data, "gatehouse.db"), 0o600)

	kf := readKeyFile(t, keyFile)
	if !strings.Contains(r.stdout, keyFile) {
		t.Errorf("init does not say where the key is (%s):\n%s", keyFile, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, kf.APIKey) || strings.Contains(r.stdout+r.stderr, kf.APIKey[len(kf.APIKey)/2:]) {
		t.Errorf("init printed the key value:\n%s%s", r.stdout, r.stderr)
	}
	key1, mk1 := readFile(t, keyFile), readFile(t, masterKey)

	r = run(t, "init", "--data", data)
	if r.code != 0 {
		t.Fatalf("second init: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "already initialized") {
		t.Errorf("second init does not say it is already initialized:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, kf.APIKey) {
		t.Errorf("second init printed the key value")
	}
	if !bytes.Equal(readFile(t, keyFile), key1) {
		t.Error("second init changed admin-apikey.json")
	}
	if !bytes.Equal(readFile(t, masterKey), mk1) {
		t.Error("second init changed master.key")
	}
	ents, err := os.ReadDir(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("init left %s behind", e.Name())
		}
	}
}

// init tightens a data directory that already exists with a loose mode.
func TestInitTightensDataDir(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "init", "--data", data); r.code != 0 {
		t.Fatalf("init: exit %d\nstderr: %s", r.code, r.stderr)
	}
	wantMode(t, data, os.ModeDir|0o700)
}

// init honours --bootstrap-file and --master-key-file.
func TestInitExplicitPaths(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	keyFile := filepath.Join(dir, "secrets", "admin.json")
	masterKey := filepath.Join(dir, "mk")
	r := run(t, "init", "--data", data, "--bootstrap-file", keyFile, "--master-key-file", masterKey)
	if r.code != 0 {
		t.Fatalf("init: exit %d\nstderr: %s", r.code, r.stderr)
	}
	wantMode(t, keyFile, 0o600)
	wantMode(t, masterKey, 0o600)
	if !strings.Contains(r.stdout, keyFile) {
		t.Errorf("init does not name %s:\n%s", keyFile, r.stdout)
	}
	for _, f := range []string{"admin-apikey.json", "master.key"} {
		if _, err := os.Stat(filepath.Join(data, f)); err == nil {
			t.Errorf("%s written to the data directory despite the explicit path", f)
		}
	}
}

type keyFile struct {
	Name   string `json:"name"`
	APIKey string `json:"apikey"`
	UUID   string `json:"uuid"`
}

func readKeyFile(t *testing.T, path string) keyFile {
	t.Helper()
	var kf keyFile
	if err := json.Unmarshal(readFile(t, path), &kf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(kf.APIKey) < 32 || !strings.HasPrefix(kf.UUID, "ApiKey-") || kf.Name != "admin" {
		t.Fatalf("%s is not a bootstrap key file: %+v", path, kf)
	}
	return kf
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	if got := fi.Mode() & (os.ModeDir | os.ModePerm); got != want {
		t.Errorf("%s: mode %v, want %v", filepath.Base(path), got, want)
	}
}
