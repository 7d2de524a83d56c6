package postgres

import (
	"context"

	"gatehouse/internal/store"
)

const userCols = `id, iam_id, account_id, username, name, email, password_hash, disabled, version, created_at, modified_at`

var (
	insertUser = insertSQL("users", userCols)
	selectUser = `SELECT ` + userCols + ` FROM users WHERE id = $1 OR iam_id = $1`
)

func scanUser(sc scanner) (store.User, error) {
	var u store.User
	err := sc.Scan(&u.ID, &u.IAMID, &u.AccountID, &u.Username, &u.Name, &u.Email, &u.PasswordHash,
		&u.Disabled, &u.Version, timeCol{&u.CreatedAt}, timeCol{&u.ModifiedAt})
	return u, err
}

// CreateUser returns store.ErrAlreadyExists for a duplicate id, iam_id or
// username.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	return s.write(ctx, "create user", func(t *txn) error { return createUser(ctx, t, u) })
}

func createUser(ctx context.Context, t *txn, u store.User) error {
	if _, err := t.Exec(ctx, insertUser, u.ID, u.IAMID, u.AccountID, u.Username, u.Name, u.Email,
		u.PasswordHash, u.Disabled, u.Version, micros(u.CreatedAt), micros(u.ModifiedAt)); err != nil {
		return err
	}
	t.logChange(store.ChangeUser, u.IAMID)
	return nil
}

// GetUser finds a user by id or iam_id; store.ErrNotFound when absent.
func (s *Store) GetUser(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, selectUser, id))
	return u, s.wrap("get user", err)
}

// GetUserByUsername returns store.ErrNotFound when absent.
func (s *Store) GetUserByUsername(ctx context.Context, accountID, username string) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE account_id = $1 AND username = $2`, accountID, username))
	return u, s.wrap("get user by username", err)
}

// ListUsers lists an account's users ordered by username; p.After is a username.
func (s *Store) ListUsers(ctx context.Context, accountID string, p store.Page) ([]store.User, error) {
	us, err := list(ctx, s.pool, scanUser, `SELECT `+userCols+` FROM users WHERE account_id = $1 AND username > $2
		ORDER BY username LIMIT $3`, accountID, p.After, pageLimit(p.Limit))
	return us, s.wrap("list users", err)
}

// UpdateUser applies fn to the user with the given id or iam_id and stores the
// result with Version+1; the id, iam_id, account and creation time are kept
// whatever fn does. An error from fn is returned as is. Errors:
// store.ErrNotFound, store.ErrAlreadyExists when the new username is taken.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(u *store.User) error) (store.User, error) {
	var out store.User
	err := s.write(ctx, "update user", func(t *txn) error {
		u, err := scanUser(t.QueryRow(ctx, selectUser+` FOR UPDATE`, id))
		if err != nil {
			return err
		}
		key, iamID := u.ID, u.IAMID
		if err := fn(&u); err != nil {
			return fnError{err}
		}
		if out, err = scanUser(t.QueryRow(ctx, `UPDATE users SET username = $1, name = $2, email = $3, password_hash = $4,
			disabled = $5, modified_at = $6, version = version + 1 WHERE id = $7 RETURNING `+userCols,
			u.Username, u.Name, u.Email, u.PasswordHash, u.Disabled, micros(u.ModifiedAt), key)); err != nil {
			return err
		}
		t.logChange(store.ChangeUser, iamID)
		return nil
	})
	return out, err
}

// DeleteUser deletes the user with the given id or iam_id, its API keys and
// its policies; store.ErrNotFound when absent.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.write(ctx, "delete user", func(t *txn) error {
		u, err := scanUser(t.QueryRow(ctx, `DELETE FROM users WHERE id = (SELECT id FROM users WHERE id = $1 OR iam_id = $1 LIMIT 1)
			RETURNING `+userCols, id))
		if err != nil {
			return err
		}
		t.logChange(store.ChangeUser, u.IAMID)
		return deleteOwned(ctx, t, u.AccountID, u.IAMID)
	})
}

// deleteOwned deletes the API keys and policies of an identity being deleted,
// logging one change per key and one for the subject's policies. The keys
// are locked in id order first, the order RecordAPIKeyActivity locks them
// in, so that the two cannot deadlock.
func deleteOwned(ctx context.Context, t *txn, accountID, iamID string) error {
	ids, err := deleteReturning(ctx, t, `DELETE FROM api_keys WHERE id IN (SELECT id FROM api_keys
		WHERE account_id = $1 AND iam_id = $2 ORDER BY id FOR UPDATE) RETURNING id`, accountID, iamID)
	if err != nil {
		return err
	}
	t.logChange(store.ChangeAPIKey, ids...)
	tag, err := t.Exec(ctx, `DELETE FROM policies WHERE subject = $1`, iamID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() > 0 {
		t.logChange(store.ChangePolicy, iamID)
	}
	return nil
}
