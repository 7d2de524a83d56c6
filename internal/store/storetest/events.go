package storetest

import (
	"fmt"
	"testing"
	"time"

	"gatehouse/internal/store"
)

// newEvent is a successful call in e, sec seconds after t0.
func newEvent(e store.Environment, sec int) store.Event {
	return store.Event{
		AccountID:      e.AccountID,
		OrgID:          e.OrgID,
		EnvID:          e.ID,
		Time:           t0.Add(time.Duration(sec) * time.Second),
		RequestID:      "req-" + newUUID(),
		API:            "weather:1.0.0",
		Operation:      "GET /forecast/{city}",
		Status:         200,
		Latency:        12345 * time.Microsecond,
		BackendLatency: 10 * time.Millisecond,
		BytesIn:        10,
		BytesOut:       2048,
		ClientID:       "client-1",
		AppID:          "app-1",
		ConsumerOrgID:  "corg-1",
		Product:        "climbon:1.0.0",
		Plan:           "default",
	}
}

func eventSeq(e store.Event) int64 { return e.Seq }

func mustAppendEvents(t *testing.T, s store.Store, batch ...store.Event) {
	t.Helper()
	if err := s.AppendEvents(t.Context(), batch); err != nil {
		t.Fatalf("AppendEvents(%d events): %v", len(batch), err)
	}
}

func mustListEvents(t *testing.T, s store.Store, q store.EventQuery) []store.Event {
	t.Helper()
	es, err := s.ListEvents(t.Context(), q)
	if err != nil {
		t.Fatalf("ListEvents(%+v): %v", q, err)
	}
	return es
}

// wantEvents fails unless got are want in order, each with a Seq greater
// than the one before.
func wantEvents(t *testing.T, what string, got, want []store.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		if i > 0 && got[i].Seq <= got[i-1].Seq {
			t.Fatalf("%s: Seq %d follows %d", what, got[i].Seq, got[i-1].Seq)
		}
		w := want[i]
		w.Seq = got[i].Seq
		wantEqual(t, fmt.Sprintf("%s: event %d", what, i), got[i], w)
	}
}

func testEventsAppend(t *testing.T, s store.Store) {
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	wantEqual(t, "events of an empty store", len(mustListEvents(t, s, store.EventQuery{})), 0)
	var want []store.Event
	// 64 and 150: the SQLite store writes 64 events per statement.
	for b, size := range []int{3, 0, 1, 4, 64, 150} {
		var batch []store.Event
		for i := range size {
			e := newEvent(envs[i%2], 10-i) // times need not follow the order of appends
			e.Operation = fmt.Sprintf("GET /batch/%d/%d", b, i)
			batch = append(batch, e)
		}
		wantErr(t, fmt.Sprintf("AppendEvents(batch %d of %d)", b, size), s.AppendEvents(t.Context(), batch), nil)
		want = append(want, batch...)
	}
	all := mustListEvents(t, s, store.EventQuery{Limit: 1000})
	wantEvents(t, "events", all, want)
	for i := range all {
		if want[i].Seq != all[i].Seq {
			t.Fatalf("event %d: AppendEvents gave it Seq %d, stored %d", i, want[i].Seq, all[i].Seq)
		}
	}

	// Seq keeps increasing across batches.
	last := newEvent(envs[0], 0)
	mustAppendEvents(t, s, last)
	wantEvents(t, "events after the last", mustListEvents(t, s, store.EventQuery{AfterSeq: all[len(all)-1].Seq}), []store.Event{last})
}

func testEventsFilters(t *testing.T, s store.Store) {
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	sb, prod := envs[0], envs[1]
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	event := func(e store.Environment, api, app string, status, sec int) store.Event {
		v := newEvent(e, sec)
		v.API, v.AppID, v.Status = api, app, status
		return v
	}
	mustAppendEvents(t, s,
		event(sb, "weather:1.0.0", "app-a", 200, 0),   // 1
		event(sb, "weather:1.0.0", "app-b", 404, 1),   // 2
		event(prod, "weather:1.0.0", "app-a", 200, 2), // 3
		event(sb, "routes:1.0.0", "app-a", 500, 3),    // 4
		event(sb, "routes:1.0.0", "", 401, 4),         // 5: no app identified
	)
	mustAppendEvents(t, s,
		event(sb, "weather:1.0.0", "app-a", 599, 5),  // 6
		event(sb, "weather:2.0.0", "app-b", 429, 5),  // 7
		event(prod, "routes:1.0.0", "app-b", 503, 6), // 8
		event(sb, "weather:1.0.0", "app-a", 600, 7),  // 9
	)
	all := mustListEvents(t, s, store.EventQuery{})
	wantEqual(t, "events", len(all), 9)
	seqs := func(ns ...int) []int64 {
		var out []int64
		for _, n := range ns {
			out = append(out, all[n-1].Seq)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    store.EventQuery
		want []int64
	}{
		{"no-filter", store.EventQuery{}, seqs(1, 2, 3, 4, 5, 6, 7, 8, 9)},
		{"env", store.EventQuery{EnvID: sb.ID}, seqs(1, 2, 4, 5, 6, 7, 9)},
		{"other-env", store.EventQuery{EnvID: prod.ID}, seqs(3, 8)},
		{"unknown-env", store.EventQuery{EnvID: "no-such-env"}, nil},
		{"api", store.EventQuery{EnvID: sb.ID, API: "weather:1.0.0"}, seqs(1, 2, 6, 9)},
		{"api-is-name-and-version", store.EventQuery{API: "weather"}, nil},
		{"app", store.EventQuery{EnvID: sb.ID, AppID: "app-b"}, seqs(2, 7)},
		{"status", store.EventQuery{Status: 200}, seqs(1, 3)},
		{"status-range", store.EventQuery{EnvID: sb.ID, StatusMin: 500, StatusMax: 599}, seqs(4, 6)},
		{"status-range-is-inclusive", store.EventQuery{StatusMin: 404, StatusMax: 500}, seqs(2, 4, 7)},
		{"status-min-alone", store.EventQuery{StatusMin: 500}, seqs(4, 6, 8, 9)},
		{"status-max-alone", store.EventQuery{StatusMax: 401}, seqs(1, 3, 5)},
		{"status-and-range", store.EventQuery{Status: 404, StatusMin: 400, StatusMax: 499}, seqs(2)},
		{"status-outside-range", store.EventQuery{Status: 200, StatusMin: 400, StatusMax: 499}, nil},
		{"since-is-inclusive", store.EventQuery{Since: at(5)}, seqs(6, 7, 8, 9)},
		{"until-is-exclusive", store.EventQuery{Until: at(2)}, seqs(1, 2)},
		{"since-and-until", store.EventQuery{EnvID: sb.ID, Since: at(1), Until: at(5)}, seqs(2, 4, 5)},
		{"since-equals-until", store.EventQuery{Since: at(5), Until: at(5)}, nil},
		{"after-seq", store.EventQuery{AfterSeq: all[5].Seq}, seqs(7, 8, 9)},
		{"after-the-last", store.EventQuery{AfterSeq: all[8].Seq}, nil},
		{"limit", store.EventQuery{EnvID: sb.ID, Limit: 2}, seqs(1, 2)},
		{"everything", store.EventQuery{EnvID: sb.ID, API: "weather:1.0.0", AppID: "app-a", StatusMin: 200, StatusMax: 599,
			Since: at(0), Until: at(7), AfterSeq: all[0].Seq, Limit: 10}, seqs(6)},
	} {
		got := mustListEvents(t, s, tc.q)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		wantEqual(t, "events listed by "+tc.name, idsOf(got, eventSeq), tc.want)
	}
}

func testEventsPages(t *testing.T, s store.Store) {
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb", "prod")
	var batch []store.Event
	for i := range 23 {
		batch = append(batch, newEvent(envs[min(i%3, 1)], i))
	}
	mustAppendEvents(t, s, batch...)
	all := mustListEvents(t, s, store.EventQuery{EnvID: envs[1].ID})
	wantEqual(t, "events of prod", len(all), 15)
	for _, limit := range []int{1, 2, 7, 15} {
		var got []store.Event
		q := store.EventQuery{EnvID: envs[1].ID, Limit: limit}
		for range 100 {
			page := mustListEvents(t, s, q)
			if len(page) > limit {
				t.Fatalf("page after %d has %d events, limit %d", q.AfterSeq, len(page), limit)
			}
			got = append(got, page...)
			if len(page) < limit {
				break
			}
			q.AfterSeq = page[len(page)-1].Seq
		}
		wantEqual(t, fmt.Sprintf("events in pages of %d", limit), got, all)
	}
}

func testEventsDefaultLimit(t *testing.T, s store.Store) {
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	batch := make([]store.Event, 130)
	for i := range batch {
		batch[i] = newEvent(envs[0], i)
	}
	mustAppendEvents(t, s, batch[:60]...)
	mustAppendEvents(t, s, batch[60:]...)
	first := mustListEvents(t, s, store.EventQuery{EnvID: envs[0].ID})
	wantEqual(t, "events on a page without a limit", len(first), 100)
	rest := mustListEvents(t, s, store.EventQuery{EnvID: envs[0].ID, AfterSeq: first[99].Seq})
	wantEvents(t, "all events", append(first, rest...), batch)
}

func testEventsDeleteBefore(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	mustCreateUser(t, s, newUser("alice")) // a change log that is not empty
	seq := mustLastChange(t, s)
	var batch []store.Event
	for i := range 10 {
		batch = append(batch, newEvent(envs[0], 9-i)) // newest first
	}
	mustAppendEvents(t, s, batch...)
	all := mustListEvents(t, s, store.EventQuery{})

	for _, tc := range []struct {
		name   string
		before time.Time
		want   int64
		left   []store.Event
	}{
		{"long-ago", t0.Add(-time.Hour), 0, batch},
		{"the-zero-time", time.Time{}, 0, batch},
		{"before-the-fifth-second", t0.Add(4 * time.Second), 4, batch[:6]}, // t0+0s … t0+3s go; t0+4s stays
		{"again", t0.Add(4 * time.Second), 0, batch[:6]},
		{"a-microsecond-after-the-eighth-second", t0.Add(8*time.Second + time.Microsecond), 5, batch[:1]},
		{"everything", t0.Add(time.Hour), 1, nil},
	} {
		n, err := s.DeleteEventsBefore(ctx, tc.before)
		wantErr(t, "DeleteEventsBefore "+tc.name, err, nil)
		wantEqual(t, "events deleted "+tc.name, n, tc.want)
		wantEvents(t, "events left after "+tc.name, mustListEvents(t, s, store.EventQuery{}), tc.left)
	}
	wantNoChange(t, s, seq)

	// Seqs are never reused: a reader that saw the last one sees the next.
	mustAppendEvents(t, s, newEvent(envs[0], 0))
	next := mustListEvents(t, s, store.EventQuery{AfterSeq: all[len(all)-1].Seq})
	if len(next) != 1 {
		t.Fatalf("events after the last Seq before the deletes = %d, want the new one", len(next))
	}
}

func testEventsDeleteMany(t *testing.T, s store.Store) {
	// Enough that a backend deleting in bounded chunks (so as not to hold a
	// lock for long) goes round several times; recent events are spread
	// among the old ones and form a run at the end.
	const total = 4000
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	batch := make([]store.Event, total)
	old := 0
	for i := range batch {
		batch[i] = newEvent(envs[0], 0)
		if i%7 < 2 || i >= total-200 {
			batch[i].Time = t0.Add(time.Hour)
		} else {
			old++
		}
	}
	mustAppendEvents(t, s, batch[:2500]...)
	mustAppendEvents(t, s, batch[2500:]...)
	n, err := s.DeleteEventsBefore(t.Context(), t0.Add(time.Minute))
	wantErr(t, "DeleteEventsBefore", err, nil)
	wantEqual(t, "events deleted", n, int64(old))
	left := mustListEvents(t, s, store.EventQuery{Limit: total})
	wantEqual(t, "events left", len(left), total-old)
	for _, e := range left {
		if e.Time != t0.Add(time.Hour) {
			t.Fatalf("event %d at %v survived the delete", e.Seq, e.Time)
		}
	}
}

func testEventsRoundTrip(t *testing.T, s store.Store) {
	// Nanoseconds and a zone that is not UTC, as callers may pass them.
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	at := time.Date(2026, 6, 1, 12, 0, 0, 987654321, zone)
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	e := newEvent(envs[0], 0)
	e.Time = at
	e.Latency = 2*time.Second + 345678912*time.Nanosecond
	e.BackendLatency = 999 * time.Nanosecond
	e.BytesIn, e.BytesOut = 1<<40, 0
	e.RateLimited = true
	z := newEvent(envs[0], 1)
	z.Latency, z.BackendLatency = 0, 0
	mustAppendEvents(t, s, e, z)

	got := mustListEvents(t, s, store.EventQuery{})
	// Times in UTC microseconds and durations in microseconds, as stored.
	want := e
	want.Time = time.Date(2026, 6, 1, 6, 30, 0, 987654000, time.UTC)
	want.Latency, want.BackendLatency = 2*time.Second+345678*time.Microsecond, 0
	wantEvents(t, "events", got, []store.Event{want, z})
	if got[0].Time != want.Time { // == rather than Equal: same location, no monotonic reading
		t.Fatalf("Time = %v (%s), want %v", got[0].Time, got[0].Time.Location(), want.Time)
	}
	// Since compares at the same precision.
	wantEqual(t, "events since the appended time", len(mustListEvents(t, s, store.EventQuery{Since: at})), 2)
	wantEqual(t, "events until the appended time", len(mustListEvents(t, s, store.EventQuery{Until: at})), 0)
}

func testEventsNoChange(t *testing.T, s store.Store) {
	_, envs := mustCreateOrg(t, s, newOrg("acme"), "sb")
	seq := mustLastChange(t, s)
	mustAppendEvents(t, s, newEvent(envs[0], 0), newEvent(envs[0], 1))
	wantErr(t, "AppendEvents(empty)", s.AppendEvents(t.Context(), nil), nil)
	_, err := s.DeleteEventsBefore(t.Context(), t0.Add(time.Hour))
	wantErr(t, "DeleteEventsBefore", err, nil)
	wantNoChange(t, s, seq)
}
