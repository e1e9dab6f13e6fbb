package demo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/opsreview/opsreview/collectors"
	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// sliStep is the spacing of the demo's SLI samples: the default step of an SLI.
const sliStep = 5 * time.Minute

// plannedSLI is one SLI of the demo with every sample the fill stores for it, gaps included, in
// ascending time order on the step grid, as the SLI collector would have collected them.
type plannedSLI struct {
	def     config.SLI
	samples []review.Sample
}

// sliShape is how one demo SLI behaves: a base level shaped by the hour of the day and the day of
// the week in its team's time zone, times a drift, with relative noise of sd noise.
type sliShape struct {
	name  string
	base  float64
	daily func(h float64) float64 // factor by local hour of the day, 0 ≤ h < 24
	// weekend is the factor on Saturdays and Sundays.
	weekend float64
	noise   float64
	// drift is an extra relative level at t (0: none).
	drift func(t time.Time) float64
	// bump is an extra factor at t (1: none): incidents, deploys, the abnormal "now".
	bump func(t time.Time) float64
	// value turns the shaped level into the stored value (nil: the level itself).
	value func(level float64) float64
}

// wave is a smooth daily curve: 1 on average, 1+amp at peak o'clock, 1-amp twelve hours away.
func wave(amp, peak float64) func(h float64) float64 {
	return func(h float64) float64 { return 1 + amp*math.Cos(2*math.Pi*(h-peak)/24) }
}

// sliScenario: five SLIs over the whole history at 5-minute steps, with daily and weekly seasonality
// and noise. Checkout's error ratio jumps after the v2.14.0 deploy and is abnormal right now (the
// last half hour, far above its band); search latency drifts upwards over the middle weeks and
// stays there, so its normal has moved; the ingest lag has a short data gap last week (a scrape
// outage: the collector stores explicit gaps). In the last hour before the anchor every SLI stays
// close to the middle of its hour's band (the shape at the half hour, little noise), so that "now"
// has exactly one red SLI whatever the time of the fill.
func sliScenario(g *gen) {
	defs, err := demoSLIs()
	if err != nil {
		panic(err) // ConfigYAML is a constant: its tests keep it valid
	}
	deploy := time.Time{} // the checkout deploy followed by errors (the last one)
	for _, c := range g.p.changes {
		if c.Service == "checkout" && c.Kind == "deploy" {
			deploy = c.At
		}
	}
	abnormalFrom := g.anchor.Add(-30 * time.Minute)
	driftFrom, driftTo := g.anchor.Add(-6*7*24*time.Hour), g.anchor.Add(-2*7*24*time.Hour)
	shapes := []sliShape{
		{name: "checkout-requests", base: 85, daily: wave(0.6, 14), weekend: 0.75, noise: 0.05},
		{name: "checkout-errors", base: 0.0005, daily: wave(0.3, 13), weekend: 0.9, noise: 0.15,
			bump: func(t time.Time) float64 {
				switch {
				case !t.Before(abnormalFrom):
					return 9
				case !deploy.IsZero() && !t.Before(deploy.Add(10*time.Minute)) && t.Before(deploy.Add(30*time.Minute)):
					return 14
				}
				return 1
			}},
		{name: "payments-availability", base: 0.00025, daily: wave(0.5, 13), weekend: 0.8, noise: 0.2,
			value: func(errRatio float64) float64 { return 1 - errRatio }},
		{name: "search-latency-p99", base: 0.32, daily: wave(0.25, 14), weekend: 0.9, noise: 0.07,
			drift: func(t time.Time) float64 {
				const most = 0.35 // +35 %: the index grew and nobody re-sharded it
				switch {
				case t.Before(driftFrom):
					return 0
				case t.Before(driftTo):
					return most * float64(t.Sub(driftFrom)) / float64(driftTo.Sub(driftFrom))
				}
				return most
			}},
		{name: "ingest-lag", base: 12, daily: wave(0.4, 2), weekend: 1, noise: 0.12},
	}
	// The gap: Thursday of last week, 02:50 to 04:05 UTC, the whole 03:00 hour without data.
	gapFrom := g.lastWeek(time.UTC).Start.AddDate(0, 0, 3).Add(2*time.Hour + 50*time.Minute)
	gapTo := gapFrom.Add(75 * time.Minute)

	start := g.anchor.Add(-history).Truncate(sliStep)
	if start.Before(g.anchor.Add(-history)) {
		start = start.Add(sliStep)
	}
	end := g.anchor.Truncate(sliStep)
	calm := g.anchor.Add(-time.Hour)
	for _, sh := range shapes {
		def := defs[sh.name]
		loc := g.loc(def.Team)
		var samples []review.Sample
		for t := start; !t.After(end); t = t.Add(sliStep) {
			z := g.rng.NormFloat64() // drawn for every step, gap or not, so the draws stay in step
			if sh.name == "ingest-lag" && !t.Before(gapFrom) && t.Before(gapTo) {
				samples = append(samples, review.Sample{At: t, Gap: true})
				continue
			}
			local := t.In(loc)
			hour := float64(local.Hour()) + float64(local.Minute())/60
			z = math.Max(-3, math.Min(3, z))
			if !t.Before(calm) {
				// Close to the middle of the hour's band: the shape at the half hour, little noise.
				hour = float64(local.Hour()) + 0.5
				z = math.Max(-0.3, math.Min(0.3, z))
			}
			level := sh.base * sh.daily(hour)
			if wd := local.Weekday(); wd == time.Saturday || wd == time.Sunday {
				level *= sh.weekend
			}
			if sh.drift != nil {
				level *= 1 + sh.drift(t)
			}
			if sh.bump != nil {
				level *= sh.bump(t)
			}
			level *= math.Exp(sh.noise * z) // relative noise; never negative
			if sh.value != nil {
				level = sh.value(level)
			}
			samples = append(samples, review.Sample{At: t, Value: level})
		}
		g.p.slis = append(g.p.slis, plannedSLI{def: def, samples: samples})
	}
}

// demoSLIs returns the SLIs of the built-in demo configuration, by name.
func demoSLIs() (map[string]config.SLI, error) {
	cfg, err := config.Parse([]byte(ConfigYAML))
	if err != nil {
		return nil, fmt.Errorf("demo config: %w", err)
	}
	out := map[string]config.SLI{}
	for _, x := range cfg.SLIs {
		out[x.Name] = x
	}
	return out, nil
}

// writeSLIs stores each SLI's samples the way the SLI collector does: the definition, then the
// samples in one chunk that also materializes every baseline they feed (the same rows a
// RebuildBaselines gives) and moves the watermark to the last sample. An SLI whose watermark is
// already there (an interrupted fill resumed) is left alone; the store's writes are idempotent
// anyway. Baselines are computed in the time zones of cfg's teams, as the collector would. The
// SLIs share nothing, so they are written in parallel: computing the baselines is most of the work.
func writeSLIs(ctx context.Context, st *store.Store, cfg *config.Config, slis []plannedSLI, sum *Summary) error {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs = make([]error, len(slis))
	)
	for i, p := range slis {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := writeSLI(ctx, st, cfg, p)
			if err != nil {
				errs[i] = fmt.Errorf("SLI %s: %w", p.def.Name, err)
				return
			}
			mu.Lock()
			sum.SLIs++
			sum.SLISamples += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// writeSLI stores one planned SLI and returns how many samples it wrote.
func writeSLI(ctx context.Context, st *store.Store, cfg *config.Config, p plannedSLI) (int, error) {
	job := collectors.Job(cfg, p.def)
	ref, err := st.EnsureSLI(ctx, store.SLIDef{Name: p.def.Name, Source: p.def.Source, Query: p.def.Query, Step: p.def.Step.D()}, job)
	if err != nil || len(p.samples) == 0 {
		return 0, err
	}
	last := p.samples[len(p.samples)-1].At
	if ref.CollectedTo != nil && !ref.CollectedTo.Before(last) {
		return 0, nil
	}
	if err := st.SaveSLISamples(ctx, ref.ID, p.samples, &last, job); err != nil {
		return 0, err
	}
	return len(p.samples), nil
}
