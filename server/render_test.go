package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/templates"
)

const hostileLabel = `<script>alert(1)</script>`

// sampleNow is the fixed clock of the sample episodes.
var sampleNow = time.Date(2026, 11, 18, 15, 0, 0, 0, time.UTC)

// sampleEpisodes returns rows that exercise every column: open and closed, every road, flags,
// an unassigned team, a hostile label value and a javascript: generator URL.
func sampleEpisodes() EpisodesView {
	at := func(d time.Duration) *time.Time { t := sampleNow.Add(d); return &t }
	return EpisodesView{
		Now:   sampleNow,
		Title: "Recent episodes",
		Episodes: []EpisodeRow{
			{ID: 1, Alertname: "CheckoutErrorBudgetBurn", Team: "payments",
				Labels:   map[string]string{"alertname": "CheckoutErrorBudgetBurn", "severity": "page", "service": "checkout", "cluster": "eu-1"},
				StartsAt: sampleNow.Add(-42 * time.Minute), Duration: 42 * time.Minute,
				ViaWebhook: true, ViaAlertmanager: true, ViaPrometheus: true,
				GeneratorURL: "http://prometheus:9090/graph?g0.expr=up"},
			{ID: 2, Alertname: "DiskWillFillIn4h", Team: "",
				Labels:   map[string]string{"alertname": "DiskWillFillIn4h", "instance": "db-3:9100", "evil": hostileLabel},
				StartsAt: sampleNow.Add(-5 * time.Hour), EndsAt: at(-4*time.Hour - 56*time.Minute), Duration: 4 * time.Minute,
				ViaPrometheus: true, GeneratorURL: "javascript:alert(1)"},
			{ID: 3, Alertname: "KafkaConsumerLag", Team: "data",
				Labels:   map[string]string{"alertname": "KafkaConsumerLag", "topic": "orders", "severity": "warning"},
				StartsAt: sampleNow.Add(-26 * time.Hour), EndsAt: at(-23 * time.Hour), Duration: 3 * time.Hour,
				ViaWebhook: true, ViaAlertmanager: true, Silenced: true, Flags: []string{"labels truncated"}},
		},
	}
}

// newPageApp serves view on GET / with the real templates.
func newPageApp(t *testing.T, page string, view any) *fiber.App {
	t.Helper()
	r, err := NewRenderer(templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	mountStatic(app)
	app.Get("/", func(c *fiber.Ctx) error { return r.Render(c, fiber.StatusOK, page, view) })
	return app
}

// get sends a GET with headers (name, value, name, value…) and returns the response and body.
func get(t *testing.T, app *fiber.App, target string, headers ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("body lacks %q", w)
		}
	}
}

func mustNotContain(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("body contains %q", w)
		}
	}
}

func TestRenderEpisodesPage(t *testing.T) {
	resp, body := get(t, newPageApp(t, "episodes", sampleEpisodes()), "/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if resp.Header.Get("Content-Security-Policy") != ContentSecurityPolicy {
		t.Errorf("CSP %q", resp.Header.Get("Content-Security-Policy"))
	}
	if !strings.HasPrefix(body, "<!doctype html>") {
		t.Errorf("page starts with %q", body[:min(40, len(body))])
	}
	mustContain(t, body,
		`<html lang="en">`, `name="viewport"`, `<meta name="referrer" content="no-referrer">`,
		`<title>Recent episodes · opsreview</title>`,
		`href="/alerts" aria-current="page">Alerts</a>`, `href="/tv">TV</a>`,
		`href="/alerts/CheckoutErrorBudgetBurn"`, `<span class="unassigned">unassigned</span>`,
		`<span class="k">service</span>=<span class="v">checkout</span>`,
		`class="badge badge-firing">firing</span>`, `>backfilled</span>`, `>silenced</span>`,
		`>labels truncated</span>`, `class="num">4m</td>`, `class="num">3h 00m</td>`,
		`data-ago>42 min ago</time>`, `Wed 18 Nov 14:18`,
		`href="http://prometheus:9090/graph?g0.expr=up"`)
	mustNotContain(t, body, "DEMO DATA", `<span class="k">alertname</span>`)
	// Only episode 2 came by Prometheus alone.
	if n := strings.Count(body, ">backfilled</span>"); n != 1 {
		t.Errorf("%d backfilled badges, want 1", n)
	}
	checkNoInline(t, body)
}

// checkNoInline fails on markup the CSP would block: inline script, style elements or attributes.
func checkNoInline(t *testing.T, body string) {
	t.Helper()
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
		if !strings.Contains(tag, ` src="/static/`) {
			t.Errorf("inline script: %s", tag)
		}
	}
	mustNotContain(t, body, "<style", " style=", " onclick=", " onload=", " hx-on")
}

func TestRenderStaticURLsAreServed(t *testing.T) {
	app := newPageApp(t, "episodes", sampleEpisodes())
	_, body := get(t, app, "/")
	urls := regexp.MustCompile(`"(/static/[^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(urls) < 3 {
		t.Fatalf("found %d static URLs", len(urls))
	}
	for _, u := range urls {
		target := strings.ReplaceAll(u[1], "&amp;", "&")
		resp, _ := get(t, app, target)
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s: %d, Cache-Control %q", target, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
}

func TestRenderDemoBanner(t *testing.T) {
	v := sampleEpisodes()
	v.Demo = true
	_, body := get(t, newPageApp(t, "episodes", v), "/")
	mustContain(t, body, `class="demo-banner"`, "DEMO DATA")
}

func TestRenderEmpty(t *testing.T) {
	_, body := get(t, newPageApp(t, "episodes", EpisodesView{Now: sampleNow}), "/")
	mustContain(t, body, "No episodes yet.", "<h1>Recent episodes</h1>")
	mustNotContain(t, body, "<table")
}

func TestRenderFragmentOnHTMXRequest(t *testing.T) {
	app := newPageApp(t, "episodes", sampleEpisodes())
	resp, body := get(t, app, "/", "HX-Request", "true")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	mustContain(t, body, `<table class="data stack episodes">`, "CheckoutErrorBudgetBurn")
	mustNotContain(t, body, "<!doctype", "<html", "<head", "<nav", "</body>")
	if !strings.Contains(resp.Header.Get("Vary"), "HX-Request") {
		t.Errorf("Vary %q lacks HX-Request", resp.Header.Get("Vary"))
	}
	// A boosted link or a history restore replaces the whole page, so it gets the whole page.
	for _, h := range []string{"HX-Boosted", "HX-History-Restore-Request"} {
		_, body := get(t, app, "/", "HX-Request", "true", h, "true")
		if !strings.HasPrefix(body, "<!doctype html>") {
			t.Errorf("%s: got a fragment", h)
		}
	}
}

func TestRenderEscapesAlertData(t *testing.T) {
	v := sampleEpisodes()
	v.Episodes[0].Alertname = `Bad"Name/<b>x</b>`
	v.Episodes[0].Team = `<img src=x onerror=alert(1)>`
	for _, hx := range []string{"", "true"} {
		_, body := get(t, newPageApp(t, "episodes", v), "/", "HX-Request", hx)
		mustContain(t, body,
			`<span class="v">&lt;script&gt;alert(1)&lt;/script&gt;</span>`,
			`&lt;img src=x onerror=alert(1)&gt;`,
			`href="/alerts/Bad%22Name%2F%3Cb%3Ex%3C%2Fb%3E"`)
		mustNotContain(t, body, hostileLabel, "javascript:", "<img src=x", "<b>x</b>")
	}
}

func TestRenderErrorPage(t *testing.T) {
	r, err := NewRenderer(templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	app.Get("/", func(c *fiber.Ctx) error { return r.RenderError(c, fiber.StatusServiceUnavailable) })
	resp, body := get(t, app, "/")
	if resp.StatusCode != fiber.StatusServiceUnavailable {
		t.Errorf("status %d", resp.StatusCode)
	}
	mustContain(t, body, "<!doctype html>", `<p class="status">503</p>`, "The database is not answering.")
	checkNoInline(t, body)
}

func TestRenderUnknownPage(t *testing.T) {
	r, err := NewRenderer(templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	var got error
	app.Get("/", func(c *fiber.Ctx) error { got = r.Render(c, 200, "nope", nil); return nil })
	get(t, app, "/")
	if got == nil || !strings.Contains(got.Error(), `no page "nope"`) {
		t.Errorf("Render of an unknown page: %v", got)
	}
}

func TestNewRendererChecksPages(t *testing.T) {
	layout := &fstest.MapFile{Data: []byte(`{{define "layout"}}<p>{{template "content" .}}</p>{{end}}`)}
	good := &fstest.MapFile{Data: []byte(`{{define "content"}}ok{{end}}`)}
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"missing page", fstest.MapFS{"layout.html": layout}, "pattern matches no files"},
		{"no content block", fstest.MapFS{"layout.html": layout, "p.html": {Data: []byte(`hi`)}}, `no "content" block`},
		{"no layout", fstest.MapFS{"layout.html": good, "p.html": good}, `no "layout" block`},
		{"parse error", fstest.MapFS{"layout.html": layout, "p.html": {Data: []byte(`{{define "content"}}{{.X}`)}}, "parsing page"},
		{"escape error", fstest.MapFS{"layout.html": layout,
			"p.html": {Data: []byte(`{{define "content"}}<a {{if .}}href="{{end}}>x</a>{{end}}`)}}, "branches end in different contexts"},
		{"unregistered page", fstest.MapFS{"layout.html": layout, "p.html": good, "q.html": good}, "q.html is not registered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newRenderer(tc.files, []pageSpec{{name: "p"}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
	if _, err := newRenderer(fstest.MapFS{"layout.html": layout, "p.html": good}, []pageSpec{{name: "p"}}); err != nil {
		t.Errorf("good templates: %v", err)
	}
}

func TestAgo(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "just now"}, {59 * time.Second, "just now"}, {time.Minute, "1 min ago"},
		{59*time.Minute + 59*time.Second, "59 min ago"}, {time.Hour, "1 h ago"},
		{47 * time.Hour, "47 h ago"}, {48 * time.Hour, "2 d ago"}, {-5 * time.Minute, "in 5 min"},
	} {
		if got := ago(sampleNow, sampleNow.Add(-tc.d)); got != tc.want {
			t.Errorf("ago(-%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if got := ago(sampleNow, time.Time{}); got != "never" {
		t.Errorf("ago(zero) = %q", got)
	}
}

func TestDur(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"}, {1500 * time.Millisecond, "1s"}, {45 * time.Second, "45s"},
		{4*time.Minute + 30*time.Second, "4m 30s"}, {12 * time.Minute, "12m"},
		{3*time.Hour + 5*time.Minute, "3h 05m"}, {52 * time.Hour, "2d 4h"},
	} {
		if got := dur(tc.d); got != tc.want {
			t.Errorf("dur(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestSafeURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://prom:9090/graph?g0.expr=up": "http://prom:9090/graph?g0.expr=up",
		"HTTPS://wiki.internal/runbook":     "HTTPS://wiki.internal/runbook",
		"javascript:alert(1)":               "",
		"JavaScript:alert(1)":               "",
		" javascript:alert(1)":              "",
		"data:text/html,<script>":           "",
		"//evil.example/x":                  "",
		"/relative":                         "",
		"http:no-host":                      "",
		"":                                  "",
	} {
		if got := safeURL(in); got != want {
			t.Errorf("safeURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChips(t *testing.T) {
	got := chips(map[string]string{"alertname": "X", "b": "2", "a": "1"})
	if len(got) != 2 || got[0] != (label{"a", "1"}) || got[1] != (label{"b", "2"}) {
		t.Errorf("chips = %v", got)
	}
}

func TestFrameOf(t *testing.T) {
	v := EpisodesView{Now: sampleNow, Demo: true, Title: "T"}
	want := frame{Title: "T", Demo: true, Now: sampleNow}
	for _, in := range []any{v, &v} {
		if got := frameOf(in); got != want {
			t.Errorf("frameOf(%T) = %+v", in, got)
		}
	}
	var nilView *EpisodesView
	for _, in := range []any{nil, nilView, 3, struct{ Title int }{1}} {
		if got := frameOf(in); got != (frame{}) {
			t.Errorf("frameOf(%#v) = %+v, want zero", in, got)
		}
	}
}
