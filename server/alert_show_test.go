package server

import (
	"context"
	"html"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
)

// heatmapFires sums the fires the rule page's heatmap shows.
func heatmapFires(t *testing.T, page string) int {
	t.Helper()
	n := 0
	for _, m := range regexp.MustCompile(`title="(\d+) fires at`).FindAllStringSubmatch(page, -1) {
		v, _ := strconv.Atoi(m[1])
		n += v
	}
	return n
}

func pageHits(t *testing.T, ts *testServer, page string) float64 {
	return counterValue(t, ts.pages.requests.WithLabelValues(page, "hit"))
}

// The rule page is built once per data version and shared: a second look is a hit, and an episode
// that arrives after the page was built is on the next load.
func TestRulePageFromTheCacheShowsANewEpisode(t *testing.T) {
	ts := newTestServer(t, "", reviewConfig)
	feedWeek47(t, ts)
	now := ts.now
	const path = "/alerts/DiskFull?week=2026-W47"
	get := func() string {
		t.Helper()
		code, body := ts.do(t, httptest.NewRequest("GET", path, nil))
		if code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		return body
	}
	first := get()
	if !strings.Contains(first, "3 episodes from") || strings.Count(first, `<rect class="bar`) != 3 || heatmapFires(t, first) != 3 {
		t.Fatalf("the rule page before: want 3 episodes drawn and in the heatmap:\n%s", between(t, first, "<h1", "Labels"))
	}
	// Flaps look back across the window's start and are marked: the first is short, the second
	// refires 10 minutes after it.
	if n := strings.Count(first, `<rect class="bar flap"`); n != 2 {
		t.Errorf("%d bars marked as flaps, want 2", n)
	}
	hits := pageHits(t, ts, "alert-html")
	// Each load is a new visitor here, with a session and CSRF token of its own.
	noToken := func(page string) string { return csrfMetaRe.ReplaceAllString(page, "") }
	if again := get(); noToken(again) != noToken(first) {
		t.Error("a second load of an unchanged rule page differs")
	}
	if pageHits(t, ts, "alert-html") != hits+1 {
		t.Error("a second load of an unchanged rule page was built again, want a cache hit")
	}

	t4 := utc("2026-11-20T16:00:00Z")
	disk := map[string]string{"alertname": "DiskFull", "team": "payments", "instance": "c"}
	ts.deliver(t, t4.Add(30*time.Second), "pager", "firing", hookAlert{labels: disk, start: t4})
	ts.setNow(now)
	after := get()
	if !strings.Contains(after, "4 episodes from") || strings.Count(after, `<rect class="bar`) != 4 || heatmapFires(t, after) != 4 ||
		!strings.Contains(after, "Fri 20 Nov 16:00 UTC") {
		t.Errorf("after a new episode arrived: want it on the page:\n%s", between(t, after, "<h1", "Labels"))
	}
}

// The shared render carries each viewer's own CSRF token, never another's, and no marker.
func TestRulePageCarriesEachViewersCSRFToken(t *testing.T) {
	ts := newTestServer(t, "", reviewConfig)
	feedWeek47(t, ts)
	hits := pageHits(t, ts, "alert-html")
	var tokens []string
	for range 2 {
		session, csrf := ts.browserSession(t)
		for _, fragment := range []bool{false, true} {
			req := getReq("/alerts/DiskFull?week=2026-W47")
			if fragment {
				req.Header.Set("HX-Request", "true")
			}
			r := ts.send(t, req, sessionCookie, session)
			if r.status != 200 {
				t.Fatalf("rule page: %d %s", r.status, r.body)
			}
			for _, m := range []string{tokenMarker, keyMarker, csrfMarker} {
				if strings.Contains(r.body, m) {
					t.Errorf("the rule page (fragment %v) shows a marker: %s", fragment, m)
				}
			}
			if fragment {
				if strings.Contains(r.body, "<html") || !strings.Contains(r.body, "DiskFull") {
					t.Errorf("an htmx load got more or less than the page's content")
				}
				continue
			}
			m := csrfMetaRe.FindStringSubmatch(r.body)
			if m == nil || m[1] != csrf || m[1] != csrfFor(session) {
				t.Fatalf("the rule page carries CSRF token %v, want the viewer's own %q", m, csrf)
			}
			tokens = append(tokens, m[1])
		}
	}
	if tokens[0] == tokens[1] {
		t.Error("two viewers got the same CSRF token")
	}
	if got := pageHits(t, ts, "alert-html"); got != hits+2 {
		t.Errorf("%v cache hits for two viewers of the page and of its fragment, want 2: one render each, shared", got-hits)
	}
}

// A rule that fired more often than the timeline draws shows its newest episodes and a link to
// draw them all; the count and the heatmap are of every episode.
func TestRulePageDrawsTheNewestEpisodesWithAShowAllLink(t *testing.T) {
	ts := newTestServer(t, "", reviewConfig)
	ts.setNow(utc("2026-11-25T10:00:00Z"))
	const instances, each = 4, 130 // 520 episodes, 10 minutes long, every two hours from 1 Nov
	var reports []review.AlertReport
	base := utc("2026-11-01T00:00:00Z")
	for i := range instances {
		for j := range each {
			start := base.Add(time.Duration(j)*2*time.Hour + time.Duration(i)*time.Minute)
			reports = append(reports, review.AlertReport{Fingerprint: uint64(1000 + i),
				Labels:   map[string]string{"alertname": "Busy", "instance": strconv.Itoa(i)},
				StartsAt: start, EndsAt: start.Add(10 * time.Minute), EndKind: review.EndResolved,
				ObservedAt: start.Add(11 * time.Minute), Road: review.RoadWebhook})
		}
	}
	if err := ts.store.IngestAlerts(context.Background(), reports, nil); err != nil {
		t.Fatal(err)
	}
	total := instances * each

	code, top := ts.do(t, httptest.NewRequest("GET", "/alerts/Busy?week=2026-W47", nil))
	if code != 200 {
		t.Fatalf("rule page: %d %s", code, top)
	}
	if n := strings.Count(top, `<rect class="bar`); n != alertTimelineLatest {
		t.Errorf("the timeline draws %d episodes, want the newest %d", n, alertTimelineLatest)
	}
	if !strings.Contains(top, "520 episodes from") || heatmapFires(t, top) != total {
		t.Errorf("the count or the heatmap is not of every episode: %d in the heatmap", heatmapFires(t, top))
	}
	allURL := "/alerts/Busy?episodes=all&week=2026-W47"
	for _, want := range []string{
		"Drawing the newest 500 of 520 episodes, since",
		`<a class="show-all" href="` + html.EscapeString(allURL) + `">draw all 520</a>`,
	} {
		if !strings.Contains(top, want) {
			t.Errorf("the rule page lacks %q:\n%s", want, between(t, top, "<h1", "When it fires"))
		}
	}

	code, all := ts.do(t, httptest.NewRequest("GET", allURL, nil))
	if code != 200 {
		t.Fatalf("the show-all link: %d %s", code, all)
	}
	if n := strings.Count(all, `<rect class="bar`); n != total {
		t.Errorf("show all draws %d episodes, want %d", n, total)
	}
	want := `Drawing all 520 episodes — <a class="show-top" href="` + html.EscapeString("/alerts/Busy?week=2026-W47") + `">draw the newest 500</a>`
	if !strings.Contains(all, want) || heatmapFires(t, all) != total {
		t.Errorf("the full timeline lacks %q or its heatmap is off", want)
	}
	if code, _ := ts.do(t, httptest.NewRequest("GET", "/alerts/Busy?episodes=some", nil)); code != 400 {
		t.Errorf("episodes=some: %d, want 400", code)
	}
}
