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
	Orgs  []string `json:"orgs"`
}

// RoleAt is an effective role at a scope.
type RoleAt struct {
	Scope string `json:"scope"`
	Org   string `json:"org,omitempty"`
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

// RotateSigningKey makes a new signing key active now (Administrator).
func (c *Client) RotateSigningKey(ctx context.Context) (*SigningKey, error) {
	var k SigningKey
	_, err := c.do(ctx, request{method: "POST", path: "/v1/signing-keys/rotate"}, &k)
	return &k, err
}
