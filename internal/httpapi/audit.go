package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"time"

	"gatehouse/internal/audit"
	"gatehouse/internal/errs"
	"gatehouse/internal/iam"
	"gatehouse/internal/store"
)

// auditNote lets a handler name the target of a change or add a detail that
// the route alone does not tell. It never holds a secret.
type auditNote struct {
	target  string
	message string
}

const noteKey ctxKey = iota + 100

// noteAudit sets the audit target and message of the current change.
func noteAudit(r *http.Request, target, message string) {
	if n, ok := r.Context().Value(noteKey).(*auditNote); ok {
		if target != "" {
			n.target = target
		}
		n.message = message
	}
}

// auditCall records a change (or an attempt) in the audit log before the
// response leaves: the target is what the handler noted, else the created
// resource (Location) or the most specific path parameter.
func (s *Server) auditCall(r *http.Request, w http.ResponseWriter, action string, p *iam.Principal, note *auditNote, err error) {
	outcome := audit.Success
	msg := note.message
	if err != nil {
		e := errs.From(err)
		outcome = audit.Failure
		if e.Code == errs.Forbidden {
			outcome = audit.Denied
		}
		msg = string(e.Code)
	}
	target := note.target
	if target == "" {
		if loc := w.Header().Get("Location"); loc != "" && err == nil {
			target = path.Base(loc)
		}
	}
	for _, param := range []string{"id", "env", "org"} {
		if target != "" {
			break
		}
		target = r.PathValue(param)
	}
	e := audit.Entry{
		AccountID: p.AccountID(), ActorIAMID: p.IAMID(), ActorAPIKeyID: p.APIKeyID,
		Action: action, Target: errs.Printable(target), Outcome: outcome,
		RequestID: requestID(r), SourceIP: s.clientIP(r).String(), Message: msg,
	}
	if rerr := s.audit.Record(r.Context(), e); rerr != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "audit entry not written", slog.String("request_id", requestID(r)), slog.String("action", action), slog.Any("err", rerr))
	}
}

type auditView struct {
	Seq       int64      `json:"seq"`
	Time      string     `json:"time"`
	Actor     auditActor `json:"actor"`
	Action    string     `json:"action"`
	Target    string     `json:"target,omitempty"`
	Outcome   string     `json:"outcome"`
	RequestID string     `json:"request_id,omitempty"`
	SourceIP  string     `json:"source_ip,omitempty"`
	Message   string     `json:"message,omitempty"`
	PrevHash  string     `json:"prev_hash"`
	Hash      string     `json:"hash"`
}

type auditActor struct {
	IAMID    string `json:"iam_id,omitempty"`
	APIKeyID string `json:"apikey_id,omitempty"`
}

// listAudit is GET /v1/audit?actor=&action=&target=&since=&until=&limit=&after=.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	q := r.URL.Query()
	aq := store.AuditQuery{AccountID: p.AccountID(), Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	var err error
	if aq.Since, err = timeParam(q.Get("since"), "since"); err != nil {
		return err
	}
	if aq.Until, err = timeParam(q.Get("until"), "until"); err != nil {
		return err
	}
	if a := q.Get("after"); a != "" {
		if aq.AfterSeq, err = strconv.ParseInt(a, 10, 64); err != nil || aq.AfterSeq < 0 {
			return errs.Invalid("after", "after must be the seq of an entry.")
		}
	}
	limit, err := limitParam(q)
	if err != nil {
		return err
	}
	aq.Limit = limit + 1
	entries, err := s.auditStore.ListAudit(r.Context(), aq)
	if err != nil {
		return err
	}
	more := len(entries) > limit
	if more {
		entries = entries[:limit]
	}
	views := make([]auditView, len(entries))
	for i, e := range entries {
		views[i] = auditView{
			Seq: e.Seq, Time: e.Time.UTC().Format(time.RFC3339Nano), Actor: auditActor{e.ActorIAMID, e.ActorAPIKeyID},
			Action: e.Action, Target: e.Target, Outcome: e.Outcome, RequestID: e.RequestID, SourceIP: e.SourceIP,
			Message: e.Message, PrevHash: e.PrevHash, Hash: e.Hash,
		}
	}
	body := map[string]any{"limit": limit, "entries": views}
	if more {
		next := q
		next.Set("after", strconv.FormatInt(entries[len(entries)-1].Seq, 10))
		body["next"] = r.URL.Path + "?" + next.Encode()
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// verifyAudit is GET /v1/audit/verify: it walks the whole chain.
func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request, p *iam.Principal) error {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Minute)
	defer cancel()
	v, err := audit.Verify(ctx, s.auditStore)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func timeParam(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, errs.Invalid(name, "%s must be an RFC 3339 time such as 2026-11-25T10:00:00Z.", name)
	}
	return t, nil
}
