package client

import (
	"context"
	"encoding/json"
)

// OpenIDConfiguration is the discovery document of the token service.
type OpenIDConfiguration struct {
	Issuer              string   `json:"issuer"`
	TokenEndpoint       string   `json:"token_endpoint"`
	JWKSURI             string   `json:"jwks_uri"`
	GrantTypes          []string `json:"grant_types_supported"`
	ResponseTypes       []string `json:"response_types_supported"`
	SigningAlgs         []string `json:"id_token_signing_alg_values_supported"`
	SubjectTypes        []string `json:"subject_types_supported,omitempty"`
	Scopes              []string `json:"scopes_supported,omitempty"`
	TokenEndpointAuthns []string `json:"token_endpoint_auth_methods_supported,omitempty"`
}

// OpenIDConfiguration reads /identity/.well-known/openid-configuration.
func (c *Client) OpenIDConfiguration(ctx context.Context) (*OpenIDConfiguration, error) {
	var d OpenIDConfiguration
	_, err := c.do(ctx, request{method: "GET", path: "/identity/.well-known/openid-configuration"}, &d)
	return &d, err
}

// JWKS returns the JSON Web Key Set that verifies the server's tokens
// (GET /identity/keys), as served, for a JOSE library to parse.
func (c *Client) JWKS(ctx context.Context) (json.RawMessage, error) {
	var raw json.RawMessage
	_, err := c.do(ctx, request{method: "GET", path: "/identity/keys"}, &raw)
	return raw, err
}
