package server

import (
	"fmt"
	"html"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/opsreview/opsreview/store"
)

// Alert names of the long week: the noisiest is hostile, and so is the quietest, which only the
// full list shows.
const (
	topHostile   = `"><script>document.title="pwned"</script>`
	quietHostile = `<img src=x onerror="document.title='pwned'">`
	manyRules    = 33 // payments' rules that fire in the long week: more than reviewTopTeam
)

// feedManyRules fills 2026-W47 with more alert rules for payments than one team's review shows,
// all fired within the hour after a deploy and paged: rule i fires 3+i%4 times (the hostile top
// one 7 times, the hostile quiet one once), each episode from its own instance, so every rule but
// the quiet one is a repeat offender.
func feedManyRules(t *testing.T, ts *testServer) (changeID int64) {
	t.Helper()
	ts.setNow(utc("2026-11-17T00:30:00Z"))
	code, ch := ts.postValue(t, "/api/v1/changes", map[string]any{"service": "payments", "kind": "deploy", "at": "2026-11-17T01:00:00Z",
		"summary": "payments-api 3.0.0"})
	if code != 201 {
		t.Fatalf("posting a change: %d %v", code, ch)
	}
	base := utc("2026-11-17T01:05:00Z")
	var alerts []hookAlert
	add := func(name string, i, fires int) {
		for j := range fires {
			start := base.Add(time.Duration(i)*time.Minute + time.Duration(j)*5*time.Second)
			alerts = append(alerts, hookAlert{labels: map[string]string{"alertname": name, "team": "payments", "instance": fmt.Sprint("host-", j)},
				start: start, end: start.Add(30 * time.Second)})
		}
	}
	add(topHostile, 0, 7)
	add(quietHostile, 1, 1)
	for i := 2; i < manyRules; i++ {
		add(fmt.Sprintf("Rule%02d", i), i, 3+i%4)
	}
	// One page per fire: the n-th fire of every rule in the n-th notification.
	byFire := map[string][]hookAlert{}
	for _, a := range alerts {
		a.end = time.Time{}
		byFire[a.labels["instance"]] = append(byFire[a.labels["instance"]], a)
	}
	for j := range 7 {
		if f := byFire[fmt.Sprint("host-", j)]; len(f) > 0 {
			ts.deliver(t, base.Add(50*time.Minute+time.Duration(j)*time.Second), "pager", "firing", f...)
		}
	}
	ts.deliver(t, base.Add(time.Hour), "pager", "resolved", alerts...)
	ts.setNow(utc("2026-11-25T10:00:00Z")) // Wednesday of W48: the last full week is W47
	return int64(ch["id"].(float64))
}

// noisyRowsOf is the alert names of the rows of one noisy table of a review page, in order.
func noisyRowsOf(t *testing.T, page, table string) []string {
	t.Helper()
	i := strings.Index(page, `id="`+table+`"`)
	if i < 0 {
		t.Fatalf("no #%s on the page", table)
	}
	body := page[i:]
	body = body[:strings.Index(body, "</table>")]
	var names []string
	for _, m := range regexp.MustCompile(`<a class="alertname" href="[^"]*">([^<]*)</a>`).FindAllStringSubmatch(body, -1) {
		names = append(names, html.UnescapeString(m[1]))
	}
	return names
}

// between is the text of s from the first from to the next to after it.
func between(t *testing.T, s, from, to string) string {
	t.Helper()
	i := strings.Index(s, from)
	if i < 0 {
		t.Fatalf("no %q in the page", from)
	}
	j := strings.Index(s[i:], to)
	if j < 0 {
		t.Fatalf("no %q after %q", to, from)
	}
	return s[i : i+j]
}

// TestReviewShowsTheTopOfLongLists: a week with more noisy alerts than the agenda shows lists the
// noisiest reviewTopTeam, says how many there are and links to all of them; the link shows them
// all; the counts and the summary are the same either way and the API keeps every row.
func TestReviewShowsTheTopOfLongLists(t *testing.T) {
	ts := newTestServer(t, "", reviewConfig)
	changeID := feedManyRules(t, ts)

	var api struct {
		NoisyAlerts []struct {
			Alertname string `json:"alertname"`
		} `json:"noisy_alerts"`
		Changes []struct {
			AlertsAfter []struct {
				Alertname string `json:"alertname"`
			} `json:"alerts_after"`
		} `json:"changes"`
	}
	ts.getJSON(t, "/api/v1/review?week=2026-W47&team=payments", &api)
	if len(api.NoisyAlerts) != manyRules {
		t.Fatalf("the API lists %d noisy alerts, want every one of %d", len(api.NoisyAlerts), manyRules)
	}
	if len(api.Changes) != 1 || len(api.Changes[0].AlertsAfter) != manyRules {
		t.Fatalf("the API's change lists %+v, want all %d alerts after it", api.Changes, manyRules)
	}
	if api.NoisyAlerts[0].Alertname != topHostile || api.NoisyAlerts[manyRules-1].Alertname != quietHostile {
		t.Fatalf("fixture: noisiest %q, quietest %q", api.NoisyAlerts[0].Alertname, api.NoisyAlerts[manyRules-1].Alertname)
	}

	code, top := ts.do(t, httptest.NewRequest("GET", "/review?week=2026-W47&team=payments", nil))
	if code != 200 {
		t.Fatalf("GET /review: %d", code)
	}
	rows := noisyRowsOf(t, top, "noisy-table")
	if len(rows) != reviewTopTeam {
		t.Fatalf("the review shows %d noisy alerts, want the top %d", len(rows), reviewTopTeam)
	}
	for i, r := range rows {
		if r != api.NoisyAlerts[i].Alertname {
			t.Fatalf("row %d is %q, want %q: the top rows are the noisiest, in order", i, r, api.NoisyAlerts[i].Alertname)
		}
	}
	allURL := "/review?noisy=all&team=payments&week=2026-W47#noisy"
	for _, want := range []string{
		fmt.Sprintf("Showing the top %d of %d by noise score", reviewTopTeam, manyRules),
		`<a class="show-all" href="` + html.EscapeString(allURL) + `">show all 33</a>`,
		fmt.Sprintf("and %d more", manyRules-reviewTopTeam),
		fmt.Sprintf(`Noisy alerts <span class="count">%d</span>`, manyRules),
	} {
		if !strings.Contains(top, want) {
			t.Errorf("the review lacks %q", want)
		}
	}

	code, all := ts.do(t, httptest.NewRequest("GET", strings.TrimSuffix(allURL, "#noisy"), nil))
	if code != 200 {
		t.Fatalf("GET the show-all link: %d", code)
	}
	if rows := noisyRowsOf(t, all, "noisy-table"); len(rows) != manyRules || rows[manyRules-1] != quietHostile {
		t.Fatalf("show all lists %d rows (last %q), want %d ending in the quietest", len(rows), rows[len(rows)-1], manyRules)
	}
	if want := fmt.Sprintf(`Showing all %d — <a class="show-top" href="%s">show the top %d</a>`, manyRules,
		html.EscapeString("/review?team=payments&week=2026-W47#noisy"), reviewTopTeam); !strings.Contains(all, want) {
		t.Errorf("the full list lacks %q", want)
	}

	// The summary counts every rule, whichever list is shown.
	sumTop := between(t, top, `<ul class="summary-counts">`, "</ul>")
	if sumAll := between(t, all, `<ul class="summary-counts">`, "</ul>"); sumTop != sumAll {
		t.Errorf("the summary changes with the list shown:\n%s\n%s", sumTop, sumAll)
	}
	if !strings.Contains(sumTop, fmt.Sprintf(`<strong>%d</strong></a> rules`, manyRules)) {
		t.Errorf("the summary does not count all %d rules: %s", manyRules, sumTop)
	}

	// Hostile names stay text, in the top and in the full list.
	for name, page := range map[string]string{"top": top, "all": all} {
		for _, raw := range []string{topHostile, quietHostile, "<script>document", "<img src=x"} {
			if strings.Contains(page, raw) {
				t.Errorf("the %s list carries %q unescaped", name, raw)
			}
		}
	}
	if !strings.Contains(all, html.EscapeString(quietHostile)) && !strings.Contains(all, "&lt;img src=x onerror=&#34;document.title=&#39;pwned&#39;&#34;&gt;") {
		t.Errorf("the full list does not show the quietest hostile name as text")
	}

	// The runbooks section (every rule lacks one) shows its riskiest and links to the rest.
	rbRows := func(page string) int {
		return strings.Count(between(t, page, `<table class="data stack runbook-agenda">`, "</table>"), "<tr id=")
	}
	if n := rbRows(top); n != reviewTopTeam || !strings.Contains(top, fmt.Sprintf("Showing the top %d of %d by risk", reviewTopTeam, manyRules)) ||
		!strings.Contains(top, html.EscapeString("/review?runbooks=all&team=payments&week=2026-W47#runbooks")) {
		t.Errorf("the runbooks section lists %d rows, want the top %d, the count and the link to all", n, reviewTopTeam)
	}
	_, rbAll := ts.do(t, httptest.NewRequest("GET", "/review?runbooks=all&team=payments&week=2026-W47", nil))
	if n := rbRows(rbAll); n != manyRules {
		t.Errorf("runbooks=all lists %d runbooks, want %d", n, manyRules)
	}

	// So does the toil section's list of repeat offenders; logging toil from the review keeps it cut.
	offenders := func(page string) int {
		t.Helper()
		return strings.Count(between(t, page, `<ul class="offenders">`, "</ul>"), "<li>")
	}
	if n := offenders(top); n != reviewTopTeam || !strings.Contains(top, fmt.Sprintf("Showing the top %d of %d by pages", reviewTopTeam, manyRules-1)) {
		t.Errorf("the review lists %d repeat offenders, want the top %d of %d", n, reviewTopTeam, manyRules-1)
	}
	_, offAll := ts.do(t, httptest.NewRequest("GET", "/review?offenders=all&team=payments&week=2026-W47", nil))
	if n := offenders(offAll); n != manyRules-1 {
		t.Errorf("offenders=all lists %d repeat offenders, want %d", n, manyRules-1)
	}
	form := url.Values{"minutes": {"30"}, "team": {"payments"}, "week": {"2026-W47"}, "form_key": {"top-1"}, "view": {"review"}}
	req := httptest.NewRequest("POST", "/toil/entries", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	if code, body := ts.do(t, req); code != 200 || offenders(body) != reviewTopTeam || !strings.Contains(body, "Logged 30 min") {
		t.Errorf("logging toil from the review: %d, %d offenders, want the section with the top %d", code, offenders(body), reviewTopTeam)
	}
	_, toilPage := ts.do(t, httptest.NewRequest("GET", "/toil?team=payments&week=2026-W47", nil))
	if n := offenders(toilPage); n != manyRules-1 {
		t.Errorf("the Toil page lists %d repeat offenders, want all %d", n, manyRules-1)
	}

	// Each change lists its top alerts and links to the rest.
	change := between(t, top, fmt.Sprintf(`<li id="change-%d">`, changeID), "</li>")
	if n := strings.Count(change, `<a href="/alerts/`); n != reviewTopAfter {
		t.Errorf("the change lists %d alerts, want the top %d", n, reviewTopAfter)
	}
	moreURL := html.EscapeString(fmt.Sprintf("/review?changes=all&team=payments&week=2026-W47#change-%d", changeID))
	if want := `<a class="after-more" href="` + moreURL + fmt.Sprintf(`">and %d more</a>`, manyRules-reviewTopAfter); !strings.Contains(change, want) {
		t.Errorf("the change lacks %q:\n%s", want, change)
	}
	_, full := ts.do(t, httptest.NewRequest("GET", fmt.Sprintf("/review?changes=all&team=payments&week=2026-W47"), nil))
	change = between(t, full, fmt.Sprintf(`<li id="change-%d">`, changeID), "</li>")
	if n := strings.Count(change, `<a href="/alerts/`); n != manyRules || strings.Contains(change, "more</a>") {
		t.Errorf("changes=all lists %d alerts after the change, want all %d", n, manyRules)
	}

	if code, _ := ts.do(t, httptest.NewRequest("GET", "/review?week=2026-W47&noisy=everything", nil)); code != 400 {
		t.Errorf("noisy=everything: %d, want 400", code)
	}
}

// TestReviewMarkdownShowsTheTop: the export lists the top of each long list and links to the rest
// on the page; noisy=all exports every row.
func TestReviewMarkdownShowsTheTop(t *testing.T) {
	ts := newTestServer(t, "", reviewConfig)
	feedManyRules(t, ts)
	rowsOf := func(md string) int {
		return strings.Count(md, "\n| Rule") + strings.Count(md, "\n| \\<img") + strings.Count(md, "\n| \"\\>")
	}

	_, md := ts.do(t, httptest.NewRequest("GET", "/review.md?week=2026-W47&team=payments", nil))
	if n := rowsOf(md); n != reviewTopTeam {
		t.Errorf("the export has %d noisy rows, want the top %d:\n%s", n, reviewTopTeam, md)
	}
	for _, want := range []string{
		fmt.Sprintf("Top %d of %d by noise score.", reviewTopTeam, manyRules),
		fmt.Sprintf("%d more: see <http://example.com/review?noisy=all&team=payments&week=2026-W47#noisy>", manyRules-reviewTopTeam),
		fmt.Sprintf("and %d more", manyRules-reviewTopAfter),
		"Every change and every alert after each: see <http://example.com/review?changes=all&team=payments&week=2026-W47#changes>",
		fmt.Sprintf("%d more: see <http://example.com/review?runbooks=all&team=payments&week=2026-W47#runbooks>", manyRules-reviewTopTeam),
		fmt.Sprintf("- %d alert rules fired", manyRules),
		fmt.Sprintf("- %d more repeat offenders: see <http://example.com/review?offenders=all&team=payments&week=2026-W47#offenders>", manyRules-1-reviewTopTeam),
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the export lacks %q", want)
		}
	}
	_, md = ts.do(t, httptest.NewRequest("GET", "/review.md?week=2026-W47&team=payments&noisy=all&offenders=all&runbooks=all&changes=all", nil))
	if n := rowsOf(md); n != manyRules || strings.Contains(md, "more: see") || strings.Contains(md, "more\n") {
		t.Errorf("every list in full: %d rows, want all %d and no \"more\":\n%s", n, manyRules, md)
	}
}

// TestBrowserReviewShowAll: in a real browser, the long list shows its top and the link loads the
// rest; hostile names in either stay text.
func TestBrowserReviewShowAll(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ts := newTestServer(t, "", reviewConfig)
	feedManyRules(t, ts)
	base := serve(t, ts.App())
	ctx := newBrowser(t)
	watch := watchPage(t, ctx)

	if err := chromedp.Do(ctx, viewport(1920, 1080, "light", false),
		chromedp.Navigate(base+"/review?week=2026-W47&team=payments"),
		chromedp.WaitVisible(chromedp.CSS("#noisy-table"))); err != nil {
		t.Fatal(err)
	}
	summary := eval[string](t, ctx, `document.querySelector(".summary-counts").textContent`)
	if n := eval[int](t, ctx, `document.querySelectorAll("#noisy-table tbody tr").length`); n != reviewTopTeam {
		t.Errorf("%d rows, want %d", n, reviewTopTeam)
	}
	if got := eval[string](t, ctx, `document.querySelector("#noisy-more").textContent`); !strings.Contains(got, "Showing the top 25 of 33") {
		t.Errorf("the list says %q", got)
	}
	screenshot(t, ctx, "review-top-1920")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#noisy-more a.show-all")),
		chromedp.WaitVisible(chromedp.CSS("#noisy-table tbody tr:nth-child(33)"))); err != nil {
		t.Fatalf("following show all: %v", err)
	}
	if got := eval[string](t, ctx, `location.search + location.hash`); got != "?noisy=all&team=payments&week=2026-W47#noisy" {
		t.Errorf("show all went to %q", got)
	}
	last := eval[string](t, ctx, `Array.from(document.querySelectorAll("#noisy-table a.alertname")).pop().textContent`)
	if last != quietHostile {
		t.Errorf("the last row is %q, want the hostile name as text", last)
	}
	if got := eval[string](t, ctx, `document.querySelector(".summary-counts").textContent`); got != summary {
		t.Errorf("the summary changed with the list: %q, was %q", got, summary)
	}
	if title := eval[string](t, ctx, `document.title`); strings.Contains(title, "pwned") {
		t.Errorf("a hostile alert name ran: the title is %q", title)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("main img, main script").length`); n != 0 {
		t.Errorf("%d img or script elements in the page body", n)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#noisy-more a.show-top")),
		chromedp.WaitVisible(chromedp.CSS("#noisy-more a.show-all"))); err != nil {
		t.Fatalf("following show the top: %v", err)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#noisy-table tbody tr").length`); n != reviewTopTeam {
		t.Errorf("back to the top: %d rows, want %d", n, reviewTopTeam)
	}

	if v := watch.cspViolations(t, ctx); len(v) != 0 {
		t.Errorf("CSP violations: %q", v)
	}
	for _, m := range consoleErrors(watch.console()) {
		t.Errorf("console %s (%s:%d)", m, m.URL, m.Line)
	}
}

// TestTopChanges: a week with more changes than the agenda lists shows those the most alerts
// fired after, still in time order; fewer are shown as they are.
func TestTopChanges(t *testing.T) {
	var changes []changeJSON
	for i := range 30 {
		ch := changeJSON{ID: int64(i + 1)}
		if i%3 != 0 { // every third change has nothing after it
			ch.AlertsAfter = []store.AlertAfter{{Alertname: "A", Fires: i % 7}, {Alertname: "B", Fires: 1}}
		}
		changes = append(changes, ch)
	}
	got := topChanges(changes, 12)
	if len(got) != 12 {
		t.Fatalf("%d changes, want 12", len(got))
	}
	minShown := 1 << 30
	for i, ch := range got {
		if i > 0 && got[i-1].ID >= ch.ID {
			t.Errorf("not in time order: %d before %d", got[i-1].ID, ch.ID)
		}
		minShown = min(minShown, firesAfter(ch))
	}
	shown := map[int64]bool{}
	for _, ch := range got {
		shown[ch.ID] = true
	}
	for _, ch := range changes {
		if !shown[ch.ID] && firesAfter(ch) > minShown {
			t.Errorf("change %d (%d fires after) left out for one with %d", ch.ID, firesAfter(ch), minShown)
		}
	}
	if got := topChanges(changes[:5], 12); len(got) != 5 {
		t.Errorf("a short list is cut to %d", len(got))
	}
}

func firesAfter(ch changeJSON) int {
	n := 0
	for _, a := range ch.AlertsAfter {
		n += a.Fires
	}
	return n
}
