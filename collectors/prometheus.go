package collectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
)

// Collector kinds, as stored in collector_state and shown on the Sources page.
const (
	KindPrometheus   = "prometheus"   // alert rules, external labels and ALERTS history of a query API
	KindAlertmanager = "alertmanager" // active alerts and silences from Alertmanager's v2 API
)

// prometheusCollector reads one Prometheus-compatible query API: first its alert rules and
// external labels, then the ALERTS history since its watermark. Rules come first because their
// evaluation intervals decide where a gap in the history is a new episode.
type prometheusCollector struct {
	src    config.PrometheusSource
	cfg    *config.Config
	st     *store.Store
	client api.Client // the raw client, for endpoints whose status code matters
	api    v1.API
	log    *slog.Logger
	now    func() time.Time
	clock  *sourceClock // the source's time, from the Date of its answers

	// external labels read during this process's life; used when the config endpoint fails.
	ext map[string]string
	// delay keeps the newest chunk behind now (historyDelay; tests against a local server use 0).
	delay time.Duration
}

func newPrometheusCollector(cfg *config.Config, src config.PrometheusSource, opts Options) (*prometheusCollector, error) {
	clock := newSourceClock(opts.Now)
	hc, err := newHTTPClient(src.URL, src.HTTP, clock)
	if err != nil {
		return nil, err
	}
	c, err := api.NewClient(api.Config{Address: src.URL, Client: hc})
	if err != nil {
		return nil, fmt.Errorf("building the API client: %w", err)
	}
	c = alertRulesOnly{c}
	return &prometheusCollector{
		src: src, cfg: cfg, st: opts.Store, client: c, api: v1.NewAPI(c),
		log: opts.Logger.With("component", "collector", "source", src.Name, "kind", KindPrometheus),
		now: opts.Now, clock: clock, delay: historyDelay,
	}, nil
}

// Name returns the source name.
func (p *prometheusCollector) Name() string { return p.src.Name }

// Kind returns KindPrometheus.
func (p *prometheusCollector) Kind() string { return KindPrometheus }

// Interval returns the source's polling interval.
func (p *prometheusCollector) Interval() time.Duration { return p.src.Interval.D() }

// Timeout returns the source's per-run timeout.
func (p *prometheusCollector) Timeout() time.Duration { return p.src.Timeout.D() }

// ClockSkew returns how far the source's clock is ahead of ours, once an answer has told.
func (p *prometheusCollector) ClockSkew() (time.Duration, bool) { return p.clock.Offset() }

// Collect syncs the rules, then the history. A rules failure does not stop the history (it
// falls back to stored rules); unknown external labels do, since fingerprints would be wrong, and
// so does a Prometheus that has just started and not yet restored its alerts' state.
func (p *prometheusCollector) Collect(ctx context.Context) error {
	var errs []error
	rules, err := p.syncRules(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	ext, err := p.externalLabels(ctx)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	if start, ok := p.startTime(ctx); ok && restoring(start, p.clock.Now(), rules) {
		// The watermark stays: the next run reads again from before the restart.
		p.log.Info("Prometheus restarted and is restoring alert state; ALERTS history waits", "started", start)
		return errors.Join(errs...)
	}
	if err := p.collectHistory(ctx, ext); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// startTime returns when the Prometheus process started (/api/v1/status/runtimeinfo); false when
// the source does not say (remote engines without the endpoint).
func (p *prometheusCollector) startTime(ctx context.Context) (time.Time, bool) {
	info, err := p.api.Runtimeinfo(ctx)
	if err != nil || info.StartTime.IsZero() {
		return time.Time{}, false
	}
	return info.StartTime, true
}

// alertRulesOnly asks the rules endpoint for alerting rules only (type=alert), which
// client_golang's Rules has no option for.
type alertRulesOnly struct{ api.Client }

// Do sends req, adding type=alert to rules requests.
func (c alertRulesOnly) Do(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	if strings.HasSuffix(req.URL.Path, "/api/v1/rules") {
		q := req.URL.Query()
		q.Set("type", "alert")
		req.URL.RawQuery = q.Encode()
	}
	return c.Client.Do(ctx, req)
}
