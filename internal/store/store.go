package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap driver errors into these at their boundary, so
// services can test for them with errors.Is without knowing the backend.
var (
	// ErrNotFound: the record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists: a unique constraint (id, name, digest, generation, …) would be violated.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrUnavailable: the database cannot be reached or is shutting down.
	ErrUnavailable = errors.New("store: unavailable")
)

// Store is what every backend provides. All methods are safe for concurrent use.
// Times are stored with microsecond precision in UTC; zero times mean "unset".
type Store interface {
	AccountStore
	UserStore
	ServiceIDStore
	PolicyStore
	APIKeyStore
	SigningKeyStore
	OrgStore
	AuditStore
	APIManagerStore
	ConsumerStore
	EventStore
	MetaStore
	ChangeLog
	Importer

	// Bootstrap atomically creates the first account, its admin user, the admin's
	// account-wide policy and the admin's API key. It returns ErrAlreadyExists and
	// changes nothing when any account exists, so only one of several nodes
	// starting at once succeeds.
	Bootstrap(ctx context.Context, b Bootstrap) error

	// Ping reports whether the database is reachable (ErrUnavailable if not).
	Ping(ctx context.Context) error
	// Close releases the backend's resources.
	Close() error
}

// Bootstrap is the set of records created on the first start.
type Bootstrap struct {
	Account Account
	User    User
	Policy  Policy
	APIKey  APIKey
}

// Account is a tenant. One deployment serves one account in this version.
type Account struct {
	ID        string // 32 lowercase hex characters
	Name      string
	CreatedAt time.Time
}

// AccountStore reads accounts. Accounts are created by Bootstrap.
type AccountStore interface {
	// GetAccount returns ErrNotFound when the account does not exist.
	GetAccount(ctx context.Context, id string) (Account, error)
	// ListAccounts returns all accounts, oldest first.
	ListAccounts(ctx context.Context) ([]Account, error)
}

// User is a person in the local user registry.
type User struct {
	ID           string // User-<uuid>
	IAMID        string // iam-User-<uuid>
	AccountID    string
	Username     string // unique within the account
	Name         string
	Email        string
	PasswordHash string // argon2id in PHC string form; empty: no password sign-in
	Disabled     bool
	Version      int64 // incremented by every update; the basis of ETags
	CreatedAt    time.Time
	ModifiedAt   time.Time
}

// Page bounds a keyset-paginated listing: records strictly after After (by the
// listing's order), at most Limit of them (0 means the backend default of 100).
type Page struct {
	After string
	Limit int
}

// UserStore keeps users.
type UserStore interface {
	// CreateUser returns ErrAlreadyExists for a duplicate id, iam_id or username.
	CreateUser(ctx context.Context, u User) error
	// GetUser finds a user by id or iam_id; ErrNotFound when absent.
	GetUser(ctx context.Context, id string) (User, error)
	// GetUserByUsername returns ErrNotFound when absent.
	GetUserByUsername(ctx context.Context, accountID, username string) (User, error)
	// ListUsers lists an account's users ordered by username; Page.After is a username.
	ListUsers(ctx context.Context, accountID string, p Page) ([]User, error)
	// UpdateUser applies fn to the stored user inside one transaction and stores
	// the result with Version+1. An error from fn aborts the update and is returned
	// as is. ErrNotFound when absent; ErrAlreadyExists when the new username is taken.
	UpdateUser(ctx context.Context, id string, fn func(u *User) error) (User, error)
	// DeleteUser deletes the user with its API keys and policies; ErrNotFound when absent.
	DeleteUser(ctx context.Context, id string) error
}

// ServiceID is a non-human identity that owns API keys.
type ServiceID struct {
	ID          string // ServiceId-<uuid>
	IAMID       string // iam-ServiceId-<uuid>
	AccountID   string
	Name        string
	Description string
	Locked      bool
	Version     int64
	CreatedBy   string // iam_id
	CreatedAt   time.Time
	ModifiedAt  time.Time
}

// ServiceIDStore keeps service IDs.
type ServiceIDStore interface {
	// CreateServiceID returns ErrAlreadyExists for a duplicate id or iam_id. When
	// firstKey is not nil it is created in the same transaction.
	CreateServiceID(ctx context.Context, s ServiceID, firstKey *APIKey) error
	// GetServiceID finds a service ID by id or iam_id; ErrNotFound when absent.
	GetServiceID(ctx context.Context, id string) (ServiceID, error)
	// ListServiceIDs lists an account's service IDs ordered by id; Page.After is an id.
	ListServiceIDs(ctx context.Context, accountID string, p Page) ([]ServiceID, error)
	// UpdateServiceID works as UpdateUser.
	UpdateServiceID(ctx context.Context, id string, fn func(s *ServiceID) error) (ServiceID, error)
	// DeleteServiceID deletes it with its API keys and policies; ErrNotFound when
	// absent. A non-nil check sees the stored record inside the transaction; an
	// error from it aborts the delete and is returned as is.
	DeleteServiceID(ctx context.Context, id string, check func(ServiceID) error) error
}

// Policy grants Subject a role on the whole account (Org empty) or on one provider org.
type Policy struct {
	ID        string // Policy-<uuid>
	AccountID string
	Subject   string // iam_id
	Role      string // Reader, Writer, Manager or Administrator; the store does not interpret it
	Org       string // provider org id; empty for account-wide
	CreatedBy string
	CreatedAt time.Time
}

// PolicyQuery filters ListPolicies; empty fields do not filter.
type PolicyQuery struct {
	AccountID string
	Subject   string
	Org       string
	Page      Page // After is a policy id; ordered by id
}

// PolicyStore keeps policies.
type PolicyStore interface {
	// CreatePolicy returns ErrAlreadyExists when Subject already has a policy at that scope.
	CreatePolicy(ctx context.Context, p Policy) error
	// GetPolicy returns ErrNotFound when absent.
	GetPolicy(ctx context.Context, id string) (Policy, error)
	// ListPolicies lists policies matching q.
	ListPolicies(ctx context.Context, q PolicyQuery) ([]Policy, error)
	// DeletePolicy returns ErrNotFound when absent.
	DeletePolicy(ctx context.Context, id string) error
}

// APIKey is a stored API key. Only the SHA-256 digest of the value is kept.
type APIKey struct {
	ID               string // ApiKey-<uuid>
	AccountID        string
	IAMID            string // owner
	Name             string
	Description      string
	Digest           []byte // SHA-256 of the key value; unique
	Hint             string // non-secret display form: prefix…last 4
	Role             string // cap on the owner's role; empty: no cap
	Locked           bool
	Disabled         bool
	ExpiresAt        time.Time // zero: never
	ActionWhenLeaked string
	CreatedBy        string // iam_id
	CreatedAt        time.Time
	ModifiedAt       time.Time
	Version          int64
	LastAuthn        time.Time // activity, maintained by RecordAPIKeyActivity
	AuthnCount       int64
	History          []HistoryEntry
}

// HistoryEntry records who did what to a key.
type HistoryEntry struct {
	Time    time.Time `json:"timestamp"`
	IAMID   string    `json:"iam_id"`
	Action  string    `json:"action"`
	Message string    `json:"message,omitempty"`
}

// APIKeyActivity is a batch of successful authentications of one key.
type APIKeyActivity struct {
	ID    string
	Count int64
	Last  time.Time
}

// APIKeyQuery selects keys for ListAPIKeys.
type APIKeyQuery struct {
	AccountID string
	IAMID     string // empty: every owner in the account
	SortBy    string // "created_at" (default) or "name"; ties broken by id
	Desc      bool
	After     *APIKeyCursor // keyset position: return keys strictly after it
	Limit     int           // 0: 100
}

// APIKeyCursor is the position of the last key of a page in the listing order.
type APIKeyCursor struct {
	Name      string
	CreatedAt time.Time
	ID        string
}

// APIKeyStore keeps API keys.
type APIKeyStore interface {
	// CreateAPIKey returns ErrAlreadyExists for a duplicate id or digest.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// GetAPIKey returns ErrNotFound when absent.
	GetAPIKey(ctx context.Context, id string) (APIKey, error)
	// GetAPIKeyByDigest finds a key by the SHA-256 of its value; ErrNotFound when absent.
	GetAPIKeyByDigest(ctx context.Context, digest []byte) (APIKey, error)
	// ListAPIKeys returns keys matching q in the requested order.
	ListAPIKeys(ctx context.Context, q APIKeyQuery) ([]APIKey, error)
	// UpdateAPIKey works as UpdateUser. Digest, owner and creation fields are
	// not changed by it even if fn changes them.
	UpdateAPIKey(ctx context.Context, id string, fn func(k *APIKey) error) (APIKey, error)
	// RotateAPIKey applies fn to the stored key, which returns the replacement key;
	// both the update and the new key are written in one transaction.
	RotateAPIKey(ctx context.Context, id string, fn func(old *APIKey) (APIKey, error)) (old, replacement APIKey, err error)
	// DeleteAPIKey returns ErrNotFound when absent. A non-nil check sees the
	// stored key inside the transaction; an error from it aborts the delete and
	// is returned as is (so "refuse while locked" cannot race a lock).
	DeleteAPIKey(ctx context.Context, id string, check func(APIKey) error) error
	// RecordAPIKeyActivity adds counts and raises last-authentication times. It
	// does not change Version and writes no Change; unknown ids are ignored.
	RecordAPIKeyActivity(ctx context.Context, batch []APIKeyActivity) error
}

// SigningKey is a token-signing key. The private key is sealed with the master key.
type SigningKey struct {
	ID         string // the JWS kid
	Generation int64  // 1, 2, …; unique, so two nodes cannot both create the next key
	Algorithm  string // ES256, ES384, EdDSA or RS256
	PublicKey  []byte // PKIX DER
	PrivateKey []byte // sealed PKCS #8 DER
	CreatedAt  time.Time
	ActivateAt time.Time // signs tokens from this time on, until a later generation activates
}

// SigningKeyStore keeps signing keys.
type SigningKeyStore interface {
	// CreateSigningKey returns ErrAlreadyExists when the id or generation exists.
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// ListSigningKeys returns all signing keys ordered by generation.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// DeleteSigningKey returns ErrNotFound when absent.
	DeleteSigningKey(ctx context.Context, id string) error
}

// Org is a provider organization: the scope that APIs, products, catalogs and
// org policies belong to.
type Org struct {
	ID         string // opaque (a UUID)
	AccountID  string
	Name       string // lowercase slug, unique within the account
	Title      string
	Version    int64
	CreatedBy  string // iam_id
	CreatedAt  time.Time
	ModifiedAt time.Time
}

// Environment is a catalog of a provider org (API Connect's "catalog").
type Environment struct {
	ID         string // opaque (a UUID)
	AccountID  string
	OrgID      string
	Name       string // lowercase slug, unique within the org
	Title      string
	CreatedBy  string
	CreatedAt  time.Time
	ModifiedAt time.Time
}

// OrgStore keeps provider orgs and their catalogs.
type OrgStore interface {
	// CreateOrg creates the org and, in the same transaction, its first
	// environments. ErrAlreadyExists for a duplicate id or name (of the org or
	// of an environment within it).
	CreateOrg(ctx context.Context, o Org, envs []Environment) error
	// GetOrg finds an org of the account by id or name; ErrNotFound when absent.
	GetOrg(ctx context.Context, accountID, idOrName string) (Org, error)
	// ListOrgs lists the account's orgs ordered by name; Page.After is a name.
	ListOrgs(ctx context.Context, accountID string, p Page) ([]Org, error)
	// UpdateOrg works as UpdateUser (ID, AccountID, CreatedBy and CreatedAt are
	// kept); ErrAlreadyExists when the new name is taken.
	UpdateOrg(ctx context.Context, id string, fn func(o *Org) error) (Org, error)
	// DeleteOrg deletes the org with its environments and the policies scoped
	// to it; ErrNotFound when absent. A non-nil check sees the stored org inside
	// the transaction; an error from it aborts the delete and is returned as is.
	DeleteOrg(ctx context.Context, id string, check func(Org) error) error

	// CreateEnvironment returns ErrAlreadyExists for a duplicate id or a name
	// taken within the org, ErrNotFound when the org does not exist.
	CreateEnvironment(ctx context.Context, e Environment) error
	// GetEnvironment finds an environment of the org by id or name.
	GetEnvironment(ctx context.Context, orgID, idOrName string) (Environment, error)
	// ListEnvironments lists the org's environments ordered by name.
	ListEnvironments(ctx context.Context, orgID string) ([]Environment, error)
	// DeleteEnvironment returns ErrNotFound when absent.
	DeleteEnvironment(ctx context.Context, orgID, id string) error
}

// AuditEntry is one record of the append-only, hash-chained audit log.
type AuditEntry struct {
	Seq           int64 // assigned by AppendAudit: 1, 2, …
	AccountID     string
	Time          time.Time
	ActorIAMID    string
	ActorAPIKeyID string
	Action        string // e.g. "apikey.create", "token.exchange"
	Target        string // what was acted on (an id), if anything
	Outcome       string // "success", "failure" or "denied"
	RequestID     string
	SourceIP      string
	Message       string // a short, secret-free detail
	PrevHash      string // the previous entry's Hash ("" for the first)
	Hash          string // seals this entry together with PrevHash
}

// AuditQuery selects audit entries; empty fields do not filter. Entries come
// in Seq order, strictly after AfterSeq, at most Limit (0: 100).
type AuditQuery struct {
	AccountID string
	Actor     string // iam_id or API key id
	Action    string
	Target    string
	Since     time.Time // inclusive
	Until     time.Time // exclusive
	AfterSeq  int64
	Limit     int
}

// AuditStore keeps the audit log. Entries are never updated or deleted
// through this interface.
type AuditStore interface {
	// AppendAudit appends the batch in order in one transaction. For each
	// entry it sets Seq to the previous entry's Seq+1, then calls seal with the
	// previous entry (the zero AuditEntry before the first) so the caller can
	// set PrevHash and Hash; appends from several goroutines or nodes are
	// serialized so the chain never forks.
	AppendAudit(ctx context.Context, batch []AuditEntry, seal func(prev AuditEntry, e *AuditEntry)) error
	// ListAudit returns entries matching q in Seq order.
	ListAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
}

// Document is a draft API or product as the provider submitted it.
type Document struct {
	ID         string // opaque (a UUID)
	AccountID  string
	OrgID      string
	Name       string // with Version, unique within the org
	Version    string
	Title      string
	Source     []byte // the document exactly as submitted
	Format     string // "json" or "yaml"
	Compiled   []byte // the compiled form (apidef.API or apidef.Product as JSON)
	Rev        int64  // incremented by every update; the basis of ETags
	CreatedBy  string
	CreatedAt  time.Time
	ModifiedAt time.Time
}

// Publication is a product published to a catalog: a snapshot of the product
// and of its APIs, taken when it was published, with its lifecycle state.
type Publication struct {
	ID             string // opaque (a UUID)
	AccountID      string
	OrgID          string
	EnvID          string
	ProductName    string // with ProductVersion, unique within the catalog
	ProductVersion string
	State          string // "published", "deprecated" or "retired"
	Snapshot       []byte // JSON: the compiled product and APIs as published
	Rev            int64
	PublishedBy    string
	PublishedAt    time.Time
	ModifiedAt     time.Time
}

// PublicationQuery selects publications; empty fields do not filter.
type PublicationQuery struct {
	AccountID string
	OrgID     string
	EnvID     string
	States    []string
}

// APIManagerStore keeps draft APIs and products and their publications. The
// kind ("api" or "product") selects the draft table.
type APIManagerStore interface {
	// CreateDocument returns ErrAlreadyExists for a duplicate id or
	// (org, name, version).
	CreateDocument(ctx context.Context, kind string, d Document) error
	// GetDocument finds a draft of the org by id or by "name:version".
	GetDocument(ctx context.Context, kind, orgID, ref string) (Document, error)
	// ListDocuments lists the org's drafts ordered by name, then version;
	// Page.After is the "name:version" of the last one seen.
	ListDocuments(ctx context.Context, kind, orgID string, p Page) ([]Document, error)
	// UpdateDocument works as UpdateUser (ID, AccountID, OrgID, CreatedBy and
	// CreatedAt are kept; Rev is incremented); ErrAlreadyExists when the new
	// name:version is taken.
	UpdateDocument(ctx context.Context, kind, id string, fn func(d *Document) error) (Document, error)
	// DeleteDocument returns ErrNotFound when absent. A non-nil check sees the
	// stored draft inside the transaction; an error from it aborts the delete.
	DeleteDocument(ctx context.Context, kind, id string, check func(Document) error) error

	// PutPublication creates the publication of (env, product name, version),
	// or replaces the snapshot and state of the existing one (republishing),
	// in one transaction; fn sees the existing one (nil if none) and returns
	// the record to store (an error aborts).
	PutPublication(ctx context.Context, envID, name, version string, fn func(old *Publication) (Publication, error)) (Publication, error)
	// GetPublication finds a publication of the catalog by id or "name:version".
	GetPublication(ctx context.Context, envID, ref string) (Publication, error)
	// ListPublications lists publications matching q, ordered by product
	// name, then version.
	ListPublications(ctx context.Context, q PublicationQuery) ([]Publication, error)
	// UpdatePublication works as UpdateUser for a publication's State (only
	// State and ModifiedAt are written; Rev is incremented).
	UpdatePublication(ctx context.Context, id string, fn func(p *Publication) error) (Publication, error)
	// DeletePublication returns ErrNotFound when absent.
	DeletePublication(ctx context.Context, id string) error
}

// ConsumerOrg is an organization of API consumers in one catalog.
type ConsumerOrg struct {
	ID        string
	AccountID string
	OrgID     string
	EnvID     string
	Name      string // slug, unique within the catalog
	Title     string
	CreatedBy string
	CreatedAt time.Time
}

// App is a consumer application; it calls APIs with its credentials.
type App struct {
	ID            string
	AccountID     string
	OrgID         string
	EnvID         string
	ConsumerOrgID string
	Name          string // unique within the consumer org
	Description   string
	CreatedBy     string
	CreatedAt     time.Time
}

// Credential is a client id and the SHA-256 digest of its secret. An app may
// have several, for overlapping rotation.
type Credential struct {
	ClientID     string // unique across the deployment
	AppID        string
	EnvID        string
	SecretDigest []byte
	SecretHint   string // last 4 characters of the secret
	CreatedAt    time.Time
	ModifiedAt   time.Time
}

// Subscription connects an app to a plan of a published product.
type Subscription struct {
	ID             string
	AccountID      string
	OrgID          string
	EnvID          string
	AppID          string
	ConsumerOrgID  string
	ProductName    string
	ProductVersion string
	Plan           string
	Approved       bool
	State          string // "active" or "pending"
	CreatedBy      string
	CreatedAt      time.Time
	ApprovedBy     string
	ApprovedAt     time.Time
}

// ConsumerQuery selects apps or subscriptions of a catalog; empty fields do
// not filter. Ordered by id, strictly after Page.After.
type ConsumerQuery struct {
	EnvID         string
	ConsumerOrgID string
	AppID         string
	Page          Page
}

// ConsumerStore keeps consumer orgs, apps, their credentials and subscriptions.
type ConsumerStore interface {
	// CreateConsumerOrg returns ErrAlreadyExists for a duplicate id or name in the catalog.
	CreateConsumerOrg(ctx context.Context, c ConsumerOrg) error
	// GetConsumerOrg finds a consumer org of the catalog by id or name.
	GetConsumerOrg(ctx context.Context, envID, ref string) (ConsumerOrg, error)
	// ListConsumerOrgs lists a catalog's consumer orgs by name; Page.After is a name.
	ListConsumerOrgs(ctx context.Context, envID string, p Page) ([]ConsumerOrg, error)
	// DeleteConsumerOrg deletes it with its apps, their credentials and subscriptions.
	DeleteConsumerOrg(ctx context.Context, id string) error

	// CreateApp creates an app with its first credential in one transaction.
	// ErrAlreadyExists for a duplicate id, name in the consumer org, or client id;
	// ErrNotFound when the consumer org does not exist.
	CreateApp(ctx context.Context, a App, first Credential) error
	// GetApp finds an app of the consumer org by id or name.
	GetApp(ctx context.Context, consumerOrgID, ref string) (App, error)
	// ListApps lists apps matching q.
	ListApps(ctx context.Context, q ConsumerQuery) ([]App, error)
	// DeleteApp deletes it with its credentials and subscriptions.
	DeleteApp(ctx context.Context, id string) error

	// CreateCredential adds a credential to an existing app (ErrNotFound otherwise).
	CreateCredential(ctx context.Context, c Credential) error
	// GetCredential finds a credential by client id.
	GetCredential(ctx context.Context, clientID string) (Credential, error)
	// ListCredentials lists an app's credentials, oldest first.
	ListCredentials(ctx context.Context, appID string) ([]Credential, error)
	// UpdateCredential works as UpdateUser (ClientID, AppID, EnvID, CreatedAt kept).
	UpdateCredential(ctx context.Context, clientID string, fn func(c *Credential) error) (Credential, error)
	// DeleteCredential returns ErrNotFound when absent.
	DeleteCredential(ctx context.Context, clientID string) error

	// CreateSubscription returns ErrAlreadyExists when the app already has a
	// subscription to that product name and version, ErrNotFound when the app
	// does not exist.
	CreateSubscription(ctx context.Context, s Subscription) error
	// GetSubscription finds a subscription by id.
	GetSubscription(ctx context.Context, id string) (Subscription, error)
	// ListSubscriptions lists subscriptions matching q.
	ListSubscriptions(ctx context.Context, q ConsumerQuery) ([]Subscription, error)
	// UpdateSubscription works as UpdateUser (ID, AppID, EnvID, product and
	// CreatedAt kept).
	UpdateSubscription(ctx context.Context, id string, fn func(s *Subscription) error) (Subscription, error)
	// DeleteSubscription returns ErrNotFound when absent.
	DeleteSubscription(ctx context.Context, id string) error

	// GatewayState reads, in one consistent snapshot, everything the gateway
	// routes by: every live publication (published or deprecated), consumer
	// org, app, credential and subscription of the account.
	GatewayState(ctx context.Context, accountID string) (GatewayState, error)
}

// GatewayState is what the gateway's routing snapshot is built from.
type GatewayState struct {
	Envs          []Environment // with their orgs' names resolved through Orgs
	Orgs          []Org
	Publications  []Publication // published or deprecated only
	Apps          []App
	Credentials   []Credential
	Subscriptions []Subscription
}

// Event is one gateway call, for analytics.
type Event struct {
	Seq            int64 // assigned by AppendEvents
	AccountID      string
	OrgID          string
	EnvID          string
	Time           time.Time
	RequestID      string
	API            string // name:version
	Operation      string // "GET /forecast/{city}"
	Status         int
	Latency        time.Duration
	BackendLatency time.Duration
	BytesIn        int64
	BytesOut       int64
	ClientID       string
	AppID          string
	ConsumerOrgID  string
	Product        string // name:version
	Plan           string
	RateLimited    bool
}

// EventQuery selects events of one catalog in Seq order; empty fields do not
// filter. Since is inclusive, Until exclusive; at most Limit (0: 100).
type EventQuery struct {
	EnvID     string
	Since     time.Time
	Until     time.Time
	API       string
	AppID     string
	Status    int // exact status; 0: any
	StatusMin int // with StatusMax, a range such as 500–599
	StatusMax int
	AfterSeq  int64
	Limit     int
}

// EventStore keeps gateway events.
type EventStore interface {
	// AppendEvents appends a batch in one transaction (Seq assigned in order).
	AppendEvents(ctx context.Context, batch []Event) error
	// ListEvents returns events matching q in Seq order.
	ListEvents(ctx context.Context, q EventQuery) ([]Event, error)
	// DeleteEventsBefore deletes events older than t; it reports how many.
	DeleteEventsBefore(ctx context.Context, t time.Time) (int64, error)
}

// MetaStore keeps a few named values about the deployment itself.
type MetaStore interface {
	// GetMeta returns ErrNotFound when the name is unset.
	GetMeta(ctx context.Context, name string) (string, error)
	// PutMetaIfAbsent sets name once; ErrAlreadyExists when it is set.
	PutMetaIfAbsent(ctx context.Context, name, value string) error
}

// Import is a batch of records created together by Importer.Import.
type Import struct {
	APIKeys       []APIKey
	Apps          []App
	Credentials   []Credential
	Subscriptions []Subscription
}

// Importer loads many records at once: bulk migrations and the benchmark's
// seeding, where one transaction per record would take hours.
type Importer interface {
	// Import creates every record of b in one transaction, logging one Change
	// per record as the single-record methods do. It checks no references
	// (owners, consumer orgs, apps must exist already or be in b) and no
	// business rule: callers import consistent records. ErrAlreadyExists for
	// a duplicate of any unique field; nothing is written then.
	Import(ctx context.Context, b Import) error
}

// Change kinds written to the change log.
const (
	ChangeAccount    = "account"
	ChangeUser       = "user"        // Key: the user's iam_id
	ChangeServiceID  = "serviceid"   // Key: the service ID's iam_id
	ChangePolicy     = "policy"      // Key: the policy subject's iam_id
	ChangeAPIKey     = "apikey"      // Key: the key id
	ChangeSigningKey = "signingkey"  // Key: the kid
	ChangeOrg        = "org"         // Key: the org id
	ChangeEnv        = "environment" // Key: the environment id
	ChangeAPI        = "api"         // Key: the draft API's id
	ChangeProduct    = "product"     // Key: the draft product's id
	ChangePublish    = "publication" // Key: the publication id
	ChangeConsumer   = "consumer"    // Key: the consumer org, app or subscription id, or the credential's client id
)

// Notifier is implemented by backends shared by several nodes that can wake
// change-log readers as soon as a change commits (PostgreSQL LISTEN/NOTIFY).
// Readers still poll as a safety net: a notification may be lost.
type Notifier interface {
	// Changed returns a channel that receives a value after changes commit on
	// any node, and after the listening connection was re-established (when
	// notifications may have been missed). Values are coalesced: one pending
	// value stands for any number of changes.
	Changed() <-chan struct{}
}

// Change is one entry of the change log.
type Change struct {
	Seq  int64 // strictly increasing
	Kind string
	Key  string
	Time time.Time
}

// ChangeLog is the feed nodes tail to invalidate caches. Every mutating method
// of the Store appends to it in the same transaction as the mutation.
type ChangeLog interface {
	// Changes returns up to limit changes with Seq > after, in Seq order.
	Changes(ctx context.Context, after int64, limit int) ([]Change, error)
	// LastChange returns the highest Seq, or 0 for an empty log.
	LastChange(ctx context.Context) (int64, error)
	// PruneChanges deletes changes older than before.
	PruneChanges(ctx context.Context, before time.Time) error
}
