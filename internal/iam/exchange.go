package iam

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"gatehouse/internal/store"
	"gatehouse/internal/token"
)

// GrantTypeAPIKey is IBM IAM's grant type for exchanging an API key.
const GrantTypeAPIKey = "urn:ibm:params:oauth:grant-type:apikey"

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
	k, err := s.store.GetAPIKeyByDigest(ctx, Digest(req.APIKey))
	if errors.Is(err, store.ErrNotFound) {
		return IssuedToken{}, ErrBadKey
	}
	if err != nil {
		return IssuedToken{}, err
	}
	now := s.now()
	if k.AccountID != s.accountID || !stateOf(k).usable(now) {
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
		keyCap, _ := ParseRole(k.Role)
		if role > capRole(id.maxRole(), keyCap) {
			return IssuedToken{}, errParam("role " + role.String() + " is above what this API key allows")
		}
	}

	c := token.Claims{
		Issuer:    s.issuer,
		Subject:   id.IAMID,
		IAMID:     id.IAMID,
		SubType:   id.SubType,
		Account:   token.Account{BSS: s.accountID},
		APIKeyID:  k.ID,
		IssuedAt:  now.Unix(),
		ExpiresAt: now.Add(ttl).Unix(),
		ID:        uuid.NewString(),
		GrantType: GrantTypeAPIKey,
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
	s.activity.record(k.ID, now)
	return IssuedToken{Token: signed, ExpiresIn: int64(ttl / time.Second), Expiration: c.ExpiresAt, APIKeyID: k.ID, IAMID: k.IAMID}, nil
}
