package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
	"github.com/opsreview/opsreview/store/storetest"
)

// liveServer builds a server on the real clock (the browser's polls run in real time).
func liveServer(t *testing.T, cfg *config.Config, st *store.Store) *Server {
	t.Helper()
	srv, err := New(Options{Config: cfg, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// serveOn runs srv on addr ("127.0.0.1:0" for any port) and returns the address and a stop func.
func serveOn(t *testing.T, srv *Server, addr string) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// A browser holding keep-alive connections can make a graceful stop outlast the deadline;
		// the listener is closed either way, which is what the TV test needs.
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("stopping the server: %v", err)
		}
		<-done
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

// seedTV fills a database with what a busy week looks like on the TV.
func seedTV(t *testing.T, st *store.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	alerts := []struct {
		name, sev, instance string
		ago                 time.Duration
	}{
		{"KubePodCrashLooping", "critical", "checkout-7f9c", 3*time.Hour + 12*time.Minute},
		{"ErrorBudgetBurnFast", "critical", "payments-api", 42 * time.Minute},
		{"PostgresReplicationLagHigh", "warning", "pg-replica-2.eu-west-1.internal", 26 * time.Hour},
		{"DiskWillFillIn4Hours", "warning", "node-12", 2 * time.Hour},
		{"CertificateExpiresSoon", "info", "api.example.com", 5 * 24 * time.Hour},
	}
	for i, a := range alerts {
		start := now.Add(-a.ago)
		r := review.AlertReport{Fingerprint: uint64(100 + i), StartsAt: start, ObservedAt: start, Road: review.RoadWebhook,
			Team: "payments", Labels: map[string]string{"alertname": a.name, "severity": a.sev, "instance": a.instance, "job": "node"}}
		if _, err := st.IngestNotification(ctx, store.Notification{Receiver: "pager", GroupKey: a.name, Status: "firing",
			ReceivedAt: start, Alerts: []review.AlertReport{r}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, src := range []struct {
		name string
		err  error
	}{{"prom-eu", nil}, {"am-main", nil}} {
		if err := st.RecordCollectorRun(ctx, src.name, "alerts", now.Add(-40*time.Second), src.err); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBrowserTV(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	dbURL := storetest.NewURL(t)
	t.Setenv("DATABASE_URL", dbURL)
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Teams = []config.Team{testTeam("payments")}
	cfg.PagingReceivers = []string{"pager"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), dbURL, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Microseconds, as Postgres keeps them: the episode store matches new rows by start time.
	seedTV(t, st, time.Now().Truncate(time.Microsecond))
	token := "ortv_browser-" + newSecret(32)
	if _, err := st.CreateToken(context.Background(), store.Token{Kind: store.TokenTV, Name: "lobby", Scope: "payments", CreatedAt: time.Now()}, token); err != nil {
		t.Fatal(err)
	}

	addr, stop := serveOn(t, liveServer(t, cfg, st), "127.0.0.1:0")
	base := "http://" + addr

	ctx := newBrowser(t)
	watch := watchPage(t, ctx)
	run := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	noScrollbars := func(size string) {
		t.Helper()
		if v := eval(`[document.documentElement.scrollWidth <= innerWidth, document.documentElement.scrollHeight <= innerHeight].join()`); v != "true,true" {
			t.Errorf("%s: the page scrolls (width fits, height fits = %s)", size, v)
		}
	}

	run(viewport(1920, 1080, "light", false), chromedp.Navigate(base+"/tv?token="+token), chromedp.WaitVisible(chromedp.CSS("#tv-panel-firing .tv-firing")))
	if u := eval(`location.pathname + location.search`); strings.Contains(u, "token") || !strings.Contains(u, "team=payments") {
		t.Errorf("after the first visit the address is %q: want no token, the link's team", u)
	}
	if c := eval(`document.cookie`); strings.Contains(c, tvCookie) {
		t.Errorf("the TV cookie is readable from scripts: %q", c)
	}
	noScrollbars("1920×1080")
	screenshot(t, ctx, "tv-1920x1080-firing")
	run(viewport(3840, 2160, "light", false))
	noScrollbars("3840×2160")
	screenshot(t, ctx, "tv-3840x2160-firing")
	for _, panel := range []string{"pages", "freshness"} {
		run(viewport(1920, 1080, "light", false), chromedp.Navigate(base+"/tv?panels="+panel),
			chromedp.WaitVisible(chromedp.CSS("#tv-panel-"+panel+" .tv-body")))
		noScrollbars(panel)
		screenshot(t, ctx, "tv-1920x1080-"+panel)
	}

	// Back to the rotating TV; count polls and their failures from here on.
	run(chromedp.Navigate(base+"/tv"), chromedp.WaitVisible(chromedp.CSS("#tv-panel-firing .tv-firing")))
	eval(`window.__sendErrors = 0; window.__swaps = 0;
		document.addEventListener("htmx:sendError", function () { window.__sendErrors++; });
		document.addEventListener("htmx:afterSwap", function () { window.__swaps++; }); ""`)
	nodes := eval(`String(document.getElementsByTagName("*").length)`)
	run(chromedp.Poll[chromedp.Void](`window.__swaps >= 3`)) // a full round of refreshes: one per panel
	if n := eval(`String(document.getElementsByTagName("*").length)`); n != nodes {
		t.Errorf("the page had %s elements, %s after a round of refreshes: content must be replaced, not added", nodes, n)
	}

	t.Run("server stopped", func(t *testing.T) {
		stop()
		// The first failed poll (within one refresh) shows the notice; the content stays.
		run(chromedp.Poll[chromedp.Void](`window.__sendErrors >= 1`))
		if v := eval(`document.getElementById("tv-offline").hidden ? "hidden" : document.getElementById("tv-offline").textContent`); !strings.HasPrefix(v, "data is ") || !strings.Contains(v, "old — opsreview server unreachable") {
			t.Errorf("after a failed poll the notice says %q", v)
		}
		if v := eval(`document.querySelector("#tv-panel-firing .tv-firing").textContent`); !strings.Contains(v, "KubePodCrashLooping") {
			t.Errorf("the content went away: %q", v)
		}
		screenshot(t, ctx, "tv-1920x1080-offline")
	})

	outer := t // the restarted server must outlive its subtest
	t.Run("server back", func(t *testing.T) {
		serveOn(outer, liveServer(t, cfg, st), addr)
		run(chromedp.Poll[chromedp.Void](`document.getElementById("tv-offline").hidden`))
		if v := eval(`document.querySelector("#tv-panel-firing .tv-firing").textContent`); !strings.Contains(v, "KubePodCrashLooping") {
			t.Errorf("after recovery: %q", v)
		}
	})

	t.Run("link revoked", func(t *testing.T) {
		if err := st.RevokeToken(context.Background(), store.TokenTV, "lobby", time.Now()); err != nil {
			t.Fatal(err)
		}
		run(chromedp.WaitVisible(chromedp.CSS(".tv-revoked")))
		if v := eval(`document.querySelector(".tv-revoked h1").textContent`); v != "This screen's access was revoked" {
			t.Errorf("revoked notice: %q", v)
		}
		if v := eval(`String(document.querySelectorAll(".tv-panel").length)`); v != "0" {
			t.Errorf("%s panels still on screen after revoking", v)
		}
		screenshot(t, ctx, "tv-1920x1080-revoked")
	})

	if v := watch.cspViolations(t, ctx); len(v) != 0 {
		t.Errorf("CSP violations: %q", v)
	}
	for _, m := range watch.console() {
		if m.IsException() {
			t.Errorf("uncaught exception: %s", m)
		}
	}
}

// TestBrowserTVWeekPanels shows the noisiest, toil and runbooks panels of seedTVWeek's week at
// 1920×1080 and 3840×2160: each fits without scrollbars, and the screenshots are saved to look at.
func TestBrowserTVWeekPanels(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ts := tvServer(t, "")
	seedTVWeek(t, ts) // the server's clock stays at the seeded Monday evening
	addr, _ := serveOn(t, ts.Server, "127.0.0.1:0")
	base := "http://" + addr

	ctx := newBrowser(t)
	watch := watchPage(t, ctx)
	run := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	// fits reports whether the page scrolls and whether the active panel's body clips its content.
	fits := func(what string) {
		t.Helper()
		if v := eval(`[document.documentElement.scrollWidth <= innerWidth, document.documentElement.scrollHeight <= innerHeight].join()`); v != "true,true" {
			t.Errorf("%s: the page scrolls (width fits, height fits = %s)", what, v)
		}
		if v := eval(`(function () { var b = document.querySelector(".tv-panel.is-active .tv-body");
			return String(b.scrollHeight <= b.clientHeight + 1 && b.scrollWidth <= b.clientWidth + 1); })()`); v != "true" {
			t.Errorf("%s: the panel's content is cut off", what)
		}
	}

	run(viewport(1920, 1080, "light", false), chromedp.Navigate(base+"/tv?team=payments&panels=noisiest,toil,runbooks"),
		chromedp.WaitVisible(chromedp.CSS("#tv-panel-noisiest .tv-noisy")))
	if v := eval(`document.querySelector("#tv-panel-noisiest .tv-noisy-name").textContent`); v != "DiskFull" {
		t.Errorf("the noisiest alert is %q, want DiskFull", v)
	}
	fits("noisiest,toil,runbooks")
	screenshot(t, ctx, "tv-1920x1080-noisiest-toil-runbooks")
	for _, size := range []struct {
		w, h int64
		name string
	}{{1920, 1080, "1920x1080"}, {3840, 2160, "3840x2160"}} {
		for _, panel := range []string{"noisiest", "toil", "runbooks"} {
			run(viewport(size.w, size.h, "light", false), chromedp.Navigate(base+"/tv?team=payments&panels="+panel),
				chromedp.WaitVisible(chromedp.CSS("#tv-panel-"+panel+" .tv-body")))
			fits(size.name + " " + panel)
			screenshot(t, ctx, "tv-"+size.name+"-"+panel)
		}
	}
	if v := eval(`document.querySelector("#tv-panel-runbooks .rb-broken .tv-num").textContent`); v != "1" {
		t.Errorf("broken runbooks: %q", v)
	}

	if v := watch.cspViolations(t, ctx); len(v) != 0 {
		t.Errorf("CSP violations: %q", v)
	}
	for _, m := range watch.console() {
		if m.IsException() {
			t.Errorf("uncaught exception: %s", m)
		}
	}
}
