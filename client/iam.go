package client

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ListOptions page an IAM-style listing (users, service IDs, policies).
type ListOptions struct {
	PageSize  int // 1–100; 0: the server's default (20)
	PageToken string
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.PageSize > 0 {
		q.Set("pagesize", strconv.Itoa(o.PageSize))
	}
	if o.PageToken != "" {
		q.Set("pagetoken", o.PageToken)
	}
	return q
}

// Envelope is the paging part of an IAM-style listing.
type Envelope struct {
	Offset int    `json:"offset"`
	Limit  int    `json:"limit"`
	First  string `json:"first"`
	Next   string `json:"next,omitempty"`
}

// NextPageToken extracts the pagetoken of the next page ("" on the last page).
func (e Envelope) NextPageToken() string {
	_, q, ok := strings.Cut(e.Next, "?")
	if !ok {
		return ""
	}
	v, _ := url.ParseQuery(q)
	return v.Get("pagetoken")
}

func ifMatch(tag string) map[string]string {
	if tag == "" {
		return nil
	}
	return map[string]string{"If-Match": tag}
}

// User is a user of the local registry.
type User struct {
	ID          string    `json:"id"`
	IAMID       string    `json:"iam_id"`
	AccountID   string    `json:"account_id"`
	Username    string    `json:"username"`
	Name        string    `json:"name"`
	Email       string    `json:"email,omitempty"`
	Disabled    bool      `json:"disabled"`
	PasswordSet bool      `json:"password_set"`
	EntityTag   string    `json:"entity_tag"`
	CreatedAt   time.Time `json:"created_at"`
	ModifiedAt  time.Time `json:"modified_at"`
}

// CreateUser is the body of a user creation; the password is optional (12+
// characters): without one the user signs in with API keys only.
type CreateUser struct {
	Username string `json:"username"`
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	Password string `json:"password,omitempty"`
}

// CreateUser adds a user (Administrator). The user has no access until a
// policy grants it.
func (c *Client) CreateUser(ctx context.Context, in CreateUser) (*User, error) {
	var u User
	_, err := c.do(ctx, request{method: "POST", path: "/v1/users", body: in}, &u)
	return &u, err
}

// UserList is one page of users.
type UserList struct {
	Envelope
	Users []User `json:"users"`
}

// ListUsers lists one page of the account's users, by username.
func (c *Client) ListUsers(ctx context.Context, o ListOptions) (*UserList, error) {
	var l UserList
	_, err := c.do(ctx, request{method: "GET", path: "/v1/users", query: o.query()}, &l)
	return &l, err
}

// GetUser reads a user by id, iam_id or username.
func (c *Client) GetUser(ctx context.Context, ref string) (*User, error) {
	var u User
	_, err := c.do(ctx, request{method: "GET", path: "/v1/users/" + url.PathEscape(ref)}, &u)
	return &u, err
}

// UpdateUser is a user change; nil fields stay as they are.
type UpdateUser struct {
	Name     *string `json:"name,omitempty"`
	Email    *string `json:"email,omitempty"`
	Password *string `json:"password,omitempty"`
	Disabled *bool   `json:"disabled,omitempty"`
}

// UpdateUser changes a user (PATCH). entityTag is optional: when given, the
// change is refused (412) if the user changed since it was read.
func (c *Client) UpdateUser(ctx context.Context, ref, entityTag string, in UpdateUser) (*User, error) {
	var u User
	_, err := c.do(ctx, request{method: "PATCH", path: "/v1/users/" + url.PathEscape(ref), body: in, headers: ifMatch(entityTag)}, &u)
	return &u, err
}

// DeleteUser deletes a user with their API keys and policies (Administrator).
func (c *Client) DeleteUser(ctx context.Context, ref string) error {
	_, err := c.do(ctx, request{method: "DELETE", path: "/v1/users/" + url.PathEscape(ref)}, nil)
	return err
}

// ServiceID is a service ID; APIKey is set only in the creation response
// when a first key was asked for, and carries its value, once.
type ServiceID struct {
	ID          string    `json:"id"`
	IAMID       string    `json:"iam_id"`
	AccountID   string    `json:"account_id"`
	EntityTag   string    `json:"entity_tag"`
	CRN         string    `json:"crn"`
	Locked      bool      `json:"locked"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	ModifiedAt  time.Time `json:"modified_at"`
	APIKey      *APIKey   `json:"apikey,omitempty"`
}

// CreateServiceID is the body of a service ID creation; APIKey optionally
// creates its first key (its IAMID must be empty).
type CreateServiceID struct {
	Name        string        `json:"name"`
	Description string        `json:"description,omitempty"`
	APIKey      *CreateAPIKey `json:"apikey,omitempty"`
}

// CreateServiceID creates a service ID (Administrator).
func (c *Client) CreateServiceID(ctx context.Context, in CreateServiceID) (*ServiceID, error) {
	var v ServiceID
	_, err := c.do(ctx, request{method: "POST", path: "/v1/serviceids", body: in}, &v)
	return &v, err
}

// ServiceIDList is one page of service IDs.
type ServiceIDList struct {
	Envelope
	ServiceIDs []ServiceID `json:"serviceids"`
}

// ListServiceIDs lists one page of the account's service IDs.
func (c *Client) ListServiceIDs(ctx context.Context, o ListOptions) (*ServiceIDList, error) {
	var l ServiceIDList
	_, err := c.do(ctx, request{method: "GET", path: "/v1/serviceids", query: o.query()}, &l)
	return &l, err
}

// GetServiceID reads a service ID.
func (c *Client) GetServiceID(ctx context.Context, id string) (*ServiceID, error) {
	var v ServiceID
	_, err := c.do(ctx, request{method: "GET", path: "/v1/serviceids/" + url.PathEscape(id)}, &v)
	return &v, err
}

// UpdateServiceID is a service ID change; nil fields stay as they are.
type UpdateServiceID struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

// UpdateServiceID changes a service ID; entityTag (or "*") is required.
func (c *Client) UpdateServiceID(ctx context.Context, id, entityTag string, in UpdateServiceID) (*ServiceID, error) {
	var v ServiceID
	_, err := c.do(ctx, request{method: "PUT", path: "/v1/serviceids/" + url.PathEscape(id), body: in, headers: ifMatch(entityTag)}, &v)
	return &v, err
}

// DeleteServiceID deletes a service ID with its keys and policies.
func (c *Client) DeleteServiceID(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: "DELETE", path: "/v1/serviceids/" + url.PathEscape(id)}, nil)
	return err
}

// LockServiceID locks (true) or unlocks (false) a service ID.
func (c *Client) LockServiceID(ctx context.Context, id string, lock bool) error {
	_, err := c.do(ctx, request{method: onOff(lock), path: "/v1/serviceids/" + url.PathEscape(id) + "/lock"}, nil)
	return err
}

// Policy grants a role to a subject on the account or one provider org.
type Policy struct {
	ID        string         `json:"id"`
	Subject   string         `json:"subject"`
	Role      string         `json:"role"`
	Resource  PolicyResource `json:"resource"`
	CreatedBy string         `json:"created_by"`
	CreatedAt time.Time      `json:"created_at"`
}

// PolicyResource is a policy's scope: the account, or one org of it.
type PolicyResource struct {
	AccountID string `json:"account_id"`
	Org       string `json:"org,omitempty"` // org id; empty: the whole account
	OrgName   string `json:"org_name,omitempty"`
}

// CreatePolicy is a grant; Org (name or id) empty means the whole account.
type CreatePolicy struct {
	Subject string
	Role    string
	Org     string
}

// CreatePolicy grants a role.
func (c *Client) CreatePolicy(ctx context.Context, in CreatePolicy) (*Policy, error) {
	body := map[string]any{"subject": in.Subject, "role": in.Role}
	if in.Org != "" {
		body["resource"] = map[string]string{"org": in.Org}
	}
	var p Policy
	_, err := c.do(ctx, request{method: "POST", path: "/v1/policies", body: body}, &p)
	return &p, err
}

// ListPoliciesOptions filter and page a policy listing.
type ListPoliciesOptions struct {
	ListOptions
	Subject string // iam_id
	Org     string // name or id
}

// PolicyList is one page of policies.
type PolicyList struct {
	Envelope
	Policies []Policy `json:"policies"`
}

// ListPolicies lists one page of the policies the caller may read.
func (c *Client) ListPolicies(ctx context.Context, o ListPoliciesOptions) (*PolicyList, error) {
	q := o.query()
	if o.Subject != "" {
		q.Set("subject", o.Subject)
	}
	if o.Org != "" {
		q.Set("org", o.Org)
	}
	var l PolicyList
	_, err := c.do(ctx, request{method: "GET", path: "/v1/policies", query: q}, &l)
	return &l, err
}

// GetPolicy reads a policy.
func (c *Client) GetPolicy(ctx context.Context, id string) (*Policy, error) {
	var p Policy
	_, err := c.do(ctx, request{method: "GET", path: "/v1/policies/" + url.PathEscape(id)}, &p)
	return &p, err
}

// DeletePolicy removes a policy; the subject's live tokens lose it on their
// next request.
func (c *Client) DeletePolicy(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: "DELETE", path: "/v1/policies/" + url.PathEscape(id)}, nil)
	return err
}
