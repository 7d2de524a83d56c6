package sqlite

import (
	"context"
	"database/sql"
	"time"

	"gatehouse/internal/store"
)

func scanChange(sc scanner) (store.Change, error) {
	var c store.Change
	err := sc.Scan(&c.Seq, &c.Kind, &c.Key, timeCol{&c.Time})
	return c, err
}

// Changes returns up to limit changes (100 when limit <= 0) with Seq > after,
// in Seq order.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]store.Change, error) {
	cs, err := list(ctx, s, scanChange, `SELECT seq, kind, key, time FROM changes WHERE seq > ? ORDER BY seq LIMIT ?`,
		after, pageLimit(limit))
	return cs, s.wrap("list changes", err)
}

// LastChange returns the highest Seq in the log, or 0 when it is empty.
func (s *Store) LastChange(ctx context.Context) (int64, error) {
	var seq int64
	err := s.row(ctx, `SELECT COALESCE(MAX(seq), 0) FROM changes`).Scan(&seq)
	return seq, s.wrap("last change", err)
}

// PruneChanges deletes the changes whose Time is before before. Seqs are
// never reused, even when the log becomes empty.
func (s *Store) PruneChanges(ctx context.Context, before time.Time) error {
	return s.write(ctx, "prune changes", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM changes WHERE time < ?`, micros(before))
		return err
	})
}
