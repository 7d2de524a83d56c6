package iam

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"gatehouse/internal/cache"
	"gatehouse/internal/errs"
	"gatehouse/internal/store"
	"gatehouse/internal/token"
)

// Tokens signs and verifies access tokens (token.Keyring in production).
type Tokens interface {
	Sign(c token.Claims) (string, error)
	Verify(ctx context.Context, raw string) (token.Claims, error)
}

// Config holds the Service's dependencies.
type Config struct {
	Store    store.Store
	Tokens   Tokens
	Issuer   string
	TokenTTL time.Duration
	Now      func() time.Time // default time.Now
	Rand     io.Reader        // default crypto/rand.Reader
	// CacheSize bounds each authentication cache (keys, identities); default 100,000.
	CacheSize int
	// KeyIndexSize bounds the cache of key digests the token exchange looks
	// keys up in (≈ 120 bytes per key); default 2,000,000.
	KeyIndexSize int
}

// Service is identity and access: token exchange, bearer authentication and
// the API-key operations, with their authorization rules.
type Service struct {
	store     store.Store
	tokens    Tokens
	issuer    string
	ttl       time.Duration
	now       func() time.Time
	rand      io.Reader
	accountID string
	keys      *cache.Lazy[*keyState]
	idents    *cache.Lazy[*identity]
	verified  *cache.Verified[token.Claims]
	digests   *digestCache
	activity  *activity
}

// New returns a Service for the store's account; the store must have been
// bootstrapped (see Bootstrap).
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 100_000
	}
	if cfg.KeyIndexSize <= 0 {
		cfg.KeyIndexSize = 2_000_000
	}
	accounts, err := cfg.Store.ListAccounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("iam: load account: %w", err)
	}
	if len(accounts) == 0 {
		return nil, errors.New("iam: the store has no account; run bootstrap first")
	}
	return &Service{
		store:     cfg.Store,
		tokens:    cfg.Tokens,
		issuer:    cfg.Issuer,
		ttl:       cfg.TokenTTL,
		now:       cfg.Now,
		rand:      cfg.Rand,
		accountID: accounts[0].ID,
		keys:      cache.NewLazy[*keyState](cfg.CacheSize),
		idents:    cache.NewLazy[*identity](cfg.CacheSize),
		verified:  cache.NewVerified[token.Claims](cfg.CacheSize),
		digests:   newDigestCache(cfg.KeyIndexSize),
		activity:  newActivity(),
	}, nil
}

// AccountID is the deployment's account.
func (s *Service) AccountID() string { return s.accountID }

// Invalidate drops cached state touched by a change, whether made on this node
// or seen in the change log.
func (s *Service) Invalidate(c store.Change) {
	switch c.Kind {
	case store.ChangeAPIKey:
		s.forgetKey(c.Key)
	case store.ChangeUser, store.ChangeServiceID, store.ChangePolicy:
		s.idents.Forget(c.Key)
	case store.ChangeSigningKey:
		s.verified.Clear() // a key may have been withdrawn
	case store.ChangeAccount:
		s.InvalidateAll()
	}
}

// InvalidateAll drops every cached state (after missing part of the change log).
func (s *Service) InvalidateAll() {
	s.keys.ForgetAll()
	s.digests.forgetAll()
	s.idents.ForgetAll()
	s.verified.Clear()
}

// Authenticate verifies a bearer token (SPEC §3.4: signature, issuer and times
// by the keyring, then revocation here) and returns the caller. Every failure
// is an invalid_token error; an unreachable store is unavailable.
func (s *Service) Authenticate(ctx context.Context, raw string) (*Principal, error) {
	claims, err := s.verify(ctx, raw)
	if err != nil {
		return nil, &errs.Error{Code: errs.InvalidToken, Message: "The token is not valid.", Err: err}
	}
	revoked := func(why string) error {
		return &errs.Error{Code: errs.InvalidToken, Message: "The token is not valid.", Err: errors.New(why)}
	}
	if claims.Account.BSS != s.accountID {
		return nil, revoked("token of another account")
	}
	// A token from an API key lives only as long as the key is usable; a
	// password sign-in token (no key) only as long as its user.
	k := &keyState{}
	if claims.APIKeyID != "" || claims.GrantType != GrantTypePassword {
		var err error
		if k, err = s.keys.Get(ctx, claims.APIKeyID, s.loadKeyState); err != nil {
			return nil, err
		}
		if k == nil || k.IAMID != claims.IAMID || !k.usable(s.now()) {
			return nil, revoked("api key deleted, disabled or expired")
		}
	} else if subTypeOf(claims.IAMID) != SubTypeUser {
		return nil, revoked("password token of a non-user")
	}
	id, err := s.idents.Get(ctx, claims.IAMID, s.loadIdentity)
	if err != nil {
		return nil, err
	}
	if id == nil || id.Disabled {
		return nil, revoked("identity deleted or disabled")
	}
	if id.maxRole() == NoRole {
		return nil, revoked("identity has no access left")
	}
	p := &Principal{ident: id, APIKeyID: k.ID, APIKeyName: k.Name, TokenID: claims.ID, KeyCap: k.Cap}
	if claims.Role != "" {
		if p.TokenRole, err = ParseRole(claims.Role); err != nil {
			return nil, revoked("unknown role claim")
		}
	}
	return p, nil
}

// verify checks a token's signature, issuer and times, remembering tokens that
// passed until they expire: a client sends the same token many times, and
// only the first costs a signature verification.
func (s *Service) verify(ctx context.Context, raw string) (token.Claims, error) {
	if len(raw) > token.MaxTokenSize {
		return s.tokens.Verify(ctx, raw) // refused there, without hashing a huge input
	}
	k := cache.Key(raw)
	now := s.now()
	if c, ok := s.verified.Get(k, now); ok {
		return c, nil
	}
	c, err := s.tokens.Verify(ctx, raw)
	if err != nil {
		return c, err
	}
	s.verified.Put(k, c, time.Unix(c.ExpiresAt, 0).Add(token.Leeway))
	return c, nil
}

func (s *Service) loadKeyState(ctx context.Context, id string) (*keyState, error) {
	k, err := s.store.GetAPIKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && k.AccountID != s.accountID) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load api key: %w", err)
	}
	return stateOf(k), nil
}

func stateOf(k store.APIKey) *keyState {
	cap, _ := ParseRole(k.Role) // stored roles were validated on write; "" is no cap
	return &keyState{ID: k.ID, Name: k.Name, IAMID: k.IAMID, Disabled: k.Disabled, ExpiresAt: k.ExpiresAt, Cap: cap}
}

// loadIdentity reads an identity and its policies; nil when it does not exist.
func (s *Service) loadIdentity(ctx context.Context, iamID string) (*identity, error) {
	id := &identity{IAMID: iamID, SubType: subTypeOf(iamID)}
	var err error
	switch id.SubType {
	case SubTypeUser:
		var u store.User
		if u, err = s.store.GetUser(ctx, iamID); err == nil {
			id.ID, id.AccountID, id.Name, id.Email, id.Disabled = u.ID, u.AccountID, u.Name, u.Email, u.Disabled
		}
	case SubTypeServiceID:
		var sv store.ServiceID
		if sv, err = s.store.GetServiceID(ctx, iamID); err == nil {
			id.ID, id.AccountID, id.Name = sv.ID, sv.AccountID, sv.Name
		}
	default:
		return nil, nil
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && id.AccountID != s.accountID) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load identity: %w", err)
	}
	policies, err := s.store.ListPolicies(ctx, store.PolicyQuery{AccountID: s.accountID, Subject: iamID, Page: store.Page{Limit: 1000}})
	if err != nil {
		return nil, fmt.Errorf("load policies: %w", err)
	}
	for _, p := range policies {
		r, err := ParseRole(p.Role)
		if err != nil {
			continue // not reachable through the API; never grant on a bad record
		}
		if p.Org == "" {
			id.Account = max(id.Account, r)
			continue
		}
		if id.Orgs == nil {
			id.Orgs = map[string]Role{}
		}
		id.Orgs[p.Org] = max(id.Orgs[p.Org], r)
	}
	return id, nil
}

// identityOf returns the identity behind iamID in this account, or not_found.
func (s *Service) identityOf(ctx context.Context, iamID string) (*identity, error) {
	id, err := s.idents.Get(ctx, iamID, s.loadIdentity)
	if err != nil {
		return nil, err
	}
	if id == nil {
		return nil, errs.E(errs.NotFound, "Identity %s not found.", errs.Printable(iamID))
	}
	return id, nil
}
