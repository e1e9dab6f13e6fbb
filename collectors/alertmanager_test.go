package collectors

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
)

func TestAlertmanagerDecodeFixtures(t *testing.T) {
	now := time.Date(2026, 11, 23, 18, 55, 0, 0, time.UTC)
	for _, name := range []string{"am_api_v2_alerts.json", "am_api_v2_alerts_silenced.json"} {
		var as []amAlert
		if err := json.Unmarshal(fixture(t, name), &as); err != nil {
			t.Fatal(err)
		}
		reports, present := alertReports(as, "am", testConfig("", "").TeamFor, now)
		if len(reports) != 2 || len(present) != 2 {
			t.Fatalf("%s: want 2 reports, got %d", name, len(reports))
		}
		for i, r := range reports {
			if hexFP(r.Fingerprint) != as[i].Fingerprint {
				t.Fatalf("%s: our fingerprint %s differs from Alertmanager's %s", name, hexFP(r.Fingerprint), as[i].Fingerprint)
			}
			if !r.Firing() || !r.ExpiresAt.Equal(as[i].EndsAt) || !r.StartsAt.Equal(as[i].StartsAt) ||
				r.Road != review.RoadAlertmanager || r.Team != "payments" || r.Annotations["runbook_url"] == "" ||
				r.GeneratorURL == "" {
				t.Fatalf("%s: report not built as expected: %+v", name, r)
			}
			if want := name == "am_api_v2_alerts_silenced.json"; r.Silenced != want {
				t.Fatalf("%s: silenced = %v", name, r.Silenced)
			}
		}
		// Past their endsAt the alerts have resolved at endsAt: reported as ended, and not present.
		reports, present = alertReports(as, "am", testConfig("", "").TeamFor, now.Add(time.Hour))
		if len(present) != 0 || len(reports) != 2 {
			t.Fatalf("%s: resolved alerts: %d reports, %d present; want 2 ended reports, none present", name, len(reports), len(present))
		}
		for i, r := range reports {
			if r.Firing() || r.EndKind != review.EndResolved || !r.EndsAt.Equal(as[i].EndsAt) {
				t.Fatalf("%s: a resolved alert must end at its endsAt: %+v", name, r)
			}
		}
	}

	var ss []amSilence
	if err := json.Unmarshal(fixture(t, "am_api_v2_silences.json"), &ss); err != nil {
		t.Fatal(err)
	}
	sl := silences(ss, "am")
	if len(sl) != 2 || sl[0].ID != "f2adadfa-8d7e-4235-ae34-31391e2ae068" || sl[0].State != "active" ||
		sl[0].CreatedBy != "amtool-test" || len(sl[0].Matchers) != 2 || !sl[0].Matchers[0].IsEqual || sl[0].Matchers[0].IsRegex {
		t.Fatalf("silences not decoded: %+v", sl)
	}

	var status amStatus
	if err := json.Unmarshal(fixture(t, "am_api_v2_status.json"), &status); err != nil {
		t.Fatal(err)
	}
	if !status.Uptime.Equal(time.Date(2026, 11, 23, 18, 53, 8, 551e6, time.UTC)) {
		t.Fatalf("uptime: %v", status.Uptime)
	}
}

// fakeAM serves recorded Alertmanager answers; the test switches which alerts it holds and when
// it started.
type fakeAM struct {
	srv    *httptest.Server
	mu     sync.Mutex
	alerts []byte
	uptime time.Time
	clock  *clock // when set, the Date of every answer: the fake's clock is the test's
}

func newFakeAM(t *testing.T) *fakeAM {
	f := &fakeAM{alerts: fixture(t, "am_api_v2_alerts.json"), uptime: time.Date(2026, 11, 23, 18, 53, 8, 551e6, time.UTC)}
	silences := fixture(t, "am_api_v2_silences.json")
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		dated(w, f.clock)
		switch r.URL.Path {
		case "/api/v2/status":
			fmt.Fprintf(w, `{"uptime":%q,"cluster":{"status":"disabled"}}`, f.uptime.Format(time.RFC3339Nano))
		case "/api/v2/alerts":
			q := r.URL.Query()
			if q.Get("silenced") != "true" || q.Get("inhibited") != "true" || q.Get("active") != "true" {
				http.Error(w, "want silenced and inhibited alerts too", http.StatusBadRequest)
				return
			}
			w.Write(f.alerts)
		case "/api/v2/silences":
			w.Write(silences)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAM) set(alerts []byte, uptime time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if alerts != nil {
		f.alerts = alerts
	}
	if !uptime.IsZero() {
		f.uptime = uptime
	}
}

func TestAlertmanagerCollector(t *testing.T) {
	st, _ := newTestStore(t)
	ctx := context.Background()
	am := newFakeAM(t)
	clk := &clock{t: time.Date(2026, 11, 23, 18, 55, 30, 0, time.UTC)}
	am.clock = clk
	r, err := New(testConfig("", am.srv.URL), st, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	runAt := func(d time.Duration) {
		t.Helper()
		clk.Set(clk.Now().Add(d))
		if err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}

	runAt(0)
	open := openEpisodes(t, st)
	if len(open) != 2 {
		t.Fatalf("want 2 open episodes from the API, got %+v", open)
	}
	for _, e := range open {
		if !e.ViaAlertmanager || e.Silenced || e.LastSeenBy != "alertmanager:am" || e.ExpiresAt == nil {
			t.Fatalf("episode from the API: %+v", e)
		}
	}
	if sl, _ := st.Silences(ctx, "am"); len(sl) != 2 {
		t.Fatalf("want 2 silences stored, got %d", len(sl))
	}
	state, _ := st.CollectorState(ctx, "am", KindAlertmanager)
	if state.UpstreamStart == nil || !state.UpstreamStart.Equal(am.uptime) || state.Watermark == nil || !state.Watermark.Equal(clk.Now()) {
		t.Fatalf("want the start and the poll time remembered: %+v", state)
	}

	am.set(fixture(t, "am_api_v2_alerts_silenced.json"), time.Time{})
	runAt(30 * time.Second)
	lastSeen := clk.Now()
	for _, e := range openEpisodes(t, st) {
		if !e.Silenced {
			t.Fatalf("want the episode marked silenced: %+v", e)
		}
	}

	am.set([]byte(`[]`), time.Time{})
	runAt(30 * time.Second)
	if n := len(openEpisodes(t, st)); n != 2 {
		t.Fatalf("one missing poll must not close anything, %d open", n)
	}
	runAt(30 * time.Second)
	if n := len(openEpisodes(t, st)); n != 0 {
		t.Fatalf("two missing polls close, %d open", n)
	}
	for _, e := range episodes(t, st) {
		if e.EndKind != review.EndInferred || !e.EndsAt.Equal(lastSeen) {
			t.Fatalf("want an inferred end at the last sighting %v, got %+v", lastSeen, e)
		}
	}
}

func TestAlertmanagerRestartIsNotAResolve(t *testing.T) {
	st, _ := newTestStore(t)
	ctx := context.Background()
	am := newFakeAM(t)
	clk := &clock{t: time.Date(2026, 11, 23, 18, 55, 30, 0, time.UTC)}
	am.clock = clk
	r, err := New(testConfig("", am.srv.URL), st, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	poll := func() {
		t.Helper()
		clk.Set(clk.Now().Add(30 * time.Second))
		if err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	poll()
	am.set([]byte(`[]`), time.Time{})
	poll() // missing once
	// Restarted (later than it first started, but long enough ago to be past the grace period),
	// memory empty: the count starts over.
	am.set(nil, clk.Now().Add(-150*time.Second))
	poll()
	if n := len(openEpisodes(t, st)); n != 2 {
		t.Fatalf("a restart must not close episodes, %d open", n)
	}
	poll()
	if n := len(openEpisodes(t, st)); n != 2 {
		t.Fatalf("after a restart two fresh misses are needed, %d open", n)
	}
	poll()
	if n := len(openEpisodes(t, st)); n != 0 {
		t.Fatalf("want them closed now, %d open", n)
	}

	// A freshly started Alertmanager proves nothing until Prometheus has resent its alerts.
	st2, _ := newTestStore(t)
	am2 := newFakeAM(t)
	am2.clock = clk
	r2, _ := New(testConfig("", am2.srv.URL), st2, Options{Now: clk.Now})
	am2.set(nil, clk.Now().Add(-time.Hour))
	poll2 := func() {
		t.Helper()
		if err := r2.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Set(clk.Now().Add(30 * time.Second))
	}
	poll2() // the long-running Alertmanager lists both alerts
	am2.set([]byte(`[]`), clk.Now())
	for range 3 {
		poll2()
	}
	if n := len(openEpisodes(t, st2)); n != 2 {
		t.Fatalf("within the grace period nothing closes, %d open", n)
	}
	// But what the young Alertmanager listed itself and then lost, it lost because the alerts
	// resolved: two misses close them, grace period or not.
	am2.set(fixture(t, "am_api_v2_alerts.json"), time.Time{})
	poll2()
	am2.set([]byte(`[]`), time.Time{})
	poll2()
	poll2()
	if n := len(openEpisodes(t, st2)); n != 0 {
		t.Fatalf("alerts the young Alertmanager listed and then lost stay open: %d", n)
	}
}

func TestAlertsFromBothRoadsMeet(t *testing.T) {
	st, _ := newTestStore(t)
	ctx := context.Background()
	prom, am := newFakeProm(t, 15), newFakeAM(t)
	// Raw ALERTS samples every 15 s for the two alerts Alertmanager holds, since their startsAt,
	// and an earlier episode of one of them; Prometheus does not add env=rt to its own series.
	labels := func(name, severity string) map[string]string {
		return map[string]string{"alertname": name, "instance": "127.0.0.1:19100", "job": "demo",
			"service": "checkout", "severity": severity, "team": "payments"}
	}
	day := func(h, m int, s float64) time.Time {
		return time.Date(2026, 11, 23, h, m, 0, 0, time.UTC).Add(time.Duration(s * float64(time.Second)))
	}
	now := day(18, 55, 50)
	prom.alerts = alertsAnswer([]syntheticSeries{
		{labels("DemoHighErrorRatio", "critical"), day(18, 40, 0), day(18, 42, 0), 15 * time.Second},
		{labels("DemoHighErrorRatio", "critical"), day(18, 54, 21.445), now.Add(-historyDelay), 15 * time.Second},
		{labels("DemoErrorRatioWarn", "warning"), day(18, 54, 24.445), now.Add(-historyDelay), 15 * time.Second},
	})
	prom.notBefore = float64(now.Add(-historyDelay).Unix())
	clk := &clock{t: now}
	prom.clock, am.clock = clk, clk
	r, err := New(testConfig(prom.srv.URL, am.srv.URL), st, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	eps := episodes(t, st)
	if len(eps) != 3 {
		t.Fatalf("want 3 episodes (one closed, two open), got %+v", eps)
	}
	for _, e := range eps {
		if e.Open() != (e.StartsAt.After(day(18, 50, 0))) {
			t.Fatalf("want only the two current episodes open: %+v", e)
		}
		if e.Open() && (!e.ViaPrometheus || !e.ViaAlertmanager) {
			t.Fatalf("want the ALERTS history and Alertmanager's alert to be one episode: %+v", e)
		}
		if !e.Open() && (!e.EndsAt.Equal(day(18, 42, 15)) || e.EndKind != review.EndBackfill || e.ViaAlertmanager) {
			t.Fatalf("want the earlier episode from the history only, ended one interval after its last sample: %+v", e)
		}
	}
}
