package client

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// APIKey is an API key record; APIKey (the value) is set only when the key was
// just created or rotated.
type APIKey struct {
	ID               string     `json:"id"`
	EntityTag        string     `json:"entity_tag"`
	CRN              string     `json:"crn"`
	Locked           bool       `json:"locked"`
	Disabled         bool       `json:"disabled"`
	CreatedAt        time.Time  `json:"created_at"`
	CreatedBy        string     `json:"created_by"`
	ModifiedAt       time.Time  `json:"modified_at"`
	Name             string     `json:"name"`
	Description      string     `json:"description"`
	IAMID            string     `json:"iam_id"`
	AccountID        string     `json:"account_id"`
	Role             string     `json:"role,omitempty"`
	ExpiresAt        *time.Time `json:"expires_at,omitempty"`
	ActionWhenLeaked string     `json:"action_when_leaked"`
	Hint             string     `json:"hint"`
	APIKey           string     `json:"apikey,omitempty"`
	Activity         *Activity  `json:"activity,omitempty"`
	History          []History  `json:"history,omitempty"`
}

// Activity counts a key's successful exchanges.
type Activity struct {
	LastAuthn  *time.Time `json:"last_authn,omitempty"`
	AuthnCount int64      `json:"authn_count"`
}

// History is one entry of a key's history.
type History struct {
	Timestamp time.Time `json:"timestamp"`
	IAMID     string    `json:"iam_id"`
	Action    string    `json:"action"`
	Message   string    `json:"message,omitempty"`
}

// CreateAPIKey is the body of a key creation.
type CreateAPIKey struct {
	Name             string     `json:"name"`
	Description      string     `json:"description,omitempty"`
	IAMID            string     `json:"iam_id,omitempty"`
	ExpiresAt        *time.Time `json:"expires_at,omitempty"`
	Role             string     `json:"role,omitempty"`
	ActionWhenLeaked string     `json:"action_when_leaked,omitempty"`
	APIKey           string     `json:"apikey,omitempty"`
}

// CreateAPIKey creates a key; the returned record carries the value, once.
func (c *Client) CreateAPIKey(ctx context.Context, in CreateAPIKey) (*APIKey, error) {
	var k APIKey
	_, err := c.do(ctx, request{method: "POST", path: "/v1/apikeys", body: in}, &k)
	return &k, err
}

// ListAPIKeysOptions filter and page a listing.
type ListAPIKeysOptions struct {
	IAMID           string
	Scope           string // entity or account
	PageSize        int
	PageToken       string
	Sort            string // created_at or name
	Order           string // asc or desc
	IncludeActivity bool
	IncludeHistory  bool
}

// APIKeyList is one page.
type APIKeyList struct {
	Offset  int      `json:"offset"`
	Limit   int      `json:"limit"`
	First   string   `json:"first"`
	Next    string   `json:"next,omitempty"`
	APIKeys []APIKey `json:"apikeys"`
}

// NextPageToken extracts the pagetoken of the next page ("" on the last page).
func (l *APIKeyList) NextPageToken() string {
	_, q, ok := strings.Cut(l.Next, "?")
	if !ok {
		return ""
	}
	v, _ := url.ParseQuery(q)
	return v.Get("pagetoken")
}

// ListAPIKeys lists one page of keys.
func (c *Client) ListAPIKeys(ctx context.Context, o ListAPIKeysOptions) (*APIKeyList, error) {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("iam_id", o.IAMID)
	set("scope", o.Scope)
	set("pagetoken", o.PageToken)
	set("sort", o.Sort)
	set("order", o.Order)
	if o.PageSize > 0 {
		q.Set("pagesize", strconv.Itoa(o.PageSize))
	}
	if o.IncludeActivity {
		q.Set("include_activity", "true")
	}
	if o.IncludeHistory {
		q.Set("include_history", "true")
	}
	var l APIKeyList
	_, err := c.do(ctx, request{method: "GET", path: "/v1/apikeys", query: q}, &l)
	return &l, err
}

// GetAPIKey reads a key; the record's EntityTag is what UpdateAPIKey needs.
func (c *Client) GetAPIKey(ctx context.Context, id string, includeActivity, includeHistory bool) (*APIKey, error) {
	q := url.Values{}
	if includeActivity {
		q.Set("include_activity", "true")
	}
	if includeHistory {
		q.Set("include_history", "true")
	}
	var k APIKey
	_, err := c.do(ctx, request{method: "GET", path: "/v1/apikeys/" + url.PathEscape(id), query: q}, &k)
	return &k, err
}

// GetAPIKeyDetails reads the record of the key with the given value.
func (c *Client) GetAPIKeyDetails(ctx context.Context, value string) (*APIKey, error) {
	var k APIKey
	_, err := c.do(ctx, request{method: "GET", path: "/v1/apikeys/details", headers: map[string]string{"IAM-ApiKey": value}}, &k)
	return &k, err
}

// UpdateAPIKey is a key update; nil fields stay as they are.
type UpdateAPIKey struct {
	Name             *string `json:"name,omitempty"`
	Description      *string `json:"description,omitempty"`
	ExpiresAt        *string `json:"expires_at,omitempty"` // RFC 3339, or "" to clear
	ActionWhenLeaked *string `json:"action_when_leaked,omitempty"`
}

// UpdateAPIKey changes a key; entityTag is the EntityTag read before (or "*").
func (c *Client) UpdateAPIKey(ctx context.Context, id, entityTag string, in UpdateAPIKey) (*APIKey, error) {
	var k APIKey
	h := map[string]string{}
	if entityTag != "" {
		h["If-Match"] = entityTag
	}
	_, err := c.do(ctx, request{method: "PUT", path: "/v1/apikeys/" + url.PathEscape(id), body: in, headers: h}, &k)
	return &k, err
}

// DeleteAPIKey deletes a key.
func (c *Client) DeleteAPIKey(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: "DELETE", path: "/v1/apikeys/" + url.PathEscape(id)}, nil)
	return err
}

// LockAPIKey locks (true) or unlocks (false) a key.
func (c *Client) LockAPIKey(ctx context.Context, id string, lock bool) error {
	_, err := c.do(ctx, request{method: onOff(lock), path: "/v1/apikeys/" + url.PathEscape(id) + "/lock"}, nil)
	return err
}

// DisableAPIKey disables (true) or enables (false) a key.
func (c *Client) DisableAPIKey(ctx context.Context, id string, disable bool) error {
	_, err := c.do(ctx, request{method: onOff(disable), path: "/v1/apikeys/" + url.PathEscape(id) + "/disable"}, nil)
	return err
}

func onOff(on bool) string {
	if on {
		return "POST"
	}
	return "DELETE"
}

// RotateAPIKey replaces a key; the old one works for grace (e.g. "24h"; "" for
// the server's default). The new record carries the new value, once.
func (c *Client) RotateAPIKey(ctx context.Context, id, grace string) (*APIKey, error) {
	var body any
	if grace != "" {
		body = map[string]string{"grace": grace}
	}
	var k APIKey
	_, err := c.do(ctx, request{method: "POST", path: "/v1/apikeys/" + url.PathEscape(id) + "/rotate", body: body}, &k)
	return &k, err
}

// LeakResult is the outcome for one reported value.
type LeakResult struct {
	Index   int    `json:"index"`
	Matched bool   `json:"matched"`
	ID      string `json:"id,omitempty"`
	Hint    string `json:"hint,omitempty"`
	Action  string `json:"action,omitempty"`
}

// ReportLeakedAPIKeys reports key values as leaked.
func (c *Client) ReportLeakedAPIKeys(ctx context.Context, values []string) ([]LeakResult, error) {
	var out struct {
		Results []LeakResult `json:"results"`
	}
	_, err := c.do(ctx, request{method: "POST", path: "/v1/apikeys/leaked", body: map[string][]string{"apikeys": values}}, &out)
	return out.Results, err
}
