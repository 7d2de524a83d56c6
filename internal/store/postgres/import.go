package postgres

import (
	"context"

	"gatehouse/internal/store"
)

// Import creates every record of b in one transaction with one Change per
// record; store.ErrAlreadyExists for a duplicate, and nothing is written then.
func (s *Store) Import(ctx context.Context, b store.Import) error {
	return s.write(ctx, "import", func(t *txn) error {
		for _, k := range b.APIKeys {
			if err := createAPIKey(ctx, t, k); err != nil {
				return err
			}
		}
		for _, a := range b.Apps {
			if _, err := t.Exec(ctx, insertApp, a.ID, a.AccountID, a.OrgID, a.EnvID, a.ConsumerOrgID, a.Name,
				a.Description, a.CreatedBy, micros(a.CreatedAt)); err != nil {
				return err
			}
			t.logChange(store.ChangeConsumer, a.ID)
		}
		for _, c := range b.Credentials {
			if err := createCredential(ctx, t, c); err != nil {
				return err
			}
		}
		for _, v := range b.Subscriptions {
			if _, err := t.Exec(ctx, insertSub, v.ID, v.AccountID, v.OrgID, v.EnvID, v.AppID, v.ConsumerOrgID,
				v.ProductName, v.ProductVersion, v.Plan, v.Approved, v.State, v.CreatedBy, micros(v.CreatedAt),
				v.ApprovedBy, micros(v.ApprovedAt)); err != nil {
				return err
			}
			t.logChange(store.ChangeConsumer, v.ID)
		}
		return nil
	})
}
