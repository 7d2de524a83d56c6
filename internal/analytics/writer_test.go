package analytics_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/analytics"
	"gatehouse/internal/store"
)

// recEvents records the batches written; each batch is also sent on
// batches when that is not nil. A non-nil gate holds every write until it
// is closed; err fails them.
type recEvents struct {
	nopEvents
	mu      sync.Mutex
	sizes   []int
	reqIDs  []string
	batches chan int
	started chan struct{} // a write has begun (when not nil)
	gate    chan struct{}
	err     error
}

func (r *recEvents) AppendEvents(_ context.Context, b []store.Event) error {
	if r.started != nil {
		r.started <- struct{}{}
	}
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	r.sizes = append(r.sizes, len(b))
	for _, e := range b {
		r.reqIDs = append(r.reqIDs, e.RequestID)
	}
	r.mu.Unlock()
	if r.batches != nil {
		r.batches <- len(b)
	}
	return r.err
}

func (r *recEvents) written() (sizes []int, ids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.sizes...), append([]string(nil), r.reqIDs...)
}

func ev(i int) store.Event {
	return store.Event{RequestID: "r" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26)), Status: 200}
}

func TestWriterFlushWritesEverythingInOrderInBatches(t *testing.T) {
	st := &recEvents{}
	w := analytics.NewWriterDelay(st, nil, time.Hour) // only Flush and full batches write
	defer w.Close()
	const n = 2*analytics.BatchSize + 100
	for i := range n {
		w.Emit(ev(i))
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	sizes, ids := st.written()
	total := 0
	for _, s := range sizes {
		if s < 1 || s > analytics.BatchSize {
			t.Errorf("batch of %d events, want 1..%d", s, analytics.BatchSize)
		}
		total += s
	}
	if total != n || len(ids) != n || w.Written() != n || w.Dropped() != 0 {
		t.Fatalf("written %d events in %v (Written %d, Dropped %d), want %d", total, sizes, w.Written(), w.Dropped(), n)
	}
	for i, id := range ids {
		if id != ev(i).RequestID {
			t.Fatalf("event %d is %s, want %s (order kept)", i, id, ev(i).RequestID)
		}
	}
	// A second Flush with nothing queued writes nothing.
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again, _ := st.written(); len(again) != len(sizes) {
		t.Errorf("an empty Flush wrote batches %v", again[len(sizes):])
	}
}

func TestWriterWritesAFullBatchWithoutWaiting(t *testing.T) {
	st := &recEvents{batches: make(chan int, 16)}
	w := analytics.NewWriterDelay(st, nil, time.Hour)
	defer w.Close()
	for i := range analytics.BatchSize {
		w.Emit(ev(i))
	}
	// The delay is an hour: only the full batch can make the writer write.
	got := 0
	deadline := time.After(30 * time.Second)
	for got < analytics.BatchSize {
		select {
		case n := <-st.batches:
			got += n
		case <-deadline:
			t.Fatalf("a full batch was not written (got %d of %d events)", got, analytics.BatchSize)
		}
	}
}

func TestWriterWritesAfterTheDelayWithoutFlush(t *testing.T) {
	st := &recEvents{batches: make(chan int, 16)}
	w := analytics.NewWriterDelay(st, nil, time.Millisecond)
	defer w.Close()
	w.Emit(ev(0))
	select {
	case n := <-st.batches:
		if n != 1 {
			t.Errorf("batch of %d, want 1", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a lone event was not written after the delay")
	}
	// And again after being idle.
	w.Emit(ev(1))
	w.Emit(ev(2))
	got := 0
	for got < 2 {
		select {
		case n := <-st.batches:
			got += n
		case <-time.After(30 * time.Second):
			t.Fatalf("events after an idle spell not written (got %d of 2)", got)
		}
	}
}

func TestWriterCloseWritesWhatIsQueuedThenDrops(t *testing.T) {
	st := &recEvents{}
	w := analytics.NewWriterDelay(st, nil, time.Hour)
	for i := range 10 {
		w.Emit(ev(i))
	}
	w.Close()
	if _, ids := st.written(); len(ids) != 10 || w.Written() != 10 {
		t.Fatalf("Close wrote %d events (Written %d), want 10", len(ids), w.Written())
	}
	w.Emit(ev(10))
	if w.Dropped() != 1 {
		t.Errorf("Emit after Close: Dropped %d, want 1", w.Dropped())
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Errorf("Flush after Close: %v", err)
	}
	w.Close() // a second Close is harmless
}

func TestWriterDropsAndCountsOnStoreError(t *testing.T) {
	st := &recEvents{err: errors.New("disk full")}
	w := analytics.NewWriterDelay(st, nil, time.Hour)
	defer w.Close()
	for i := range 5 {
		w.Emit(ev(i))
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if w.Dropped() != 5 || w.Written() != 0 {
		t.Errorf("Dropped %d, Written %d; want 5 and 0", w.Dropped(), w.Written())
	}
}

func TestWriterDropsWhenTheQueueIsFull(t *testing.T) {
	st := &recEvents{started: make(chan struct{}, 1), gate: make(chan struct{})}
	w := analytics.NewWriterDelay(st, nil, time.Hour)
	defer w.Close()
	// A full batch makes the writer take it and block in the held write;
	// then the buffer holds exactly BufferSize more.
	for i := range analytics.BatchSize {
		w.Emit(ev(i))
	}
	select {
	case <-st.started:
	case <-time.After(30 * time.Second):
		t.Fatal("a full batch was not written")
	}
	n := analytics.BatchSize + analytics.BufferSize + 3
	for i := analytics.BatchSize; i < n; i++ {
		w.Emit(ev(i))
	}
	if w.Dropped() != 3 {
		t.Errorf("a full buffer dropped %d events, want 3", w.Dropped())
	}
	close(st.gate)
	go func() {
		for range st.started {
		}
	}()
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := w.Written() + w.Dropped(); got != int64(n) {
		t.Errorf("Written %d + Dropped %d = %d, want %d", w.Written(), w.Dropped(), got, n)
	}
}

func TestWriterFlushHonoursItsContext(t *testing.T) {
	st := &recEvents{gate: make(chan struct{})}
	w := analytics.NewWriterDelay(st, nil, time.Hour)
	defer w.Close()
	defer close(st.gate)
	w.Emit(ev(0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush with a cancelled context: %v", err)
	}
}
