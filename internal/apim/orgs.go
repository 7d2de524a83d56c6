package apim

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"gatehouse/internal/errs"
	"gatehouse/internal/iam"
	"gatehouse/internal/store"
)

// SandboxName and SandboxTitle are the catalog every new org gets.
const (
	SandboxName  = "sb"
	SandboxTitle = "Sandbox"
)

// CreateOrg creates a provider org with its Sandbox catalog (account Administrator).
func (s *Service) CreateOrg(ctx context.Context, p *iam.Principal, name, title string) (store.Org, error) {
	if p.AccountRole() < iam.Administrator {
		return store.Org{}, errs.E(errs.Forbidden, "Creating provider orgs needs the Administrator role on the account.")
	}
	if err := validateSlug("name", name); err != nil {
		return store.Org{}, err
	}
	if err := validateTitle(title); err != nil {
		return store.Org{}, err
	}
	if strings.TrimSpace(title) == "" {
		title = name
	}
	now := s.now()
	o := store.Org{
		ID: uuid.NewString(), AccountID: s.accountID, Name: name, Title: title, Version: 1,
		CreatedBy: p.IAMID(), CreatedAt: now, ModifiedAt: now,
	}
	sb := store.Environment{
		ID: uuid.NewString(), AccountID: s.accountID, OrgID: o.ID, Name: SandboxName, Title: SandboxTitle,
		CreatedBy: p.IAMID(), CreatedAt: now, ModifiedAt: now,
	}
	if err := s.store.CreateOrg(ctx, o, []store.Environment{sb}); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return store.Org{}, errs.E(errs.AlreadyExists, "An org named %s already exists.", name)
		}
		return store.Org{}, fmt.Errorf("create org: %w", err)
	}
	s.forgetOrgs()
	return o, nil
}

// ListOrgs lists, by name, the orgs the caller can see: all of them with a
// role on the account, else those where an org policy gives a role.
func (s *Service) ListOrgs(ctx context.Context, p *iam.Principal, limit int, after string) ([]store.Org, string, error) {
	var out []store.Org
	all, cached, err := s.allOrgs(ctx)
	if err != nil {
		return nil, "", err
	}
	if cached {
		out = listCachedOrgs(all, after, limit, func(o store.Org) bool { return p.OrgRole(o.ID) != iam.NoRole })
	}
	for !cached && len(out) <= limit {
		batch, err := s.store.ListOrgs(ctx, s.accountID, store.Page{After: after, Limit: limit + 1})
		if err != nil {
			return nil, "", fmt.Errorf("list orgs: %w", err)
		}
		for _, o := range batch {
			if p.OrgRole(o.ID) != iam.NoRole {
				out = append(out, o)
			}
			after = o.Name
		}
		if len(batch) <= limit {
			break
		}
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Name
	}
	return out, next, nil
}

// OrgUpdate is the body of PUT /v1/orgs/{org}; nil fields stay.
type OrgUpdate struct {
	IfMatch string
	Name    *string
	Title   *string
}

// UpdateOrg renames or retitles an org (Manager in it; If-Match required).
func (s *Service) UpdateOrg(ctx context.Context, p *iam.Principal, ref string, in OrgUpdate) (store.Org, error) {
	o, err := s.orgWithRole(ctx, p, ref, iam.Manager)
	if err != nil {
		return o, err
	}
	if in.IfMatch == "" {
		return store.Org{}, errs.E(errs.PreconditionRequired, "Send the org's ETag in If-Match (from GET /v1/orgs/%s).", o.Name)
	}
	if in.Name != nil {
		if err := validateSlug("name", *in.Name); err != nil {
			return store.Org{}, err
		}
	}
	if in.Title != nil {
		if err := validateTitle(*in.Title); err != nil {
			return store.Org{}, err
		}
	}
	out, err := s.store.UpdateOrg(ctx, o.ID, func(cur *store.Org) error {
		if !iam.ETagMatches(in.IfMatch, cur.Version) {
			return errs.E(errs.PreconditionFailed, "The org was changed since you read it; read it again and retry.")
		}
		if in.Name != nil {
			cur.Name = *in.Name
		}
		if in.Title != nil {
			cur.Title = *in.Title
		}
		cur.ModifiedAt = s.now()
		return nil
	})
	s.forgetOrgs()
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		return store.Org{}, errs.E(errs.AlreadyExists, "An org named %s already exists.", *in.Name)
	case errors.Is(err, store.ErrNotFound):
		return store.Org{}, errs.E(errs.NotFound, "Org %s not found.", errs.Printable(ref))
	}
	return out, err
}

// DeleteOrg deletes an org with its catalogs and org policies (account
// Administrator) and returns it.
func (s *Service) DeleteOrg(ctx context.Context, p *iam.Principal, ref string) (store.Org, error) {
	o, err := s.Org(ctx, p, ref)
	if err != nil {
		return o, err
	}
	if p.AccountRole() < iam.Administrator {
		return o, errs.E(errs.Forbidden, "Deleting provider orgs needs the Administrator role on the account.")
	}
	err = s.store.DeleteOrg(ctx, o.ID, nil)
	s.forgetOrgs()
	s.policies()
	s.gatewayChanged(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return o, errs.E(errs.NotFound, "Org %s not found.", errs.Printable(ref))
	}
	return o, err
}

// CreateEnvironment adds a catalog to an org (Manager in it).
func (s *Service) CreateEnvironment(ctx context.Context, p *iam.Principal, orgRef, name, title string) (store.Environment, error) {
	o, err := s.orgWithRole(ctx, p, orgRef, iam.Manager)
	if err != nil {
		return store.Environment{}, err
	}
	if err := validateSlug("name", name); err != nil {
		return store.Environment{}, err
	}
	if err := validateTitle(title); err != nil {
		return store.Environment{}, err
	}
	if strings.TrimSpace(title) == "" {
		title = name
	}
	now := s.now()
	e := store.Environment{
		ID: uuid.NewString(), AccountID: s.accountID, OrgID: o.ID, Name: name, Title: title,
		CreatedBy: p.IAMID(), CreatedAt: now, ModifiedAt: now,
	}
	if err := s.store.CreateEnvironment(ctx, e); err != nil {
		switch {
		case errors.Is(err, store.ErrAlreadyExists):
			return store.Environment{}, errs.E(errs.AlreadyExists, "Org %s already has a catalog named %s.", o.Name, name)
		case errors.Is(err, store.ErrNotFound):
			return store.Environment{}, errs.E(errs.NotFound, "Org %s not found.", errs.Printable(orgRef))
		}
		return store.Environment{}, fmt.Errorf("create environment: %w", err)
	}
	return e, nil
}

// ListEnvironments lists an org's catalogs by name (any role in the org).
func (s *Service) ListEnvironments(ctx context.Context, p *iam.Principal, orgRef string) ([]store.Environment, error) {
	o, err := s.Org(ctx, p, orgRef)
	if err != nil {
		return nil, err
	}
	return s.store.ListEnvironments(ctx, o.ID)
}

// Environment returns one catalog of an org the caller can see.
func (s *Service) Environment(ctx context.Context, p *iam.Principal, orgRef, envRef string) (store.Environment, error) {
	o, err := s.Org(ctx, p, orgRef)
	if err != nil {
		return store.Environment{}, err
	}
	e, err := s.store.GetEnvironment(ctx, o.ID, envRef)
	if errors.Is(err, store.ErrNotFound) {
		return e, errs.E(errs.NotFound, "Catalog %s not found in org %s.", errs.Printable(envRef), o.Name)
	}
	return e, err
}

// DeleteEnvironment deletes a catalog (Manager in the org) and returns it.
func (s *Service) DeleteEnvironment(ctx context.Context, p *iam.Principal, orgRef, envRef string) (store.Environment, error) {
	o, err := s.orgWithRole(ctx, p, orgRef, iam.Manager)
	if err != nil {
		return store.Environment{}, err
	}
	e, err := s.Environment(ctx, p, o.ID, envRef)
	if err != nil {
		return e, err
	}
	err = s.store.DeleteEnvironment(ctx, o.ID, e.ID)
	s.gatewayChanged(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return e, errs.E(errs.NotFound, "Catalog %s not found in org %s.", errs.Printable(envRef), o.Name)
	}
	return e, err
}
