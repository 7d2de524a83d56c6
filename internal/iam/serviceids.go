package iam

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"gatehouse/internal/errs"
	"gatehouse/internal/store"
)

// ServiceIDInput is the body of POST /v1/serviceids.
type ServiceIDInput struct {
	Name        string
	Description string
	APIKey      *CreateKeyInput // optional first key; its IAMID is ignored
}

// CreatedServiceID is a new service ID with its first key, if one was asked for.
type CreatedServiceID struct {
	ServiceID store.ServiceID
	Key       *CreatedKey
}

// ServiceIDUpdate is the body of PUT /v1/serviceids/{id}.
type ServiceIDUpdate struct {
	IfMatch     string
	Name        *string
	Description *string
}

// CreateServiceID creates a service ID (Administrator), optionally with a
// first API key in the same transaction; the key's value is returned once. A
// service ID has no access until a policy grants it: together, service ID,
// key and policy are what IAM calls service credentials.
func (s *Service) CreateServiceID(ctx context.Context, p *Principal, in ServiceIDInput) (CreatedServiceID, error) {
	if err := requireAdmin(p, "Creating service IDs"); err != nil {
		return CreatedServiceID{}, err
	}
	if err := validateText("name", in.Name, 1, 128); err != nil {
		return CreatedServiceID{}, err
	}
	if err := validateText("description", in.Description, 0, 1024); err != nil {
		return CreatedServiceID{}, err
	}
	now := s.now()
	uid := uuid.NewString()
	sv := store.ServiceID{
		ID: "ServiceId-" + uid, IAMID: "iam-ServiceId-" + uid, AccountID: s.accountID,
		Name: strings.TrimSpace(in.Name), Description: in.Description, Version: 1,
		CreatedBy: p.IAMID(), CreatedAt: now, ModifiedAt: now,
	}
	out := CreatedServiceID{ServiceID: sv}
	var first *store.APIKey
	if in.APIKey != nil {
		owner := &identity{IAMID: sv.IAMID, SubType: SubTypeServiceID, AccountID: s.accountID}
		k, value, err := s.newKey(p, owner, *in.APIKey, now)
		if err != nil {
			return CreatedServiceID{}, prefixTarget(err, "apikey.")
		}
		first = &k
		out.Key = &CreatedKey{Key: k, Value: value}
	}
	if err := s.store.CreateServiceID(ctx, sv, first); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return CreatedServiceID{}, errs.E(errs.AlreadyExists, "That API key value is already in use.")
		}
		return CreatedServiceID{}, fmt.Errorf("create service id: %w", err)
	}
	return out, nil
}

// prefixTarget qualifies a validation error's field with the object it is in.
func prefixTarget(err error, prefix string) error {
	var e *errs.Error
	if errors.As(err, &e) && e.Target != "" {
		cp := *e
		cp.Target = prefix + e.Target
		return &cp
	}
	return err
}

func (s *Service) serviceIDRef(ctx context.Context, p *Principal, ref string) (store.ServiceID, error) {
	sv, err := s.store.GetServiceID(ctx, ref)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (sv.AccountID != s.accountID || p.AccountRole() < Reader && !p.isSelf(sv.IAMID))) {
		return store.ServiceID{}, errs.E(errs.NotFound, "Service ID %s not found.", errs.Printable(ref))
	}
	return sv, err
}

// GetServiceID returns a service ID (account Reader, or the service ID itself).
func (s *Service) GetServiceID(ctx context.Context, p *Principal, ref string) (store.ServiceID, error) {
	return s.serviceIDRef(ctx, p, ref)
}

// ListServiceIDs lists the account's service IDs (account Reader).
func (s *Service) ListServiceIDs(ctx context.Context, p *Principal, size int, sizeSet bool, token string) (Page[store.ServiceID], error) {
	if p.AccountRole() < Reader {
		return Page[store.ServiceID]{}, errs.E(errs.Forbidden, "Listing service IDs needs the Reader role on the account.")
	}
	return listPage(size, sizeSet, token, func(after string, limit int) ([]store.ServiceID, error) {
		return s.store.ListServiceIDs(ctx, s.accountID, store.Page{After: after, Limit: limit})
	}, func(v store.ServiceID) string { return v.ID })
}

// UpdateServiceID renames or redescribes a service ID (Administrator, If-Match
// required, refused while locked).
func (s *Service) UpdateServiceID(ctx context.Context, p *Principal, ref string, in ServiceIDUpdate) (store.ServiceID, error) {
	if err := requireAdmin(p, "Changing service IDs"); err != nil {
		return store.ServiceID{}, err
	}
	if in.IfMatch == "" {
		return store.ServiceID{}, errs.E(errs.PreconditionRequired, "Send the service ID's entity tag in If-Match.")
	}
	if in.Name != nil {
		if err := validateText("name", *in.Name, 1, 128); err != nil {
			return store.ServiceID{}, err
		}
	}
	if in.Description != nil {
		if err := validateText("description", *in.Description, 0, 1024); err != nil {
			return store.ServiceID{}, err
		}
	}
	return s.updateServiceID(ctx, p, ref, func(sv *store.ServiceID) error {
		if !ETagMatches(in.IfMatch, sv.Version) {
			return errs.E(errs.PreconditionFailed, "The service ID was changed since you read it; read it again and retry.")
		}
		if sv.Locked {
			return errs.E(errs.EntityLocked, "Service ID %s is locked; unlock it first.", sv.ID)
		}
		if in.Name != nil {
			sv.Name = strings.TrimSpace(*in.Name)
		}
		if in.Description != nil {
			sv.Description = *in.Description
		}
		return nil
	})
}

// SetServiceIDLocked locks or unlocks a service ID (Administrator). A locked
// service ID cannot be changed or deleted; its keys keep working.
// It returns the service ID as changed.
func (s *Service) SetServiceIDLocked(ctx context.Context, p *Principal, ref string, locked bool) (store.ServiceID, error) {
	if err := requireAdmin(p, "Locking service IDs"); err != nil {
		return store.ServiceID{}, err
	}
	return s.updateServiceID(ctx, p, ref, func(sv *store.ServiceID) error {
		sv.Locked = locked
		return nil
	})
}

func (s *Service) updateServiceID(ctx context.Context, p *Principal, ref string, fn func(*store.ServiceID) error) (store.ServiceID, error) {
	sv, err := s.serviceIDRef(ctx, p, ref)
	if err != nil {
		return sv, err
	}
	out, err := s.store.UpdateServiceID(ctx, sv.ID, func(cur *store.ServiceID) error {
		if err := fn(cur); err != nil {
			return err
		}
		cur.ModifiedAt = s.now()
		return nil
	})
	s.idents.Forget(sv.IAMID)
	if errors.Is(err, store.ErrNotFound) {
		return out, errs.E(errs.NotFound, "Service ID %s not found.", errs.Printable(ref))
	}
	return out, err
}

// DeleteServiceID deletes a service ID with its keys and policies
// (Administrator; refused while locked, and for the caller itself). Its live
// tokens stop at once. It returns the deleted service ID.
func (s *Service) DeleteServiceID(ctx context.Context, p *Principal, ref string) (store.ServiceID, error) {
	if err := requireAdmin(p, "Deleting service IDs"); err != nil {
		return store.ServiceID{}, err
	}
	sv, err := s.serviceIDRef(ctx, p, ref)
	if err != nil {
		return sv, err
	}
	if p.isSelf(sv.IAMID) {
		return sv, errs.E(errs.Conflict, "A service ID cannot delete itself.")
	}
	err = s.store.DeleteServiceID(ctx, sv.ID, func(cur store.ServiceID) error {
		if cur.Locked {
			return errs.E(errs.EntityLocked, "Service ID %s is locked; unlock it first.", cur.ID)
		}
		return nil
	})
	s.idents.Forget(sv.IAMID)
	if errors.Is(err, store.ErrNotFound) {
		return sv, errs.E(errs.NotFound, "Service ID %s not found.", errs.Printable(ref))
	}
	return sv, err
}
