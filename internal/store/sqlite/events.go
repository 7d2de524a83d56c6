package sqlite

import (
	"context"
	"database/sql"
	"runtime"
	"strings"
	"time"

	"gatehouse/internal/store"
)

const eventCols = `seq, account_id, org_id, env_id, time, request_id, api, operation, status, latency_us,
	backend_latency_us, bytes_in, bytes_out, client_id, app_id, consumer_org_id, product, plan, rate_limited`

// eventChunk events go into one INSERT. A statement costs the driver more
// than a row costs SQLite, so a batch of one statement per event spent
// 12 % of the gateway's CPU; and the writer yields the processor between
// chunks, so that a batch of thousands of events does not hold it for
// milliseconds while requests wait (the gateway's p99, docs/BENCHMARKS.md).
const eventChunk = 64

var (
	eventColCount = strings.Count(eventCols, ",") + 1
	insertEvents  = multiInsertSQL("events", eventCols, eventChunk)
)

func scanEvent(sc scanner) (store.Event, error) {
	var e store.Event
	err := sc.Scan(&e.Seq, &e.AccountID, &e.OrgID, &e.EnvID, timeCol{&e.Time}, &e.RequestID, &e.API, &e.Operation,
		&e.Status, durationCol{&e.Latency}, durationCol{&e.BackendLatency}, &e.BytesIn, &e.BytesOut, &e.ClientID,
		&e.AppID, &e.ConsumerOrgID, &e.Product, &e.Plan, &e.RateLimited)
	return e, err
}

// AppendEvents appends the batch in order in one transaction; an empty batch
// does nothing. SQLite assigns each event the next Seq (never reused, even
// after DeleteEventsBefore), which is also set in the batch; if the append
// fails, nothing is stored and the Seqs set mean nothing. Times and
// durations are stored in microseconds. Events are not cached, so no change
// is logged.
func (s *Store) AppendEvents(ctx context.Context, batch []store.Event) error {
	if len(batch) == 0 {
		return nil
	}
	return s.write(ctx, "append events", func(tx *sql.Tx) error {
		var full *sql.Stmt
		args := make([]any, 0, eventChunk*eventColCount)
		for lo := 0; lo < len(batch); lo += eventChunk {
			hi := min(lo+eventChunk, len(batch))
			args = args[:0]
			for i := lo; i < hi; i++ {
				e := &batch[i]
				args = append(args, nil, e.AccountID, e.OrgID, e.EnvID, micros(e.Time), e.RequestID, e.API,
					e.Operation, e.Status, e.Latency.Microseconds(), e.BackendLatency.Microseconds(), e.BytesIn, e.BytesOut,
					e.ClientID, e.AppID, e.ConsumerOrgID, e.Product, e.Plan, e.RateLimited)
			}
			var res sql.Result
			var err error
			if hi-lo == eventChunk {
				if full == nil {
					if full, err = tx.PrepareContext(ctx, insertEvents); err != nil {
						return err
					}
					defer full.Close()
				}
				res, err = full.ExecContext(ctx, args...)
			} else {
				res, err = tx.ExecContext(ctx, multiInsertSQL("events", eventCols, hi-lo), args...)
			}
			if err != nil {
				return err
			}
			// One statement, one writer: the rows took consecutive seqs.
			last, err := res.LastInsertId()
			if err != nil {
				return err
			}
			for i := lo; i < hi; i++ {
				batch[i].Seq = last - int64(hi-1-i)
			}
			runtime.Gosched()
		}
		return nil
	})
}

// ListEvents returns the events matching q in Seq order. Since and Until are
// compared at the store's precision, as in ListAudit. StatusMin and
// StatusMax are inclusive bounds and each applies on its own when the other
// is zero; Status, when set, must match as well.
func (s *Store) ListEvents(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	var conds []string
	var args []any
	if q.Since.IsZero() {
		conds, args = append(conds, "seq > ?"), append(args, q.AfterSeq)
	} else {
		// The Seq of the window's first event, found from a time index, is a
		// redundant lower bound that lets SQLite start its scan in Seq order
		// there rather than at the oldest event. One bound, not two: SQLite
		// would use only one of them for the range. (When no event is that
		// recent, MIN is NULL and so is MAX: the window is empty.)
		first := `(SELECT MIN(seq) - 1 FROM events INDEXED BY events_by_time WHERE time >= ?)`
		fargs := []any{micros(q.Since)}
		if q.EnvID != "" {
			first = `(SELECT MIN(seq) - 1 FROM events INDEXED BY events_by_env_time WHERE env_id = ? AND time >= ?)`
			fargs = []any{q.EnvID, micros(q.Since)}
		}
		conds = append(conds, "seq > MAX(?, "+first+")", "time >= ?")
		args = append(append(append(args, q.AfterSeq), fargs...), micros(q.Since))
	}
	for _, f := range []struct{ col, val string }{{"env_id", q.EnvID}, {"api", q.API}, {"app_id", q.AppID}} {
		if f.val != "" {
			conds = append(conds, f.col+" = ?")
			args = append(args, f.val)
		}
	}
	for _, f := range []struct {
		cond string
		val  int
	}{{"status = ?", q.Status}, {"status >= ?", q.StatusMin}, {"status <= ?", q.StatusMax}} {
		if f.val != 0 {
			conds = append(conds, f.cond)
			args = append(args, f.val)
		}
	}
	if !q.Until.IsZero() {
		conds = append(conds, "time < ?")
		args = append(args, micros(q.Until))
	}
	es, err := list(ctx, s, scanEvent, `SELECT `+eventCols+` FROM events`+where(conds)+` ORDER BY seq LIMIT ?`,
		append(args, pageLimit(q.Limit))...)
	return es, s.wrap("list events", err)
}

// deleteEventsChunk bounds how many events one transaction of
// DeleteEventsBefore deletes, so that retention never holds the writer (and
// with it every management write and the gateway's event batches) for long.
const deleteEventsChunk = 1000

// DeleteEventsBefore deletes the events whose Time is before t and reports
// how many it deleted. It works in transactions of a thousand events, so
// on an error the events deleted so far (and counted) stay deleted.
func (s *Store) DeleteEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.write(ctx, "delete events", func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE seq IN
				(SELECT seq FROM events WHERE time < ? ORDER BY time LIMIT ?)`, micros(t), deleteEventsChunk)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < deleteEventsChunk {
			return total, nil
		}
	}
}
