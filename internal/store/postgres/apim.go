package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/store"
)

const (
	docCols = `id, account_id, org_id, name, version, title, source, format, compiled, rev, created_by, created_at, modified_at`
	pubCols = `id, account_id, org_id, env_id, product_name, product_version, state, snapshot, rev, published_by,
	published_at, modified_at`
)

// docTable holds what differs between the draft kinds: the table and the
// change kind, and the statements built from the table's name.
type docTable struct {
	table, change               string
	insert, selectByID, byRef   string
	list, update, delete, byOrg string
}

func newDocTable(table, change string) docTable {
	return docTable{
		table:      table,
		change:     change,
		insert:     insertSQL(table, docCols),
		selectByID: `SELECT ` + docCols + ` FROM ` + table + ` WHERE id = $1`,
		// $5 is whether ref has the name:version form at all; an id that is
		// also another draft's name:version finds the draft with the id.
		byRef: `SELECT ` + docCols + ` FROM ` + table + ` WHERE org_id = $1 AND (id = $2 OR ($5 AND name = $3 AND version = $4))
			ORDER BY id = $2 DESC LIMIT 1`,
		list: `SELECT ` + docCols + ` FROM ` + table + ` WHERE org_id = $1 AND (name, version) > ($2, $3)
			ORDER BY name, version LIMIT $4`,
		update: `UPDATE ` + table + ` SET name = $1, version = $2, title = $3, source = $4, format = $5, compiled = $6,
			modified_at = $7, rev = rev + 1 WHERE id = $8 RETURNING ` + docCols,
		delete: `DELETE FROM ` + table + ` WHERE id = $1`,
		byOrg:  `DELETE FROM ` + table + ` WHERE org_id = $1 RETURNING id`,
	}
}

// docTables maps the kinds of the store contract to their tables; docKinds
// lists them in a fixed order, for the cascades.
var (
	docTables = map[string]docTable{
		"api":     newDocTable("apis", store.ChangeAPI),
		"product": newDocTable("products", store.ChangeProduct),
	}
	docKinds = []string{"api", "product"}
)

// docTableOf returns the table of a draft kind. An unknown kind is the
// caller's mistake, not a missing record, so the error is not a sentinel.
func docTableOf(op, kind string) (docTable, error) {
	t, ok := docTables[kind]
	if !ok {
		return docTable{}, fmt.Errorf("postgres: %s: unknown document kind %q (want \"api\" or \"product\")", op, kind)
	}
	return t, nil
}

// splitRef splits "name:version" at the first ':'; ok is false when there is
// none. Names are slugs and cannot contain ':', versions could.
func splitRef(ref string) (name, version string, ok bool) {
	return strings.Cut(ref, ":")
}

func scanDoc(sc scanner) (store.Document, error) {
	var d store.Document
	err := sc.Scan(&d.ID, &d.AccountID, &d.OrgID, &d.Name, &d.Version, &d.Title, &d.Source, &d.Format, &d.Compiled,
		&d.Rev, &d.CreatedBy, timeCol{&d.CreatedAt}, timeCol{&d.ModifiedAt})
	return d, err
}

func scanPublication(sc scanner) (store.Publication, error) {
	var p store.Publication
	err := sc.Scan(&p.ID, &p.AccountID, &p.OrgID, &p.EnvID, &p.ProductName, &p.ProductVersion, &p.State, &p.Snapshot,
		&p.Rev, &p.PublishedBy, timeCol{&p.PublishedAt}, timeCol{&p.ModifiedAt})
	return p, err
}

// CreateDocument creates a draft of the kind ("api" or "product"), logging a
// store.ChangeAPI or store.ChangeProduct keyed by its id. The two kinds are
// separate tables: an API and a product may share a name and version. Rev is
// stored as given. Errors: store.ErrAlreadyExists for a duplicate id or
// (org, name, version) within the kind; a plain error for an unknown kind.
// The org is not checked: drafts are created by the org's own service, which
// has just read it.
func (s *Store) CreateDocument(ctx context.Context, kind string, d store.Document) error {
	t, err := docTableOf("create document", kind)
	if err != nil {
		return err
	}
	return s.write(ctx, "create "+kind, func(tx *txn) error {
		if _, err := tx.Exec(ctx, t.insert, d.ID, d.AccountID, d.OrgID, d.Name, d.Version, d.Title, blob(d.Source),
			d.Format, blob(d.Compiled), d.Rev, d.CreatedBy, micros(d.CreatedAt), micros(d.ModifiedAt)); err != nil {
			return err
		}
		tx.logChange(t.change, d.ID)
		return nil
	})
}

// GetDocument finds a draft of the org by id or, failing that, by
// "name:version" (split at the first ':'). store.ErrNotFound when absent,
// also when the id is another org's draft or the other kind's.
func (s *Store) GetDocument(ctx context.Context, kind, orgID, ref string) (store.Document, error) {
	t, err := docTableOf("get document", kind)
	if err != nil {
		return store.Document{}, err
	}
	name, version, byName := splitRef(ref)
	d, err := scanDoc(s.pool.QueryRow(ctx, t.byRef, orgID, ref, name, version, byName))
	return d, s.wrap("get "+kind, err)
}

// ListDocuments lists the org's drafts of the kind ordered by name, then
// version, both in byte order (so "1.10.0" sorts before "1.2.0"). p.After is
// the "name:version" of the last draft seen; an After without ':' is a name
// with the empty version, so the listing resumes at that name's drafts.
func (s *Store) ListDocuments(ctx context.Context, kind, orgID string, p store.Page) ([]store.Document, error) {
	t, err := docTableOf("list documents", kind)
	if err != nil {
		return nil, err
	}
	name, version, _ := splitRef(p.After)
	ds, err := list(ctx, s.pool, scanDoc, t.list, orgID, name, version, pageLimit(p.Limit))
	return ds, s.wrap("list "+kind+"s", err)
}

// UpdateDocument applies fn to the draft of the kind with the given id and
// stores the result with Rev+1; the id, account, org, creator and creation
// time are kept whatever fn does. An error from fn is returned as is. Errors:
// store.ErrNotFound, store.ErrAlreadyExists when the new name:version is
// taken in the org.
func (s *Store) UpdateDocument(ctx context.Context, kind, id string, fn func(d *store.Document) error) (store.Document, error) {
	t, err := docTableOf("update document", kind)
	if err != nil {
		return store.Document{}, err
	}
	var out store.Document
	err = s.write(ctx, "update "+kind, func(tx *txn) error {
		d, err := scanDoc(tx.QueryRow(ctx, t.selectByID+` FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if err := fn(&d); err != nil {
			return fnError{err}
		}
		if out, err = scanDoc(tx.QueryRow(ctx, t.update, d.Name, d.Version, d.Title, blob(d.Source), d.Format,
			blob(d.Compiled), micros(d.ModifiedAt), id)); err != nil {
			return err
		}
		tx.logChange(t.change, id)
		return nil
	})
	return out, err
}

// DeleteDocument deletes the draft of the kind with the given id (ids only,
// not name:version); store.ErrNotFound when absent. A non-nil check sees the
// stored draft, locked against concurrent changes; an error from it is
// returned as is and nothing is deleted. Publications are snapshots and stay.
func (s *Store) DeleteDocument(ctx context.Context, kind, id string, check func(store.Document) error) error {
	t, err := docTableOf("delete document", kind)
	if err != nil {
		return err
	}
	return s.write(ctx, "delete "+kind, func(tx *txn) error {
		if check != nil {
			d, err := scanDoc(tx.QueryRow(ctx, t.selectByID+` FOR UPDATE`, id))
			if err != nil {
				return err
			}
			if err := check(d); err != nil {
				return fnError{err}
			}
		}
		if err := deleteOne(ctx, tx, t.delete, id); err != nil {
			return err
		}
		tx.logChange(t.change, id)
		return nil
	})
}

var (
	insertPublication  = insertSQL("publications", pubCols)
	selectPublication  = `SELECT ` + pubCols + ` FROM publications WHERE id = $1`
	selectPubByProduct = `SELECT ` + pubCols + ` FROM publications WHERE env_id = $1 AND product_name = $2 AND product_version = $3`
	selectPubByRef     = `SELECT ` + pubCols + ` FROM publications WHERE env_id = $1 AND (id = $2 OR
		($5 AND product_name = $3 AND product_version = $4)) ORDER BY id = $2 DESC LIMIT 1`
)

// PutPublication publishes (envID, name, version) in one transaction: it
// reads the existing publication, calls fn with it (nil when there is none)
// and stores what fn returns, logging a store.ChangePublish keyed by the
// publication's id.
//
// A new publication is stored under the arguments' environment, name and
// version and the environment's account and org, whatever fn put in those
// fields; the rest, including ID and Rev, is stored as fn returns it. An
// existing one keeps its id, account, org, environment and product and gets
// fn's State, Snapshot, PublishedBy, PublishedAt and ModifiedAt with Rev+1.
// The stored publication is returned.
//
// The environment's row is locked (FOR NO KEY UPDATE) for the transaction:
// publishes to one catalog from several nodes follow one another, so the
// second sees the first's publication rather than failing to insert its
// own, and the catalog cannot be deleted meanwhile.
//
// Errors: an error from fn as is; store.ErrNotFound when the environment does
// not exist (fn is not called; no publication can outlive its catalog);
// store.ErrAlreadyExists when a new publication's id is taken.
func (s *Store) PutPublication(ctx context.Context, envID, name, version string, fn func(old *store.Publication) (store.Publication, error)) (store.Publication, error) {
	var out store.Publication
	err := s.write(ctx, "put publication", func(t *txn) error {
		env, err := scanEnv(t.QueryRow(ctx, `SELECT `+envCols+` FROM environments WHERE id = $1 FOR NO KEY UPDATE`, envID))
		if err != nil {
			return err
		}
		cur, err := scanPublication(t.QueryRow(ctx, selectPubByProduct+` FOR UPDATE`, envID, name, version))
		found := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var old *store.Publication
		if found {
			c := cur // fn may scribble on it; cur stays as stored
			old = &c
		}
		p, err := fn(old)
		if err != nil {
			return fnError{err}
		}
		id := cur.ID
		if found {
			out, err = scanPublication(t.QueryRow(ctx, `UPDATE publications SET state = $1, snapshot = $2, published_by = $3,
				published_at = $4, modified_at = $5, rev = rev + 1 WHERE id = $6 RETURNING `+pubCols,
				p.State, blob(p.Snapshot), p.PublishedBy, micros(p.PublishedAt), micros(p.ModifiedAt), id))
		} else {
			id = p.ID
			out, err = scanPublication(t.QueryRow(ctx, insertPublication+` RETURNING `+pubCols, p.ID, env.AccountID, env.OrgID,
				envID, name, version, p.State, blob(p.Snapshot), p.Rev, p.PublishedBy, micros(p.PublishedAt), micros(p.ModifiedAt)))
		}
		if err != nil {
			return err
		}
		t.logChange(store.ChangePublish, id)
		return nil
	})
	return out, err
}

// GetPublication finds a publication of the catalog by id or, failing that,
// by "name:version" of its product; store.ErrNotFound when absent, also when
// the id is another catalog's.
func (s *Store) GetPublication(ctx context.Context, envID, ref string) (store.Publication, error) {
	name, version, byName := splitRef(ref)
	p, err := scanPublication(s.pool.QueryRow(ctx, selectPubByRef, envID, ref, name, version, byName))
	return p, s.wrap("get publication", err)
}

// ListPublications lists the publications matching q ordered by product name,
// then version (byte order), then environment id, with no limit: a catalog's
// publications are few. States lists the states to include; empty, all.
func (s *Store) ListPublications(ctx context.Context, q store.PublicationQuery) ([]store.Publication, error) {
	var a args
	var conds []string
	for _, f := range []struct{ col, val string }{{"account_id", q.AccountID}, {"org_id", q.OrgID}, {"env_id", q.EnvID}} {
		if f.val != "" {
			conds = append(conds, f.col+" = "+a.add(f.val))
		}
	}
	if len(q.States) > 0 {
		conds = append(conds, "state = ANY("+a.add(q.States)+"::text[])")
	}
	ps, err := list(ctx, s.pool, scanPublication, `SELECT `+pubCols+` FROM publications`+where(conds)+
		` ORDER BY product_name, product_version, env_id`, a...)
	return ps, s.wrap("list publications", err)
}

// UpdatePublication applies fn to the publication with the given id and
// stores only its State and ModifiedAt, with Rev+1; whatever else fn changes
// is not stored (republishing is PutPublication's). An error from fn is
// returned as is; store.ErrNotFound when absent.
func (s *Store) UpdatePublication(ctx context.Context, id string, fn func(p *store.Publication) error) (store.Publication, error) {
	var out store.Publication
	err := s.write(ctx, "update publication", func(t *txn) error {
		p, err := scanPublication(t.QueryRow(ctx, selectPublication+` FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if err := fn(&p); err != nil {
			return fnError{err}
		}
		if out, err = scanPublication(t.QueryRow(ctx, `UPDATE publications SET state = $1, modified_at = $2, rev = rev + 1
			WHERE id = $3 RETURNING `+pubCols, p.State, micros(p.ModifiedAt), id)); err != nil {
			return err
		}
		t.logChange(store.ChangePublish, id)
		return nil
	})
	return out, err
}

// DeletePublication deletes the publication with the given id;
// store.ErrNotFound when absent. Subscriptions to its product stay: they
// name the product, not the publication, and the service decides about them.
func (s *Store) DeletePublication(ctx context.Context, id string) error {
	return s.write(ctx, "delete publication", func(t *txn) error {
		if err := deleteOne(ctx, t, `DELETE FROM publications WHERE id = $1`, id); err != nil {
			return err
		}
		t.logChange(store.ChangePublish, id)
		return nil
	})
}
