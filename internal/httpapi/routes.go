package httpapi

import (
	"context"
	"net/http"
	"strings"

	"gatehouse/internal/apim"
	"gatehouse/internal/errs"
	"gatehouse/internal/iam"
)

// Scope says where a route's role is required.
type Scope uint8

const (
	// ScopeAuthenticated needs a valid token and nothing more for reads (the
	// services decide what each caller sees); writes still need Writer somewhere.
	ScopeAuthenticated Scope = iota + 1
	// ScopeSelf needs the role somewhere (the caller's highest effective
	// role): self-service routes such as managing one's own API keys. The
	// services add the object-level rules.
	ScopeSelf
	// ScopeAccount needs the role on the whole account.
	ScopeAccount
	// ScopeOrg needs the role in the provider org named by the {org} path
	// segment (the higher of the account and org policies). Callers with no
	// role there are told the org does not exist.
	ScopeOrg
)

// Rule is a route's authorization requirement.
type Rule struct {
	Role  iam.Role
	Scope Scope
}

// handler serves one authorized /v1 call.
type handler = func(w http.ResponseWriter, r *http.Request, p *iam.Principal) error

// Route is one /v1 endpoint with its rule and, for changes, the name its
// calls are audited under.
type Route struct {
	Pattern string // "METHOD /v1/path/{param}"
	Rule    Rule
	Action  string // audit action; empty for reads
	handle  handler
}

// Method is the pattern's HTTP method.
func (rt Route) Method() string { m, _, _ := strings.Cut(rt.Pattern, " "); return m }

// Table is the /v1 route table, for tests that walk every route: each has a
// rule, the rules keep the Reader promise, and each answers as its rule says.
func Table() []Route { return (&Server{}).routes() }

func (s *Server) routes() []Route {
	auth := Rule{Scope: ScopeAuthenticated}
	self := func(r iam.Role) Rule { return Rule{Role: r, Scope: ScopeSelf} }
	account := func(r iam.Role) Rule { return Rule{Role: r, Scope: ScopeAccount} }
	org := func(r iam.Role) Rule { return Rule{Role: r, Scope: ScopeOrg} }
	const (
		reader = iam.Reader
		writer = iam.Writer
		mgr    = iam.Manager
		admin  = iam.Administrator
	)
	return []Route{
		{"GET /v1/me", auth, "", s.getMe},

		{"POST /v1/apikeys", self(writer), "apikey.create", s.createAPIKey},
		{"GET /v1/apikeys", self(reader), "", s.listAPIKeys},
		{"GET /v1/apikeys/details", self(reader), "", s.getAPIKeyDetails},
		{"POST /v1/apikeys/leaked", self(writer), "apikey.report_leaked", s.reportLeaked},
		{"GET /v1/apikeys/{id}", self(reader), "", s.getAPIKey},
		{"PUT /v1/apikeys/{id}", self(writer), "apikey.update", s.updateAPIKey},
		{"DELETE /v1/apikeys/{id}", self(writer), "apikey.delete", s.deleteAPIKey},
		{"POST /v1/apikeys/{id}/lock", self(writer), "apikey.lock", toggle(s.iam.SetAPIKeyLocked, true)},
		{"DELETE /v1/apikeys/{id}/lock", self(writer), "apikey.unlock", toggle(s.iam.SetAPIKeyLocked, false)},
		{"POST /v1/apikeys/{id}/disable", self(writer), "apikey.disable", toggle(s.iam.SetAPIKeyDisabled, true)},
		{"DELETE /v1/apikeys/{id}/disable", self(writer), "apikey.enable", toggle(s.iam.SetAPIKeyDisabled, false)},
		{"POST /v1/apikeys/{id}/rotate", self(writer), "apikey.rotate", s.rotateAPIKey},

		{"POST /v1/users", account(admin), "user.create", s.createUser},
		{"GET /v1/users", account(reader), "", s.listUsers},
		{"GET /v1/users/{id}", auth, "", s.getUser},
		{"PATCH /v1/users/{id}", self(writer), "user.update", s.patchUser},
		{"DELETE /v1/users/{id}", account(admin), "user.delete", s.deleteUser},

		{"POST /v1/serviceids", account(admin), "serviceid.create", s.createServiceID},
		{"GET /v1/serviceids", account(reader), "", s.listServiceIDs},
		{"GET /v1/serviceids/{id}", auth, "", s.getServiceID},
		{"PUT /v1/serviceids/{id}", account(admin), "serviceid.update", s.updateServiceID},
		{"DELETE /v1/serviceids/{id}", account(admin), "serviceid.delete", s.deleteServiceID},
		{"POST /v1/serviceids/{id}/lock", account(admin), "serviceid.lock", s.lockServiceID(true)},
		{"DELETE /v1/serviceids/{id}/lock", account(admin), "serviceid.unlock", s.lockServiceID(false)},

		{"POST /v1/policies", self(mgr), "policy.create", s.createPolicy},
		{"GET /v1/policies", auth, "", s.listPolicies},
		{"GET /v1/policies/{id}", auth, "", s.getPolicy},
		{"DELETE /v1/policies/{id}", self(mgr), "policy.delete", s.deletePolicy},

		{"GET /v1/audit", account(admin), "", s.listAudit},
		{"GET /v1/audit/verify", account(admin), "", s.verifyAudit},

		{"POST /v1/signing-keys/rotate", account(admin), "signing_key.rotate", s.rotateSigningKey},

		{"POST /v1/orgs", account(admin), "org.create", s.createOrg},
		{"GET /v1/orgs", auth, "", s.listOrgs},
		{"GET /v1/orgs/{org}", org(reader), "", s.getOrg},
		{"PUT /v1/orgs/{org}", org(mgr), "org.update", s.updateOrg},
		{"DELETE /v1/orgs/{org}", account(admin), "org.delete", s.deleteOrg},
		{"POST /v1/orgs/{org}/environments", org(mgr), "catalog.create", s.createEnvironment},
		{"GET /v1/orgs/{org}/environments", org(reader), "", s.listEnvironments},
		{"GET /v1/orgs/{org}/environments/{env}", org(reader), "", s.getEnvironment},
		{"DELETE /v1/orgs/{org}/environments/{env}", org(mgr), "catalog.delete", s.deleteEnvironment},

		{"POST /v1/orgs/{org}/apis", org(writer), "api.create", s.createDraft(apim.KindAPI)},
		{"GET /v1/orgs/{org}/apis", org(reader), "", s.listDrafts(apim.KindAPI)},
		{"GET /v1/orgs/{org}/apis/{api}", org(reader), "", s.getDraft(apim.KindAPI, "api")},
		{"PUT /v1/orgs/{org}/apis/{api}", org(writer), "api.replace", s.replaceDraft(apim.KindAPI, "api")},
		{"DELETE /v1/orgs/{org}/apis/{api}", org(writer), "api.delete", s.deleteDraft(apim.KindAPI, "api")},
		{"POST /v1/orgs/{org}/products", org(writer), "product.create", s.createDraft(apim.KindProduct)},
		{"GET /v1/orgs/{org}/products", org(reader), "", s.listDrafts(apim.KindProduct)},
		{"GET /v1/orgs/{org}/products/{product}", org(reader), "", s.getDraft(apim.KindProduct, "product")},
		{"PUT /v1/orgs/{org}/products/{product}", org(writer), "product.replace", s.replaceDraft(apim.KindProduct, "product")},
		{"DELETE /v1/orgs/{org}/products/{product}", org(writer), "product.delete", s.deleteDraft(apim.KindProduct, "product")},

		{"POST /v1/orgs/{org}/environments/{env}/products", org(mgr), "product.publish", s.publish},
		{"GET /v1/orgs/{org}/environments/{env}/products", org(reader), "", s.listPublications},
		{"GET /v1/orgs/{org}/environments/{env}/products/{product}", org(reader), "", s.getPublication},
		{"PATCH /v1/orgs/{org}/environments/{env}/products/{product}", org(mgr), "product.lifecycle", s.setPublicationState},

		{"POST /v1/orgs/{org}/environments/{env}/consumerOrgs", org(writer), "consumer_org.create", s.createConsumerOrg},
		{"GET /v1/orgs/{org}/environments/{env}/consumerOrgs", org(reader), "", s.listConsumerOrgs},
		{"GET /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}", org(reader), "", s.getConsumerOrg},
		{"DELETE /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}", org(writer), "consumer_org.delete", s.deleteConsumerOrg},
		{"POST /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps", org(writer), "app.create", s.createApp},
		{"GET /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps", org(reader), "", s.listApps},
		{"GET /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}", org(reader), "", s.getApp},
		{"DELETE /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}", org(writer), "app.delete", s.deleteApp},
		{"GET /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/credentials", org(reader), "", s.listCredentials},
		{"POST /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/credentials", org(writer), "credential.create", s.addCredential},
		{"DELETE /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/credentials/{clientID}", org(writer), "credential.delete", s.deleteCredential},
		{"POST /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/credentials/{clientID}/reset-secret", org(writer), "credential.reset_secret", s.resetSecret},
		{"GET /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/subscriptions", org(reader), "", s.listSubscriptions},
		{"POST /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/subscriptions", org(writer), "subscription.create", s.subscribe},
		{"DELETE /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/subscriptions/{id}", org(writer), "subscription.delete", s.unsubscribe},
		{"POST /v1/orgs/{org}/environments/{env}/consumerOrgs/{corg}/apps/{app}/subscriptions/{id}/approve", org(mgr), "subscription.approve", s.approve},
		{"GET /v1/orgs/{org}/environments/{env}/consumerApps", org(reader), "", s.listApps},
		{"GET /v1/orgs/{org}/environments/{env}/subscriptions", org(reader), "", s.listSubscriptions},
		{"GET /v1/orgs/{org}/environments/{env}/events", org(reader), "", s.listEvents},
		{"GET /v1/orgs/{org}/environments/{env}/analytics", org(reader), "", s.getAnalytics},
	}
}

// guard authenticates the caller, enforces the route's rule, runs the
// handler, and records changes (and refused attempts) in the audit log.
func (s *Server) guard(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err != nil {
			s.writeError(w, r, err) // unauthenticated calls have no actor; the access log has them
			return
		}
		note := &auditNote{}
		if rt.Action != "" {
			r = r.WithContext(context.WithValue(r.Context(), noteKey, note))
		}
		err = s.authorizeRoute(r, rt.Rule, p)
		if err == nil {
			err = rt.handle(w, r, p)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
		if rt.Action != "" {
			s.auditCall(r, w, rt.Action, p, note, err)
		}
	})
}

// authorizeRoute applies a route's rule to the caller.
func (s *Server) authorizeRoute(r *http.Request, rule Rule, p *iam.Principal) error {
	var have iam.Role
	switch rule.Scope {
	case ScopeAuthenticated:
		if isRead(r.Method) {
			return nil
		}
		have = p.MaxRole()
	case ScopeSelf:
		have = p.MaxRole()
	case ScopeAccount:
		have = p.AccountRole()
	case ScopeOrg:
		o, err := s.apim.ResolveOrg(r.Context(), r.PathValue("org"))
		if err != nil {
			return err
		}
		if have = p.OrgRole(o.ID); have == iam.NoRole {
			return errs.E(errs.NotFound, "Org %s not found.", errs.Printable(r.PathValue("org")))
		}
		noteAudit(r, o.ID, "") // by id, however the caller named it; handlers may name something more specific
	}
	return authorize(rule, r.Method, have)
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

// authorize applies a rule given the caller's role at the rule's scope.
// Whatever the rule says, a request that is not a read needs at least Writer
// (a Reader can never change anything), and a rule without a scope or role
// refuses everyone: deny by default.
func authorize(rule Rule, method string, have iam.Role) error {
	if rule.Scope == ScopeAuthenticated && isRead(method) {
		return nil
	}
	need := rule.Role
	if !isRead(method) {
		need = max(need, iam.Writer)
	}
	if rule.Scope == 0 || need == iam.NoRole || have < need {
		return errs.E(errs.Forbidden, "This action needs the %s role; your effective role is %s.", iam.RoleName(need), iam.RoleName(have))
	}
	return nil
}

func isRead(method string) bool { return method == http.MethodGet || method == http.MethodHead }

var (
	errInternal = errs.E(errs.Internal, "Internal error.")
	errNoRoute  = errs.E(errs.NotFound, "No such API endpoint.")
)

func errMethod(m string) error {
	return errs.E(errs.MethodNotAllowed, "Method %s is not allowed here; see the Allow header.", m)
}
