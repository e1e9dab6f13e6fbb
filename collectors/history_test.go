package collectors

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsreview/opsreview/review"
)

// fixtureMatrix decodes the recorded ALERTS answer.
func fixtureMatrix(t *testing.T) model.Matrix {
	t.Helper()
	var env struct {
		Data struct {
			Result model.Matrix `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(fixture(t, "prom_query_range_ALERTS_firing.json"), &env); err != nil {
		t.Fatal(err)
	}
	return env.Data.Result
}

func TestHistoryReportsFromFixture(t *testing.T) {
	m := fixtureMatrix(t)
	src := historySource{name: "prom", ext: map[string]string{"env": "rt"},
		evals: map[string]time.Duration{"DemoHighErrorRatio": 5 * time.Second, "DemoErrorRatioWarn": 5 * time.Second},
		cfg:   testConfig("", "")}
	end := time.Unix(fixtureLastSample+5, 0)
	observed := end.Add(time.Minute)
	reports := historyReports(m, nil, src, end.Add(-time.Hour), end, observed)

	type run struct {
		start, end int // seconds after 1795460000; end -1: open
	}
	want := map[string][]run{
		"DemoHighErrorRatio": {{0, 5}, {15, 30}, {40, 45}, {65, -1}},
		"DemoErrorRatioWarn": {{0, 5}, {25, 30}, {65, -1}},
	}
	fps := map[string]string{"DemoHighErrorRatio": fpHighErrorRatio, "DemoErrorRatioWarn": fpErrorRatioWarn}
	got := map[string][]run{}
	for _, r := range reports {
		name := r.Alertname()
		if hexFP(r.Fingerprint) != fps[name] {
			t.Fatalf("%s: fingerprint %s, Alertmanager's is %s", name, hexFP(r.Fingerprint), fps[name])
		}
		if r.Labels["env"] != "rt" || r.Labels["__name__"] != "" || r.Labels["alertstate"] != "" || r.Team != "payments" ||
			r.Road != review.RoadPrometheus || r.Source != "prom" || !r.ObservedAt.Equal(observed) || r.Continues {
			t.Fatalf("report not built as expected: %+v", r)
		}
		ru := run{start: int(r.StartsAt.Unix() - 1795460000), end: -1}
		if !r.Firing() {
			if r.EndKind != review.EndBackfill {
				t.Fatalf("an ended run is a backfill end: %+v", r)
			}
			ru.end = int(r.EndsAt.Unix() - 1795460000)
		}
		got[name] = append(got[name], ru)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("runs:\n got %v\nwant %v", got, want)
	}

	// Read from a window that begins just before the last run: it may have started earlier.
	for _, r := range historyReports(m, nil, src, time.Unix(1795460060, 0), end, observed) {
		if r.Firing() && !r.Continues {
			t.Fatalf("a run at the window's beginning continues: %+v", r)
		}
	}

	// A label the series has wins over an external label of the same name.
	src.ext = map[string]string{"env": "rt", "team": "other"}
	for _, r := range historyReports(m, nil, src, end.Add(-time.Hour), end, observed) {
		if r.Labels["team"] != "payments" {
			t.Fatalf("external label overrode the alert's: %v", r.Labels)
		}
	}
}

func TestParseExternalLabels(t *testing.T) {
	got, err := parseExternalLabels("global:\n  scrape_interval: 15s\n  external_labels:\n    cluster: eu1\n    replica: a\nscrape_configs: []\n")
	if err != nil || len(got) != 2 || got["cluster"] != "eu1" || got["replica"] != "a" {
		t.Fatalf("got %v, %v", got, err)
	}
	if got, err := parseExternalLabels("global:\n  scrape_interval: 15s\n"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("no external labels: got %v, %v", got, err)
	}
	if _, err := parseExternalLabels("global: [unclosed"); err == nil || !strings.Contains(err.Error(), "parsing") {
		t.Fatalf("want a parse error, got %v", err)
	}
}

// alertsAnswer renders an ALERTS answer: for each label set, samples every step from start to end.
func alertsAnswer(series []syntheticSeries) []byte {
	var m model.Matrix
	for _, s := range series {
		ss := &model.SampleStream{Metric: model.Metric{"__name__": "ALERTS", "alertstate": "firing"}}
		for k, v := range s.labels {
			ss.Metric[model.LabelName(k)] = model.LabelValue(v)
		}
		for t := s.from; !t.After(s.to); t = t.Add(s.step) {
			ss.Values = append(ss.Values, model.SamplePair{Timestamp: model.TimeFromUnixNano(t.UnixNano()), Value: 1})
		}
		m = append(m, ss)
	}
	b, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": m}})
	return b
}

type syntheticSeries struct {
	labels   map[string]string
	from, to time.Time
	step     time.Duration
}

// TestHistoryReportsJoinARestartByActiveAt reads ALERTS and ALERTS_FOR_STATE as a Prometheus
// restart leaves them: a gap in both, then samples again. The same ActiveAt on both sides is one
// report; a new ActiveAt (the alert went back to pending) is two; the series of another alert
// (other labels) says nothing about this one.
func TestHistoryReportsJoinARestartByActiveAt(t *testing.T) {
	t0 := time.Unix(1795460000, 0).UTC()
	sec := func(s int) model.Time {
		return model.TimeFromUnixNano(t0.Add(time.Duration(s) * time.Second).UnixNano())
	}
	series := func(name string, labels model.Metric, value func(int) float64, secs ...int) *model.SampleStream {
		s := &model.SampleStream{Metric: model.Metric{"__name__": model.LabelValue(name)}}
		for k, v := range labels {
			s.Metric[k] = v
		}
		if name == "ALERTS" {
			s.Metric["alertstate"] = "firing"
		}
		for _, x := range secs {
			s.Values = append(s.Values, model.SamplePair{Timestamp: sec(x), Value: model.SampleValue(value(x))})
		}
		return s
	}
	one := func(int) float64 { return 1 }
	activeAt := func(before, after int) func(int) float64 {
		return func(x int) float64 {
			if x < 30 {
				return float64(t0.Unix()) + float64(before)
			}
			return float64(t0.Unix()) + float64(after)
		}
	}
	alert := model.Metric{"alertname": "HighErrorRatio", "instance": "a"}
	other := model.Metric{"alertname": "HighErrorRatio", "instance": "b"}
	firing := []int{0, 5, 10, 40, 45, 50}
	src := historySource{name: "prom", ext: map[string]string{"env": "rt"}, evals: map[string]time.Duration{"HighErrorRatio": 5 * time.Second}}
	end := t0.Add(52 * time.Second)
	cases := []struct {
		name     string
		forState model.Matrix
		want     string // runs as start-end seconds, end "open"
	}{
		{"no ALERTS_FOR_STATE", nil, "[0-15 40-open]"},
		{"restored: same ActiveAt", model.Matrix{series("ALERTS_FOR_STATE", alert, activeAt(-10, -10), firing...)}, "[0-open]"},
		{"back to pending: new ActiveAt", model.Matrix{series("ALERTS_FOR_STATE", alert, activeAt(-10, 35), append([]int{35}, firing...)...)}, "[0-15 40-open]"},
		{"only another alert's ALERTS_FOR_STATE", model.Matrix{series("ALERTS_FOR_STATE", other, activeAt(-10, -10), firing...)}, "[0-15 40-open]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := model.Matrix{series("ALERTS", alert, one, firing...)}
			var got []string
			for _, r := range historyReports(m, indexForState(c.forState), src, t0.Add(-time.Hour), end, end) {
				e := "open"
				if !r.Firing() {
					e = fmt.Sprint(r.EndsAt.Sub(t0).Seconds())
				}
				if r.Labels["env"] != "rt" {
					t.Fatalf("external label missing: %v", r.Labels)
				}
				got = append(got, fmt.Sprintf("%v-%s", r.StartsAt.Sub(t0).Seconds(), e))
			}
			if fmt.Sprint(got) != c.want {
				t.Fatalf("runs %v, want %s", got, c.want)
			}
		})
	}
}
