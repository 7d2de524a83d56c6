package apim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"gatehouse/internal/cache"
	"gatehouse/internal/errs"
	"gatehouse/internal/iam"
	"gatehouse/internal/store"
)

// Config holds the Service's dependencies.
type Config struct {
	Store     store.Store
	AccountID string
	Now       func() time.Time
	// PoliciesChanged is called after a change that removed policies (deleting
	// an org removes its org policies), so access caches drop them at once.
	PoliciesChanged func()
	// GatewayChanged is called after a change the gateway routes by
	// (publications, consumers, credentials, subscriptions), before the change
	// is answered; it returns once the gateway routes by it (or gives up).
	GatewayChanged func(ctx context.Context)
	// Rand is the source of client ids and secrets (default crypto/rand).
	Rand io.Reader
}

// Service is the API Manager.
type Service struct {
	store     store.Store
	accountID string
	now       func() time.Time
	orgs      *cache.Lazy[*store.Org] // by id and by name; nil: no such org
	orgList   orgList                 // all of them by name, for listings
	policies  func()
	gateway   func(ctx context.Context)
	rand      io.Reader
}

// New returns the API Manager service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PoliciesChanged == nil {
		cfg.PoliciesChanged = func() {}
	}
	if cfg.GatewayChanged == nil {
		cfg.GatewayChanged = func(context.Context) {}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Service{
		store: cfg.Store, accountID: cfg.AccountID, now: cfg.Now, orgs: cache.NewLazy[*store.Org](10_000),
		policies: cfg.PoliciesChanged, gateway: cfg.GatewayChanged, rand: cfg.Rand,
	}
}

// gatewayChanged has the gateway rebuild its routing snapshot and waits, at
// most two seconds, until it routes by the change just made.
func (s *Service) gatewayChanged(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	s.gateway(ctx)
}

// Invalidate drops cached state touched by a change.
func (s *Service) Invalidate(c store.Change) {
	if c.Kind == store.ChangeOrg || c.Kind == store.ChangeAccount {
		s.forgetOrgs() // cached by id, by name and as a list: drop all
	}
}

// slugRE is the form of org and catalog names: lowercase letters, digits and
// inner hyphens, up to 63 characters.
var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

func validateSlug(field, v string) error {
	if !slugRE.MatchString(v) {
		return errs.Invalid(field, "%s must be 1 to 63 lowercase letters, digits or inner hyphens (e.g. climbing-co).", field)
	}
	if _, err := uuid.Parse(v); err == nil {
		return errs.Invalid(field, "%s must not look like an id.", field)
	}
	return nil
}

func validateTitle(v string) error {
	if len(v) > 256 || strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return errs.Invalid("title", "title must be at most 256 characters without control characters.")
	}
	return nil
}

// ResolveOrg finds an org by id or name (cached; no store round trip when
// nothing changed). Unknown orgs are not_found.
func (s *Service) ResolveOrg(ctx context.Context, ref string) (store.Org, error) {
	o, err := s.orgs.Get(ctx, ref, func(ctx context.Context, ref string) (*store.Org, error) {
		o, err := s.store.GetOrg(ctx, s.accountID, ref)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("load org: %w", err)
		}
		return &o, nil
	})
	if err != nil {
		return store.Org{}, err
	}
	if o == nil {
		return store.Org{}, errs.E(errs.NotFound, "Org %s not found.", errs.Printable(ref))
	}
	return *o, nil
}

// Org returns an org the caller can see (any role in it); others are not found.
func (s *Service) Org(ctx context.Context, p *iam.Principal, ref string) (store.Org, error) {
	o, err := s.ResolveOrg(ctx, ref)
	if err == nil && p.OrgRole(o.ID) == iam.NoRole {
		return store.Org{}, errs.E(errs.NotFound, "Org %s not found.", errs.Printable(ref))
	}
	return o, err
}

// orgWithRole returns an org in which the caller has at least role.
func (s *Service) orgWithRole(ctx context.Context, p *iam.Principal, ref string, role iam.Role) (store.Org, error) {
	o, err := s.Org(ctx, p, ref)
	if err != nil {
		return o, err
	}
	if have := p.OrgRole(o.ID); have < role {
		return store.Org{}, errs.E(errs.Forbidden, "This needs the %s role in org %s; yours is %s.", role, o.Name, have)
	}
	return o, nil
}
