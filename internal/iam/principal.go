package iam

import (
	"strings"
	"time"
)

// Subject types as they appear in tokens (sub_type).
const (
	SubTypeUser      = "user"
	SubTypeServiceID = "ServiceId"
)

// identity is what authorization needs to know about an iam_id: whether it
// exists and is enabled, and its roles from policies. It is immutable once
// built; the cache replaces it whole when anything about it changes.
type identity struct {
	IAMID     string
	ID        string
	SubType   string
	AccountID string
	Name      string
	Email     string
	Disabled  bool
	Account   Role            // from an account-wide policy
	Orgs      map[string]Role // org id → role from an org policy
}

// maxRole is the highest role the identity holds anywhere.
func (id *identity) maxRole() Role {
	r := id.Account
	for _, o := range id.Orgs {
		r = max(r, o)
	}
	return r
}

// keyState is what token verification needs to know about an API key.
type keyState struct {
	ID        string
	Name      string
	IAMID     string
	Disabled  bool
	ExpiresAt time.Time
	Cap       Role
}

func (k *keyState) usable(now time.Time) bool {
	return !k.Disabled && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

// Principal is the authenticated caller of a /v1 request.
type Principal struct {
	ident      *identity
	APIKeyID   string
	APIKeyName string
	TokenID    string
	KeyCap     Role // the key's role cap; NoRole: no cap
	TokenRole  Role // the token's down-scoped role; NoRole: not down-scoped
}

// IAMID is the caller's iam_id.
func (p *Principal) IAMID() string { return p.ident.IAMID }

// ID is the caller's user or service ID id.
func (p *Principal) ID() string { return p.ident.ID }

// SubType is "user" or "ServiceId".
func (p *Principal) SubType() string { return p.ident.SubType }

// AccountID is the caller's account.
func (p *Principal) AccountID() string { return p.ident.AccountID }

// Name is the caller's display name.
func (p *Principal) Name() string { return p.ident.Name }

// Email is the caller's email, for users.
func (p *Principal) Email() string { return p.ident.Email }

// limit applies the key cap and the token's down-scoping to an identity role.
func (p *Principal) limit(r Role) Role {
	return capRole(capRole(r, p.KeyCap), p.TokenRole)
}

// Ceiling is the most the caller's credential allows whatever the identity's
// policies say: the lower of the key cap and the token role, or NoRole when
// neither is set (the credential carries the identity's full power).
func (p *Principal) Ceiling() Role {
	return capRole(p.KeyCap, p.TokenRole)
}

// AccountRole is the effective role on the whole account.
func (p *Principal) AccountRole() Role { return p.limit(p.ident.Account) }

// OrgRole is the effective role in one provider org: the higher of the account
// and org policies, then capped.
func (p *Principal) OrgRole(orgID string) Role {
	return p.limit(max(p.ident.Account, p.ident.Orgs[orgID]))
}

// MaxRole is the highest effective role anywhere; self-service routes (own API
// keys) need it.
func (p *Principal) MaxRole() Role { return p.limit(p.ident.maxRole()) }

// OrgRoles lists the effective role per org where an org policy exists.
func (p *Principal) OrgRoles() map[string]Role {
	out := make(map[string]Role, len(p.ident.Orgs))
	for org := range p.ident.Orgs {
		out[org] = p.OrgRole(org)
	}
	return out
}

// isSelf reports whether iamID is the caller.
func (p *Principal) isSelf(iamID string) bool { return p.ident.IAMID == iamID }

// subTypeOf derives the subject type from an iam_id.
func subTypeOf(iamID string) string {
	switch {
	case strings.HasPrefix(iamID, "iam-User-"):
		return SubTypeUser
	case strings.HasPrefix(iamID, "iam-ServiceId-"):
		return SubTypeServiceID
	}
	return ""
}
