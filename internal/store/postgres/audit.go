package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/store"
)

const auditCols = `seq, account_id, time, actor_iam_id, actor_apikey_id, action, target, outcome, request_id,
	source_ip, message, prev_hash, hash`

var insertAudit = insertSQL("audit_log", auditCols)

// The WHERE of the partial indexes audit_log_by_apikey and
// audit_log_by_target (migration 0004), written exactly as there so the
// planner can use them, and its complement.
const (
	notExchange = "action <> 'token.exchange'"
	isExchange  = "action = 'token.exchange'"
)

func scanAudit(sc scanner) (store.AuditEntry, error) {
	var e store.AuditEntry
	err := sc.Scan(&e.Seq, &e.AccountID, timeCol{&e.Time}, &e.ActorIAMID, &e.ActorAPIKeyID, &e.Action, &e.Target,
		&e.Outcome, &e.RequestID, &e.SourceIP, &e.Message, &e.PrevHash, &e.Hash)
	return e, err
}

// AppendAudit appends the batch in order in one transaction; an empty batch
// does nothing. The entries are numbered and sealed in place: each gets Seq =
// the previous entry's Seq + 1 and its Time at the store's precision (UTC
// microseconds) before seal sees it, so a hash seal computes over the entry
// is a hash of what ListAudit will return. seal gets the previous entry as
// stored (the zero entry before the first); a nil seal stores the entries
// unsealed. The Seq seal leaves is ignored. If the append fails, nothing is
// stored and the values set in the batch mean nothing.
//
// The chain is global, not per account, and it cannot fork: every append,
// on any node, takes the same advisory lock before it reads the last entry
// and keeps it until its entries are committed, so appends follow one
// another. seal runs while the lock is held. Audit entries are not cached,
// so no change is logged.
func (s *Store) AppendAudit(ctx context.Context, batch []store.AuditEntry, seal func(prev store.AuditEntry, e *store.AuditEntry)) error {
	if len(batch) == 0 {
		return nil
	}
	return s.write(ctx, "append audit", func(t *txn) error {
		if _, err := t.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockAudit); err != nil {
			return err
		}
		prev, err := scanAudit(t.QueryRow(ctx, `SELECT `+auditCols+` FROM audit_log ORDER BY seq DESC LIMIT 1`))
		if errors.Is(err, pgx.ErrNoRows) {
			prev, err = store.AuditEntry{}, nil
		}
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		for i := range batch {
			e := &batch[i]
			seq := prev.Seq + 1
			e.Seq, e.Time = seq, fromMicros(micros(e.Time))
			if seal != nil {
				seal(prev, e)
				e.Seq, e.Time = seq, fromMicros(micros(e.Time))
			}
			b.Queue(insertAudit, e.Seq, e.AccountID, micros(e.Time), e.ActorIAMID, e.ActorAPIKeyID,
				e.Action, e.Target, e.Outcome, e.RequestID, e.SourceIP, e.Message, e.PrevHash, e.Hash)
			prev = *e
		}
		return t.SendBatch(ctx, b).Close()
	})
}

// ListAudit returns the entries matching q in Seq order. Actor matches the
// acting identity's iam_id or the acting API key's id. Since and Until are
// compared at the store's precision: an entry appended with Time t is listed
// by Since: t and not by Until: t.
func (s *Store) ListAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	var a args
	conds := []string{"seq > " + a.add(q.AfterSeq)}
	for _, f := range []struct{ col, val string }{{"account_id", q.AccountID}, {"action", q.Action}} {
		if f.val != "" {
			conds = append(conds, f.col+" = "+a.add(f.val))
		}
	}
	// The by-key and by-target indexes leave token exchanges out (migration
	// 0004): each condition on those columns is split so that the entries of
	// other actions are found through them and the exchanges through the
	// by-action index. The split conditions mean the same as the plain ones.
	if q.Target != "" {
		p := a.add(q.Target)
		conds = append(conds, "((target = "+p+" AND "+notExchange+") OR (target = "+p+" AND "+isExchange+"))")
	}
	if q.Actor != "" {
		p := a.add(q.Actor)
		conds = append(conds, "(actor_iam_id = "+p+" OR (actor_apikey_id = "+p+" AND "+notExchange+") OR (actor_apikey_id = "+p+" AND "+isExchange+"))")
	}
	if !q.Since.IsZero() {
		conds = append(conds, "time >= "+a.add(micros(q.Since)))
	}
	if !q.Until.IsZero() {
		conds = append(conds, "time < "+a.add(micros(q.Until)))
	}
	query := `SELECT ` + auditCols + ` FROM audit_log` + where(conds) + ` ORDER BY seq LIMIT ` + a.add(pageLimit(q.Limit))
	es, err := list(ctx, s.pool, scanAudit, query, a...)
	return es, s.wrap("list audit", err)
}
