// Package audit is the append-only, hash-chained audit log (SPEC §5.3): every
// state change and every token exchange, with who, what, when, from where and
// how it ended.
//
// Entries are chained: each carries the hash of the one before, and its own
// hash covers its content and that link, so editing, inserting or removing an
// entry in the middle of the log is detected by Verify. An entry never holds a
// secret: callers pass ids, hints and outcomes, never key values or tokens.
//
// Writes are group-committed by one writer goroutine: Record waits until its
// entry is durable (state changes), Submit does not (token exchanges, whose
// hot path must not wait for the disk).
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"gatehouse/internal/store"
)

// Outcomes.
const (
	Success = "success"
	Failure = "failure"
	Denied  = "denied"
)

// Entry is what callers know about an event; the log adds time, sequence and hashes.
type Entry struct {
	AccountID     string
	ActorIAMID    string
	ActorAPIKeyID string
	Action        string
	Target        string
	Outcome       string
	RequestID     string
	SourceIP      string
	Message       string
}

// Log writes audit entries.
type Log struct {
	store   store.AuditStore
	now     func() time.Time
	log     *slog.Logger
	queue   chan pending
	maxWait time.Duration

	mu      sync.RWMutex // held for reading by senders, for writing by Close
	closed  bool
	stopped chan struct{}
}

type pending struct {
	e    store.AuditEntry
	done chan error // nil: nobody waits
}

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("audit: log closed")

// New starts the writer. Close stops it after writing what is queued.
func New(st store.AuditStore, now func() time.Time, log *slog.Logger) *Log {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Log{store: st, now: now, log: log, queue: make(chan pending, 8192), stopped: make(chan struct{})}
	go l.run()
	return l
}

func (l *Log) entry(e Entry) store.AuditEntry {
	return store.AuditEntry{
		AccountID: e.AccountID, Time: l.now().UTC().Truncate(time.Microsecond),
		ActorIAMID: e.ActorIAMID, ActorAPIKeyID: e.ActorAPIKeyID, Action: e.Action, Target: e.Target,
		Outcome: e.Outcome, RequestID: e.RequestID, SourceIP: e.SourceIP, Message: e.Message,
	}
}

// Record appends e and returns once it is durable.
func (l *Log) Record(ctx context.Context, e Entry) error {
	done := make(chan error, 1)
	if err := l.enqueue(pending{e: l.entry(e), done: done}); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err() // the entry is still written
	}
}

// Submit appends e without waiting. It only blocks when the queue is full,
// which slows callers rather than dropping entries.
func (l *Log) Submit(e Entry) {
	if err := l.enqueue(pending{e: l.entry(e)}); err != nil {
		l.log.Warn("audit entry after close", "action", e.Action)
	}
}

func (l *Log) enqueue(p pending) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	l.queue <- p
	return nil
}

// Close writes what is queued and stops the writer.
func (l *Log) Close() {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.queue)
	}
	l.mu.Unlock()
	<-l.stopped
}

const maxBatch = 512

// run group-commits: it takes whatever is queued (up to maxBatch) and writes it
// in one transaction, so a burst of exchanges costs one commit, not thousands.
func (l *Log) run() {
	defer close(l.stopped)
	batch := make([]pending, 0, maxBatch)
	for p := range l.queue {
		batch = append(batch[:0], p)
	fill:
		for len(batch) < maxBatch {
			select {
			case p, ok := <-l.queue:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		l.write(batch)
	}
}

func (l *Log) write(batch []pending) {
	entries := make([]store.AuditEntry, len(batch))
	for i, p := range batch {
		entries[i] = p.e
	}
	var err error
	// A failed append is retried: with SQLite a failed commit wrote nothing.
	// (A backend whose commit can fail after applying must make the retry
	// idempotent, or the batch would be chained twice.)
	for attempt := 0; attempt < 3; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = l.store.AppendAudit(ctx, entries, Seal)
		cancel()
		if err == nil {
			break
		}
	}
	if err != nil {
		l.log.Error("audit: entries could not be written", "count", len(entries), "err", err)
	}
	for _, p := range batch {
		if p.done != nil {
			p.done <- err
		}
	}
}

// Seal links e to prev and computes its hash. It is the seal function passed
// to store.AuditStore.AppendAudit.
func Seal(prev store.AuditEntry, e *store.AuditEntry) {
	e.PrevHash = prev.Hash
	e.Hash = hashOf(e)
}

// hashOf is SHA-256 over the previous hash and every field of the entry,
// each length-prefixed so no two different entries serialize alike.
func hashOf(e *store.AuditEntry) string {
	h := sha256.New()
	var n [8]byte
	put := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	putInt := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	put("gatehouse-audit-v1")
	put(e.PrevHash)
	putInt(e.Seq)
	putInt(e.Time.UnixMicro())
	for _, s := range []string{e.AccountID, e.ActorIAMID, e.ActorAPIKeyID, e.Action, e.Target, e.Outcome, e.RequestID, e.SourceIP, e.Message} {
		put(s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Verification is the result of Verify.
type Verification struct {
	OK       bool   `json:"ok"`
	Entries  int64  `json:"entries"`             // entries checked
	Head     string `json:"head,omitempty"`      // hash of the last entry
	BrokenAt int64  `json:"broken_at,omitempty"` // Seq of the first bad entry
	Reason   string `json:"reason,omitempty"`
}

// Verify walks the whole chain and reports the first entry that does not fit:
// a gap in the sequence, a link that does not match the previous hash, or a
// hash that does not match the entry's content.
func Verify(ctx context.Context, st store.AuditStore) (Verification, error) {
	var v Verification
	var prev store.AuditEntry
	for {
		page, err := st.ListAudit(ctx, store.AuditQuery{AfterSeq: prev.Seq, Limit: 1000})
		if err != nil {
			return v, fmt.Errorf("audit verify: %w", err)
		}
		for i := range page {
			e := &page[i]
			switch {
			case e.Seq != prev.Seq+1:
				return broken(v, prev.Seq+1, fmt.Sprintf("entry %d is missing", prev.Seq+1)), nil
			case e.PrevHash != prev.Hash:
				return broken(v, e.Seq, fmt.Sprintf("entry %d does not link to entry %d (inserted, removed or altered)", e.Seq, prev.Seq)), nil
			case e.Hash != hashOf(e):
				return broken(v, e.Seq, fmt.Sprintf("entry %d was altered: its content does not match its hash", e.Seq)), nil
			}
			v.Entries++
			prev = *e
		}
		if len(page) < 1000 {
			v.OK, v.Head = true, prev.Hash
			return v, nil
		}
	}
}

func broken(v Verification, seq int64, reason string) Verification {
	v.BrokenAt, v.Reason = seq, reason
	return v
}
