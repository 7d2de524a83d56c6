package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/store"
)

// sealChain is the seal the audit tests use, as the audit package seals with
// its own encoding: PrevHash is the previous entry's Hash and Hash covers it
// with every field of the entry, so a chain recomputed from ListAudit only
// matches when seal saw the true previous entry and the entry as stored.
func sealChain(prev store.AuditEntry, e *store.AuditEntry) {
	e.PrevHash = prev.Hash
	e.Hash = auditHash(*e)
}

func auditHash(e store.AuditEntry) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%q", []any{e.PrevHash, e.Seq, e.AccountID, e.Time.Format(time.RFC3339Nano),
		e.ActorIAMID, e.ActorAPIKeyID, e.Action, e.Target, e.Outcome, e.RequestID, e.SourceIP, e.Message}))
	return hex.EncodeToString(sum[:])
}

// wantChain fails unless entries are the whole log: Seq 1, 2, … and each
// entry sealed by sealChain onto the one before it.
func wantChain(t *testing.T, entries []store.AuditEntry) {
	t.Helper()
	var prev store.AuditEntry
	for i, e := range entries {
		if e.Seq != int64(i+1) {
			t.Fatalf("entry %d has Seq %d, want %d", i, e.Seq, i+1)
		}
		if e.PrevHash != prev.Hash {
			t.Fatalf("entry %d: PrevHash %q, want the previous entry's Hash %q", e.Seq, e.PrevHash, prev.Hash)
		}
		if want := auditHash(e); e.Hash != want {
			t.Fatalf("entry %d: Hash %q does not recompute (%q) from the entry as listed", e.Seq, e.Hash, want)
		}
		prev = e
	}
}

func newAuditEntry(action, target string) store.AuditEntry {
	return store.AuditEntry{
		AccountID:     acct,
		Time:          t0,
		ActorIAMID:    "iam-User-a",
		ActorAPIKeyID: "ApiKey-a",
		Action:        action,
		Target:        target,
		Outcome:       "success",
		RequestID:     "req-" + newUUID(),
		SourceIP:      "192.0.2.7",
		Message:       action + " " + target,
	}
}

func mustAppendAudit(t *testing.T, s store.Store, batch ...store.AuditEntry) {
	t.Helper()
	if err := s.AppendAudit(t.Context(), batch, sealChain); err != nil {
		t.Fatalf("AppendAudit(%d entries): %v", len(batch), err)
	}
}

func mustListAudit(t *testing.T, s store.Store, q store.AuditQuery) []store.AuditEntry {
	t.Helper()
	es, err := s.ListAudit(t.Context(), q)
	if err != nil {
		t.Fatalf("ListAudit(%+v): %v", q, err)
	}
	return es
}

func testAuditAppend(t *testing.T, s store.Store) {
	ctx := t.Context()
	wantEqual(t, "entries of an empty log", len(mustListAudit(t, s, store.AuditQuery{})), 0)

	var want []store.AuditEntry
	prev := store.AuditEntry{}
	for b, size := range []int{3, 0, 1, 4} {
		var batch []store.AuditEntry
		for i := range size {
			e := newAuditEntry("apikey.create", fmt.Sprintf("ApiKey-%d-%d", b, i))
			if i%2 == 1 {
				e.AccountID = other // one chain for all accounts
			}
			batch = append(batch, e)
		}
		// What the log must hold: each entry numbered and sealed in order.
		for _, e := range batch {
			e.Seq = prev.Seq + 1
			sealChain(prev, &e)
			want = append(want, e)
			prev = e
		}
		called := 0
		err := s.AppendAudit(ctx, batch, func(prev store.AuditEntry, e *store.AuditEntry) {
			called++
			sealChain(prev, e)
		})
		wantErr(t, fmt.Sprintf("AppendAudit(batch %d of %d)", b, size), err, nil)
		wantEqual(t, fmt.Sprintf("seal calls for batch %d", b), called, size)
	}
	got := mustListAudit(t, s, store.AuditQuery{})
	wantEqual(t, "log", got, want)
	wantChain(t, got)
}

func testAuditSealSeesPrevious(t *testing.T, s store.Store) {
	type call struct {
		prev store.AuditEntry
		seq  int64
	}
	var calls []call
	seal := func(prev store.AuditEntry, e *store.AuditEntry) {
		calls = append(calls, call{prev, e.Seq})
		sealChain(prev, e)
	}
	for b, size := range []int{2, 1, 3} {
		var batch []store.AuditEntry
		for i := range size {
			batch = append(batch, newAuditEntry("user.update", fmt.Sprintf("User-%d-%d", b, i)))
		}
		wantErr(t, "AppendAudit", s.AppendAudit(t.Context(), batch, seal), nil)
	}
	log := mustListAudit(t, s, store.AuditQuery{})
	wantChain(t, log)
	wantEqual(t, "seal calls", len(calls), len(log))
	for i, c := range calls {
		// Within a batch and across batches alike: the entry as stored.
		want := store.AuditEntry{}
		if i > 0 {
			want = log[i-1]
		}
		wantEqual(t, fmt.Sprintf("prev of seal call %d", i), c.prev, want)
		wantEqual(t, fmt.Sprintf("Seq seen by seal call %d", i), c.seq, int64(i+1))
	}
}

func testAuditSealedAsStored(t *testing.T, s store.Store) {
	// Nanoseconds and a zone that is not UTC, as callers may pass them: seal
	// must see the time as it will be stored, or no hash over it could be
	// verified later.
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	at := time.Date(2026, 6, 1, 12, 0, 0, 987654321, zone)
	stored := time.Date(2026, 6, 1, 6, 30, 0, 987654000, time.UTC)

	var seen []time.Time
	seal := func(prev store.AuditEntry, e *store.AuditEntry) {
		seen = append(seen, e.Time)
		sealChain(prev, e)
	}
	a, b, zero := newAuditEntry("token.exchange", ""), newAuditEntry("token.exchange", ""), newAuditEntry("token.exchange", "")
	a.Time, b.Time, zero.Time = at, at.Add(time.Second), time.Time{}
	wantErr(t, "AppendAudit", s.AppendAudit(t.Context(), []store.AuditEntry{a, b}, seal), nil)
	wantErr(t, "AppendAudit", s.AppendAudit(t.Context(), []store.AuditEntry{zero}, seal), nil)

	log := mustListAudit(t, s, store.AuditQuery{})
	wantChain(t, log)
	for i, want := range []time.Time{stored, stored.Add(time.Second), {}} {
		// == rather than Equal: same instant, same location (UTC), no
		// monotonic reading.
		if log[i].Time != want || seen[i] != want {
			t.Errorf("entry %d: Time listed %v, seen by seal %v; want %v", i+1, log[i].Time, seen[i], want)
		}
	}

	// Time bounds compare at the same precision: an entry appended with
	// Time t is listed by Since: t and not by Until: t.
	for _, tc := range []struct {
		name string
		q    store.AuditQuery
		want []int64
	}{
		{"since-the-appended-time", store.AuditQuery{Since: at}, []int64{1, 2}},
		{"since-the-stored-time", store.AuditQuery{Since: stored}, []int64{1, 2}},
		{"since-a-microsecond-later", store.AuditQuery{Since: stored.Add(time.Microsecond)}, []int64{2}},
		{"until-the-appended-time", store.AuditQuery{Until: at}, []int64{3}},
		{"until-a-microsecond-later", store.AuditQuery{Until: stored.Add(time.Microsecond)}, []int64{1, 3}},
	} {
		wantEqual(t, "seqs listed "+tc.name, idsOf(mustListAudit(t, s, tc.q), auditSeq), tc.want)
	}
}

func testAuditListFilters(t *testing.T, s store.Store) {
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	entry := func(account, iamID, keyID, action, target string, sec int) store.AuditEntry {
		e := newAuditEntry(action, target)
		e.AccountID, e.ActorIAMID, e.ActorAPIKeyID, e.Time = account, iamID, keyID, at(sec)
		return e
	}
	mustAppendAudit(t, s,
		entry(acct, "iam-User-a", "ApiKey-1", "apikey.create", "ApiKey-9", 0),      // 1
		entry(acct, "iam-User-a", "", "user.update", "User-b", 1),                  // 2
		entry(acct, "iam-User-b", "ApiKey-2", "token.exchange", "", 2),             // 3
		entry(other, "iam-User-a", "ApiKey-3", "apikey.create", "ApiKey-9", 3),     // 4
		entry(acct, "iam-ServiceId-c", "ApiKey-4", "apikey.delete", "ApiKey-9", 4), // 5
	)
	mustAppendAudit(t, s,
		entry(acct, "iam-User-a", "ApiKey-1", "token.exchange", "", 5),          // 6
		entry(acct, "", "", "token.exchange", "", 5),                            // 7: an unknown key
		entry(acct, "iam-User-b", "ApiKey-2", "policy.create", "iam-User-a", 6), // 8: a target that is an actor elsewhere
	)
	for _, tc := range []struct {
		name string
		q    store.AuditQuery
		want []int64
	}{
		{"no-filter", store.AuditQuery{}, []int64{1, 2, 3, 4, 5, 6, 7, 8}},
		{"account", store.AuditQuery{AccountID: acct}, []int64{1, 2, 3, 5, 6, 7, 8}},
		{"other-account", store.AuditQuery{AccountID: other}, []int64{4}},
		{"unknown-account", store.AuditQuery{AccountID: "0000"}, nil},
		{"actor-by-iam-id", store.AuditQuery{Actor: "iam-User-a"}, []int64{1, 2, 4, 6}},
		{"actor-by-iam-id-in-account", store.AuditQuery{AccountID: acct, Actor: "iam-User-a"}, []int64{1, 2, 6}},
		{"actor-by-api-key-id", store.AuditQuery{Actor: "ApiKey-1"}, []int64{1, 6}},
		{"actor-by-another-key", store.AuditQuery{Actor: "ApiKey-2"}, []int64{3, 8}},
		{"actor-not-in-account", store.AuditQuery{AccountID: other, Actor: "iam-User-b"}, nil},
		{"unknown-actor", store.AuditQuery{Actor: "iam-User-z"}, nil},
		{"action", store.AuditQuery{Action: "token.exchange"}, []int64{3, 6, 7}},
		{"target", store.AuditQuery{Target: "ApiKey-9"}, []int64{1, 4, 5}},
		{"target-is-not-actor", store.AuditQuery{Target: "iam-User-a"}, []int64{8}},
		{"since-is-inclusive", store.AuditQuery{Since: at(2)}, []int64{3, 4, 5, 6, 7, 8}},
		{"until-is-exclusive", store.AuditQuery{Until: at(2)}, []int64{1, 2}},
		{"since-and-until", store.AuditQuery{Since: at(1), Until: at(5)}, []int64{2, 3, 4, 5}},
		{"since-equals-until", store.AuditQuery{Since: at(5), Until: at(5)}, nil},
		{"since-at-a-shared-time", store.AuditQuery{Since: at(5)}, []int64{6, 7, 8}},
		{"after-seq", store.AuditQuery{AfterSeq: 5}, []int64{6, 7, 8}},
		{"after-the-last", store.AuditQuery{AfterSeq: 8}, nil},
		{"limit", store.AuditQuery{Limit: 2}, []int64{1, 2}},
		{"account-after-seq-limit", store.AuditQuery{AccountID: acct, AfterSeq: 2, Limit: 3}, []int64{3, 5, 6}},
		{"account-action-since", store.AuditQuery{AccountID: acct, Action: "token.exchange", Since: at(3)}, []int64{6, 7}},
		{"actor-action-target", store.AuditQuery{Actor: "iam-User-b", Action: "policy.create", Target: "iam-User-a"}, []int64{8}},
		{"actor-and-time-range", store.AuditQuery{Actor: "iam-User-a", Since: at(1), Until: at(6)}, []int64{2, 4, 6}},
		{"everything", store.AuditQuery{AccountID: acct, Actor: "ApiKey-1", Action: "token.exchange", Target: "",
			Since: at(5), Until: at(6), AfterSeq: 1, Limit: 10}, []int64{6}},
	} {
		got := mustListAudit(t, s, tc.q)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		wantEqual(t, "seqs listed by "+tc.name, idsOf(got, auditSeq), tc.want)
	}
	wantChain(t, mustListAudit(t, s, store.AuditQuery{}))

	// A token exchange names its key as actor and target (the stores leave
	// exchanges out of their by-key and by-target indexes): the filters find
	// it next to the other actions' entries of the same key.
	mustAppendAudit(t, s,
		entry(acct, "iam-ServiceId-c", "ApiKey-7", "token.exchange", "ApiKey-7", 7), // 9
		entry(acct, "iam-User-a", "ApiKey-1", "apikey.update", "ApiKey-7", 8),       // 10
		entry(acct, "iam-ServiceId-c", "ApiKey-7", "apikey.update", "ApiKey-8", 9),  // 11
	)
	for _, tc := range []struct {
		name string
		q    store.AuditQuery
		want []int64
	}{
		{"exchange-target", store.AuditQuery{Target: "ApiKey-7"}, []int64{9, 10}},
		{"exchange-actor", store.AuditQuery{Actor: "ApiKey-7"}, []int64{9, 11}},
		{"exchange-actor-and-target", store.AuditQuery{Actor: "ApiKey-7", Target: "ApiKey-7"}, []int64{9}},
		{"exchange-action-target", store.AuditQuery{Action: "token.exchange", Target: "ApiKey-7"}, []int64{9}},
		{"other-action-target", store.AuditQuery{Action: "apikey.update", Target: "ApiKey-7"}, []int64{10}},
		{"exchange-target-after-seq", store.AuditQuery{Target: "ApiKey-7", AfterSeq: 9}, []int64{10}},
		{"exchange-actor-limit", store.AuditQuery{Actor: "ApiKey-7", Limit: 1}, []int64{9}},
	} {
		wantEqual(t, "seqs listed by "+tc.name, idsOf(mustListAudit(t, s, tc.q), auditSeq), tc.want)
	}
}

func testAuditListPages(t *testing.T, s store.Store) {
	var batch []store.AuditEntry
	for i := range 23 {
		e := newAuditEntry("apikey.update", fmt.Sprint("ApiKey-", i))
		if i%3 == 0 {
			e.AccountID = other
		}
		batch = append(batch, e)
	}
	mustAppendAudit(t, s, batch...)
	all := mustListAudit(t, s, store.AuditQuery{AccountID: acct})
	wantEqual(t, "entries of the account", len(all), 15)
	for _, limit := range []int{1, 2, 7, 15} {
		var got []store.AuditEntry
		q := store.AuditQuery{AccountID: acct, Limit: limit}
		for range 100 {
			page := mustListAudit(t, s, q)
			if len(page) > limit {
				t.Fatalf("page after %d has %d entries, limit %d", q.AfterSeq, len(page), limit)
			}
			got = append(got, page...)
			if len(page) < limit {
				break
			}
			q.AfterSeq = page[len(page)-1].Seq
		}
		wantEqual(t, fmt.Sprintf("entries in pages of %d", limit), got, all)
	}
}

func testAuditListDefaultLimit(t *testing.T, s store.Store) {
	batch := make([]store.AuditEntry, 130)
	for i := range batch {
		batch[i] = newAuditEntry("token.exchange", "")
	}
	mustAppendAudit(t, s, batch[:60]...)
	mustAppendAudit(t, s, batch[60:]...)
	first := mustListAudit(t, s, store.AuditQuery{})
	wantEqual(t, "entries on a page without a limit", len(first), 100)
	rest := mustListAudit(t, s, store.AuditQuery{AfterSeq: first[99].Seq})
	wantEqual(t, "entries on the second page", len(rest), 30)
	wantChain(t, append(first, rest...))
}

func testAuditNoChange(t *testing.T, s store.Store) {
	mustCreateUser(t, s, newUser("alice")) // a log that is not empty
	seq := mustLastChange(t, s)
	mustAppendAudit(t, s, newAuditEntry("user.create", "User-alice"), newAuditEntry("apikey.create", "ApiKey-x"))
	wantNoChange(t, s, seq)
}

func testConcurrentAudit(t *testing.T, s store.Store) {
	const writers, perBatch = 16, 5
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			batch := make([]store.AuditEntry, perBatch)
			for i := range batch {
				batch[i] = newAuditEntry("token.exchange", fmt.Sprint("writer-", w))
				batch[i].Message = fmt.Sprint(i)
			}
			<-start
			if err := s.AppendAudit(t.Context(), batch, sealChain); err != nil {
				t.Errorf("AppendAudit from writer %d: %v", w, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}

	log := mustListAudit(t, s, store.AuditQuery{Limit: 1000})
	wantEqual(t, "entries", len(log), writers*perBatch)
	wantChain(t, log)
	// Each batch went in whole and in order, one after another.
	seen := map[string]bool{}
	for i := 0; i < len(log); i += perBatch {
		writer := log[i].Target
		if seen[writer] {
			t.Fatalf("%s's entries are not contiguous", writer)
		}
		seen[writer] = true
		var msgs []string
		for _, e := range log[i : i+perBatch] {
			if e.Target != writer {
				t.Fatalf("entry %d is %s's, inside %s's batch", e.Seq, e.Target, writer)
			}
			msgs = append(msgs, e.Message)
		}
		if !slices.Equal(msgs, []string{"0", "1", "2", "3", "4"}) {
			t.Fatalf("%s's batch stored in the order %v", writer, msgs)
		}
	}
}
