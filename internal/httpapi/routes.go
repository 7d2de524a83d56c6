package httpapi

import (
	"net/http"
	"strings"

	"gatehouse/internal/errs"
	"gatehouse/internal/iam"
)

// Scope says where a route's role is required.
type Scope uint8

const (
	// ScopeAuthenticated needs a valid token and nothing more.
	ScopeAuthenticated Scope = iota + 1
	// ScopeSelf needs the role somewhere (the caller's highest effective
	// role): self-service routes such as managing one's own API keys. The
	// services add the object-level rules.
	ScopeSelf
	// ScopeAccount needs the role on the whole account.
	ScopeAccount
)

// Rule is a route's authorization requirement.
type Rule struct {
	Role  iam.Role
	Scope Scope
}

// Route is one /v1 endpoint with its rule.
type Route struct {
	Pattern string // "METHOD /v1/path/{param}"
	Rule    Rule
	handle  func(w http.ResponseWriter, r *http.Request, p *iam.Principal) error
}

// Method is the pattern's HTTP method.
func (rt Route) Method() string { m, _, _ := strings.Cut(rt.Pattern, " "); return m }

// Table is the /v1 route table, for tests that walk every route: each has a
// rule, the rules keep the Reader promise, and each answers as its rule says.
func Table() []Route { return (&Server{}).routes() }

func (s *Server) routes() []Route {
	self := func(r iam.Role) Rule { return Rule{Role: r, Scope: ScopeSelf} }
	account := func(r iam.Role) Rule { return Rule{Role: r, Scope: ScopeAccount} }
	return []Route{
		{"GET /v1/me", Rule{Scope: ScopeAuthenticated}, s.getMe},

		{"POST /v1/apikeys", self(iam.Writer), s.createAPIKey},
		{"GET /v1/apikeys", self(iam.Reader), s.listAPIKeys},
		{"GET /v1/apikeys/details", self(iam.Reader), s.getAPIKeyDetails},
		{"POST /v1/apikeys/leaked", self(iam.Writer), s.reportLeaked},
		{"GET /v1/apikeys/{id}", self(iam.Reader), s.getAPIKey},
		{"PUT /v1/apikeys/{id}", self(iam.Writer), s.updateAPIKey},
		{"DELETE /v1/apikeys/{id}", self(iam.Writer), s.deleteAPIKey},
		{"POST /v1/apikeys/{id}/lock", self(iam.Writer), keyToggle(s.iam.SetAPIKeyLocked, true)},
		{"DELETE /v1/apikeys/{id}/lock", self(iam.Writer), keyToggle(s.iam.SetAPIKeyLocked, false)},
		{"POST /v1/apikeys/{id}/disable", self(iam.Writer), keyToggle(s.iam.SetAPIKeyDisabled, true)},
		{"DELETE /v1/apikeys/{id}/disable", self(iam.Writer), keyToggle(s.iam.SetAPIKeyDisabled, false)},
		{"POST /v1/apikeys/{id}/rotate", self(iam.Writer), s.rotateAPIKey},

		{"POST /v1/signing-keys/rotate", account(iam.Administrator), s.rotateSigningKey},
	}
}

// guard authenticates the caller, enforces the route's rule and runs the handler.
func (s *Server) guard(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err == nil {
			err = authorize(rt.Rule, r.Method, p)
		}
		if err == nil {
			err = rt.handle(w, r, p)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// authenticate reads the bearer token and returns the caller.
func (s *Server) authenticate(r *http.Request) (*iam.Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if h == "" {
		return nil, errs.E(errs.InvalidToken, "This API needs a token: send Authorization: Bearer <token> (get one from POST /identity/token).")
	}
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return nil, errs.E(errs.InvalidToken, "The Authorization header must be 'Bearer <token>'.")
	}
	return s.iam.Authenticate(r.Context(), tok)
}

// roles is what authorize needs of the caller (*iam.Principal).
type roles interface {
	MaxRole() iam.Role
	AccountRole() iam.Role
}

// authorize applies a rule. Whatever the rule says, a request that is not a
// read needs at least Writer (a Reader can never change anything), and a rule
// without a scope or role refuses everyone: deny by default.
func authorize(rule Rule, method string, p roles) error {
	need := rule.Role
	if !isRead(method) {
		need = max(need, iam.Writer)
	}
	var have iam.Role
	switch rule.Scope {
	case ScopeAuthenticated:
		if isRead(method) {
			return nil
		}
		have = p.MaxRole()
	case ScopeSelf:
		have = p.MaxRole()
	case ScopeAccount:
		have = p.AccountRole()
	}
	if need == iam.NoRole || have < need {
		return errs.E(errs.Forbidden, "This action needs the %s role; your effective role is %s.", roleName(need), roleName(have))
	}
	return nil
}

func isRead(method string) bool { return method == http.MethodGet || method == http.MethodHead }

func roleName(r iam.Role) string {
	if r == iam.NoRole {
		return "none"
	}
	return r.String()
}

var (
	errInternal = errs.E(errs.Internal, "Internal error.")
	errNoRoute  = errs.E(errs.NotFound, "No such API endpoint.")
)

func errMethod(m string) error {
	return errs.E(errs.MethodNotAllowed, "Method %s is not allowed here; see the Allow header.", m)
}
