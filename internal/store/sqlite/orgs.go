package sqlite

import (
	"context"
	"database/sql"
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
	selectOrg = `SELECT ` + orgCols + ` FROM orgs WHERE id = ?`
	// An id that is also another org's name finds the org with that id.
	selectOrgByIDOrName = `SELECT ` + orgCols + ` FROM orgs WHERE account_id = ?1 AND (id = ?2 OR name = ?2)
		ORDER BY id = ?2 DESC LIMIT 1`
	selectEnvByIDOrName = `SELECT ` + envCols + ` FROM environments WHERE org_id = ?1 AND (id = ?2 OR name = ?2)
		ORDER BY id = ?2 DESC LIMIT 1`
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
			return fmt.Errorf("sqlite: create org: environment %q belongs to org %q of account %q, not to the org created",
				e.Name, e.OrgID, e.AccountID)
		}
	}
	return s.write(ctx, "create org", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, insertOrg, o.ID, o.AccountID, o.Name, o.Title, o.Version, o.CreatedBy,
			micros(o.CreatedAt), micros(o.ModifiedAt)); err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, store.ChangeOrg, o.ID); err != nil {
			return err
		}
		for _, e := range envs {
			if err := s.createEnv(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// GetOrg finds an org of the account by id or, failing that, by name;
// store.ErrNotFound when absent (also when the id is another account's org).
func (s *Store) GetOrg(ctx context.Context, accountID, idOrName string) (store.Org, error) {
	o, err := scanOrg(s.row(ctx, selectOrgByIDOrName, accountID, idOrName))
	return o, s.wrap("get org", err)
}

// ListOrgs lists the account's orgs ordered by name; p.After is a name.
func (s *Store) ListOrgs(ctx context.Context, accountID string, p store.Page) ([]store.Org, error) {
	orgs, err := list(ctx, s, scanOrg, `SELECT `+orgCols+` FROM orgs WHERE account_id = ? AND name > ? ORDER BY name LIMIT ?`,
		accountID, p.After, pageLimit(p.Limit))
	return orgs, s.wrap("list orgs", err)
}

// UpdateOrg applies fn to the org with the given id and stores the result
// with Version+1; the id, account, creator and creation time are kept
// whatever fn does. An error from fn is returned as is. Errors:
// store.ErrNotFound, store.ErrAlreadyExists when the new name is taken.
func (s *Store) UpdateOrg(ctx context.Context, id string, fn func(o *store.Org) error) (store.Org, error) {
	var out store.Org
	err := s.write(ctx, "update org", func(tx *sql.Tx) error {
		o, err := scanOrg(tx.QueryRowContext(ctx, selectOrg, id))
		if err != nil {
			return err
		}
		if err := fn(&o); err != nil {
			return fnError{err}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE orgs SET name = ?, title = ?, modified_at = ?,
			version = version + 1 WHERE id = ?`,
			o.Name, o.Title, micros(o.ModifiedAt), id); err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, store.ChangeOrg, id); err != nil {
			return err
		}
		out, err = scanOrg(tx.QueryRowContext(ctx, selectOrg, id))
		return err
	})
	return out, err
}

// DeleteOrg deletes the org with the given id, its draft APIs and products,
// its environments with everything in them (as DeleteEnvironment) and the
// policies scoped to it, logging a change for the org, for each draft, for
// each environment and its contents, and for each subject that lost a
// policy. store.ErrNotFound when absent; an error from check is returned as
// is and nothing is deleted.
func (s *Store) DeleteOrg(ctx context.Context, id string, check func(store.Org) error) error {
	return s.write(ctx, "delete org", func(tx *sql.Tx) error {
		o, err := scanOrg(tx.QueryRowContext(ctx, selectOrg, id))
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(o); err != nil {
				return fnError{err}
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM orgs WHERE id = ?`, o.ID); err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, store.ChangeOrg, o.ID); err != nil {
			return err
		}
		envs, err := deleteReturning(ctx, tx, `DELETE FROM environments WHERE org_id = ? RETURNING id`, o.ID)
		if err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, store.ChangeEnv, envs...); err != nil {
			return err
		}
		for _, env := range envs {
			if err := s.deleteCatalogContents(ctx, tx, env); err != nil {
				return err
			}
		}
		for _, t := range docTables {
			if err := s.deleteLogged(ctx, tx, o.ID, cascade{t.byOrg, t.change}); err != nil {
				return err
			}
		}
		subjects, err := deleteReturning(ctx, tx, `DELETE FROM policies WHERE account_id = ? AND org = ? RETURNING subject`,
			o.AccountID, o.ID)
		if err != nil {
			return err
		}
		// One policy per subject and scope, so subjects are distinct already;
		// compacting keeps that true should the constraint ever loosen.
		slices.Sort(subjects)
		return s.logChange(ctx, tx, store.ChangePolicy, slices.Compact(subjects)...)
	})
}

// deleteReturning runs a DELETE … RETURNING of one text column and collects
// the values.
func deleteReturning(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(sc scanner) (v string, err error) { return v, sc.Scan(&v) })
}

// CreateEnvironment creates e in its org. Errors: store.ErrNotFound when the
// org e.OrgID does not exist in the account e.AccountID; store.ErrAlreadyExists
// for a duplicate id or a name taken within the org.
func (s *Store) CreateEnvironment(ctx context.Context, e store.Environment) error {
	return s.write(ctx, "create environment", func(tx *sql.Tx) error {
		// The write transaction holds the lock, so the org cannot be deleted
		// between this check and the insert.
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM orgs WHERE id = ? AND account_id = ?`, e.OrgID, e.AccountID).Scan(&one); err != nil {
			return err
		}
		return s.createEnv(ctx, tx, e)
	})
}

func (s *Store) createEnv(ctx context.Context, tx *sql.Tx, e store.Environment) error {
	if _, err := tx.ExecContext(ctx, insertEnv, e.ID, e.AccountID, e.OrgID, e.Name, e.Title, e.CreatedBy,
		micros(e.CreatedAt), micros(e.ModifiedAt)); err != nil {
		return err
	}
	return s.logChange(ctx, tx, store.ChangeEnv, e.ID)
}

// GetEnvironment finds an environment of the org by id or, failing that, by
// name; store.ErrNotFound when absent.
func (s *Store) GetEnvironment(ctx context.Context, orgID, idOrName string) (store.Environment, error) {
	e, err := scanEnv(s.row(ctx, selectEnvByIDOrName, orgID, idOrName))
	return e, s.wrap("get environment", err)
}

// ListEnvironments lists the org's environments ordered by name; none (and no
// error) for an org that does not exist.
func (s *Store) ListEnvironments(ctx context.Context, orgID string) ([]store.Environment, error) {
	es, err := list(ctx, s, scanEnv, `SELECT `+envCols+` FROM environments WHERE org_id = ? ORDER BY name`, orgID)
	return es, s.wrap("list environments", err)
}

// DeleteEnvironment deletes the org's environment with the given id and
// everything in the catalog: its publications, consumer orgs, apps,
// credentials and subscriptions, logging a change for each record.
// store.ErrNotFound when absent. The catalog's gateway events are left to
// retention (DeleteEventsBefore).
func (s *Store) DeleteEnvironment(ctx context.Context, orgID, id string) error {
	return s.write(ctx, "delete environment", func(tx *sql.Tx) error {
		if err := deleteOne(ctx, tx, `DELETE FROM environments WHERE org_id = ? AND id = ?`, orgID, id); err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, store.ChangeEnv, id); err != nil {
			return err
		}
		return s.deleteCatalogContents(ctx, tx, id)
	})
}
