package postgres

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"gatehouse/internal/store"
)

// Each table has one column list, used by its SELECTs, its INSERT and the
// RETURNING of its UPDATEs, one function giving a record's values in that
// order and one scanning a row in that order, so the three cannot drift
// apart.

// insertSQL is the INSERT statement for a table's column list.
func insertSQL(table, cols string) string {
	n := strings.Count(cols, ",") + 1
	ps := make([]string, n)
	for i := range ps {
		ps[i] = fmt.Sprintf("$%d", i+1)
	}
	return "INSERT INTO " + table + " (" + cols + ") VALUES (" + strings.Join(ps, ", ") + ")"
}

// micros is t as stored: unix microseconds, 0 for the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros is the inverse of micros, always in UTC.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// blob is b as stored: NULL when empty, so that nil and empty slices both
// read back as nil, as they do from the SQLite backend.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// timeCol scans a stored time (bigint microseconds) into *t.
type timeCol struct{ t *time.Time }

func (c timeCol) ScanInt64(v pgtype.Int8) error {
	*c.t = time.Time{}
	if v.Valid {
		*c.t = fromMicros(v.Int64)
	}
	return nil
}

// durationCol scans a duration stored in microseconds into *d.
type durationCol struct{ d *time.Duration }

func (c durationCol) ScanInt64(v pgtype.Int8) error {
	if !v.Valid {
		return fmt.Errorf("duration column is NULL")
	}
	*c.d = time.Duration(v.Int64) * time.Microsecond
	return nil
}

// encodeHistory is h as stored: NULL when empty, else a JSON array whose
// times have the store's precision, like every other stored time.
func encodeHistory(h []store.HistoryEntry) (any, error) {
	if len(h) == 0 {
		return nil, nil
	}
	norm := make([]store.HistoryEntry, len(h))
	for i, e := range h {
		e.Time = fromMicros(micros(e.Time))
		norm[i] = e
	}
	b, err := json.Marshal(norm)
	if err != nil {
		return nil, fmt.Errorf("encode history: %w", err)
	}
	return string(b), nil
}

// historyCol scans a stored history into *h.
type historyCol struct{ h *[]store.HistoryEntry }

func (c historyCol) ScanText(v pgtype.Text) error {
	*c.h = nil
	if !v.Valid {
		return nil
	}
	if err := json.Unmarshal([]byte(v.String), c.h); err != nil {
		return fmt.Errorf("decode history: %w", err)
	}
	return nil
}
