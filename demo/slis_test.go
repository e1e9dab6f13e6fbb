package demo

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opsreview/opsreview/collectors"
	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/server"
	"github.com/opsreview/opsreview/store"
)

// judgePlan answers "is it normal at the anchor?" for a planned SLI from its samples alone, the
// way the server does from the stored baselines.
func judgePlan(cfg *config.Config, p plannedSLI, anchor time.Time) review.Normal {
	job := collectors.Job(cfg, p.def)
	bands := map[time.Time]review.Band{}
	bandAt := func(t time.Time) review.Band {
		h := review.HourSpan(t, job.Loc).From
		if b, ok := bands[h]; ok {
			return b
		}
		b := review.BaselineAt(p.samples, t, job.Loc, job.Spec)
		bands[h] = b
		return b
	}
	var points []review.Point
	for _, s := range p.samples {
		if s.At.After(anchor.Add(-3*time.Hour)) && !s.At.After(anchor) {
			points = append(points, review.Point{Sample: s, Band: bandAt(s.At)})
		}
	}
	return review.Judge(points, anchor, bandAt(anchor), review.Direction(p.def.Direction), cfg.Baseline.AbnormalAfter, 30*time.Minute)
}

// TestDemoSLIPlanHasOneRedSLINow generates the SLI history for many fill times and checks the stories
// hold whenever a newcomer starts the demo: checkout's error ratio is abnormal for the last half
// hour, every other SLI is normal now, and search latency's normal has moved up.
func TestDemoSLIPlanHasOneRedSLINow(t *testing.T) {
	cfg := demoConfig(t)
	if len(cfg.SLIs) < 4 || cfg.PrometheusSourceByName(cfg.SLIs[0].Source) == nil {
		t.Fatalf("the demo config needs its SLIs and their source: %+v", cfg.SLIs)
	}
	var anchors []time.Time
	for i := 0; i < 36; i++ { // every hour of the day and day of the week, roughly
		anchors = append(anchors, now.Add(time.Duration(i)*(7*time.Hour+23*time.Minute)).Truncate(time.Minute))
	}
	// Right after the clocks change in Europe and in the US.
	anchors = append(anchors, time.Date(2027, 3, 28, 1, 10, 0, 0, time.UTC), time.Date(2027, 3, 14, 7, 40, 0, 0, time.UTC),
		time.Date(2027, 4, 6, 9, 0, 0, 0, time.UTC))
	for i, anchor := range anchors {
		p := generate(cfg, anchor, int64(i+1))
		if len(p.slis) != len(cfg.SLIs) {
			t.Fatalf("%d planned SLIs, %d configured", len(p.slis), len(cfg.SLIs))
		}
		for _, s := range p.slis {
			n := judgePlan(cfg, s, anchor)
			want := s.def.Name == "checkout-errors"
			if n.Abnormal != want || n.Value == nil {
				t.Errorf("fill at %s: %s abnormal=%v value=%v side=%s; want abnormal=%v", anchor.Format(time.RFC3339), s.def.Name, n.Abnormal, n.Value, n.Side, want)
			}
			if want && n.Abnormal && anchor.Sub(*n.Since) > 35*time.Minute {
				t.Errorf("fill at %s: %s abnormal since %s, want the last half hour", anchor.Format(time.RFC3339), s.def.Name, n.Since)
			}
			if s.def.Name == "search-latency-p99" {
				job := collectors.Job(cfg, s.def)
				nowBand := review.BaselineAt(s.samples, anchor, job.Loc, job.Spec)
				// The same local hour four weeks earlier (New York changes clocks in the history).
				then := review.BaselineAt(s.samples, anchor.In(job.Loc).AddDate(0, 0, -28), job.Loc, job.Spec)
				if !nowBand.Known() || !then.Known() || *nowBand.Median < 1.1**then.Median {
					t.Errorf("fill at %s: search latency's normal must have moved up: now %v, four weeks ago %v", anchor.Format(time.RFC3339), nowBand.Median, then.Median)
				}
			}
		}
	}
}

// checkSLIs checks the filled SLIs through the server's JSON API at the fill's anchor: every demo
// SLI is collected to the anchor with a band now, checkout's error ratio is the one abnormal SLI,
// the review's "know your normal" shows the drift and the gap; and the baselines the fill stored
// are exactly what rebuilding them from the samples gives.
func checkSLIs(t *testing.T, st *store.Store, cfg *config.Config, sum Summary) {
	t.Helper()
	ctx := context.Background()
	if sum.SLIs != len(cfg.SLIs) || sum.SLISamples < len(cfg.SLIs)*8*7*288 {
		t.Errorf("summary: %d SLIs, %d samples", sum.SLIs, sum.SLISamples)
	}
	srv, err := server.New(server.Options{Config: cfg, Store: st, Logger: slog.New(slog.DiscardHandler),
		Registry: prometheus.NewRegistry(), Now: func() time.Time { return sum.Anchor }})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string, into any) {
		t.Helper()
		resp, err := srv.App().Test(httptest.NewRequest("GET", path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	type normal struct {
		Value, Median, Low, High *float64
		Abnormal                 bool
		Since                    *time.Time
	}
	var list struct {
		Items []struct {
			Name        string
			CollectedTo *time.Time `json:"collected_to"`
			Normal      normal
		}
	}
	get("/api/v1/slis", &list)
	if len(list.Items) != len(cfg.SLIs) {
		t.Fatalf("/api/v1/slis lists %d SLIs, want %d", len(list.Items), len(cfg.SLIs))
	}
	for _, x := range list.Items {
		n := x.Normal
		if x.CollectedTo == nil || sum.Anchor.Sub(*x.CollectedTo) > 5*time.Minute {
			t.Errorf("%s: collected to %v, want the anchor %s", x.Name, x.CollectedTo, sum.Anchor)
		}
		if n.Value == nil || n.Median == nil || n.Low == nil || n.High == nil {
			t.Errorf("%s: no value or band now: %+v", x.Name, n)
			continue
		}
		if want := x.Name == "checkout-errors"; n.Abnormal != want {
			t.Errorf("%s: abnormal=%v, want %v (value %g, band %g–%g)", x.Name, n.Abnormal, want, *n.Value, *n.Low, *n.High)
		}
		if n.Abnormal && (n.Since == nil || sum.Anchor.Sub(*n.Since) > 35*time.Minute) {
			t.Errorf("%s: abnormal since %v, want the last half hour", x.Name, n.Since)
		}
	}
	var nowN, thenN normal
	get("/api/v1/slis/search-latency-p99/normal?at="+sum.Anchor.Format(time.RFC3339), &nowN)
	ny := cfg.SLILocation(*cfg.SLIByName("search-latency-p99"))
	get("/api/v1/slis/search-latency-p99/normal?at="+sum.Anchor.In(ny).AddDate(0, 0, -28).Format(time.RFC3339), &thenN)
	if nowN.Median == nil || thenN.Median == nil || *nowN.Median < 1.1**thenN.Median {
		t.Errorf("search latency's normal must have moved up: median now %v, four weeks ago %v", nowN.Median, thenN.Median)
	}

	var rv struct {
		Normal struct {
			Moved []struct {
				SLI string `json:"sli"`
			} `json:"moved"`
			NoData []struct {
				SLI string `json:"sli"`
			} `json:"no_data"`
		} `json:"normal"`
	}
	get("/api/v1/review", &rv)
	moved, gap := false, false
	for _, m := range rv.Normal.Moved {
		moved = moved || m.SLI == "search-latency-p99"
	}
	for _, m := range rv.Normal.NoData {
		gap = gap || m.SLI == "ingest-lag"
	}
	if !moved || !gap {
		t.Errorf("the review's know your normal: search latency moved=%v, ingest lag gap=%v: %+v", moved, gap, rv.Normal)
	}

	digest := func() string {
		var d string
		if err := st.DB().Get(&d, `SELECT md5(string_agg(concat_ws('|', sli_id, hour_start, samples, weeks, median, low, high), ',' ORDER BY sli_id, hour_start)) FROM sli_baselines`); err != nil {
			t.Fatal(err)
		}
		return d
	}
	before := digest()
	for _, x := range cfg.SLIs {
		ref, err := st.EnsureSLI(ctx, store.SLIDef{Name: x.Name, Source: x.Source, Query: x.Query, Step: x.Step.D()}, collectors.Job(cfg, x))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.RebuildBaselines(ctx, ref.ID, collectors.Job(cfg, x)); err != nil {
			t.Fatal(err)
		}
	}
	if after := digest(); after != before {
		t.Errorf("the fill's baselines differ from rebuilt ones")
	}
}
