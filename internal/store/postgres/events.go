package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/store"
)

const eventCols = `seq, account_id, org_id, env_id, time, request_id, api, operation, status, latency_us,
	backend_latency_us, bytes_in, bytes_out, client_id, app_id, consumer_org_id, product, plan, rate_limited`

// insertEvent leaves seq to the identity column and returns it.
var insertEvent = `INSERT INTO events (account_id, org_id, env_id, time, request_id, api, operation, status, latency_us,
	backend_latency_us, bytes_in, bytes_out, client_id, app_id, consumer_org_id, product, plan, rate_limited)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING seq`

func scanEvent(sc scanner) (store.Event, error) {
	var e store.Event
	err := sc.Scan(&e.Seq, &e.AccountID, &e.OrgID, &e.EnvID, timeCol{&e.Time}, &e.RequestID, &e.API, &e.Operation,
		&e.Status, durationCol{&e.Latency}, durationCol{&e.BackendLatency}, &e.BytesIn, &e.BytesOut, &e.ClientID,
		&e.AppID, &e.ConsumerOrgID, &e.Product, &e.Plan, &e.RateLimited)
	return e, err
}

// AppendEvents appends the batch in order in one transaction; an empty batch
// does nothing. Each event gets the next Seq (never reused, even after
// DeleteEventsBefore), which is also set in the batch; if the append fails,
// nothing is stored and the Seqs set mean nothing. Times and durations are
// stored in microseconds. Events are not cached, so no change is logged.
//
// Appends from all nodes take one advisory lock before they draw Seqs and
// keep it until they commit, so that events commit in Seq order and a reader
// paging by AfterSeq never steps over one committed later with a smaller
// Seq (see appendChanges for the same reasoning). The inserts go to the
// server in one round trip.
func (s *Store) AppendEvents(ctx context.Context, batch []store.Event) error {
	if len(batch) == 0 {
		return nil
	}
	return s.write(ctx, "append events", func(t *txn) error {
		b := &pgx.Batch{}
		b.Queue(`SELECT pg_advisory_xact_lock($1)`, lockEvents)
		for i := range batch {
			e := &batch[i]
			b.Queue(insertEvent, e.AccountID, e.OrgID, e.EnvID, micros(e.Time), e.RequestID, e.API,
				e.Operation, e.Status, e.Latency.Microseconds(), e.BackendLatency.Microseconds(), e.BytesIn, e.BytesOut,
				e.ClientID, e.AppID, e.ConsumerOrgID, e.Product, e.Plan, e.RateLimited).QueryRow(func(row pgx.Row) error {
				return row.Scan(&e.Seq)
			})
		}
		return t.SendBatch(ctx, b).Close()
	})
}

// ListEvents returns the events matching q in Seq order. Since and Until are
// compared at the store's precision, as in ListAudit. StatusMin and
// StatusMax are inclusive bounds and each applies on its own when the other
// is zero; Status, when set, must match as well.
func (s *Store) ListEvents(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	var a args
	// No redundant Seq bound from the time index, as the SQLite backend
	// needs: PostgreSQL's planner picks the (env_id, time) or time index
	// for a window by itself, and such a bound only misleads it.
	conds := []string{"seq > " + a.add(q.AfterSeq)}
	for _, f := range []struct{ col, val string }{{"env_id", q.EnvID}, {"api", q.API}, {"app_id", q.AppID}} {
		if f.val != "" {
			conds = append(conds, f.col+" = "+a.add(f.val))
		}
	}
	for _, f := range []struct {
		cond string
		val  int
	}{{"status = ", q.Status}, {"status >= ", q.StatusMin}, {"status <= ", q.StatusMax}} {
		if f.val != 0 {
			conds = append(conds, f.cond+a.add(f.val))
		}
	}
	if !q.Since.IsZero() {
		conds = append(conds, "time >= "+a.add(micros(q.Since)))
	}
	if !q.Until.IsZero() {
		conds = append(conds, "time < "+a.add(micros(q.Until)))
	}
	query := `SELECT ` + eventCols + ` FROM events` + where(conds) + ` ORDER BY seq LIMIT ` + a.add(pageLimit(q.Limit))
	es, err := list(ctx, s.pool, scanEvent, query, a...)
	return es, s.wrap("list events", err)
}

// deleteEventsChunk bounds how many events one statement of
// DeleteEventsBefore deletes, so that retention never holds locks (and
// bloats one transaction) for long.
const deleteEventsChunk = 1000

// DeleteEventsBefore deletes the events whose Time is before t and reports
// how many it deleted. It works in transactions of a thousand events, so
// on an error the events deleted so far (and counted) stay deleted.
func (s *Store) DeleteEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, `DELETE FROM events WHERE seq IN
			(SELECT seq FROM events WHERE time < $1 ORDER BY time LIMIT $2)`, micros(t), deleteEventsChunk)
		if err != nil {
			return total, s.wrap("delete events", err)
		}
		n := tag.RowsAffected()
		total += n
		if n < deleteEventsChunk {
			return total, nil
		}
	}
}
