package iam_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gatehouse/client"
	"gatehouse/internal/errs"
	"gatehouse/internal/iam"
	"gatehouse/internal/store"
	"gatehouse/internal/token"
)

// testClock is a settable clock shared by the store, keyring and service.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is a service over a real SQLite store and keyring, bootstrapped.
type env struct {
	svc   *iam.Service
	store store.Store
	clock *testClock
	admin string // the admin key's value
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	clock := &testClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	st := openStore(t, filepath.Join(dir, "g.db"))
	file := filepath.Join(dir, "admin-apikey.json")
	if _, err := iam.Bootstrap(ctx, st, iam.BootstrapOptions{File: file, Now: clock.Now}); err != nil {
		t.Fatal(err)
	}
	sealer, err := token.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := token.NewKeyring(ctx, token.Config{Store: st, Sealer: sealer, Algorithm: token.EdDSA, Issuer: "https://gh.test", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := iam.New(ctx, iam.Config{Store: st, Tokens: kr, Issuer: "https://gh.test", TokenTTL: time.Hour, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	kf, err := client.ReadKeyFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, store: st, clock: clock, admin: kf.APIKey}
}

// principal exchanges a key (optionally down-scoped) and authenticates the token.
func (e *env) principal(t testing.TB, key, role string) *iam.Principal {
	t.Helper()
	tok, err := e.svc.Exchange(context.Background(), iam.ExchangeRequest{APIKey: key, Role: role})
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	p, err := e.svc.Authenticate(context.Background(), tok.Token)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return p
}

func (e *env) mustKey(t *testing.T, p *iam.Principal, in iam.CreateKeyInput) iam.CreatedKey {
	t.Helper()
	k, err := e.svc.CreateAPIKey(context.Background(), p, in)
	if err != nil {
		t.Fatalf("CreateAPIKey(%+v): %v", in, err)
	}
	return k
}

func wantCode(t *testing.T, what string, err error, code errs.Code) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("%s: error %v, want code %s", what, err, code)
	}
}

// A capped credential passes its cap on: a key created through it without a
// role is capped too, so it cannot outgrow its creator when the owner is
// promoted later.
func TestCappedCredentialPassesItsCapOn(t *testing.T) {
	e := newEnv(t)
	admin := e.principal(t, e.admin, "")
	writerKey := e.mustKey(t, admin, iam.CreateKeyInput{Name: "writer", Role: "Writer"})
	viaWriter := e.mustKey(t, e.principal(t, writerKey.Value, ""), iam.CreateKeyInput{Name: "child"})
	if viaWriter.Key.Role != "Writer" {
		t.Fatalf("key made through a Writer-capped key has cap %q, want Writer", viaWriter.Key.Role)
	}
	viaToken := e.mustKey(t, e.principal(t, e.admin, "Writer"), iam.CreateKeyInput{Name: "from a down-scoped token"})
	if viaToken.Key.Role != "Writer" {
		t.Fatalf("key made through a Writer token has cap %q, want Writer", viaToken.Key.Role)
	}
	uncapped := e.mustKey(t, admin, iam.CreateKeyInput{Name: "full"})
	if uncapped.Key.Role != "" {
		t.Fatalf("an uncapped credential made a capped key (%q)", uncapped.Key.Role)
	}
	_, err := e.svc.CreateAPIKey(context.Background(), e.principal(t, writerKey.Value, ""), iam.CreateKeyInput{Name: "up", Role: "Manager"})
	wantCode(t, "Writer-capped key asking for a Manager key", err, errs.Forbidden)
	_, err = e.svc.CreateAPIKey(context.Background(), e.principal(t, e.admin, "Reader"), iam.CreateKeyInput{Name: "reader"})
	wantCode(t, "a Reader token creating a key", err, errs.Forbidden)
}

// A capped credential cannot change a key more powerful than itself, even of
// the same owner: no disabling, re-enabling, deleting, updating or rotating
// the Administrator key through a Writer-capped one.
func TestCappedCredentialCannotChangeAStrongerKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.principal(t, e.admin, "")
	adminKey, err := e.svc.GetAPIKeyByValue(ctx, admin, e.admin)
	if err != nil {
		t.Fatal(err)
	}
	writer := e.principal(t, e.mustKey(t, admin, iam.CreateKeyInput{Name: "writer", Role: "Writer"}).Value, "")
	for name, call := range map[string]func() error{
		"disable": func() error { return e.svc.SetAPIKeyDisabled(ctx, writer, adminKey.ID, true) },
		"lock":    func() error { return e.svc.SetAPIKeyLocked(ctx, writer, adminKey.ID, true) },
		"delete":  func() error { return e.svc.DeleteAPIKey(ctx, writer, adminKey.ID) },
		"rotate":  func() error { _, err := e.svc.RotateAPIKey(ctx, writer, adminKey.ID, time.Hour); return err },
		"update": func() error {
			n := "renamed"
			_, err := e.svc.UpdateAPIKey(ctx, writer, adminKey.ID, iam.UpdateKeyInput{IfMatch: "*", Name: &n})
			return err
		},
	} {
		wantCode(t, name, call(), errs.Forbidden)
	}
	if after, _ := e.svc.GetAPIKey(ctx, admin, adminKey.ID); after.Version != adminKey.Version || after.Disabled || after.Locked {
		t.Fatalf("the admin key changed: %+v", after)
	}
	// A key capped at or below the credential can be changed through it.
	reader := e.mustKey(t, admin, iam.CreateKeyInput{Name: "reader", Role: "Reader"})
	if err := e.svc.SetAPIKeyDisabled(ctx, writer, reader.Key.ID, true); err != nil {
		t.Fatalf("Writer-capped key disabling a Reader-capped key: %v", err)
	}
}

// Removing the last policy of an identity revokes its live tokens and its
// keys stop exchanging (SPEC §2.3: removing the owner's access).
func TestRemovingAllAccessRevokesTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.principal(t, e.admin, "")
	u, err := e.svc.CreateUser(ctx, admin, iam.UserInput{Username: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := e.svc.CreatePolicy(ctx, admin, iam.PolicyInput{Subject: u.IAMID, Role: "Reader"})
	if err != nil {
		t.Fatal(err)
	}
	key := e.mustKey(t, admin, iam.CreateKeyInput{Name: "ada", IAMID: u.IAMID})
	tok, err := e.svc.Exchange(ctx, iam.ExchangeRequest{APIKey: key.Value})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeletePolicy(ctx, admin, pol.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(ctx, tok.Token)
	wantCode(t, "a live token after its owner lost all access", err, errs.InvalidToken)
	if _, err := e.svc.Exchange(ctx, iam.ExchangeRequest{APIKey: key.Value}); err != iam.ErrBadKey {
		t.Fatalf("exchange without access: %v, want ErrBadKey", err)
	}
}

// An expired key cannot be revived by an update, and a rotated key's grace
// can only shrink.
func TestUpdateCannotReviveRetiredKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.principal(t, e.admin, "")
	soon := e.mustKey(t, admin, iam.CreateKeyInput{Name: "soon", ExpiresAt: e.clock.Now().Add(time.Minute)})
	e.clock.Advance(2 * time.Minute)
	admin = e.principal(t, e.admin, "")
	_, err := e.svc.UpdateAPIKey(ctx, admin, soon.Key.ID, iam.UpdateKeyInput{IfMatch: "*", ExpiresAt: iam.OptionalTime{Set: true}})
	wantCode(t, "clearing the expiry of an expired key", err, errs.Conflict)

	old := e.mustKey(t, admin, iam.CreateKeyInput{Name: "old"})
	if _, err := e.svc.RotateAPIKey(ctx, admin, old.Key.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.UpdateAPIKey(ctx, admin, old.Key.ID, iam.UpdateKeyInput{IfMatch: "*", ExpiresAt: iam.OptionalTime{Set: true, Value: e.clock.Now().Add(48 * time.Hour)}})
	wantCode(t, "extending a rotated key's grace", err, errs.Conflict)
	shorter := e.clock.Now().Add(10 * time.Minute)
	k, err := e.svc.UpdateAPIKey(ctx, admin, old.Key.ID, iam.UpdateKeyInput{IfMatch: "*", ExpiresAt: iam.OptionalTime{Set: true, Value: shorter}})
	if err != nil || !k.ExpiresAt.Equal(shorter) {
		t.Fatalf("shortening a rotated key's grace: %v, %v", k.ExpiresAt, err)
	}
}

// The authorization cost per request: verifying the token (EdDSA here),
// checking revocation against the warm caches, and deciding roles.
func BenchmarkAuthenticateWarm(b *testing.B) {
	e := newEnv(b)
	tok, err := e.svc.Exchange(context.Background(), iam.ExchangeRequest{APIKey: e.admin})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.svc.Authenticate(ctx, tok.Token); err != nil {
			b.Fatal(err)
		}
	}
}

// The role decision alone, once the caller is known.
func BenchmarkEffectiveOrgRole(b *testing.B) {
	e := newEnv(b)
	p := e.principal(b, e.admin, "Writer")
	b.ReportAllocs()
	var r iam.Role
	for b.Loop() {
		r = max(r, p.OrgRole("some-org"), p.MaxRole())
	}
	if r != iam.Writer {
		b.Fatalf("role %v", r)
	}
}

// A user signs in with a password: the token works like a key's, and stops
// working when the user is disabled; failures all look alike.
func TestSignInWithPassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.principal(t, e.admin, "")
	u, err := e.svc.CreateUser(ctx, admin, iam.UserInput{Username: "ada", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	for name, try := range map[string][2]string{
		"no access yet":  {"ada", "correct horse battery"},
		"wrong password": {"ada", "wrong horse battery"},
		"unknown user":   {"bob", "correct horse battery"},
	} {
		if _, err := e.svc.SignInWithPassword(ctx, try[0], try[1]); err != iam.ErrBadCredentials {
			t.Errorf("%s: %v, want ErrBadCredentials", name, err)
		}
	}
	if _, err := e.svc.CreatePolicy(ctx, admin, iam.PolicyInput{Subject: u.IAMID, Role: "Writer"}); err != nil {
		t.Fatal(err)
	}
	tok, err := e.svc.SignInWithPassword(ctx, "ada", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Authenticate(ctx, tok.Token)
	if err != nil || p.IAMID() != u.IAMID || p.APIKeyID != "" || p.AccountRole() != iam.Writer {
		t.Fatalf("Authenticate(password token) = %+v, %v", p, err)
	}
	disabled := true
	if _, err := e.svc.PatchUser(ctx, admin, u.ID, iam.UserPatch{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(ctx, tok.Token)
	wantCode(t, "a password token after its user was disabled", err, errs.InvalidToken)
}
