package apim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"gatehouse/internal/apidef"
	"gatehouse/internal/errs"
	"gatehouse/internal/iam"
	"gatehouse/internal/store"
)

// Publication states (SPEC §7).
const (
	StatePublished  = "published"
	StateDeprecated = "deprecated"
	StateRetired    = "retired"
)

// Snapshot is what a publication freezes: the product and its APIs as they
// were when published. Later edits to the drafts change nothing live.
type Snapshot struct {
	Product apidef.Product        `json:"product"`
	APIs    map[string]apidef.API `json:"apis"` // keyed like Product.APIs
}

// Published is a publication with its snapshot decoded.
type Published struct {
	store.Publication
	Snap Snapshot
}

// DecodePublication decodes a publication's snapshot.
func DecodePublication(p store.Publication) (Published, error) {
	out := Published{Publication: p}
	if err := json.Unmarshal(p.Snapshot, &out.Snap); err != nil {
		return out, fmt.Errorf("decode publication %s: %w", p.ID, err)
	}
	return out, nil
}

// Catalog resolves an org and one of its catalogs the caller can read.
func (s *Service) Catalog(ctx context.Context, p *iam.Principal, orgRef, envRef string) (store.Org, store.Environment, error) {
	return s.catalog(ctx, p, orgRef, envRef, iam.Reader)
}

// catalog resolves an org and one of its catalogs for a caller with role in the org.
func (s *Service) catalog(ctx context.Context, p *iam.Principal, orgRef, envRef string, role iam.Role) (store.Org, store.Environment, error) {
	o, err := s.orgWithRole(ctx, p, orgRef, role)
	if err != nil {
		return o, store.Environment{}, err
	}
	e, err := s.store.GetEnvironment(ctx, o.ID, envRef)
	if errors.Is(err, store.ErrNotFound) {
		return o, e, errs.E(errs.NotFound, "Catalog %s not found in org %s.", errs.Printable(envRef), o.Name)
	}
	return o, e, err
}

// Publish publishes a draft product with its APIs to a catalog (Manager in
// the org): a snapshot is taken, so later edits to the drafts change nothing
// live until republished. Publishing the same name:version again replaces
// the snapshot and makes it published again. Two different APIs may not
// share a base path in one catalog.
func (s *Service) Publish(ctx context.Context, p *iam.Principal, orgRef, envRef, productRef string) (Published, error) {
	o, env, err := s.catalog(ctx, p, orgRef, envRef, iam.Manager)
	if err != nil {
		return Published{}, err
	}
	prod, err := s.getDraft(ctx, KindProduct, o.ID, productRef)
	if errors.Is(err, store.ErrNotFound) {
		return Published{}, errs.Invalid("product", "Product %s not found in org %s.", errs.Printable(productRef), o.Name)
	}
	if err != nil {
		return Published{}, err
	}
	snap := Snapshot{Product: *prod.Product, APIs: map[string]apidef.API{}}
	for key, ref := range prod.Product.APIs {
		api, err := s.getDraft(ctx, KindAPI, o.ID, ref)
		if errors.Is(err, store.ErrNotFound) {
			return Published{}, errs.E(errs.Conflict, "Product %s needs API %s, which no longer exists in org %s.", prod.Product.ID(), ref, o.Name)
		}
		if err != nil {
			return Published{}, err
		}
		snap.APIs[key] = *api.API
	}
	if err := s.checkBasePaths(ctx, env, snap); err != nil {
		return Published{}, err
	}
	raw, err := json.Marshal(snap)
	if err != nil {
		return Published{}, err
	}
	now := s.now()
	pub, err := s.store.PutPublication(ctx, env.ID, snap.Product.Name, snap.Product.Version, func(old *store.Publication) (store.Publication, error) {
		n := store.Publication{
			ID: uuid.NewString(), AccountID: s.accountID, OrgID: o.ID, EnvID: env.ID,
			ProductName: snap.Product.Name, ProductVersion: snap.Product.Version,
			State: StatePublished, Snapshot: raw, Rev: 1, PublishedBy: p.IAMID(), PublishedAt: now, ModifiedAt: now,
		}
		if old != nil {
			n.ID, n.Rev = old.ID, old.Rev
		}
		return n, nil
	})
	if err != nil {
		return Published{}, fmt.Errorf("publish: %w", err)
	}
	s.gatewayChanged(ctx)
	return Published{Publication: pub, Snap: snap}, nil
}

// checkBasePaths refuses a snapshot with an API whose base path another live
// API (a different name:version) of the catalog already routes.
func (s *Service) checkBasePaths(ctx context.Context, env store.Environment, snap Snapshot) error {
	live, err := s.store.ListPublications(ctx, store.PublicationQuery{EnvID: env.ID, States: []string{StatePublished, StateDeprecated}})
	if err != nil {
		return err
	}
	routed := map[string]string{} // base path → API id
	for _, pub := range live {
		if pub.ProductName == snap.Product.Name && pub.ProductVersion == snap.Product.Version {
			continue // being replaced
		}
		d, err := DecodePublication(pub)
		if err != nil {
			return err
		}
		for _, a := range d.Snap.APIs {
			routed[a.BasePath] = a.ID()
		}
	}
	for _, a := range snap.APIs {
		if other, ok := routed[a.BasePath]; ok && other != a.ID() {
			return errs.E(errs.Conflict, "API %s would route base path %q in catalog %s, which API %s already routes.", a.ID(), a.BasePath, env.Name, other)
		}
		routed[a.BasePath] = a.ID()
	}
	return nil
}

// Publications lists a catalog's publications, optionally in some states.
func (s *Service) Publications(ctx context.Context, p *iam.Principal, orgRef, envRef string, states []string) ([]Published, error) {
	_, env, err := s.catalog(ctx, p, orgRef, envRef, iam.Reader)
	if err != nil {
		return nil, err
	}
	pubs, err := s.store.ListPublications(ctx, store.PublicationQuery{EnvID: env.ID, States: states})
	if err != nil {
		return nil, err
	}
	out := make([]Published, len(pubs))
	for i, pub := range pubs {
		if out[i], err = DecodePublication(pub); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Publication returns one publication of a catalog by id or name:version.
func (s *Service) Publication(ctx context.Context, p *iam.Principal, orgRef, envRef, ref string) (Published, error) {
	o, env, err := s.catalog(ctx, p, orgRef, envRef, iam.Reader)
	if err != nil {
		return Published{}, err
	}
	pub, err := s.store.GetPublication(ctx, env.ID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return Published{}, errs.E(errs.NotFound, "Product %s is not published in catalog %s of org %s.", errs.Printable(ref), env.Name, o.Name)
	}
	if err != nil {
		return Published{}, err
	}
	return DecodePublication(pub)
}

// SetState changes a publication's lifecycle state (Manager): published ⇄
// deprecated (existing subscriptions keep working; no new ones), and either
// → retired (the gateway stops serving it). A retired product comes back only
// by publishing it again.
func (s *Service) SetState(ctx context.Context, p *iam.Principal, orgRef, envRef, ref, state string) (Published, error) {
	switch state {
	case StatePublished, StateDeprecated, StateRetired:
	default:
		return Published{}, errs.Invalid("state", "state must be published, deprecated or retired.")
	}
	o, env, err := s.catalog(ctx, p, orgRef, envRef, iam.Manager)
	if err != nil {
		return Published{}, err
	}
	cur, err := s.store.GetPublication(ctx, env.ID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return Published{}, errs.E(errs.NotFound, "Product %s is not published in catalog %s of org %s.", errs.Printable(ref), env.Name, o.Name)
	}
	if err != nil {
		return Published{}, err
	}
	pub, err := s.store.UpdatePublication(ctx, cur.ID, func(pub *store.Publication) error {
		if pub.State == StateRetired && state != StateRetired {
			return errs.E(errs.Conflict, "Product %s:%s is retired; publish it again instead.", pub.ProductName, pub.ProductVersion)
		}
		pub.State, pub.ModifiedAt = state, s.now()
		return nil
	})
	if err != nil {
		return Published{}, err
	}
	s.gatewayChanged(ctx)
	return DecodePublication(pub)
}
