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

func (p *Principal) IAMID() string     { return p.ident.IAMID }
func (p *Principal) ID() string        { return p.ident.ID }
func (p *Principal) SubType() string   { return p.ident.SubType }
func (p *Principal) AccountID() string { return p.ident.AccountID }
func (p *Principal) Name() string      { return p.ident.Name }
func (p *Principal) Email() string     { return p.ident.Email }

// limit applies the key cap and the token's down-scoping to an identity role.
func (p *Principal) limit(r Role) Role {
	return capRole(capRole(r, p.KeyCap), p.TokenRole)
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
