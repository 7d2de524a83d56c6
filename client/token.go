package client

import (
	"context"
	"net/url"
	"strconv"
)

// TokenOptions down-scope a token (both zero: the key's full power and the server's TTL).
type TokenOptions struct {
	Role      string
	ExpiresIn int // seconds
}

func (o TokenOptions) add(v url.Values) url.Values {
	if o.Role != "" {
		v.Set("role", o.Role)
	}
	if o.ExpiresIn > 0 {
		v.Set("expires_in", strconv.Itoa(o.ExpiresIn))
	}
	return v
}

// IAMToken is the answer of POST /identity/token.
type IAMToken struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Expiration   int64  `json:"expiration"`
	Scope        string `json:"scope"`
}

// IAMToken exchanges an API key at IBM IAM's token endpoint.
func (c *Client) IAMToken(ctx context.Context, apikey string, o TokenOptions) (*IAMToken, error) {
	form := o.add(url.Values{"grant_type": {"urn:ibm:params:oauth:grant-type:apikey"}, "apikey": {apikey}})
	var t IAMToken
	_, err := c.do(ctx, request{method: "POST", path: "/identity/token", form: form}, &t)
	return &t, err
}

// PasswordToken signs a local user in with a password at the IAM token
// endpoint (grant_type=password; the credentials go in the form body, never
// the URL). A wrong username or password is a 400 BXNIM0602E, alike for both.
func (c *Client) PasswordToken(ctx context.Context, username, password string) (*IAMToken, error) {
	form := url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}}
	var t IAMToken
	_, err := c.do(ctx, request{method: "POST", path: "/identity/token", form: form}, &t)
	return &t, err
}

// V5Token is the answer of POST /apikey.
type V5Token struct {
	JWT        string `json:"jwt"`
	ExpiresIn  int64  `json:"expires_in"`
	Expiration int64  `json:"expiration"`
}

// V5Token exchanges an API key at the V5 token service, sending the key in the
// form body (never in the URL, where proxies log it).
func (c *Client) V5Token(ctx context.Context, apikey string, o TokenOptions) (*V5Token, error) {
	var t V5Token
	_, err := c.do(ctx, request{method: "POST", path: "/apikey", form: o.add(url.Values{"apikey": {apikey}})}, &t)
	return &t, err
}
