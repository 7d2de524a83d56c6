package postgres

import (
	"context"

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
	a, err := scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, id))
	return a, s.wrap("get account", err)
}

// ListAccounts returns all accounts, oldest first.
func (s *Store) ListAccounts(ctx context.Context) ([]store.Account, error) {
	as, err := list(ctx, s.pool, scanAccount, `SELECT `+accountCols+` FROM accounts ORDER BY created_at, id`)
	return as, s.wrap("list accounts", err)
}

// Bootstrap creates the first account with its admin user, policy and API key
// in one transaction. It returns store.ErrAlreadyExists, and changes nothing,
// when an account exists or any of the records would be a duplicate.
//
// Concurrent calls, from this node or others, take an advisory lock first:
// the one that gets it second checks for an account only after the first
// has committed, and finds it.
func (s *Store) Bootstrap(ctx context.Context, b store.Bootstrap) error {
	return s.write(ctx, "bootstrap", func(t *txn) error {
		if _, err := t.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockBootstrap); err != nil {
			return err
		}
		// A statement of its own after the lock: in READ COMMITTED it sees
		// what committed while this transaction waited.
		var exists bool
		if err := t.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts)`).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return store.ErrAlreadyExists
		}
		a := b.Account
		if _, err := t.Exec(ctx, insertAccount, a.ID, a.Name, micros(a.CreatedAt)); err != nil {
			return err
		}
		t.logChange(store.ChangeAccount, a.ID)
		if err := createUser(ctx, t, b.User); err != nil {
			return err
		}
		if err := createPolicy(ctx, t, b.Policy); err != nil {
			return err
		}
		return createAPIKey(ctx, t, b.APIKey)
	})
}

// GetMeta returns store.ErrNotFound when name is unset.
func (s *Store) GetMeta(ctx context.Context, name string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE name = $1`, name).Scan(&v)
	return v, s.wrap("get meta", err)
}

// PutMetaIfAbsent sets name once; store.ErrAlreadyExists when it is set (also
// when another node set it a moment ago). Meta values are not in the change
// log: there is no change kind for them.
func (s *Store) PutMetaIfAbsent(ctx context.Context, name, value string) error {
	return s.write(ctx, "put meta", func(t *txn) error {
		_, err := t.Exec(ctx, `INSERT INTO meta (name, value) VALUES ($1, $2)`, name, value)
		return err
	})
}
