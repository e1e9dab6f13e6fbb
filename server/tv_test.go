package server

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
	"github.com/opsreview/opsreview/store/storetest"
)

func TestTVCacheLoadsOncePerRefreshAndServesStale(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	tc := newTVCache(tvRefresh, clock)
	key := tvKey{"firing", ""}

	var loads atomic.Int32
	release := make(chan struct{})
	load := func(context.Context) (any, error) {
		n := loads.Add(1)
		<-release
		return int(n), nil
	}
	// Fifty screens ask at once with nothing cached: one load, and all get its result.
	var wg sync.WaitGroup
	results := make(chan any, 50)
	for range 50 {
		wg.Add(1)
		go func() { defer wg.Done(); results <- tc.get(context.Background(), key, load).Val }()
	}
	for loads.Load() == 0 {
		time.Sleep(time.Millisecond) // wait until the one load has started
	}
	close(release)
	wg.Wait()
	close(results)
	for v := range results {
		if v != 1 {
			t.Fatalf("a screen got %v, want the one load's result", v)
		}
	}
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads for 50 screens, want 1", n)
	}
	// Within the refresh interval: no load.
	advance(tvRefresh - time.Second)
	if v := tc.get(context.Background(), key, load).Val; v != 1 || loads.Load() != 1 {
		t.Errorf("within the interval: %v after %d loads", v, loads.Load())
	}
	// After it: one request starts a reload, and it and every other get the old fragment at
	// once while the reload runs; the next request gets the new one.
	advance(2 * time.Second)
	release = make(chan struct{})
	if r := tc.get(context.Background(), key, load); r.Val != 1 {
		t.Errorf("the request that starts a reload: %v, want the stale fragment at once", r.Val)
	}
	for loads.Load() == 1 {
		time.Sleep(time.Millisecond)
	}
	if r := tc.get(context.Background(), key, load); r.Val != 1 {
		t.Errorf("during a reload: %v, want the stale fragment", r.Val)
	}
	close(release)
	tc.wait()
	if r := tc.get(context.Background(), key, load); r.Val != 2 || loads.Load() != 2 {
		t.Errorf("after the reload: %v after %d loads", r.Val, loads.Load())
	}
	// A failed load keeps the last good fragment, with its age and the error.
	advance(tvRefresh)
	built := clock()
	fail := func(context.Context) (any, error) { return nil, store.ErrUnavailable }
	tc.get(context.Background(), key, fail)
	tc.wait()
	r := tc.get(context.Background(), key, fail)
	if r.Val != 2 || !errors.Is(r.Err, store.ErrUnavailable) || !r.Built.Before(built) {
		t.Errorf("after a failed load: %+v", r)
	}
	// A fragment nobody has polled for a while (a screen switched on again) is not shown while
	// it reloads: that request waits for what is true now.
	advance(tvWaitAfter * tvRefresh)
	if r := tc.get(context.Background(), key, func(context.Context) (any, error) { return 3, nil }); r.Val != 3 {
		t.Errorf("after %d intervals without a poll: %v, want the new fragment", tvWaitAfter, r.Val)
	}
}

func TestAgeWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "less than a minute", time.Minute: "1 minute", 7*time.Minute + 59*time.Second: "7 minutes",
		time.Hour: "1 hour", 47 * time.Hour: "47 hours", 72 * time.Hour: "3 days",
	} {
		if got := ageWords(d); got != want {
			t.Errorf("ageWords(%v) = %q, want %q", d, got, want)
		}
	}
}

func tvServer(t *testing.T, url string) *testServer {
	return newTestServer(t, url, func(c *config.Config) {
		c.Teams = []config.Team{testTeam("payments")}
		c.PagingReceivers = []string{"pager"}
	})
}

func TestTVPanels(t *testing.T) {
	ts := tvServer(t, "")
	ctx := context.Background()
	now := ts.now // Monday 23 Nov 2026, 19:00 UTC = 20:00 in Berlin: evening
	alert := func(fp uint64, name, sev string, start time.Time) review.AlertReport {
		return review.AlertReport{Fingerprint: fp, Labels: map[string]string{"alertname": name, "severity": sev, "instance": "db-1"},
			StartsAt: start, ObservedAt: start, Road: review.RoadWebhook, Team: "payments"}
	}
	send := func(at time.Time, a review.AlertReport) {
		if _, err := ts.store.IngestNotification(ctx, store.Notification{Receiver: "pager", GroupKey: "g", Status: "firing", ReceivedAt: at,
			Alerts: []review.AlertReport{a}}); err != nil {
			t.Fatal(err)
		}
	}
	send(now.Add(-time.Hour), alert(1, "DiskFull", "warning", now.Add(-time.Hour)))             // 19:00 Berlin: evening
	send(now.Add(-3*time.Hour), alert(2, "ErrorBudgetBurn", "critical", now.Add(-3*time.Hour))) // 17:00: business
	send(now.Add(-17*time.Hour), alert(3, "NodeDown", "critical", now.Add(-17*time.Hour)))      // 03:00: sleep
	send(now.Add(-8*24*time.Hour), alert(4, "LastWeek", "critical", now.Add(-8*24*time.Hour)))  // last week
	if err := ts.store.RecordCollectorRun(ctx, "prom-eu", "alerts", now.Add(-7*time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if err := ts.store.RecordCollectorRun(ctx, "prom-eu", "alerts", now.Add(-time.Minute), errors.New("dial tcp: connection refused")); err != nil {
		t.Fatal(err)
	}

	r := ts.send(t, getReq("/tv/panel/firing?team=payments"))
	if r.status != 200 {
		t.Fatalf("firing: %d %s", r.status, r.body)
	}
	// Critical first, oldest first: LastWeek's episode still fires.
	last := -1
	for _, name := range []string{"LastWeek", "NodeDown", "ErrorBudgetBurn", "DiskFull"} {
		i := strings.Index(r.body, name)
		if i < 0 || i < last {
			t.Errorf("firing panel: %s missing or out of order (critical first, oldest first): %s", name, r.body)
		}
		last = i
	}
	if !strings.Contains(r.body, "data is 7 minutes old — source prom-eu unreachable") {
		t.Errorf("firing panel status: %s", r.body)
	}

	r = ts.send(t, getReq("/tv/panel/pages?team=payments"))
	for _, want := range []string{`<span class="tv-big">3</span>`, "2026-W48",
		`hours-business"><span class="tv-num">1</span>`, `hours-evening"><span class="tv-num">1</span>`, `hours-sleep"><span class="tv-num">1</span>`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("pages panel lacks %s: %s", want, r.body)
		}
	}
	r = ts.send(t, getReq("/tv/panel/freshness"))
	if !strings.Contains(r.body, "prom-eu") || !strings.Contains(r.body, "unreachable") {
		t.Errorf("freshness panel: %s", r.body)
	}
	if r := ts.send(t, getReq("/tv?panels=firing,nope")); r.status != 400 {
		t.Errorf("an unknown panel: %d", r.status)
	}
	if r := ts.send(t, getReq("/tv/panel/nope")); r.status != 404 {
		t.Errorf("an unknown panel fragment: %d", r.status)
	}
	if r := ts.send(t, getReq("/tv?rotate=1s")); r.status != 400 {
		t.Errorf("rotate=1s: %d", r.status)
	}
}

func TestTVKeepsTheLastGoodDataWhileTheDatabaseIsDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Postgres cluster")
	}
	cl := storetest.NewCluster(t)
	ts := tvServer(t, cl.URL("postgres"))
	token := ts.createToken(t, store.TokenTV, "lobby", "")
	if r := ts.send(t, getReq("/tv/panel/firing"), tvCookie, token); r.status != 200 || !strings.Contains(r.body, "Nothing is firing") {
		t.Fatalf("before: %d %s", r.status, r.body)
	}
	cl.Stop()
	ts.setNow(ts.now.Add(7 * time.Minute))
	r := ts.send(t, getReq("/tv/panel/firing"), tvCookie, token)
	if r.status != 200 || !strings.Contains(r.body, "Nothing is firing") ||
		!strings.Contains(r.body, "data is 7 minutes old — opsreview cannot reach its database") {
		t.Errorf("while the database is down: %d %s", r.status, r.body)
	}
	// A panel that never loaded answers 503, so htmx keeps whatever the screen shows.
	if r := ts.send(t, getReq("/tv/panel/pages"), tvCookie, token); r.status != 503 {
		t.Errorf("a panel never loaded, database down: %d", r.status)
	}
	cl.Start()
	ts.setNow(ts.now.Add(tvRefresh))
	var body string
	for range 50 { // the pool reconnects on its own
		if r := ts.send(t, getReq("/tv/panel/firing"), tvCookie, token); strings.Contains(r.body, "updated ") {
			body = r.body
			break
		}
		ts.setNow(ts.now.Add(tvRefresh))
		time.Sleep(200 * time.Millisecond)
	}
	if body == "" {
		t.Error("the panel did not recover after the database came back")
	}
}

// seedTVWeek delivers, through the webhook, a week of payments alerts as the noisiest, toil and
// runbooks panels see them on Monday 23 Nov 2026, 19:00 UTC (ISO week 2026-W48 in Berlin):
//   - DiskFull: fires 02:00 UTC (03:00 in Berlin: sleep) for 2 min and refires 8 min later: 2
//     fires, 2 flaps, 2 sleep pages, and a noise verdict for W48 — score 2+4+24+10 = 40. Its
//     runbook answers 404: broken.
//   - MidnightJob: fires Sunday 23:30 UTC, which is Monday 00:30 in Berlin: this week in the
//     team's timezone (last week in UTC). 1 fire, 1 sleep page: 13. Runbook ok.
//   - HighLatency: fires 14:00 UTC (15:00: business), paged: 1+3 = 4. No runbook: missing.
//   - OldAlert: fired last week, so not this week's; its runbook is 200 days old: stale.
//   - Watchdog (ignored): pages at night, counted nowhere.
//
// And 90 minutes of toil logged by hand: 4 pages × 15 min + 90 min = 2.5 h of a 20 h budget.
func seedTVWeek(t *testing.T, ts *testServer) time.Time {
	t.Helper()
	ctx := context.Background()
	now := ts.now
	lbl := func(name string) map[string]string {
		return map[string]string{"alertname": name, "team": "payments", "instance": "db-1"}
	}
	rb := func(u string) map[string]string { return map[string]string{"runbook_url": u} }
	d1 := utc("2026-11-23T02:00:00Z")
	ts.deliver(t, d1.Add(30*time.Second), "pager", "firing", hookAlert{labels: lbl("DiskFull"), annotations: rb("https://wiki.example/disk"), start: d1})
	ts.deliver(t, d1.Add(2*time.Minute), "pager", "resolved", hookAlert{labels: lbl("DiskFull"), annotations: rb("https://wiki.example/disk"), start: d1, end: d1.Add(2 * time.Minute)})
	d2 := d1.Add(10 * time.Minute)
	ts.deliver(t, d2.Add(30*time.Second), "pager", "firing", hookAlert{labels: lbl("DiskFull"), annotations: rb("https://wiki.example/disk"), start: d2})
	ts.deliver(t, d2.Add(40*time.Minute), "pager", "resolved", hookAlert{labels: lbl("DiskFull"), annotations: rb("https://wiki.example/disk"), start: d2, end: d2.Add(40 * time.Minute)})
	m := utc("2026-11-22T23:30:00Z")
	ts.deliver(t, m.Add(30*time.Second), "pager", "firing", hookAlert{labels: lbl("MidnightJob"), annotations: rb("https://wiki.example/midnight"), start: m})
	ts.deliver(t, m.Add(20*time.Minute), "pager", "resolved", hookAlert{labels: lbl("MidnightJob"), annotations: rb("https://wiki.example/midnight"), start: m, end: m.Add(20 * time.Minute)})
	h := utc("2026-11-23T14:00:00Z")
	ts.deliver(t, h.Add(time.Minute), "pager", "firing", hookAlert{labels: lbl("HighLatency"), start: h})
	ts.deliver(t, h.Add(time.Hour), "pager", "resolved", hookAlert{labels: lbl("HighLatency"), start: h, end: h.Add(time.Hour)})
	o := utc("2026-11-18T10:00:00Z")
	ts.deliver(t, o.Add(time.Minute), "pager", "firing", hookAlert{labels: lbl("OldAlert"), annotations: rb("https://wiki.example/old"), start: o})
	ts.deliver(t, o.Add(time.Hour), "pager", "resolved", hookAlert{labels: lbl("OldAlert"), annotations: rb("https://wiki.example/old"), start: o, end: o.Add(time.Hour)})
	w := utc("2026-11-23T01:00:00Z")
	ts.deliver(t, w.Add(time.Minute), "pager", "firing", hookAlert{labels: lbl("Watchdog"), start: w})
	ts.setNow(now)

	checked := now.Add(-time.Hour)
	fresh, old := now.Add(-10*24*time.Hour), now.Add(-200*24*time.Hour)
	for _, c := range []store.RunbookCheck{
		{URL: "https://wiki.example/disk", StatusCode: 404},
		{URL: "https://wiki.example/midnight", StatusCode: 200, LastModified: &fresh},
		{URL: "https://wiki.example/old", StatusCode: 200, LastModified: &old},
	} {
		c.FirstSeen, c.CheckedAt = old, checked
		if err := ts.store.RecordRunbookCheck(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ts.store.SaveVerdict(ctx, store.VerdictInput{Alertname: "DiskFull", Week: "2026-W48",
		Verdict: review.VerdictNoise, By: "ana", At: now}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ts.store.AddToilEntry(ctx, store.NewToilEntry{ToilEntry: review.ToilEntry{Team: "payments",
		Minutes: 90, Category: "manual fix", At: now.Add(-2 * time.Hour), Who: "ana", CreatedAt: now}}); err != nil {
		t.Fatal(err)
	}
	return now
}

func TestTVWeekPanels(t *testing.T) {
	ts := tvServer(t, "")
	now := seedTVWeek(t, ts)
	panel := func(path string, want ...string) string {
		t.Helper()
		r := ts.send(t, getReq(path))
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		for _, w := range want {
			if !strings.Contains(r.body, w) {
				t.Errorf("%s lacks %s: %s", path, w, r.body)
			}
		}
		return r.body
	}

	body := panel("/tv/panel/noisiest?team=payments",
		`<span class="tv-noisy-name">DiskFull</span>`, `verdict-noise">noise</span>`,
		`<span class="tv-big">40</span>`, `<span class="tv-num">2</span><span class="tv-cap">fires</span>`,
		`hours-business"><span class="tv-num">0</span>`, `hours-evening"><span class="tv-num">0</span>`,
		`hours-sleep"><span class="tv-num">2</span>`,
		`fires <b>&#43;2</b>`, `flaps <b>&#43;4</b>`, `sleep pages <b>&#43;24</b>`, `verdict <b>&#43;10</b>`,
		// MidnightJob fired on Monday in Berlin: this week, for the team.
		`<span class="tv-next-name">MidnightJob</span> (13)`, `<span class="tv-next-name">HighLatency</span> (4)`)
	for _, not := range []string{"Watchdog", "OldAlert", "evening pages <b>"} {
		if strings.Contains(body, not) {
			t.Errorf("noisiest panel shows %q: %s", not, body)
		}
	}

	panel("/tv/panel/toil?team=payments",
		`<span class="tv-big">2.5<small> h</small></span>`, "toil in 2026-W48, of a 20 h budget",
		`<span class="tv-num">13%</span><span class="tv-cap">of the budget</span>`, `<rect class="meter-fill" width="13"`,
		`hours-business"><span class="tv-num">1</span>`, `hours-evening"><span class="tv-num">0</span>`,
		`hours-sleep"><span class="tv-num">3</span>`, "1 logged entry")

	panel("/tv/panel/runbooks?team=payments",
		`rb-broken"><span class="tv-num">1</span>`, `rb-missing"><span class="tv-num">1</span>`,
		`rb-stale"><span class="tv-num">1</span>`, `rb-ok"><span class="tv-num">1</span>`,
		"https://wiki.example/disk", "DiskFull · fired 2 times in 28 days", "no runbook", "https://wiki.example/old",
		"neither changed nor reviewed for 90 days")

	// Over budget: 20 h more logged, and the next refresh shows it: the poll that finds the
	// fragment due starts the refresh in the background, the screen's next poll shows its result.
	if _, _, err := ts.store.AddToilEntry(context.Background(), store.NewToilEntry{ToilEntry: review.ToilEntry{Team: "payments",
		Minutes: 20 * 60, Category: "incident", At: now.Add(-time.Hour), Who: "ana", CreatedAt: now}}); err != nil {
		t.Fatal(err)
	}
	ts.setNow(now.Add(tvRefresh))
	panel("/tv/panel/toil?team=payments", `<span class="tv-big">2.5<small> h</small></span>`)
	ts.tv.cache.wait()
	panel("/tv/panel/toil?team=payments", `tv-toil is-over`, `<span class="tv-big">22.5<small> h</small></span>`,
		`<span class="tv-num">113%</span><span class="tv-cap">over budget</span>`, `<rect class="meter-fill" width="100"`)

	// Nothing this week: the noisiest panel says so instead of showing an empty card.
	empty := tvServer(t, "")
	if r := empty.send(t, getReq("/tv/panel/noisiest")); r.status != 200 || !strings.Contains(r.body, "No alert fired or paged in 2026-W48") {
		t.Errorf("noisiest, empty week: %d %s", r.status, r.body)
	}
	if r := empty.send(t, getReq("/tv?panels=noisiest,toil,runbooks")); r.status != 200 {
		t.Errorf("the TV with the new panels: %d %s", r.status, r.body)
	}
}

// TestTVPanelFragmentSentAgainUntilRefreshed: screens polling a panel within its refresh get the
// same fragment, and the first poll after a refresh gets the new one; a fragment's poll mints no
// session (the TV page does), the page itself does.
func TestTVPanelFragmentSentAgainUntilRefreshed(t *testing.T) {
	ts := tvServer(t, "")
	ctx := context.Background()
	fire := func(fp uint64, name string) {
		t.Helper()
		a := review.AlertReport{Fingerprint: fp, Labels: map[string]string{"alertname": name, "severity": "critical"},
			StartsAt: ts.now.Add(-time.Hour), ObservedAt: ts.now, Road: review.RoadWebhook, Team: "payments"}
		if _, err := ts.store.IngestNotification(ctx, store.Notification{Receiver: "pager", GroupKey: "g", Status: "firing",
			ReceivedAt: ts.now, Alerts: []review.AlertReport{a}}); err != nil {
			t.Fatal(err)
		}
	}
	fire(1, "DiskFull")
	first := ts.send(t, getReq("/tv/panel/firing?team=payments"))
	if first.status != 200 || !strings.Contains(first.body, "DiskFull") || !strings.Contains(first.body, "updated 20:00:00") {
		t.Fatalf("first poll: %d %s", first.status, first.body)
	}
	if c := first.header.Get("Set-Cookie"); c != "" {
		t.Errorf("a panel's poll set a cookie: %s", c)
	}
	fire(2, "NodeDown")
	ts.setNow(ts.now.Add(tvRefresh / 2))
	if again := ts.send(t, getReq("/tv/panel/firing?team=payments")); again.body != first.body {
		t.Errorf("within the refresh: %s, want the first fragment again", again.body)
	}
	// After the refresh interval the poll that starts the reload still gets the old fragment; once
	// the reload is done, the next gets the new data and the new time.
	ts.setNow(ts.now.Add(tvRefresh))
	ts.send(t, getReq("/tv/panel/firing?team=payments"))
	ts.tv.cache.wait()
	next := ts.send(t, getReq("/tv/panel/firing?team=payments"))
	if !strings.Contains(next.body, "NodeDown") || !strings.Contains(next.body, "updated 20:00:15") {
		t.Errorf("after the refresh: %d %s", next.status, next.body)
	}
	if page := ts.send(t, getReq("/tv?team=payments")); !strings.Contains(page.header.Get("Set-Cookie"), sessionCookie+"=") {
		t.Errorf("the TV page minted no session: %v", page.header)
	}
}
