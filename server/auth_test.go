package server

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
)

// response is one answer of the app, body read.
type response struct {
	status int
	header http.Header
	body   string
}

// send runs req through the whole app with the given cookies (name, value, name, value…).
func (ts *testServer) send(t *testing.T, req *http.Request, cookies ...string) response {
	t.Helper()
	for i := 0; i+1 < len(cookies); i += 2 {
		req.AddCookie(&http.Cookie{Name: cookies[i], Value: cookies[i+1]})
	}
	resp, err := ts.App().Test(req, 30_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

func getReq(path string, hdr ...string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return req
}

func postReq(path, body string, hdr ...string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return req
}

func cookieOf(r response, name string) string {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

var csrfMetaRe = regexp.MustCompile(`<meta name="csrf-token" content="([0-9a-f]*)">`)

// browserSession opens a page like a browser's first visit and returns its session cookie and
// the CSRF token the page carries.
func (ts *testServer) browserSession(t *testing.T, hdr ...string) (session, csrf string) {
	t.Helper()
	r := ts.send(t, getReq("/whoami", hdr...))
	session = cookieOf(r, sessionCookie)
	m := csrfMetaRe.FindStringSubmatch(r.body)
	if r.status != 200 || session == "" || m == nil || m[1] == "" {
		t.Fatalf("first visit: status %d, session %q, csrf meta %v", r.status, session, m)
	}
	return session, m[1]
}

func (ts *testServer) createToken(t *testing.T, kind, name, scope string) string {
	t.Helper()
	secret := kind + "-" + name + "-" + newSecret(32)
	if _, err := ts.store.CreateToken(context.Background(), store.Token{Kind: kind, Name: name, Scope: scope, CreatedAt: ts.now}, secret); err != nil {
		t.Fatal(err)
	}
	return secret
}

func TestModeNoneEveryoneReadsAndNamesThemselves(t *testing.T) {
	ts := newTestServer(t, "", nil)
	session, csrf := ts.browserSession(t)
	r := ts.send(t, postReq("/whoami", "name=Ada+Lovelace&csrf_token="+csrf, "Origin", "http://example.com"), sessionCookie, session)
	if r.status != 200 || cookieOf(r, nameCookie) != "Ada Lovelace" || !strings.Contains(r.body, "Ada Lovelace") {
		t.Fatalf("saving a name: %d %q", r.status, r.body)
	}
	r = ts.send(t, getReq("/whoami"), sessionCookie, session, nameCookie, "Ada Lovelace")
	if !strings.Contains(r.body, "<strong>Ada Lovelace</strong>") {
		t.Errorf("the name is not the actor: %s", r.body)
	}
	if r := ts.send(t, getReq("/whoami")); !strings.Contains(r.body, "<strong>anonymous</strong>") {
		t.Errorf("without a name: %s", r.body)
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	ts := newTestServer(t, "", nil)
	for _, path := range []string{"/whoami", "/no-such-page", "/api/v1/episodes", "/api/v1/nothing", "/healthz", "/tv", "/static/app.css"} {
		r := ts.send(t, getReq(path))
		h := r.header
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: nosniff %q, referrer %q", path, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
		}
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if path == "/tv" {
			if !strings.Contains(csp, "frame-ancestors 'self'") || h.Get("X-Frame-Options") != "SAMEORIGIN" {
				t.Errorf("/tv: CSP %q, XFO %q; want framing by 'self' only", csp, h.Get("X-Frame-Options"))
			}
		} else if !strings.Contains(csp, "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: CSP %q, XFO %q; want no framing", path, csp, h.Get("X-Frame-Options"))
		}
	}

	ts = newTestServer(t, "", func(c *config.Config) { c.TV.FrameAncestors = []string{"https://dash.example.com"} })
	r := ts.send(t, getReq("/tv"))
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://dash.example.com") || r.header.Get("X-Frame-Options") != "" {
		t.Errorf("configured ancestors: CSP %q, XFO %q", csp, r.header.Get("X-Frame-Options"))
	}
}

func TestModeProxyTrustsTheHeaderOnlyFromTrustedPeers(t *testing.T) {
	// app.Test's connections come from 0.0.0.0.
	trusted := newTestServer(t, "", func(c *config.Config) {
		c.Auth.Mode = "proxy"
		c.Auth.Proxy.Trusted = []string{"10.0.0.5/32", "0.0.0.0"}
	})
	r := trusted.send(t, getReq("/whoami", "X-Forwarded-User", "grace"))
	if r.status != 200 || !strings.Contains(r.body, "<strong>grace</strong>") {
		t.Errorf("from the proxy: %d %s", r.status, r.body)
	}
	if r := trusted.send(t, getReq("/whoami")); r.status != 401 {
		t.Errorf("from the proxy without the header: %d, want 401", r.status)
	}

	untrusted := newTestServer(t, "", func(c *config.Config) {
		c.Auth.Mode = "proxy"
		c.Auth.Proxy.Trusted = []string{"10.0.0.5/32"}
	})
	for _, path := range []string{"/whoami", "/episodes", "/api/v1/episodes", "/tv"} {
		r := untrusted.send(t, getReq(path, "X-Forwarded-User", "mallory", "X-Forwarded-For", "10.0.0.5"))
		if r.status != 401 || strings.Contains(r.body, "mallory") {
			t.Errorf("%s from an untrusted peer with the header: %d, want 401", path, r.status)
		}
	}
	if r := untrusted.send(t, getReq("/healthz", "X-Forwarded-User", "mallory")); r.status != 200 {
		t.Errorf("/healthz: %d", r.status)
	}
}

func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestModeBasic(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, "", func(c *config.Config) {
		c.Auth.Mode = "basic"
		c.Auth.Basic.Users = map[string]string{"alice": string(hash)}
	})
	for range 2 { // the second time from the remembered MAC
		r := ts.send(t, getReq("/whoami", "Authorization", basicHeader("alice", "correct horse")))
		if r.status != 200 || !strings.Contains(r.body, "<strong>alice</strong>") {
			t.Fatalf("right password: %d", r.status)
		}
	}
	for _, h := range []string{basicHeader("alice", "wrong"), basicHeader("bob", "correct horse"), "", "Basic !!!"} {
		r := ts.send(t, getReq("/whoami", "Authorization", h))
		if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("Authorization %q: %d, WWW-Authenticate %q; want 401 asking for Basic", h, r.status, r.header.Get("WWW-Authenticate"))
		}
		if strings.Contains(r.body, "wrong") || strings.Contains(r.body, "correct horse") {
			t.Errorf("the error page shows the password")
		}
	}
	r := ts.send(t, getReq("/api/v1/episodes", "Authorization", basicHeader("alice", "wrong")))
	if r.status != 401 || !strings.Contains(r.body, `"error"`) {
		t.Errorf("API with a wrong password: %d %s", r.status, r.body)
	}
}

func TestAPITokens(t *testing.T) {
	for _, mode := range []string{"none", "proxy", "basic"} {
		t.Run(mode, func(t *testing.T) {
			ts := newTestServer(t, "", func(c *config.Config) {
				c.Auth.Mode = mode
				c.Auth.Proxy.Trusted = []string{"10.0.0.5/32"}
				if mode == "basic" {
					c.Auth.Basic.Users = map[string]string{"alice": "$2y$10$" + strings.Repeat("a", 53)}
				}
			})
			write := ts.createToken(t, store.TokenAPI, "ci", "write")
			read := ts.createToken(t, store.TokenAPI, "dash", "read")
			revoked := ts.createToken(t, store.TokenAPI, "old", "write")
			if err := ts.store.RevokeToken(context.Background(), store.TokenAPI, "old", ts.now); err != nil {
				t.Fatal(err)
			}
			if r := ts.send(t, getReq("/api/v1/episodes", "Authorization", "Bearer "+write)); r.status != 200 {
				t.Errorf("GET with a token: %d %s", r.status, r.body)
			}
			if r := ts.send(t, getReq("/api/v1/episodes", "Authorization", "Bearer "+read)); r.status != 200 {
				t.Errorf("GET with a read-only token: %d %s", r.status, r.body)
			}
			for _, path := range []string{"/api/v1/changes", "/api/v1/toil"} {
				body := `{"service":"checkout","kind":"deploy"}`
				for _, bad := range []string{"", "Bearer nope", "Bearer " + revoked, "Bearer " + write + "x"} {
					if bad == "" && mode == "none" {
						continue // auth.mode none admits JSON API calls without a token (not cross-site)
					}
					req := postReq(path, body, "Content-Type", "application/json")
					if bad != "" {
						req.Header.Set("Authorization", bad)
					}
					r := ts.send(t, req)
					if r.status != 401 || !strings.Contains(r.body, `"error"`) {
						t.Errorf("POST %s with %q: %d %s; want 401 JSON", path, bad, r.status, r.body)
					}
					if strings.Contains(r.body, write) || strings.Contains(r.body, revoked) {
						t.Errorf("the error shows a token")
					}
				}
				r := ts.send(t, postReq(path, body, "Content-Type", "application/json", "Authorization", "Bearer "+read))
				if r.status != 403 {
					t.Errorf("POST %s with a read-only token: %d, want 403", path, r.status)
				}
				// A good token passes every check and needs no CSRF token: what answers is the
				// route itself (404 until its area registers it).
				r = ts.send(t, postReq(path, body, "Content-Type", "application/json", "Authorization", "Bearer "+write))
				if r.status == 401 || r.status == 403 {
					t.Errorf("POST %s with a good token: %d %s", path, r.status, r.body)
				}
			}
		})
	}
}

// mutatingRoutes lists every route of the app that may change state, from the router itself, so
// a route added later is covered without editing this test. The webhook has its own token.
func mutatingRoutes(t *testing.T, ts *testServer) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	for _, r := range ts.App().GetRoutes(true) {
		if isSafeMethod(r.Method) || r.Method == http.MethodOptions || r.Path == webhookPath {
			continue
		}
		path := regexp.MustCompile(`:[^/]+|\*`).ReplaceAllString(r.Path, "x")
		key := r.Method + " " + path
		if !seen[key] {
			seen[key] = true
			out = append(out, key)
		}
	}
	if len(out) == 0 {
		t.Fatal("the router has no mutating route: this test would check nothing")
	}
	t.Logf("mutating routes: %q", out)
	return out
}

func TestEveryMutatingRouteRefusesForgeries(t *testing.T) {
	ts := newTestServer(t, "", nil)
	session, csrf := ts.browserSession(t)
	otherSession, otherCSRF := ts.browserSession(t)
	if otherSession == session || otherCSRF == csrf {
		t.Fatal("two visits got the same session")
	}
	tvToken := ts.createToken(t, store.TokenTV, "lobby", "")

	for _, route := range mutatingRoutes(t, ts) {
		method, path, _ := strings.Cut(route, " ")
		req := func(form string, hdr ...string) *http.Request {
			r := httptest.NewRequest(method, path, strings.NewReader(form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for i := 0; i+1 < len(hdr); i += 2 {
				r.Header.Set(hdr[i], hdr[i+1])
			}
			return r
		}
		cases := []struct {
			name string
			req  *http.Request
			cook []string
		}{
			{"no token", req("name=x"), []string{sessionCookie, session}},
			{"no session", req("name=x&csrf_token=" + csrf), nil},
			{"another session's token", req("name=x&csrf_token=" + otherCSRF), []string{sessionCookie, session}},
			{"another session's token in the header", req("name=x", "X-CSRF-Token", otherCSRF), []string{sessionCookie, session}},
			{"cross-site Origin", req("name=x&csrf_token="+csrf, "Origin", "https://evil.example"), []string{sessionCookie, session}},
			{"cross-site fetch", req("name=x&csrf_token="+csrf, "Sec-Fetch-Site", "cross-site"), []string{sessionCookie, session}},
			{"same-site fetch", req("name=x&csrf_token="+csrf, "Sec-Fetch-Site", "same-site"), []string{sessionCookie, session}},
			{"null Origin", req("name=x&csrf_token="+csrf, "Origin", "null"), []string{sessionCookie, session}},
			{"TV link session", req("name=x&csrf_token="+csrf, "X-CSRF-Token", csrf), []string{sessionCookie, session, tvCookie, tvToken}},
		}
		for _, tc := range cases {
			r := ts.send(t, tc.req, tc.cook...)
			if r.status != 401 && r.status != 403 {
				t.Errorf("%s with %s: %d, want it refused", route, tc.name, r.status)
			}
			if cookieOf(r, nameCookie) != "" {
				t.Errorf("%s with %s: the handler ran", route, tc.name)
			}
		}
	}

	// The real thing passes, from the header as well as the form field.
	r := ts.send(t, postReq("/whoami", "name=ok&csrf_token="+csrf, "Origin", "http://example.com", "Sec-Fetch-Site", "same-origin"), sessionCookie, session)
	if r.status != 200 || cookieOf(r, nameCookie) != "ok" {
		t.Errorf("a same-origin POST with the session's token: %d", r.status)
	}
	r = ts.send(t, postReq("/whoami", "name=ok2", "X-CSRF-Token", csrf), sessionCookie, session)
	if r.status != 200 || cookieOf(r, nameCookie) != "ok2" {
		t.Errorf("the token in X-CSRF-Token: %d", r.status)
	}
	// A refusal is JSON on the API and the error page elsewhere.
	if r := ts.send(t, postReq("/api/v1/toil", "{}", "Content-Type", "application/json"), sessionCookie, session); r.status != 403 || !strings.HasPrefix(r.body, `{"error":`) {
		t.Errorf("API without a CSRF token: %d %s", r.status, r.body)
	}
	if r := ts.send(t, postReq("/whoami", "name=x"), sessionCookie, session); r.status != 403 || !strings.Contains(r.body, "<html") {
		t.Errorf("page without a CSRF token: %d", r.status)
	}
}

func TestWebhookStaysOutsideSessionsAndCSRF(t *testing.T) {
	ts := newTestServer(t, "", func(c *config.Config) {
		c.Auth.Mode = "basic"
		c.Auth.Basic.Users = map[string]string{"alice": "$2y$10$" + strings.Repeat("a", 53)}
		c.Webhook.Token = "hook-secret"
	})
	body := captured(t)[0]
	if status, _ := ts.postWebhook(t, body, "Authorization", "Bearer hook-secret", "Origin", "https://alertmanager.example"); status != 200 {
		t.Errorf("webhook with its token, no session, no CSRF: %d", status)
	}
	if status, _ := ts.postWebhook(t, body, "Authorization", "Bearer nope"); status != 401 {
		t.Errorf("webhook with a wrong token: %d", status)
	}
}

func TestTVLink(t *testing.T) {
	ts := newTestServer(t, "", func(c *config.Config) {
		c.Auth.Mode = "basic"
		c.Auth.Basic.Users = map[string]string{"alice": "$2y$10$" + strings.Repeat("a", 53)}
		c.Teams = []config.Team{testTeam("payments")}
	})
	token := ts.createToken(t, store.TokenTV, "lobby", "payments")

	if r := ts.send(t, getReq("/tv")); r.status != 401 {
		t.Errorf("/tv with neither sign-in nor link: %d", r.status)
	}
	r := ts.send(t, getReq("/tv?panels=firing,pages&token="+url.QueryEscape(token)))
	loc, _ := url.Parse(r.header.Get("Location"))
	if r.status != 303 || loc == nil || loc.Path != "/tv" || loc.Query().Get("token") != "" ||
		loc.Query().Get("team") != "payments" || loc.Query().Get("panels") != "firing,pages" {
		t.Fatalf("first visit: %d to %q; want a redirect to the same TV without the token", r.status, r.header.Get("Location"))
	}
	if r.header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("Referrer-Policy %q", r.header.Get("Referrer-Policy"))
	}
	set := r.header.Get("Set-Cookie")
	if cookieOf(r, tvCookie) != token || !strings.Contains(set, "HttpOnly") || !strings.Contains(strings.ToLower(set), "samesite=lax") {
		t.Errorf("Set-Cookie %q", set)
	}

	r = ts.send(t, getReq(loc.String()), tvCookie, token)
	if r.status != 200 || !strings.Contains(r.body, `id="tv-panel-firing"`) || !strings.Contains(r.body, `hx-get="/tv/panel/pages?team=payments"`) {
		t.Fatalf("the TV: %d %s", r.status, r.body)
	}
	if r := ts.send(t, getReq("/episodes"), tvCookie, token); r.status != 200 {
		t.Errorf("a read-only page with the link: %d", r.status)
	}
	if r := ts.send(t, getReq("/tv/panel/firing?team=payments"), tvCookie, token); r.status != 200 || !strings.Contains(r.body, "Nothing is firing") {
		t.Errorf("a panel: %d %s", r.status, r.body)
	}
	if r := ts.send(t, getReq("/tv?token=wrong")); r.status != 403 || !strings.Contains(r.body, "access was revoked") {
		t.Errorf("a wrong link: %d", r.status)
	}

	if err := ts.store.RevokeToken(context.Background(), store.TokenTV, "lobby", ts.now); err != nil {
		t.Fatal(err)
	}
	ts.setNow(ts.now.Add(tvRefresh)) // one refresh later
	r = ts.send(t, getReq("/tv/panel/firing?team=payments", "HX-Request", "true"), tvCookie, token)
	if r.status != 200 || !strings.Contains(r.body, "This screen's access was revoked") || r.header.Get("HX-Refresh") != "true" {
		t.Errorf("a panel after revoking: %d %q %s", r.status, r.header.Get("HX-Refresh"), r.body)
	}
	if r := ts.send(t, getReq("/tv"), tvCookie, token); !strings.Contains(r.body, "This screen's access was revoked") {
		t.Errorf("the TV after revoking: %d", r.status)
	}
	if r := ts.send(t, getReq("/episodes"), tvCookie, token); r.status != 401 {
		t.Errorf("a page with a revoked link: %d, want 401", r.status)
	}
}

func TestTVLinkExpires(t *testing.T) {
	ts := newTestServer(t, "", nil)
	exp := ts.now.Add(time.Hour)
	token := "expiring-" + newSecret(32)
	if _, err := ts.store.CreateToken(context.Background(), store.Token{Kind: store.TokenTV, Name: "hall", CreatedAt: ts.now, ExpiresAt: &exp}, token); err != nil {
		t.Fatal(err)
	}
	if r := ts.send(t, getReq("/tv/panel/firing"), tvCookie, token); r.status != 200 || strings.Contains(r.body, "revoked") {
		t.Errorf("before expiry: %d", r.status)
	}
	ts.setNow(exp)
	if r := ts.send(t, getReq("/tv/panel/firing"), tvCookie, token); !strings.Contains(r.body, "access was revoked") {
		t.Errorf("after expiry: %d %s", r.status, r.body)
	}
}

// testTeam is a team with every default filled, as Load would.
func testTeam(name string) config.Team {
	return config.Team{Name: name, Timezone: "Europe/Berlin", Match: map[string]string{"team": name},
		BusinessHours: config.BusinessHours{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "08:00", End: "18:00"},
		SleepHours:    config.HourRange{Start: "22:00", End: "08:00"}, ToilBudget: config.Duration(20 * time.Hour), MinutesPerPage: 15}
}
