package collectors

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// The ALERTS fixture was captured as a query_range with a 5 s step (1795460000 … 1795460085), so
// its samples are 5 s apart although the rules evaluated every second. The fake Prometheus below
// reports the group interval as 5 s to match what the samples look like.
const fixtureLastSample = 1795460085

// Fingerprints Alertmanager gave the two alerts (am_api_v2_alerts.json): with the external label
// env=rt added, the ALERTS series must hash to the same.
const (
	fpHighErrorRatio = "f012426a98fce58d"
	fpErrorRatioWarn = "73e58a61f84a536c"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// fakeProm serves the recorded rules, a configuration with external labels, and the recorded
// ALERTS samples to instant queries whose time is at or after the last sample.
type fakeProm struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	queries  []string
	times    []string
	config   int    // status code of /api/v1/status/config (200 by default)
	warnings string // when set, query answers carry this warning
	alerts   []byte // the ALERTS answer to queries at or after notBefore (Unix seconds)
	forState []byte // the ALERTS_FOR_STATE answer to such queries; none when nil
	// notBefore keeps day chunks before the recorded samples empty.
	notBefore float64
	clock     *clock // when set, the Date of every answer: the fake's clock is the test's
}

// dated sets an answer's Date from the test's clock, as a real source's clock would; the collectors
// read the source's time from it.
func dated(w http.ResponseWriter, c *clock) {
	if c != nil {
		w.Header().Set("Date", c.Now().UTC().Format(http.TimeFormat))
	}
}

// newFakeProm serves the recorded rules with their group's interval set to intervalSeconds.
func newFakeProm(t *testing.T, intervalSeconds int) *fakeProm {
	f := &fakeProm{t: t, config: http.StatusOK, alerts: fixture(t, "prom_query_range_ALERTS_firing.json"),
		notBefore: fixtureLastSample}
	rules := bytes.Replace(fixture(t, "prom_api_v1_rules_type_alert.json"), []byte(`"interval": 1,`),
		[]byte(fmt.Sprintf(`"interval": %d,`, intervalSeconds)), 1)
	if intervalSeconds != 1 && bytes.Equal(rules, fixture(t, "prom_api_v1_rules_type_alert.json")) {
		t.Fatal("fixture layout changed: cannot set the group interval")
	}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Scope-OrgID") != "team-a" || r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "missing tenant or token", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		dated(w, f.clock)
		switch r.URL.Path {
		case "/api/v1/rules":
			if r.URL.Query().Get("type") != "alert" {
				http.Error(w, "want type=alert", http.StatusBadRequest)
				return
			}
			w.Write(rules)
		case "/api/v1/status/config":
			if f.config != http.StatusOK {
				http.Error(w, "not found", f.config)
				return
			}
			fmt.Fprint(w, `{"status":"success","data":{"yaml":"global:\n  scrape_interval: 1s\n  external_labels:\n    env: rt\nrule_files:\n- rules.yml\n"}}`)
		case "/api/v1/query":
			r.ParseForm()
			f.mu.Lock()
			f.queries = append(f.queries, r.Form.Get("query"))
			f.times = append(f.times, r.Form.Get("time"))
			f.mu.Unlock()
			var ts float64
			fmt.Sscan(r.Form.Get("time"), &ts)
			body := []byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`)
			f.mu.Lock()
			switch {
			case ts < f.notBefore:
			case strings.HasPrefix(r.Form.Get("query"), "ALERTS_FOR_STATE"):
				if f.forState != nil {
					body = f.forState
				}
			default:
				body = f.alerts
			}
			f.mu.Unlock()
			if f.warnings != "" {
				body = append(bytes.TrimSuffix(bytes.TrimSpace(body), []byte("}")), []byte(`,"warnings":["`+f.warnings+`"]}`)...)
			}
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func testConfig(promURL, amURL string) *config.Config {
	cfg := &config.Config{Teams: []config.Team{{Name: "payments", Match: map[string]string{"team": "payments"}}}}
	if promURL != "" {
		cfg.Sources.Prometheus = []config.PrometheusSource{{
			Name: "prom", URL: promURL, Interval: config.Duration(time.Minute), Lookback: config.Duration(time.Hour),
			Timeout: config.Duration(30 * time.Second),
			HTTP:    config.HTTP{Headers: map[string]string{"X-Scope-OrgID": "team-a"}, BearerToken: "s3cret"},
		}}
	}
	if amURL != "" {
		cfg.Sources.Alertmanager = []config.AlertmanagerSource{{
			Name: "am", URL: amURL, Interval: config.Duration(30 * time.Second), Timeout: config.Duration(10 * time.Second),
		}}
	}
	return cfg
}

func episodes(t *testing.T, st *store.Store) []review.Episode {
	t.Helper()
	eps, err := st.Episodes(context.Background(), store.EpisodeFilter{From: time.Unix(0, 0), To: time.Unix(1<<40, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return eps
}

func openEpisodes(t *testing.T, st *store.Store) []review.Episode {
	t.Helper()
	var out []review.Episode
	for _, e := range episodes(t, st) {
		if e.Open() {
			out = append(out, e)
		}
	}
	return out
}

func hexFP(fp uint64) string { return fmt.Sprintf("%016x", fp) }

func TestPrometheusCollectorFromFixtures(t *testing.T) {
	st, _ := newTestStore(t)
	ctx := context.Background()
	prom := newFakeProm(t, 5)
	clk := &clock{t: time.Unix(fixtureLastSample+35, 0)} // the newest chunk ends 5 s after the last sample
	prom.clock = clk
	r, err := New(testConfig(prom.srv.URL, ""), st, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}

	rules, err := st.AlertRules(ctx, store.RuleFilter{Source: "prom"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 {
		t.Fatalf("want 2 alert rules, got %+v", rules)
	}
	for _, ru := range rules {
		if ru.Runbook([]string{"runbook_url"}) != "https://runbooks.example.org/"+ru.Alertname || ru.Group != "demo-slo" ||
			ru.File != "/etc/prometheus/rules.yml" || ru.GroupInterval != 5*time.Second || ru.Health != "ok" {
			t.Fatalf("rule not stored as read: %+v", ru)
		}
		if ru.Alertname == "DemoErrorRatioWarn" && (ru.For != 3*time.Second || ru.Expr != "demo_error_ratio > 0.2") {
			t.Fatalf("warn rule: %+v", ru)
		}
	}
	state, err := st.CollectorState(ctx, "prom", KindPrometheus)
	if err != nil {
		t.Fatal(err)
	}
	if state.ExternalLabels["env"] != "rt" || state.LastSuccess == nil || state.LastError != "" {
		t.Fatalf("state after a good run: %+v", state)
	}
	wantWM := time.Unix(fixtureLastSample+5, 0)
	if state.Watermark == nil || !state.Watermark.Equal(wantWM) {
		t.Fatalf("watermark %v, want %v", state.Watermark, wantWM)
	}
	if len(prom.queries) != 2 || !strings.HasPrefix(prom.queries[0], `ALERTS{alertstate="firing"}[`) ||
		!strings.HasPrefix(prom.queries[1], `ALERTS_FOR_STATE[`) ||
		prom.times[0] != fmt.Sprint(fixtureLastSample+5) || prom.times[1] != prom.times[0] {
		t.Fatalf("want one instant query of each range (ALERTS firing, ALERTS_FOR_STATE) at the chunk end, got %q at %q", prom.queries, prom.times)
	}

	// The newest run of each alert is open and hashes like Alertmanager's alert; how the older runs
	// (15–25 s apart in this capture) fold into episodes is review.Reconcile's business.
	eps := episodes(t, st)
	var open []string
	for _, e := range eps {
		if !e.ViaPrometheus || e.Team != "payments" || e.Labels["env"] != "rt" || e.Labels["alertstate"] != "" {
			t.Fatalf("episode not built as expected: %+v", e)
		}
		if e.Open() {
			open = append(open, hexFP(e.Fingerprint))
			if !e.StartsAt.Equal(time.Unix(1795460065, 0)) {
				t.Fatalf("want the open episode to start at the run's first sample: %+v", e)
			}
		} else if e.EndKind != review.EndBackfill {
			t.Fatalf("closed episodes end by backfill: %+v", e)
		}
	}
	if len(open) != 2 || !(open[0] == fpHighErrorRatio && open[1] == fpErrorRatioWarn || open[0] == fpErrorRatioWarn && open[1] == fpHighErrorRatio) {
		t.Fatalf("want the open episodes to carry Alertmanager's fingerprints, got %v", open)
	}
	total := len(eps)

	// Ten minutes later the samples have stopped: the open episodes end, nothing is doubled, and
	// the query re-reads the overlap before the watermark.
	clk.Set(clk.Now().Add(10 * time.Minute))
	if err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	eps = episodes(t, st)
	if len(eps) != total {
		t.Fatalf("want the same %d episodes, got %d", total, len(eps))
	}
	for _, e := range eps {
		if e.Open() {
			t.Fatalf("samples stopped: episode should be closed: %+v", e)
		}
	}
	if e := eps[0]; !e.EndsAt.Equal(time.Unix(fixtureLastSample+5, 0)) || e.EndKind != review.EndBackfill {
		t.Fatalf("want the end one interval after the last sample, got %+v", e)
	}
	if q := prom.queries[2]; q != `ALERTS{alertstate="firing"}[1200s]` {
		t.Fatalf("want 10 minutes since the watermark plus a 10 minute overlap, got %s", q)
	}
}

func TestPrometheusCollectorWarningsHoldTheWatermark(t *testing.T) {
	st, _ := newTestStore(t)
	ctx := context.Background()
	prom := newFakeProm(t, 5)
	prom.warnings = "partial response: store gateway unreachable"
	clk := &clock{t: time.Unix(fixtureLastSample+35, 0)}
	prom.clock = clk
	r, err := New(testConfig(prom.srv.URL, ""), st, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	err = r.RunOnce(ctx)
	if err == nil || !strings.Contains(err.Error(), "store gateway unreachable") {
		t.Fatalf("want the warning as the run's error, got %v", err)
	}
	state, _ := st.CollectorState(ctx, "prom", KindPrometheus)
	if state.Watermark != nil || len(episodes(t, st)) != 0 {
		t.Fatalf("a chunk with warnings must not be stored nor advance the watermark: %+v", state)
	}
	if !strings.Contains(state.LastError, "warnings") {
		t.Fatalf("want the error recorded for the Sources page, got %q", state.LastError)
	}
	// Rules still synced: they do not depend on the history.
	if rules, _ := st.AlertRules(ctx, store.RuleFilter{}); len(rules) != 2 {
		t.Fatalf("rules should be stored, got %d", len(rules))
	}
}

func TestPrometheusCollectorWithoutConfigEndpoint(t *testing.T) {
	st, _ := newTestStore(t)
	ctx := context.Background()
	prom := newFakeProm(t, 5)
	prom.config = http.StatusNotFound // Thanos, Mimir
	clk := &clock{t: time.Unix(fixtureLastSample+35, 0)}
	prom.clock = clk
	r, err := New(testConfig(prom.srv.URL, ""), st, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	for _, e := range episodes(t, st) {
		if _, ok := e.Labels["env"]; ok {
			t.Fatalf("no external labels to add, got %+v", e.Labels)
		}
	}

	// A config endpoint that fails (not 404) with no labels known stops the history.
	st2, _ := newTestStore(t)
	prom.config = http.StatusInternalServerError
	r2, _ := New(testConfig(prom.srv.URL, ""), st2, Options{Now: clk.Now})
	if err := r2.RunOnce(ctx); err == nil || !strings.Contains(err.Error(), "external labels") {
		t.Fatalf("want an external-labels error, got %v", err)
	}
	if len(episodes(t, st2)) != 0 {
		t.Fatal("history must wait for the external labels")
	}
}

func TestPrometheusCollectorBackfillsByUTCDay(t *testing.T) {
	st, _ := newTestStore(t)
	ctx := context.Background()
	prom := newFakeProm(t, 5)
	cfg := testConfig(prom.srv.URL, "")
	cfg.Sources.Prometheus[0].Lookback = config.Duration(72 * time.Hour)
	clk := &clock{t: time.Unix(fixtureLastSample+35, 0)}
	prom.clock = clk
	r, err := New(cfg, st, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// From 18:55 three days ago: three partial-or-whole days before today, then today. Days
	// without firing samples need no ALERTS_FOR_STATE query.
	var alertsTimes []string
	for i, q := range prom.queries {
		if strings.HasPrefix(q, "ALERTS{") {
			alertsTimes = append(alertsTimes, prom.times[i])
		}
	}
	if len(alertsTimes) != 4 || len(prom.queries) != 5 {
		t.Fatalf("want 4 day chunks and one ALERTS_FOR_STATE query for the day with samples, got %q at %v", prom.queries, prom.times)
	}
	for _, ts := range alertsTimes[:3] {
		var sec int64
		fmt.Sscan(ts, &sec)
		if sec%86400 != 0 {
			t.Fatalf("closed days end at UTC midnight, got %s", time.Unix(sec, 0).UTC())
		}
	}
	if len(openEpisodes(t, st)) != 2 {
		t.Fatalf("want 2 open episodes, got %+v", episodes(t, st))
	}
}

func TestRestoringAfterAPrometheusStart(t *testing.T) {
	start := time.Unix(1795460000, 0).UTC()
	rules := func(interval float64, lastEval ...time.Time) *v1.RulesResult {
		g := v1.RuleGroup{Name: "g", Interval: interval}
		for _, le := range lastEval {
			g.Rules = append(g.Rules, v1.AlertingRule{Name: "A", LastEvaluation: le})
		}
		g.Rules = append(g.Rules, v1.RecordingRule{Name: "r"}) // recording rules do not count
		return &v1.RulesResult{Groups: []v1.RuleGroup{g}}
	}
	s := func(n int) time.Time { return start.Add(time.Duration(n) * time.Second) }
	cases := []struct {
		name  string
		start time.Time
		now   time.Time
		rules *v1.RulesResult
		want  bool
	}{
		{"not evaluated since the start", start, s(1), rules(1, time.Time{}), true},
		{"evaluated twice: not restored yet", start, s(2), rules(1, s(1)), true},
		{"one rule restored, another not", start, s(5), rules(1, s(4), s(2)), true},
		{"evaluated three intervals after the start", start, s(4), rules(1, s(3)), false},
		{"a slow group does not hold the history past the cap", start, s(601), rules(3600, s(1)), false},
		{"a slow group holds it until then", start, s(599), rules(3600, s(1)), true},
		{"start unknown (remote engine)", time.Time{}, s(1), rules(1, time.Time{}), false},
		{"rules unknown", start, s(1), nil, false},
		{"no alerting rules", start, s(1), rules(1), false},
	}
	for _, c := range cases {
		if got := restoring(c.start, c.now, c.rules); got != c.want {
			t.Errorf("%s: restoring = %v, want %v", c.name, got, c.want)
		}
	}
}
