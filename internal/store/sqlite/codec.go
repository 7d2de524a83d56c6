package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gatehouse/internal/store"
)

// Each table has one column list, used by its SELECTs and its INSERT, one
// function giving a record's values in that order and one scanning a row in
// that order, so the three cannot drift apart.

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// errScanner is a row whose query could not even be prepared.
type errScanner struct{ err error }

func (e errScanner) Scan(...any) error { return e.err }

// collect scans every row of a query.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// insertSQL is the INSERT statement for a table's column list.
func insertSQL(table, cols string) string {
	n := strings.Count(cols, ",") + 1
	return "INSERT INTO " + table + " (" + cols + ") VALUES (" + strings.Repeat("?, ", n-1) + "?)"
}

// multiInsertSQL is insertSQL for rows rows in one statement.
func multiInsertSQL(table, cols string, rows int) string {
	n := strings.Count(cols, ",") + 1
	row := "(" + strings.Repeat("?, ", n-1) + "?)"
	return "INSERT INTO " + table + " (" + cols + ") VALUES " + strings.Repeat(row+", ", rows-1) + row
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

// timeCol scans a stored time into *t.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*c.t = fromMicros(v)
	case nil:
		*c.t = time.Time{}
	default:
		return fmt.Errorf("time column holds %T", src)
	}
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
	return string(b), nil // a string, since the column is STRICT TEXT
}

// historyCol scans a stored history into *h.
type historyCol struct{ h *[]store.HistoryEntry }

func (c historyCol) Scan(src any) error {
	*c.h = nil
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("history column holds %T", src)
	}
	if err := json.Unmarshal(b, c.h); err != nil {
		return fmt.Errorf("decode history: %w", err)
	}
	return nil
}

// durationCol scans a duration stored in microseconds into *d.
type durationCol struct{ d *time.Duration }

func (c durationCol) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("duration column holds %T", src)
	}
	*c.d = time.Duration(v) * time.Microsecond
	return nil
}
