package sqlite

import (
	"context"
	"database/sql"

	"gatehouse/internal/store"
)

const userCols = `id, iam_id, account_id, username, name, email, password_hash, disabled, version, created_at, modified_at`

var (
	insertUser = insertSQL("users", userCols)
	selectUser = `SELECT ` + userCols + ` FROM users WHERE id = ?1 OR iam_id = ?1`
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
	return s.write(ctx, "create user", func(tx *sql.Tx) error { return s.createUser(ctx, tx, u) })
}

func (s *Store) createUser(ctx context.Context, tx *sql.Tx, u store.User) error {
	if _, err := tx.ExecContext(ctx, insertUser, u.ID, u.IAMID, u.AccountID, u.Username, u.Name, u.Email,
		u.PasswordHash, u.Disabled, u.Version, micros(u.CreatedAt), micros(u.ModifiedAt)); err != nil {
		return err
	}
	return s.logChange(ctx, tx, store.ChangeUser, u.IAMID)
}

// GetUser finds a user by id or iam_id; store.ErrNotFound when absent.
func (s *Store) GetUser(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(s.row(ctx, selectUser, id))
	return u, s.wrap("get user", err)
}

// GetUserByUsername returns store.ErrNotFound when absent.
func (s *Store) GetUserByUsername(ctx context.Context, accountID, username string) (store.User, error) {
	u, err := scanUser(s.row(ctx, `SELECT `+userCols+` FROM users WHERE account_id = ? AND username = ?`, accountID, username))
	return u, s.wrap("get user by username", err)
}

// ListUsers lists an account's users ordered by username; p.After is a username.
func (s *Store) ListUsers(ctx context.Context, accountID string, p store.Page) ([]store.User, error) {
	us, err := list(ctx, s, scanUser, `SELECT `+userCols+` FROM users WHERE account_id = ? AND username > ? ORDER BY username LIMIT ?`,
		accountID, p.After, pageLimit(p.Limit))
	return us, s.wrap("list users", err)
}

// UpdateUser applies fn to the user with the given id or iam_id and stores the
// result with Version+1; the id, iam_id, account and creation time are kept
// whatever fn does. An error from fn is returned as is. Errors:
// store.ErrNotFound, store.ErrAlreadyExists when the new username is taken.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(u *store.User) error) (store.User, error) {
	var out store.User
	err := s.write(ctx, "update user", func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, selectUser, id))
		if err != nil {
			return err
		}
		key, iamID := u.ID, u.IAMID
		if err := fn(&u); err != nil {
			return fnError{err}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET username = ?, name = ?, email = ?, password_hash = ?,
			disabled = ?, modified_at = ?, version = version + 1 WHERE id = ?`,
			u.Username, u.Name, u.Email, u.PasswordHash, u.Disabled, micros(u.ModifiedAt), key); err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, store.ChangeUser, iamID); err != nil {
			return err
		}
		out, err = scanUser(tx.QueryRowContext(ctx, selectUser, key))
		return err
	})
	return out, err
}

// DeleteUser deletes the user with the given id or iam_id, its API keys and
// its policies; store.ErrNotFound when absent.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.write(ctx, "delete user", func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, selectUser, id))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, u.ID); err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, store.ChangeUser, u.IAMID); err != nil {
			return err
		}
		return s.deleteOwned(ctx, tx, u.AccountID, u.IAMID)
	})
}

// deleteOwned deletes the API keys and policies of an identity being deleted,
// logging one change per key and one for the subject's policies.
func (s *Store) deleteOwned(ctx context.Context, tx *sql.Tx, accountID, iamID string) error {
	rows, err := tx.QueryContext(ctx, `DELETE FROM api_keys WHERE account_id = ? AND iam_id = ? RETURNING id`, accountID, iamID)
	if err != nil {
		return err
	}
	ids, err := collect(rows, func(sc scanner) (id string, err error) { return id, sc.Scan(&id) })
	if err != nil {
		return err
	}
	if err := s.logChange(ctx, tx, store.ChangeAPIKey, ids...); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM policies WHERE subject = ?`, iamID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	return s.logChange(ctx, tx, store.ChangePolicy, iamID)
}
