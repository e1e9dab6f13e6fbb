package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

func opsConfig(c *config.Config) {
	c.Teams = []config.Team{{Name: "payments", Timezone: "Europe/Berlin", Match: map[string]string{"team": "payments"},
		BusinessHours: config.BusinessHours{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "08:00", End: "18:00"},
		SleepHours:    config.HourRange{Start: "22:00", End: "08:00"},
		ToilBudget:    config.Duration(20 * time.Hour), MinutesPerPage: 15}}
	c.PagingReceivers = []string{"pager"}
	c.Alerts.Ignore = []string{"Watchdog"}
}

func (ts *testServer) postJSON(t *testing.T, path, body string, hdr ...string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	code, b := ts.do(t, req)
	var m map[string]any
	if err := json.Unmarshal([]byte(b), &m); err != nil {
		t.Fatalf("POST %s: %d %q is not a JSON object", path, code, b)
	}
	return code, m
}

func (ts *testServer) getJSONMap(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	code, b := ts.do(t, httptest.NewRequest(http.MethodGet, path, nil))
	var m map[string]any
	if err := json.Unmarshal([]byte(b), &m); err != nil {
		t.Fatalf("GET %s: %d %q is not a JSON object", path, code, b)
	}
	return code, m
}

func TestToilAPIValidation(t *testing.T) {
	ts := newTestServer(t, "", opsConfig)
	for _, tc := range []struct{ body, reason string }{
		{`{}`, "minutes: required"},
		{`{"minutes": 0}`, "minutes: want a whole number from 1 to 1440"},
		{`{"minutes": 1441}`, "minutes"},
		{`{"minutes": 2.5}`, "minutes"},
		{`{"minutes": -3}`, "minutes"},
		{`{"minutes": "thirty"}`, "body: want a JSON object"},
		{`{"minutes": true}`, "minutes has the wrong type"},
		{`{"minutes": 30, "team": "nobody"}`, `team: no team named "nobody"`},
		{`{"minutes": 30, "at": "yesterday"}`, "at: want an RFC 3339 time"},
		{`{"minutes": 30, "note": "` + strings.Repeat("x", 2001) + `"}`, "note: at most 2000 characters"},
		{`not json`, "body: want a JSON object"},
		{`[1]`, "body: want a JSON object"},
	} {
		code, m := ts.postJSON(t, "/api/v1/toil", tc.body)
		if code != 400 || !strings.Contains(m["error"].(string), tc.reason) {
			t.Errorf("POST %s = %d %v, want 400 with %q", tc.body, code, m, tc.reason)
		}
	}
}

func TestToilAPIStoresAndLists(t *testing.T) {
	ts := newTestServer(t, "", opsConfig)
	// ts.now is Monday 2026-11-23 19:00 UTC: week 2026-W48.
	code, m := ts.postJSON(t, "/api/v1/toil", `{"team":"payments","minutes":45,"category":"deploy","note":"rolled back\u202e by hand\u0000","alertname":"DiskFull","who":"ana"}`)
	if code != 201 {
		t.Fatalf("POST = %d %v, want 201", code, m)
	}
	if m["note"] != "rolled back by hand" || m["who"] != "ana" || m["minutes"].(float64) != 45 || m["at"] != "2026-11-23T19:00:00Z" {
		t.Errorf("stored entry = %v", m)
	}
	// Idempotency-Key: the retry returns the first entry with 200.
	code1, first := ts.postJSON(t, "/api/v1/toil", `{"minutes":10,"at":"2026-11-17T02:00:00+01:00"}`, "Idempotency-Key", "abc")
	code2, second := ts.postJSON(t, "/api/v1/toil", `{"minutes":10,"at":"2026-11-17T02:00:00+01:00"}`, "Idempotency-Key", "abc")
	if code1 != 201 || code2 != 200 || first["id"] != second["id"] {
		t.Errorf("idempotent retry: %d %v then %d %v", code1, first, code2, second)
	}

	code, m = ts.getJSONMap(t, "/api/v1/toil")
	if code != 200 || m["week"] != "2026-W48" {
		t.Fatalf("GET /api/v1/toil = %d %v", code, m)
	}
	if items := m["items"].([]any); len(items) != 1 {
		t.Errorf("this week's items = %v, want the 45-minute entry", items)
	}
	code, m = ts.getJSONMap(t, "/api/v1/toil?week=2026-W47")
	if code != 200 || len(m["items"].([]any)) != 1 {
		t.Errorf("W47 = %d %v, want the 10-minute entry", code, m)
	}
	sum := m["summary"].(map[string]any)
	if sum["manual_minutes"].(float64) != 10 || sum["budget_hours"].(float64) != 20 {
		t.Errorf("W47 summary = %v", sum)
	}
	code, m = ts.getJSONMap(t, "/api/v1/toil?week=2026-W48&team=payments")
	if code != 200 || len(m["items"].([]any)) != 1 || m["timezone"] != "Europe/Berlin" {
		t.Errorf("payments W48 = %d %v", code, m)
	}
	for _, q := range []string{"week=2026-48", "week=2026-W60", "team=nobody"} {
		if code, m := ts.getJSONMap(t, "/api/v1/toil?"+q); code != 400 || m["error"] == "" {
			t.Errorf("GET ?%s = %d %v, want 400 with a reason", q, code, m)
		}
	}
}

func TestToilAPICountsPages(t *testing.T) {
	ts := newTestServer(t, "", opsConfig)
	ctx := context.Background()
	berlin := ts.cfg.TeamByName("payments").Location
	// Tuesday 2026-11-17 03:00 Berlin is sleep; Wednesday 10:00 is business.
	times := []time.Time{
		time.Date(2026, 11, 17, 3, 0, 0, 0, berlin),
		time.Date(2026, 11, 18, 10, 0, 0, 0, berlin),
		time.Date(2026, 11, 18, 10, 30, 0, 0, berlin),
	}
	for i, at := range times {
		a := review.AlertReport{Fingerprint: uint64(i + 1), Labels: map[string]string{"alertname": "DiskFull", "team": "payments"},
			StartsAt: at.Add(-time.Minute), ObservedAt: at, Road: review.RoadWebhook, Team: "payments"}
		if _, err := ts.store.IngestNotification(ctx, store.Notification{Receiver: "pager", GroupKey: "g", Status: "firing",
			ReceivedAt: at, Alerts: []review.AlertReport{a}}); err != nil {
			t.Fatal(err)
		}
	}
	code, m := ts.getJSONMap(t, "/api/v1/toil?week=2026-W47&team=payments")
	if code != 200 {
		t.Fatalf("GET = %d %v", code, m)
	}
	sum := m["summary"].(map[string]any)
	hours := sum["pages_by_hours"].(map[string]any)
	if sum["pages"].(float64) != 3 || hours["sleep"].(float64) != 1 || hours["business"].(float64) != 2 {
		t.Errorf("summary = %v", sum)
	}
	if sum["interrupted_hours"].(float64) != 2 || sum["total_hours"].(float64) != 0.75 {
		t.Errorf("interrupted hours %v, total %v; want 2 and 0.75", sum["interrupted_hours"], sum["total_hours"])
	}
	off := sum["repeat_offenders"].([]any)
	if len(off) != 1 || off[0].(map[string]any)["alertname"] != "DiskFull" {
		t.Errorf("repeat offenders = %v", off)
	}
	// The page shows the same.
	code, body := ts.do(t, httptest.NewRequest(http.MethodGet, "/toil?week=2026-W47&team=payments", nil))
	if code != 200 || !strings.Contains(body, "Repeat offenders") || !strings.Contains(body, "Europe/Berlin") {
		t.Errorf("GET /toil = %d, page lacks the counts", code)
	}
}

func TestToilFormLogsOnceAndReturnsTheSection(t *testing.T) {
	ts := newTestServer(t, "", opsConfig)
	form := url.Values{"minutes": {"30"}, "category": {"deploy"}, "note": {"<script>alert(1)</script>"},
		"alertname": {"DiskFull"}, "team": {"payments"}, "week": {"2026-W48"}, "form_key": {"k1"}}
	for range 2 { // a double submit
		req := httptest.NewRequest(http.MethodPost, "/toil/entries", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		code, body := ts.do(t, req)
		if code != 200 || !strings.Contains(body, `id="toil-section"`) || strings.Contains(body, "<html") {
			t.Fatalf("form post = %d, want the toil section fragment: %s", code, body)
		}
		if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;") {
			t.Error("the note was not escaped")
		}
	}
	entries, err := ts.store.ToilEntries(context.Background(), time.Unix(0, 0), time.Now().AddDate(10, 0, 0), nil)
	if err != nil || len(entries) != 1 {
		t.Errorf("entries after a double submit = %d, %v; want 1", len(entries), err)
	}
	form.Set("minutes", "0")
	req := httptest.NewRequest(http.MethodPost, "/toil/entries", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	if code, body := ts.do(t, req); code != 200 || !strings.Contains(body, "minutes: want a whole number") {
		t.Errorf("refused form = %d, want the reason in the form", code)
	}
}

// addRunbookAlerts stores alert episodes with runbook annotations, including hostile ones.
func addRunbookAlerts(t *testing.T, ts *testServer) {
	t.Helper()
	var reports []review.AlertReport
	for i, u := range []string{"https://wiki.example/disk", "javascript:alert(1)", " JaVaScRiPt:alert(2)", "//evil.example/x",
		"data:text/html,<script>alert(3)</script>", "", "java\tscript:alert(4)", "https://wiki.example/disk"} {
		ann := map[string]string{}
		if u != "" {
			ann["runbook_url"] = u
		}
		name := []string{"DiskFull", "Hostile1", "Hostile2", "Hostile3", "Hostile4", "NoBook", "Hostile5", "DiskFull"}[i]
		for j := range 2 {
			reports = append(reports, review.AlertReport{Fingerprint: uint64(100*i + j + 1), Labels: map[string]string{"alertname": name},
				Annotations: ann, StartsAt: ts.now.Add(-time.Duration(i+j+1) * time.Hour), ObservedAt: ts.now, Road: review.RoadWebhook})
		}
	}
	if err := ts.store.IngestAlerts(context.Background(), reports, nil); err != nil {
		t.Fatal(err)
	}
}

func TestRunbooksAPIAndReview(t *testing.T) {
	ts := newTestServer(t, "", opsConfig)
	addRunbookAlerts(t, ts)
	code, m := ts.getJSONMap(t, "/api/v1/runbooks")
	if code != 200 {
		t.Fatalf("GET = %d %v", code, m)
	}
	items := m["items"].([]any)
	byURL := map[string]map[string]any{}
	for _, it := range items {
		r := it.(map[string]any)
		for _, k := range []string{"url", "status", "last_changed", "last_reviewed", "alerts", "risk"} {
			if _, ok := r[k]; !ok {
				t.Errorf("item lacks %q: %v", k, r)
			}
		}
		byURL[r["url"].(string)] = r
	}
	if byURL["https://wiki.example/disk"]["status"] != "ok" || byURL["javascript:alert(1)"]["status"] != "broken" ||
		byURL["//evil.example/x"]["status"] != "broken" || byURL[""]["status"] != "missing" {
		t.Errorf("statuses: %v", byURL)
	}
	if byURL[""]["alerts"].([]any)[0] != "NoBook" {
		t.Errorf("missing runbook's alerts = %v", byURL[""]["alerts"])
	}
	// Ranked by risk.
	prev := 1e18
	for _, it := range items {
		r := it.(map[string]any)["risk"].(float64)
		if r > prev {
			t.Errorf("items not sorted by risk: %v", items)
		}
		prev = r
	}

	// Mark reviewed through the API and the form.
	code, m = ts.postJSON(t, "/api/v1/runbooks/reviewed", `{"url":"https://wiki.example/disk","who":"ana"}`)
	if code != 200 || m["reviewed_by"] != "ana" || m["last_reviewed"] != "2026-11-23T19:00:00Z" {
		t.Errorf("API review = %d %v", code, m)
	}
	if code, m = ts.postJSON(t, "/api/v1/runbooks/reviewed", `{"url":"https://nowhere.example/"}`); code != 404 {
		t.Errorf("reviewing an unknown runbook = %d %v, want 404", code, m)
	}
	if code, m = ts.postJSON(t, "/api/v1/runbooks/reviewed", `{}`); code != 400 || !strings.Contains(m["error"].(string), "url") {
		t.Errorf("reviewing without url = %d %v, want 400", code, m)
	}
	ts.setNow(ts.now.Add(time.Hour))
	req := httptest.NewRequest(http.MethodPost, "/runbooks/reviewed", strings.NewReader(url.Values{"url": {"https://wiki.example/disk"}, "view": {"runbooks"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.AddCookie(&http.Cookie{Name: nameCookie, Value: "bo"})
	code, body := ts.do(t, req)
	if code != 200 || !strings.HasPrefix(strings.TrimSpace(body), "<tr id=\"rb-") || !strings.Contains(body, "by bo") {
		t.Errorf("form review = %d %q, want the row with the reviewer", code, body)
	}
}

func TestRunbooksPageNeverLinksHostileURLs(t *testing.T) {
	ts := newTestServer(t, "", opsConfig)
	addRunbookAlerts(t, ts)
	code, body := ts.do(t, httptest.NewRequest(http.MethodGet, "/runbooks", nil))
	if code != 200 {
		t.Fatalf("GET /runbooks = %d", code)
	}
	for _, bad := range []string{`href="javascript`, `href=" javascript`, `href="//evil`, `href="data:`, "<script>alert(3)", `href="java`} {
		if strings.Contains(strings.ToLower(body), strings.ToLower(bad)) {
			t.Errorf("page contains %s", bad)
		}
	}
	if !strings.Contains(body, `href="https://wiki.example/disk"`) {
		t.Error("the good runbook is not a link")
	}
}

func TestSourcesAPI(t *testing.T) {
	ts := newTestServer(t, "", func(c *config.Config) {
		opsConfig(c)
		c.Sources.Prometheus = []config.PrometheusSource{{Name: "prom-eu", URL: "http://prometheus:9090",
			Interval: config.Duration(time.Minute), Timeout: config.Duration(30 * time.Second), Lookback: config.Duration(time.Hour)}}
	})
	ctx := context.Background()
	wm := ts.now.Add(-2 * time.Minute)
	if err := ts.store.IngestAlerts(ctx, nil, &store.Watermark{Source: "am", Kind: "alertmanager", At: wm}); err != nil {
		t.Fatal(err)
	}
	// IngestAlerts with no reports does not move the watermark: set it through a run record.
	if _, err := ts.store.DB().Exec(`INSERT INTO collector_state (source, kind, watermark) VALUES ('am', 'alertmanager', $1)
		ON CONFLICT (source, kind) DO UPDATE SET watermark = $1`, wm); err != nil {
		t.Fatal(err)
	}
	if err := ts.store.RecordCollectorRun(ctx, "am", "alertmanager", ts.now.Add(-time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if err := ts.store.RecordCollectorRun(ctx, "am", "alertmanager", ts.now, errorString(`<img src=x onerror=alert(1)>`)); err != nil {
		t.Fatal(err)
	}
	code, m := ts.getJSONMap(t, "/api/v1/sources")
	if code != 200 {
		t.Fatalf("GET = %d %v", code, m)
	}
	items := m["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("items = %v, want am and the configured prom-eu", items)
	}
	am := items[0].(map[string]any)
	if am["source"] != "am" || am["lag_seconds"].(float64) != 120 || am["state"] != "failing" || am["stale"] != false {
		t.Errorf("am = %v", am)
	}
	prom := items[1].(map[string]any)
	if prom["source"] != "prom-eu" || prom["state"] != "never" || prom["stale"] != true || prom["lag_seconds"] != nil {
		t.Errorf("prom-eu = %v", prom)
	}
	code, body := ts.do(t, httptest.NewRequest(http.MethodGet, "/sources", nil))
	if code != 200 || strings.Contains(body, "<img src=x") || !strings.Contains(body, "&lt;img src=x") {
		t.Errorf("GET /sources = %d; the error must be shown escaped", code)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// TestReviewPartials renders the runbooks and toil sections the weekly review includes, and the
// "mark reviewed" fragment a review row gets back.
func TestReviewPartials(t *testing.T) {
	ts := newTestServer(t, "", opsConfig)
	addRunbookAlerts(t, ts)
	seedPages(t, ts)
	ctx := context.Background()
	week, err := review.ParseWeek("2026-W48", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := ts.runbooksSection(ctx, week, nil, "tok")
	if err != nil {
		t.Fatal(err)
	}
	if len(rb.Items) != 6 || rb.Items[0].Status == review.RunbookOK {
		t.Errorf("runbooks section items = %+v, want the 5 hostile (broken) and NoBook (missing)", rb.Items)
	}
	var buf strings.Builder
	if err := ts.render.pages["runbooks"].ExecuteTemplate(&buf, "runbooks_section", rb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `id="runbooks-section"`) || strings.Contains(buf.String(), `href="javascript`) {
		t.Errorf("runbooks section HTML: %s", buf.String())
	}
	team := "payments"
	toil, err := ts.toilSection(ctx, week, &team, "tok")
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := ts.render.pages["toil"].ExecuteTemplate(&buf, "toil_section", toil); err != nil {
		t.Fatal(err)
	}
	if toil.Summary.Pages != 4 || !strings.Contains(buf.String(), `name="csrf_token" value="tok"`) {
		t.Errorf("toil section: %+v", toil.Summary)
	}

	form := url.Values{"url": {"https://wiki.example/disk"}, "view": {"review"}, "alert": {"DiskFull"}, "fires": {"3"}}
	req := httptest.NewRequest(http.MethodPost, "/runbooks/reviewed", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	code, body := ts.do(t, req)
	if code != 200 || !strings.Contains(body, `name="view" value="review"`) || !strings.Contains(body, ">DiskFull</a>") {
		t.Errorf("review fragment = %d %s", code, body)
	}
	// Without htmx, back to the review.
	req = httptest.NewRequest(http.MethodPost, "/runbooks/reviewed", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	session, csrf := ts.browserSession(t)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session})
	req.Header.Set("X-CSRF-Token", csrf)
	resp, err := ts.App().Test(req, 30_000)
	if err != nil || resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/review" {
		t.Errorf("plain post: %v %v", resp.StatusCode, err)
	}
}
