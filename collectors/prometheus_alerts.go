package collectors

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

const (
	// minHistoryOverlap is how much history before the watermark every run reads again, so that
	// a run that was open at the last chunk's end is seen to continue or to stop.
	minHistoryOverlap = 10 * time.Minute
	// historyDelay keeps the newest chunk this far behind now: samples of the last moments may not
	// have reached a remote-write backend yet, and a missing tail would look like a resolve.
	historyDelay = 30 * time.Second
)

// collectHistory reads ALERTS{alertstate="firing"} from the watermark (or lookback ago) to now,
// one UTC day per query, and ingests each day with its watermark in one transaction. It stops
// at the first chunk that fails or comes with warnings, leaving the watermark before it; a long
// backfill that runs out of time stops cleanly and goes on at the next run.
func (p *prometheusCollector) collectHistory(ctx context.Context, ext map[string]string) error {
	state, err := p.st.CollectorState(ctx, p.src.Name, KindPrometheus)
	if err != nil {
		return err
	}
	evals, err := p.evalIntervals(ctx)
	if err != nil {
		return err
	}
	overlap := minHistoryOverlap
	for _, d := range evals {
		overlap = max(overlap, 3*d)
	}
	// The source's now (the rules and config answers just told us its clock): windows, open runs
	// and the watermark are all in its time, whatever ours says.
	now := p.clock.Now().UTC().Truncate(time.Second)
	to := now.Add(-p.delay)
	from := now.Add(-p.src.Lookback.D())
	if state.Watermark != nil && state.Watermark.After(from) {
		from = state.Watermark.UTC()
	}
	chunks := planChunks(from, to)
	deadline, hasDeadline := ctx.Deadline()
	var slowest time.Duration
	for i, ch := range chunks {
		if hasDeadline && i > 0 && time.Until(deadline) < 2*slowest+time.Second {
			p.log.Info("history backfill continues at the next run", "done_until", ch.from, "chunks_left", len(chunks)-i)
			return nil
		}
		began := time.Now()
		reports, err := p.readChunk(ctx, ch, overlap, ext, evals, now)
		if err != nil {
			return fmt.Errorf("reading ALERTS history for (%s, %s]: %w", ch.from.Format(time.RFC3339), ch.to.Format(time.RFC3339), err)
		}
		wm := &store.Watermark{Source: p.src.Name, Kind: KindPrometheus, At: ch.to}
		if err := p.st.IngestAlerts(ctx, reports, wm); err != nil {
			return fmt.Errorf("storing ALERTS history up to %s: %w", ch.to.Format(time.RFC3339), err)
		}
		slowest = max(slowest, time.Since(began))
	}
	return nil
}

// evalIntervals maps each alertname of the source to its rule group's evaluation interval (the
// longest, when groups disagree), from the stored rules.
func (p *prometheusCollector) evalIntervals(ctx context.Context) (map[string]time.Duration, error) {
	rules, err := p.st.AlertRules(ctx, store.RuleFilter{Source: p.src.Name, IncludeGone: true})
	if err != nil {
		return nil, err
	}
	out := map[string]time.Duration{}
	for _, r := range rules {
		out[r.Alertname] = max(out[r.Alertname], r.GroupInterval)
	}
	return out, nil
}

// readChunk queries the raw samples of one chunk (an instant query of a range selector, so no
// step hides a short episode) of ALERTS{alertstate="firing"} and of ALERTS_FOR_STATE (the alert's
// ActiveAt, which tells a restart that restored the alert from a resolve and a new activation),
// and turns them into reports. Either query failing or warning fails the chunk.
func (p *prometheusCollector) readChunk(ctx context.Context, ch chunk, overlap time.Duration, ext map[string]string,
	evals map[string]time.Duration, observed time.Time) ([]review.AlertReport, error) {
	rng := int64(math.Ceil((ch.to.Sub(ch.from) + overlap).Seconds()))
	m, err := p.queryMatrix(ctx, fmt.Sprintf(`ALERTS{alertstate="firing"}[%ds]`, rng), ch.to)
	if err != nil {
		return nil, err
	}
	var forState model.Matrix
	if len(m) > 0 {
		if forState, err = p.queryMatrix(ctx, fmt.Sprintf(`ALERTS_FOR_STATE[%ds]`, rng), ch.to); err != nil {
			return nil, err
		}
	}
	src := historySource{name: p.src.Name, ext: ext, evals: evals, cfg: p.cfg}
	return historyReports(m, indexForState(forState), src, ch.to.Add(-time.Duration(rng)*time.Second), ch.to, observed), nil
}

// queryMatrix runs an instant query that must answer a matrix, without warnings.
func (p *prometheusCollector) queryMatrix(ctx context.Context, q string, at time.Time) (model.Matrix, error) {
	val, warnings, _, err := p.api.Query(ctx, q, at)
	if err != nil {
		return nil, err
	}
	if len(warnings) > 0 {
		// A partial answer (e.g. Thanos with a store down) would end episodes that went on.
		p.log.Warn("ALERTS query returned warnings; not advancing", "query", q, "warnings", []string(warnings), "at", at)
		return nil, fmt.Errorf("query %s returned warnings: %s", q, strings.Join(warnings, "; "))
	}
	m, ok := val.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("query %s returned a %s, want a matrix", q, val.Type())
	}
	return m, nil
}

// historySource is what turning ALERTS series into reports needs to know about their source.
type historySource struct {
	name  string
	ext   map[string]string        // external labels, added where the series lacks the label
	evals map[string]time.Duration // evaluation interval by alertname
	cfg   *config.Config           // team matching
}

// historyReports turns ALERTS series read over the window (begin, end] into one report per firing
// run; forState (ALERTS_FOR_STATE of the same window, possibly empty) joins runs a gap split
// while the alert kept its ActiveAt and parts runs of different activations. A run that starts at the window's beginning may have been firing before it: it is marked
// Continues, so that it joins the stored episode instead of looking like a new start.
func historyReports(m model.Matrix, forState forStateIndex, src historySource, begin, end, observed time.Time) []review.AlertReport {
	var out []review.AlertReport
	for _, s := range m {
		labels := make(map[string]string, len(s.Metric)+len(src.ext))
		for k, v := range s.Metric {
			if k == model.MetricNameLabel || k == "alertstate" {
				continue
			}
			labels[string(k)] = string(v)
		}
		// Prometheus adds external labels to the alerts it sends unless the alert has the label.
		for k, v := range src.ext {
			if _, ok := labels[k]; !ok {
				labels[k] = v
			}
		}
		ls := make(model.LabelSet, len(labels))
		for k, v := range labels {
			ls[model.LabelName(k)] = model.LabelValue(v)
		}
		own := make(model.LabelSet, len(s.Metric)) // the series' labels as ALERTS_FOR_STATE has them
		for k, v := range s.Metric {
			if k != model.MetricNameLabel && k != "alertstate" {
				own[k] = v
			}
		}
		ts := make([]time.Time, len(s.Values))
		for i, v := range s.Values {
			ts[i] = v.Timestamp.Time().UTC()
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		eval := src.evals[labels["alertname"]]
		if eval <= 0 {
			eval = medianSpacing(ts)
		}
		team := ""
		if src.cfg != nil {
			team = src.cfg.TeamFor(labels)
		}
		if eval <= 0 {
			eval = defaultEvalInterval
		}
		for _, f := range splitFiringActive(ts, eval, end, forState.lookup(own.Fingerprint(), 2*eval)) {
			r := review.AlertReport{
				Fingerprint: uint64(ls.Fingerprint()), Labels: labels, StartsAt: f.first, ObservedAt: observed,
				Road: review.RoadPrometheus, Source: src.name, Team: team,
				Continues: f.first.Sub(begin) <= 2*eval,
			}
			if !f.open {
				r.EndsAt, r.EndKind = f.end, review.EndBackfill
			}
			out = append(out, r)
		}
	}
	return out
}
