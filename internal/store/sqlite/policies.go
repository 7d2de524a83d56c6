package sqlite

import (
	"context"
	"database/sql"

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
	return s.write(ctx, "create policy", func(tx *sql.Tx) error { return s.createPolicy(ctx, tx, p) })
}

func (s *Store) createPolicy(ctx context.Context, tx *sql.Tx, p store.Policy) error {
	if _, err := tx.ExecContext(ctx, insertPolicy, p.ID, p.AccountID, p.Subject, p.Role, p.Org,
		p.CreatedBy, micros(p.CreatedAt)); err != nil {
		return err
	}
	return s.logChange(ctx, tx, store.ChangePolicy, p.Subject)
}

// GetPolicy returns store.ErrNotFound when absent.
func (s *Store) GetPolicy(ctx context.Context, id string) (store.Policy, error) {
	p, err := scanPolicy(s.row(ctx, `SELECT `+policyCols+` FROM policies WHERE id = ?`, id))
	return p, s.wrap("get policy", err)
}

// ListPolicies lists the policies matching q, ordered by id.
func (s *Store) ListPolicies(ctx context.Context, q store.PolicyQuery) ([]store.Policy, error) {
	conds := []string{"id > ?"}
	args := []any{q.Page.After}
	for _, f := range []struct{ col, val string }{{"account_id", q.AccountID}, {"subject", q.Subject}, {"org", q.Org}} {
		if f.val != "" {
			conds = append(conds, f.col+" = ?")
			args = append(args, f.val)
		}
	}
	ps, err := list(ctx, s, scanPolicy, `SELECT `+policyCols+` FROM policies`+where(conds)+` ORDER BY id LIMIT ?`,
		append(args, pageLimit(q.Page.Limit))...)
	return ps, s.wrap("list policies", err)
}

// DeletePolicy returns store.ErrNotFound when absent.
func (s *Store) DeletePolicy(ctx context.Context, id string) error {
	return s.write(ctx, "delete policy", func(tx *sql.Tx) error {
		var subject string
		if err := tx.QueryRowContext(ctx, `DELETE FROM policies WHERE id = ? RETURNING subject`, id).Scan(&subject); err != nil {
			return err
		}
		return s.logChange(ctx, tx, store.ChangePolicy, subject)
	})
}
