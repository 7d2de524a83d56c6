package postgres

import (
	"context"
	"fmt"
	"slices"

	"gatehouse/internal/store"
)

const (
	orgCols = `id, account_id, name, title, version, created_by, created_at, modified_at`
	envCols = `id, account_id, org_id, name, title, created_by, created_at, modified_at`
)

var (
	insertOrg = insertSQL("orgs", orgCols)
	insertEnv = insertSQL("environments", envCols)
	selectOrg = `SELECT ` + orgCols + ` FROM orgs WHERE id = $1`
	// An id that is also another org's name finds the org with that id.
	selectOrgByIDOrName = `SELECT ` + orgCols + ` FROM orgs WHERE account_id = $1 AND (id = $2 OR name = $2)
		ORDER BY id = $2 DESC LIMIT 1`
	selectEnvByIDOrName = `SELECT ` + envCols + ` FROM environments WHERE org_id = $1 AND (id = $2 OR name = $2)
		ORDER BY id = $2 DESC LIMIT 1`
)

func scanOrg(sc scanner) (store.Org, error) {
	var o store.Org
	err := sc.Scan(&o.ID, &o.AccountID, &o.Name, &o.Title, &o.Version, &o.CreatedBy,
		timeCol{&o.CreatedAt}, timeCol{&o.ModifiedAt})
	return o, err
}

func scanEnv(sc scanner) (store.Environment, error) {
	var e store.Environment
	err := sc.Scan(&e.ID, &e.AccountID, &e.OrgID, &e.Name, &e.Title, &e.CreatedBy,
		timeCol{&e.CreatedAt}, timeCol{&e.ModifiedAt})
	return e, err
}

// CreateOrg creates o and envs in one transaction, or nothing. Each
// environment must carry o's id and account. Errors: store.ErrAlreadyExists
// for a duplicate org id or name within the account, a duplicate environment
// id, or two environments of the same name.
func (s *Store) CreateOrg(ctx context.Context, o store.Org, envs []store.Environment) error {
	for _, e := range envs {
		if e.OrgID != o.ID || e.AccountID != o.AccountID {
			return fmt.Errorf("postgres: create org: environment %q belongs to org %q of account %q, not to the org created",
				e.Name, e.OrgID, e.AccountID)
		}
	}
	return s.write(ctx, "create org", func(t *txn) error {
		if _, err := t.Exec(ctx, insertOrg, o.ID, o.AccountID, o.Name, o.Title, o.Version, o.CreatedBy,
			micros(o.CreatedAt), micros(o.ModifiedAt)); err != nil {
			return err
		}
		t.logChange(store.ChangeOrg, o.ID)
		for _, e := range envs {
			if err := createEnv(ctx, t, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// GetOrg finds an org of the account by id or, failing that, by name;
// store.ErrNotFound when absent (also when the id is another account's org).
func (s *Store) GetOrg(ctx context.Context, accountID, idOrName string) (store.Org, error) {
	o, err := scanOrg(s.pool.QueryRow(ctx, selectOrgByIDOrName, accountID, idOrName))
	return o, s.wrap("get org", err)
}

// ListOrgs lists the account's orgs ordered by name; p.After is a name.
func (s *Store) ListOrgs(ctx context.Context, accountID string, p store.Page) ([]store.Org, error) {
	orgs, err := list(ctx, s.pool, scanOrg, `SELECT `+orgCols+` FROM orgs WHERE account_id = $1 AND name > $2
		ORDER BY name LIMIT $3`, accountID, p.After, pageLimit(p.Limit))
	return orgs, s.wrap("list orgs", err)
}

// UpdateOrg applies fn to the org with the given id and stores the result
// with Version+1; the id, account, creator and creation time are kept
// whatever fn does. An error from fn is returned as is. Errors:
// store.ErrNotFound, store.ErrAlreadyExists when the new name is taken.
func (s *Store) UpdateOrg(ctx context.Context, id string, fn func(o *store.Org) error) (store.Org, error) {
	var out store.Org
	err := s.write(ctx, "update org", func(t *txn) error {
		o, err := scanOrg(t.QueryRow(ctx, selectOrg+` FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if err := fn(&o); err != nil {
			return fnError{err}
		}
		if out, err = scanOrg(t.QueryRow(ctx, `UPDATE orgs SET name = $1, title = $2, modified_at = $3,
			version = version + 1 WHERE id = $4 RETURNING `+orgCols,
			o.Name, o.Title, micros(o.ModifiedAt), id)); err != nil {
			return err
		}
		t.logChange(store.ChangeOrg, id)
		return nil
	})
	return out, err
}

// DeleteOrg deletes the org with the given id, its draft APIs and products,
// its environments with everything in them (as DeleteEnvironment) and the
// policies scoped to it, logging a change for the org, for each draft, for
// each environment and its contents, and for each subject that lost a
// policy. store.ErrNotFound when absent; an error from check (which sees the
// org locked against concurrent changes) is returned as is and nothing is
// deleted.
//
// Parents go before their children: a create under one of them on another
// node either waits for this delete and then finds its parent gone, or
// commits first and has its record deleted here.
func (s *Store) DeleteOrg(ctx context.Context, id string, check func(store.Org) error) error {
	return s.write(ctx, "delete org", func(t *txn) error {
		o, err := scanOrg(t.QueryRow(ctx, selectOrg+` FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(o); err != nil {
				return fnError{err}
			}
		}
		if _, err := t.Exec(ctx, `DELETE FROM orgs WHERE id = $1`, o.ID); err != nil {
			return err
		}
		t.logChange(store.ChangeOrg, o.ID)
		envs, err := deleteReturning(ctx, t, `DELETE FROM environments WHERE org_id = $1 RETURNING id`, o.ID)
		if err != nil {
			return err
		}
		t.logChange(store.ChangeEnv, envs...)
		for _, env := range envs {
			if err := deleteCatalogContents(ctx, t, env); err != nil {
				return err
			}
		}
		for _, kind := range docKinds {
			dt := docTables[kind]
			if err := deleteLogged(ctx, t, o.ID, cascade{dt.byOrg, dt.change}); err != nil {
				return err
			}
		}
		subjects, err := deleteReturning(ctx, t, `DELETE FROM policies WHERE account_id = $1 AND org = $2 RETURNING subject`,
			o.AccountID, o.ID)
		if err != nil {
			return err
		}
		// One policy per subject and scope, so subjects are distinct already;
		// compacting keeps that true should the constraint ever loosen.
		slices.Sort(subjects)
		t.logChange(store.ChangePolicy, slices.Compact(subjects)...)
		return nil
	})
}

// CreateEnvironment creates e in its org. Errors: store.ErrNotFound when the
// org e.OrgID does not exist in the account e.AccountID; store.ErrAlreadyExists
// for a duplicate id or a name taken within the org.
func (s *Store) CreateEnvironment(ctx context.Context, e store.Environment) error {
	return s.write(ctx, "create environment", func(t *txn) error {
		// FOR KEY SHARE: the org cannot be deleted (on any node) between this
		// check and the commit; a DeleteOrg already under way is waited for.
		if err := exists(ctx, t, `SELECT 1 FROM orgs WHERE id = $1 AND account_id = $2 FOR KEY SHARE`, e.OrgID, e.AccountID); err != nil {
			return err
		}
		return createEnv(ctx, t, e)
	})
}

func createEnv(ctx context.Context, t *txn, e store.Environment) error {
	if _, err := t.Exec(ctx, insertEnv, e.ID, e.AccountID, e.OrgID, e.Name, e.Title, e.CreatedBy,
		micros(e.CreatedAt), micros(e.ModifiedAt)); err != nil {
		return err
	}
	t.logChange(store.ChangeEnv, e.ID)
	return nil
}

// GetEnvironment finds an environment of the org by id or, failing that, by
// name; store.ErrNotFound when absent.
func (s *Store) GetEnvironment(ctx context.Context, orgID, idOrName string) (store.Environment, error) {
	e, err := scanEnv(s.pool.QueryRow(ctx, selectEnvByIDOrName, orgID, idOrName))
	return e, s.wrap("get environment", err)
}

// ListEnvironments lists the org's environments ordered by name; none (and no
// error) for an org that does not exist.
func (s *Store) ListEnvironments(ctx context.Context, orgID string) ([]store.Environment, error) {
	es, err := list(ctx, s.pool, scanEnv, `SELECT `+envCols+` FROM environments WHERE org_id = $1 ORDER BY name`, orgID)
	return es, s.wrap("list environments", err)
}

// DeleteEnvironment deletes the org's environment with the given id and
// everything in the catalog: its publications, consumer orgs, apps,
// credentials and subscriptions, logging a change for each record.
// store.ErrNotFound when absent. The catalog's gateway events are left to
// retention (DeleteEventsBefore).
func (s *Store) DeleteEnvironment(ctx context.Context, orgID, id string) error {
	return s.write(ctx, "delete environment", func(t *txn) error {
		if err := deleteOne(ctx, t, `DELETE FROM environments WHERE org_id = $1 AND id = $2`, orgID, id); err != nil {
			return err
		}
		t.logChange(store.ChangeEnv, id)
		return deleteCatalogContents(ctx, t, id)
	})
}
