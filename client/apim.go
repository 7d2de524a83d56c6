package client

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// API Manager (SPEC §7): draft APIs and products of a provider org,
// publications in its catalogs, consumer orgs with their apps, credentials
// and subscriptions, and the gateway's call events and analytics. Org, env,
// consumer org and app arguments are names or ids; APIs and products are
// "name:version" or ids.

// Content types of API and product documents.
const (
	ContentTypeJSON = "application/json"
	ContentTypeYAML = "application/yaml"
)

// PageOptions page a bare-array listing of the API Manager.
type PageOptions struct {
	Limit int    // 1–1000; 0: the server's default (100)
	After string // from the previous page's next
}

func (o PageOptions) query() url.Values {
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.After != "" {
		q.Set("after", o.After)
	}
	return q
}

// Draft is a draft API or product of an org, as listed. EntityTag comes from
// the ETag of a create or replace; ReplaceAPI and ReplaceProduct need it.
type Draft struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	Title     string    `json:"title"`
	BasePath  *string   `json:"basePath,omitempty"` // APIs only ("" is the root)
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	EntityTag string    `json:"-"`
}

// Ref is the draft's "name:version".
func (d *Draft) Ref() string { return d.Name + ":" + d.Version }

// Document is a draft's document exactly as it was submitted.
type Document struct {
	Body        []byte
	ContentType string // application/json or application/yaml
	EntityTag   string
}

func orgPath(org string) string { return "/v1/orgs/" + url.PathEscape(org) }

func (c *Client) createDraft(ctx context.Context, coll, org string, doc []byte, contentType string) (*Draft, error) {
	var d Draft
	r, err := c.do(ctx, request{method: "POST", path: orgPath(org) + "/" + coll, raw: doc, ctype: contentType}, &d)
	d.EntityTag = etagOf(r)
	return &d, err
}

func (c *Client) listDrafts(ctx context.Context, coll, org string, o PageOptions) ([]Draft, string, error) {
	var ds []Draft
	r, err := c.do(ctx, request{method: "GET", path: orgPath(org) + "/" + coll, query: o.query()}, &ds)
	return ds, nextAfter(r), err
}

func (c *Client) getDraft(ctx context.Context, coll, org, ref string) (*Document, error) {
	var body []byte
	r, err := c.do(ctx, request{method: "GET", path: orgPath(org) + "/" + coll + "/" + url.PathEscape(ref)}, &body)
	if err != nil {
		return nil, err
	}
	return &Document{Body: body, ContentType: r.header.Get("Content-Type"), EntityTag: etagOf(r)}, nil
}

func (c *Client) replaceDraft(ctx context.Context, coll, org, ref, entityTag string, doc []byte, contentType string) (*Draft, error) {
	var d Draft
	r, err := c.do(ctx, request{method: "PUT", path: orgPath(org) + "/" + coll + "/" + url.PathEscape(ref),
		raw: doc, ctype: contentType, headers: ifMatch(entityTag)}, &d)
	d.EntityTag = etagOf(r)
	return &d, err
}

func (c *Client) deleteDraft(ctx context.Context, coll, org, ref string) error {
	_, err := c.do(ctx, request{method: "DELETE", path: orgPath(org) + "/" + coll + "/" + url.PathEscape(ref)}, nil)
	return err
}

// ImportAPI imports an OpenAPI 2.0, 3.0 or 3.1 document, JSON or YAML as
// contentType says (Writer in the org). An invalid document is an *Error
// with code validation_failed whose Details locate each problem by a JSON
// pointer; nothing is stored then.
func (c *Client) ImportAPI(ctx context.Context, org string, doc []byte, contentType string) (*Draft, error) {
	return c.createDraft(ctx, "apis", org, doc, contentType)
}

// ListAPIs lists one page of an org's draft APIs by name:version; next is
// the After of the following page ("" on the last).
func (c *Client) ListAPIs(ctx context.Context, org string, o PageOptions) (apis []Draft, next string, err error) {
	return c.listDrafts(ctx, "apis", org, o)
}

// GetAPI returns a draft API's document as it was submitted.
func (c *Client) GetAPI(ctx context.Context, org, ref string) (*Document, error) {
	return c.getDraft(ctx, "apis", org, ref)
}

// ReplaceAPI replaces a draft API's document (Writer); entityTag (or "*") is
// required. Published snapshots do not change until republished.
func (c *Client) ReplaceAPI(ctx context.Context, org, ref, entityTag string, doc []byte, contentType string) (*Draft, error) {
	return c.replaceDraft(ctx, "apis", org, ref, entityTag, doc, contentType)
}

// DeleteAPI deletes a draft API (Writer); 409 while a draft product uses it.
func (c *Client) DeleteAPI(ctx context.Context, org, ref string) error {
	return c.deleteDraft(ctx, "apis", org, ref)
}

// CreateProduct imports a product document (Writer in the org); its APIs must
// be drafts of the org.
func (c *Client) CreateProduct(ctx context.Context, org string, doc []byte, contentType string) (*Draft, error) {
	return c.createDraft(ctx, "products", org, doc, contentType)
}

// ListProducts lists one page of an org's draft products.
func (c *Client) ListProducts(ctx context.Context, org string, o PageOptions) (products []Draft, next string, err error) {
	return c.listDrafts(ctx, "products", org, o)
}

// GetProduct returns a draft product's document as it was submitted.
func (c *Client) GetProduct(ctx context.Context, org, ref string) (*Document, error) {
	return c.getDraft(ctx, "products", org, ref)
}

// ReplaceProduct replaces a draft product's document (Writer); entityTag (or
// "*") is required.
func (c *Client) ReplaceProduct(ctx context.Context, org, ref, entityTag string, doc []byte, contentType string) (*Draft, error) {
	return c.replaceDraft(ctx, "products", org, ref, entityTag, doc, contentType)
}

// DeleteProduct deletes a draft product (Writer).
func (c *Client) DeleteProduct(ctx context.Context, org, ref string) error {
	return c.deleteDraft(ctx, "products", org, ref)
}

// Publication states.
const (
	StatePublished  = "published"
	StateDeprecated = "deprecated"
	StateRetired    = "retired"
)

// Publication is a product published to a catalog: a snapshot of the product
// and its APIs.
type Publication struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Version     string          `json:"version"`
	Title       string          `json:"title"`
	State       string          `json:"state"`
	Plans       []PublishedPlan `json:"plans"`
	APIs        []PublishedAPI  `json:"apis"`
	PublishedAt time.Time       `json:"publishedAt"`
	UpdatedAt   time.Time       `json:"updatedAt"`
	URL         string          `json:"url"`
}

// PublishedPlan is a plan of a publication.
type PublishedPlan struct {
	Name       string      `json:"name"`
	Title      string      `json:"title"`
	Approval   bool        `json:"approval"`
	RateLimits []RateLimit `json:"rateLimits"`
}

// RateLimit is a named limit of a plan, e.g. {default, 100/1hour, true}.
type RateLimit struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	HardLimit bool   `json:"hardLimit"`
}

// PublishedAPI is an API of a publication.
type PublishedAPI struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	BasePath string `json:"basePath"`
}

func catalogPath(org, env string) string { return envPath(org) + "/" + url.PathEscape(env) }

// Publish publishes a draft product ("name:version") with its APIs to a
// catalog (Manager in the org). Publishing it again replaces the snapshot
// and makes it published again (also after it was retired).
func (c *Client) Publish(ctx context.Context, org, env, product string) (*Publication, error) {
	var p Publication
	_, err := c.do(ctx, request{method: "POST", path: catalogPath(org, env) + "/products", body: map[string]string{"product": product}}, &p)
	return &p, err
}

// ListPublications lists a catalog's publications, only those in states when given.
func (c *Client) ListPublications(ctx context.Context, org, env string, states ...string) ([]Publication, error) {
	q := url.Values{}
	if len(states) > 0 {
		q.Set("state", strings.Join(states, ","))
	}
	var ps []Publication
	_, err := c.do(ctx, request{method: "GET", path: catalogPath(org, env) + "/products", query: q}, &ps)
	return ps, err
}

// GetPublication reads one publication of a catalog.
func (c *Client) GetPublication(ctx context.Context, org, env, product string) (*Publication, error) {
	var p Publication
	_, err := c.do(ctx, request{method: "GET", path: catalogPath(org, env) + "/products/" + url.PathEscape(product)}, &p)
	return &p, err
}

// SetPublicationState deprecates or retires a publication, or makes a
// deprecated one published again (Manager in the org).
func (c *Client) SetPublicationState(ctx context.Context, org, env, product, state string) (*Publication, error) {
	var p Publication
	_, err := c.do(ctx, request{method: "PATCH", path: catalogPath(org, env) + "/products/" + url.PathEscape(product), body: map[string]string{"state": state}}, &p)
	return &p, err
}

// ConsumerOrg is an organization of API consumers in a catalog.
type ConsumerOrg struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Title     string    `json:"title"`
	CreatedAt time.Time `json:"createdAt"`
}

// CreateConsumerOrg adds a consumer org to a catalog (Writer in the org).
func (c *Client) CreateConsumerOrg(ctx context.Context, org, env, name, title string) (*ConsumerOrg, error) {
	var co ConsumerOrg
	_, err := c.do(ctx, request{method: "POST", path: catalogPath(org, env) + "/consumerOrgs", body: map[string]string{"name": name, "title": title}}, &co)
	return &co, err
}

// ListConsumerOrgs lists one page of a catalog's consumer orgs.
func (c *Client) ListConsumerOrgs(ctx context.Context, org, env string, o PageOptions) (corgs []ConsumerOrg, next string, err error) {
	r, err := c.do(ctx, request{method: "GET", path: catalogPath(org, env) + "/consumerOrgs", query: o.query()}, &corgs)
	return corgs, nextAfter(r), err
}

// GetConsumerOrg reads a consumer org.
func (c *Client) GetConsumerOrg(ctx context.Context, org, env, corg string) (*ConsumerOrg, error) {
	var co ConsumerOrg
	_, err := c.do(ctx, request{method: "GET", path: catalogPath(org, env) + "/consumerOrgs/" + url.PathEscape(corg)}, &co)
	return &co, err
}

// DeleteConsumerOrg deletes a consumer org with its apps (Writer); their
// client ids stop working at once.
func (c *Client) DeleteConsumerOrg(ctx context.Context, org, env, corg string) error {
	_, err := c.do(ctx, request{method: "DELETE", path: catalogPath(org, env) + "/consumerOrgs/" + url.PathEscape(corg)}, nil)
	return err
}

// AppRef names an app: provider org, catalog, consumer org, app.
type AppRef struct {
	Org, Env, ConsumerOrg, App string
}

func (a AppRef) path() string {
	return catalogPath(a.Org, a.Env) + "/consumerOrgs/" + url.PathEscape(a.ConsumerOrg) + "/apps/" + url.PathEscape(a.App)
}

// App is a consumer's application. Credentials is set only in the answer of
// CreateApp, the one time its client secret is shown.
type App struct {
	ID            string      `json:"id"`
	Name          string      `json:"name"`
	Description   string      `json:"description"`
	ConsumerOrgID string      `json:"consumerOrgID"`
	CreatedAt     time.Time   `json:"createdAt"`
	Credentials   *Credential `json:"credentials,omitempty"`
}

// Credential is a client id of an app. ClientSecret is set only when the
// credential was just created or its secret reset; listings show SecretHint.
type Credential struct {
	ClientID     string    `json:"clientID"`
	ClientSecret string    `json:"clientSecret,omitempty"`
	SecretHint   string    `json:"secretHint,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// CreateApp creates an app with its first client id and secret (Writer).
func (c *Client) CreateApp(ctx context.Context, org, env, corg, name, description string) (*App, error) {
	var a App
	_, err := c.do(ctx, request{method: "POST", path: catalogPath(org, env) + "/consumerOrgs/" + url.PathEscape(corg) + "/apps",
		body: map[string]string{"name": name, "description": description}}, &a)
	return &a, err
}

// ListApps lists one page of a consumer org's apps.
func (c *Client) ListApps(ctx context.Context, org, env, corg string, o PageOptions) (apps []App, next string, err error) {
	r, err := c.do(ctx, request{method: "GET", path: catalogPath(org, env) + "/consumerOrgs/" + url.PathEscape(corg) + "/apps", query: o.query()}, &apps)
	return apps, nextAfter(r), err
}

// ListConsumerApps lists one page of the apps of every consumer org of a catalog.
func (c *Client) ListConsumerApps(ctx context.Context, org, env string, o PageOptions) (apps []App, next string, err error) {
	r, err := c.do(ctx, request{method: "GET", path: catalogPath(org, env) + "/consumerApps", query: o.query()}, &apps)
	return apps, nextAfter(r), err
}

// GetApp reads an app (never its secrets).
func (c *Client) GetApp(ctx context.Context, app AppRef) (*App, error) {
	var a App
	_, err := c.do(ctx, request{method: "GET", path: app.path()}, &a)
	return &a, err
}

// DeleteApp deletes an app with its credentials and subscriptions (Writer).
func (c *Client) DeleteApp(ctx context.Context, app AppRef) error {
	_, err := c.do(ctx, request{method: "DELETE", path: app.path()}, nil)
	return err
}

// ListCredentials lists an app's client ids with secret hints.
func (c *Client) ListCredentials(ctx context.Context, app AppRef) ([]Credential, error) {
	var cs []Credential
	_, err := c.do(ctx, request{method: "GET", path: app.path() + "/credentials"}, &cs)
	return cs, err
}

// AddCredential adds a client id and secret to an app (Writer), for a
// rotation that overlaps the old pair.
func (c *Client) AddCredential(ctx context.Context, app AppRef) (*Credential, error) {
	var cr Credential
	_, err := c.do(ctx, request{method: "POST", path: app.path() + "/credentials"}, &cr)
	return &cr, err
}

// DeleteCredential deletes a client id of an app (Writer).
func (c *Client) DeleteCredential(ctx context.Context, app AppRef, clientID string) error {
	_, err := c.do(ctx, request{method: "DELETE", path: app.path() + "/credentials/" + url.PathEscape(clientID)}, nil)
	return err
}

// ResetSecret gives a client id a new secret, returned once (Writer); the
// old secret stops working at once.
func (c *Client) ResetSecret(ctx context.Context, app AppRef, clientID string) (*Credential, error) {
	var cr Credential
	_, err := c.do(ctx, request{method: "POST", path: app.path() + "/credentials/" + url.PathEscape(clientID) + "/reset-secret"}, &cr)
	return &cr, err
}

// Subscription states.
const (
	SubscriptionActive  = "active"
	SubscriptionPending = "pending"
)

// Subscription is an app's subscription to a plan of a published product.
type Subscription struct {
	ID         string    `json:"id"`
	AppID      string    `json:"appID"`
	Product    string    `json:"product"` // name:version
	Plan       string    `json:"plan"`
	Approved   bool      `json:"approved"`
	State      string    `json:"state"`
	CreatedAt  time.Time `json:"createdAt"`
	ApprovedAt time.Time `json:"approvedAt"`
}

// Subscribe subscribes an app to a plan ("" is "default") of a product
// published in its catalog (Writer). A plan with approval starts pending;
// a deprecated or retired product takes no new subscriptions (409).
func (c *Client) Subscribe(ctx context.Context, app AppRef, product, plan string) (*Subscription, error) {
	var s Subscription
	_, err := c.do(ctx, request{method: "POST", path: app.path() + "/subscriptions", body: map[string]string{"product": product, "plan": plan}}, &s)
	return &s, err
}

// ListSubscriptions lists one page of an app's subscriptions.
func (c *Client) ListSubscriptions(ctx context.Context, app AppRef, o PageOptions) (subs []Subscription, next string, err error) {
	r, err := c.do(ctx, request{method: "GET", path: app.path() + "/subscriptions", query: o.query()}, &subs)
	return subs, nextAfter(r), err
}

// ListCatalogSubscriptions lists one page of every subscription of a catalog.
func (c *Client) ListCatalogSubscriptions(ctx context.Context, org, env string, o PageOptions) (subs []Subscription, next string, err error) {
	r, err := c.do(ctx, request{method: "GET", path: catalogPath(org, env) + "/subscriptions", query: o.query()}, &subs)
	return subs, nextAfter(r), err
}

// Unsubscribe deletes a subscription of an app (Writer).
func (c *Client) Unsubscribe(ctx context.Context, app AppRef, id string) error {
	_, err := c.do(ctx, request{method: "DELETE", path: app.path() + "/subscriptions/" + url.PathEscape(id)}, nil)
	return err
}

// Approve approves a pending subscription (Manager in the org).
func (c *Client) Approve(ctx context.Context, app AppRef, id string) (*Subscription, error) {
	var s Subscription
	_, err := c.do(ctx, request{method: "POST", path: app.path() + "/subscriptions/" + url.PathEscape(id) + "/approve"}, &s)
	return &s, err
}

// Event is one gateway call.
type Event struct {
	Seq              int64     `json:"seq"`
	Time             time.Time `json:"time"`
	RequestID        string    `json:"requestID"` // the call's X-Global-Transaction-ID
	API              string    `json:"api,omitempty"`
	Operation        string    `json:"operation,omitempty"` // e.g. "GET /forecast/{city}"
	Status           int       `json:"status"`
	LatencyMS        float64   `json:"latencyMs"`
	BackendLatencyMS float64   `json:"backendLatencyMs"`
	BytesIn          int64     `json:"bytesIn"`
	BytesOut         int64     `json:"bytesOut"`
	ClientID         string    `json:"clientID,omitempty"`
	AppID            string    `json:"appID,omitempty"`
	ConsumerOrgID    string    `json:"consumerOrgID,omitempty"`
	Product          string    `json:"product,omitempty"`
	Plan             string    `json:"plan,omitempty"`
	RateLimited      bool      `json:"rateLimited"`
}

// EventQuery filters and pages a catalog's events; zero fields do not filter.
type EventQuery struct {
	After  time.Time // events at or after this time
	Before time.Time // events before this time
	API    string    // name:version
	App    string    // app id
	Status string    // a code ("404") or a class ("4xx")
	Limit  int       // 1–1000; 0: the server's default (100)
	Cursor string    // from the previous page's Next
}

// EventPage is one page of events, oldest first. Next is the Cursor of the
// following page ("" on the last).
type EventPage struct {
	Events []Event
	Next   string
}

// ListEvents reads one page of a catalog's gateway events. Events are written
// in the background, so a call shows up shortly after it was answered.
func (c *Client) ListEvents(ctx context.Context, org, env string, q EventQuery) (*EventPage, error) {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.After.IsZero() {
		v.Set("after", q.After.UTC().Format(time.RFC3339))
	}
	if !q.Before.IsZero() {
		v.Set("before", q.Before.UTC().Format(time.RFC3339))
	}
	set("api", q.API)
	set("app", q.App)
	set("status", q.Status)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	set("cursor", q.Cursor)
	var p EventPage
	r, err := c.do(ctx, request{method: "GET", path: catalogPath(org, env) + "/events", query: v}, &p.Events)
	if m := linkNext.FindStringSubmatch(r.header.Get("Link")); m != nil {
		if u, perr := url.Parse(m[1]); perr == nil {
			p.Next = u.Query().Get("cursor")
		}
	}
	return &p, err
}

// AnalyticsQuery chooses the range and interval of a report; zero fields
// take the server's defaults (the last hour in one-minute intervals).
type AnalyticsQuery struct {
	Since, Until time.Time
	Interval     time.Duration
}

// Analytics is a report of a catalog's calls over [Since, Until).
type Analytics struct {
	Since     time.Time         `json:"since"`
	Until     time.Time         `json:"until"`
	Interval  string            `json:"interval"`
	Calls     int               `json:"calls"`
	Truncated bool              `json:"truncated,omitempty"`
	Buckets   []AnalyticsBucket `json:"buckets"`
	ByAPI     []AnalyticsGroup  `json:"byApi"`
	ByApp     []AnalyticsGroup  `json:"byApp"`
}

// AnalyticsBucket is one interval of a report.
type AnalyticsBucket struct {
	Start    time.Time      `json:"start"`
	Calls    int            `json:"calls"`
	ByStatus map[string]int `json:"byStatus"` // "2xx" … "5xx"
	Latency  Percentiles    `json:"latency"`
}

// AnalyticsGroup is the totals of one API (name:version) or app (id).
type AnalyticsGroup struct {
	Name     string         `json:"name"`
	Calls    int            `json:"calls"`
	ByStatus map[string]int `json:"byStatus"`
	Latency  Percentiles    `json:"latency"`
}

// Percentiles are latencies in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// Analytics aggregates a catalog's gateway calls.
func (c *Client) Analytics(ctx context.Context, org, env string, q AnalyticsQuery) (*Analytics, error) {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339))
	}
	if q.Interval > 0 {
		v.Set("interval", q.Interval.String())
	}
	var a Analytics
	_, err := c.do(ctx, request{method: "GET", path: catalogPath(org, env) + "/analytics", query: v}, &a)
	return &a, err
}
