package client

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Org is a provider org (API Manager, V5 camelCase shape). EntityTag comes
// from the ETag header of a read or write; UpdateOrg needs it.
type Org struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Title     string    `json:"title"`
	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	URL       string    `json:"url"`
	EntityTag string    `json:"-"`
}

func etagOf(r response) string { return strings.Trim(r.header.Get("ETag"), `"`) }

// CreateOrg creates a provider org with its Sandbox catalog (Administrator).
func (c *Client) CreateOrg(ctx context.Context, name, title string) (*Org, error) {
	var o Org
	r, err := c.do(ctx, request{method: "POST", path: "/v1/orgs", body: map[string]string{"name": name, "title": title}}, &o)
	o.EntityTag = etagOf(r)
	return &o, err
}

// ListOrgsOptions page a listing of orgs.
type ListOrgsOptions struct {
	Limit int    // 1–1000; 0: the server's default (100)
	After string // from the previous page's next
}

// ListOrgs lists one page of the orgs the caller can see, by name; next is
// the After of the following page ("" on the last).
func (c *Client) ListOrgs(ctx context.Context, o ListOrgsOptions) (orgs []Org, next string, err error) {
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.After != "" {
		q.Set("after", o.After)
	}
	r, err := c.do(ctx, request{method: "GET", path: "/v1/orgs", query: q}, &orgs)
	return orgs, nextAfter(r), err
}

var linkNext = regexp.MustCompile(`<([^>]*)>\s*;\s*rel="?next"?`)

// nextAfter reads the after parameter of an RFC 8288 rel="next" link.
func nextAfter(r response) string {
	m := linkNext.FindStringSubmatch(r.header.Get("Link"))
	if m == nil {
		return ""
	}
	u, err := url.Parse(m[1])
	if err != nil {
		return ""
	}
	return u.Query().Get("after")
}

// GetOrg reads an org by name or id.
func (c *Client) GetOrg(ctx context.Context, ref string) (*Org, error) {
	var o Org
	r, err := c.do(ctx, request{method: "GET", path: "/v1/orgs/" + url.PathEscape(ref)}, &o)
	o.EntityTag = etagOf(r)
	return &o, err
}

// UpdateOrg is an org change; nil fields stay as they are.
type UpdateOrg struct {
	Name  *string `json:"name,omitempty"`
	Title *string `json:"title,omitempty"`
}

// UpdateOrg changes an org (Manager in it); entityTag (or "*") is required.
func (c *Client) UpdateOrg(ctx context.Context, ref, entityTag string, in UpdateOrg) (*Org, error) {
	var o Org
	r, err := c.do(ctx, request{method: "PUT", path: "/v1/orgs/" + url.PathEscape(ref), body: in, headers: ifMatch(entityTag)}, &o)
	o.EntityTag = etagOf(r)
	return &o, err
}

// DeleteOrg deletes an org with its catalogs and org policies (Administrator).
func (c *Client) DeleteOrg(ctx context.Context, ref string) error {
	_, err := c.do(ctx, request{method: "DELETE", path: "/v1/orgs/" + url.PathEscape(ref)}, nil)
	return err
}

// Environment is a catalog of a provider org.
type Environment struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Title     string    `json:"title"`
	OrgID     string    `json:"orgID"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	URL       string    `json:"url"`
}

func envPath(org string) string { return "/v1/orgs/" + url.PathEscape(org) + "/environments" }

// CreateEnvironment adds a catalog to an org (Manager in it).
func (c *Client) CreateEnvironment(ctx context.Context, org, name, title string) (*Environment, error) {
	var e Environment
	_, err := c.do(ctx, request{method: "POST", path: envPath(org), body: map[string]string{"name": name, "title": title}}, &e)
	return &e, err
}

// ListEnvironments lists an org's catalogs, by name.
func (c *Client) ListEnvironments(ctx context.Context, org string) ([]Environment, error) {
	var es []Environment
	_, err := c.do(ctx, request{method: "GET", path: envPath(org)}, &es)
	return es, err
}

// GetEnvironment reads a catalog; org and env are names or ids.
func (c *Client) GetEnvironment(ctx context.Context, org, env string) (*Environment, error) {
	var e Environment
	_, err := c.do(ctx, request{method: "GET", path: envPath(org) + "/" + url.PathEscape(env)}, &e)
	return &e, err
}

// DeleteEnvironment deletes a catalog (Manager in the org).
func (c *Client) DeleteEnvironment(ctx context.Context, org, env string) error {
	_, err := c.do(ctx, request{method: "DELETE", path: envPath(org) + "/" + url.PathEscape(env)}, nil)
	return err
}
