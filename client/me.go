package client

import (
	"context"
	"time"
)

// Me is the caller as GET /v1/me describes it.
type Me struct {
	IAMID     string `json:"iam_id"`
	ID        string `json:"id"`
	SubType   string `json:"sub_type"`
	Name      string `json:"name"`
	Email     string `json:"email,omitempty"`
	AccountID string `json:"account_id"`
	APIKey    struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"apikey"`
	Roles []RoleAt `json:"roles"`
	Orgs  []MeOrg  `json:"orgs"`
}

// RoleAt is an effective role at a scope: the account, or one org where a
// policy names the caller.
type RoleAt struct {
	Scope   string `json:"scope"` // "account" or "org"
	Org     string `json:"org,omitempty"`
	OrgName string `json:"org_name,omitempty"`
	Role    string `json:"role"`
}

// MeOrg is a provider org the caller can see, with the caller's effective role in it.
type MeOrg struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Title string `json:"title"`
	Role  string `json:"role"`
}

// Me returns the authenticated caller.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var m Me
	_, err := c.do(ctx, request{method: "GET", path: "/v1/me"}, &m)
	return &m, err
}

// SigningKey is the answer of a signing-key rotation.
type SigningKey struct {
	KID        string    `json:"kid"`
	Algorithm  string    `json:"algorithm"`
	ActivateAt time.Time `json:"activate_at"`
}

// RotateSigningKey creates a new signing key (Administrator). It is published
// at once and signs from ActivateAt on, ten minutes later, so verifiers that
// cache the JWKS have it first; immediate makes it sign at once.
func (c *Client) RotateSigningKey(ctx context.Context, immediate bool) (*SigningKey, error) {
	var body any
	if immediate {
		body = map[string]bool{"immediate": true}
	}
	var k SigningKey
	_, err := c.do(ctx, request{method: "POST", path: "/v1/signing-keys/rotate", body: body}, &k)
	return &k, err
}
