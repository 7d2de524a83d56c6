package token_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/store"
	"gatehouse/internal/token"
)

const (
	day      = 24 * time.Hour
	rotation = token.DefaultRotationPeriod
	lead     = token.DefaultPublishLead
	// retention is how long a key stays published after its successor activates.
	retention = token.MaxTokenTTL + token.Leeway
)

func TestNewKeyringCreatesFirstKey(t *testing.T) {
	e := newEnv(t)
	kr := e.mustKeyring(t, token.ES256)
	if got := e.store.generations(); !reflect.DeepEqual(got, []int64{1}) {
		t.Fatalf("generations = %v, want [1]", got)
	}
	kid := kr.ActiveKeyID()
	if kid == "" || strings.ContainsAny(kid, "+/=.") || len(kid) < 16 {
		t.Fatalf("kid %q is not a random URL-safe id", kid)
	}
	// It signs at once.
	if got := kidOf(t, mustSign(t, kr, e.claims(time.Hour))); got != kid {
		t.Fatalf("signed with %s, want %s", got, kid)
	}
	// A second node, and a restart, reuse it.
	kr2 := e.mustKeyring(t, token.ES256)
	if kr2.ActiveKeyID() != kid || len(e.store.generations()) != 1 {
		t.Fatalf("second node created a key: %v", e.store.generations())
	}
}

func TestNewKeyringStoresSealedKey(t *testing.T) {
	e := newEnv(t)
	kr := e.mustKeyring(t, token.EdDSA)
	recs, _ := e.store.ListSigningKeys(context.Background())
	r := recs[0]
	if r.ID != kr.ActiveKeyID() || r.Algorithm != "EdDSA" || !r.ActivateAt.Equal(e.clock.Now()) || !r.CreatedAt.Equal(e.clock.Now()) {
		t.Fatalf("stored key %+v", r)
	}
	// The private part is PKCS #8 sealed with the kid as additional data.
	if _, err := e.sealer.Open(r.PrivateKey, []byte("another-kid")); !errors.Is(err, token.ErrWrongMasterKey) {
		t.Fatalf("sealed key opens with another kid: %v", err)
	}
	if _, err := e.sealer.Open(r.PrivateKey, []byte(r.ID)); err != nil {
		t.Fatalf("sealed key does not open with its kid: %v", err)
	}
}

func TestNewKeyringConfigErrors(t *testing.T) {
	_, err := token.NewKeyring(context.Background(), token.Config{Algorithm: "HS256", RotationPeriod: -1})
	if err == nil {
		t.Fatal("NewKeyring accepted an empty config")
	}
	for _, want := range []string{"Store is required", "Sealer is required", "HS256", "ES256, ES384, EdDSA, RS256", "Issuer is required", "RotationPeriod"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestWrongMasterKey(t *testing.T) {
	e := newEnv(t)
	e.mustKeyring(t, token.ES256)
	cfg := e.config(token.ES256)
	cfg.Sealer = mustSealer(t, randomKey(t))
	_, err := token.NewKeyring(context.Background(), cfg)
	if !errors.Is(err, token.ErrWrongMasterKey) {
		t.Fatalf("NewKeyring with another master key: %v, want ErrWrongMasterKey", err)
	}
	if !strings.Contains(err.Error(), "master key does not match the one the signing keys were sealed with") ||
		!strings.Contains(err.Error(), "--master-key-file") {
		t.Fatalf("error %q does not say the master key is wrong", err)
	}
	if len(e.store.generations()) != 1 {
		t.Fatal("a node with the wrong master key created a key")
	}

	t.Run("fail/altered-sealed-key", func(t *testing.T) {
		e.store.corrupt()
		_, err := token.NewKeyring(context.Background(), e.config(token.ES256))
		if !errors.Is(err, token.ErrWrongMasterKey) {
			t.Fatalf("NewKeyring with an altered key: %v", err)
		}
	})
}

func TestChangingAlgorithmCreatesKey(t *testing.T) {
	e := newEnv(t)
	es := e.mustKeyring(t, token.ES256)
	esKID := es.ActiveKeyID()
	esTok := mustSign(t, es, e.claims(time.Hour))

	e.clock.Advance(time.Minute)
	ed := e.mustKeyring(t, token.EdDSA)
	// Published at once, signing only after the publish lead.
	if ed.ActiveKeyID() != esKID {
		t.Fatal("the new algorithm's key signs before it was published for PublishLead")
	}
	if got := jwksKIDs(t, ed); len(got) != 2 {
		t.Fatalf("JWKS kids = %v, want the scheduled key published beside the old one", got)
	}
	e.clock.Advance(lead)
	if ed.ActiveKeyID() == esKID {
		t.Fatal("no new key for the new algorithm after the publish lead")
	}
	tok := mustSign(t, ed, e.claims(time.Hour))
	if h := headerOf(t, tok); !strings.HasPrefix(h, `{"alg":"EdDSA"`) {
		t.Fatalf("header %s", h)
	}
	if got := ed.Algorithms(); !reflect.DeepEqual(got, []token.Algorithm{token.EdDSA, token.ES256}) {
		t.Fatalf("Algorithms() = %v", got)
	}
	if got := jwksKIDs(t, ed); !reflect.DeepEqual(got, []string{ed.ActiveKeyID(), esKID}) {
		t.Fatalf("JWKS kids = %v", got)
	}
	mustVerify(t, ed, esTok) // old tokens stay valid

	// The ES256 node follows once it reloads: it signs with the active key.
	if err := es.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if kidOf(t, mustSign(t, es, e.claims(time.Hour))) != ed.ActiveKeyID() {
		t.Fatal("the other node does not sign with the new key")
	}
	// Restarting with EdDSA again changes nothing.
	e.mustKeyring(t, token.EdDSA)
	if got := e.store.generations(); !reflect.DeepEqual(got, []int64{1, 2}) {
		t.Fatalf("generations = %v", got)
	}
}

// TestAutomaticRotation walks a key's whole life on an injected clock.
func TestAutomaticRotation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	t0 := e.clock.Now()
	kr := e.mustKeyring(t, token.ES256)
	k1 := kr.ActiveKeyID()
	maintain := func(at time.Time) {
		t.Helper()
		e.clock.Set(at)
		if err := kr.Maintain(ctx); err != nil {
			t.Fatalf("Maintain at %v: %v", at.Sub(t0), err)
		}
	}
	signingKID := func(at time.Time) string {
		t.Helper()
		e.clock.Set(at)
		return kidOf(t, mustSign(t, kr, e.claims(time.Hour)))
	}

	maintain(t0.Add(rotation - lead - time.Second))
	if got := jwksKIDs(t, kr); len(got) != 1 {
		t.Fatalf("next key created %v early: %v", time.Second, got)
	}

	maintain(t0.Add(rotation - lead))
	maintain(t0.Add(rotation - lead)) // idempotent
	kids := jwksKIDs(t, kr)
	if len(kids) != 2 || kids[1] != k1 {
		t.Fatalf("after Maintain at rotation-lead JWKS = %v, want [next, %s]", kids, k1)
	}
	k2 := kids[0]
	if got := e.store.generations(); !reflect.DeepEqual(got, []int64{1, 2}) {
		t.Fatalf("generations = %v", got)
	}
	// Published PublishLead before it signs anything.
	if got := signingKID(t0.Add(rotation - lead)); got != k1 {
		t.Fatalf("the scheduled key signs at publication: %s", got)
	}
	if kr.ActiveKeyID() != k1 {
		t.Fatal("ActiveKeyID switched early")
	}
	// The last token of k1, with the longest lifetime.
	e.clock.Set(t0.Add(rotation - time.Nanosecond))
	last := mustSign(t, kr, e.claims(token.MaxTokenTTL))
	if kidOf(t, last) != k1 {
		t.Fatal("switched before ActivateAt")
	}
	// Sign switches at ActivateAt exactly.
	if got := signingKID(t0.Add(rotation)); got != k2 {
		t.Fatalf("at ActivateAt signed with %s, want %s", got, k2)
	}
	if kr.ActiveKeyID() != k2 {
		t.Fatal("ActiveKeyID did not switch")
	}

	// k1 stays published until successor.ActivateAt + MaxTokenTTL + Leeway.
	// Its last token (exp rounded down to the second) verifies until exp+Leeway.
	lastExp := t0.Add(rotation - time.Second + token.MaxTokenTTL)
	maintain(lastExp.Add(token.Leeway))
	if got := mustVerify(t, kr, last); got.ExpiresAt != lastExp.Unix() {
		t.Fatalf("exp = %d, want %d", got.ExpiresAt, lastExp.Unix())
	}
	maintain(t0.Add(rotation + retention - time.Nanosecond))
	if got := jwksKIDs(t, kr); !reflect.DeepEqual(got, []string{k2, k1}) {
		t.Fatalf("k1 deleted early: JWKS %v", got)
	}
	maintain(t0.Add(rotation + retention))
	if got := jwksKIDs(t, kr); !reflect.DeepEqual(got, []string{k2}) {
		t.Fatalf("k1 not deleted at successor+MaxTokenTTL+Leeway: JWKS %v", got)
	}
	if got := e.store.generations(); !reflect.DeepEqual(got, []int64{2}) {
		t.Fatalf("generations = %v", got)
	}
	_, err := kr.Verify(ctx, last)
	wantInvalid(t, err, "kid names no published key")
	if got := kr.Algorithms(); !reflect.DeepEqual(got, []token.Algorithm{token.ES256}) {
		t.Fatalf("Algorithms() = %v", got)
	}
}

// TestLateRotationStillPublishesFirst: when Maintain has not run for longer
// than the rotation period, the next key still waits PublishLead.
func TestLateRotationStillPublishesFirst(t *testing.T) {
	e := newEnv(t)
	t0 := e.clock.Now()
	kr := e.mustKeyring(t, token.EdDSA)
	k1 := kr.ActiveKeyID()

	late := t0.Add(rotation + 10*day)
	e.clock.Set(late)
	if err := kr.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(jwksKIDs(t, kr)); n != 2 {
		t.Fatalf("JWKS has %d keys", n)
	}
	e.clock.Set(late.Add(lead - time.Nanosecond))
	if kr.ActiveKeyID() != k1 {
		t.Fatal("the late key signs before PublishLead has passed")
	}
	e.clock.Set(late.Add(lead))
	if kr.ActiveKeyID() == k1 {
		t.Fatal("the late key does not sign after PublishLead")
	}
}

func TestRotateNow(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	t0 := e.clock.Now()
	kr := e.mustKeyring(t, token.ES384)
	k1 := kr.ActiveKeyID()
	old := mustSign(t, kr, e.claims(token.MaxTokenTTL))

	e.clock.Advance(time.Hour)
	rotatedAt := e.clock.Now()
	k, err := kr.Rotate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if k.ID == k1 || k.Generation != 2 || k.Algorithm != "ES384" || !k.ActivateAt.Equal(rotatedAt) || k.PrivateKey != nil || len(k.PublicKey) == 0 {
		t.Fatalf("Rotate returned %+v", k)
	}
	if kr.ActiveKeyID() != k.ID || kidOf(t, mustSign(t, kr, e.claims(time.Hour))) != k.ID {
		t.Fatal("the new key does not sign at once")
	}
	mustVerify(t, kr, old)
	if got := jwksKIDs(t, kr); !reflect.DeepEqual(got, []string{k.ID, k1}) {
		t.Fatalf("JWKS = %v", got)
	}

	// Until old's tokens have expired, k1 stays; then Maintain removes it.
	e.clock.Set(t0.Add(token.MaxTokenTTL + token.Leeway))
	if err := kr.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, kr, old)
	e.clock.Set(rotatedAt.Add(retention - time.Nanosecond))
	kr.Maintain(ctx)
	if n := len(jwksKIDs(t, kr)); n != 2 {
		t.Fatalf("k1 deleted early")
	}
	e.clock.Set(rotatedAt.Add(retention))
	if err := kr.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if got := jwksKIDs(t, kr); !reflect.DeepEqual(got, []string{k.ID}) {
		t.Fatalf("JWKS = %v", got)
	}
}

// TestRotatePublishesBeforeUse: a rotation that is not immediate publishes the
// new key at once and signs with it only after PublishLead.
func TestRotatePublishesBeforeUse(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	kr := e.mustKeyring(t, token.ES256)
	k1 := kr.ActiveKeyID()
	at := e.clock.Now()
	k, err := kr.Rotate(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if !k.ActivateAt.Equal(at.Add(lead)) {
		t.Fatalf("ActivateAt = %v, want now+PublishLead = %v", k.ActivateAt, at.Add(lead))
	}
	if got := jwksKIDs(t, kr); !reflect.DeepEqual(got, []string{k.ID, k1}) {
		t.Fatalf("JWKS = %v, want the new key published at once", got)
	}
	e.clock.Advance(lead - time.Nanosecond)
	if kr.ActiveKeyID() != k1 {
		t.Fatal("the new key signs before the publish lead has passed")
	}
	e.clock.Advance(time.Nanosecond)
	if kidOf(t, mustSign(t, kr, e.claims(time.Hour))) != k.ID {
		t.Fatal("the new key does not sign after the publish lead")
	}
}

// TestRotateSupersedesScheduledKey: rotating while a key is scheduled makes the
// new key sign from now on; the scheduled one never signs and is removed with
// the other retired keys.
func TestRotateSupersedesScheduledKey(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	t0 := e.clock.Now()
	kr := e.mustKeyring(t, token.ES256)
	e.clock.Set(t0.Add(rotation - lead))
	kr.Maintain(ctx) // generation 2, to activate at t0+rotation
	e.clock.Set(t0.Add(rotation - 5*time.Minute))
	k3, err := kr.Rotate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Duration{0, 5 * time.Minute, time.Hour, rotation / 2} {
		e.clock.Set(k3.ActivateAt.Add(at))
		if got := kr.ActiveKeyID(); got != k3.ID {
			t.Fatalf("%v after Rotate the active key is %s, want the rotated %s", at, got, k3.ID)
		}
	}
	e.clock.Set(k3.ActivateAt.Add(retention))
	if err := kr.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.store.generations(); !reflect.DeepEqual(got, []int64{3}) {
		t.Fatalf("generations = %v, want [3]", got)
	}
}

// TestNodesRaceToCreateKeys: nodes sharing a store make the same decision at
// the same moment; the store's unique generation lets exactly one create.
func TestNodesRaceToCreateKeys(t *testing.T) {
	const nodes = 6
	ctx := context.Background()
	e := newEnv(t)
	t0 := e.clock.Now()

	e.store.setGate(newGate(nodes)) // every node lists before any creates
	krs := make([]*token.Keyring, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range krs {
		wg.Go(func() { krs[i], errs[i] = token.NewKeyring(ctx, e.config(token.ES256)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	if got := e.store.generations(); !reflect.DeepEqual(got, []int64{1}) {
		t.Fatalf("generations after racing NewKeyring = %v, want [1]", got)
	}
	if c := e.store.creates.Load(); c != nodes {
		t.Fatalf("%d creates attempted; the race was not forced", c)
	}
	for i, kr := range krs {
		if kr.ActiveKeyID() != krs[0].ActiveKeyID() {
			t.Fatalf("node %d signs with another key", i)
		}
	}

	e.clock.Set(t0.Add(rotation - lead))
	e.store.setGate(newGate(nodes))
	for i, kr := range krs {
		wg.Go(func() { errs[i] = kr.Maintain(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d Maintain: %v", i, err)
		}
	}
	if got := e.store.generations(); !reflect.DeepEqual(got, []int64{1, 2}) {
		t.Fatalf("generations after racing Maintain = %v, want [1 2]", got)
	}
	for i, kr := range krs {
		if err := kr.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(kr.JWKS(), krs[0].JWKS()) {
			t.Fatalf("node %d publishes another JWKS", i)
		}
	}

	// Racing the deletion is harmless too.
	e.clock.Set(t0.Add(rotation + retention))
	for i, kr := range krs {
		wg.Go(func() { errs[i] = kr.Maintain(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := e.store.generations(); !reflect.DeepEqual(got, []int64{2}) {
		t.Fatalf("generations = %v, want [2]", got)
	}
}

// TestRotateRacesMaintain: Rotate on one node while another schedules the
// same generation: Rotate takes the next one.
func TestRotateRacesMaintain(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.mustKeyring(t, token.ES256)
	b := e.mustKeyring(t, token.ES256)
	e.clock.Advance(rotation - lead)
	e.store.setGate(newGate(2))
	var k store.SigningKey
	var errA, errB error
	var wg sync.WaitGroup
	wg.Go(func() { k, errA = a.Rotate(ctx, true) })
	wg.Go(func() { errB = b.Maintain(ctx) })
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	// Either Rotate won generation 2 (then the rotation Maintain wanted is moot)
	// or Maintain did and Rotate took generation 3.
	want := map[int64][]int64{2: {1, 2}, 3: {1, 2, 3}}[k.Generation]
	if got := e.store.generations(); want == nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("rotated generation %d, stored %v", k.Generation, got)
	}
	if a.ActiveKeyID() != k.ID {
		t.Fatal("rotated key does not sign")
	}
	if err := b.Maintain(ctx); err != nil || b.ActiveKeyID() != k.ID {
		t.Fatalf("after Maintain b signs with %s (%v), want the rotated key", b.ActiveKeyID(), err)
	}
	if got := e.store.generations(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Maintain created a key right after a rotation: %v", got)
	}
}

// TestUnknownKIDReloads: a key created on another node verifies before its
// change event arrives; forged kids cause at most one reload a second.
func TestUnknownKIDReloads(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.mustKeyring(t, token.EdDSA)
	b := e.mustKeyring(t, token.EdDSA)
	if _, err := a.Rotate(ctx, true); err != nil {
		t.Fatal(err)
	}
	tok := mustSign(t, a, e.claims(time.Hour))
	lists := e.store.lists.Load()
	mustVerify(t, b, tok) // b has not refreshed
	if n := e.store.lists.Load() - lists; n != 1 {
		t.Fatalf("%d store reads for one unknown kid, want 1", n)
	}
	if b.ActiveKeyID() != a.ActiveKeyID() {
		t.Fatal("the reload did not swap b's snapshot")
	}

	forged := func() string {
		return forge(`{"alg":"EdDSA","kid":"`+randomString(16)+`"}`, e.claimsJSON(""), attackerEdDSA())
	}
	e.clock.Advance(time.Second)
	lists = e.store.lists.Load()
	for i := 0; i < 100; i++ {
		_, err := b.Verify(ctx, forged())
		wantInvalid(t, err, "kid names no published key")
		if i == 49 {
			e.clock.Advance(999 * time.Millisecond)
		}
	}
	if n := e.store.lists.Load() - lists; n != 1 {
		t.Fatalf("%d store reads for 100 forged kids within a second, want 1", n)
	}
	e.clock.Advance(time.Millisecond)
	b.Verify(ctx, forged())
	if n := e.store.lists.Load() - lists; n != 2 {
		t.Fatalf("%d store reads a second later, want 2", n)
	}
}

func TestRefreshKeepsSnapshotWhenStoreFails(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	kr := e.mustKeyring(t, token.ES256)
	jwks := kr.JWKS()
	e.store.setListErr(fmt.Errorf("db down: %w", store.ErrUnavailable))
	if err := kr.Refresh(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Refresh: %v", err)
	}
	if err := kr.Maintain(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Maintain: %v", err)
	}
	if !reflect.DeepEqual(kr.JWKS(), jwks) {
		t.Fatal("snapshot changed")
	}
	mustVerify(t, kr, mustSign(t, kr, e.claims(time.Hour)))
	// A forged kid during the outage fails closed.
	_, err := kr.Verify(ctx, forge(`{"alg":"ES256","kid":"x"}`, e.claimsJSON(""), func(b []byte) []byte { s, _ := attackerES256(); return s(b) }))
	wantInvalid(t, err, "kid names no published key")
}

func TestMaintainRecreatesMissingKeys(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	kr := e.mustKeyring(t, token.ES256)
	old := kr.ActiveKeyID()
	e.store.DeleteSigningKey(ctx, old)
	if err := kr.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if kr.ActiveKeyID() == old || len(e.store.generations()) != 1 {
		t.Fatalf("Maintain did not replace the deleted key: %v", e.store.generations())
	}
}

// TestConcurrentUse runs signers and verifiers against rotations and reloads;
// its value is under -race.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	kr := e.mustKeyring(t, token.EdDSA)
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	for range 8 {
		wg.Go(func() {
			for range 100 {
				tok, err := kr.Sign(e.claims(time.Hour))
				if err == nil {
					_, err = kr.Verify(ctx, tok)
				}
				if err == nil && len(kr.JWKS()) == 0 {
					err = errors.New("empty JWKS")
				}
				if err != nil {
					errc <- err
					return
				}
				_ = kr.Algorithms()
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			if _, err := kr.Rotate(ctx, true); err != nil {
				errc <- err
				return
			}
			if err := kr.Maintain(ctx); err != nil {
				errc <- err
				return
			}
		}
	})
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if n := len(e.store.generations()); n != 6 {
		t.Fatalf("%d keys, want 6", n)
	}
}

func TestParseAlgorithm(t *testing.T) {
	for _, alg := range allAlgorithms {
		if got, err := token.ParseAlgorithm(string(alg)); err != nil || got != alg {
			t.Errorf("ParseAlgorithm(%q) = %q, %v", alg, got, err)
		}
	}
	for _, bad := range []string{"", "none", "None", "HS256", "es256", "EDDSA", "Ed25519", "RS512", " ES256"} {
		_, err := token.ParseAlgorithm(bad)
		if err == nil || !strings.Contains(err.Error(), "ES256, ES384, EdDSA, RS256") {
			t.Errorf("ParseAlgorithm(%q) error = %v", bad, err)
		}
	}
}

func TestOpenIDConfiguration(t *testing.T) {
	_, kr := shared(t, token.ES256)
	for _, iss := range []string{"https://gh.example", "https://gh.example/"} {
		var doc map[string]any
		if err := jsonUnmarshal(token.OpenIDConfiguration(iss, kr.Algorithms()), &doc); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"issuer":                                iss,
			"token_endpoint":                        "https://gh.example/identity/token",
			"jwks_uri":                              "https://gh.example/identity/keys",
			"grant_types_supported":                 []any{"urn:ibm:params:oauth:grant-type:apikey"},
			"response_types_supported":              []any{"cloud_iam"},
			"subject_types_supported":               []any{"public"},
			"id_token_signing_alg_values_supported": []any{"ES256"},
			"token_endpoint_auth_methods_supported": []any{"none"},
			"scopes_supported":                      []any{"ibm", "openid"},
		}
		if !reflect.DeepEqual(doc, want) {
			t.Fatalf("OpenIDConfiguration(%q) =\n%v\nwant\n%v", iss, doc, want)
		}
	}
	var doc struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	jsonUnmarshal(token.OpenIDConfiguration(issuer, nil), &doc)
	if doc.Algs == nil || len(doc.Algs) != 0 {
		t.Fatalf("no algorithms must be [], got %#v", doc.Algs)
	}
}
