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
	reports := historyReports(m, src, end.Add(-time.Hour), end, observed)

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
	for _, r := range historyReports(m, src, time.Unix(1795460060, 0), end, observed) {
		if r.Firing() && !r.Continues {
			t.Fatalf("a run at the window's beginning continues: %+v", r)
		}
	}

	// A label the series has wins over an external label of the same name.
	src.ext = map[string]string{"env": "rt", "team": "other"}
	for _, r := range historyReports(m, src, end.Add(-time.Hour), end, observed) {
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
