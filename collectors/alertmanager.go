package collectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
)

// alertmanagerCollector polls one Alertmanager's v2 API: its active alerts open episodes the
// webhook never delivered and close those that vanished; its silences are kept for the review.
type alertmanagerCollector struct {
	src    config.AlertmanagerSource
	cfg    *config.Config
	st     *store.Store
	client *amClient
	log    *slog.Logger
	now    func() time.Time
	clock  *sourceClock // the source's time, from the Date of its answers
	// onlyOne: this is the only Alertmanager source, so it may also close webhook-only episodes.
	onlyOne bool
	// grace: how long after an Alertmanager starts a missing alert proves nothing. Prometheus
	// resends firing alerts every minute, so a fresh Alertmanager is complete after about that long.
	grace time.Duration
	// procStart is the Alertmanager process start last polled, procSince when this collector
	// first polled that process (opsreview's clock, so skew between the two does not matter).
	procStart, procSince time.Time
}

func newAlertmanagerCollector(cfg *config.Config, src config.AlertmanagerSource, opts Options) (*alertmanagerCollector, error) {
	clock := newSourceClock(opts.Now)
	hc, err := newHTTPClient(src.URL, src.HTTP, clock)
	if err != nil {
		return nil, err
	}
	c, err := newAMClient(src.URL, hc)
	if err != nil {
		return nil, fmt.Errorf("building the API client: %w", err)
	}
	return &alertmanagerCollector{
		src: src, cfg: cfg, st: opts.Store, client: c, now: opts.Now, clock: clock,
		log:     opts.Logger.With("component", "collector", "source", src.Name, "kind", KindAlertmanager),
		onlyOne: len(cfg.Sources.Alertmanager) == 1,
		grace:   max(2*time.Minute, 2*src.Interval.D()),
	}, nil
}

// Name returns the source name.
func (a *alertmanagerCollector) Name() string { return a.src.Name }

// Kind returns KindAlertmanager.
func (a *alertmanagerCollector) Kind() string { return KindAlertmanager }

// Interval returns the source's polling interval.
func (a *alertmanagerCollector) Interval() time.Duration { return a.src.Interval.D() }

// Timeout returns the source's per-run timeout.
func (a *alertmanagerCollector) Timeout() time.Duration { return a.src.Timeout.D() }

// ClockSkew returns how far the source's clock is ahead of ours, once an answer has told.
func (a *alertmanagerCollector) ClockSkew() (time.Duration, bool) { return a.clock.Offset() }

// Collect reads status, alerts and silences; it stores the alerts as firing reports, then counts
// and closes the episodes whose alerts are gone, then stores the silences.
func (a *alertmanagerCollector) Collect(ctx context.Context) error {
	status, err := a.client.status(ctx)
	if err != nil {
		return fmt.Errorf("reading status: %w", err)
	}
	alerts, err := a.client.alerts(ctx)
	if err != nil {
		return fmt.Errorf("reading alerts: %w", err)
	}
	// Alertmanager's now, not ours: an alert's endsAt (past: resolved; ahead: when it expires), its
	// own start and the time it was seen are all compared in its clock.
	now := a.clock.Now().UTC()
	reports, present := alertReports(alerts, a.src.Name, a.cfg.TeamFor, now)
	wm := &store.Watermark{Source: a.src.Name, Kind: KindAlertmanager, At: now}
	if err := a.st.IngestAlerts(ctx, reports, wm); err != nil {
		return fmt.Errorf("storing %d alerts: %w", len(reports), err)
	}

	state, err := a.st.CollectorState(ctx, a.src.Name, KindAlertmanager)
	if err != nil {
		return err
	}
	// Alertmanager reports its start in milliseconds; any later start is a restart.
	started := status.Uptime.UTC().Truncate(time.Millisecond)
	restarted := state.UpstreamStart != nil && started.After(state.UpstreamStart.Truncate(time.Millisecond))
	young := !started.IsZero() && now.Sub(started) < a.grace
	if !started.Equal(a.procStart) {
		a.procStart, a.procSince = started, now
	}
	// A young Alertmanager may not have heard of every alert yet, but one that it listed itself
	// since this collector first polled it is gone when it is missing.
	res, err := a.st.CloseVanished(ctx, store.VanishPoll{
		Source: a.src.Name, Present: present, IncludeWebhook: a.onlyOne, Restarted: restarted || young,
		SeenSince: a.procSince,
	})
	if err != nil {
		return fmt.Errorf("closing vanished alerts: %w", err)
	}
	if restarted {
		a.log.Info("Alertmanager restarted: missing alerts are not counted until it has heard from Prometheus again",
			"started", started, "reset", res.Reset)
	}
	if res.Closed > 0 {
		a.log.Info("closed episodes whose alerts vanished", "closed", res.Closed, "missing", res.Missing)
	}
	if !started.IsZero() && (state.UpstreamStart == nil || !state.UpstreamStart.Equal(started)) {
		if err := a.st.SetUpstreamStart(ctx, a.src.Name, KindAlertmanager, started); err != nil {
			return err
		}
	}

	var errs []error
	ss, err := a.client.silences(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("reading silences: %w", err))
	} else if err := a.st.UpsertSilences(ctx, a.src.Name, silences(ss, a.src.Name)); err != nil {
		errs = append(errs, fmt.Errorf("storing silences: %w", err))
	}
	return errors.Join(errs...)
}
