// Package analytics records one event per gateway call and answers questions
// about them (SPEC §8): events are buffered and written in background batches,
// so recording never slows or fails a call; when the buffer is full an event
// is dropped and counted rather than waited for.
package analytics

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"gatehouse/internal/store"
)

// Writer buffers events and writes them in batches.
//
// The background writer is not woken per event: once an event arrives it
// waits up to maxDelay (or until a batch is full) and then takes everything
// queued at once. Emit therefore rarely has a goroutine to wake, which keeps
// a goroutine switch (and the scheduling delay that comes with it on a busy
// machine) off each gateway call; when idle, no timer runs.
type Writer struct {
	store   store.EventStore
	log     *slog.Logger
	queue   chan store.Event
	kick    chan struct{} // a full batch is queued
	stop    chan struct{} // closed by Close
	dropped atomic.Int64
	written atomic.Int64
	mu      sync.RWMutex
	closed  bool
	done    chan struct{}
	flushes chan chan struct{}
	delay   time.Duration // maxDelay but in tests
}

const (
	bufferSize = 65536
	batchSize  = 1024
	maxDelay   = 500 * time.Millisecond
)

// NewWriter starts the background writer; Close stops it after a last flush.
func NewWriter(st store.EventStore, log *slog.Logger) *Writer {
	return newWriter(st, log, maxDelay)
}

func newWriter(st store.EventStore, log *slog.Logger, delay time.Duration) *Writer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{store: st, log: log, queue: make(chan store.Event, bufferSize), kick: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}), flushes: make(chan chan struct{}), delay: delay}
	go w.run()
	return w
}

// Emit queues an event; it never blocks (a full buffer drops the event).
func (w *Writer) Emit(e store.Event) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.dropped.Add(1)
		return
	}
	select {
	case w.queue <- e:
		// The writer holds at most one event while it waits (the first).
		if len(w.queue) >= batchSize-1 {
			select {
			case w.kick <- struct{}{}:
			default:
			}
		}
	default:
		w.dropped.Add(1)
	}
}

// Dropped and Written count events since start.
func (w *Writer) Dropped() int64 { return w.dropped.Load() }
func (w *Writer) Written() int64 { return w.written.Load() }

// Close writes what is queued and stops.
func (w *Writer) Close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
		close(w.stop)
	}
	w.mu.Unlock()
	<-w.done
}

func (w *Writer) run() {
	defer close(w.done)
	batch := make([]store.Event, 0, batchSize)
	timer := time.NewTimer(w.delay)
	timer.Stop()
	defer timer.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := w.store.AppendEvents(ctx, batch)
		cancel()
		if err != nil {
			w.dropped.Add(int64(len(batch)))
			w.log.Warn("analytics: events could not be written; dropped", "count", len(batch), "err", err)
		} else {
			w.written.Add(int64(len(batch)))
		}
		batch = batch[:0]
	}
	// drain writes what is queued now, in batches of at most batchSize.
	drain := func() {
		for n := len(w.queue); n > 0; n-- {
			batch = append(batch, <-w.queue)
			if len(batch) >= batchSize {
				flush()
			}
		}
		flush()
	}
	for {
		// Idle: wait for the first event, with no timer running.
		select {
		case e, ok := <-w.queue:
			if !ok {
				flush()
				return
			}
			batch = append(batch, e)
		case ack := <-w.flushes:
			drain()
			close(ack)
			continue
		}
		// Collect without being woken per event until maxDelay has passed
		// since the first one, a batch is full, a Flush asks or Close stops.
		timer.Reset(w.delay)
		var ack chan struct{}
		select {
		case <-timer.C:
		case <-w.kick:
		case <-w.stop:
		case ack = <-w.flushes:
		}
		timer.Stop()
		drain()
		if ack != nil {
			close(ack)
		}
	}
}

// Flush returns once every event emitted before the call has been written
// (or dropped after a store error).
func (w *Writer) Flush(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case w.flushes <- ack:
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Bucket is one interval of an analytics report.
type Bucket struct {
	Start    time.Time      `json:"start"`
	Calls    int            `json:"calls"`
	ByStatus map[string]int `json:"byStatus"` // "2xx", "3xx", "4xx", "5xx"
	Latency  Percentiles    `json:"latency"`
}

// Percentiles are latency percentiles in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// Group is the totals of one API or app.
type Group struct {
	Name     string         `json:"name"`
	Calls    int            `json:"calls"`
	ByStatus map[string]int `json:"byStatus"`
	Latency  Percentiles    `json:"latency"`
}

// Report aggregates events over [Since, Until) in buckets of Interval.
type Report struct {
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until"`
	Interval  string    `json:"interval"`
	Calls     int       `json:"calls"`
	Truncated bool      `json:"truncated,omitempty"` // more events than the report reads
	Buckets   []Bucket  `json:"buckets"`
	ByAPI     []Group   `json:"byApi"`
	ByApp     []Group   `json:"byApp"`
}

// MaxReportEvents bounds the events one report reads.
const MaxReportEvents = 1_000_000

// Aggregate reads the catalog's events in [since, until) and aggregates them.
func Aggregate(ctx context.Context, st store.EventStore, envID string, since, until time.Time, interval time.Duration) (Report, error) {
	rep := Report{Since: since, Until: until, Interval: interval.String(), Buckets: []Bucket{}, ByAPI: []Group{}, ByApp: []Group{}}
	n := int(until.Sub(since) / interval)
	if until.Sub(since)%interval != 0 {
		n++
	}
	buckets := make([]Bucket, n)
	bucketLat := make([][]time.Duration, n)
	for i := range buckets {
		buckets[i] = Bucket{Start: since.Add(time.Duration(i) * interval), ByStatus: map[string]int{}}
	}
	apis, apps := map[string]*groupAcc{}, map[string]*groupAcc{}
	var after int64
	for rep.Calls < MaxReportEvents {
		page, err := st.ListEvents(ctx, store.EventQuery{EnvID: envID, Since: since, Until: until, AfterSeq: after, Limit: 10_000})
		if err != nil {
			return rep, err
		}
		for _, e := range page {
			i := int(e.Time.Sub(since) / interval)
			if i < 0 || i >= n {
				continue
			}
			class := statusClass(e.Status)
			buckets[i].Calls++
			buckets[i].ByStatus[class]++
			bucketLat[i] = append(bucketLat[i], e.Latency)
			acc(apis, e.API, class, e.Latency)
			acc(apps, e.AppID, class, e.Latency)
			rep.Calls++
			after = e.Seq
		}
		if len(page) < 10_000 {
			break
		}
	}
	rep.Truncated = rep.Calls >= MaxReportEvents
	for i := range buckets {
		buckets[i].Latency = percentiles(bucketLat[i])
	}
	rep.Buckets = buckets
	rep.ByAPI, rep.ByApp = groups(apis), groups(apps)
	return rep, nil
}

type groupAcc struct {
	calls    int
	byStatus map[string]int
	lat      []time.Duration
}

func acc(m map[string]*groupAcc, name, class string, lat time.Duration) {
	if name == "" {
		name = "(none)"
	}
	g := m[name]
	if g == nil {
		g = &groupAcc{byStatus: map[string]int{}}
		m[name] = g
	}
	g.calls++
	g.byStatus[class]++
	g.lat = append(g.lat, lat)
}

func groups(m map[string]*groupAcc) []Group {
	out := make([]Group, 0, len(m))
	for name, g := range m {
		out = append(out, Group{Name: name, Calls: g.calls, ByStatus: g.byStatus, Latency: percentiles(g.lat)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Calls != out[j].Calls {
			return out[i].Calls > out[j].Calls
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func statusClass(code int) string {
	switch {
	case code >= 500:
		return "5xx"
	case code >= 400:
		return "4xx"
	case code >= 300:
		return "3xx"
	default:
		return "2xx"
	}
}

// percentiles uses the nearest-rank method.
func percentiles(lat []time.Duration) Percentiles {
	if len(lat) == 0 {
		return Percentiles{}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	at := func(p float64) float64 {
		i := int(p*float64(len(lat))+0.999999) - 1
		i = max(0, min(i, len(lat)-1))
		return float64(lat[i]) / float64(time.Millisecond)
	}
	return Percentiles{P50: at(0.50), P95: at(0.95), P99: at(0.99)}
}
