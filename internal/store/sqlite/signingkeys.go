package sqlite

import (
	"context"
	"database/sql"

	"gatehouse/internal/store"
)

const signingKeyCols = `id, generation, algorithm, public_key, private_key, created_at, activate_at`

var insertSigningKey = insertSQL("signing_keys", signingKeyCols)

func scanSigningKey(sc scanner) (store.SigningKey, error) {
	var k store.SigningKey
	err := sc.Scan(&k.ID, &k.Generation, &k.Algorithm, &k.PublicKey, &k.PrivateKey,
		timeCol{&k.CreatedAt}, timeCol{&k.ActivateAt})
	return k, err
}

// CreateSigningKey returns store.ErrAlreadyExists when the id or the
// generation exists.
func (s *Store) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	return s.write(ctx, "create signing key", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, insertSigningKey, k.ID, k.Generation, k.Algorithm,
			k.PublicKey, k.PrivateKey, micros(k.CreatedAt), micros(k.ActivateAt)); err != nil {
			return err
		}
		return s.logChange(ctx, tx, store.ChangeSigningKey, k.ID)
	})
}

// ListSigningKeys returns all signing keys ordered by generation.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	ks, err := list(ctx, s, scanSigningKey, `SELECT `+signingKeyCols+` FROM signing_keys ORDER BY generation`)
	return ks, s.wrap("list signing keys", err)
}

// DeleteSigningKey returns store.ErrNotFound when absent.
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	return s.write(ctx, "delete signing key", func(tx *sql.Tx) error {
		if err := deleteOne(ctx, tx, `DELETE FROM signing_keys WHERE id = ?`, id); err != nil {
			return err
		}
		return s.logChange(ctx, tx, store.ChangeSigningKey, id)
	})
}

// deleteOne runs a DELETE that must remove exactly one row; sql.ErrNoRows
// (store.ErrNotFound once wrapped) when it removed none.
func deleteOne(ctx context.Context, tx *sql.Tx, q string, args ...any) error {
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return sql.ErrNoRows
	}
	return nil
}
