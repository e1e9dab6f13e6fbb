package collectors

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
)

// KindRetention is the retention job's kind in collector_state.
const KindRetention = "retention"

// retentionBatch is how many rows one DELETE of the retention job removes: each batch is its own
// short transaction, so pruning a year never holds locks that ingest would wait for.
const retentionBatch = 5000

// Retention enforces the configured retention: it deletes history older than it (store.Retention
// says what goes and what stays). Each run first compacts the daily rollups, retention or not. It runs in the collectors' loop, so the source lock makes one
// instance at a time prune, and its runs show on the sources page like any collector's.
type Retention struct {
	keep  time.Duration
	st    *store.Store
	now   func() time.Time
	log   *slog.Logger
	every time.Duration

	pruned  *prometheus.CounterVec
	lastRun prometheus.Gauge
}

// NewRetention builds the retention job of cfg.Retention, on the clock, logger and registerer of
// opts.
func NewRetention(cfg *config.Config, st *store.Store, opts Options) *Retention {
	opts.applyDefaults()
	f := promauto.With(opts.Registerer)
	return &Retention{keep: time.Duration(cfg.Retention), st: st, now: opts.Now, log: opts.Logger.With("component", "retention"), every: time.Hour,
		pruned: f.NewCounterVec(prometheus.CounterOpts{
			Name: "opsreview_retention_rows_pruned_total",
			Help: "Rows deleted by the retention job because they were older than retention, by table.",
		}, []string{"table"}),
		lastRun: f.NewGauge(prometheus.GaugeOpts{
			Name: "opsreview_retention_last_run_timestamp_seconds",
			Help: "When this instance last completed a retention run, in Unix seconds.",
		}),
	}
}

// Name is the job's name in collector_state.
func (r *Retention) Name() string { return "retention" }

// Kind is the job's kind in collector_state.
func (r *Retention) Kind() string { return KindRetention }

// Interval is how often it runs: hourly, so each run deletes about an hour's worth of old rows.
func (r *Retention) Interval() time.Duration { return r.every }

// Timeout bounds one run; a run cut short keeps its finished batches and the next one goes on.
func (r *Retention) Timeout() time.Duration { return 30 * time.Minute }

// Collect merges the daily fires' deltas (store.CompactRollups), then deletes what ended more than
// retention ago.
func (r *Retention) Collect(ctx context.Context) error {
	if merged, err := r.st.CompactRollups(ctx); err != nil {
		return err
	} else if merged > 0 {
		r.log.Debug("compacted the daily fires", "rows", merged)
	}
	if r.keep <= 0 {
		// A configuration that did not go through config.Load (defaults, validation) has no
		// retention: keep everything rather than read 0 as "delete all history".
		return nil
	}
	cutoff := r.now().Add(-r.keep)
	started := time.Now()
	pruned, err := r.st.Retention(ctx, cutoff, retentionBatch)
	for table, n := range pruned {
		r.pruned.WithLabelValues(table).Add(float64(n))
	}
	if err != nil {
		return err
	}
	r.lastRun.SetToCurrentTime()
	if pruned.Total() > 0 {
		r.log.Info("pruned history older than retention", "cutoff", cutoff, "rows", pruned.Total(), "tables", map[string]int64(pruned),
			"duration", time.Since(started))
	}
	return nil
}
