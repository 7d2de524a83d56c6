package sqlite

import (
	"context"
	"database/sql"

	"gatehouse/internal/store"
)

const serviceIDCols = `id, iam_id, account_id, name, description, locked, version, created_by, created_at, modified_at`

var (
	insertServiceID = insertSQL("service_ids", serviceIDCols)
	selectServiceID = `SELECT ` + serviceIDCols + ` FROM service_ids WHERE id = ?1 OR iam_id = ?1`
)

func scanServiceID(sc scanner) (store.ServiceID, error) {
	var v store.ServiceID
	err := sc.Scan(&v.ID, &v.IAMID, &v.AccountID, &v.Name, &v.Description, &v.Locked, &v.Version,
		&v.CreatedBy, timeCol{&v.CreatedAt}, timeCol{&v.ModifiedAt})
	return v, err
}

// CreateServiceID creates v and, when firstKey is not nil, that key in the same
// transaction. store.ErrAlreadyExists for a duplicate id or iam_id, or a
// duplicate key; then neither is created.
func (s *Store) CreateServiceID(ctx context.Context, v store.ServiceID, firstKey *store.APIKey) error {
	return s.write(ctx, "create service id", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, insertServiceID, v.ID, v.IAMID, v.AccountID, v.Name, v.Description,
			v.Locked, v.Version, v.CreatedBy, micros(v.CreatedAt), micros(v.ModifiedAt)); err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, store.ChangeServiceID, v.IAMID); err != nil {
			return err
		}
		if firstKey == nil {
			return nil
		}
		return s.createAPIKey(ctx, tx, *firstKey)
	})
}

// GetServiceID finds a service ID by id or iam_id; store.ErrNotFound when absent.
func (s *Store) GetServiceID(ctx context.Context, id string) (store.ServiceID, error) {
	v, err := scanServiceID(s.row(ctx, selectServiceID, id))
	return v, s.wrap("get service id", err)
}

// ListServiceIDs lists an account's service IDs ordered by id; p.After is an id.
func (s *Store) ListServiceIDs(ctx context.Context, accountID string, p store.Page) ([]store.ServiceID, error) {
	vs, err := list(ctx, s, scanServiceID, `SELECT `+serviceIDCols+` FROM service_ids WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?`,
		accountID, p.After, pageLimit(p.Limit))
	return vs, s.wrap("list service ids", err)
}

// UpdateServiceID works as UpdateUser; the creator is kept too.
func (s *Store) UpdateServiceID(ctx context.Context, id string, fn func(v *store.ServiceID) error) (store.ServiceID, error) {
	var out store.ServiceID
	err := s.write(ctx, "update service id", func(tx *sql.Tx) error {
		v, err := scanServiceID(tx.QueryRowContext(ctx, selectServiceID, id))
		if err != nil {
			return err
		}
		key, iamID := v.ID, v.IAMID
		if err := fn(&v); err != nil {
			return fnError{err}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE service_ids SET name = ?, description = ?, locked = ?,
			modified_at = ?, version = version + 1 WHERE id = ?`,
			v.Name, v.Description, v.Locked, micros(v.ModifiedAt), key); err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, store.ChangeServiceID, iamID); err != nil {
			return err
		}
		out, err = scanServiceID(tx.QueryRowContext(ctx, selectServiceID, key))
		return err
	})
	return out, err
}

// DeleteServiceID deletes the service ID with the given id or iam_id, its API
// keys and its policies; store.ErrNotFound when absent.
func (s *Store) DeleteServiceID(ctx context.Context, id string, check func(store.ServiceID) error) error {
	return s.write(ctx, "delete service id", func(tx *sql.Tx) error {
		v, err := scanServiceID(tx.QueryRowContext(ctx, selectServiceID, id))
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(v); err != nil {
				return fnError{err}
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM service_ids WHERE id = ?`, v.ID); err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, store.ChangeServiceID, v.IAMID); err != nil {
			return err
		}
		return s.deleteOwned(ctx, tx, v.AccountID, v.IAMID)
	})
}
