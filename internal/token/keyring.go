package token

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"gatehouse/internal/store"
)

// Config configures a Keyring.
type Config struct {
	Store          store.SigningKeyStore // required
	Sealer         *Sealer               // required; seals the private keys
	Algorithm      Algorithm             // the configured --signing-alg; required
	Issuer         string                // the expected iss; required
	RotationPeriod time.Duration         // how long a key signs before the next one takes over; default 30 days
	// PublishLead is how long before activation a scheduled key is published;
	// default 10 minutes, twice the JWKS max-age of 5 minutes.
	PublishLead time.Duration
	Now         func() time.Time // default time.Now
	// Rand supplies kids and Ed25519 key seeds; default crypto/rand.Reader.
	// Since Go 1.26 ECDSA and RSA key generation and ECDSA signing always use
	// the system's secure source and ignore it.
	Rand   io.Reader
	Logger *slog.Logger // default: discard
}

// Defaults of Config.
const (
	DefaultRotationPeriod = 30 * 24 * time.Hour
	DefaultPublishLead    = 10 * time.Minute
)

func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("Store is required"))
	}
	if c.Sealer == nil {
		errs = append(errs, errors.New("Sealer is required"))
	}
	if _, err := ParseAlgorithm(string(c.Algorithm)); err != nil {
		errs = append(errs, err)
	}
	if c.Issuer == "" {
		errs = append(errs, errors.New("Issuer is required"))
	}
	switch {
	case c.RotationPeriod == 0:
		c.RotationPeriod = DefaultRotationPeriod
	case c.RotationPeriod < 0:
		errs = append(errs, errors.New("RotationPeriod must be positive"))
	}
	switch {
	case c.PublishLead == 0:
		c.PublishLead = DefaultPublishLead
	case c.PublishLead < 0:
		errs = append(errs, errors.New("PublishLead must not be negative"))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, errors.Join(errs...)
}

// Keyring holds the published signing keys and signs and verifies tokens with
// them. The keys live in an immutable snapshot behind an atomic pointer:
// Sign, Verify, JWKS, Algorithms and ActiveKeyID never lock. Refresh, Maintain
// and Rotate build a new snapshot from the store and swap it in. A Keyring is
// safe for concurrent use.
type Keyring struct {
	cfg  Config
	snap atomic.Pointer[snapshot]

	// loadMu serialises store reads with snapshot swaps, so a slow load never
	// replaces the result of a newer one.
	loadMu sync.Mutex

	// Reloads for unknown kids (Verify): at most one a second, one at a time.
	kidMu       sync.Mutex
	kidLast     time.Time
	kidInflight chan struct{}
}

// key is one loaded signing key. Immutable once in a snapshot.
type key struct {
	keyMaterial
	id         string
	generation int64
	activateAt time.Time
	pubDER     []byte
	header     string // base64url of the JWS header, and the '.' that follows it
	jwk        []byte
}

type snapshot struct {
	keys    []*key // by generation, newest first
	byKID   map[string]*key
	signers []*key // the keys whose private part is loaded, newest first
	jwks    []byte
	algs    []Algorithm
}

// signer returns the key that signs at now: the newest generation whose
// ActivateAt has passed. Generations activate in order, so this is also the key
// with the greatest ActivateAt not after now; a key made active at once by
// Rotate supersedes an older generation still scheduled for later. If no key
// has activated yet (a node whose clock lags the one that created the first
// key), the oldest one, which activates first, signs rather than none.
func (s *snapshot) signer(now time.Time) *key {
	for _, k := range s.signers {
		if !k.activateAt.After(now) {
			return k
		}
	}
	if n := len(s.signers); n > 0 {
		return s.signers[n-1]
	}
	return nil
}

// NewKeyring loads the signing keys from cfg.Store. When there is none, it
// creates the first, active at once. When the newest key has another algorithm
// than cfg.Algorithm, it creates the next generation with cfg.Algorithm,
// published now and signing from PublishLead on (publish before use; the old
// key signs until then). When another node creates that generation first
// (store.ErrAlreadyExists), it uses that node's key.
//
// It returns an error for an invalid cfg, a store failure, and a key it cannot
// load; a key sealed with another master key gives an error wrapping
// ErrWrongMasterKey that says so.
func NewKeyring(ctx context.Context, cfg Config) (*Keyring, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("token: keyring config: %w", err)
	}
	k := &Keyring{cfg: cfg}
	lostRace := false
	for attempt := 0; ; attempt++ {
		recs, err := cfg.Store.ListSigningKeys(ctx)
		if err != nil {
			return nil, fmt.Errorf("token: load signing keys: %w", err)
		}
		snap, err := k.build(recs, nil)
		if err != nil {
			return nil, err
		}
		now := cfg.Now()
		newest := newestOf(recs)
		if newest != nil && (Algorithm(newest.Algorithm) == cfg.Algorithm || lostRace) {
			k.snap.Store(snap)
			return k, nil
		}
		if attempt == 3 {
			return nil, errors.New("token: could not create a signing key: the store keeps reporting a conflict")
		}
		at := now
		if newest == nil {
			cfg.Logger.Info("no signing key; creating one", "alg", cfg.Algorithm)
		} else {
			at = now.Add(cfg.PublishLead)
			cfg.Logger.Info("the signing algorithm changed; publishing a key that signs from activate_at on",
				"alg", cfg.Algorithm, "previous_alg", newest.Algorithm, "activate_at", at)
		}
		_, err = k.create(ctx, nextGeneration(recs), at)
		switch {
		case errors.Is(err, store.ErrAlreadyExists):
			cfg.Logger.Info("another node created the signing key first; using it")
			lostRace = true
		case err != nil:
			return nil, err
		}
	}
}

// Refresh reloads the keys from the store and swaps the snapshot; call it when
// the change log reports a signing-key change. On error the current snapshot
// stays in use.
func (k *Keyring) Refresh(ctx context.Context) error {
	k.loadMu.Lock()
	defer k.loadMu.Unlock()
	recs, err := k.cfg.Store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("token: load signing keys: %w", err)
	}
	snap, err := k.build(recs, k.snap.Load())
	if err != nil {
		return err
	}
	k.snap.Store(snap)
	return nil
}

// Maintain runs one pass of automatic rotation at the current time:
//
//   - When the newest key has signed, or will have signed within PublishLead,
//     for RotationPeriod, it creates the next generation, active at
//     max(newest.ActivateAt+RotationPeriod, now+PublishLead): published at
//     least PublishLead before it signs anything.
//   - It deletes the keys no longer needed: a key is kept while it signs, while
//     it is scheduled, and until MaxTokenTTL+Leeway after a later generation
//     took over from it (its tokens may be live until then). The signing key
//     is never deleted.
//
// It then reloads the snapshot. Maintain is idempotent and safe to run on
// several nodes at once: a generation is created once, by whichever node
// stores it first. It returns store errors other than the expected conflicts.
func (k *Keyring) Maintain(ctx context.Context) error {
	now := k.cfg.Now()
	recs, err := k.cfg.Store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("token: maintain signing keys: %w", err)
	}
	created := false
	if len(recs) == 0 {
		_, err = k.create(ctx, 1, now)
		created = err == nil
	} else {
		newest := newestOf(recs)
		due := newest.ActivateAt.Add(k.cfg.RotationPeriod)
		if lead := now.Add(k.cfg.PublishLead); !due.After(lead) {
			at := due
			if lead.After(due) { // rotation is late (e.g. every node was down): still publish first
				at = lead
			}
			_, err = k.create(ctx, newest.Generation+1, at)
			created = err == nil
		}
	}
	if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("token: maintain signing keys: %w", err)
	}
	if created {
		if recs, err = k.cfg.Store.ListSigningKeys(ctx); err != nil {
			return fmt.Errorf("token: maintain signing keys: %w", err)
		}
	}

	var errs []error
	for _, r := range unneededKeys(recs, now) {
		err := k.cfg.Store.DeleteSigningKey(ctx, r.ID)
		switch {
		case err == nil:
			k.cfg.Logger.Info("signing key deleted", "kid", r.ID, "generation", r.Generation)
		case errors.Is(err, store.ErrNotFound): // another node deleted it
		default:
			errs = append(errs, fmt.Errorf("token: delete signing key %s: %w", r.ID, err))
		}
	}
	if err := k.Refresh(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Rotate creates the next generation now. It is published at once and signs
// from PublishLead on, so verifiers that cache the JWKS have it before they
// see a token it signed; with immediate it signs at once (for a suspected
// compromise of the current key, accepting that such verifiers refetch).
// Earlier keys stay published until their tokens have expired (see Maintain).
// It returns the new key without its private part, and store errors; if the
// key was stored but the reload failed, it returns the key and the error.
func (k *Keyring) Rotate(ctx context.Context, immediate bool) (store.SigningKey, error) {
	for attempt := 0; attempt < 3; attempt++ {
		recs, err := k.cfg.Store.ListSigningKeys(ctx)
		if err != nil {
			return store.SigningKey{}, fmt.Errorf("token: rotate signing key: %w", err)
		}
		at := k.cfg.Now()
		if !immediate {
			at = at.Add(k.cfg.PublishLead)
		}
		rec, err := k.create(ctx, nextGeneration(recs), at)
		if errors.Is(err, store.ErrAlreadyExists) {
			continue // another node took the generation; rotate past it
		}
		if err != nil {
			return store.SigningKey{}, err
		}
		rec.PrivateKey = nil
		return rec, k.Refresh(ctx)
	}
	return store.SigningKey{}, errors.New("token: rotate signing key: the store keeps reporting a conflict")
}

// newestOf returns the record of the highest generation, or nil.
func newestOf(recs []store.SigningKey) *store.SigningKey {
	var newest *store.SigningKey
	for i := range recs {
		if newest == nil || recs[i].Generation > newest.Generation {
			newest = &recs[i]
		}
	}
	return newest
}

// JWKS returns the JSON Web Key Set of every published key, newest first:
// {"keys":[…]} with kty, kid, alg, use and the public parameters. The bytes are
// precomputed when the snapshot is built; each call returns a fresh copy.
func (k *Keyring) JWKS() []byte {
	return slices.Clone(k.snap.Load().jwks)
}

// Algorithms returns the distinct algorithms of the published keys, that of
// the newest key first.
func (k *Keyring) Algorithms() []Algorithm {
	return slices.Clone(k.snap.Load().algs)
}

// ActiveKeyID returns the kid Sign uses now.
func (k *Keyring) ActiveKeyID() string {
	if s := k.snap.Load().signer(k.cfg.Now()); s != nil {
		return s.id
	}
	return ""
}

// create generates, seals and stores generation gen of cfg.Algorithm, to sign
// from activateAt. store.ErrAlreadyExists (wrapped) means another node won.
func (k *Keyring) create(ctx context.Context, gen int64, activateAt time.Time) (store.SigningKey, error) {
	alg := k.cfg.Algorithm
	priv, err := generateKey(alg, k.cfg.Rand)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("token: generate %s key: %w", alg, err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("token: encode %s key: %w", alg, err)
	}
	defer clear(pkcs8)
	pub, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("token: encode %s key: %w", alg, err)
	}
	kid, err := newKID(k.cfg.Rand)
	if err != nil {
		return store.SigningKey{}, err
	}
	sealed, err := k.cfg.Sealer.Seal(pkcs8, []byte(kid))
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("token: seal signing key: %w", err)
	}
	rec := store.SigningKey{
		ID:         kid,
		Generation: gen,
		Algorithm:  string(alg),
		PublicKey:  pub,
		PrivateKey: sealed,
		CreatedAt:  k.cfg.Now().UTC().Truncate(time.Microsecond),
		ActivateAt: activateAt.UTC().Truncate(time.Microsecond), // the store's precision
	}
	if err := k.cfg.Store.CreateSigningKey(ctx, rec); err != nil {
		return store.SigningKey{}, fmt.Errorf("token: store signing key generation %d: %w", gen, err)
	}
	k.cfg.Logger.Info("signing key created", "kid", kid, "generation", gen, "alg", alg, "activate_at", rec.ActivateAt)
	return rec, nil
}

// newKID returns a random URL-safe key id: 16 bytes, base64url.
func newKID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("token: generate kid: %w", err)
	}
	return b64.EncodeToString(b[:]), nil
}

func nextGeneration(recs []store.SigningKey) int64 {
	var n int64
	for _, r := range recs {
		n = max(n, r.Generation)
	}
	return n + 1
}

// activeGeneration returns the newest generation active at now, or 0.
func activeGeneration(recs []store.SigningKey, now time.Time) int64 {
	var g int64
	for _, r := range recs {
		if !r.ActivateAt.After(now) {
			g = max(g, r.Generation)
		}
	}
	return g
}

// unneededKeys returns the keys Maintain may delete at now: older than the
// signing generation, and superseded at least MaxTokenTTL+Leeway ago. A key
// stops signing when the first later generation activates; any token it
// signed expires at most MaxTokenTTL after that and is accepted for Leeway more.
func unneededKeys(recs []store.SigningKey, now time.Time) []store.SigningKey {
	active := activeGeneration(recs, now)
	if active == 0 {
		return nil
	}
	var out []store.SigningKey
	for _, r := range recs {
		if r.Generation >= active {
			continue
		}
		var supersededAt time.Time
		for _, s := range recs {
			if s.Generation > r.Generation && (supersededAt.IsZero() || s.ActivateAt.Before(supersededAt)) {
				supersededAt = s.ActivateAt
			}
		}
		if !now.Before(supersededAt.Add(MaxTokenTTL + Leeway)) {
			out = append(out, r)
		}
	}
	return out
}

// build makes a snapshot of recs, reusing the parsed keys of old where the
// records are unchanged. Private parts are opened only for keys that may still
// sign: the signing generation and later ones.
func (k *Keyring) build(recs []store.SigningKey, old *snapshot) (*snapshot, error) {
	recs = slices.Clone(recs)
	slices.SortFunc(recs, func(a, b store.SigningKey) int { return -cmpInt(a.Generation, b.Generation) })
	active := activeGeneration(recs, k.cfg.Now())
	s := &snapshot{byKID: make(map[string]*key, len(recs))}
	for i := range recs {
		r := &recs[i]
		if _, dup := s.byKID[r.ID]; dup {
			return nil, fmt.Errorf("token: signing key %s is stored twice", r.ID)
		}
		var prev *key
		if old != nil {
			prev = old.byKID[r.ID]
		}
		kk, err := k.loadKey(r, r.Generation >= active, prev)
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, kk)
		s.byKID[kk.id] = kk
		if kk.canSign() {
			s.signers = append(s.signers, kk)
		}
		if !slices.Contains(s.algs, kk.alg) {
			s.algs = append(s.algs, kk.alg)
		}
	}
	s.jwks = append(s.jwks, `{"keys":[`...)
	for i, kk := range s.keys {
		if i > 0 {
			s.jwks = append(s.jwks, ',')
		}
		s.jwks = append(s.jwks, kk.jwk...)
	}
	s.jwks = append(s.jwks, "]}"...)
	return s, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (k *Keyring) loadKey(r *store.SigningKey, needPrivate bool, prev *key) (*key, error) {
	if prev != nil && prev.generation == r.Generation && string(prev.alg) == r.Algorithm &&
		prev.activateAt.Equal(r.ActivateAt) && bytes.Equal(prev.pubDER, r.PublicKey) &&
		(!needPrivate || prev.canSign()) {
		return prev, nil
	}
	alg, err := ParseAlgorithm(r.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("token: signing key %s: %w", r.ID, err)
	}
	m, err := parsePublic(alg, r.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("token: signing key %s: %w", r.ID, err)
	}
	if needPrivate {
		der, err := k.cfg.Sealer.Open(r.PrivateKey, []byte(r.ID))
		if err != nil {
			return nil, fmt.Errorf("token: signing key %s (generation %d): the master key does not match the one the signing keys were sealed with; check --master-key-file (every node must use the same key): %w",
				r.ID, r.Generation, err)
		}
		err = m.setPrivate(der)
		clear(der)
		if err != nil {
			return nil, fmt.Errorf("token: signing key %s: %w", r.ID, err)
		}
	}
	jwk, err := m.publicJWK(r.ID)
	if err != nil {
		return nil, fmt.Errorf("token: signing key %s: %w", r.ID, err)
	}
	hdr := append([]byte(`{"alg":`), appendJSONString(nil, string(alg))...)
	hdr = append(hdr, `,"kid":`...)
	hdr = appendJSONString(hdr, r.ID)
	hdr = append(hdr, `,"typ":"JWT"}`...)
	return &key{
		keyMaterial: m,
		id:          r.ID,
		generation:  r.Generation,
		activateAt:  r.ActivateAt,
		pubDER:      bytes.Clone(r.PublicKey),
		header:      b64.EncodeToString(hdr) + ".",
		jwk:         jwk,
	}, nil
}
