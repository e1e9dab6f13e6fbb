package server

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// sliFixture is one SLI of the fixture set: five weeks of 5-minute samples ending at end, changed
// by edit (index i of n).
type sliFixture struct {
	sli  config.SLI
	end  time.Duration // before now; 0: up to now
	none bool          // no samples at all
	edit func(i, n int, s *review.Sample)
}

// bad makes the samples from the last `from` to the last `to` (counted back from the end) far
// below the band of a higher-is-better SLI; gaps every `gap` samples (0: none) among them.
func bad(from, to, gap int) func(i, n int, s *review.Sample) {
	return func(i, n int, s *review.Sample) {
		back := n - 1 - i
		if back < to || back >= from {
			return
		}
		s.Value = 5
		if gap > 0 && back%gap == 0 {
			s.Gap = true
		}
	}
}

func sliFixtures() []sliFixture {
	rps := func(name string) config.SLI {
		return config.SLI{Name: name, Source: "prom", Service: "checkout", Team: "payments", Unit: "req/s",
			Direction: "higher-is-better", Step: config.Duration(5 * time.Minute), Query: "sum(rate(" + name + "[5m]))"}
	}
	obj := 0.99
	ratio := config.SLI{Name: "errors-objective", Source: "prom", Service: "search", Unit: "ratio", Objective: &obj,
		Direction: "lower-is-better", Step: config.Duration(5 * time.Minute), Query: "sum(rate(e[5m]))"}
	hourly := rps("hourly-bad")
	hourly.Step = config.Duration(time.Hour)
	return []sliFixture{
		{sli: rps("steady")},
		{sli: rps("bad-15m"), edit: bad(3, 0, 0)},
		{sli: rps("bad-3h"), edit: bad(36, 0, 0)},
		{sli: rps("bad-30h"), edit: bad(360, 0, 0)},
		{sli: rps("bad-3d"), edit: bad(3*288, 0, 0)},
		{sli: rps("bad-3h-ended-1h-ago"), edit: bad(36, 12, 0)},
		{sli: rps("stale"), end: 2 * time.Hour},
		{sli: rps("bad-with-gaps"), edit: bad(60, 0, 3)},
		// Two bad samples after 3 hours of gaps, before them bad samples again: one run.
		{sli: rps("two-bad-after-gaps"), edit: func(i, n int, s *review.Sample) {
			switch back := n - 1 - i; {
			case back < 2:
				s.Value = 5
			case back < 38:
				s.Gap = true
			case back < 50:
				s.Value = 5
			}
		}},
		{sli: rps("no-data"), none: true},
		{sli: ratio, edit: func(i, n int, s *review.Sample) {
			s.Value = 0.002 + s.Value/1e5
			if n-1-i < 20 {
				s.Value = 0.2
			}
		}},
		{sli: hourly, edit: bad(5, 0, 0)},
	}
}

// TestSLIsAPIAnswersAsBefore: GET /api/v1/slis over a fixture set of SLIs — normal, abnormal for
// minutes, hours and days, with gaps, stale, without data, hourly —
// answers exactly the JSON it answered when every SLI was judged from a day of samples and
// re-read over a week one by one (testdata/slis_api.golden.json, written by that code; set
// OPSREVIEW_UPDATE_GOLDEN=1 to rewrite it). Each item also equals the one-SLI API's answer.
func TestSLIsAPIAnswersAsBefore(t *testing.T) {
	fixtures := sliFixtures()
	ts := newTestServer(t, "", func(c *config.Config) {
		c.Teams = []config.Team{{Name: "payments", Timezone: "Europe/Berlin",
			BusinessHours: config.BusinessHours{Days: []string{"mon"}, Start: "08:00", End: "18:00"},
			SleepHours:    config.HourRange{Start: "22:00", End: "08:00"}}}
		c.Sources.Prometheus = []config.PrometheusSource{{Name: "prom", URL: "http://127.0.0.1:9", Interval: config.Duration(time.Minute),
			Timeout: config.Duration(time.Second), Lookback: config.Duration(8 * 7 * 24 * time.Hour)}}
		for _, f := range fixtures {
			c.SLIs = append(c.SLIs, f.sli)
		}
	})
	ts.setNow(time.Date(2026, 11, 23, 19, 2, 0, 0, time.UTC))
	ctx := context.Background()
	for _, f := range fixtures {
		x := ts.cfg.SLIByName(f.sli.Name)
		loc := ts.cfg.SLILocation(*x)
		job := store.BaselineJob{Loc: loc, Spec: review.NewBaselineSpec(ts.cfg.Baseline.Weeks, ts.cfg.Baseline.Band[0], ts.cfg.Baseline.Band[1])}
		ref, err := ts.store.EnsureSLI(ctx, store.SLIDef{Name: x.Name, Source: x.Source, Query: x.Query, Step: x.Step.D()}, job)
		if err != nil {
			t.Fatal(err)
		}
		if f.none {
			continue
		}
		step := x.Step.D()
		end := ts.now.Add(-f.end).Truncate(step)
		n := int(5 * 7 * 24 * time.Hour / step)
		r := rand.New(rand.NewPCG(7, uint64(len(x.Name))))
		samples := make([]review.Sample, n)
		for i := range samples {
			at := end.Add(-time.Duration(n-1-i) * step)
			l := at.In(loc)
			samples[i] = review.Sample{At: at, Value: 150 + 40*math.Sin(float64(l.Hour()-6)/24*2*math.Pi) + r.NormFloat64()*6}
			if f.edit != nil {
				f.edit(i, n, &samples[i])
			}
		}
		if err := ts.store.SaveSLISamples(ctx, ref.ID, samples, &end, job); err != nil {
			t.Fatal(err)
		}
	}

	code, body := ts.do(t, httptest.NewRequest("GET", "/api/v1/slis", nil))
	if code != 200 {
		t.Fatalf("GET /api/v1/slis: %d %s", code, body)
	}
	var got bytes.Buffer
	if err := json.Indent(&got, []byte(body), "", "  "); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "slis_api.golden.json")
	if os.Getenv("OPSREVIEW_UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, append(got.Bytes(), '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String()+"\n" != string(want) {
		t.Errorf("GET /api/v1/slis differs from %s:\n%s", golden, got.String())
	}

	var list struct {
		Items []struct {
			Name   string         `json:"name"`
			Normal map[string]any `json:"normal"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	abnormal := 0
	for _, it := range list.Items {
		var one map[string]any
		getJSON(t, ts, "/api/v1/slis/"+it.Name+"/normal", &one)
		delete(one, "objective") // the one-SLI answer adds the objective's figures
		a, _ := json.Marshal(it.Normal)
		b, _ := json.Marshal(one)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: the list says %s, the SLI's own API %s", it.Name, a, b)
		}
		if it.Normal["abnormal"] == true {
			abnormal++
		}
	}
	if abnormal < 6 {
		t.Errorf("fixture: %d abnormal SLIs, want the abnormal cases to be abnormal", abnormal)
	}
}
