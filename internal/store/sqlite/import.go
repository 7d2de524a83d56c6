package sqlite

import (
	"context"
	"database/sql"

	"gatehouse/internal/store"
)

// Import creates every record of b in one transaction with one Change per
// record; store.ErrAlreadyExists for a duplicate, and nothing is written then.
// The statements are prepared once for the whole batch.
func (s *Store) Import(ctx context.Context, b store.Import) error {
	return s.write(ctx, "import", func(tx *sql.Tx) error {
		change, err := tx.PrepareContext(ctx, `INSERT INTO changes (kind, key, time) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer change.Close()
		t := micros(s.now())
		each := func(query string, n int, args func(i int) ([]any, string, string, error)) error {
			if n == 0 {
				return nil
			}
			st, err := tx.PrepareContext(ctx, query)
			if err != nil {
				return err
			}
			defer st.Close()
			for i := range n {
				a, kind, key, err := args(i)
				if err != nil {
					return err
				}
				if _, err := st.ExecContext(ctx, a...); err != nil {
					return err
				}
				if _, err := change.ExecContext(ctx, kind, key, t); err != nil {
					return err
				}
			}
			return nil
		}
		if err := each(insertAPIKey, len(b.APIKeys), func(i int) ([]any, string, string, error) {
			k := b.APIKeys[i]
			history, err := encodeHistory(k.History)
			return []any{k.ID, k.AccountID, k.IAMID, k.Name, k.Description, k.Digest,
				k.Hint, k.Role, k.Locked, k.Disabled, micros(k.ExpiresAt), k.ActionWhenLeaked, k.CreatedBy,
				micros(k.CreatedAt), micros(k.ModifiedAt), k.Version, micros(k.LastAuthn), k.AuthnCount, history}, store.ChangeAPIKey, k.ID, err
		}); err != nil {
			return err
		}
		if err := each(insertApp, len(b.Apps), func(i int) ([]any, string, string, error) {
			a := b.Apps[i]
			return []any{a.ID, a.AccountID, a.OrgID, a.EnvID, a.ConsumerOrgID, a.Name,
				a.Description, a.CreatedBy, micros(a.CreatedAt)}, store.ChangeConsumer, a.ID, nil
		}); err != nil {
			return err
		}
		if err := each(insertCredential, len(b.Credentials), func(i int) ([]any, string, string, error) {
			c := b.Credentials[i]
			return []any{c.ClientID, c.AppID, c.EnvID, c.SecretDigest, c.SecretHint,
				micros(c.CreatedAt), micros(c.ModifiedAt)}, store.ChangeConsumer, c.ClientID, nil
		}); err != nil {
			return err
		}
		return each(insertSub, len(b.Subscriptions), func(i int) ([]any, string, string, error) {
			v := b.Subscriptions[i]
			return []any{v.ID, v.AccountID, v.OrgID, v.EnvID, v.AppID, v.ConsumerOrgID,
				v.ProductName, v.ProductVersion, v.Plan, v.Approved, v.State, v.CreatedBy, micros(v.CreatedAt),
				v.ApprovedBy, micros(v.ApprovedAt)}, store.ChangeConsumer, v.ID, nil
		})
	})
}
