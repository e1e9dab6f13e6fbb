// Package collectors pulls alert rules, alert history, active alerts and silences from the
// configured sources into the store. Every collector has one shape, run by one shared loop: run
// once at start, then on a ticker; a timeout per run; an advisory lock per source so that several
// opsreview instances never collect one source at the same time; progress saved as a watermark in
// the same transaction as the data; metrics for health, lag and errors.
package collectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
)

// Collector is one source read on a schedule. Collect is never called concurrently for one
// collector, and returns when ctx (which carries the per-run timeout) is done.
type Collector interface {
	Name() string // the configured source name
	Kind() string // what is collected, e.g. KindPrometheus
	Interval() time.Duration
	Timeout() time.Duration
	Collect(ctx context.Context) error
}

// Options are what a Runner needs besides its collectors.
type Options struct {
	Store      *store.Store          // required
	Logger     *slog.Logger          // default: discard
	Registerer prometheus.Registerer // default: none (metrics are kept but not exported)
	Now        func() time.Time      // default: time.Now
}

func (o *Options) applyDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func (o *Options) validate() error {
	if o.Store == nil {
		return errors.New("collectors: Options.Store is required")
	}
	return nil
}

// Runner runs a fixed set of collectors, once or on their schedules.
type Runner struct {
	opts       Options
	log        *slog.Logger
	collectors []Collector
	m          *metrics
	wake       map[Collector]chan struct{}
}

// New builds a Runner with a collector for every source in the configuration; st replaces
// opts.Store.
func New(cfg *config.Config, st *store.Store, opts Options) (*Runner, error) {
	opts.Store = st
	opts.applyDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	var cs []Collector
	for _, src := range cfg.Sources.Prometheus {
		c, err := newPrometheusCollector(cfg, src, opts)
		if err != nil {
			return nil, fmt.Errorf("sources.prometheus[%s]: %w", src.Name, err)
		}
		cs = append(cs, c)
	}
	for _, src := range cfg.Sources.Prometheus {
		has := false
		for _, x := range cfg.SLIs {
			has = has || x.Source == src.Name
		}
		if !has {
			continue
		}
		c, err := NewSLICollector(cfg, src, st, opts.Logger)
		if err != nil {
			return nil, fmt.Errorf("slis of sources.prometheus[%s]: %w", src.Name, err)
		}
		c.Now = opts.Now
		cs = append(cs, c)
	}
	for _, src := range cfg.Sources.Alertmanager {
		c, err := newAlertmanagerCollector(cfg, src, opts)
		if err != nil {
			return nil, fmt.Errorf("sources.alertmanager[%s]: %w", src.Name, err)
		}
		cs = append(cs, c)
	}
	rc := NewRunbookChecker(cfg, st, opts.Logger)
	rc.now = opts.Now
	cs = append(cs, rc, NewRetention(cfg, st, opts))
	return NewRunner(opts, cs...)
}

// NewRunner builds a Runner for the given collectors (New builds them from the configuration).
func NewRunner(opts Options, cs ...Collector) (*Runner, error) {
	opts.applyDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, c := range cs {
		id := c.Name() + "/" + c.Kind()
		switch {
		case c.Name() == "" || c.Kind() == "":
			return nil, fmt.Errorf("collectors: a collector needs a name and a kind (got %q)", id)
		case seen[id]:
			return nil, fmt.Errorf("collectors: %s is configured twice", id)
		case c.Interval() <= 0 || c.Timeout() <= 0:
			return nil, fmt.Errorf("collectors: %s needs a positive interval and timeout", id)
		}
		seen[id] = true
	}
	r := &Runner{opts: opts, log: opts.Logger.With("component", "collector"), collectors: cs,
		m: newMetrics(opts.Registerer), wake: map[Collector]chan struct{}{}}
	for _, c := range cs {
		r.m.init(c)
		r.wake[c] = make(chan struct{}, 1)
	}
	return r, nil
}

// Collectors returns the collectors the Runner runs.
func (r *Runner) Collectors() []Collector { return append([]Collector(nil), r.collectors...) }

// RunOnce runs every collector once, at the same time, and returns their errors joined. A source
// collected by another instance right now is skipped, which is not an error.
func (r *Runner) RunOnce(ctx context.Context) error {
	errs := make([]error, len(r.collectors))
	var wg sync.WaitGroup
	for i, c := range r.collectors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.runOne(ctx, c); err != nil {
				errs[i] = fmt.Errorf("%s %s: %w", c.Kind(), c.Name(), err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Run runs every collector at once and then on its interval until ctx is cancelled, and returns
// when all of them have stopped (with no collectors, when ctx is cancelled: a caller that stops
// everything when one component returns must not stop because there is nothing to collect). A run
// that outlasts its interval delays the next tick instead of queueing runs.
func (r *Runner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, c := range r.collectors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.loop(ctx, c)
		}()
	}
	<-ctx.Done()
	wg.Wait()
}

// Trigger asks every running collector of kind to run now rather than at its next tick (a webhook
// said Alertmanager truncated a notification: the rest is read from its API at once). It never
// blocks; a collector already asked to run runs once.
func (r *Runner) Trigger(kind string) {
	for _, c := range r.collectors {
		if c.Kind() != kind {
			continue
		}
		select {
		case r.wake[c] <- struct{}{}:
		default:
		}
	}
}

func (r *Runner) loop(ctx context.Context, c Collector) {
	r.runOne(ctx, c)
	t := time.NewTicker(c.Interval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.runOne(ctx, c)
		case <-r.wake[c]:
			r.runOne(ctx, c)
			t.Reset(c.Interval())
		}
	}
}

// runOne runs one collector under its source lock and timeout, records the outcome in the store
// and the metrics, and returns the run's error (nil when skipped).
func (r *Runner) runOne(ctx context.Context, c Collector) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	log := r.log.With("source", c.Name(), "kind", c.Kind())
	st := r.opts.Store
	runCtx, cancel := context.WithTimeout(ctx, c.Timeout())
	defer cancel()
	started := time.Now()
	var runErr error
	ran, lockErr := st.WithSourceLock(runCtx, c.Name()+"/"+c.Kind(), func(lctx context.Context) error {
		runErr = c.Collect(lctx)
		return runErr
	})
	if ctx.Err() != nil {
		// Shutting down: a run cut short is not a source failure worth recording.
		log.Debug("collector run interrupted by shutdown", "err", runErr)
		return ctx.Err()
	}
	// The run's context may have expired; the bookkeeping gets a short one of its own.
	bctx, bcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer bcancel()
	now := r.opts.Now()
	switch {
	case lockErr != nil && !ran:
		r.m.failed(c)
		log.Warn("collector could not take its source lock", "err", lockErr)
		return fmt.Errorf("taking the source lock: %w", lockErr)
	case !ran:
		r.m.skipped.WithLabelValues(c.Name(), c.Kind()).Inc()
		log.Debug("collector skipped: another instance is collecting this source")
		r.refreshFromState(bctx, c, now, true)
		return nil
	}
	r.m.duration.WithLabelValues(c.Name(), c.Kind()).Observe(time.Since(started).Seconds())
	if sk, ok := c.(clockSkewer); ok {
		if off, known := sk.ClockSkew(); known {
			r.m.skew.WithLabelValues(c.Name(), c.Kind()).Set(off.Seconds())
		}
	}
	if err := st.RecordCollectorRun(bctx, c.Name(), c.Kind(), now, runErr); err != nil {
		log.Warn("recording the collector run", "err", err)
	}
	if runErr != nil {
		r.m.failed(c)
		log.Warn("collector run failed", "err", runErr, "duration", time.Since(started))
	} else {
		r.m.succeeded(c, now)
		log.Debug("collector run done", "duration", time.Since(started))
	}
	r.refreshFromState(bctx, c, now, false)
	return runErr
}

// refreshFromState sets the lag (and, for a run done elsewhere, health and last success) from the
// stored collector state, so every instance exports the same truth whichever one collected.
func (r *Runner) refreshFromState(ctx context.Context, c Collector, now time.Time, elsewhere bool) {
	s, err := r.opts.Store.CollectorState(ctx, c.Name(), c.Kind())
	if err != nil {
		r.log.Debug("reading collector state for metrics", "source", c.Name(), "kind", c.Kind(), "err", err)
		return
	}
	if s.Watermark != nil {
		// The watermark is in the source's time.
		if sk, ok := c.(clockSkewer); ok {
			off, _ := sk.ClockSkew()
			now = now.Add(off)
		}
		r.m.lag.WithLabelValues(c.Name(), c.Kind()).Set(now.Sub(*s.Watermark).Seconds())
	}
	if !elsewhere || s.LastSuccess == nil {
		return
	}
	r.m.lastSuccess.WithLabelValues(c.Name(), c.Kind()).Set(float64(s.LastSuccess.UnixMilli()) / 1000)
	up := 1.0
	if s.LastErrorAt != nil && s.LastErrorAt.After(*s.LastSuccess) {
		up = 0
	}
	r.m.up.WithLabelValues(c.Name(), c.Kind()).Set(up)
}
