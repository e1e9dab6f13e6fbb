package main

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"

	"github.com/opsreview/opsreview/config"
)

// sliSource is the Prometheus source the data set's SLIs name. It is made up (.invalid never
// resolves) and never contacted: the samples come from the generator.
const sliSource = "prom-bench"

// sliStep is the spacing of the generated samples: the default step of an SLI.
const sliStep = 5 * time.Minute

// sliEnd is the last sample of every SLI: the step before the bench clock (benchNow), where a
// collector running two minutes behind would have got to. SLIs are judged "now", so unlike the
// episodes they run up to the clock the pages are asked at.
var sliEnd = benchNow.Add(-sliStep).Truncate(sliStep)

// sliKind is one kind of SLI a service has, as the product's SLI config describes them: a PromQL
// expression, its unit and direction, and how its values behave.
type sliKind struct {
	suffix    string
	unit      string
	direction string
	objective *float64
	query     string // %[1]q is the service
}

func ptr(v float64) *float64 { return &v }

var (
	kindRequests = sliKind{"requests", "requests/s", "higher-is-better", nil,
		`sum(rate(http_requests_total{service=%[1]q}[5m]))`}
	kindErrors = sliKind{"errors", "ratio", "lower-is-better", ptr(0.001),
		`sum(rate(http_requests_total{service=%[1]q,code=~"5.."}[5m])) / sum(rate(http_requests_total{service=%[1]q}[5m]))`}
	kindAvailability = sliKind{"availability", "ratio", "higher-is-better", ptr(0.999),
		`sum(rate(http_requests_total{service=%[1]q,code!~"5.."}[5m])) / sum(rate(http_requests_total{service=%[1]q}[5m]))`}
	kindLatency = sliKind{"latency-p99", "seconds", "lower-is-better", nil,
		`histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service=%[1]q}[5m])))`}
	kindQueueLag = sliKind{"queue-lag", "seconds", "lower-is-better", nil,
		`max(time() - queue_last_processed_timestamp_seconds{service=%[1]q})`}
	kindSaturation = sliKind{"cpu-saturation", "ratio", "lower-is-better", nil,
		`avg(1 - rate(node_cpu_seconds_total{mode="idle",service=%[1]q}[5m]))`}
)

// teamSLIs are a team's SLIs in order, by service: the services are those the data set's deploys
// name (team-NN-svc-0 … 3), so an SLI's page shows its service's change markers. A scale with
// fewer SLIs per team takes the first ones.
var teamSLIs = []struct {
	svc  int
	kind sliKind
}{
	{0, kindRequests}, {0, kindErrors}, {0, kindLatency},
	{1, kindRequests}, {1, kindAvailability}, {1, kindLatency},
	{2, kindRequests}, {2, kindErrors},
	{3, kindQueueLag}, {3, kindSaturation},
}

// benchSLIDefs returns the data set's SLI definitions, team by team: the same for every seed (the
// seed shapes the values), so the config of a scale is fixed.
func benchSLIDefs(sc Scale) []config.SLI {
	per := sc.SLIs / sc.Teams
	var out []config.SLI
	for t := 0; t < sc.Teams; t++ {
		team := teamName(t)
		for _, s := range teamSLIs[:min(per, len(teamSLIs))] {
			svc := fmt.Sprintf("%s-svc-%d", team, s.svc)
			x := config.SLI{Name: svc + "-" + s.kind.suffix, Source: sliSource, Service: svc, Team: team, Unit: s.kind.unit,
				Direction: s.kind.direction, Step: config.Duration(sliStep), Query: fmt.Sprintf(s.kind.query, svc)}
			if s.kind.objective != nil {
				x.Objective = ptr(*s.kind.objective)
			}
			out = append(out, x)
		}
	}
	return out
}

// sliSpan is a stretch of time [from, to).
type sliSpan struct{ from, to time.Time }

func (s sliSpan) contains(t time.Time) bool { return !t.Before(s.from) && t.Before(s.to) }

// incident is a stretch during which an SLI is worse than usual by factor.
type incident struct {
	sliSpan
	factor float64 // > 1: how many times worse (errors × factor, requests ÷ factor)
}

// sliSeries generates one SLI's samples: a base level shaped by the hour of the day and the day of
// the week (in UTC, the bench teams' time zone), times relative noise, made worse during a few
// incidents (one in 25 SLIs is in one right now), with a few gaps (steps the source answered
// without a value: one Prometheus restart for every SLI, scrape outages for some). A few SLIs are
// new: they start ten days before the end, too soon for a band in some hours. Its own random
// stream (from the seed and the name) makes each SLI reproducible alone and in any order.
type sliSeries struct {
	def       config.SLI
	kind      string
	rng       *rand.Rand
	start     time.Time // the first sample
	base      float64
	amp, peak float64 // daily wave: 1 + amp·cos(2π(h − peak)/24)
	weekend   float64
	noise     float64
	incidents []incident
	gaps      []sliSpan
}

// sliRestart is when the bench Prometheus restarted: every SLI has a gap there.
var sliRestart = sliSpan{time.Date(2026, 11, 12, 3, 10, 0, 0, time.UTC), time.Date(2026, 11, 12, 3, 35, 0, 0, time.UTC)}

func newSLISeries(def config.SLI, weeks int, seed uint64) *sliSeries {
	h := fnv.New64a()
	h.Write([]byte(def.Name))
	rng := rand.New(rand.NewPCG(seed, h.Sum64()^0x736c6973))
	s := &sliSeries{def: def, rng: rng, start: sliEnd.Add(-time.Duration(weeks) * 7 * 24 * time.Hour).Add(sliStep)}
	logUniform := func(lo, hi float64) float64 { return lo * math.Pow(hi/lo, rng.Float64()) }
	uniform := func(lo, hi float64) float64 { return lo + rng.Float64()*(hi-lo) }
	s.kind = def.Name[len(def.Service)+1:]
	switch s.kind {
	case kindRequests.suffix:
		s.base, s.amp, s.peak, s.weekend, s.noise = logUniform(5, 2000), uniform(0.3, 0.7), uniform(12, 16), uniform(0.5, 0.85), uniform(0.03, 0.08)
	case kindErrors.suffix, kindAvailability.suffix: // the error ratio; availability is 1 minus it
		s.base, s.amp, s.peak, s.weekend, s.noise = logUniform(5e-5, 8e-4), uniform(0.2, 0.4), uniform(12, 16), uniform(0.85, 1), uniform(0.15, 0.3)
	case kindLatency.suffix:
		s.base, s.amp, s.peak, s.weekend, s.noise = logUniform(0.05, 1.5), uniform(0.1, 0.3), uniform(13, 16), uniform(0.85, 0.95), uniform(0.05, 0.1)
	case kindQueueLag.suffix: // batch jobs at night
		s.base, s.amp, s.peak, s.weekend, s.noise = logUniform(2, 60), uniform(0.3, 0.5), uniform(1, 4), uniform(0.9, 1.1), uniform(0.1, 0.2)
	case kindSaturation.suffix:
		s.base, s.amp, s.peak, s.weekend, s.noise = uniform(0.25, 0.55), uniform(0.15, 0.3), uniform(13, 16), uniform(0.6, 0.8), uniform(0.03, 0.06)
	}
	span := sliEnd.Sub(s.start)
	if rng.Float64() < 0.03 {
		s.start = sliEnd.Add(-10 * 24 * time.Hour).Add(sliStep)
	}
	for n := rng.IntN(3); n > 0; n-- { // past incidents: 15 min to a few hours, 3–20× worse
		from := s.start.Add(time.Duration(rng.Float64() * float64(span))).Truncate(time.Minute)
		d := 15*time.Minute + time.Duration(rng.ExpFloat64()*float64(time.Hour))
		s.incidents = append(s.incidents, incident{sliSpan{from, from.Add(d)}, uniform(3, 20)})
	}
	if rng.Float64() < 0.04 { // in one right now: started 20 minutes to 3 hours ago
		from := sliEnd.Add(-20*time.Minute - time.Duration(rng.Float64()*float64(160*time.Minute)))
		s.incidents = append(s.incidents, incident{sliSpan{from, sliEnd.Add(time.Hour)}, uniform(3, 10)})
	}
	s.gaps = append(s.gaps, sliRestart)
	if rng.Float64() < 0.08 { // scrape outages
		for n := 1 + rng.IntN(2); n > 0; n-- {
			from := s.start.Add(time.Duration(rng.Float64() * float64(span))).Truncate(sliStep)
			s.gaps = append(s.gaps, sliSpan{from, from.Add(15*time.Minute + time.Duration(rng.Float64()*float64(165*time.Minute)))})
		}
	}
	return s
}

// at returns the sample at t (a step of the grid from s.start on): its value, or ok false for a gap.
// It draws from the SLI's stream once per step, gap or not, so the steps must be asked in order.
func (s *sliSeries) at(t time.Time) (float64, bool) {
	z := math.Max(-3, math.Min(3, s.rng.NormFloat64()))
	for _, g := range s.gaps {
		if g.contains(t) {
			return 0, false
		}
	}
	hour := float64(t.Hour()) + float64(t.Minute())/60
	level := s.base * (1 + s.amp*math.Cos(2*math.Pi*(hour-s.peak)/24))
	switch t.Weekday() {
	case time.Saturday, time.Sunday:
		level *= s.weekend
	case time.Monday:
		level *= 1.05
	case time.Friday:
		level *= 0.95
	}
	level *= math.Exp(s.noise * z)
	for _, in := range s.incidents {
		if in.contains(t) {
			if s.kind == kindRequests.suffix {
				level /= in.factor
			} else {
				level *= in.factor
			}
		}
	}
	switch s.kind {
	case kindErrors.suffix:
		return math.Min(level, 1), true
	case kindAvailability.suffix:
		return math.Max(1-level, 0), true
	case kindSaturation.suffix:
		return math.Min(level, 1), true
	}
	return level, true
}
