package server

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserNormalPage opens /normal/{sli} in a real browser at desktop and phone sizes: the
// sentence is at the top, the band is drawn behind the line, nothing breaks the CSP.
func TestBrowserNormalPage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ts, _ := sliServer(t, true)
	base := serve(t, ts.App())
	ctx := newBrowser(t)
	watch := watchPage(t, ctx)

	for _, vp := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"normal-sli-desktop", 1920, 1080, false}, {"normal-sli-phone", 390, 844, true}} {
		if err := chromedp.Do(ctx,
			viewport(vp.width, vp.height, "light", vp.mobile),
			chromedp.Navigate(base+"/normal/checkout-rps"),
			chromedp.WaitVisible(chromedp.CSS(".answer .sentence")),
		); err != nil {
			t.Fatal(err)
		}
		sentence, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".answer .sentence").textContent`))
		if err != nil || !strings.HasPrefix(sentence, "Abnormal since ") {
			t.Errorf("%s: sentence %q, %v", vp.name, sentence, err)
		}
		bands, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`Array.from(document.querySelectorAll("svg.chart")).filter(s => s.getBoundingClientRect().width > 0).map(s => s.querySelectorAll(".bands rect").length)`))
		if err != nil || len(bands) != 2 || bands[0] < 20 || bands[1] < 150 {
			t.Errorf("%s: band rects per chart %v, %v", vp.name, bands, err)
		}
		overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil || overflow {
			t.Errorf("%s: the page scrolls sideways (%v)", vp.name, err)
		}
		screenshot(t, ctx, vp.name)
	}
	if err := chromedp.Do(ctx, viewport(1920, 1080, "dark", false), chromedp.Navigate(base+"/normal"),
		chromedp.WaitVisible(chromedp.CSS("table.normal-list"))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "normal-list-dark")
	if v := watch.cspViolations(t, ctx); len(v) != 0 {
		t.Errorf("CSP violations: %q", v)
	}
	for _, m := range consoleErrors(watch.console()) {
		t.Errorf("console %s (%s:%d)", m, m.URL, m.Line)
	}
}
