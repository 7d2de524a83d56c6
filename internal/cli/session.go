package cli

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gatehouse/client"
)

// defaultServer is where the client commands go without --server,
// GATEHOUSE_SERVER or a login.
const defaultServer = "http://127.0.0.1:8080"

// refreshBefore is how long before its expiry a cached token is replaced.
const refreshBefore = 60 * time.Second

// session is what `gatehouse login` caches: the server and a token, never the
// API key. KeyFingerprint recognizes the key the token came from when the same
// key is given again (a one-way digest with its own prefix, so it is not even
// the server's lookup digest), so that a command can refresh the session with it.
type session struct {
	Server         string    `json:"server"`
	Token          string    `json:"token"`
	Expiration     time.Time `json:"expiration"`
	KeyFingerprint string    `json:"key_fingerprint,omitempty"`
}

func (s *session) fresh(now time.Time) bool {
	return s.Token != "" && now.Add(refreshBefore).Before(s.Expiration)
}

const sessionFile = "session.json"

// fingerprint identifies an API key without storing it.
func fingerprint(key string) string {
	sum := sha256.Sum256([]byte("gatehouse-cli-session\x00" + key))
	return hex.EncodeToString(sum[:16])
}

// normalizeServer accepts "host:port" for "http://host:port" and drops a
// trailing slash, so that one server has one spelling in the cache.
func normalizeServer(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	return strings.TrimRight(s, "/")
}

// readAPIKey resolves a --apikey value: the key itself, or @path of an
// apikey.json file (SPEC §2.2; only apikey is required).
func readAPIKey(v string) (string, error) {
	v = strings.TrimSpace(v)
	if path, ok := strings.CutPrefix(v, "@"); ok {
		if path == "" {
			return "", usageError{errors.New("--apikey @ needs a file name, e.g. --apikey @apikey.json")}
		}
		kf, err := client.ReadKeyFile(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", usageError{fmt.Errorf("API key file %s does not exist", path)}
			}
			return "", usageError{fmt.Errorf("read API key: %w", err)}
		}
		return strings.TrimSpace(kf.APIKey), nil
	}
	return v, nil
}

// store is the token cache directory (os.UserConfigDir()/gatehouse, 0700).
type store struct {
	dir func() (string, error)
}

func (st store) path() (string, error) {
	d, err := st.dir()
	if err != nil {
		return "", fmt.Errorf("find the configuration directory: %w", err)
	}
	return filepath.Join(d, sessionFile), nil
}

// load returns the cached session, or nil when there is none.
func (st store) load() (*session, error) {
	p, err := st.path()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the token cache: %w", err)
	}
	var s session
	if err := json.Unmarshal(data, &s); err != nil || s.Server == "" {
		// A damaged cache is as good as none; login rewrites it.
		return nil, nil
	}
	return &s, nil
}

// save writes the session atomically: the directory 0700, the file 0600.
func (st store) save(s *session) (string, error) {
	p, err := st.path()
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	// MkdirAll leaves an existing directory as it is; the token needs it private.
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", fmt.Errorf("protect %s: %w", dir, err)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, ".session-*.tmp")
	if err != nil {
		return "", fmt.Errorf("write the token cache: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return "", fmt.Errorf("write the token cache: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return "", fmt.Errorf("write the token cache: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write the token cache: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return "", fmt.Errorf("write the token cache: %w", err)
	}
	return p, nil
}

// remove forgets the session; it reports whether there was one.
func (st store) remove() (string, bool, error) {
	p, err := st.path()
	if err != nil {
		return "", false, err
	}
	err = os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("remove the token cache: %w", err)
	}
	return p, true, nil
}

// env is what the client commands share: the global flags, the process's
// streams and environment, and the token cache.
type env struct {
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	stdinTTY  bool
	stdoutTTY bool
	getenv    func(string) string
	now       func() time.Time
	cache     store

	// global flags
	serverFlag string
	apikeyFlag string
	output     string

	// resolved by api(), for error messages
	server string
	lines  *bufio.Reader // stdin, once read
}

// newEnv is the environment of a real process.
func newEnv(stdout, stderr io.Writer) *env {
	return &env{
		stdin:     os.Stdin,
		stdout:    stdout,
		stderr:    stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stdoutTTY: isTerminal(stdout),
		getenv:    os.Getenv,
		now:       time.Now,
		cache: store{dir: func() (string, error) {
			d, err := os.UserConfigDir()
			if err != nil {
				return "", err
			}
			return filepath.Join(d, "gatehouse"), nil
		}},
	}
}

// format is the -o format: tables on a terminal, JSON otherwise.
func (e *env) format() string {
	if e.output != "" {
		return e.output
	}
	if e.stdoutTTY {
		return formatTable
	}
	return formatJSON
}

// resolveServer: --server, GATEHOUSE_SERVER, the logged-in server, the default.
func (e *env) resolveServer(s *session) string {
	switch {
	case e.serverFlag != "":
		return normalizeServer(e.serverFlag)
	case e.getenv("GATEHOUSE_SERVER") != "":
		return normalizeServer(e.getenv("GATEHOUSE_SERVER"))
	case s != nil:
		return s.Server
	default:
		return defaultServer
	}
}

// apikey is the key of --apikey or GATEHOUSE_APIKEY ("" when neither is set).
func (e *env) apikey() (string, error) {
	v := e.apikeyFlag
	if v == "" {
		v = e.getenv("GATEHOUSE_APIKEY")
	}
	if v == "" {
		return "", nil
	}
	key, err := readAPIKey(v)
	if err == nil && key == "" {
		err = usageError{errors.New("the API key is empty")}
	}
	return key, err
}

// errNotLoggedIn is the error of a command that needs a token and has none.
type notLoggedIn struct{ msg string }

func (n notLoggedIn) Error() string { return n.msg }

const loginHint = "run gatehouse login --server URL --apikey @apikey.json, or pass --apikey / set GATEHOUSE_APIKEY"

// exchange trades key for a token at server.
func (e *env) exchange(ctx context.Context, server, key string, o client.TokenOptions) (*client.IAMToken, error) {
	tok, err := client.New(server).IAMToken(ctx, key, o)
	if err != nil {
		return nil, fmt.Errorf("exchange the API key for a token: %w", err)
	}
	return tok, nil
}

// api returns a client for the server with a token: the cached one while it
// is good for more than a minute; else one exchanged for the given key (and
// cached when it belongs to the session); else it says to log in.
func (e *env) api(ctx context.Context) (*client.Client, error) {
	sess, err := e.cache.load()
	if err != nil {
		return nil, err
	}
	server := e.resolveServer(sess)
	e.server = server
	key, err := e.apikey()
	if err != nil {
		return nil, err
	}
	now := e.now()
	if key != "" {
		fp := fingerprint(key)
		same := sess != nil && sess.Server == server && sess.KeyFingerprint == fp
		if same && sess.fresh(now) {
			return client.New(server).WithToken(sess.Token), nil
		}
		tok, err := e.exchange(ctx, server, key, client.TokenOptions{})
		if err != nil {
			return nil, err
		}
		// Cache it when it refreshes the session or starts one; a key other
		// than the logged-in one is used for this command only.
		if sess == nil || same {
			if _, err := e.cache.save(&session{Server: server, Token: tok.AccessToken,
				Expiration: time.Unix(tok.Expiration, 0).UTC(), KeyFingerprint: fp}); err != nil {
				fmt.Fprintf(e.stderr, "warning: %v\n", err)
			}
		}
		return client.New(server).WithToken(tok.AccessToken), nil
	}
	switch {
	case sess == nil:
		return nil, notLoggedIn{"not logged in: " + loginHint}
	case sess.Server != server:
		return nil, notLoggedIn{fmt.Sprintf("not logged in to %s (the session is with %s): run gatehouse login --server %s --apikey @apikey.json, or pass --apikey", server, sess.Server, server)}
	case !sess.fresh(now):
		return nil, notLoggedIn{fmt.Sprintf("the session with %s has expired: run gatehouse login --server %s --apikey @apikey.json again, or pass --apikey / set GATEHOUSE_APIKEY", server, server)}
	}
	return client.New(server).WithToken(sess.Token), nil
}
