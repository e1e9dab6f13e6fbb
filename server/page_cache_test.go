package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
	"github.com/opsreview/opsreview/store/storetest"
)

// TestReviewShowsEveryWriteFromAnyInstance: two instances share one database. The review one of
// them built is reused only while nothing was written: a verdict, an action item, a toil entry, a
// change and a webhook sent to the other instance are each on the first instance's next load.
func TestReviewShowsEveryWriteFromAnyInstance(t *testing.T) {
	url := storetest.NewURL(t)
	a := newTestServer(t, url, reviewConfig)
	b := newTestServer(t, url, reviewConfig)
	feedWeek47(t, a)
	b.setNow(a.now)
	const path = "/api/v1/review?week=2026-W47&team=payments"
	load := func() string {
		t.Helper()
		code, body := a.do(t, httptest.NewRequest(http.MethodGet, path, nil))
		if code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		return body
	}
	first := load()
	if again := load(); again != first {
		t.Fatalf("nothing was written, yet the review changed")
	}
	if built := counterValue(t, a.metrics.pageCache.WithLabelValues("review", "built")); built != 1 {
		t.Fatalf("two loads with nothing written built the review %v times, want once", built)
	}
	writes := []struct {
		name, want string
		write      func()
	}{
		{"verdict", `"verdict":"needs-tuning"`, func() {
			if code, resp := b.postJSON(t, "/api/v1/verdicts", `{"alertname":"DiskFull","week":"2026-W47","verdict":"needs-tuning"}`); code != 201 {
				t.Fatalf("verdict: %d %v", code, resp)
			}
		}},
		{"action item", "raise the disk threshold", func() {
			if code, resp := b.postJSON(t, "/api/v1/action-items", `{"title":"raise the disk threshold","owner":"ana","due":"2026-12-01","team":"payments","week":"2026-W47"}`); code != 201 {
				t.Fatalf("action item: %d %v", code, resp)
			}
		}},
		{"toil entry", "restarted the batch by hand", func() {
			if code, resp := b.postJSON(t, "/api/v1/toil", `{"minutes":45,"team":"payments","note":"restarted the batch by hand","at":"2026-11-18T10:00:00Z"}`); code != 201 {
				t.Fatalf("toil: %d %v", code, resp)
			}
		}},
		{"change", "payments-api 2.4.1", func() {
			if code, resp := b.postJSON(t, "/api/v1/changes", `{"service":"payments","kind":"deploy","at":"2026-11-19T08:00:00Z","summary":"payments-api 2.4.1"}`); code != 201 {
				t.Fatalf("change: %d %v", code, resp)
			}
		}},
		{"webhook", "QueueBacklog", func() {
			at := utc("2026-11-20T08:00:00Z")
			b.deliver(t, at, "pager", "firing", hookAlert{labels: map[string]string{"alertname": "QueueBacklog", "team": "payments"}, start: at})
			b.setNow(a.now)
		}},
	}
	for _, w := range writes {
		if strings.Contains(load(), w.want) {
			t.Fatalf("%s: %q on the review before it was written", w.name, w.want)
		}
		w.write()
		if body := load(); !strings.Contains(body, w.want) {
			t.Errorf("%s written through the other instance: the next review lacks %q", w.name, w.want)
		}
	}
}

// TestConcurrentReviewLoadsShareOneBuild: twenty people opening the same review at once cost one
// build; the others wait for it or reuse it.
func TestConcurrentReviewLoadsShareOneBuild(t *testing.T) {
	ts := newTestServer(t, "", reviewConfig)
	feedWeek47(t, ts)
	var wg sync.WaitGroup
	bodies := make([]string, 20)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := ts.App().Test(httptest.NewRequest(http.MethodGet, "/api/v1/review?week=2026-W47", nil), 30_000)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			bodies[i] = string(b)
		}()
	}
	wg.Wait()
	for i, b := range bodies {
		if !strings.Contains(b, "DiskFull") || b != bodies[0] {
			t.Fatalf("response %d differs or lacks the week: %.200s", i, b)
		}
	}
	m := ts.metrics.pageCache
	built := counterValue(t, m.WithLabelValues("review-json", "built"))
	reused := counterValue(t, m.WithLabelValues("review-json", "hit")) + counterValue(t, m.WithLabelValues("review-json", "shared"))
	if built != 1 || reused != 19 {
		t.Fatalf("20 concurrent loads: the JSON encoded %v times, reused %v; want 1 and 19", built, reused)
	}
	if n := counterValue(t, m.WithLabelValues("review", "built")); n != 1 {
		t.Fatalf("20 concurrent loads built the review %v times, want once", n)
	}
}

// newReplicaServer is a test server whose read pool (database.read_url) is another database: a
// replica so far behind that it has nothing. What a request reads from it is visibly not the
// primary's.
func newReplicaServer(t *testing.T, edit func(*config.Config)) *testServer {
	t.Helper()
	ctx := context.Background()
	replicaURL := storetest.NewURL(t)
	replica, err := store.Open(ctx, replicaURL, "")
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Close()
	if _, err := replica.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	url := storetest.NewURL(t)
	t.Setenv("DATABASE_URL", url)
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	cfg.Database.ReadURL = replicaURL
	st, err := store.Open(ctx, url, replicaURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{store: st, cfg: cfg}
	ts.setNow(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	if ts.Server, err = New(Options{Config: cfg, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registry: prometheus.NewRegistry(), Now: ts.clockNow}); err != nil {
		t.Fatal(err)
	}
	return ts
}

// TestMutationsAnswerFromThePrimary: with a replica that has none of the writes, the fragment a
// mutation answers with still shows the new state (it reads the primary), a page load without the
// write's cookie shows the replica's, and the same browser's loads right after its write read the
// primary.
func TestMutationsAnswerFromThePrimary(t *testing.T) {
	ts := newReplicaServer(t, reviewConfig)
	session, csrf := ts.browserSession(t)
	post := func(path string, form url.Values) response {
		t.Helper()
		req := postReq(path, form.Encode(), "HX-Request", "true", "X-CSRF-Token", csrf)
		r := ts.send(t, req, sessionCookie, session)
		if r.status != 200 {
			t.Fatalf("POST %s: %d %s", path, r.status, r.body)
		}
		return r
	}

	// The action-item form answers with the week's list, read back after the insert.
	r := post("/review/action-items", url.Values{"title": {"raise the disk threshold"}, "owner": {"ana"}, "due": {"2026-12-01"},
		"alertname": {"DiskFull"}, "week": {"2026-W47"}, "team": {"payments"}, "idempotency_key": {"k1"}})
	if !strings.Contains(r.body, "raise the disk threshold") {
		t.Fatalf("the action-item fragment lacks the item just added (read from the replica?): %s", r.body)
	}
	fresh := cookieOf(r, freshCookie)
	if fresh == "" {
		t.Fatalf("a write sets no %s cookie", freshCookie)
	}

	// A stale verdict click answers with the verdict now in force, read back after the conflict.
	if code, resp := ts.postJSON(t, "/api/v1/verdicts", `{"alertname":"DiskFull","week":"2026-W47","verdict":"noise"}`); code != 201 {
		t.Fatalf("verdict: %d %v", code, resp)
	}
	r = post("/review/verdicts", url.Values{"alertname": {"DiskFull"}, "week": {"2026-W47"}, "verdict": {"actionable"}, "version": {"0"}})
	if !strings.Contains(r.body, "noise") {
		t.Fatalf("the conflicting verdict's fragment does not show the verdict in force (read from the replica?): %s", r.body)
	}

	// The toil form answers with the week's section, entry included.
	r = post("/toil/entries", url.Values{"minutes": {"45"}, "team": {"payments"}, "category": {"manual fix"}, "note": {"restarted the batch by hand"},
		"week": {"2026-W48"}, "form_key": {"f1"}}) // logged now: this week
	if !strings.Contains(r.body, "restarted the batch by hand") {
		t.Fatalf("the toil fragment lacks the entry just logged (read from the replica?): %s", r.body)
	}

	// Page loads read the replica, except this browser's for a few seconds after its write.
	const items = "/api/v1/action-items?team=payments"
	if r := ts.send(t, getReq(items)); r.status != 200 || strings.Contains(r.body, "raise the disk threshold") {
		t.Fatalf("a load without the cookie: %d %s, want the replica's empty list", r.status, r.body)
	}
	if r := ts.send(t, getReq(items), freshCookie, fresh); r.status != 200 || !strings.Contains(r.body, "raise the disk threshold") {
		t.Fatalf("a load right after the write: %d %s, want the primary's list", r.status, r.body)
	}
	review := "/review?week=2026-W47&team=payments"
	if r := ts.send(t, getReq(review), freshCookie, fresh); !strings.Contains(r.body, "raise the disk threshold") {
		t.Errorf("the review page right after the write lacks the item")
	}
	if r := ts.send(t, getReq(review)); strings.Contains(r.body, "raise the disk threshold") {
		t.Errorf("the review page without the cookie shows the primary's build, not the replica's")
	}
	ts.setNow(ts.now.Add(freshFor + time.Second))
	if r := ts.send(t, getReq(items), freshCookie, fresh); strings.Contains(r.body, "raise the disk threshold") {
		t.Fatalf("the cookie still routes to the primary after it expired: %s", r.body)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestSharedReviewPageIsEachViewersOwn: the review page is rendered once and shared, yet each
// viewer gets their own CSRF token and form keys nobody else has, so one person's double click
// can never swallow another person's verdict or action item.
func TestSharedReviewPageIsEachViewersOwn(t *testing.T) {
	ts := newTestServer(t, "", reviewConfig)
	feedWeek47(t, ts)
	keyRe := regexp.MustCompile(`name="(?:idempotency_key|form_key)" value="([^"]*)"`)
	keys := map[string]string{}
	var bodies []string
	for _, who := range []string{"ana", "bob"} {
		session, csrf := ts.browserSession(t)
		r := ts.send(t, getReq("/review?week=2026-W47&team=payments"), sessionCookie, session)
		if r.status != 200 || !strings.Contains(r.body, "DiskFull") {
			t.Fatalf("%s: %d %.300s", who, r.status, r.body)
		}
		if !strings.Contains(r.body, `value="`+csrf+`"`) || !strings.Contains(r.body, `content="`+csrf+`"`) {
			t.Errorf("%s's page lacks their CSRF token", who)
		}
		for _, m := range []string{tokenMarker, keyMarker, csrfMarker} {
			if strings.Contains(r.body, m) {
				t.Errorf("%s's page still holds the marker %s", who, m)
			}
		}
		found := keyRe.FindAllStringSubmatch(r.body, -1)
		if len(found) < 3 {
			t.Fatalf("%s's page has %d form keys, want one per form", who, len(found))
		}
		for _, m := range found {
			if m[1] == "" || keys[m[1]] != "" {
				t.Fatalf("form key %q given twice (%s, then %s)", m[1], keys[m[1]], who)
			}
			keys[m[1]] = who
		}
		bodies = append(bodies, r.body)
	}
	if n := counterValue(t, ts.metrics.pageCache.WithLabelValues("review-html", "built")); n != 1 {
		t.Errorf("two viewers: the page was rendered %v times, want once", n)
	}
	// Apart from tokens and keys, both got the same page.
	strip := func(s string) string { return keyRe.ReplaceAllString(csrfValueRe.ReplaceAllString(s, ""), "") }
	if strip(bodies[0]) != strip(bodies[1]) {
		t.Errorf("the two viewers' pages differ beyond tokens and keys")
	}
}

var csrfValueRe = regexp.MustCompile(`(?:value|content)="[0-9a-f]{64}"`)
