package postgres

import (
	"context"
	"time"

	"gatehouse/internal/store"
)

func scanChange(sc scanner) (store.Change, error) {
	var c store.Change
	err := sc.Scan(&c.Seq, &c.Kind, &c.Key, timeCol{&c.Time})
	return c, err
}

// Changes returns up to limit changes (100 when limit <= 0) with Seq > after,
// in Seq order. Changes commit in Seq order (see appendChanges), so a reader
// that remembers the last Seq it saw never misses one.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]store.Change, error) {
	cs, err := list(ctx, s.pool, scanChange, `SELECT seq, kind, key, time FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2`,
		after, pageLimit(limit))
	return cs, s.wrap("list changes", err)
}

// LastChange returns the highest Seq in the log, or 0 when it is empty.
func (s *Store) LastChange(ctx context.Context) (int64, error) {
	var seq int64
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM changes`).Scan(&seq)
	return seq, s.wrap("last change", err)
}

// PruneChanges deletes the changes whose Time is before before. Seqs are
// never reused, even when the log becomes empty.
func (s *Store) PruneChanges(ctx context.Context, before time.Time) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM changes WHERE time < $1`, micros(before))
	return s.wrap("prune changes", err)
}
