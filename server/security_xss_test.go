package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
)

// Security scenario 9, cross-site scripting: a corpus of hostile text goes in through every
// interface that accepts text (the webhook's alertnames, label names and values, annotations,
// runbook and generator URLs, receiver and external URL; the JSON API's toil, action items,
// changes, verdicts and runbook reviews; the name a person gives in auth.mode none; the
// collectors' recorded errors and final URLs; SLI units and services from the config), then every
// GET route of the router is loaded, as a page and as an htmx fragment, in a real browser that
// counts anything a payload could make it do.

// xssText is the text corpus. Every payload that runs calls alert(), which the browser watch
// replaces with a recorder; CSP violations catch a payload whose markup got through even when
// the CSP kept it from running.
var xssText = []string{
	`<script>alert("script")</script>`,
	`"><svg onload=alert("svg")>`,
	`'><img src=x onerror=alert("img")>`,
	`</script><script>alert("close")</script>`,
	`</title></textarea></style><script>alert("close-all")</script>`,
	`{{template "layout" .}}{{.}}{{ printf "%s" "x" }}`,
	`<a href="javascript:alert('a')">click</a>`,
	`</text><foreignObject><iframe srcdoc="<script>alert('svg-text')</script>"></iframe></foreignObject>`,
	`x;}</style><style>*{background:url("javascript:alert('css')")}</style>`,
	`" style="background:url(javascript:alert('style'))" x="`,
	`<math><mtext><table><mglyph><style><img src=x onerror=alert("mxss")>`,
	`&lt;script&gt;alert("entity")&lt;/script&gt; &#x3C;img src=x onerror=alert(1)&#x3E;`,
	"\u202e<b>rtl</b>\u0000nul",
}

// xssLinks are URL payloads for every field that may become a link.
var xssLinks = append([]string{
	`javascript:alert("link")`, `JAVASCRIPT:alert("upper")`, `  javascript:alert("space")`,
	`jav&#x09;ascript:alert("tab-entity")`, `&#x6A;avascript:alert("hex-entity")`, `javascript&#58;alert("colon-entity")`,
	`data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==`, `DaTa:text/html,<script>alert(1)</script>`,
	`vbscript:msgbox("vb")`, `VbScRiPt:msgbox("vb2")`, `https://ok.example/"><script>alert("attr")</script>`,
	`http://x.example/?q=<svg/onload=alert("query")>`,
}, xssURLs...)

// hostileAlertnames are the corpus items that also name alerts: each becomes a route parameter.
func hostileAlertnames() []string {
	return []string{xssText[0], xssText[1], xssText[5], xssText[7], xssText[8], xssText[9], "DiskFull"}
}

// seedHostile fills the store with the corpus through the real interfaces.
func seedHostile(t *testing.T, ts *testServer) {
	t.Helper()
	ctx := context.Background()
	week := utc("2026-11-17T02:00:00Z") // ISO week 2026-W47
	post := func(body map[string]any) {
		b, _ := json.Marshal(body)
		if code, resp := ts.postWebhook(t, b); code != 200 {
			t.Fatalf("webhook answered %d: %s", code, resp)
		}
	}
	alert := func(name string, i int, end bool) map[string]any {
		start := week.Add(time.Duration(i) * time.Hour)
		a := map[string]any{
			"status": "firing", "startsAt": start,
			"labels": map[string]string{"alertname": name, "team": "payments", "job": xssText[i%len(xssText)],
				"instance": xssText[(i+3)%len(xssText)], "service": xssText[(i+5)%len(xssText)], "severity": "critical"},
			"annotations": map[string]string{"summary": xssText[(i+1)%len(xssText)], "description": xssText[(i+2)%len(xssText)],
				"runbook_url": xssLinks[i%len(xssLinks)], "dashboard": xssLinks[(i+1)%len(xssLinks)]},
			"generatorURL": xssLinks[(i+2)%len(xssLinks)],
		}
		if end {
			a["status"], a["endsAt"] = "resolved", start.Add(20*time.Minute)
		}
		return a
	}
	names := hostileAlertnames()
	for i, name := range names {
		for _, receiver := range []string{"pager", xssText[i%len(xssText)]} {
			// One episode in the week under review, resolved; one still firing (the TV).
			for _, end := range []bool{false, true} {
				ts.setNow(week.Add(time.Duration(i)*time.Hour + time.Minute))
				post(map[string]any{"version": "4", "receiver": receiver, "status": "firing",
					"externalURL": xssLinks[i%len(xssLinks)], "groupKey": "{}:" + name, "groupLabels": map[string]string{"alertname": name},
					"alerts": []map[string]any{alert(name, i, end)}})
			}
			ts.setNow(utc("2026-11-25T09:00:00Z"))
			post(map[string]any{"version": "4", "receiver": receiver, "status": "firing", "externalURL": "http://am.example:9093",
				"groupKey": "{}:" + name + ":now", "alerts": []map[string]any{alert(name, i+7*24, false)}})
		}
	}
	// Hostile label names and links in every URL field of one delivery: stored, or refused as bad input.
	for _, key := range []string{xssText[1], "a\"b", "x onmouseover=alert(1)"} {
		b, _ := json.Marshal(map[string]any{"version": "4", "receiver": "pager", "status": "firing", "externalURL": "javascript:alert(1)",
			"alerts": []map[string]any{{"status": "firing", "startsAt": week, "labels": map[string]string{"alertname": "LabelKey", "team": "payments", key: xssText[0]},
				"annotations": map[string]string{key: xssText[2]}, "generatorURL": "javascript:alert(1)"}}})
		if code, resp := ts.postWebhook(t, b); code != 200 && code != 400 {
			t.Fatalf("hostile label name %q: %d %s", key, code, resp)
		}
	}

	ts.setNow(utc("2026-11-25T10:00:00Z")) // Wednesday of W48: the last full week is W47
	stored := map[string]int{}
	api := func(path string, body map[string]any) {
		b, _ := json.Marshal(body)
		req := postReq(path, string(b), "Content-Type", "application/json")
		r := ts.send(t, req)
		if r.status >= 500 {
			t.Errorf("POST %s %s: %d %s", path, b, r.status, r.body)
		}
		if r.status < 300 {
			stored[path]++
		}
	}
	for i, p := range xssText {
		link := xssLinks[i%len(xssLinks)]
		api("/api/v1/toil", map[string]any{"team": "payments", "minutes": 30, "category": p, "note": p, "alertname": names[i%len(names)],
			"who": p, "at": "2026-11-18T10:00:00Z"})
		api("/api/v1/action-items", map[string]any{"title": p, "owner": p, "due": "2026-11-30", "ticket_url": link,
			"alertname": names[i%len(names)], "runbook": link, "team": "payments", "week": "2026-W47"})
		api("/api/v1/action-items", map[string]any{"title": p, "owner": "ana", "due": "2026-11-30", "ticket_url": "https://t.example/1",
			"alertname": names[i%len(names)], "sli": "checkout-rps", "team": "payments", "week": "2026-W47"})
		api("/api/v1/changes", map[string]any{"service": "checkout", "kind": "deploy", "who": p, "summary": p, "url": link,
			"at": "2026-11-24T10:00:00Z"})
		api("/api/v1/changes", map[string]any{"service": p, "kind": p, "summary": "x", "url": "https://ok.example/", "at": "2026-11-19T10:00:00Z"})
		api("/api/v1/runbooks/reviewed", map[string]any{"url": link, "who": p})
	}
	for _, name := range names {
		api("/api/v1/verdicts", map[string]any{"alertname": name, "week": "2026-W47", "verdict": "noise", "version": 0})
	}
	for _, path := range []string{"/api/v1/toil", "/api/v1/action-items", "/api/v1/changes", "/api/v1/runbooks/reviewed", "/api/v1/verdicts"} {
		if stored[path] == 0 {
			t.Errorf("no hostile %s was stored: the corpus did not reach the pages", path)
		}
	}

	// A person who gave a hostile name (auth.mode none) decides a verdict in the browser's way.
	session, csrf := ts.browserSession(t)
	name := xssText[1]
	r := ts.send(t, postReq("/whoami", url.Values{"name": {name}, csrfField: {csrf}}.Encode()), sessionCookie, session)
	if r.status != 200 {
		t.Fatalf("whoami: %d", r.status)
	}
	form := url.Values{"alertname": {"DiskFull"}, "week": {"2026-W47"}, "verdict": {"keep"}, "version": {"1"}, "team": {"payments"}, csrfField: {csrf}}
	if r := ts.send(t, postReq("/review/verdicts", form.Encode()), sessionCookie, session, nameCookie, cookieOf(r, nameCookie)); r.status >= 500 {
		t.Errorf("verdict by a hostile name: %d", r.status)
	}

	// What the collectors record from the outside: runbook check errors and final URLs, a
	// source's last error (an upstream's error text travels into it).
	for i, link := range xssLinks {
		err := ts.store.RecordRunbookCheck(ctx, store.RunbookCheck{URL: link, FirstSeen: week, CheckedAt: ts.now,
			// The checker's errors and final URLs are Go's quoted and escaped text: never a NUL.
			StatusCode: 404, Error: strings.ReplaceAll(xssText[i%len(xssText)], "\x00", ""), FinalURL: xssLinks[(i+1)%len(xssLinks)]})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.store.RecordCollectorRun(ctx, "prom", "rules", ts.now, errors.New(xssText[0]+xssText[1]+xssText[12]+"\xff")); err != nil {
		t.Fatal(err)
	}
	fillSLI(t, ts.store, ts.cfg, "checkout-rps", ts.now, 2, true)
}

// hostileConfig is reviewConfig plus an SLI whose free-text fields are hostile.
func hostileConfig(c *config.Config) {
	reviewConfig(c)
	c.Teams[0].Location, _ = time.LoadLocation("Europe/Berlin")
	c.Sources.Prometheus = []config.PrometheusSource{{Name: "prom", URL: "http://127.0.0.1:9", Interval: config.Duration(time.Minute),
		Timeout: config.Duration(time.Second), Lookback: config.Duration(8 * 7 * 24 * time.Hour)}}
	c.SLIs = []config.SLI{{Name: "checkout-rps", Source: "prom", Service: xssText[1], Team: "payments", Unit: xssText[8],
		Direction: "higher-is-better", Step: config.Duration(5 * time.Minute), Query: `sum(rate(x{a="</script>"}[5m]))`}}
}

// paramValues says what to put in each route parameter: the values that lead to stored data,
// and always one hostile value. A new parameter gets the hostile value until it is listed here.
func paramValues(path, param string) []string {
	switch {
	case param == "alertname":
		return append(hostileAlertnames(), xssText[2])
	case strings.HasPrefix(path, "/tv/panel/"):
		return append(slices.Clone(tvDefaultPanels), xssText[0])
	case strings.Contains(path, "slis") || strings.HasPrefix(path, "/normal/"):
		return []string{"checkout-rps", xssText[0]}
	}
	return []string{xssText[1]}
}

// hostileQuery is a query string whose every usual parameter is hostile.
var hostileQuery = func() string {
	q := url.Values{}
	for _, k := range []string{"week", "team", "from", "to", "alertname", "panels", "q", "sort", "status", "limit", "cursor", "receiver", "service", "view"} {
		q.Set(k, xssText[1])
	}
	return q.Encode()
}()

// getURLs enumerates every GET route of the router with its parameters filled in, each with the
// query of the week under review and with a hostile query.
func getURLs(t *testing.T, ts *testServer) []string {
	t.Helper()
	paramRe := regexp.MustCompile(`:[^/]+|\*`)
	var out []string
	seen := map[string]bool{}
	for _, r := range ts.App().GetRoutes(true) {
		if r.Method != http.MethodGet || strings.HasPrefix(r.Path, "/static") {
			continue
		}
		paths := []string{r.Path}
		for _, p := range paramRe.FindAllString(r.Path, -1) {
			var next []string
			for _, path := range paths {
				for _, v := range paramValues(r.Path, strings.TrimPrefix(p, ":")) {
					next = append(next, strings.Replace(path, p, url.PathEscape(v), 1))
				}
			}
			paths = next
		}
		for _, path := range paths {
			for _, q := range []string{"week=2026-W47&team=payments", "", hostileQuery} {
				u := path
				if q != "" {
					u += "?" + q
				}
				if !seen[u] {
					seen[u] = true
					out = append(out, u)
				}
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("only %d GET URLs from the router: %q", len(out), out)
	}
	return out
}

// xssWatchJS replaces every dialog with a recorder: a payload that runs leaves a trace.
const xssWatchJS = `window.__xss = [];
for (const f of ["alert", "confirm", "prompt", "print"]) {
  window[f] = function (m) { window.__xss.push(f + ": " + m); };
}`

// inertCheckJS lists what a page holds that only injected markup could have put there.
const inertCheckJS = `(() => {
  const bad = [];
  for (const s of document.scripts) {
    if (!s.src || new URL(s.src).origin !== location.origin || !new URL(s.src).pathname.startsWith("/static/")) bad.push("script " + (s.src || s.textContent.slice(0, 60)));
  }
  for (const el of document.querySelectorAll("iframe, frame, object, embed, base, applet, foreignObject, meta[http-equiv], style")) {
    bad.push("element " + el.outerHTML.slice(0, 80));
  }
  for (const el of document.querySelectorAll("*")) {
    for (const a of el.attributes) {
      const n = a.name.toLowerCase();
      if (n.startsWith("on")) bad.push("handler " + n + " on " + el.tagName);
      if (["href", "src", "action", "formaction", "xlink:href", "poster", "srcdoc", "data", "hx-get", "hx-post"].includes(n)) {
        let u;
        try { u = new URL(a.value, location.href); } catch (e) { bad.push("unparsable " + n + "=" + a.value.slice(0, 60)); continue; }
        if (!["http:", "https:"].includes(u.protocol)) bad.push(n + "=" + a.value.slice(0, 60));
      }
    }
  }
  return bad;
})()`

// TestSecurityXSSEveryPageFragmentAndTV loads every GET route, as a page and as an htmx fragment,
// with the corpus in the store, and counts what ran.
func TestSecurityXSSEveryPageFragmentAndTV(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ts := newTestServer(t, "", hostileConfig)
	seedHostile(t, ts)
	base := serve(t, ts.App())
	urls := getURLs(t, ts)

	// Every answer first over plain HTTP: no 5xx for hostile input, and only HTML may render.
	var pages []string
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, u := range urls {
		resp, err := client.Get(base + u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ct := resp.Header.Get("Content-Type")
		switch {
		case resp.StatusCode >= 500 && u != "/readyz":
			t.Errorf("GET %s: %d %s", u, resp.StatusCode, body)
		case resp.Header.Get("X-Content-Type-Options") != "nosniff":
			t.Errorf("GET %s: no nosniff", u)
		case strings.HasPrefix(ct, "text/html"):
			pages = append(pages, u)
		case strings.HasPrefix(ct, "application/json"), strings.HasPrefix(ct, "text/markdown"), strings.HasPrefix(ct, "text/plain"):
			// Shown as text by any browser (nosniff); the Markdown is checked as rendered below.
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
				t.Errorf("GET %s redirects off-site to %q", u, loc)
			}
		default:
			t.Errorf("GET %s: Content-Type %q", u, ct)
		}
	}
	t.Logf("%d URLs from the router, %d render HTML", len(urls), len(pages))

	ctx := newBrowser(t)
	watch := watchPage(t, ctx)
	addInitScript(t, ctx, xssWatchJS)

	check := func(where string) {
		t.Helper()
		ran := eval[[]string](t, ctx, `window.__xss || ["the watch is missing"]`)
		if len(ran) != 0 {
			t.Errorf("%s: payloads ran: %q", where, ran)
		}
		if v := watch.cspViolations(t, ctx); len(v) != 0 {
			t.Errorf("%s: CSP violations (injected markup reached the page): %q", where, v)
		}
		if bad := eval[[]string](t, ctx, inertCheckJS); len(bad) != 0 {
			t.Errorf("%s: injected markup: %q", where, bad)
		}
	}

	// The watch itself must see a payload that runs and markup that the CSP blocks.
	canary := "data:text/html," + url.PathEscape(`<script>alert("canary")</script><a href="javascript:void(0)" onclick="x()">x</a>`)
	if err := chromedp.Do(ctx, chromedp.Navigate(canary)); err != nil {
		t.Fatal(err)
	}
	if ran := eval[[]string](t, ctx, `window.__xss`); len(ran) != 1 {
		t.Fatalf("the canary's alert was not recorded (%q): the watch is blind", ran)
	}
	if bad := eval[[]string](t, ctx, inertCheckJS); len(bad) != 3 {
		t.Fatalf("the canary's inline script, handler and javascript: link gave %q: the markup check is blind", bad)
	}

	corpus, _ := json.Marshal(xssText[:12])
	shown := map[string]bool{}
	for _, u := range pages {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+u)); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		check("page " + u)
		if eval[bool](t, ctx, `(() => { const txt = document.body.innerText + " " + Array.from(document.querySelectorAll("[title],[aria-label]")).map(e => e.title + e.ariaLabel).join(" ");
		  return `+string(corpus)+`.some(p => txt.includes(p)); })()`) {
			shown[strings.SplitN(u, "?", 2)[0]] = true
		}
	}
	// The corpus did reach the pages, as text: else this test would prove nothing.
	for _, p := range []string{"/review", "/episodes", "/alerts", "/alerts/DiskFull", "/toil", "/runbooks", "/sources", "/normal", "/tv/panel/firing"} {
		if !shown[p] {
			t.Errorf("%s shows none of the corpus as text", p)
		}
	}

	// As htmx fragments, swapped into a page the way the app swaps them.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/episodes"), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
		t.Fatal(err)
	}
	for _, u := range pages {
		js := fmt.Sprintf(`htmx.ajax("GET", %q, {target: "main", swap: "innerHTML"}).then(() => true, () => true)`, u)
		eval[bool](t, ctx, js)
		check("fragment " + u)
	}
	for _, m := range consoleErrors(watch.console()) {
		if strings.Contains(m.URL, "data:") {
			continue
		}
		if strings.Contains(m.Text, "Failed to load resource") || strings.Contains(m.Text, "Response Status Error Code 4") {
			continue // the hostile URLs' 400 and 404 answers, which htmx does not swap in
		}
		t.Errorf("console %s (%s:%d)", m, m.URL, m.Line)
	}
}

// addInitScript runs js in every document the tab opens from now on, before the page's own.
func addInitScript(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: js})
		return err
	}))
	if err != nil {
		t.Fatalf("adding an init script: %v", err)
	}
}

// TestSecurityMarkdownExportIsInert renders the review's Markdown export, with the corpus in the
// store, the way a wiki that allows raw HTML would (goldmark, CommonMark, unsafe HTML passed
// through): no element, attribute or link comes from the corpus, and no link is other than http(s).
func TestSecurityMarkdownExportIsInert(t *testing.T) {
	ts := newTestServer(t, "", hostileConfig)
	seedHostile(t, ts)
	for _, q := range []string{"week=2026-W47&team=payments", "week=2026-W47", ""} {
		r := ts.send(t, getReq("/review.md?"+q))
		if r.status != 200 {
			t.Fatalf("/review.md?%s: %d %s", q, r.status, r.body)
		}
		if !strings.Contains(r.body, `alert\(\"script\"\)`) && !strings.Contains(r.body, `alert\("script"\)`) {
			t.Logf("%s", r.body)
			t.Errorf("/review.md?%s does not hold the corpus: it would prove nothing", q)
		}
		var out strings.Builder
		md := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
		if err := md.Convert([]byte(r.body), &out); err != nil {
			t.Fatal(err)
		}
		html := out.String()
		// The export's own markup is headings, tables, lists, emphasis and links; anything else
		// came from the corpus.
		allowed := map[string]bool{"h1": true, "h2": true, "h3": true, "p": true, "table": true, "thead": true, "tbody": true,
			"tr": true, "th": true, "td": true, "ul": true, "ol": true, "li": true, "a": true, "em": true, "strong": true, "code": true, "br": true, "hr": true}
		// Task lists (follow-ups, action items) are GFM's disabled checkboxes.
		html = strings.NewReplacer(`<input checked="" disabled="" type="checkbox">`, "", `<input disabled="" type="checkbox">`, "").Replace(html)
		for _, m := range regexp.MustCompile(`<\s*/?\s*([a-zA-Z][a-zA-Z0-9:-]*)`).FindAllStringSubmatch(html, -1) {
			if !allowed[strings.ToLower(m[1])] {
				t.Errorf("/review.md?%s renders a <%s> element", q, m[1])
			}
		}
		for _, m := range regexp.MustCompile(`(?i)\s(href|src)="([^"]*)"`).FindAllStringSubmatch(html, -1) {
			if u, err := url.Parse(m[2]); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				t.Errorf("/review.md?%s renders a link to %q", q, m[2])
			}
		}
		if regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`).MatchString(html) {
			t.Errorf("/review.md?%s renders an event handler", q)
		}
	}
}
