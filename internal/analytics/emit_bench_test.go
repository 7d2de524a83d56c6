package analytics_test

import (
	"context"
	"testing"
	"time"

	"gatehouse/internal/analytics"
	"gatehouse/internal/store"
)

// nopEvents is an event store that keeps nothing.
type nopEvents struct{}

func (nopEvents) AppendEvents(context.Context, []store.Event) error { return nil }
func (nopEvents) ListEvents(context.Context, store.EventQuery) ([]store.Event, error) {
	return nil, nil
}
func (nopEvents) DeleteEventsBefore(context.Context, time.Time) (int64, error) { return 0, nil }

// The gateway's share of analytics per call: queueing one event for the
// background writer (which batches them). scripts/benchguard.sh guards its
// allocations, which must stay at zero.
func BenchmarkEmit(b *testing.B) {
	w := analytics.NewWriter(nopEvents{}, nil)
	b.Cleanup(w.Close)
	ev := store.Event{AccountID: "acct", OrgID: "o1", EnvID: "e1", Time: time.Now(), RequestID: "0a1b2c3d4e5f-1",
		API: "weather:1.0.0", Operation: "GET /current", Status: 200, Latency: time.Millisecond,
		ClientID: "0123456789abcdef", AppID: "a1", ConsumerOrgID: "c1", Product: "weather-product:1.0.0", Plan: "default"}
	b.ReportAllocs()
	for b.Loop() {
		w.Emit(ev)
	}
	b.StopTimer()
	if err := w.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	// A full queue drops events rather than wait (by design); when the
	// loop outruns the writer that shows here, not as an error.
	b.ReportMetric(float64(w.Dropped())/float64(b.N), "dropped/op")
}
