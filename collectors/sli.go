package collectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// KindSLI is the kind of the SLI collector, as stored in collector_state.
const KindSLI = "sli"

// MaxChunkPoints is the most steps one query_range asks for: Prometheus refuses more than 11,000
// points per series.
const MaxChunkPoints = 10_000

// SLIWorkers is how many SLIs one collector brings up to date at once by default. A backfill is
// bound by Postgres's CPU (inserting samples, recomputing baselines); with two cores, four keep
// both busy while queries and commits wait.
const SLIWorkers = 4

// SLICollector pulls the samples of every SLI of one Prometheus source with query_range at each
// SLI's step: the source's lookback on the first run, then forward behind a safety lag. Steps are
// aligned to multiples of the step (since the Unix epoch for any step that divides a day), so a
// re-query writes the same timestamps.
type SLICollector struct {
	cfg  *config.Config
	src  config.PrometheusSource
	st   *store.Store
	log  *slog.Logger
	api  v1.API
	slis []config.SLI

	// Now is the clock; set it before the first Collect (tests).
	Now func() time.Time
	// Lag keeps collection this far behind now, so a step is queried once its data has arrived.
	Lag time.Duration
	// HeadGrace: steps with no value newer than now minus HeadGrace are not stored as gaps yet (the
	// data may still arrive); the watermark stops before them.
	HeadGrace time.Duration
	// MaxPoints is the most steps per query (at most MaxChunkPoints).
	MaxPoints int
	// Workers is how many SLIs are collected at once (SLIWorkers by default), each with its own
	// query and database transaction; an SLI's own chunks stay in order.
	Workers int

	clock *sourceClock // the source's time (from the Date of its answers) on Now's terms
}

// ClockSkew returns how far the source's clock is ahead of ours, once an answer has told.
func (c *SLICollector) ClockSkew() (time.Duration, bool) { return c.clock.Offset() }

// NewSLICollector builds the SLI collector of one Prometheus source, covering the SLIs that name it.
func NewSLICollector(cfg *config.Config, src config.PrometheusSource, st *store.Store, log *slog.Logger) (*SLICollector, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &SLICollector{
		cfg: cfg, src: src, st: st,
		log: log.With("component", "collector", "source", src.Name, "kind", KindSLI),
		Now: time.Now, Lag: 2 * time.Minute, HeadGrace: 15 * time.Minute, MaxPoints: MaxChunkPoints,
		Workers: SLIWorkers,
	}
	c.clock = newSourceClock(func() time.Time { return c.Now() })
	a, err := newSLIQueryAPI(src, c.clock)
	if err != nil {
		return nil, err
	}
	c.api = a
	for _, s := range cfg.SLIs {
		if s.Source == src.Name {
			c.slis = append(c.slis, s)
		}
	}
	return c, nil
}

// Name returns the source name.
func (c *SLICollector) Name() string { return c.src.Name }

// Kind returns KindSLI.
func (c *SLICollector) Kind() string { return KindSLI }

// Interval returns the source's polling interval.
func (c *SLICollector) Interval() time.Duration { return c.src.Interval.D() }

// Timeout bounds one run. A long backfill is cut into chunks, each committed on its own, so a run
// that times out keeps what it stored and the next run continues from there.
func (c *SLICollector) Timeout() time.Duration { return max(c.src.Timeout.D(), 5*time.Minute) }

// Collect brings every SLI of the source up to date, Workers SLIs at a time: while one SLI's chunk
// is being queried another's is being stored, and Postgres works on several at once. One SLI's
// failure does not stop the others; the errors are returned together, in the order of the SLIs,
// and each is recorded on its SLI.
func (c *SLICollector) Collect(ctx context.Context) error {
	errs := make([]error, len(c.slis))
	sem := make(chan struct{}, max(c.Workers, 1))
	var wg sync.WaitGroup
	for i, s := range c.slis {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			errs[i] = ctx.Err()
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := c.collectSLI(ctx, s); err != nil {
				errs[i] = fmt.Errorf("SLI %s: %w", s.Name, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Job returns how the SLI's baselines are computed.
func Job(cfg *config.Config, s config.SLI) store.BaselineJob {
	return store.BaselineJob{
		Loc:  cfg.SLILocation(s),
		Spec: review.NewBaselineSpec(cfg.Baseline.Weeks, cfg.Baseline.Band[0], cfg.Baseline.Band[1]),
	}
}

func (c *SLICollector) collectSLI(ctx context.Context, s config.SLI) error {
	step := s.Step.D()
	job := Job(c.cfg, s)
	ref, err := c.st.EnsureSLI(ctx, store.SLIDef{Name: s.Name, Source: s.Source, Query: s.Query, Step: step}, job)
	if err != nil {
		return err
	}
	// The source's now once an answer has told it: with our clock ahead, Lag and HeadGrace would
	// otherwise be eaten up and steps whose data has not arrived yet stored as gaps.
	now := c.clock.Now()
	end := alignDown(now.Add(-c.Lag), step)
	start := alignUp(now.Add(-c.src.Lookback.D()), step)
	if ref.CollectedTo != nil {
		start = ref.CollectedTo.Add(step)
	}
	points := min(max(c.MaxPoints, 1), MaxChunkPoints)
	for !start.After(end) {
		chunkEnd := minT(end, start.Add(time.Duration(points-1)*step))
		samples, err := c.queryChunk(ctx, s, start, chunkEnd)
		if err != nil {
			c.recordError(ctx, ref.ID, err)
			return err
		}
		held := 0
		for len(samples) > 0 && samples[len(samples)-1].Gap && samples[len(samples)-1].At.After(now.Add(-c.HeadGrace)) {
			samples = samples[:len(samples)-1]
			held++
		}
		if len(samples) == 0 {
			return nil // only fresh steps without values: wait for them
		}
		to := samples[len(samples)-1].At
		if err := c.st.SaveSLISamples(ctx, ref.ID, samples, &to, job); err != nil {
			return fmt.Errorf("storing samples up to %s: %w", to.Format(time.RFC3339), err)
		}
		if held > 0 {
			return nil
		}
		start = to.Add(step)
	}
	return nil
}

func (c *SLICollector) recordError(ctx context.Context, id int64, err error) {
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if e := c.st.SetSLIError(bctx, id, c.Now(), err.Error()); e != nil {
		c.log.Warn("recording an SLI error", "err", e)
	}
}

// queryChunk asks for [start, end] and returns one sample per aligned step, a gap where the answer
// had no value. A failed, truncated, misaligned or warning-carrying answer is an error: nothing of
// it is stored.
func (c *SLICollector) queryChunk(ctx context.Context, s config.SLI, start, end time.Time) ([]review.Sample, error) {
	step := s.Step.D()
	qctx, cancel := context.WithTimeout(ctx, c.src.Timeout.D())
	defer cancel()
	val, warnings, _, err := c.api.QueryRange(qctx, s.Query, v1.Range{Start: start, End: end, Step: step}, v1.WithTimeout(c.src.Timeout.D()))
	if err != nil {
		return nil, fmt.Errorf("query_range %s to %s: %w%s", start.Format(time.RFC3339), end.Format(time.RFC3339), err, detail(err))
	}
	if len(warnings) > 0 {
		return nil, fmt.Errorf("query_range %s to %s answered with warnings, so the data may be partial and is not stored: %s",
			start.Format(time.RFC3339), end.Format(time.RFC3339), strings.Join(warnings, "; "))
	}
	matrix, ok := val.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("query_range answered a %s, want a matrix", val.Type())
	}
	if len(matrix) > 1 {
		return nil, severalSeries(s.Name, len(matrix), matrix[0].Metric.String())
	}
	n := int(end.Sub(start)/step) + 1
	out := make([]review.Sample, n)
	for i := range out {
		out[i] = review.Sample{At: start.Add(time.Duration(i) * step), Gap: true}
	}
	if len(matrix) == 1 {
		if len(matrix[0].Histograms) > 0 {
			return nil, errors.New("the query returns native histograms; an SLI must return a number (use histogram_quantile or histogram_fraction)")
		}
		for _, sp := range matrix[0].Values {
			t := sp.Timestamp.Time()
			off := t.Sub(start)
			if off < 0 || t.After(end) || off%step != 0 {
				return nil, fmt.Errorf("query_range answered a sample at %s, off the %s grid from %s: the answer is misaligned or truncated",
					t.UTC().Format(time.RFC3339), step, start.Format(time.RFC3339))
			}
			v := float64(sp.Value)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue // no usable value: a gap, never a guess
			}
			out[off/step] = review.Sample{At: t.UTC(), Value: v}
		}
	}
	return out, nil
}

// detail returns the start of the body of a failed answer that was not Prometheus's JSON (a proxy's
// error page, say), which client_golang keeps out of the error text.
func detail(err error) string {
	var e *v1.Error
	if !errors.As(err, &e) || strings.TrimSpace(e.Detail) == "" {
		return ""
	}
	d := strings.Join(strings.Fields(e.Detail), " ")
	if len(d) > 200 {
		d = d[:200] + "…"
	}
	return " (" + d + ")"
}

func severalSeries(name string, n int, example string) error {
	return fmt.Errorf("the query of SLI %q returns %d series (for example %s); an SLI must return one series: aggregate it, e.g. sum(...)",
		name, n, example)
}

// ValidateSLI checks an SLI's expression against its source with a query for one point: it must
// run, without warnings, and return at most one series. The error names the SLI and says why.
func ValidateSLI(ctx context.Context, client v1.API, sli config.SLI) error {
	val, warnings, _, err := client.Query(ctx, sli.Query, time.Now())
	if err != nil {
		return fmt.Errorf("SLI %q: the query fails: %w%s", sli.Name, err, detail(err))
	}
	if len(warnings) > 0 {
		return fmt.Errorf("SLI %q: the query answers with warnings: %s", sli.Name, strings.Join(warnings, "; "))
	}
	switch v := val.(type) {
	case model.Vector:
		if len(v) > 1 {
			return severalSeries(sli.Name, len(v), v[0].Metric.String())
		}
	case *model.Scalar:
	default:
		return fmt.Errorf("SLI %q: the query returns a %s; an SLI must be an instant expression returning one number", sli.Name, val.Type())
	}
	return nil
}

func alignDown(t time.Time, step time.Duration) time.Time { return t.Truncate(step).UTC() }

func alignUp(t time.Time, step time.Duration) time.Time {
	a := t.Truncate(step)
	if a.Before(t) {
		a = a.Add(step)
	}
	return a.UTC()
}

func minT(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
