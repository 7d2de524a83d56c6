package bench

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// newClient is the load generator's HTTP client: keep-alive with one
// connection per worker, no compression, no proxy.
func newClient(concurrency int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency * 2,
		MaxIdleConnsPerHost: concurrency * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}, Timeout: 30 * time.Second}
}

// request builds the w-th worker's next request; r is the worker's own
// random source (for drawing keys, tokens or apps).
type request func(r *rand.Rand) (*http.Request, error)

// load is one measured run.
type load struct {
	Concurrency int
	Duration    time.Duration
	Rate        float64 // requests per second over all workers; 0: as fast as possible
	Next        request
}

// Measurement is the result of one run.
type Measurement struct {
	Requests   int64         `json:"requests"`
	Errors     int64         `json:"errors"`
	FirstError string        `json:"first_error,omitempty"`
	Seconds    float64       `json:"seconds"`
	RPS        float64       `json:"rps"`
	P50        time.Duration `json:"p50_ns"`
	P99        time.Duration `json:"p99_ns"`
	Max        time.Duration `json:"max_ns"`
	TargetRate float64       `json:"target_rate,omitempty"`
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// run drives the target with l.Concurrency workers for l.Duration. A
// request fails on a transport error or any status but 200.
func (l load) run(ctx context.Context, hc *http.Client) Measurement {
	var (
		wg       sync.WaitGroup
		errs     atomic.Int64
		oks      atomic.Int64
		firstErr atomic.Pointer[string]
		tickets  atomic.Int64
		lat      = make([][]time.Duration, l.Concurrency)
	)
	start := time.Now()
	deadline := start.Add(l.Duration)
	var interval time.Duration
	if l.Rate > 0 {
		interval = time.Duration(float64(time.Second) / l.Rate)
	}
	for w := range l.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w)+1, uint64(start.UnixNano())))
			bp := bufPool.Get().(*[]byte)
			defer bufPool.Put(bp)
			mine := make([]time.Duration, 0, 4096)
			for ctx.Err() == nil {
				if interval > 0 {
					at := start.Add(time.Duration(tickets.Add(1)-1) * interval)
					if !at.Before(deadline) {
						break
					}
					if d := time.Until(at); d > 0 {
						time.Sleep(d)
					}
				} else if !time.Now().Before(deadline) {
					break
				}
				req, err := l.Next(r)
				if err != nil {
					fail(&errs, &firstErr, err.Error())
					continue
				}
				t0 := time.Now()
				res, err := hc.Do(req.WithContext(ctx))
				if err != nil {
					if ctx.Err() == nil {
						fail(&errs, &firstErr, err.Error())
					}
					continue
				}
				_, cerr := io.CopyBuffer(io.Discard, res.Body, *bp)
				res.Body.Close()
				mine = append(mine, time.Since(t0))
				if res.StatusCode != http.StatusOK {
					fail(&errs, &firstErr, req.Method+" "+req.URL.Path+": "+res.Status)
				} else if cerr != nil {
					fail(&errs, &firstErr, cerr.Error())
				} else {
					oks.Add(1)
				}
			}
			lat[w] = mine
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	m := Measurement{Requests: oks.Load() + errs.Load(), Errors: errs.Load(), Seconds: elapsed.Seconds(), TargetRate: l.Rate,
		RPS: float64(oks.Load()) / elapsed.Seconds()}
	if p := firstErr.Load(); p != nil {
		m.FirstError = *p
	}
	if len(all) > 0 {
		m.P50 = all[len(all)*50/100]
		m.P99 = all[min(len(all)-1, len(all)*99/100)]
		m.Max = all[len(all)-1]
	}
	return m
}

func fail(n *atomic.Int64, first *atomic.Pointer[string], msg string) {
	n.Add(1)
	first.CompareAndSwap(nil, &msg)
}
