package collectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
	"github.com/opsreview/opsreview/store/storetest"
)

func TestAddrRisk(t *testing.T) {
	tests := map[string]string{
		"127.0.0.1":                "internal",
		"127.8.9.10":               "internal",
		"::1":                      "internal",
		"10.1.2.3":                 "internal",
		"172.16.0.1":               "internal",
		"172.31.255.255":           "internal",
		"192.168.1.1":              "internal",
		"fd12:3456::1":             "internal", // ULA
		"fe80::1":                  "internal", // link-local
		"169.254.1.1":              "internal",
		"100.64.0.1":               "internal", // CGNAT
		"0.0.0.0":                  "internal",
		"::":                       "internal",
		"224.0.0.1":                "internal",
		"ff02::1":                  "internal",
		"255.255.255.255":          "internal",
		"::ffff:127.0.0.1":         "internal", // IPv4-mapped loopback
		"::ffff:10.0.0.1":          "internal",
		"64:ff9b::7f00:1":          "internal", // NAT64 of 127.0.0.1
		"169.254.169.254":          "metadata",
		"::ffff:169.254.169.254":   "metadata",
		"fd00:ec2::254":            "metadata",
		"8.8.8.8":                  "",
		"1.1.1.1":                  "",
		"172.32.0.1":               "",
		"2606:4700:4700::1111":     "",
		"64:ff9b::808:808":         "", // NAT64 of 8.8.8.8
		"100.128.0.1":              "",
		"fe80::1%eth0":             "internal",
		"2001:db8::1":              "internal",
		"::ffff:8.8.8.8":           "",
		"192.0.2.1":                "internal",
		"198.18.0.1":               "internal",
		"240.0.0.1":                "internal",
		"100.100.100.200":          "metadata",
		"169.254.170.2":            "metadata",
		"2001:4860:4860::8888":     "",
		"fc00::1":                  "internal",
		"fec0::1":                  "", // deprecated site-local: routed like global unicast
		"ff05::1:3":                "internal",
		"::ffff:0.0.0.0":           "internal",
		"127.0.0.53":               "internal",
		"169.254.169.253":          "internal",
		"192.0.0.170":              "internal",
		"203.0.113.7":              "internal",
		"198.51.100.1":             "internal",
		"100::1":                   "internal",
		"64:ff9b:1::1":             "internal",
		"64:ff9b::a9fe:a9fe":       "metadata", // NAT64 of 169.254.169.254
		"::ffff:100.64.0.1":        "internal",
		"::ffff:192.168.0.1":       "internal",
		"::ffff:172.16.0.1":        "internal",
		"::ffff:224.0.0.1":         "internal",
		"::ffff:255.255.255.255":   "internal",
		"64:ff9b::c0a8:1":          "internal",
		"64:ff9b::a00:1":           "internal",
		"64:ff9b::ac10:1":          "internal",
		"64:ff9b::6440:1":          "internal",
		"64:ff9b::e000:1":          "internal",
		"64:ff9b::ffff:ffff":       "internal",
		"64:ff9b::0:0":             "internal",
		"64:ff9b::7f00:35":         "internal",
		"64:ff9b::101:101":         "",
		"::ffff:1.1.1.1":           "",
		"2a00:1450:4001:81b::200e": "",
	}
	for s, want := range tests {
		if got := addrRisk(netip.MustParseAddr(s)); got != want {
			t.Errorf("addrRisk(%s) = %q, want %q", s, got, want)
		}
	}
}

// fakeResolver answers from a table, so tests can make a public-looking name resolve anywhere.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func loopback(t *testing.T) netip.Addr { return netip.MustParseAddr("127.0.0.1") }

func newTestChecker(t *testing.T, allow []string, r resolver) *RunbookChecker {
	t.Helper()
	return &RunbookChecker{client: newRunbookClient(allow, r), now: time.Now,
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// hostURL rewrites a test server's URL to use host instead of 127.0.0.1.
func hostURL(t *testing.T, srvURL, host string) string {
	t.Helper()
	u, err := url.Parse(srvURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = net.JoinHostPort(host, u.Port())
	return u.String()
}

func TestCheckerRefusesLoopbackUnlessAllowed(t *testing.T) {
	lm := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Last-Modified", lm.Format(http.TimeFormat))
		fmt.Fprint(w, "runbook")
	}))
	defer srv.Close()
	ctx := context.Background()

	res := newTestChecker(t, nil, fakeResolver{}).check(ctx, srv.URL+"/disk")
	if res.StatusCode != 0 || !strings.Contains(res.Error, "refused") || !strings.Contains(res.Error, "127.0.0.1") {
		t.Errorf("loopback with an empty allow-list: %+v, want refused", res)
	}

	res = newTestChecker(t, []string{"127.0.0.1"}, fakeResolver{}).check(ctx, srv.URL+"/disk")
	if res.StatusCode != 200 || res.Error != "" {
		t.Fatalf("allow-listed loopback: %+v, want 200", res)
	}
	if res.LastModified == nil || !res.LastModified.Equal(lm) {
		t.Errorf("Last-Modified = %v, want %v", res.LastModified, lm)
	}
}

func TestCheckerRefusesANameThatResolvesToLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	r := fakeResolver{"wiki.example": {netip.MustParseAddr("93.184.215.14"), loopback(t)}}
	res := newTestChecker(t, nil, r).check(context.Background(), hostURL(t, srv.URL, "wiki.example"))
	if !strings.Contains(res.Error, "wiki.example resolves to internal address 127.0.0.1") {
		t.Errorf("name resolving to loopback: %+v, want refused", res)
	}
	// Allowed by name: checked, and a 404 is recorded as such.
	srv.Config.Handler = http.NotFoundHandler()
	res = newTestChecker(t, []string{"*.wiki.example"}, r).check(context.Background(), hostURL(t, srv.URL, "wiki.example"))
	if !strings.Contains(res.Error, "refused") {
		t.Errorf("a wildcard entry needs a subdomain; wiki.example was not refused: %+v", res)
	}
	res = newTestChecker(t, []string{"WIKI.example"}, fakeResolver{"wiki.example": {loopback(t)}}).check(context.Background(), hostURL(t, srv.URL, "wiki.example"))
	if res.StatusCode != 404 || res.Error != "HTTP 404" {
		t.Errorf("allow-listed name: %+v, want 404", res)
	}
}

func TestCheckerRefusesPrivateLinkLocalAndMetadata(t *testing.T) {
	// No connection is attempted: the refusal comes before any dial, so these need no server.
	r := fakeResolver{
		"private.example":   {netip.MustParseAddr("10.0.0.7")},
		"linklocal.example": {netip.MustParseAddr("fe80::1")},
		"meta.example":      {netip.MustParseAddr("169.254.169.254")},
		"meta6.example":     {netip.MustParseAddr("fd00:ec2::254")},
	}
	for _, u := range []string{"http://private.example/", "http://linklocal.example/", "http://meta.example/latest/meta-data/",
		"http://meta6.example/", "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://10.1.1.1/",
		"http://[::1]:1/", "http://0.0.0.0:1/", "http://[::ffff:127.0.0.1]:1/", "http://100.64.1.1/", "http://192.168.0.1/"} {
		res := newTestChecker(t, nil, r).check(context.Background(), u)
		if !strings.Contains(res.Error, "refused") {
			t.Errorf("%s: %+v, want refused", u, res)
		}
	}
	// Metadata stays refused even for an allow-listed host.
	allowAll := []string{"meta.example", "169.254.169.254", "meta6.example"}
	for _, u := range []string{"http://meta.example/", "http://169.254.169.254/", "http://meta6.example/"} {
		res := newTestChecker(t, allowAll, r).check(context.Background(), u)
		if !strings.Contains(res.Error, "metadata") {
			t.Errorf("%s allow-listed: %+v, want refused as metadata", u, res)
		}
	}
}

func TestCheckerRefusesARedirectToAnInternalHost(t *testing.T) {
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the internal server was reached")
	}))
	defer internal.Close()
	target := hostURL(t, internal.URL, "admin.example")
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusFound)
	}))
	defer front.Close()
	r := fakeResolver{"wiki.example": {loopback(t)}, "admin.example": {loopback(t)}}
	res := newTestChecker(t, []string{"wiki.example"}, r).check(context.Background(), hostURL(t, front.URL, "wiki.example"))
	if !strings.Contains(res.Error, "admin.example resolves to internal address") {
		t.Errorf("redirect to an internal host: %+v, want refused", res)
	}
	// A redirect to the metadata address, by IP.
	front.Config.Handler = http.RedirectHandler("http://169.254.169.254/latest/meta-data/", http.StatusMovedPermanently)
	res = newTestChecker(t, []string{"wiki.example"}, r).check(context.Background(), hostURL(t, front.URL, "wiki.example"))
	if !strings.Contains(res.Error, "metadata") {
		t.Errorf("redirect to metadata: %+v, want refused", res)
	}
	// A redirect to another scheme.
	front.Config.Handler = http.RedirectHandler("file:///etc/passwd", http.StatusFound)
	res = newTestChecker(t, []string{"wiki.example"}, r).check(context.Background(), hostURL(t, front.URL, "wiki.example"))
	if !strings.Contains(res.Error, "redirect to a file: URL") {
		t.Errorf("redirect to file: %+v, want refused", res)
	}
}

func TestCheckerFollowsAtMostThreeRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(r.URL.Path, "/%d", &n)
		if n > 0 {
			http.Redirect(w, r, fmt.Sprintf("/%d", n-1), http.StatusFound)
			return
		}
		fmt.Fprint(w, "here")
	}))
	defer srv.Close()
	c := newTestChecker(t, []string{"127.0.0.1"}, fakeResolver{})
	if res := c.check(context.Background(), srv.URL+"/3"); res.StatusCode != 200 || !strings.HasSuffix(res.FinalURL, "/0") {
		t.Errorf("three redirects: %+v, want 200 at /0", res)
	}
	if res := c.check(context.Background(), srv.URL+"/4"); !strings.Contains(res.Error, "more than 3 redirects") {
		t.Errorf("four redirects: %+v, want refused", res)
	}
}

func TestCheckerSendsNoCredentialsOrCookies(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s %s auth=%q cookie=%q", r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Cookie")))
		mu.Unlock()
		if r.URL.Path == "/start" {
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "secret", Path: "/"})
			http.Redirect(w, r, "/next", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://admin:hunter2@", 1) + "/start"
	res := newTestChecker(t, []string{"127.0.0.1"}, fakeResolver{}).check(context.Background(), u)
	if res.StatusCode != 200 {
		t.Fatalf("check = %+v", res)
	}
	if strings.Contains(res.FinalURL, "hunter2") {
		t.Errorf("final URL keeps the password: %s", res.FinalURL)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range seen {
		if !strings.Contains(s, `auth="" cookie=""`) {
			t.Errorf("request sent credentials or cookies: %s", s)
		}
	}
	if len(seen) != 2 {
		t.Errorf("requests = %q, want HEAD /start and HEAD /next", seen)
	}
}

func TestCheckerFallsBackToAShortGET(t *testing.T) {
	big := strings.Repeat("x", 10<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		io.WriteString(w, big) // the checker reads a few KiB and hangs up
	}))
	defer srv.Close()
	res := newTestChecker(t, []string{"127.0.0.1"}, fakeResolver{}).check(context.Background(), srv.URL)
	if res.StatusCode != 200 || res.Error != "" {
		t.Errorf("GET fallback: %+v, want 200", res)
	}
}

func TestCheckerUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	res := newTestChecker(t, []string{"127.0.0.1"}, fakeResolver{}).check(context.Background(), "http://"+addr+"/")
	if res.StatusCode != 0 || res.Error == "" {
		t.Errorf("unreachable: %+v, want an error", res)
	}
	var refused *RefusedError
	if errors.As(errors.New(res.Error), &refused) {
		t.Error("unreachable reported as refused")
	}
}

func TestRunbookCheckerCollect(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gone" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Last-Modified", time.Now().Add(-48*time.Hour).UTC().Format(http.TimeFormat))
	}))
	defer srv.Close()
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.NewURL(t), "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var reports []review.AlertReport
	for i, u := range []string{srv.URL + "/ok", srv.URL + "/gone", "javascript:alert(1)"} {
		reports = append(reports, review.AlertReport{Fingerprint: uint64(i + 1),
			Labels:      map[string]string{"alertname": fmt.Sprintf("A%d", i)},
			Annotations: map[string]string{"runbook_url": u}, StartsAt: now.Add(-time.Hour), ObservedAt: now,
			Road: review.RoadWebhook})
	}
	if err := st.IngestAlerts(ctx, reports, nil); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Runbooks: config.Runbooks{Annotations: []string{"runbook_url"}, MaxAge: config.Duration(90 * 24 * time.Hour),
		AllowHosts: []string{"127.0.0.1"}, CheckInterval: config.Duration(6 * time.Hour)}}
	c := NewRunbookChecker(cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if c.Name() != "runbooks" || c.Interval() != 6*time.Hour || c.Timeout() <= 0 {
		t.Errorf("collector shape: %s %v %v", c.Name(), c.Interval(), c.Timeout())
	}
	if err := c.Collect(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := st.Runbooks(ctx, store.RunbookQuery{Annotations: []string{"runbook_url"}, From: now.Add(-time.Hour * 24), To: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, r := range review.RankRunbooks(got, now, 90*24*time.Hour) {
		status[strings.TrimPrefix(r.URL, srv.URL)] = r.Status
		if r.URL == srv.URL+"/ok" && (r.LastModified == nil || r.CheckedAt == nil || r.StatusCode != 200) {
			t.Errorf("ok runbook after a check: %+v", r)
		}
	}
	want := map[string]string{"/ok": "ok", "/gone": "broken", "javascript:alert(1)": "broken"}
	for k, v := range want {
		if status[k] != v {
			t.Errorf("status of %s = %q, want %q (all: %v)", k, status[k], v, status)
		}
	}
}
