package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// seedPages stores four pages of payments alerts on Monday 2026-11-23 (Berlin), one in sleep hours.
func seedPages(t *testing.T, ts *testServer) {
	t.Helper()
	berlin := ts.cfg.TeamByName("payments").Location
	for i, hm := range [][2]int{{3, 10}, {9, 5}, {10, 20}, {16, 45}} {
		at := time.Date(2026, 11, 23, hm[0], hm[1], 0, 0, berlin)
		name := "DiskFull"
		if i == 3 {
			name = "CheckoutLatency"
		}
		a := review.AlertReport{Fingerprint: uint64(1000 + i), Labels: map[string]string{"alertname": name, "team": "payments"},
			Annotations: map[string]string{"runbook_url": "https://wiki.example/disk"},
			StartsAt:    at.Add(-time.Minute), ObservedAt: at, Road: review.RoadWebhook, Team: "payments"}
		if _, err := ts.store.IngestNotification(context.Background(), store.Notification{Receiver: "pager", GroupKey: "g",
			Status: "firing", ReceivedAt: at, Alerts: []review.AlertReport{a}}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBrowserRunbooksAndToil marks a runbook reviewed and logs toil in a real browser, at a
// shared-screen and a phone size, and checks that hostile runbook URLs never become links.
func TestBrowserRunbooksAndToil(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ts := newTestServer(t, "", opsConfig)
	addRunbookAlerts(t, ts)
	seedPages(t, ts)
	base := serve(t, ts.App())
	ctx := newBrowser(t)
	watch := watchPage(t, ctx)

	disk := `tr.runbook:has(a.rb-link[href="https://wiki.example/disk"])`
	if err := chromedp.Do(ctx,
		viewport(1920, 1080, "light", false),
		chromedp.Navigate(base+"/runbooks"),
		chromedp.WaitVisible(chromedp.CSS("table.runbooks")),
	); err != nil {
		t.Fatal(err)
	}
	t.Run("hostile runbook URLs are text", func(t *testing.T) {
		bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
			`Array.from(document.querySelectorAll("a")).map(a => a.href).filter(h => !/^https?:/.test(h))`))
		if err != nil || len(bad) != 0 {
			t.Errorf("links that are not http(s): %q (%v)", bad, err)
		}
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			`Array.from(document.querySelectorAll(".rb-text")).map(e => e.textContent).join("|")`))
		if err != nil || !strings.Contains(text, "javascript:alert(1)") || !strings.Contains(text, "//evil.example/x") {
			t.Errorf("hostile URLs shown as text = %q, %v", text, err)
		}
	})
	screenshot(t, ctx, "runbooks-1920")

	t.Run("mark reviewed", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(disk+" button"))); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(ctx, chromedp.Poll[string](
			`(document.querySelector('`+disk+`') || {textContent: ""}).textContent.includes("by anonymous") && document.querySelector('`+disk+`').textContent`))
		if err != nil || !strings.Contains(got, "just now") {
			t.Errorf("row after review = %q, %v", got, err)
		}
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.runbooks tbody tr").length`))
		if err != nil || rows != 7 {
			t.Errorf("%d rows after the swap (%v), want 7: the row replaced in place", rows, err)
		}
	})
	screenshot(t, ctx, "runbooks-reviewed-1920")

	if err := chromedp.Do(ctx, viewport(390, 844, "light", true), chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("table.runbooks"))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "runbooks-390")

	if err := chromedp.Do(ctx,
		viewport(1920, 1080, "light", false),
		chromedp.Navigate(base+"/toil?team=payments"),
		chromedp.WaitVisible(chromedp.CSS("#toil-section")),
	); err != nil {
		t.Fatal(err)
	}
	t.Run("log toil", func(t *testing.T) {
		if err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS("#toil-minutes"), "45"),
			chromedp.SendKeys(chromedp.CSS("#toil-category"), "manual fix"),
			chromedp.SendKeys(chromedp.CSS("#toil-note"), `<img src=x onerror=alert(1)> cleared the queue by hand`),
			chromedp.SendKeys(chromedp.CSS("#toil-alert"), "DiskFull"),
			chromedp.Click(chromedp.CSS(".toil-form button")),
		); err != nil {
			t.Fatal(err)
		}
		note, err := chromedp.Run(ctx, chromedp.Poll[string](`(document.querySelector("#toil-entries td.note") || {}).textContent`))
		if err != nil || !strings.Contains(note, "<img src=x") {
			t.Errorf("logged note = %q, %v; want it shown as text", note, err)
		}
		total, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".toil-total").textContent`))
		// 4 pages x 15 min + 45 min = 1h 45m.
		if err != nil || !strings.Contains(total, "1.8 h") {
			t.Errorf("total after logging = %q, %v; want 1.8 h", total, err)
		}
		imgs, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("main img").length`))
		if imgs != 0 {
			t.Errorf("the note became %d img elements", imgs)
		}
	})
	screenshot(t, ctx, "toil-1920")
	if err := chromedp.Do(ctx, viewport(390, 844, "light", true), chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("#toil-section"))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "toil-390")
	wm := ts.now.Add(-90 * time.Second)
	ctxb := context.Background()
	if _, err := ts.store.DB().Exec(`INSERT INTO collector_state (source, kind, watermark) VALUES ('am', 'alertmanager', $1), ('runbooks', 'runbooks', NULL)`, wm); err != nil {
		t.Fatal(err)
	}
	_ = ts.store.RecordCollectorRun(ctxb, "am", "alertmanager", ts.now.Add(-30*time.Second), nil)
	_ = ts.store.RecordCollectorRun(ctxb, "runbooks", "runbooks", ts.now.Add(-20*time.Hour), nil)
	_ = ts.store.RecordCollectorRun(ctxb, "runbooks", "runbooks", ts.now.Add(-time.Hour), errorString(`wiki.internal: <script>alert(1)</script> i/o timeout`))
	if err := chromedp.Do(ctx, viewport(1920, 1080, "dark", false), chromedp.Navigate(base+"/sources"),
		chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "sources-1920-dark")
	if err := chromedp.Do(ctx, viewport(390, 844, "light", true), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "sources-390")

	if v := watch.cspViolations(t, ctx); len(v) != 0 {
		t.Errorf("CSP violations: %q", v)
	}
	for _, m := range consoleErrors(watch.console()) {
		t.Errorf("console %s (%s:%d)", m, m.URL, m.Line)
	}
}
