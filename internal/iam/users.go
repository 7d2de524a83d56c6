package iam

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"gatehouse/internal/errs"
	"gatehouse/internal/store"
)

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

const (
	minPassword = 12
	maxPassword = 1024
)

// UserInput is the body of POST /v1/users.
type UserInput struct {
	Username string
	Name     string
	Email    string
	Password string // optional: without one the user signs in with API keys only
}

// UserPatch is the body of PATCH /v1/users/{id}; nil fields stay as they are.
type UserPatch struct {
	IfMatch  string // optional; checked when given
	Name     *string
	Email    *string
	Password *string
	Disabled *bool
}

func validateEmail(email string) error {
	if email == "" {
		return nil
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 254 {
		return errs.Invalid("email", "email must be a plain address such as ada@example.com.")
	}
	return nil
}

func validatePassword(pw string) error {
	if n := len([]rune(pw)); n < minPassword || len(pw) > maxPassword {
		return errs.Invalid("password", "password must be %d to %d characters long.", minPassword, maxPassword)
	}
	return nil
}

// CreateUser adds a user to the local registry (Administrator). The user has
// no access until a policy grants it.
func (s *Service) CreateUser(ctx context.Context, p *Principal, in UserInput) (store.User, error) {
	if err := requireAdmin(p, "Creating users"); err != nil {
		return store.User{}, err
	}
	if !usernameRE.MatchString(in.Username) {
		return store.User{}, errs.Invalid("username", "username must be 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit.")
	}
	if err := validateText("name", in.Name, 0, 128); err != nil {
		return store.User{}, err
	}
	if err := validateEmail(in.Email); err != nil {
		return store.User{}, err
	}
	now := s.now()
	uid := uuid.NewString()
	u := store.User{
		ID: "User-" + uid, IAMID: "iam-User-" + uid, AccountID: s.accountID, Username: in.Username,
		Name: strings.TrimSpace(in.Name), Email: in.Email, Version: 1, CreatedAt: now, ModifiedAt: now,
	}
	if in.Password != "" {
		if err := validatePassword(in.Password); err != nil {
			return store.User{}, err
		}
		hash, err := HashPassword(in.Password, s.rand)
		if err != nil {
			return store.User{}, fmt.Errorf("hash password: %w", err)
		}
		u.PasswordHash = hash
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return store.User{}, errs.E(errs.AlreadyExists, "A user named %s already exists.", in.Username)
		}
		return store.User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// userRef finds a user of the account by id, iam_id or username.
func (s *Service) userRef(ctx context.Context, ref string) (store.User, error) {
	u, err := s.store.GetUser(ctx, ref)
	if errors.Is(err, store.ErrNotFound) && usernameRE.MatchString(ref) {
		u, err = s.store.GetUserByUsername(ctx, s.accountID, ref)
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.AccountID != s.accountID) {
		return store.User{}, errs.E(errs.NotFound, "User %s not found.", errs.Printable(ref))
	}
	return u, err
}

// GetUser returns a user: oneself always, anyone with the account Reader role.
func (s *Service) GetUser(ctx context.Context, p *Principal, ref string) (store.User, error) {
	u, err := s.userRef(ctx, ref)
	if err != nil {
		return u, err
	}
	if !p.isSelf(u.IAMID) && p.AccountRole() < Reader {
		return store.User{}, errs.E(errs.NotFound, "User %s not found.", errs.Printable(ref))
	}
	return u, nil
}

// ListUsers lists the account's users by username (account Reader).
func (s *Service) ListUsers(ctx context.Context, p *Principal, size int, sizeSet bool, token string) (Page[store.User], error) {
	if p.AccountRole() < Reader {
		return Page[store.User]{}, errs.E(errs.Forbidden, "Listing users needs the Reader role on the account.")
	}
	return listPage(size, sizeSet, token, func(after string, limit int) ([]store.User, error) {
		return s.store.ListUsers(ctx, s.accountID, store.Page{After: after, Limit: limit})
	}, func(u store.User) string { return u.Username })
}

// PatchUser changes a user. Administrators change anyone; others change their
// own name, email and password. Nobody disables themselves. Disabling a user
// stops their keys and live tokens at once.
func (s *Service) PatchUser(ctx context.Context, p *Principal, ref string, in UserPatch) (store.User, error) {
	u, err := s.userRef(ctx, ref)
	if err != nil {
		return u, err
	}
	self := p.isSelf(u.IAMID)
	if !self && p.AccountRole() < Administrator {
		if p.AccountRole() < Reader {
			return store.User{}, errs.E(errs.NotFound, "User %s not found.", errs.Printable(ref))
		}
		return store.User{}, errs.E(errs.Forbidden, "Only an Administrator changes other users.")
	}
	if in.Disabled != nil && self {
		return store.User{}, errs.E(errs.Conflict, "You cannot disable yourself.")
	}
	if in.Name != nil {
		if err := validateText("name", *in.Name, 0, 128); err != nil {
			return store.User{}, err
		}
	}
	if in.Email != nil {
		if err := validateEmail(*in.Email); err != nil {
			return store.User{}, err
		}
	}
	var hash string
	if in.Password != nil {
		if err := validatePassword(*in.Password); err != nil {
			return store.User{}, err
		}
		if hash, err = HashPassword(*in.Password, s.rand); err != nil {
			return store.User{}, fmt.Errorf("hash password: %w", err)
		}
	}
	out, err := s.store.UpdateUser(ctx, u.ID, func(cur *store.User) error {
		if in.IfMatch != "" && !ETagMatches(in.IfMatch, cur.Version) {
			return errs.E(errs.PreconditionFailed, "The user was changed since you read it; read it again and retry.")
		}
		if in.Name != nil {
			cur.Name = strings.TrimSpace(*in.Name)
		}
		if in.Email != nil {
			cur.Email = *in.Email
		}
		if in.Password != nil {
			cur.PasswordHash = hash
		}
		if in.Disabled != nil {
			cur.Disabled = *in.Disabled
		}
		cur.ModifiedAt = s.now()
		return nil
	})
	s.idents.Forget(u.IAMID)
	if errors.Is(err, store.ErrNotFound) {
		return out, errs.E(errs.NotFound, "User %s not found.", errs.Printable(ref))
	}
	return out, err
}

// DeleteUser deletes a user with their API keys and policies
// (Administrator; nobody deletes themselves). Their live tokens stop at once.
// It returns the deleted user.
func (s *Service) DeleteUser(ctx context.Context, p *Principal, ref string) (store.User, error) {
	if err := requireAdmin(p, "Deleting users"); err != nil {
		return store.User{}, err
	}
	u, err := s.userRef(ctx, ref)
	if err != nil {
		return u, err
	}
	if p.isSelf(u.IAMID) {
		return u, errs.E(errs.Conflict, "You cannot delete yourself.")
	}
	err = s.store.DeleteUser(ctx, u.ID)
	s.idents.Forget(u.IAMID)
	if errors.Is(err, store.ErrNotFound) {
		return u, errs.E(errs.NotFound, "User %s not found.", errs.Printable(ref))
	}
	return u, err
}

// requireAdmin refuses callers without the Administrator role on the account.
func requireAdmin(p *Principal, what string) error {
	if p.AccountRole() < Administrator {
		return errs.E(errs.Forbidden, "%s needs the Administrator role on the account.", what)
	}
	return nil
}
