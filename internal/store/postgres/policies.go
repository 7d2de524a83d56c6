package postgres

import (
	"context"

	"gatehouse/internal/store"
)

const policyCols = `id, account_id, subject, role, org, created_by, created_at`

var insertPolicy = insertSQL("policies", policyCols)

func scanPolicy(sc scanner) (store.Policy, error) {
	var p store.Policy
	err := sc.Scan(&p.ID, &p.AccountID, &p.Subject, &p.Role, &p.Org, &p.CreatedBy, timeCol{&p.CreatedAt})
	return p, err
}

// CreatePolicy returns store.ErrAlreadyExists for a duplicate id or when the
// subject already has a policy at that scope (account and org).
func (s *Store) CreatePolicy(ctx context.Context, p store.Policy) error {
	return s.write(ctx, "create policy", func(t *txn) error { return createPolicy(ctx, t, p) })
}

func createPolicy(ctx context.Context, t *txn, p store.Policy) error {
	if _, err := t.Exec(ctx, insertPolicy, p.ID, p.AccountID, p.Subject, p.Role, p.Org,
		p.CreatedBy, micros(p.CreatedAt)); err != nil {
		return err
	}
	t.logChange(store.ChangePolicy, p.Subject)
	return nil
}

// GetPolicy returns store.ErrNotFound when absent.
func (s *Store) GetPolicy(ctx context.Context, id string) (store.Policy, error) {
	p, err := scanPolicy(s.pool.QueryRow(ctx, `SELECT `+policyCols+` FROM policies WHERE id = $1`, id))
	return p, s.wrap("get policy", err)
}

// ListPolicies lists the policies matching q, ordered by id.
func (s *Store) ListPolicies(ctx context.Context, q store.PolicyQuery) ([]store.Policy, error) {
	var a args
	conds := []string{"id > " + a.add(q.Page.After)}
	for _, f := range []struct{ col, val string }{{"account_id", q.AccountID}, {"subject", q.Subject}, {"org", q.Org}} {
		if f.val != "" {
			conds = append(conds, f.col+" = "+a.add(f.val))
		}
	}
	query := `SELECT ` + policyCols + ` FROM policies` + where(conds) + ` ORDER BY id LIMIT ` + a.add(pageLimit(q.Page.Limit))
	ps, err := list(ctx, s.pool, scanPolicy, query, a...)
	return ps, s.wrap("list policies", err)
}

// DeletePolicy returns store.ErrNotFound when absent.
func (s *Store) DeletePolicy(ctx context.Context, id string) error {
	return s.write(ctx, "delete policy", func(t *txn) error {
		var subject string
		if err := t.QueryRow(ctx, `DELETE FROM policies WHERE id = $1 RETURNING subject`, id).Scan(&subject); err != nil {
			return err
		}
		t.logChange(store.ChangePolicy, subject)
		return nil
	})
}
