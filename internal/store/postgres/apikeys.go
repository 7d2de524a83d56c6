package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/store"
)

const apiKeyCols = `id, account_id, iam_id, name, description, digest, hint, role, locked, disabled, expires_at,
	action_when_leaked, created_by, created_at, modified_at, version, last_authn, authn_count, history`

var (
	insertAPIKey = insertSQL("api_keys", apiKeyCols)
	selectAPIKey = `SELECT ` + apiKeyCols + ` FROM api_keys WHERE id = $1`
)

func scanAPIKey(sc scanner) (store.APIKey, error) {
	var k store.APIKey
	err := sc.Scan(&k.ID, &k.AccountID, &k.IAMID, &k.Name, &k.Description, &k.Digest, &k.Hint, &k.Role,
		&k.Locked, &k.Disabled, timeCol{&k.ExpiresAt}, &k.ActionWhenLeaked, &k.CreatedBy,
		timeCol{&k.CreatedAt}, timeCol{&k.ModifiedAt}, &k.Version, timeCol{&k.LastAuthn}, &k.AuthnCount,
		historyCol{&k.History})
	return k, err
}

// CreateAPIKey returns store.ErrAlreadyExists for a duplicate id or digest.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	return s.write(ctx, "create api key", func(t *txn) error { return createAPIKey(ctx, t, k) })
}

func createAPIKey(ctx context.Context, t *txn, k store.APIKey) error {
	history, err := encodeHistory(k.History)
	if err != nil {
		return err
	}
	if _, err := t.Exec(ctx, insertAPIKey, k.ID, k.AccountID, k.IAMID, k.Name, k.Description, k.Digest,
		k.Hint, k.Role, k.Locked, k.Disabled, micros(k.ExpiresAt), k.ActionWhenLeaked, k.CreatedBy,
		micros(k.CreatedAt), micros(k.ModifiedAt), k.Version, micros(k.LastAuthn), k.AuthnCount, history); err != nil {
		return err
	}
	t.logChange(store.ChangeAPIKey, k.ID)
	return nil
}

// GetAPIKey returns store.ErrNotFound when absent.
func (s *Store) GetAPIKey(ctx context.Context, id string) (store.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, selectAPIKey, id))
	return k, s.wrap("get api key", err)
}

// GetAPIKeyByDigest finds a key by the SHA-256 of its value;
// store.ErrNotFound when absent.
func (s *Store) GetAPIKeyByDigest(ctx context.Context, digest []byte) (store.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE digest = $1`, digest))
	return k, s.wrap("get api key by digest", err)
}

// CountAPIKeys returns how many keys the account has (iam uses it to decide
// whether its digest cache can hold them all).
func (s *Store) CountAPIKeys(ctx context.Context, accountID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE account_id = $1`, accountID).Scan(&n)
	return n, s.wrap("count api keys", err)
}

// ScanAPIKeyDigests returns up to limit of the account's keys after the
// cursor after ("" for the first page) and the cursor of the next page ("" at
// the end), in id order. Only the fields a token exchange needs are filled:
// id, account, owner, digest, role, disabled and expiry (iam fills its key
// digest cache with it).
func (s *Store) ScanAPIKeyDigests(ctx context.Context, accountID, after string, limit int) ([]store.APIKey, string, error) {
	ks, err := list(ctx, s.pool, func(sc scanner) (store.APIKey, error) {
		k := store.APIKey{AccountID: accountID}
		err := sc.Scan(&k.ID, &k.IAMID, &k.Digest, &k.Role, &k.Disabled, timeCol{&k.ExpiresAt})
		return k, err
	}, `SELECT id, iam_id, digest, role, disabled, expires_at FROM api_keys
		WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3`, accountID, after, pageLimit(limit))
	if err != nil || len(ks) < pageLimit(limit) {
		return ks, "", s.wrap("scan api key digests", err)
	}
	return ks, ks[len(ks)-1].ID, nil
}

// ListAPIKeys returns the keys matching q in the requested order, keyset
// paginated. Filtering by owner without an account cannot use an index.
func (s *Store) ListAPIKeys(ctx context.Context, q store.APIKeyQuery) ([]store.APIKey, error) {
	col := "created_at"
	switch q.SortBy {
	case "", "created_at":
	case "name":
		col = "name"
	default:
		return nil, fmt.Errorf("postgres: list api keys: unknown sort %q", q.SortBy)
	}
	var a args
	var conds []string
	if q.AccountID != "" {
		conds = append(conds, "account_id = "+a.add(q.AccountID))
	}
	if q.IAMID != "" {
		conds = append(conds, "iam_id = "+a.add(q.IAMID))
	}
	dir, cmp := "", ">"
	if q.Desc {
		dir, cmp = " DESC", "<"
	}
	if c := q.After; c != nil {
		// A row-value comparison, which PostgreSQL answers from the
		// (…, col, id) indexes; ids break ties between equal names or times.
		var v any = micros(c.CreatedAt)
		if col == "name" {
			v = c.Name
		}
		conds = append(conds, "("+col+", id) "+cmp+" ("+a.add(v)+", "+a.add(c.ID)+")")
	}
	query := `SELECT ` + apiKeyCols + ` FROM api_keys` + where(conds) +
		` ORDER BY ` + col + dir + `, id` + dir + ` LIMIT ` + a.add(pageLimit(q.Limit))
	ks, err := list(ctx, s.pool, scanAPIKey, query, a...)
	return ks, s.wrap("list api keys", err)
}

// UpdateAPIKey works as UpdateUser: fn's changes to the digest, owner,
// account, creation fields and activity are not stored.
func (s *Store) UpdateAPIKey(ctx context.Context, id string, fn func(k *store.APIKey) error) (store.APIKey, error) {
	var out store.APIKey
	err := s.write(ctx, "update api key", func(t *txn) error {
		k, err := scanAPIKey(t.QueryRow(ctx, selectAPIKey+` FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if err := fn(&k); err != nil {
			return fnError{err}
		}
		out, err = updateAPIKey(ctx, t, id, k)
		return err
	})
	return out, err
}

// updateAPIKey stores the mutable fields of k in the key with the given id
// and returns the key as stored. The immutable ones are simply not in the
// statement.
func updateAPIKey(ctx context.Context, t *txn, id string, k store.APIKey) (store.APIKey, error) {
	history, err := encodeHistory(k.History)
	if err != nil {
		return store.APIKey{}, err
	}
	out, err := scanAPIKey(t.QueryRow(ctx, `UPDATE api_keys SET name = $1, description = $2, hint = $3, role = $4,
		locked = $5, disabled = $6, expires_at = $7, action_when_leaked = $8, modified_at = $9, history = $10,
		version = version + 1 WHERE id = $11 RETURNING `+apiKeyCols,
		k.Name, k.Description, k.Hint, k.Role, k.Locked, k.Disabled, micros(k.ExpiresAt), k.ActionWhenLeaked,
		micros(k.ModifiedAt), history, id))
	if err != nil {
		return store.APIKey{}, err
	}
	t.logChange(store.ChangeAPIKey, id)
	return out, nil
}

// RotateAPIKey applies fn to the stored key; fn returns the replacement key.
// The old key's update (as in UpdateAPIKey) and the new key are written in
// one transaction, or neither is. An error from fn is returned as is; other
// errors: store.ErrNotFound, store.ErrAlreadyExists when the replacement's id
// or digest exists.
func (s *Store) RotateAPIKey(ctx context.Context, id string, fn func(old *store.APIKey) (store.APIKey, error)) (old, replacement store.APIKey, err error) {
	err = s.write(ctx, "rotate api key", func(t *txn) error {
		k, err := scanAPIKey(t.QueryRow(ctx, selectAPIKey+` FOR UPDATE`, id))
		if err != nil {
			return err
		}
		r, err := fn(&k)
		if err != nil {
			return fnError{err}
		}
		if old, err = updateAPIKey(ctx, t, id, k); err != nil {
			return err
		}
		if err := createAPIKey(ctx, t, r); err != nil {
			return err
		}
		replacement, err = scanAPIKey(t.QueryRow(ctx, selectAPIKey, r.ID))
		return err
	})
	if err != nil {
		return store.APIKey{}, store.APIKey{}, err
	}
	return old, replacement, nil
}

// DeleteAPIKey returns store.ErrNotFound when absent. A non-nil check sees
// the stored key, locked against concurrent changes; an error from it is
// returned as is and nothing is deleted.
func (s *Store) DeleteAPIKey(ctx context.Context, id string, check func(store.APIKey) error) error {
	return s.write(ctx, "delete api key", func(t *txn) error {
		if check != nil {
			k, err := scanAPIKey(t.QueryRow(ctx, selectAPIKey+` FOR UPDATE`, id))
			if err != nil {
				return err
			}
			if err := check(k); err != nil {
				return fnError{err}
			}
		}
		if err := deleteOne(ctx, t, `DELETE FROM api_keys WHERE id = $1`, id); err != nil {
			return err
		}
		t.logChange(store.ChangeAPIKey, id)
		return nil
	})
}

// RecordAPIKeyActivity adds counts and raises last-authentication times, in
// one transaction for the batch. It does not change Version and writes no
// change: activity is not something caches need to drop a key for. Unknown
// ids are ignored (the key may have been deleted since).
//
// Several nodes flush activity for the same keys, so the batch is merged by
// key and applied in id order: two flushes lock their common keys in the
// same order and cannot deadlock.
func (s *Store) RecordAPIKeyActivity(ctx context.Context, batch []store.APIKeyActivity) error {
	if len(batch) == 0 {
		return nil
	}
	merged := map[string]store.APIKeyActivity{}
	for _, a := range batch {
		m, ok := merged[a.ID]
		if ok {
			a.Count += m.Count
			if m.Last.After(a.Last) {
				a.Last = m.Last
			}
		}
		merged[a.ID] = a
	}
	ids := make([]string, 0, len(merged))
	for id := range merged {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return s.write(ctx, "record api key activity", func(t *txn) error {
		b := &pgx.Batch{}
		for _, id := range ids {
			a := merged[id]
			b.Queue(`UPDATE api_keys SET authn_count = authn_count + $1, last_authn = GREATEST(last_authn, $2)
				WHERE id = $3`, a.Count, micros(a.Last), id)
		}
		return t.SendBatch(ctx, b).Close()
	})
}
