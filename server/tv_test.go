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
	// After it: while one request reloads, the others get the old fragment at once.
	advance(2 * time.Second)
	release = make(chan struct{})
	done := make(chan tvResult)
	go func() { done <- tc.get(context.Background(), key, load) }()
	for loads.Load() == 1 {
		time.Sleep(time.Millisecond)
	}
	if r := tc.get(context.Background(), key, load); r.Val != 1 {
		t.Errorf("during a reload: %v, want the stale fragment", r.Val)
	}
	close(release)
	if r := <-done; r.Val != 2 {
		t.Errorf("the reload returned %v", r.Val)
	}
	// A failed load keeps the last good fragment, with its age and the error.
	advance(tvRefresh)
	built := clock()
	r := tc.get(context.Background(), key, func(context.Context) (any, error) { return nil, store.ErrUnavailable })
	if r.Val != 2 || !errors.Is(r.Err, store.ErrUnavailable) || !r.Built.Before(built) {
		t.Errorf("after a failed load: %+v", r)
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
	ts.now = ts.now.Add(7 * time.Minute)
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
	ts.now = ts.now.Add(tvRefresh)
	var body string
	for range 50 { // the pool reconnects on its own
		if r := ts.send(t, getReq("/tv/panel/firing"), tvCookie, token); strings.Contains(r.body, "updated ") {
			body = r.body
			break
		}
		ts.now = ts.now.Add(tvRefresh)
		time.Sleep(200 * time.Millisecond)
	}
	if body == "" {
		t.Error("the panel did not recover after the database came back")
	}
}
