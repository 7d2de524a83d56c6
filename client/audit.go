package client

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// AuditEntry is one entry of the hash-chained audit log.
type AuditEntry struct {
	Seq       int64      `json:"seq"`
	Time      time.Time  `json:"time"`
	Actor     AuditActor `json:"actor"`
	Action    string     `json:"action"`
	Target    string     `json:"target,omitempty"`
	Outcome   string     `json:"outcome"` // success, failure or denied
	RequestID string     `json:"request_id,omitempty"`
	SourceIP  string     `json:"source_ip,omitempty"`
	Message   string     `json:"message,omitempty"`
	PrevHash  string     `json:"prev_hash"`
	Hash      string     `json:"hash"`
}

// AuditActor is who acted: the identity and the API key behind its token.
type AuditActor struct {
	IAMID    string `json:"iam_id,omitempty"`
	APIKeyID string `json:"apikey_id,omitempty"`
}

// AuditQuery filters and pages the audit log; zero fields do not filter.
type AuditQuery struct {
	Actor  string // iam_id or API key id
	Action string
	Target string
	Since  time.Time // inclusive
	Until  time.Time // exclusive
	Limit  int       // 1–1000; 0: the server's default (100)
	After  int64     // seq: entries after this one
}

// AuditPage is one page of the audit log. Next is the URL of the following
// page ("" on the last); NextAfter is its after parameter.
type AuditPage struct {
	Limit   int          `json:"limit"`
	Entries []AuditEntry `json:"entries"`
	Next    string       `json:"next,omitempty"`
}

// NextAfter is the After of the following page, or 0 on the last page.
func (p *AuditPage) NextAfter() int64 {
	u, err := url.Parse(p.Next)
	if p.Next == "" || err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(u.Query().Get("after"), 10, 64)
	return n
}

// ListAudit reads one page of the audit log (Administrator).
func (c *Client) ListAudit(ctx context.Context, q AuditQuery) (*AuditPage, error) {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("actor", q.Actor)
	set("action", q.Action)
	set("target", q.Target)
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.After > 0 {
		v.Set("after", strconv.FormatInt(q.After, 10))
	}
	var p AuditPage
	_, err := c.do(ctx, request{method: "GET", path: "/v1/audit", query: v}, &p)
	return &p, err
}

// AuditVerification is the result of checking the audit chain.
type AuditVerification struct {
	OK       bool   `json:"ok"`
	Entries  int64  `json:"entries"`
	Head     string `json:"head,omitempty"`
	BrokenAt int64  `json:"broken_at,omitempty"` // seq of the first bad entry
	Reason   string `json:"reason,omitempty"`
}

// VerifyAudit walks the whole audit chain (Administrator).
func (c *Client) VerifyAudit(ctx context.Context) (*AuditVerification, error) {
	var v AuditVerification
	_, err := c.do(ctx, request{method: "GET", path: "/v1/audit/verify"}, &v)
	return &v, err
}
