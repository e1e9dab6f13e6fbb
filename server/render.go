package server

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/static"
)

// ContentSecurityPolicy is sent with every rendered page unless a handler or middleware set one
// already. Scripts and styles come only from /static: no inline script, no inline style.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// pageSpec registers one page: templates/<name>.html, and the nav section it highlights.
type pageSpec struct {
	name    string
	section string // a navItem's section, or "" for none
}

// pages lists every page. To add one, write templates/<name>.html defining "content" (and
// optionally "head"), add it here, and call Render with its name; NewRenderer fails at start
// when a listed page is missing or does not parse, or when a page file is not listed.
var pages = []pageSpec{
	{name: "episodes", section: "alerts"},
	{name: "runbooks", section: "runbooks"},
	{name: "toil", section: "toil"},
	{name: "sources", section: "sources"},
	{name: "normal", section: "normal"},
	{name: "normal_show", section: "normal"},
	{name: "error"},
	{name: "review", section: "review"},
	{name: "review_verdict", section: "review"},
	{name: "review_actions", section: "review"},
	{name: "review_followup", section: "review"},
	{name: "alerts", section: "alerts"},
	{name: "alert", section: "alerts"},
	{name: "tv", section: "tv"},
	{name: "whoami"},
}

// navItem is one link of the main navigation.
type navItem struct{ Label, Path, Section string }

var nav = []navItem{
	{"Review", "/review", "review"},
	{"Alerts", "/alerts", "alerts"},
	{"Normal", "/normal", "normal"},
	{"Toil", "/toil", "toil"},
	{"Runbooks", "/runbooks", "runbooks"},
	{"Sources", "/sources", "sources"},
	{"TV", "/tv", "tv"},
}

// Renderer renders pages from templates parsed once at start. It is safe for concurrent use.
type Renderer struct {
	pages map[string]*template.Template
}

// NewRenderer parses the layout, the partials and every registered page from files
// (templates.FS in production) and checks that each page exists, parses and escapes.
func NewRenderer(files fs.FS) (*Renderer, error) {
	return newRenderer(files, pages)
}

func newRenderer(files fs.FS, specs []pageSpec) (*Renderer, error) {
	partials, err := fs.Glob(files, "partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("listing partials: %w", err)
	}
	onDisk, err := fs.Glob(files, "*.html")
	if err != nil {
		return nil, fmt.Errorf("listing pages: %w", err)
	}
	r := &Renderer{pages: map[string]*template.Template{}}
	for _, p := range specs {
		if _, dup := r.pages[p.name]; dup {
			return nil, fmt.Errorf("page %q is registered twice", p.name)
		}
		funcs := template.FuncMap{"section": func() string { return p.section }}
		t := template.New(p.name).Funcs(templateFuncs).Funcs(funcs)
		names := append([]string{"layout.html", p.name + ".html"}, partials...)
		if _, err := t.ParseFS(files, names...); err != nil {
			return nil, fmt.Errorf("parsing page %q: %w", p.name, err)
		}
		for _, block := range []string{"layout", "content"} {
			if t.Lookup(block) == nil {
				return nil, fmt.Errorf("page %q: no %q block is defined", p.name, block)
			}
		}
		if err := escapeNow(t); err != nil {
			return nil, fmt.Errorf("page %q: %w", p.name, err)
		}
		r.pages[p.name] = t
	}
	for _, file := range onDisk {
		name := strings.TrimSuffix(file, ".html")
		if _, ok := r.pages[name]; !ok && name != "layout" {
			return nil, fmt.Errorf("templates/%s is not registered in server.pages", file)
		}
	}
	return r, nil
}

// escapeNow makes html/template escape the page at start, so a template that cannot be escaped
// fails start-up rather than its first request. Errors from executing without data are expected.
func escapeNow(t *template.Template) error {
	for _, name := range []string{"layout", "content"} {
		err := t.ExecuteTemplate(io.Discard, name, nil)
		var escErr *template.Error
		if errors.As(err, &escErr) {
			return err
		}
	}
	return nil
}

// Render sends the page with status. For an htmx request it sends only the page's "content"
// block, which htmx swaps into the page it already shows. The page is built in memory first, so
// a template error is returned whole (for the error handler) rather than as half a page.
func (r *Renderer) Render(c *fiber.Ctx, status int, page string, data any) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("render: no page %q", page)
	}
	block := "layout"
	if isFragment(c) {
		block = "content"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	body := buf.Bytes()
	if block == "layout" {
		token, _ := c.Locals(csrfLocal).(string)
		body = bytes.Replace(body, []byte(csrfMarker), []byte(token), 1)
	}
	return sendHTML(c, status, body)
}

// sendHTML sends rendered HTML with the headers every page and fragment carries.
func sendHTML(c *fiber.Ctx, status int, body []byte) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	// A browser must not show a cached fragment as a whole page (back button after an htmx swap).
	c.Vary("HX-Request")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	if c.GetRespHeader(fiber.HeaderContentSecurityPolicy) == "" {
		c.Set(fiber.HeaderContentSecurityPolicy, ContentSecurityPolicy)
	}
	return c.Status(status).Send(body)
}

// RenderError sends the friendly error page for status. It never shows the error itself.
func (r *Renderer) RenderError(c *fiber.Ctx, status int) error {
	return r.Render(c, status, "error", NewErrorView(status, time.Now()))
}

// isFragment reports whether htmx asked for a fragment. Boosted links and history restores
// replace the whole page, so they get the whole page.
func isFragment(c *fiber.Ctx) bool {
	return c.Get("HX-Request") == "true" &&
		c.Get("HX-Boosted") != "true" &&
		c.Get("HX-History-Restore-Request") != "true"
}

// templateFuncs are the functions every template may call. None returns template.HTML: alert
// data is always escaped by html/template.
var templateFuncs = template.FuncMap{
	"ago":        ago,
	"dur":        dur,
	"rfc3339":    rfc3339,
	"stamp":      stamp,
	"staticURL":  staticURL,
	"safeURL":    safeURL,
	"pathEscape": url.PathEscape,
	"chips":      chips,
	"moment":     func(now, t time.Time) moment { return moment{Now: now, T: t} },
	"frame":      frameOf,
	"nav":        func() []navItem { return nav },
	"section":    func() string { return "" }, // replaced per page
	"csrfMeta":   func() string { return csrfMarker },
	"thousands":  thousands,
}

// csrfMarker stands in the layout's <meta name="csrf-token"> for the request's CSRF token, which
// Render puts in its place: templates are parsed once and views are plain structs, so the token
// cannot reach the layout through the data. It is hex, so it needs no escaping.
const csrfMarker = "opsreview-csrf-token-goes-here"

// ago says how long before now t was ("12 min ago", "in 3 h"). static/app.js says the same.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		s = fmt.Sprintf("%d min", d/time.Minute)
	case d < 48*time.Hour:
		s = fmt.Sprintf("%d h", d/time.Hour)
	default:
		s = fmt.Sprintf("%d d", d/(24*time.Hour))
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// dur writes a duration the way people say it: "45s", "4m 30s", "3h 05m", "2d 4h".
func dur(d time.Duration) string {
	d = max(d, 0).Truncate(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	case d < time.Hour:
		if s := d % time.Minute / time.Second; s != 0 {
			return fmt.Sprintf("%dm %02ds", d/time.Minute, s)
		}
		return fmt.Sprintf("%dm", d/time.Minute)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %02dm", d/time.Hour, d%time.Hour/time.Minute)
	}
	return fmt.Sprintf("%dd %dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
}

// rfc3339 formats t for datetime attributes and machines; "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// stamp formats t for people, in UTC: "Tue 18 Nov 14:03".
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("Mon 02 Jan 15:04")
}

// staticURL returns the checksummed URL of a file in static/, so it can be cached for a year.
func staticURL(name string) (string, error) {
	h := static.Hash(name)
	if h == "" {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/static/" + name + "?v=" + h, nil
}

// safeURL returns s when it is an absolute http or https URL, else "". Generator and runbook URLs
// come from alerts, and a javascript: link must never be rendered.
func safeURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	if scheme := strings.ToLower(u.Scheme); scheme != "http" && scheme != "https" {
		return ""
	}
	return s
}

// label is one label chip.
type label struct{ Name, Value string }

// chips returns an alert's labels as chips, sorted by name, without alertname (shown apart).
func chips(labels map[string]string) []label {
	out := make([]label, 0, len(labels))
	for k, v := range labels {
		if k != "alertname" {
			out = append(out, label{k, v})
		}
	}
	slices.SortFunc(out, func(a, b label) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// moment is a time with the page's now, for the "when" partial.
type moment struct{ Now, T time.Time }

// frame is what the layout reads from a view: the title, the demo banner, TV mode and the clock.
type frame struct {
	Title    string
	Demo, TV bool
	Now      time.Time
}

// frameOf reads frame's fields from a view by name, so a view is a plain struct that needs no
// methods or embedding; a field a view does not have keeps its zero value.
func frameOf(view any) frame {
	var f frame
	v := reflect.ValueOf(view)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return f
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return f
	}
	if x := v.FieldByName("Title"); x.IsValid() && x.Kind() == reflect.String {
		f.Title = x.String()
	}
	if x := v.FieldByName("Demo"); x.IsValid() && x.Kind() == reflect.Bool {
		f.Demo = x.Bool()
	}
	if x := v.FieldByName("TV"); x.IsValid() && x.Kind() == reflect.Bool {
		f.TV = x.Bool()
	}
	if x := v.FieldByName("Now"); x.IsValid() && x.CanInterface() && x.Type() == reflect.TypeFor[time.Time]() {
		f.Now = x.Interface().(time.Time)
	}
	return f
}
