package apim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"gatehouse/internal/errs"
	"gatehouse/internal/iam"
	"gatehouse/internal/store"
)

// Subscription states.
const (
	SubActive  = "active"
	SubPending = "pending"
)

// NewCredential is a client id with its secret, shown once.
type NewCredential struct {
	store.Credential
	Secret string
}

// SecretDigest is what the store keeps of a client secret: its SHA-256 (the
// secret has 256 bits of entropy; no slow hash is needed).
func SecretDigest(secret string) []byte {
	d := sha256.Sum256([]byte(secret))
	return d[:]
}

// newSecret returns 32 random bytes as 64 hex characters.
func newSecret(r io.Reader) (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// newCredential makes a client id (16 random bytes, hex) and secret for app.
func (s *Service) newCredential(app store.App, now time.Time) (NewCredential, error) {
	var id [16]byte
	if _, err := io.ReadFull(s.rand, id[:]); err != nil {
		return NewCredential{}, err
	}
	secret, err := newSecret(s.rand)
	if err != nil {
		return NewCredential{}, err
	}
	return NewCredential{
		Credential: store.Credential{
			ClientID: hex.EncodeToString(id[:]), AppID: app.ID, EnvID: app.EnvID, SecretDigest: SecretDigest(secret),
			SecretHint: secret[len(secret)-4:], CreatedAt: now, ModifiedAt: now,
		},
		Secret: secret,
	}, nil
}

// CreateConsumerOrg adds a consumer org to a catalog (Writer in the org).
func (s *Service) CreateConsumerOrg(ctx context.Context, p *iam.Principal, orgRef, envRef, name, title string) (store.ConsumerOrg, error) {
	o, env, err := s.catalog(ctx, p, orgRef, envRef, iam.Writer)
	if err != nil {
		return store.ConsumerOrg{}, err
	}
	if err := validateSlug("name", name); err != nil {
		return store.ConsumerOrg{}, err
	}
	if err := validateTitle(title); err != nil {
		return store.ConsumerOrg{}, err
	}
	if strings.TrimSpace(title) == "" {
		title = name
	}
	c := store.ConsumerOrg{
		ID: uuid.NewString(), AccountID: s.accountID, OrgID: o.ID, EnvID: env.ID, Name: name, Title: title,
		CreatedBy: p.IAMID(), CreatedAt: s.now(),
	}
	if err := s.store.CreateConsumerOrg(ctx, c); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return c, errs.E(errs.AlreadyExists, "Catalog %s already has a consumer org named %s.", env.Name, name)
		}
		return c, fmt.Errorf("create consumer org: %w", err)
	}
	return c, nil
}

// ConsumerOrg returns a consumer org of a catalog by id or name.
func (s *Service) ConsumerOrg(ctx context.Context, p *iam.Principal, orgRef, envRef, ref string) (store.ConsumerOrg, error) {
	_, env, err := s.catalog(ctx, p, orgRef, envRef, iam.Reader)
	if err != nil {
		return store.ConsumerOrg{}, err
	}
	return s.consumerOrgIn(ctx, env, ref)
}

func (s *Service) consumerOrgIn(ctx context.Context, env store.Environment, ref string) (store.ConsumerOrg, error) {
	c, err := s.store.GetConsumerOrg(ctx, env.ID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return c, errs.E(errs.NotFound, "Consumer org %s not found in catalog %s.", errs.Printable(ref), env.Name)
	}
	return c, err
}

// ListConsumerOrgs lists a catalog's consumer orgs by name.
func (s *Service) ListConsumerOrgs(ctx context.Context, p *iam.Principal, orgRef, envRef string, limit int, after string) ([]store.ConsumerOrg, string, error) {
	_, env, err := s.catalog(ctx, p, orgRef, envRef, iam.Reader)
	if err != nil {
		return nil, "", err
	}
	list, err := s.store.ListConsumerOrgs(ctx, env.ID, store.Page{After: after, Limit: limit + 1})
	if err != nil {
		return nil, "", err
	}
	return trim(list, limit, func(c store.ConsumerOrg) string { return c.Name })
}

// trim cuts a list fetched with limit+1 to limit and gives the next cursor.
func trim[T any](list []T, limit int, key func(T) string) ([]T, string, error) {
	if len(list) > limit {
		return list[:limit], key(list[limit-1]), nil
	}
	return list, "", nil
}

// DeleteConsumerOrg deletes a consumer org with its apps, credentials and
// subscriptions (Writer); their calls stop at once.
func (s *Service) DeleteConsumerOrg(ctx context.Context, p *iam.Principal, orgRef, envRef, ref string) (store.ConsumerOrg, error) {
	_, env, err := s.catalog(ctx, p, orgRef, envRef, iam.Writer)
	if err != nil {
		return store.ConsumerOrg{}, err
	}
	c, err := s.consumerOrgIn(ctx, env, ref)
	if err != nil {
		return c, err
	}
	if err := s.store.DeleteConsumerOrg(ctx, c.ID); err != nil {
		return c, notFoundAs(err, "Consumer org %s not found.", ref)
	}
	s.gatewayChanged(ctx)
	return c, nil
}

// notFoundAs turns the store's ErrNotFound into a not_found error.
func notFoundAs(err error, format, ref string) error {
	if errors.Is(err, store.ErrNotFound) {
		return errs.E(errs.NotFound, format, errs.Printable(ref))
	}
	return err
}

// CreatedApp is a new app with its first credential (the secret shown once).
type CreatedApp struct {
	App        store.App
	Credential NewCredential
}

// CreateApp creates an app in a consumer org with its first client id and
// secret (Writer).
func (s *Service) CreateApp(ctx context.Context, p *iam.Principal, orgRef, envRef, corgRef, name, description string) (CreatedApp, error) {
	_, env, err := s.catalog(ctx, p, orgRef, envRef, iam.Writer)
	if err != nil {
		return CreatedApp{}, err
	}
	c, err := s.consumerOrgIn(ctx, env, corgRef)
	if err != nil {
		return CreatedApp{}, err
	}
	if err := validateSlug("name", name); err != nil {
		return CreatedApp{}, err
	}
	if len(description) > 1024 || strings.ContainsFunc(description, func(r rune) bool { return r < ' ' && r != '\n' && r != '\t' || r == 0x7f }) {
		return CreatedApp{}, errs.Invalid("description", "description must be at most 1024 characters without control characters.")
	}
	now := s.now()
	app := store.App{
		ID: uuid.NewString(), AccountID: s.accountID, OrgID: c.OrgID, EnvID: env.ID, ConsumerOrgID: c.ID,
		Name: name, Description: description, CreatedBy: p.IAMID(), CreatedAt: now,
	}
	cred, err := s.newCredential(app, now)
	if err != nil {
		return CreatedApp{}, err
	}
	if err := s.store.CreateApp(ctx, app, cred.Credential); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return CreatedApp{}, errs.E(errs.AlreadyExists, "Consumer org %s already has an app named %s.", c.Name, name)
		}
		return CreatedApp{}, fmt.Errorf("create app: %w", err)
	}
	s.gatewayChanged(ctx)
	return CreatedApp{App: app, Credential: cred}, nil
}

// App returns an app of a consumer org by id or name.
func (s *Service) App(ctx context.Context, p *iam.Principal, orgRef, envRef, corgRef, ref string) (store.App, error) {
	_, env, err := s.catalog(ctx, p, orgRef, envRef, iam.Reader)
	if err != nil {
		return store.App{}, err
	}
	return s.appIn(ctx, env, corgRef, ref)
}

func (s *Service) appIn(ctx context.Context, env store.Environment, corgRef, ref string) (store.App, error) {
	c, err := s.consumerOrgIn(ctx, env, corgRef)
	if err != nil {
		return store.App{}, err
	}
	a, err := s.store.GetApp(ctx, c.ID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return a, errs.E(errs.NotFound, "App %s not found in consumer org %s.", errs.Printable(ref), c.Name)
	}
	return a, err
}

// ListApps lists the apps of a catalog, or of one consumer org when corgRef is set.
func (s *Service) ListApps(ctx context.Context, p *iam.Principal, orgRef, envRef, corgRef string, limit int, after string) ([]store.App, string, error) {
	_, env, err := s.catalog(ctx, p, orgRef, envRef, iam.Reader)
	if err != nil {
		return nil, "", err
	}
	q := store.ConsumerQuery{EnvID: env.ID, Page: store.Page{After: after, Limit: limit + 1}}
	if corgRef != "" {
		c, err := s.consumerOrgIn(ctx, env, corgRef)
		if err != nil {
			return nil, "", err
		}
		q.ConsumerOrgID = c.ID
	}
	list, err := s.store.ListApps(ctx, q)
	if err != nil {
		return nil, "", err
	}
	return trim(list, limit, func(a store.App) string { return a.ID })
}

// DeleteApp deletes an app with its credentials and subscriptions (Writer).
func (s *Service) DeleteApp(ctx context.Context, p *iam.Principal, orgRef, envRef, corgRef, ref string) (store.App, error) {
	_, env, err := s.catalog(ctx, p, orgRef, envRef, iam.Writer)
	if err != nil {
		return store.App{}, err
	}
	a, err := s.appIn(ctx, env, corgRef, ref)
	if err != nil {
		return a, err
	}
	if err := s.store.DeleteApp(ctx, a.ID); err != nil {
		return a, notFoundAs(err, "App %s not found.", ref)
	}
	s.gatewayChanged(ctx)
	return a, nil
}

// Credentials lists an app's credentials (client ids and secret hints).
func (s *Service) Credentials(ctx context.Context, p *iam.Principal, orgRef, envRef, corgRef, appRef string) ([]store.Credential, error) {
	a, err := s.App(ctx, p, orgRef, envRef, corgRef, appRef)
	if err != nil {
		return nil, err
	}
	return s.store.ListCredentials(ctx, a.ID)
}

// AddCredential adds a client id and secret to an app (Writer), so a new
// pair can be rolled out before the old one is deleted.
func (s *Service) AddCredential(ctx context.Context, p *iam.Principal, orgRef, envRef, corgRef, appRef string) (NewCredential, error) {
	_, a, err := s.appAt(ctx, p, orgRef, envRef, corgRef, appRef, iam.Writer)
	if err != nil {
		return NewCredential{}, err
	}
	cred, err := s.newCredential(a, s.now())
	if err != nil {
		return NewCredential{}, err
	}
	if err := s.store.CreateCredential(ctx, cred.Credential); err != nil {
		return NewCredential{}, notFoundAs(err, "App %s not found.", appRef)
	}
	s.gatewayChanged(ctx)
	return cred, nil
}

// appAt resolves an app for a caller with role in its org.
func (s *Service) appAt(ctx context.Context, p *iam.Principal, orgRef, envRef, corgRef, appRef string, role iam.Role) (store.Environment, store.App, error) {
	_, env, err := s.catalog(ctx, p, orgRef, envRef, role)
	if err != nil {
		return env, store.App{}, err
	}
	a, err := s.appIn(ctx, env, corgRef, appRef)
	return env, a, err
}

// credentialOf returns a credential of the app, or not_found.
func (s *Service) credentialOf(ctx context.Context, a store.App, clientID string) (store.Credential, error) {
	c, err := s.store.GetCredential(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.AppID != a.ID) {
		return c, errs.E(errs.NotFound, "Client id %s not found in app %s.", errs.Printable(clientID), a.Name)
	}
	return c, err
}

// DeleteCredential deletes one client id of an app (Writer); calls with it
// stop at once.
func (s *Service) DeleteCredential(ctx context.Context, p *iam.Principal, orgRef, envRef, corgRef, appRef, clientID string) error {
	_, a, err := s.appAt(ctx, p, orgRef, envRef, corgRef, appRef, iam.Writer)
	if err != nil {
		return err
	}
	if _, err := s.credentialOf(ctx, a, clientID); err != nil {
		return err
	}
	if err := s.store.DeleteCredential(ctx, clientID); err != nil {
		return notFoundAs(err, "Client id %s not found.", clientID)
	}
	s.gatewayChanged(ctx)
	return nil
}

// ResetSecret gives a client id a new secret (Writer); the old secret stops
// working at once. The new secret is shown once.
func (s *Service) ResetSecret(ctx context.Context, p *iam.Principal, orgRef, envRef, corgRef, appRef, clientID string) (NewCredential, error) {
	_, a, err := s.appAt(ctx, p, orgRef, envRef, corgRef, appRef, iam.Writer)
	if err != nil {
		return NewCredential{}, err
	}
	if _, err := s.credentialOf(ctx, a, clientID); err != nil {
		return NewCredential{}, err
	}
	secret, err := newSecret(s.rand)
	if err != nil {
		return NewCredential{}, err
	}
	c, err := s.store.UpdateCredential(ctx, clientID, func(c *store.Credential) error {
		c.SecretDigest, c.SecretHint, c.ModifiedAt = SecretDigest(secret), secret[len(secret)-4:], s.now()
		return nil
	})
	if err != nil {
		return NewCredential{}, notFoundAs(err, "Client id %s not found.", clientID)
	}
	s.gatewayChanged(ctx)
	return NewCredential{Credential: c, Secret: secret}, nil
}

// Subscribe subscribes an app to a plan of a product published in its
// catalog (Writer). Deprecated and retired products take no new
// subscriptions; a plan that needs approval starts pending.
func (s *Service) Subscribe(ctx context.Context, p *iam.Principal, orgRef, envRef, corgRef, appRef, productRef, plan string) (store.Subscription, error) {
	env, a, err := s.appAt(ctx, p, orgRef, envRef, corgRef, appRef, iam.Writer)
	if err != nil {
		return store.Subscription{}, err
	}
	pubRec, err := s.store.GetPublication(ctx, env.ID, productRef)
	if errors.Is(err, store.ErrNotFound) {
		return store.Subscription{}, errs.Invalid("product", "Product %s is not published in catalog %s.", errs.Printable(productRef), env.Name)
	}
	if err != nil {
		return store.Subscription{}, err
	}
	if pubRec.State != StatePublished {
		return store.Subscription{}, errs.E(errs.Conflict, "Product %s:%s is %s and takes no new subscriptions.", pubRec.ProductName, pubRec.ProductVersion, pubRec.State)
	}
	pub, err := DecodePublication(pubRec)
	if err != nil {
		return store.Subscription{}, err
	}
	if plan == "" {
		plan = "default"
	}
	pl, ok := pub.Snap.Product.Plans[plan]
	if !ok {
		return store.Subscription{}, errs.Invalid("plan", "Product %s has no plan %s.", pub.Snap.Product.ID(), errs.Printable(plan))
	}
	sub := store.Subscription{
		ID: uuid.NewString(), AccountID: s.accountID, OrgID: a.OrgID, EnvID: env.ID, AppID: a.ID,
		ConsumerOrgID: a.ConsumerOrgID, ProductName: pubRec.ProductName, ProductVersion: pubRec.ProductVersion,
		Plan: plan, Approved: !pl.Approval, State: SubActive, CreatedBy: p.IAMID(), CreatedAt: s.now(),
	}
	if pl.Approval {
		sub.State = SubPending
	} else {
		sub.ApprovedBy, sub.ApprovedAt = p.IAMID(), sub.CreatedAt
	}
	if err := s.store.CreateSubscription(ctx, sub); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return sub, errs.E(errs.AlreadyExists, "App %s is already subscribed to %s.", a.Name, pub.Snap.Product.ID())
		}
		return sub, notFoundAs(err, "App %s not found.", appRef)
	}
	s.gatewayChanged(ctx)
	return sub, nil
}

// subscriptionIn returns a subscription of the catalog by id.
func (s *Service) subscriptionIn(ctx context.Context, env store.Environment, id string) (store.Subscription, error) {
	sub, err := s.store.GetSubscription(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sub.EnvID != env.ID) {
		return sub, errs.E(errs.NotFound, "Subscription %s not found in catalog %s.", errs.Printable(id), env.Name)
	}
	return sub, err
}

// ListSubscriptions lists the subscriptions of a catalog, or of one app.
func (s *Service) ListSubscriptions(ctx context.Context, p *iam.Principal, orgRef, envRef, corgRef, appRef string, limit int, after string) ([]store.Subscription, string, error) {
	_, env, err := s.catalog(ctx, p, orgRef, envRef, iam.Reader)
	if err != nil {
		return nil, "", err
	}
	q := store.ConsumerQuery{EnvID: env.ID, Page: store.Page{After: after, Limit: limit + 1}}
	if appRef != "" {
		a, err := s.appIn(ctx, env, corgRef, appRef)
		if err != nil {
			return nil, "", err
		}
		q.AppID = a.ID
	}
	list, err := s.store.ListSubscriptions(ctx, q)
	if err != nil {
		return nil, "", err
	}
	return trim(list, limit, func(s store.Subscription) string { return s.ID })
}

// Unsubscribe deletes a subscription of an app (Writer).
func (s *Service) Unsubscribe(ctx context.Context, p *iam.Principal, orgRef, envRef, corgRef, appRef, id string) error {
	env, a, err := s.appAt(ctx, p, orgRef, envRef, corgRef, appRef, iam.Writer)
	if err != nil {
		return err
	}
	sub, err := s.subscriptionIn(ctx, env, id)
	if err == nil && sub.AppID != a.ID {
		err = errs.E(errs.NotFound, "Subscription %s not found in app %s.", errs.Printable(id), a.Name)
	}
	if err != nil {
		return err
	}
	if err := s.store.DeleteSubscription(ctx, id); err != nil {
		return notFoundAs(err, "Subscription %s not found.", id)
	}
	s.gatewayChanged(ctx)
	return nil
}

// Approve approves a pending subscription (Manager in the org).
func (s *Service) Approve(ctx context.Context, p *iam.Principal, orgRef, envRef, corgRef, appRef, id string) (store.Subscription, error) {
	env, a, err := s.appAt(ctx, p, orgRef, envRef, corgRef, appRef, iam.Manager)
	if err != nil {
		return store.Subscription{}, err
	}
	cur, err := s.subscriptionIn(ctx, env, id)
	if err == nil && cur.AppID != a.ID {
		err = errs.E(errs.NotFound, "Subscription %s not found in app %s.", errs.Printable(id), a.Name)
	}
	if err != nil {
		return cur, err
	}
	sub, err := s.store.UpdateSubscription(ctx, id, func(sub *store.Subscription) error {
		if sub.Approved {
			return errs.E(errs.Conflict, "Subscription %s is already approved.", sub.ID)
		}
		sub.Approved, sub.State, sub.ApprovedBy, sub.ApprovedAt = true, SubActive, p.IAMID(), s.now()
		return nil
	})
	if err != nil {
		return sub, notFoundAs(err, "Subscription %s not found.", id)
	}
	s.gatewayChanged(ctx)
	return sub, nil
}
