package server

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// until evaluates cond in the page every 50 ms until it is true, or fails after 10 s: htmx swaps
// happen after the click returns.
func until(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	js := `new Promise((resolve, reject) => { let n = 0; const iv = setInterval(() => {
	  let ok = false; try { ok = !!(` + cond + `); } catch (e) {}
	  if (ok) { clearInterval(iv); resolve(true); } else if (++n > 200) { clearInterval(iv); reject("timed out"); } }, 50); })`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// TestBrowserWeeklyReview walks the meeting in a real browser: give a verdict, add an action item,
// see it come back as a follow-up the next week and close it, export Markdown; hostile alert text
// stays text, and no CSP violation or console error happens on the way.
func TestBrowserWeeklyReview(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ts := newTestServer(t, "", reviewConfig)
	feedWeek47(t, ts)
	base := serve(t, ts.App())
	ctx := newBrowser(t)
	watch := watchPage(t, ctx)

	if err := chromedp.Do(ctx,
		viewport(1920, 1080, "light", false),
		chromedp.Navigate(base+"/review?week=2026-W47&team=payments"),
		chromedp.WaitVisible(chromedp.CSS("#noisy-table")),
	); err != nil {
		t.Fatal(err)
	}

	t.Run("verdict in one click", func(t *testing.T) {
		eval[bool](t, ctx, `document.querySelector("#noisy-table button[value=noise]").click(), true`)
		until(t, ctx, "the noise verdict", `document.querySelector("#noisy-table [data-verdict]").dataset.verdict === "noise"`)
		by := eval[string](t, ctx, `document.querySelector("#noisy-table .verdict-now").textContent`)
		if !strings.Contains(by, "by anonymous") {
			t.Errorf("verdict cell %q does not say who decided", by)
		}
	})

	t.Run("add an action item", func(t *testing.T) {
		eval[bool](t, ctx, `(() => {
		  const d = document.querySelector("#noisy-table details.add-action"); d.open = true;
		  const f = d.querySelector("form");
		  f.querySelector("[name=title]").value = "Raise DiskFull to 90%";
		  f.querySelector("[name=owner]").value = "ana";
		  f.querySelector("[name=due]").value = "2026-11-24";
		  f.querySelector("button[type=submit]").click(); return true; })()`)
		until(t, ctx, "the item in the decided list", `document.querySelector("#decided").textContent.includes("Raise DiskFull to 90%")`)
	})

	screenshot(t, ctx, "review-1920")

	t.Run("export Markdown", func(t *testing.T) {
		md := eval[string](t, ctx, `fetch(document.querySelector("a[download]").href).then(r => r.text())`)
		for _, want := range []string{"# Operational review 2026-W47", "| DiskFull |", "noise", "Raise DiskFull to 90%"} {
			if !strings.Contains(md, want) {
				t.Errorf("Markdown lacks %q:\n%s", want, md)
			}
		}
	})

	t.Run("follow-up the next week", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/review?week=2026-W48&team=payments"),
			chromedp.WaitVisible(chromedp.CSS("#follow-ups"))); err != nil {
			t.Fatal(err)
		}
		li := eval[string](t, ctx, `(document.querySelector(".followup") || {textContent: ""}).textContent`)
		if !strings.Contains(li, "Raise DiskFull to 90%") || !strings.Contains(li, "overdue") {
			t.Fatalf("follow-up %q: want the item, overdue", li)
		}
		eval[bool](t, ctx, `document.querySelector(".followup button[value=close]").click(), true`)
		until(t, ctx, "the follow-up closed in place", `document.querySelector(".followup.closed")`)
	})

	t.Run("phone", func(t *testing.T) {
		if err := chromedp.Do(ctx, viewport(390, 844, "light", true),
			chromedp.Navigate(base+"/review?week=2026-W47&team=payments"),
			chromedp.WaitVisible(chromedp.CSS("#noisy-table"))); err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "review-390")
		if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 400 {
			t.Errorf("the page is %d px wide on a 390 px phone", w)
		}
	})

	t.Run("hostile alert text is inert", func(t *testing.T) {
		for _, path := range []string{"/review?week=2026-W47", "/alerts/Orphan?week=2026-W47"} {
			if err := chromedp.Do(ctx, viewport(1920, 1080, "light", false), chromedp.Navigate(base+path),
				chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
				t.Fatal(err)
			}
			if n := eval[int](t, ctx, `document.scripts.length`); n != 2 {
				t.Errorf("%s: %d scripts, want htmx and app.js only", path, n)
			}
			if n := eval[int](t, ctx, `Array.from(document.links).filter(a => !/^https?:/.test(a.href)).length`); n != 0 {
				t.Errorf("%s: %d links that are not http(s)", path, n)
			}
		}
		if got := eval[string](t, ctx, `document.querySelector(".chips").textContent`); !strings.Contains(got, "<script>") {
			t.Errorf("the hostile label should show as text, got %q", got)
		}
		screenshot(t, ctx, "alert-1920")
	})

	if v := watch.cspViolations(t, ctx); len(v) != 0 {
		t.Errorf("CSP violations: %q", v)
	}
	for _, m := range consoleErrors(watch.console()) {
		t.Errorf("console %s (%s:%d)", m, m.URL, m.Line)
	}
}
