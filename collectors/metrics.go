package collectors

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics are the Runner's own; every series is labelled by source and kind.
type metrics struct {
	up          *prometheus.GaugeVec
	lastSuccess *prometheus.GaugeVec
	lag         *prometheus.GaugeVec
	errors      *prometheus.CounterVec
	skipped     *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	skew        *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	labels := []string{"source", "kind"}
	return &metrics{
		up: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "opsreview_source_up",
			Help: "Whether the last run of the collector succeeded (1) or failed (0).",
		}, labels),
		lastSuccess: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "opsreview_source_last_success_timestamp_seconds",
			Help: "When the collector last ran successfully, in Unix seconds.",
		}, labels),
		lag: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "opsreview_source_lag_seconds",
			Help: "How far the collector's watermark is behind now, in seconds.",
		}, labels),
		errors: f.NewCounterVec(prometheus.CounterOpts{
			Name: "opsreview_source_errors_total",
			Help: "Collector runs that failed.",
		}, labels),
		skipped: f.NewCounterVec(prometheus.CounterOpts{
			Name: "opsreview_collector_runs_skipped_total",
			Help: "Collector runs skipped because another instance held the source's lock.",
		}, labels),
		skew: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "opsreview_source_clock_skew_seconds",
			Help: "How far the source's clock is ahead of opsreview's (negative: behind), from the Date of its answers; whole seconds. Windows and ends are computed in the source's time.",
		}, labels),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "opsreview_collector_run_duration_seconds",
			Help:    "How long collector runs took.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120},
		}, labels),
	}
}

// init creates the counters of a collector at zero, so that rates work from the first failure.
func (m *metrics) init(c Collector) {
	m.errors.WithLabelValues(c.Name(), c.Kind())
	m.skipped.WithLabelValues(c.Name(), c.Kind())
}

func (m *metrics) failed(c Collector) {
	m.up.WithLabelValues(c.Name(), c.Kind()).Set(0)
	m.errors.WithLabelValues(c.Name(), c.Kind()).Inc()
}

func (m *metrics) succeeded(c Collector, at time.Time) {
	m.up.WithLabelValues(c.Name(), c.Kind()).Set(1)
	m.lastSuccess.WithLabelValues(c.Name(), c.Kind()).Set(float64(at.UnixMilli()) / 1000)
}
