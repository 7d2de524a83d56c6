package token

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// JWS compact serialisation (RFC 7515) is written here on the standard library
// rather than with go-jose or golang-jwt for two reasons. Strictness: Verify
// must reject what those libraries accept or leave to the caller — duplicate
// member names in header or claims (encoding/json keeps the last), member names
// matched case-insensitively, padded or non-canonical base64url (and the CR/LF
// that encoding/base64 skips), a crit header — and must pick the key only by
// kid and only with that key's algorithm. Speed: Sign and Verify run on every
// token exchange and every authenticated request; here they parse with a small
// reflection-free reader, use precomputed headers and allocate a handful of
// buffers per call instead of the reflection-driven maps and interfaces a
// general JOSE library builds. The tests check every token against go-jose.

// ErrInvalidToken is wrapped by every error Verify returns. The message adds a
// short reason for logs; it never contains the token or any part of it.
var ErrInvalidToken = errors.New("invalid token")

type invalidTokenError struct{ reason string }

func (e *invalidTokenError) Error() string { return "invalid token: " + e.reason }
func (e *invalidTokenError) Unwrap() error { return ErrInvalidToken }

func invalid(reason string) error { return &invalidTokenError{reason: reason} }

// The reasons Verify gives, in the order it checks them.
var (
	errTooLarge     = invalid("longer than 8 KiB")
	errEmpty        = invalid("empty")
	errSegments     = invalid("not three dot-separated segments")
	errEncoding     = invalid("segment is not unpadded canonical base64url")
	errCrit         = invalid("header has crit")
	errTyp          = invalid("typ is not JWT")
	errAlg          = invalid("alg is missing or not a supported signature algorithm")
	errNoKID        = invalid("header has no kid")
	errUnknownKID   = invalid("kid names no published key")
	errAlgMismatch  = invalid("alg is not the algorithm of the key named by kid")
	errSignature    = invalid("signature does not verify")
	errIssuer       = invalid("wrong issuer")
	errNoExp        = invalid("exp missing")
	errExpired      = invalid("expired")
	errNotYetValid  = invalid("nbf in the future")
	errNoIat        = invalid("iat missing")
	errIssuedFuture = invalid("iat in the future")
	errLifetime     = invalid("lifetime longer than the maximum")
)

// Sign returns c as a JWS compact token signed with the key that signs now
// (see ActiveKeyID), header {"alg","kid","typ":"JWT"}. An empty c.Issuer is
// set to the configured issuer. It returns an error, and no token, for claims
// Verify would reject or that would outlive the key-retention guarantee: another
// issuer, iat or exp missing, exp not after iat, a lifetime over MaxTokenTTL,
// exp more than MaxTokenTTL from now, or a token over MaxTokenSize.
func (k *Keyring) Sign(c Claims) (string, error) {
	now := k.cfg.Now()
	key := k.snap.Load().signer(now)
	if key == nil {
		return "", errors.New("token: sign: no signing key")
	}
	if c.Issuer == "" {
		c.Issuer = k.cfg.Issuer
	}
	if err := k.checkSignable(&c, now); err != nil {
		return "", err
	}
	var stack [1024]byte
	payload := appendClaims(stack[:0], &c)
	n := len(key.header) + b64.EncodedLen(len(payload)) + 1 + b64.EncodedLen(key.sigSize())
	if n > MaxTokenSize {
		return "", fmt.Errorf("token: sign: the token would be %d bytes, over the %d-byte limit", n, MaxTokenSize)
	}
	out := make([]byte, 0, n)
	out = append(out, key.header...)
	out = b64.AppendEncode(out, payload)
	sig, err := key.sign(k.cfg.Rand, out)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	out = append(out, '.')
	out = b64.AppendEncode(out, sig)
	return string(out), nil
}

func (k *Keyring) checkSignable(c *Claims, now time.Time) error {
	switch {
	case c.Issuer != k.cfg.Issuer:
		return errors.New("token: sign: iss is not the configured issuer")
	case c.IssuedAt == 0 || c.ExpiresAt == 0:
		return errors.New("token: sign: iat and exp are required")
	case c.ExpiresAt <= c.IssuedAt:
		return errors.New("token: sign: exp must be after iat")
	case c.ExpiresAt-c.IssuedAt > int64(MaxTokenTTL/time.Second):
		return fmt.Errorf("token: sign: lifetime over %v", MaxTokenTTL)
	case time.Unix(c.ExpiresAt, 0).After(now.Add(MaxTokenTTL)):
		return fmt.Errorf("token: sign: exp more than %v from now", MaxTokenTTL)
	}
	return nil
}

// Verify checks token and returns its claims. It checks, in this order and
// stopping at the first failure (SPEC §3.4):
//
//  1. length at most MaxTokenSize, exactly three segments, each unpadded
//     canonical base64url;
//  2. the header is a JSON object without duplicate member names, has no crit,
//     and typ, if present, is JWT; jku, jwk, x5u and x5c are never used;
//  3. alg is one of the four supported names and kid names a published key
//     (an unknown kid triggers a reload from the store, at most once a second);
//     alg is exactly that key's algorithm;
//  4. the signature, with that key;
//  5. the claims are a JSON object without duplicate member names at any depth;
//     iss is the configured issuer; exp is present and now <= exp+Leeway; nbf,
//     if present, now >= nbf-Leeway; iat is present and iat <= now+Leeway; and
//     exp-iat is at most MaxTokenTTL.
//
// Every error wraps ErrInvalidToken. Revocation is left to the caller.
func (k *Keyring) Verify(ctx context.Context, token string) (Claims, error) {
	if len(token) > MaxTokenSize {
		return Claims{}, errTooLarge
	}
	if token == "" {
		return Claims{}, errEmpty
	}
	d1 := strings.IndexByte(token, '.')
	if d1 < 0 {
		return Claims{}, errSegments
	}
	d2 := strings.IndexByte(token[d1+1:], '.')
	if d2 < 0 {
		return Claims{}, errSegments
	}
	d2 += d1 + 1
	if strings.IndexByte(token[d2+1:], '.') >= 0 {
		return Claims{}, errSegments
	}
	for i := 0; i < len(token); i++ {
		if !isBase64URL(token[i]) && i != d1 && i != d2 {
			return Claims{}, errEncoding
		}
	}

	// One buffer: the token's bytes, then the decoded header, payload and signature.
	buf := make([]byte, len(token), len(token)+b64.DecodedLen(d1)+b64.DecodedLen(d2-d1-1)+b64.DecodedLen(len(token)-d2-1))
	copy(buf, token)
	header, ok := decodeSegment(&buf, buf[:d1])
	if !ok {
		return Claims{}, errEncoding
	}
	payload, ok := decodeSegment(&buf, buf[d1+1:d2])
	if !ok {
		return Claims{}, errEncoding
	}
	sig, ok := decodeSegment(&buf, buf[d2+1:len(token)])
	if !ok {
		return Claims{}, errEncoding
	}

	h, err := parseHeader(header)
	if err != nil {
		return Claims{}, err
	}
	snap := k.snap.Load()
	key := snap.byKID[string(h.kid)]
	if key == nil {
		k.reloadForUnknownKID(ctx)
		if key = k.snap.Load().byKID[string(h.kid)]; key == nil {
			return Claims{}, errUnknownKID
		}
	}
	if key.alg != h.alg {
		return Claims{}, errAlgMismatch
	}
	if !key.verify(buf[:d2], sig) {
		return Claims{}, errSignature
	}

	pc, err := parseClaims(payload)
	if err != nil {
		return Claims{}, invalid("claims: " + err.Error())
	}
	if pc.Issuer != k.cfg.Issuer {
		return Claims{}, errIssuer
	}
	now := k.cfg.Now()
	if !pc.hasEXP {
		return Claims{}, errNoExp
	}
	if now.After(time.Unix(pc.ExpiresAt, 0).Add(Leeway)) {
		return Claims{}, errExpired
	}
	if pc.hasNBF && now.Before(time.Unix(pc.NotBefore, 0).Add(-Leeway)) {
		return Claims{}, errNotYetValid
	}
	if !pc.hasIAT {
		return Claims{}, errNoIat
	}
	if time.Unix(pc.IssuedAt, 0).After(now.Add(Leeway)) {
		return Claims{}, errIssuedFuture
	}
	if pc.ExpiresAt-pc.IssuedAt > int64(MaxTokenTTL/time.Second) {
		return Claims{}, errLifetime
	}
	return pc.Claims, nil
}

func isBase64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// decodeSegment decodes src into the free capacity of *buf and returns it.
func decodeSegment(buf *[]byte, src []byte) ([]byte, bool) {
	b := *buf
	dst := b[len(b):cap(b)]
	n, err := b64.Decode(dst, src)
	if err != nil {
		return nil, false
	}
	*buf = b[:len(b)+n]
	return dst[:n:n], true
}

type jwsHeader struct {
	alg Algorithm
	kid []byte
}

// parseHeader applies step 2 of Verify and the alg-name part of step 3.
func parseHeader(b []byte) (jwsHeader, error) {
	var (
		h               jwsHeader
		alg, typ        []byte
		hasKID          bool
		hasTyp, hasCrit bool
	)
	p := jsonReader{b: b}
	err := p.object(func(name []byte) (err error) {
		switch string(name) {
		case "alg":
			alg, err = p.bytesValue()
		case "kid":
			h.kid, err = p.bytesValue()
			hasKID = true
		case "typ":
			typ, err = p.bytesValue()
			hasTyp = true
		case "crit":
			hasCrit = true
			err = p.skip()
		default: // jku, jwk, x5u, x5c included: never used to find a key
			err = p.skip()
		}
		return err
	})
	if err == nil {
		err = p.end()
	}
	switch {
	case err != nil:
		return h, invalid("header: " + err.Error())
	case hasCrit:
		return h, errCrit
	case hasTyp && !strings.EqualFold(string(typ), "JWT"):
		return h, errTyp
	}
	switch Algorithm(alg) {
	case ES256:
		h.alg = ES256
	case ES384:
		h.alg = ES384
	case EdDSA:
		h.alg = EdDSA
	case RS256:
		h.alg = RS256
	default: // also a missing alg
		return h, errAlg
	}
	if !hasKID || len(h.kid) == 0 {
		return h, errNoKID
	}
	return h, nil
}

// reloadForUnknownKID reloads the keys because a token names a kid this node
// does not know — how a key created on another node is first seen when its
// change event is late. At most one reload a second runs, so forged kids
// cannot hammer the store; callers arriving during a reload wait for it.
func (k *Keyring) reloadForUnknownKID(ctx context.Context) {
	k.kidMu.Lock()
	if ch := k.kidInflight; ch != nil {
		k.kidMu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
		}
		return
	}
	now := k.cfg.Now()
	if !k.kidLast.IsZero() && !now.Before(k.kidLast) && now.Sub(k.kidLast) < time.Second {
		k.kidMu.Unlock()
		return
	}
	ch := make(chan struct{})
	k.kidInflight, k.kidLast = ch, now
	k.kidMu.Unlock()

	err := k.Refresh(ctx)

	k.kidMu.Lock()
	k.kidInflight = nil
	k.kidMu.Unlock()
	close(ch)
	if err != nil {
		k.cfg.Logger.Warn("reloading signing keys for an unknown kid failed", "err", err)
	}
}
