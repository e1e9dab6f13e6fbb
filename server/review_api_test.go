package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/opsreview/opsreview/config"
)

// hookAlert is one alert of a test webhook delivery.
type hookAlert struct {
	labels      map[string]string
	annotations map[string]string
	start, end  time.Time // end zero: firing
}

// deliver posts one Alertmanager delivery received at the given time.
func (ts *testServer) deliver(t *testing.T, at time.Time, receiver, status string, alerts ...hookAlert) {
	t.Helper()
	type a struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		EndsAt       time.Time         `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
	}
	msg := map[string]any{"version": "4", "receiver": receiver, "status": status, "externalURL": "http://am.example:9093",
		"groupKey": fmt.Sprintf("{}:{alertname=%q}", alerts[0].labels["alertname"]), "groupLabels": map[string]string{}}
	var as []a
	for _, x := range alerts {
		st := "firing"
		if !x.end.IsZero() {
			st = "resolved"
		}
		as = append(as, a{Status: st, Labels: x.labels, Annotations: x.annotations, StartsAt: x.start, EndsAt: x.end,
			GeneratorURL: "http://prometheus.example/graph?g0.expr=up"})
	}
	msg["alerts"] = as
	body, _ := json.Marshal(msg)
	ts.setNow(at)
	if code, resp := ts.postWebhook(t, body); code != 200 {
		t.Fatalf("webhook answered %d: %s", code, resp)
	}
}

func (ts *testServer) getJSON(t *testing.T, path string, into any) {
	t.Helper()
	code, body := ts.do(t, httptest.NewRequest(http.MethodGet, path, nil))
	if code != 200 {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal([]byte(body), into); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

func (ts *testServer) postValue(t *testing.T, path string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	code, resp := ts.do(t, req)
	var out map[string]any
	_ = json.Unmarshal([]byte(resp), &out)
	return code, out
}

func reviewConfig(c *config.Config) {
	c.Teams = []config.Team{
		{Name: "payments", Timezone: "Europe/Berlin", Match: map[string]string{"team": "payments"}},
		{Name: "search", Timezone: "America/New_York", Match: map[string]string{"team": "search"}},
	}
	for i := range c.Teams {
		t := &c.Teams[i]
		t.BusinessHours = config.BusinessHours{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "08:00", End: "18:00"}
		t.SleepHours = config.HourRange{Start: "22:00", End: "08:00"}
		t.ToilBudget = config.Duration(20 * time.Hour)
		t.MinutesPerPage = 15
	}
	c.PagingReceivers = []string{"pager"}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// feedWeek47 sends a week of deliveries (ISO week 2026-W47, 16–23 Nov):
//   - DiskFull (payments, Berlin): fires 02:30 UTC Tue (03:30 in Berlin: sleep) for 2 min, refires
//     10 min after it ended, and again Thursday 09:00 UTC (business): 3 fires, 2 flaps, 3 pages.
//   - HighLatency (search, New York): one fire Wed 15:00 UTC (10:00 in New York: business), paged.
//   - Orphan (no team): fires, notified to a chat receiver only: no page.
//   - Watchdog (ignored): fires and pages, counted nowhere.
func feedWeek47(t *testing.T, ts *testServer) {
	disk := func(inst string) map[string]string {
		return map[string]string{"alertname": "DiskFull", "team": "payments", "instance": inst}
	}
	t1 := utc("2026-11-17T02:30:00Z")
	ts.deliver(t, t1.Add(30*time.Second), "pager", "firing", hookAlert{labels: disk("a"), start: t1})
	ts.deliver(t, t1.Add(2*time.Minute), "pager", "resolved", hookAlert{labels: disk("a"), start: t1, end: t1.Add(2 * time.Minute)})
	t2 := t1.Add(12 * time.Minute)
	ts.deliver(t, t2.Add(30*time.Second), "pager", "firing", hookAlert{labels: disk("a"), start: t2})
	ts.deliver(t, t2.Add(40*time.Minute), "pager", "resolved", hookAlert{labels: disk("a"), start: t2, end: t2.Add(40 * time.Minute)})
	t3 := utc("2026-11-19T09:00:00Z")
	ts.deliver(t, t3.Add(30*time.Second), "pager", "firing", hookAlert{labels: disk("b"), start: t3})
	// A repeat of the same episode is not a new page.
	ts.deliver(t, t3.Add(4*time.Hour), "pager", "firing", hookAlert{labels: disk("b"), start: t3})
	ts.deliver(t, t3.Add(5*time.Hour), "pager", "resolved", hookAlert{labels: disk("b"), start: t3, end: t3.Add(5 * time.Hour)})

	t4 := utc("2026-11-18T15:00:00Z")
	lat := map[string]string{"alertname": "HighLatency", "team": "search", "service": "api"}
	ts.deliver(t, t4.Add(time.Minute), "pager", "firing", hookAlert{labels: lat, start: t4,
		annotations: map[string]string{"runbook_url": "https://wiki.example/latency"}})
	ts.deliver(t, t4.Add(2*time.Hour), "pager", "resolved", hookAlert{labels: lat, start: t4, end: t4.Add(2 * time.Hour),
		annotations: map[string]string{"runbook_url": "https://wiki.example/latency"}})

	t5 := utc("2026-11-20T11:00:00Z")
	orphan := map[string]string{"alertname": "Orphan", "job": "<script>alert(1)</script>"}
	ts.deliver(t, t5.Add(time.Minute), "chat", "firing", hookAlert{labels: orphan, start: t5,
		annotations: map[string]string{"runbook_url": "javascript:alert(1)"}})

	wd := map[string]string{"alertname": "Watchdog", "team": "payments"}
	ts.deliver(t, t5.Add(time.Minute), "pager", "firing", hookAlert{labels: wd, start: t5})
	ts.setNow(utc("2026-11-25T10:00:00Z")) // Wednesday of W48: the last full week is W47
}

type noisyItem struct {
	Alertname     string             `json:"alertname"`
	Fires         int                `json:"fires"`
	Flaps         int                `json:"flaps"`
	FiringSeconds float64            `json:"firing_seconds"`
	Pages         int                `json:"pages"`
	PagesByHours  map[string]int     `json:"pages_by_hours"`
	Verdict       string             `json:"verdict"`
	NoiseScore    float64            `json:"noise_score"`
	NoiseParts    map[string]float64 `json:"noise_parts"`
	Runbook       struct {
		URL    string `json:"url"`
		Status string `json:"status"`
	} `json:"runbook"`
	VerdictVersion int `json:"verdict_version"`
}

func noisyOf(t *testing.T, ts *testServer, query string) map[string]noisyItem {
	t.Helper()
	var resp struct {
		Items []noisyItem `json:"items"`
	}
	ts.getJSON(t, "/api/v1/alerts/noisy?"+query, &resp)
	out := map[string]noisyItem{}
	for i, it := range resp.Items {
		sum := 0.0
		for _, v := range it.NoiseParts {
			sum += v
		}
		if sum != it.NoiseScore {
			t.Errorf("%s: parts %v sum to %v, not the score %v", it.Alertname, it.NoiseParts, sum, it.NoiseScore)
		}
		if i > 0 && resp.Items[i-1].NoiseScore < it.NoiseScore {
			t.Errorf("not sorted by noise score: %v before %v", resp.Items[i-1].NoiseScore, it.NoiseScore)
		}
		out[it.Alertname] = it
	}
	return out
}

const w47 = "from=2026-11-16T00:00:00Z&to=2026-11-23T00:00:00Z"

func TestNoisyAlertsAPI(t *testing.T) {
	ts := newTestServer(t, "", reviewConfig)
	feedWeek47(t, ts)
	got := noisyOf(t, ts, w47)
	if _, ok := got["Watchdog"]; ok {
		t.Error("Watchdog is in alerts.ignore: it must not be counted")
	}
	d := got["DiskFull"]
	if d.Fires != 3 || d.Flaps != 2 || d.Pages != 3 || d.PagesByHours["sleep"] != 2 || d.PagesByHours["business"] != 1 {
		t.Errorf("DiskFull: %+v", d)
	}
	if want := float64(2*60 + 40*60 + 5*3600); d.FiringSeconds != want {
		t.Errorf("DiskFull firing_seconds %v, want %v", d.FiringSeconds, want)
	}
	if d.Runbook.Status != "missing" || d.Verdict != "unreviewed" {
		t.Errorf("DiskFull runbook %+v verdict %s", d.Runbook, d.Verdict)
	}
	h := got["HighLatency"]
	if h.Fires != 1 || h.Pages != 1 || h.PagesByHours["business"] != 1 || h.Runbook.URL != "https://wiki.example/latency" || h.Runbook.Status != "unknown" {
		t.Errorf("HighLatency: %+v", h)
	}
	o := got["Orphan"]
	if o.Fires != 1 || o.Pages != 0 || o.Runbook.Status != "broken" {
		t.Errorf("Orphan (paged nobody, runbook not a URL): %+v", o)
	}
	if s := noisyOf(t, ts, w47+"&team=search"); len(s) != 1 || s["HighLatency"].Fires != 1 {
		t.Errorf("team=search: %+v", s)
	}
	if u := noisyOf(t, ts, w47+"&team=unassigned"); len(u) != 1 || u["Orphan"].Fires != 1 {
		t.Errorf("team=unassigned: %+v", u)
	}
	if l := noisyOf(t, ts, w47+"&limit=1"); len(l) != 1 || l["DiskFull"].Fires != 3 {
		t.Errorf("limit=1: %+v", l)
	}
	for _, bad := range []string{"from=yesterday", "team=nobody", "limit=0"} {
		if code, body := ts.do(t, httptest.NewRequest(http.MethodGet, "/api/v1/alerts/noisy?"+bad, nil)); code != 400 || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s", bad, code, body)
		}
	}

	// A noise verdict raises the score, an actionable one lowers it; a stale write is refused.
	before := got["DiskFull"].NoiseScore
	code, v := ts.postValue(t, "/api/v1/verdicts", map[string]any{"alertname": "DiskFull", "week": "2026-W47", "verdict": "noise", "version": 0})
	if code != 201 || v["decided_by"] == "" || v["version"].(float64) != 1 {
		t.Fatalf("verdict: %d %v", code, v)
	}
	noise := noisyOf(t, ts, w47)["DiskFull"]
	if noise.Verdict != "noise" || noise.NoiseScore <= before {
		t.Errorf("after a noise verdict: %+v (score before %v)", noise, before)
	}
	if code, _ := ts.postValue(t, "/api/v1/verdicts", map[string]any{"alertname": "DiskFull", "week": "2026-W47", "verdict": "actionable", "version": 0}); code != 409 {
		t.Errorf("stale verdict: %d, want 409", code)
	}
	if code, _ := ts.postValue(t, "/api/v1/verdicts", map[string]any{"alertname": "DiskFull", "week": "2026-W47", "verdict": "actionable", "version": 1}); code != 201 {
		t.Errorf("verdict v2: %d", code)
	}
	if a := noisyOf(t, ts, w47)["DiskFull"]; a.Verdict != "actionable" || a.NoiseScore >= before {
		t.Errorf("after an actionable verdict: %+v (score before %v)", a, before)
	}
	if code, _ := ts.postValue(t, "/api/v1/verdicts", map[string]any{"alertname": "DiskFull", "week": "2026-W47", "verdict": "meh"}); code != 400 {
		t.Errorf("bad verdict: %d", code)
	}
}

func TestReviewAPIAndFollowUps(t *testing.T) {
	ts := newTestServer(t, "", reviewConfig)
	feedWeek47(t, ts)
	code, ch := ts.postValue(t, "/api/v1/changes", map[string]any{"service": "storage", "kind": "deploy", "at": "2026-11-19T08:30:00Z",
		"who": "ci", "summary": "compaction v2", "url": "https://ci.example/42"})
	if code != 201 || ch["id"] == nil {
		t.Fatalf("change: %d %v", code, ch)
	}
	if code, _ := ts.postValue(t, "/api/v1/changes", map[string]any{"service": "storage", "kind": "deploy", "at": "2026-11-19T08:30:00Z",
		"who": "ci", "summary": "compaction v2", "url": "https://ci.example/42"}); code != 200 {
		t.Errorf("the same change again: %d, want 200 (stored once)", code)
	}
	if code, _ := ts.postValue(t, "/api/v1/changes", map[string]any{"service": "x", "url": "javascript:alert(1)"}); code != 400 {
		t.Errorf("javascript: change url: %d", code)
	}
	code, item := ts.postValue(t, "/api/v1/action-items", map[string]any{"title": "raise the disk threshold", "owner": "ana",
		"due": "2026-11-24", "alertname": "DiskFull", "team": "payments", "week": "2026-W47", "idempotency_key": "k1"})
	if code != 201 {
		t.Fatalf("action item: %d %v", code, item)
	}
	if code, again := ts.postValue(t, "/api/v1/action-items", map[string]any{"title": "raise the disk threshold", "owner": "ana",
		"due": "2026-11-24", "alertname": "DiskFull", "team": "payments", "week": "2026-W47", "idempotency_key": "k1"}); code != 200 || again["id"] != item["id"] {
		t.Errorf("double submit: %d %v", code, again)
	}

	var rv struct {
		Week        string      `json:"week"`
		FollowUps   []any       `json:"follow_ups"`
		NoisyAlerts []noisyItem `json:"noisy_alerts"`
		Unassigned  []noisyItem `json:"unassigned"`
		Normal      any         `json:"normal"`
		Toil        struct {
			Pages            int            `json:"pages"`
			PagesByHours     map[string]int `json:"pages_by_hours"`
			InterruptedHours int            `json:"interrupted_hours"`
			RepeatOffenders  []struct {
				Alertname string `json:"alertname"`
				Pages     int    `json:"pages"`
			} `json:"repeat_offenders"`
			PageMinutes   int   `json:"page_minutes"`
			BudgetMinutes int   `json:"budget_minutes"`
			ManualEntries []any `json:"manual_entries"`
		} `json:"toil"`
		Runbooks struct {
			Missing []struct {
				Alertname string `json:"alertname"`
			} `json:"missing"`
		} `json:"runbooks"`
		Changes []struct {
			Service     string `json:"service"`
			AlertsAfter []struct {
				Alertname string `json:"alertname"`
				Fires     int    `json:"fires"`
			} `json:"alerts_after"`
		} `json:"changes"`
		ActionItems []map[string]any `json:"action_items"`
		Summary     map[string]any   `json:"summary"`
	}
	ts.getJSON(t, "/api/v1/review?team=payments", &rv)
	if rv.Week != "2026-W47" {
		t.Errorf("default week %s, want the last full week 2026-W47", rv.Week)
	}
	if len(rv.NoisyAlerts) != 1 || rv.NoisyAlerts[0].Alertname != "DiskFull" {
		t.Errorf("payments noisy alerts: %+v", rv.NoisyAlerts)
	}
	if len(rv.Unassigned) != 1 || rv.Unassigned[0].Alertname != "Orphan" {
		t.Errorf("alerts nobody owns: %+v", rv.Unassigned)
	}
	// Pages of payments: 3 notifications; two at 03:30 and 03:42 Berlin (one sleep hour), one at 10:00.
	if rv.Toil.Pages != 3 || rv.Toil.PagesByHours["sleep"] != 2 || rv.Toil.InterruptedHours != 2 || rv.Toil.PageMinutes != 45 ||
		rv.Toil.BudgetMinutes != 1200 || rv.Toil.ManualEntries == nil {
		t.Errorf("toil: %+v", rv.Toil)
	}
	if len(rv.Toil.RepeatOffenders) != 1 || rv.Toil.RepeatOffenders[0].Alertname != "DiskFull" {
		t.Errorf("repeat offenders: %+v", rv.Toil.RepeatOffenders)
	}
	if len(rv.Runbooks.Missing) != 1 || rv.Runbooks.Missing[0].Alertname != "DiskFull" {
		t.Errorf("missing runbooks: %+v", rv.Runbooks.Missing)
	}
	if len(rv.Changes) != 1 || len(rv.Changes[0].AlertsAfter) != 1 || rv.Changes[0].AlertsAfter[0].Alertname != "DiskFull" {
		t.Errorf("changes: %+v", rv.Changes)
	}
	if len(rv.ActionItems) != 1 || len(rv.FollowUps) != 0 {
		t.Errorf("W47 decided %d items, follow-ups %d", len(rv.ActionItems), len(rv.FollowUps))
	}
	// The next week, the item returns as a follow-up, overdue (due Tuesday, it is Wednesday).
	var next struct {
		FollowUps []map[string]any `json:"follow_ups"`
	}
	ts.getJSON(t, "/api/v1/review?team=payments&week=2026-W48", &next)
	if len(next.FollowUps) != 1 || next.FollowUps[0]["overdue"] != true || next.FollowUps[0]["title"] != "raise the disk threshold" {
		t.Fatalf("W48 follow-ups: %+v", next.FollowUps)
	}
	id := int(next.FollowUps[0]["id"].(float64))
	if code, _ := ts.postValue(t, fmt.Sprintf("/api/v1/action-items/%d", id), map[string]any{"closed": true, "version": 0}); code != 409 {
		t.Errorf("stale close: %d, want 409", code)
	}
	if code, closed := ts.postValue(t, fmt.Sprintf("/api/v1/action-items/%d", id), map[string]any{"closed": true, "version": 1}); code != 200 || closed["open"] != false {
		t.Errorf("close: %d %v", code, closed)
	}
	ts.getJSON(t, "/api/v1/review?team=payments&week=2026-W49", &next)
	if len(next.FollowUps) != 0 {
		t.Errorf("a closed item came back in W49: %+v", next.FollowUps)
	}
	if code, _ := ts.do(t, httptest.NewRequest(http.MethodGet, "/api/v1/review?week=2026-47", nil)); code != 400 {
		t.Errorf("bad week: %d", code)
	}
}

func TestReviewPagesRenderHostileTextInert(t *testing.T) {
	ts := newTestServer(t, "", reviewConfig)
	feedWeek47(t, ts)
	for _, path := range []string{"/review", "/review?week=2026-W47&team=payments", "/review?team=unassigned", "/alerts",
		"/alerts/DiskFull", "/alerts/Orphan?week=2026-W47", "/review.md?week=2026-W47"} {
		code, body := ts.do(t, httptest.NewRequest(http.MethodGet, path, nil))
		if code != 200 {
			t.Errorf("%s: %d %s", path, code, body)
			continue
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, `href="javascript:`) {
			t.Errorf("%s: hostile alert text rendered live", path)
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/review.md?week=2026-W47", nil)
	resp, err := ts.App().Test(req, 30_000)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/markdown") {
		t.Errorf("Markdown export Content-Type %q", ct)
	}
	_, md := ts.do(t, httptest.NewRequest(http.MethodGet, "/review.md?week=2026-W47", nil))
	for _, want := range []string{"# Operational review 2026-W47", "DiskFull", "## Toil", "## Summary"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}

func postForm(t *testing.T, ts *testServer, path string, form url.Values) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	return ts.do(t, req)
}

func TestReviewFormsAreIdempotentAndRefuseStaleClicks(t *testing.T) {
	ts := newTestServer(t, "", reviewConfig)
	feedWeek47(t, ts)
	form := url.Values{"title": {"tune it"}, "owner": {"ana"}, "due": {"2026-12-01"}, "alertname": {"DiskFull"},
		"week": {"2026-W47"}, "team": {"payments"}, "idempotency_key": {"form-1"}, "csrf_token": {""}}
	for i := 0; i < 2; i++ {
		if code, body := postForm(t, ts, "/review/action-items", form); code != 200 || !strings.Contains(body, `id="decided"`) {
			t.Fatalf("add form: %d %s", code, body)
		}
	}
	form.Set("title", "and write the runbook")
	if code, _ := postForm(t, ts, "/review/action-items", form); code != 200 {
		t.Fatal(code)
	}
	var items struct {
		Items []map[string]any `json:"items"`
	}
	ts.getJSON(t, "/api/v1/action-items?team=payments", &items)
	if len(items.Items) != 2 {
		t.Errorf("a double-submitted form and a second item: %d items, want 2", len(items.Items))
	}

	click := url.Values{"alertname": {"DiskFull"}, "week": {"2026-W47"}, "verdict": {"noise"}, "version": {"0"}, "idempotency_key": {"c1"}}
	for i := 0; i < 2; i++ {
		code, body := postForm(t, ts, "/review/verdicts", click)
		if code != 200 || !strings.Contains(body, `data-verdict="noise"`) || strings.Contains(body, "<html") {
			t.Fatalf("verdict click %d: %d %s", i, code, body)
		}
	}
	// Someone else's click from the same stale page: refused, the fragment shows the current verdict.
	stale := url.Values{"alertname": {"DiskFull"}, "week": {"2026-W47"}, "verdict": {"actionable"}, "version": {"0"}, "idempotency_key": {"c2"}}
	code, body := postForm(t, ts, "/review/verdicts", stale)
	if code != 200 || !strings.Contains(body, `data-verdict="noise"`) || !strings.Contains(body, "Someone else decided first") {
		t.Errorf("stale click: %d %s", code, body)
	}
	var hist struct {
		Items []map[string]any `json:"items"`
	}
	ts.getJSON(t, "/api/v1/verdicts?alertname=DiskFull", &hist)
	if len(hist.Items) != 1 {
		t.Errorf("verdict history: %d rows, want 1 (a double click and a refused stale click)", len(hist.Items))
	}
	// Without htmx (no JavaScript), a form post redirects back to the review.
	req := httptest.NewRequest(http.MethodPost, "/review/verdicts", strings.NewReader(url.Values{"alertname": {"DiskFull"},
		"week": {"2026-W47"}, "verdict": {"needs-tuning"}, "version": {"1"}, "team": {"payments"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, _ := ts.do(t, req); code != http.StatusSeeOther {
		t.Errorf("plain form post: %d, want 303", code)
	}
}

func TestRulePageMarksTheRulesOwnChangesAndDSTWeeks(t *testing.T) {
	ts := newTestServer(t, "", reviewConfig)
	feedWeek47(t, ts)
	if _, err := ts.store.DB().Exec(`
		WITH r AS (
		    INSERT INTO alert_rules (rule_key, source, group_file, group_name, alertname, expr, content_hash, first_seen, last_seen)
		    VALUES ('k', 'prom-eu', 'f.yml', 'g', 'DiskFull', 'disk_used > 0.9', 'h', '2026-11-01', '2026-11-25')
		    RETURNING id)
		INSERT INTO alert_rule_versions (rule_id, seen_at, expr, for_seconds, labels, annotations, content_hash)
		SELECT id, '2026-11-18T12:00:00Z', 'disk_used > 0.95', 300, '{}', '{}', 'h2' FROM r`); err != nil {
		t.Fatal(err)
	}
	code, body := ts.do(t, httptest.NewRequest(http.MethodGet, "/alerts/DiskFull?week=2026-W47", nil))
	if code != 200 || !strings.Contains(body, `class="marker"`) || !strings.Contains(body, "disk_used &gt; 0.95") {
		t.Errorf("rule page: %d, want a marker for the rule's change", code)
	}
	if strings.Count(body, `<rect class="bar`) != 3 {
		t.Errorf("want 3 episode bars, got %d", strings.Count(body, `<rect class="bar`))
	}
	// A Berlin week across the end of summer time is 169 hours, from local midnight to local midnight.
	var rv struct {
		From, To time.Time
	}
	ts.getJSON(t, "/api/v1/review?week=2026-W43&team=payments", &rv)
	if !rv.From.Equal(utc("2026-10-18T22:00:00Z")) || rv.To.Sub(rv.From) != 169*time.Hour {
		t.Errorf("W43 in Berlin: %v to %v", rv.From, rv.To)
	}
}
