package postgres

import (
	"context"

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
// generation exists, so that of two nodes rotating at once only one creates
// the next generation.
func (s *Store) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	return s.write(ctx, "create signing key", func(t *txn) error {
		if _, err := t.Exec(ctx, insertSigningKey, k.ID, k.Generation, k.Algorithm,
			blob(k.PublicKey), blob(k.PrivateKey), micros(k.CreatedAt), micros(k.ActivateAt)); err != nil {
			return err
		}
		t.logChange(store.ChangeSigningKey, k.ID)
		return nil
	})
}

// ListSigningKeys returns all signing keys ordered by generation.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	ks, err := list(ctx, s.pool, scanSigningKey, `SELECT `+signingKeyCols+` FROM signing_keys ORDER BY generation`)
	return ks, s.wrap("list signing keys", err)
}

// DeleteSigningKey returns store.ErrNotFound when absent.
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	return s.write(ctx, "delete signing key", func(t *txn) error {
		if err := deleteOne(ctx, t, `DELETE FROM signing_keys WHERE id = $1`, id); err != nil {
			return err
		}
		t.logChange(store.ChangeSigningKey, id)
		return nil
	})
}
