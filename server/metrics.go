package server

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics are the web tier's own Prometheus metrics.
type metrics struct {
	webhookRequests *prometheus.CounterVec
	alertsStored    prometheus.Counter
	notifications   *prometheus.CounterVec
	alertsFlagged   *prometheus.CounterVec
	webhookDuration prometheus.Histogram
	pageCache       *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (m *metrics, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("registering server metrics: %v", r)
		}
	}()
	f := promauto.With(reg)
	return &metrics{
		webhookRequests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "opsreview_webhook_requests_total",
			Help: "Alertmanager webhook requests by HTTP status code.",
		}, []string{"code"}),
		alertsStored: f.NewCounter(prometheus.CounterOpts{
			Name: "opsreview_webhook_alerts_stored_total",
			Help: "Alerts from webhook deliveries written to the store (duplicates included).",
		}),
		notifications: f.NewCounterVec(prometheus.CounterOpts{
			Name: "opsreview_notifications_stored_total",
			Help: "Webhook notifications stored, by whether they were new or a retry/replica copy.",
		}, []string{"result"}),
		alertsFlagged: f.NewCounterVec(prometheus.CounterOpts{
			Name: "opsreview_webhook_alerts_flagged_total",
			Help: "Alerts whose text was repaired to be storable, by reason (truncated, nul-byte, invalid-utf8).",
		}, []string{"reason"}),
		webhookDuration: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "opsreview_webhook_duration_seconds",
			Help:    "Time to decode and store one webhook delivery.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		pageCache: f.NewCounterVec(prometheus.CounterOpts{
			Name: "opsreview_page_cache_requests_total",
			Help: "Requests for heavy pages by page and result: hit (a current build was reused), shared (waited for a build in flight) or built.",
		}, []string{"page", "result"}),
	}, nil
}
