package iam

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"gatehouse/internal/errs"
	"gatehouse/internal/store"
)

// PolicyInput is the body of POST /v1/policies.
type PolicyInput struct {
	Subject string // iam_id of a user or service ID of the account
	Role    string
	Org     string // org name or id; empty: the whole account
}

// PolicyInfo is a policy with its org's name.
type PolicyInfo struct {
	store.Policy
	OrgName string
}

// PolicyFilter narrows ListPolicies.
type PolicyFilter struct {
	Subject string
	Org     string // name or id
}

// CreatePolicy grants a role. Account-wide policies are for Administrators;
// an org policy needs Manager in that org. Nobody grants a role above their
// own effective role at that scope — in particular nobody makes themselves
// more than they are.
func (s *Service) CreatePolicy(ctx context.Context, p *Principal, in PolicyInput) (PolicyInfo, error) {
	role, err := ParseRole(in.Role)
	if err != nil {
		return PolicyInfo{}, errs.Invalid("role", "%s", err.Error())
	}
	if in.Subject == "" {
		return PolicyInfo{}, errs.Invalid("subject", "subject (an iam_id) is required.")
	}
	var org store.Org
	if in.Org != "" {
		if org, err = s.orgFor(ctx, p, in.Org); err != nil {
			return PolicyInfo{}, err
		}
	}
	if err := s.mayGrant(p, org.ID, role); err != nil {
		return PolicyInfo{}, err
	}
	if id, err := s.identityOf(ctx, in.Subject); err != nil || id.AccountID != s.accountID {
		return PolicyInfo{}, errs.Invalid("subject", "Identity %s not found in this account.", errs.Printable(in.Subject))
	}
	pol := store.Policy{
		ID: "Policy-" + uuid.NewString(), AccountID: s.accountID, Subject: in.Subject,
		Role: role.String(), Org: org.ID, CreatedBy: p.IAMID(), CreatedAt: s.now(),
	}
	if err := s.store.CreatePolicy(ctx, pol); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return PolicyInfo{}, errs.E(errs.AlreadyExists, "%s already has a policy at this scope; delete it to grant another role.", errs.Printable(in.Subject))
		}
		return PolicyInfo{}, fmt.Errorf("create policy: %w", err)
	}
	s.idents.Forget(in.Subject)
	return PolicyInfo{Policy: pol, OrgName: org.Name}, nil
}

// mayGrant decides whether p may create or remove a policy of role at the
// scope (org "" is the account).
func (s *Service) mayGrant(p *Principal, org string, role Role) error {
	if org == "" {
		if p.AccountRole() < Administrator {
			return errs.E(errs.Forbidden, "Account-wide policies need the Administrator role on the account.")
		}
		return nil
	}
	have := p.OrgRole(org)
	if have < Manager {
		return errs.E(errs.Forbidden, "Policies in this org need the Manager role in it; yours is %s.", RoleName(have))
	}
	if role > have {
		return errs.E(errs.Forbidden, "You cannot grant %s: your own role in this org is %s.", role, have)
	}
	return nil
}

// orgFor resolves an org reference the caller can see; others are not found.
func (s *Service) orgFor(ctx context.Context, p *Principal, ref string) (store.Org, error) {
	o, err := s.store.GetOrg(ctx, s.accountID, ref)
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.OrgRole(o.ID) == NoRole) {
		return store.Org{}, errs.E(errs.NotFound, "Org %s not found.", errs.Printable(ref))
	}
	return o, err
}

// mayReadPolicy: Administrators read every policy, anyone their own, Managers
// those of their orgs.
func (s *Service) mayReadPolicy(p *Principal, pol store.Policy) bool {
	return pol.AccountID == s.accountID && (p.AccountRole() >= Administrator || p.isSelf(pol.Subject) ||
		pol.Org != "" && p.OrgRole(pol.Org) >= Manager)
}

func (s *Service) policyInfo(ctx context.Context, pol store.Policy) (PolicyInfo, error) {
	info := PolicyInfo{Policy: pol}
	if pol.Org != "" {
		o, err := s.store.GetOrg(ctx, s.accountID, pol.Org)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return info, err
		}
		info.OrgName = o.Name
	}
	return info, nil
}

// GetPolicy returns a policy the caller may read.
func (s *Service) GetPolicy(ctx context.Context, p *Principal, id string) (PolicyInfo, error) {
	pol, err := s.store.GetPolicy(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.mayReadPolicy(p, pol)) {
		return PolicyInfo{}, errs.E(errs.NotFound, "Policy %s not found.", errs.Printable(id))
	}
	if err != nil {
		return PolicyInfo{}, err
	}
	return s.policyInfo(ctx, pol)
}

// ListPolicies lists the policies the caller may read, filtered.
func (s *Service) ListPolicies(ctx context.Context, p *Principal, f PolicyFilter, size int, sizeSet bool, token string) (Page[PolicyInfo], error) {
	q := store.PolicyQuery{AccountID: s.accountID, Subject: f.Subject}
	if f.Org != "" {
		o, err := s.orgFor(ctx, p, f.Org)
		if err != nil {
			return Page[PolicyInfo]{}, err
		}
		q.Org = o.ID
	}
	return listPage(size, sizeSet, token, func(after string, limit int) ([]PolicyInfo, error) {
		var out []PolicyInfo
		// Visibility is filtered here, so keep reading until the page is full.
		for len(out) < limit {
			q.Page = store.Page{After: after, Limit: limit}
			batch, err := s.store.ListPolicies(ctx, q)
			if err != nil {
				return nil, err
			}
			for _, pol := range batch {
				if s.mayReadPolicy(p, pol) {
					info, err := s.policyInfo(ctx, pol)
					if err != nil {
						return nil, err
					}
					out = append(out, info)
				}
				after = pol.ID
			}
			if len(batch) < limit {
				break
			}
		}
		return out, nil
	}, func(pi PolicyInfo) string { return pi.ID })
}

// DeletePolicy removes a policy under the same rules as creating it; live
// tokens of its subject lose the access on their next request.
func (s *Service) DeletePolicy(ctx context.Context, p *Principal, id string) error {
	pol, err := s.store.GetPolicy(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.mayReadPolicy(p, pol)) {
		return errs.E(errs.NotFound, "Policy %s not found.", errs.Printable(id))
	}
	if err != nil {
		return err
	}
	role, _ := ParseRole(pol.Role)
	if err := s.mayGrant(p, pol.Org, role); err != nil {
		return err
	}
	if pol.Org == "" && role == Administrator {
		if err := s.keepAnAdministrator(ctx, pol.ID); err != nil {
			return err
		}
	}
	err = s.store.DeletePolicy(ctx, id)
	s.idents.Forget(pol.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return errs.E(errs.NotFound, "Policy %s not found.", errs.Printable(id))
	}
	return err
}

// keepAnAdministrator refuses removing policy when no other enabled identity
// holds an account-wide Administrator policy: an account nobody administers
// could only be recovered by editing the database. (Deleting or disabling an
// identity needs an Administrator other than that identity, so only removing
// a policy — one's own — can reach this state.)
func (s *Service) keepAnAdministrator(ctx context.Context, policy string) error {
	admins, err := s.store.ListPolicies(ctx, store.PolicyQuery{AccountID: s.accountID, Page: store.Page{Limit: 10_000}})
	if err != nil {
		return fmt.Errorf("check administrators: %w", err)
	}
	for _, a := range admins {
		if a.Org != "" || a.Role != Administrator.String() || a.ID == policy {
			continue
		}
		if id, err := s.idents.Get(ctx, a.Subject, s.loadIdentity); err == nil && id != nil && !id.Disabled {
			return nil
		}
	}
	return errs.E(errs.Conflict, "This would leave the account without an Administrator; grant another identity the Administrator role first.")
}
