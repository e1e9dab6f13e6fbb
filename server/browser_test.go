package server

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/templates"
)

// TestBrowserEpisodesPage opens the episodes page in a real browser: the static files load under
// the CSP, htmx and app.js run, nothing is logged as an error, and hostile alert data stays text.
func TestBrowserEpisodesPage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	r, err := NewRenderer(templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	view := sampleEpisodes()
	view.Demo = true
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	mountStatic(app)
	app.Get("/", func(c *fiber.Ctx) error { return r.Render(c, fiber.StatusOK, "episodes", view) })
	// The canary breaks the CSP on purpose, to prove the checks below would see a violation.
	app.Get("/canary", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentSecurityPolicy, ContentSecurityPolicy)
		c.Type("html")
		return c.SendString(`<!doctype html><title>canary</title><link rel="icon" href="data:,"><script>console.log("ran")</script><p>canary</p>`)
	})
	base := serve(t, app)

	ctx := newBrowser(t)
	watch := watchPage(t, ctx)

	t.Run("canary", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/canary")); err != nil {
			t.Fatal(err)
		}
		if v := watch.cspViolations(t, ctx); len(v) == 0 {
			t.Error("an inline script under our CSP reported no violation: the CSP check is blind")
		}
	})

	if err := chromedp.Do(ctx,
		viewport(1440, 900, "light", false),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("table.episodes")),
	); err != nil {
		t.Fatal(err)
	}

	t.Run("htmx and app.js run", func(t *testing.T) {
		version, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			`typeof htmx !== 'undefined' ? htmx.version : "htmx is undefined"`))
		if err != nil || version != "2.0.11" {
			t.Errorf("htmx.version = %q, %v", version, err)
		}
		// app.js rewrites relative times from the server's clock (<body data-now>), not the
		// browser's, so the text stays what Go rendered.
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](
			`document.querySelector("#episode-1 time[data-ago]").textContent = "stale"; 0`)); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			`htmx.trigger(document.body, "htmx:load"); document.querySelector("#episode-1 time[data-ago]").textContent`))
		if err != nil || got != "42 min ago" {
			t.Errorf("relative time after app.js = %q, %v; want %q", got, err, "42 min ago")
		}
	})

	t.Run("hostile label is text", func(t *testing.T) {
		chip, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			`Array.from(document.querySelectorAll("#episode-2 .chip .v")).map(e => e.textContent).join("|")`))
		if err != nil || !strings.Contains(chip, hostileLabel) {
			t.Errorf("episode 2 chips = %q, %v; want the label shown as text", chip, err)
		}
		scripts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.scripts.length`))
		if err != nil || scripts != 2 {
			t.Errorf("%d script elements (%v), want htmx and app.js only", scripts, err)
		}
		links, err := chromedp.Run(ctx, chromedp.Evaluate[int](
			`Array.from(document.links).filter(a => !/^https?:/.test(a.href)).length`))
		if err != nil || links != 0 {
			t.Errorf("%d links that are not http(s) (%v)", links, err)
		}
	})

	screenshot(t, ctx, "episodes-light")

	t.Run("htmx swaps the fragment", func(t *testing.T) {
		counts, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](
			`htmx.ajax("GET", "/", {target: "#content"}).then(() => [
			   document.querySelectorAll("nav").length,
			   document.querySelectorAll("main").length,
			   document.querySelectorAll("table.episodes").length,
			   document.querySelectorAll(".demo-banner").length])`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{1, 1, 1, 1}; !slices.Equal(counts, want) {
			t.Errorf("after the swap: nav, main, table, banner = %v, want %v (a fragment, not a page)", counts, want)
		}
	})

	t.Run("dark and phone", func(t *testing.T) {
		if err := chromedp.Do(ctx, viewport(1440, 900, "dark", false)); err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "episodes-dark")
		if err := chromedp.Do(ctx, viewport(390, 844, "light", true), chromedp.Reload()); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("table.episodes"))); err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "episodes-phone")
	})

	if v := watch.cspViolations(t, ctx); len(v) != 0 {
		t.Errorf("CSP violations: %q", v)
	}
	msgs := watch.console()
	for _, m := range consoleErrors(msgs) {
		if strings.HasPrefix(m.URL, base+"/canary") {
			continue // expected: the canary's blocked script
		}
		t.Errorf("console %s (%s:%d)", m, m.URL, m.Line)
	}
	for _, m := range msgs {
		t.Logf("console %s", m)
	}
}

// consoleErrors returns the messages that are errors or uncaught exceptions.
func consoleErrors(msgs []chromedp.ConsoleMessage) []chromedp.ConsoleMessage {
	var out []chromedp.ConsoleMessage
	for _, m := range msgs {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			out = append(out, m)
		}
	}
	return out
}
