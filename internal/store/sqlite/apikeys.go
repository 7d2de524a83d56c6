package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gatehouse/internal/store"
)

const apiKeyCols = `id, account_id, iam_id, name, description, digest, hint, role, locked, disabled, expires_at,
	action_when_leaked, created_by, created_at, modified_at, version, last_authn, authn_count, history`

// apiKeyFrom reads keys with their activity: what api_keys held before
// migration 0005 plus what api_key_activity has gathered since.
const apiKeyFrom = `SELECT id, account_id, iam_id, name, description, digest, hint, role, locked, disabled, expires_at,
	action_when_leaked, created_by, created_at, modified_at, version,
	max(last_authn, coalesce(authn_last, 0)), authn_count + coalesce(authn_n, 0), history
	FROM api_keys LEFT JOIN api_key_activity ON key_id = id`

var (
	insertAPIKey = insertSQL("api_keys", apiKeyCols)
	selectAPIKey = apiKeyFrom + ` WHERE id = ?`
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
	return s.write(ctx, "create api key", func(tx *sql.Tx) error { return s.createAPIKey(ctx, tx, k) })
}

func (s *Store) createAPIKey(ctx context.Context, tx *sql.Tx, k store.APIKey) error {
	history, err := encodeHistory(k.History)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, insertAPIKey, k.ID, k.AccountID, k.IAMID, k.Name, k.Description, k.Digest,
		k.Hint, k.Role, k.Locked, k.Disabled, micros(k.ExpiresAt), k.ActionWhenLeaked, k.CreatedBy,
		micros(k.CreatedAt), micros(k.ModifiedAt), k.Version, micros(k.LastAuthn), k.AuthnCount, history); err != nil {
		return err
	}
	return s.logChange(ctx, tx, store.ChangeAPIKey, k.ID)
}

// GetAPIKey returns store.ErrNotFound when absent.
func (s *Store) GetAPIKey(ctx context.Context, id string) (store.APIKey, error) {
	k, err := scanAPIKey(s.row(ctx, selectAPIKey, id))
	return k, s.wrap("get api key", err)
}

// GetAPIKeyByDigest finds a key by the SHA-256 of its value;
// store.ErrNotFound when absent.
func (s *Store) GetAPIKeyByDigest(ctx context.Context, digest []byte) (store.APIKey, error) {
	k, err := scanAPIKey(s.row(ctx, apiKeyFrom+` WHERE digest = ?`, digest))
	return k, s.wrap("get api key by digest", err)
}

// CountAPIKeys returns how many keys the account has (iam uses it to decide
// whether its digest cache can hold them all).
func (s *Store) CountAPIKeys(ctx context.Context, accountID string) (int, error) {
	var n int
	err := s.row(ctx, `SELECT count(*) FROM api_keys WHERE account_id = ?`, accountID).Scan(&n)
	return n, s.wrap("count api keys", err)
}

// ScanAPIKeyDigests returns up to limit of the account's keys after the
// cursor after ("" for the first page) and the cursor of the next page ("" at
// the end), in table order, the cheapest to read (NOT INDEXED: the
// account's indexes would make every page read them whole, then sort). Only the fields a token
// exchange needs are filled: id, account, owner, digest, role, disabled and
// expiry (iam fills its key digest cache with it).
func (s *Store) ScanAPIKeyDigests(ctx context.Context, accountID, after string, limit int) ([]store.APIKey, string, error) {
	var from int64
	if after != "" {
		var err error
		if from, err = strconv.ParseInt(after, 10, 64); err != nil {
			return nil, "", fmt.Errorf("sqlite: scan api key digests: bad cursor %q", after)
		}
	}
	var last int64
	ks, err := list(ctx, s, func(sc scanner) (store.APIKey, error) {
		k := store.APIKey{AccountID: accountID}
		err := sc.Scan(&last, &k.ID, &k.IAMID, &k.Digest, &k.Role, &k.Disabled, timeCol{&k.ExpiresAt})
		return k, err
	}, `SELECT rowid, id, iam_id, digest, role, disabled, expires_at FROM api_keys NOT INDEXED
		WHERE account_id = ? AND rowid > ? ORDER BY rowid LIMIT ?`, accountID, from, pageLimit(limit))
	if err != nil || len(ks) < pageLimit(limit) {
		return ks, "", s.wrap("scan api key digests", err)
	}
	return ks, strconv.FormatInt(last, 10), nil
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
		return nil, fmt.Errorf("sqlite: list api keys: unknown sort %q", q.SortBy)
	}
	var conds []string
	var args []any
	if q.AccountID != "" {
		conds, args = append(conds, "account_id = ?"), append(args, q.AccountID)
	}
	if q.IAMID != "" {
		conds, args = append(conds, "iam_id = ?"), append(args, q.IAMID)
	}
	dir, cmp := "", ">"
	if q.Desc {
		dir, cmp = " DESC", "<"
	}
	if c := q.After; c != nil {
		// A row-value comparison, which SQLite can answer from the
		// (…, col, id) indexes; ids break ties between equal names or times.
		conds = append(conds, "("+col+", id) "+cmp+" (?, ?)")
		if col == "name" {
			args = append(args, c.Name, c.ID)
		} else {
			args = append(args, micros(c.CreatedAt), c.ID)
		}
	}
	query := apiKeyFrom + where(conds) +
		` ORDER BY ` + col + dir + `, id` + dir + ` LIMIT ?`
	ks, err := list(ctx, s, scanAPIKey, query, append(args, pageLimit(q.Limit))...)
	return ks, s.wrap("list api keys", err)
}

// UpdateAPIKey works as UpdateUser: fn's changes to the digest, owner,
// account, creation fields and activity are not stored.
func (s *Store) UpdateAPIKey(ctx context.Context, id string, fn func(k *store.APIKey) error) (store.APIKey, error) {
	var out store.APIKey
	err := s.write(ctx, "update api key", func(tx *sql.Tx) error {
		k, err := scanAPIKey(tx.QueryRowContext(ctx, selectAPIKey, id))
		if err != nil {
			return err
		}
		if err := fn(&k); err != nil {
			return fnError{err}
		}
		if err := s.updateAPIKey(ctx, tx, id, k); err != nil {
			return err
		}
		out, err = scanAPIKey(tx.QueryRowContext(ctx, selectAPIKey, id))
		return err
	})
	return out, err
}

// updateAPIKey stores the mutable fields of k in the key with the given id.
// The immutable ones are simply not in the statement.
func (s *Store) updateAPIKey(ctx context.Context, tx *sql.Tx, id string, k store.APIKey) error {
	history, err := encodeHistory(k.History)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET name = ?, description = ?, hint = ?, role = ?,
		locked = ?, disabled = ?, expires_at = ?, action_when_leaked = ?, modified_at = ?, history = ?,
		version = version + 1 WHERE id = ?`,
		k.Name, k.Description, k.Hint, k.Role, k.Locked, k.Disabled, micros(k.ExpiresAt), k.ActionWhenLeaked,
		micros(k.ModifiedAt), history, id); err != nil {
		return err
	}
	return s.logChange(ctx, tx, store.ChangeAPIKey, id)
}

// RotateAPIKey applies fn to the stored key; fn returns the replacement key.
// The old key's update (as in UpdateAPIKey) and the new key are written in
// one transaction, or neither is. An error from fn is returned as is; other
// errors: store.ErrNotFound, store.ErrAlreadyExists when the replacement's id
// or digest exists.
func (s *Store) RotateAPIKey(ctx context.Context, id string, fn func(old *store.APIKey) (store.APIKey, error)) (old, replacement store.APIKey, err error) {
	err = s.write(ctx, "rotate api key", func(tx *sql.Tx) error {
		k, err := scanAPIKey(tx.QueryRowContext(ctx, selectAPIKey, id))
		if err != nil {
			return err
		}
		r, err := fn(&k)
		if err != nil {
			return fnError{err}
		}
		if err := s.updateAPIKey(ctx, tx, id, k); err != nil {
			return err
		}
		if err := s.createAPIKey(ctx, tx, r); err != nil {
			return err
		}
		if old, err = scanAPIKey(tx.QueryRowContext(ctx, selectAPIKey, id)); err != nil {
			return err
		}
		replacement, err = scanAPIKey(tx.QueryRowContext(ctx, selectAPIKey, r.ID))
		return err
	})
	if err != nil {
		return store.APIKey{}, store.APIKey{}, err
	}
	return old, replacement, nil
}

// DeleteAPIKey returns store.ErrNotFound when absent.
func (s *Store) DeleteAPIKey(ctx context.Context, id string, check func(store.APIKey) error) error {
	return s.write(ctx, "delete api key", func(tx *sql.Tx) error {
		if check != nil {
			k, err := scanAPIKey(tx.QueryRowContext(ctx, selectAPIKey, id))
			if err != nil {
				return err
			}
			if err := check(k); err != nil {
				return fnError{err}
			}
		}
		if err := deleteOne(ctx, tx, `DELETE FROM api_keys WHERE id = ?`, id); err != nil {
			return err
		}
		return s.logChange(ctx, tx, store.ChangeAPIKey, id)
	})
}

// RecordAPIKeyActivity adds counts and raises last-authentication times, in
// one transaction for the batch, in the narrow api_key_activity table
// (migration 0005). It does not change Version and writes no change:
// activity is not something caches need to drop a key for. The ids are not
// checked against api_keys (that lookup was half the cost): the row of a key
// deleted since is never read, and the key's id is never used again.
func (s *Store) RecordAPIKeyActivity(ctx context.Context, batch []store.APIKeyActivity) error {
	if len(batch) == 0 {
		return nil
	}
	return s.write(ctx, "record api key activity", func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO api_key_activity (authn_n, authn_last, key_id) VALUES (?, ?, ?)
			ON CONFLICT (key_id) DO UPDATE SET authn_n = authn_n + excluded.authn_n,
			authn_last = max(authn_last, excluded.authn_last)`)
		if err != nil {
			return err
		}
		defer st.Close()
		// In key order, each page of the table is read and written once.
		sorted := slices.SortedFunc(slices.Values(batch), func(a, b store.APIKeyActivity) int { return strings.Compare(a.ID, b.ID) })
		for _, a := range sorted {
			if _, err := st.ExecContext(ctx, a.Count, micros(a.Last), a.ID); err != nil {
				return err
			}
		}
		return nil
	})
}
