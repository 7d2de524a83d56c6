package iam

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"gatehouse/internal/store"
	"gatehouse/internal/token"
)

// Grant types of the tokens this service issues.
const (
	GrantTypeAPIKey   = "urn:ibm:params:oauth:grant-type:apikey" // IBM IAM's API-key exchange
	GrantTypePassword = "password"                               // a local user's console sign-in
)

// TokenError is a token-service error in IBM IAM's shape (SPEC §3.3).
type TokenError struct {
	Status  int
	Code    string // BXNIM…
	Message string
}

func (e *TokenError) Error() string { return e.Code + ": " + e.Message }

// Token-service errors. Every bad-key case shares one error so a response never
// reveals whether a key exists, is disabled or has expired.
var (
	ErrBadKey = &TokenError{http.StatusBadRequest, "BXNIM0415E", "Provided API key could not be found"}
)

// ErrMissing is the error for a missing or empty request property.
func ErrMissing(field string) *TokenError {
	return &TokenError{http.StatusBadRequest, "BXNIM0109E", "Property '" + field + "' missing or empty"}
}

func errParam(msg string) *TokenError {
	return &TokenError{http.StatusBadRequest, "BXNIM0107E", msg}
}

// ExchangeRequest is a token request of either endpoint.
type ExchangeRequest struct {
	APIKey    string
	Role      string // optional down-scoping
	ExpiresIn string // optional, seconds, ≤ the server's TTL
}

// IssuedToken is the result of an exchange.
type IssuedToken struct {
	Token      string
	ExpiresIn  int64
	Expiration int64 // Unix seconds
	APIKeyID   string
	IAMID      string
}

// Exchange trades an API key for a signed access token (SPEC §3). Client errors
// are *TokenError; other errors mean the service could not answer.
func (s *Service) Exchange(ctx context.Context, req ExchangeRequest) (IssuedToken, error) {
	if req.APIKey == "" {
		return IssuedToken{}, ErrMissing("apikey")
	}
	// The shape check runs before any lookup so junk never reaches the store.
	if CheckKey(req.APIKey) != nil {
		return IssuedToken{}, ErrBadKey
	}
	k, err := s.digests.get(ctx, [32]byte(Digest(req.APIKey)), s.loadByDigest)
	if err != nil {
		return IssuedToken{}, err
	}
	now := s.now()
	if k == nil || !k.usable(now) {
		return IssuedToken{}, ErrBadKey
	}
	id, err := s.idents.Get(ctx, k.IAMID, s.loadIdentity)
	if err != nil {
		return IssuedToken{}, err
	}
	if id == nil || id.Disabled || id.maxRole() == NoRole {
		return IssuedToken{}, ErrBadKey // an owner without any access gets no token either
	}

	ttl := s.ttl
	if req.ExpiresIn != "" {
		n, err := strconv.ParseInt(req.ExpiresIn, 10, 64)
		if err != nil || n < 1 || n > int64(s.ttl/time.Second) {
			return IssuedToken{}, errParam("expires_in must be a whole number of seconds from 1 to " + strconv.FormatInt(int64(s.ttl/time.Second), 10))
		}
		ttl = time.Duration(n) * time.Second
	}
	var role Role
	if req.Role != "" {
		if role, err = ParseRole(req.Role); err != nil {
			return IssuedToken{}, errParam("role must be Reader, Writer, Manager or Administrator")
		}
		if role > capRole(id.maxRole(), k.Cap) {
			return IssuedToken{}, errParam("role " + role.String() + " is above what this API key allows")
		}
	}

	t, err := s.issue(id, k.ID, GrantTypeAPIKey, role, now, ttl)
	if err != nil {
		return IssuedToken{}, err
	}
	s.activity.record(k.ID, now)
	return t, nil
}

// issue signs a token for id.
func (s *Service) issue(id *identity, keyID, grant string, role Role, now time.Time, ttl time.Duration) (IssuedToken, error) {
	c := token.Claims{
		Issuer:    s.issuer,
		Subject:   id.IAMID,
		IAMID:     id.IAMID,
		SubType:   id.SubType,
		Account:   token.Account{BSS: s.accountID},
		APIKeyID:  keyID,
		IssuedAt:  now.Unix(),
		ExpiresAt: now.Add(ttl).Unix(),
		ID:        uuid.NewString(),
		GrantType: grant,
		Scope:     "ibm openid",
	}
	if id.SubType == SubTypeUser {
		c.Name, c.Email = id.Name, id.Email
	}
	if role != NoRole {
		c.Role = role.String()
	}
	signed, err := s.tokens.Sign(c)
	if err != nil {
		return IssuedToken{}, err
	}
	return IssuedToken{Token: signed, ExpiresIn: int64(ttl / time.Second), Expiration: c.ExpiresAt, APIKeyID: keyID, IAMID: id.IAMID}, nil
}

// ErrBadCredentials answers every failed password sign-in alike.
var ErrBadCredentials = &TokenError{http.StatusBadRequest, "BXNIM0602E", "The username or password is not correct"}

// dummyHash is checked against when the user does not exist, so a sign-in
// takes as long for an unknown user as for a wrong password.
var dummyHash, _ = HashPassword("gatehouse-dummy-password", rand.Reader)

// SignInWithPassword signs a local user in with their password (the console's
// sign-in) and returns a token with grant type "password" and no API key: it
// works while the user exists, is enabled and has some access. Every failure
// is ErrBadCredentials, in about the same time.
func (s *Service) SignInWithPassword(ctx context.Context, username, password string) (IssuedToken, error) {
	u, err := s.store.GetUserByUsername(ctx, s.accountID, username)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.PasswordHash == "") {
		_, _ = CheckPassword(dummyHash, password)
		return IssuedToken{}, ErrBadCredentials
	}
	if err != nil {
		return IssuedToken{}, err
	}
	if ok, err := CheckPassword(u.PasswordHash, password); err != nil || !ok {
		return IssuedToken{}, ErrBadCredentials
	}
	id, err := s.idents.Get(ctx, u.IAMID, s.loadIdentity)
	if err != nil {
		return IssuedToken{}, err
	}
	if id == nil || id.Disabled || id.maxRole() == NoRole {
		return IssuedToken{}, ErrBadCredentials
	}
	return s.issue(id, "", GrantTypePassword, NoRole, s.now(), s.ttl)
}
