package sqlite

import (
	"context"
	"database/sql"

	"gatehouse/internal/store"
)

const accountCols = `id, name, created_at`

var insertAccount = insertSQL("accounts", accountCols)

func scanAccount(sc scanner) (store.Account, error) {
	var a store.Account
	err := sc.Scan(&a.ID, &a.Name, timeCol{&a.CreatedAt})
	return a, err
}

// GetAccount returns store.ErrNotFound when the account does not exist.
func (s *Store) GetAccount(ctx context.Context, id string) (store.Account, error) {
	a, err := scanAccount(s.row(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
	return a, s.wrap("get account", err)
}

// ListAccounts returns all accounts, oldest first.
func (s *Store) ListAccounts(ctx context.Context) ([]store.Account, error) {
	as, err := list(ctx, s, scanAccount, `SELECT `+accountCols+` FROM accounts ORDER BY created_at, id`)
	return as, s.wrap("list accounts", err)
}

// Bootstrap creates the first account with its admin user, policy and API key
// in one transaction. It returns store.ErrAlreadyExists, and changes nothing,
// when an account exists or any of the records would be a duplicate.
func (s *Store) Bootstrap(ctx context.Context, b store.Bootstrap) error {
	return s.write(ctx, "bootstrap", func(tx *sql.Tx) error {
		// Safe without further locking: the transaction holds the write lock
		// from its start, so a concurrent Bootstrap waits and then sees ours.
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM accounts)`).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return store.ErrAlreadyExists
		}
		a := b.Account
		if _, err := tx.ExecContext(ctx, insertAccount, a.ID, a.Name, micros(a.CreatedAt)); err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, store.ChangeAccount, a.ID); err != nil {
			return err
		}
		if err := s.createUser(ctx, tx, b.User); err != nil {
			return err
		}
		if err := s.createPolicy(ctx, tx, b.Policy); err != nil {
			return err
		}
		return s.createAPIKey(ctx, tx, b.APIKey)
	})
}

// GetMeta returns store.ErrNotFound when name is unset.
func (s *Store) GetMeta(ctx context.Context, name string) (string, error) {
	var v string
	err := s.row(ctx, `SELECT value FROM meta WHERE name = ?`, name).Scan(&v)
	return v, s.wrap("get meta", err)
}

// PutMetaIfAbsent sets name once; store.ErrAlreadyExists when it is set. Meta
// values are not in the change log: there is no change kind for them.
func (s *Store) PutMetaIfAbsent(ctx context.Context, name, value string) error {
	return s.write(ctx, "put meta", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES (?, ?)`, name, value)
		return err
	})
}
