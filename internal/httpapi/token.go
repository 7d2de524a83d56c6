package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"gatehouse/internal/audit"
	"gatehouse/internal/iam"
	"gatehouse/internal/token"
)

// maxTokenForm bounds a token request's form body.
const maxTokenForm = 64 << 10

// tokenError is the token service's error body (SPEC §3.3, IBM IAM shape).
type tokenError struct {
	ErrorCode    string       `json:"errorCode"`
	ErrorMessage string       `json:"errorMessage"`
	Context      tokenContext `json:"context"`
}

type tokenContext struct {
	RequestID   string `json:"requestId"`
	RequestType string `json:"requestType"`
}

var (
	errTokenMethod      = &iam.TokenError{Status: http.StatusMethodNotAllowed, Code: "BXNIM0060E", Message: "Method not allowed; use POST"}
	errTokenGrant       = &iam.TokenError{Status: http.StatusBadRequest, Code: "BXNIM0103E", Message: "Unsupported grant type"}
	errTokenTooLarge    = &iam.TokenError{Status: http.StatusRequestEntityTooLarge, Code: "BXNIM0413E", Message: "Request body too large"}
	errTokenForm        = &iam.TokenError{Status: http.StatusBadRequest, Code: "BXNIM0109E", Message: "The request body must be application/x-www-form-urlencoded"}
	errTokenUnavailable = &iam.TokenError{Status: http.StatusServiceUnavailable, Code: "BXNIM0503E", Message: "The token service is temporarily unavailable"}
	errTokenInternal    = &iam.TokenError{Status: http.StatusInternalServerError, Code: "BXNIM0500E", Message: "Internal error"}
	errTokenThrottled   = &iam.TokenError{Status: http.StatusTooManyRequests, Code: "BXNIM0440E", Message: "Too many failed attempts from this address; try again later"}
)

// handleV5Token is POST /apikey?apikey=KEY → {"jwt": …} (SPEC §3.1).
func (s *Server) handleV5Token(w http.ResponseWriter, r *http.Request) {
	req, terr := s.tokenRequest(w, r)
	if terr != nil {
		s.writeTokenError(w, r, "v5", terr)
		return
	}
	t, ok := s.exchange(w, r, "v5", func(ctx context.Context) (iam.IssuedToken, error) { return s.iam.Exchange(ctx, req) })
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"jwt": t.Token, "expires_in": t.ExpiresIn, "expiration": t.Expiration})
}

// handleIAMToken is IBM IAM's POST /identity/token (SPEC §3.2).
func (s *Server) handleIAMToken(w http.ResponseWriter, r *http.Request) {
	req, terr := s.tokenRequest(w, r)
	var run func(ctx context.Context) (iam.IssuedToken, error)
	if terr == nil {
		switch gt := r.PostForm.Get("grant_type"); gt {
		case "":
			terr = iam.ErrMissing("grant_type")
		case iam.GrantTypeAPIKey:
			run = func(ctx context.Context) (iam.IssuedToken, error) { return s.iam.Exchange(ctx, req) }
		case iam.GrantTypePassword:
			// A local user's password, from the form body only (never the URL).
			user, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
			switch {
			case user == "":
				terr = iam.ErrMissing("username")
			case pw == "":
				terr = iam.ErrMissing("password")
			}
			run = func(ctx context.Context) (iam.IssuedToken, error) { return s.iam.SignInWithPassword(ctx, user, pw) }
		default:
			terr = errTokenGrant
		}
	}
	if terr != nil {
		s.writeTokenError(w, r, "iam", terr)
		return
	}
	t, ok := s.exchange(w, r, "iam", run)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  t.Token,
		"refresh_token": "not_supported",
		"token_type":    "Bearer",
		"expires_in":    t.ExpiresIn,
		"expiration":    t.Expiration,
		"scope":         "ibm openid",
	})
}

// tokenRequest parses a token request: POST only; the key and options from
// the form body or the query string.
func (s *Server) tokenRequest(w http.ResponseWriter, r *http.Request) (iam.ExchangeRequest, *iam.TokenError) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return iam.ExchangeRequest{}, errTokenMethod
	}
	if wait, blocked := s.throttle.Blocked(s.clientIP(r)); blocked {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10))
		return iam.ExchangeRequest{}, errTokenThrottled
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/x-www-form-urlencoded" {
			if r.ContentLength != 0 {
				return iam.ExchangeRequest{}, errTokenForm
			}
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenForm)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return iam.ExchangeRequest{}, errTokenTooLarge
		}
		return iam.ExchangeRequest{}, errTokenForm
	}
	return iam.ExchangeRequest{
		APIKey:    r.Form.Get("apikey"),
		Role:      r.Form.Get("role"),
		ExpiresIn: r.Form.Get("expires_in"),
	}, nil
}

// exchange runs the exchange, records it in the audit log (without the key),
// counts failures against the client address, and writes the error if it fails.
func (s *Server) exchange(w http.ResponseWriter, r *http.Request, endpoint string, run func(context.Context) (iam.IssuedToken, error)) (iam.IssuedToken, bool) {
	ip := s.clientIP(r)
	entry := audit.Entry{
		AccountID: s.iam.AccountID(), Action: "token.exchange", RequestID: requestID(r), SourceIP: ip.String(),
	}
	t, err := run(r.Context())
	if err == nil {
		s.metrics.exchanges.WithLabelValues(endpoint, "success").Inc()
		entry.ActorIAMID, entry.ActorAPIKeyID, entry.Target = t.IAMID, t.APIKeyID, t.APIKeyID
		entry.Outcome, entry.Message = audit.Success, endpoint
		s.audit.Submit(entry)
		return t, true
	}
	var terr *iam.TokenError
	if !errors.As(err, &terr) {
		terr = errTokenInternal
		if isUnavailable(err) {
			terr = errTokenUnavailable
		}
		s.log.LogAttrs(r.Context(), slog.LevelError, "token exchange failed", slog.String("request_id", requestID(r)), slog.Any("err", err))
	}
	if terr == iam.ErrBadKey || terr == iam.ErrBadCredentials {
		s.throttle.Fail(ip)
	}
	entry.Outcome, entry.Message = audit.Failure, endpoint+" "+terr.Code
	s.audit.Submit(entry)
	s.writeTokenError(w, r, endpoint, terr)
	return iam.IssuedToken{}, false
}

func (s *Server) writeTokenError(w http.ResponseWriter, r *http.Request, endpoint string, e *iam.TokenError) {
	outcome := map[string]string{"BXNIM0415E": "bad_key", "BXNIM0602E": "bad_password", "BXNIM0440E": "throttled", "BXNIM0503E": "unavailable", "BXNIM0500E": "error"}[e.Code]
	if outcome == "" {
		outcome = "bad_request"
	}
	s.metrics.exchanges.WithLabelValues(endpoint, outcome).Inc()
	writeJSON(w, e.Status, tokenError{
		ErrorCode:    e.Code,
		ErrorMessage: e.Message,
		Context:      tokenContext{RequestID: requestID(r), RequestType: "incoming.Identity_Token"},
	})
}

// handleJWKS serves the published signing keys (SPEC §3.5).
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.keyring.JWKS())
}

// handleDiscovery serves the OpenID configuration at both paths.
func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	w.Write(token.OpenIDConfiguration(s.issuer, s.keyring.Algorithms()))
}
