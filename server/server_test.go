package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
	"github.com/opsreview/opsreview/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

type testServer struct {
	*Server
	store *store.Store
	cfg   *config.Config
	now   time.Time // the test's clock: set it with setNow
	// clock is now for the server, which may read it from a background refresh (the TV's) while
	// the test moves it.
	clock atomic.Int64
}

// setNow moves the server's clock (and ts.now, for the test's own reads).
func (ts *testServer) setNow(t time.Time) {
	ts.now = t
	ts.clock.Store(t.UnixNano())
}

// clockNow is the server's Now.
func (ts *testServer) clockNow() time.Time { return time.Unix(0, ts.clock.Load()).UTC() }

// newTestServer builds a server on a fresh migrated database. edit may change the config first.
func newTestServer(t *testing.T, url string, edit func(*config.Config)) *testServer {
	t.Helper()
	if url == "" {
		url = storetest.NewURL(t)
	}
	t.Setenv("DATABASE_URL", url)
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	st, err := store.Open(context.Background(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{store: st, cfg: cfg}
	ts.setNow(time.Date(2026, 11, 23, 19, 0, 0, 0, time.UTC))
	srv, err := New(Options{Config: cfg, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registry: prometheus.NewRegistry(), Now: ts.clockNow})
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = srv
	return ts
}

// do sends one request through the whole Fiber app and returns status and body. A form post
// with no cookie is sent the way a browser sends it: with the session and CSRF token of a page
// it opened first.
func (ts *testServer) do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	if _, err := req.Cookie(sessionCookie); err != nil && req.Method != http.MethodGet && req.Method != http.MethodHead &&
		req.Header.Get("Authorization") == "" && !strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") &&
		!strings.HasPrefix(req.URL.Path, "/api/v1/alertmanager/") {
		session, csrf := ts.browserSession(t)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session})
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := ts.App().Test(req, 30_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (ts *testServer) postWebhook(t *testing.T, body []byte, hdr ...string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/alertmanager/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	return ts.do(t, req)
}

func storeFilterAll() store.EpisodeFilter {
	return store.EpisodeFilter{From: time.Unix(0, 0), To: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}
}
