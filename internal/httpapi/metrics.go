package httpapi

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the management listener's Prometheus series. Labels are bounded:
// route is a route pattern (or "unmatched"), never a raw path.
type Metrics struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	exchanges *prometheus.CounterVec
}

// NewMetrics registers the series with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		exchanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_token_exchanges_total",
			Help: "API-key-for-token exchanges by endpoint and outcome.",
		}, []string{"endpoint", "outcome"}),
	}
	reg.MustRegister(m.requests, m.latency, m.exchanges)
	return m
}
