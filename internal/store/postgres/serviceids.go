package postgres

import (
	"context"

	"gatehouse/internal/store"
)

const serviceIDCols = `id, iam_id, account_id, name, description, locked, version, created_by, created_at, modified_at`

var (
	insertServiceID = insertSQL("service_ids", serviceIDCols)
	selectServiceID = `SELECT ` + serviceIDCols + ` FROM service_ids WHERE id = $1 OR iam_id = $1`
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
	return s.write(ctx, "create service id", func(t *txn) error {
		if _, err := t.Exec(ctx, insertServiceID, v.ID, v.IAMID, v.AccountID, v.Name, v.Description,
			v.Locked, v.Version, v.CreatedBy, micros(v.CreatedAt), micros(v.ModifiedAt)); err != nil {
			return err
		}
		t.logChange(store.ChangeServiceID, v.IAMID)
		if firstKey == nil {
			return nil
		}
		return createAPIKey(ctx, t, *firstKey)
	})
}

// GetServiceID finds a service ID by id or iam_id; store.ErrNotFound when absent.
func (s *Store) GetServiceID(ctx context.Context, id string) (store.ServiceID, error) {
	v, err := scanServiceID(s.pool.QueryRow(ctx, selectServiceID, id))
	return v, s.wrap("get service id", err)
}

// ListServiceIDs lists an account's service IDs ordered by id; p.After is an id.
func (s *Store) ListServiceIDs(ctx context.Context, accountID string, p store.Page) ([]store.ServiceID, error) {
	vs, err := list(ctx, s.pool, scanServiceID, `SELECT `+serviceIDCols+` FROM service_ids WHERE account_id = $1 AND id > $2
		ORDER BY id LIMIT $3`, accountID, p.After, pageLimit(p.Limit))
	return vs, s.wrap("list service ids", err)
}

// UpdateServiceID works as UpdateUser; the creator is kept too.
func (s *Store) UpdateServiceID(ctx context.Context, id string, fn func(v *store.ServiceID) error) (store.ServiceID, error) {
	var out store.ServiceID
	err := s.write(ctx, "update service id", func(t *txn) error {
		v, err := scanServiceID(t.QueryRow(ctx, selectServiceID+` FOR UPDATE`, id))
		if err != nil {
			return err
		}
		key, iamID := v.ID, v.IAMID
		if err := fn(&v); err != nil {
			return fnError{err}
		}
		if out, err = scanServiceID(t.QueryRow(ctx, `UPDATE service_ids SET name = $1, description = $2, locked = $3,
			modified_at = $4, version = version + 1 WHERE id = $5 RETURNING `+serviceIDCols,
			v.Name, v.Description, v.Locked, micros(v.ModifiedAt), key)); err != nil {
			return err
		}
		t.logChange(store.ChangeServiceID, iamID)
		return nil
	})
	return out, err
}

// DeleteServiceID deletes the service ID with the given id or iam_id, its API
// keys and its policies; store.ErrNotFound when absent. A non-nil check sees
// the stored record, locked against concurrent changes; an error from it is
// returned as is and nothing is deleted.
func (s *Store) DeleteServiceID(ctx context.Context, id string, check func(store.ServiceID) error) error {
	return s.write(ctx, "delete service id", func(t *txn) error {
		v, err := scanServiceID(t.QueryRow(ctx, selectServiceID+` FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(v); err != nil {
				return fnError{err}
			}
		}
		if _, err := t.Exec(ctx, `DELETE FROM service_ids WHERE id = $1`, v.ID); err != nil {
			return err
		}
		t.logChange(store.ChangeServiceID, v.IAMID)
		return deleteOwned(ctx, t, v.AccountID, v.IAMID)
	})
}
