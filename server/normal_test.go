package server

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
	"github.com/opsreview/opsreview/templates"
)

// sliServer is a test server with two SLIs; checkout-rps has five weeks of 5-minute samples
// ending at ts.now, the last three of them (when spike) far above the usual band.
func sliServer(t testing.TB, spike bool) (*testServer, []review.Sample) {
	tt, ok := t.(*testing.T)
	if !ok {
		t.Fatal("sliServer needs a *testing.T")
	}
	ts := newTestServer(tt, "", func(c *config.Config) {
		c.Teams = []config.Team{{Name: "payments", Timezone: "Europe/Berlin",
			BusinessHours: config.BusinessHours{Days: []string{"mon"}, Start: "08:00", End: "18:00"},
			SleepHours:    config.HourRange{Start: "22:00", End: "08:00"}}}
		c.Teams[0].Location, _ = time.LoadLocation("Europe/Berlin")
		c.Sources.Prometheus = []config.PrometheusSource{{Name: "prom", URL: "http://127.0.0.1:9", Interval: config.Duration(time.Minute),
			Timeout: config.Duration(time.Second), Lookback: config.Duration(8 * 7 * 24 * time.Hour)}}
		obj := 200.0
		c.SLIs = []config.SLI{
			{Name: "checkout-rps", Source: "prom", Service: "checkout", Team: "payments", Unit: "req/s",
				Direction: "higher-is-better", Objective: &obj, Step: config.Duration(5 * time.Minute), Query: "sum(rate(x[5m]))"},
			{Name: "checkout-errors", Source: "prom", Service: "checkout", Team: "payments", Unit: "ratio",
				Direction: "lower-is-better", Step: config.Duration(5 * time.Minute), Query: "sum(rate(e[5m]))/sum(rate(x[5m]))"},
		}
	})
	samples := fillSLI(t, ts.store, ts.cfg, "checkout-rps", ts.now, 5, spike)
	return ts, samples
}

func fillSLI(t testing.TB, st *store.Store, cfg *config.Config, name string, end time.Time, weeks int, spike bool) []review.Sample {
	t.Helper()
	x := cfg.SLIByName(name)
	loc := cfg.SLILocation(*x)
	job := store.BaselineJob{Loc: loc, Spec: review.NewBaselineSpec(cfg.Baseline.Weeks, cfg.Baseline.Band[0], cfg.Baseline.Band[1])}
	ctx := context.Background()
	ref, err := st.EnsureSLI(ctx, store.SLIDef{Name: x.Name, Source: x.Source, Query: x.Query, Step: x.Step.D()}, job)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, uint64(len(name))))
	end = end.Truncate(5 * time.Minute)
	n := weeks * 7 * 288
	samples := make([]review.Sample, n)
	for i := range samples {
		at := end.Add(-time.Duration(n-1-i) * 5 * time.Minute)
		l := at.In(loc)
		v := 150 + 40*math.Sin(float64(l.Hour()-6)/24*2*math.Pi) + r.NormFloat64()*6
		samples[i] = review.Sample{At: at, Value: v}
	}
	if spike {
		for i := n - 3; i < n; i++ {
			samples[i].Value = 5 // far below: bad for higher-is-better
		}
	}
	for i := 0; i < n; i += 5000 {
		chunk := samples[i:min(i+5000, n)]
		to := chunk[len(chunk)-1].At
		if err := st.SaveSLISamples(ctx, ref.ID, chunk, &to, job); err != nil {
			t.Fatal(err)
		}
	}
	return samples
}

func getJSON(t *testing.T, ts *testServer, path string, into any) int {
	t.Helper()
	code, body := ts.do(t, httptest.NewRequest("GET", path, nil))
	if err := json.Unmarshal([]byte(body), into); err != nil {
		t.Fatalf("GET %s: %d %q: %v", path, code, body, err)
	}
	return code
}

func TestSLINormalAPI(t *testing.T) {
	ts, samples := sliServer(t, true)
	berlin := ts.cfg.SLILocation(ts.cfg.SLIs[0])
	spec := review.NewBaselineSpec(4, 0.1, 0.9)

	// A normal moment in the past: numbers equal the pure baseline of the same samples.
	at := ts.now.Add(-26*time.Hour - 7*time.Minute)
	var n map[string]any
	if code := getJSON(t, ts, "/api/v1/slis/checkout-rps/normal?at="+at.Format(time.RFC3339), &n); code != 200 {
		t.Fatalf("status %d: %v", code, n)
	}
	want := review.BaselineAt(samples, at, berlin, spec)
	for k, w := range map[string]float64{"median": *want.Median, "low": *want.Low, "high": *want.High} {
		if got, ok := n[k].(float64); !ok || math.Abs(got-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", k, n[k], w)
		}
	}
	if n["abnormal"] != false || n["since"] != nil || n["value"] == nil {
		t.Errorf("past moment: %v", n)
	}

	// Now: the last three samples are far below the band of a higher-is-better SLI.
	n = nil
	getJSON(t, ts, "/api/v1/slis/checkout-rps/normal", &n)
	if n["abnormal"] != true || n["since"] != samples[len(samples)-3].At.Format(time.RFC3339) {
		t.Errorf("now: abnormal %v since %v, want true since %s", n["abnormal"], n["since"], samples[len(samples)-3].At)
	}
	if s, _ := n["sentence"].(string); !strings.HasPrefix(s, "Abnormal since ") || !strings.Contains(s, "usually above") {
		t.Errorf("sentence %q", s)
	}
	if o, _ := n["objective"].(map[string]any); o == nil || o["week_met"] == nil {
		t.Errorf("objective %v", n["objective"])
	}
	// Two samples back, only two were outside: not yet abnormal.
	n = nil
	getJSON(t, ts, "/api/v1/slis/checkout-rps/normal?at="+samples[len(samples)-2].At.Format(time.RFC3339), &n)
	if n["abnormal"] != false || n["side"] != "bad" {
		t.Errorf("after two samples: abnormal %v side %v", n["abnormal"], n["side"])
	}

	// No data: nulls, not guesses.
	n = nil
	getJSON(t, ts, "/api/v1/slis/checkout-errors/normal", &n)
	for _, k := range []string{"value", "median", "low", "high", "since"} {
		if v, ok := n[k]; !ok || v != nil {
			t.Errorf("no data: %s = %v, want null", k, v)
		}
	}
	if n["abnormal"] != false {
		t.Errorf("no data: abnormal %v", n["abnormal"])
	}

	var e map[string]any
	if code := getJSON(t, ts, "/api/v1/slis/nope/normal", &e); code != 404 || !strings.Contains(e["error"].(string), "nope") {
		t.Errorf("unknown SLI: %d %v", code, e)
	}
	if code := getJSON(t, ts, "/api/v1/slis/checkout-rps/normal?at=yesterday", &e); code != 400 {
		t.Errorf("bad at: %d %v", code, e)
	}

	var list struct {
		Items []map[string]any `json:"items"`
	}
	getJSON(t, ts, "/api/v1/slis", &list)
	if len(list.Items) != 2 || list.Items[0]["name"] != "checkout-rps" {
		t.Fatalf("items %v", list.Items)
	}
	if nm := list.Items[0]["normal"].(map[string]any); nm["abnormal"] != true || nm["since"] != samples[len(samples)-3].At.Format(time.RFC3339) {
		t.Errorf("list normal %v", nm)
	}
}

func TestNormalPages(t *testing.T) {
	ts, _ := sliServer(t, false)
	code, body := ts.do(t, httptest.NewRequest("GET", "/normal?team=payments", nil))
	if code != 200 || !strings.Contains(body, `href="/normal/checkout-rps"`) || !strings.Contains(body, "<svg") {
		t.Errorf("/normal: %d\n%s", code, body)
	}
	code, body = ts.do(t, httptest.NewRequest("GET", "/normal/checkout-rps", nil))
	if code != 200 || !strings.Contains(body, "Normal for a ") && !strings.Contains(body, "than usual for a") && !strings.Contains(body, "Unusual for a") {
		t.Errorf("/normal/checkout-rps: %d\n%s", code, body)
	}
	if !strings.Contains(body, `class="bands"`) || !strings.Contains(body, "Last 7 days") {
		t.Error("the SLI page draws no band")
	}
	if code, _ := ts.do(t, httptest.NewRequest("GET", "/normal/nope", nil)); code != 404 {
		t.Errorf("unknown SLI page: %d", code)
	}
	if code, _ := ts.do(t, httptest.NewRequest("GET", "/normal?team=nope", nil)); code != 400 {
		t.Errorf("unknown team: %d", code)
	}
}

func TestFormatValue(t *testing.T) {
	for _, c := range []struct {
		v    float64
		unit string
		want string
	}{
		{0.041, "ratio", "4.1 %"}, {0.008, "ratio", "0.8 %"}, {148.3, "req/s", "148 req/s"},
		{0.2346, "s", "0.235 s"}, {12.04, "", "12"}, {0.00012, "ratio", "0.012 %"}, {1.5, "", "1.5"},
	} {
		if got := formatValue(c.v, c.unit); got != c.want {
			t.Errorf("formatValue(%v, %q) = %q, want %q", c.v, c.unit, got, c.want)
		}
	}
}

func TestNormalReviewSection(t *testing.T) {
	ts, _ := sliServer(t, true)
	loc := ts.cfg.SLILocation(ts.cfg.SLIs[0])
	week := review.WeekOf(ts.now, loc)
	v, err := ts.NormalReview(context.Background(), week, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.MostAbnormal) != 1 || v.MostAbnormal[0].Name != "checkout-rps" || v.MostAbnormal[0].Abnormal < 15*time.Minute {
		t.Errorf("most abnormal %+v", v.MostAbnormal)
	}
	if len(v.NoData) != 1 || v.NoData[0].Name != "checkout-errors" || v.NoData[0].Hours < 1 {
		t.Errorf("no data %+v", v.NoData)
	}
	if len(v.Moved) != 0 {
		t.Errorf("a stationary SLI moved: %+v", v.Moved)
	}
	r, err := NewRenderer(templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := r.pages["normal"].ExecuteTemplate(&b, "normalSection", v); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Most time abnormal") || !strings.Contains(b.String(), "checkout-rps") {
		t.Errorf("section:\n%s", b.String())
	}
}

func TestTVSLIPanel(t *testing.T) {
	ts, _ := sliServer(t, true)
	code, body := ts.do(t, httptest.NewRequest("GET", "/tv/panel/slis", nil))
	if code != 200 || !strings.Contains(body, "sli-red") || !strings.Contains(body, "abnormal since") {
		t.Fatalf("the SLI panel must show the abnormal SLI as a red tile: %d %s", code, body)
	}
}
