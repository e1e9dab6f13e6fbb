package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store/storetest"
)

// storedState is every row a delivery can leave, in a stable order and without surrogate ids.
func storedState(t *testing.T, ts *testServer) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT format('episode %s %s %s %s %s', to_hex(fingerprint), alertname, starts_at, coalesce(ends_at::text, 'open'), end_kind)
		 FROM episodes ORDER BY 1`,
		// notifications are named by what they carry: their ids and keys depend on arrival order
		`SELECT format('notification %s %s %s carries %s', n.receiver, n.status, n.alerts,
		               (SELECT string_agg(to_hex(e.fingerprint) || '@' || e.starts_at || '/' || ne.alert_status, ',' ORDER BY e.starts_at)
		                FROM notification_episodes ne JOIN episodes e ON e.id = ne.episode_id WHERE ne.notification_id = n.id))
		 FROM notifications n ORDER BY 1`,
		`SELECT format('first %s %s@%s is notification %s %s', r.receiver, to_hex(e.fingerprint), e.starts_at, n.status,
		               (SELECT string_agg(to_hex(e2.fingerprint) || '@' || e2.starts_at, ',' ORDER BY e2.starts_at)
		                FROM notification_episodes ne JOIN episodes e2 ON e2.id = ne.episode_id WHERE ne.notification_id = n.id))
		 FROM receiver_episodes r JOIN episodes e ON e.id = r.episode_id JOIN notifications n ON n.id = r.first_notification_id ORDER BY 1`,
	} {
		var rows []string
		if err := ts.store.DB().Select(&rows, q); err != nil {
			t.Fatal(err)
		}
		out = append(out, rows...)
	}
	return out
}

// captured returns the real notifications plus realistic variants of them: a replica's copy whose
// startsAt differs by 300 ms, and the same alert firing again an hour later, and its resolve.
func captured(t *testing.T) [][]byte {
	firing := string(fixture(t, "am_webhook_firing.json"))
	resolved := string(fixture(t, "am_webhook_resolved.json"))
	replica := strings.ReplaceAll(firing, "18:53:16.445Z", "18:53:16.145Z")
	later := strings.ReplaceAll(firing, "2026-11-23T18:53:16.445Z", "2026-11-23T19:53:16.445Z")
	laterResolved := strings.ReplaceAll(resolved, "2026-11-23T18:53:16.445Z", "2026-11-23T19:53:16.445Z")
	laterResolved = strings.ReplaceAll(laterResolved, `"endsAt": "2026-11-23T18:`, `"endsAt": "2026-11-23T19:`)
	return [][]byte{[]byte(firing), []byte(resolved), []byte(replica), []byte(later), []byte(laterResolved)}
}

func TestWebhookReplayLeavesTheSameRowsAsOnce(t *testing.T) {
	once := newTestServer(t, "", nil)
	for _, b := range captured(t) {
		if code, body := once.postWebhook(t, b); code != 200 {
			t.Fatalf("clean delivery answered %d: %s", code, body)
		}
	}
	want := storedState(t, once)
	if n := strings.Count(strings.Join(want, "\n"), "episode "); n != 2 {
		t.Fatalf("want 2 episodes (the replica's copy is the same episode), got %d:\n%s", n, strings.Join(want, "\n"))
	}
	for trial := 0; trial < 3; trial++ {
		ts := newTestServer(t, "", nil)
		var all [][]byte
		for k := 0; k < 3; k++ {
			all = append(all, captured(t)...)
		}
		rand.New(rand.NewSource(int64(trial))).Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		for _, b := range all {
			if code, body := ts.postWebhook(t, b); code != 200 {
				t.Fatalf("replayed delivery answered %d: %s", code, body)
			}
		}
		if got := storedState(t, ts); !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: replay stored\n%s\nbut one clean delivery stored\n%s", trial, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func TestWebhookAnswers(t *testing.T) {
	ts := newTestServer(t, "", func(c *config.Config) { c.Webhook.Token = "s3cret"; c.Webhook.MaxBody = 64 << 10 })
	good := fixture(t, "am_webhook_firing.json")
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(good)
	w.Close()
	big := []byte(`{"version":"4","receiver":"r","status":"firing","alerts":[],"pad":"` + strings.Repeat("x", 70<<10) + `"}`)
	for _, tc := range []struct {
		name string
		body []byte
		hdr  []string
		code int
		want string
	}{
		{"no token", good, nil, 401, "bearer token"},
		{"wrong token", good, []string{"Authorization", "Bearer nope"}, 401, "bearer token"},
		{"compressed", gz.Bytes(), []string{"Authorization", "Bearer s3cret", "Content-Encoding", "gzip"}, 415, "Content-Encoding"},
		{"compressed behind identity", gz.Bytes(), []string{"Authorization", "Bearer s3cret", "Content-Encoding", "identity", "Content-Encoding", "gzip"}, 415, "Content-Encoding"},
		{"compressed after identity", gz.Bytes(), []string{"Authorization", "Bearer s3cret", "Content-Encoding", "identity, gzip"}, 415, "Content-Encoding"},
		{"too large", big, []string{"Authorization", "Bearer s3cret"}, 413, "max_body"},
		{"malformed", []byte(`{"version":"4",`), []string{"Authorization", "Bearer s3cret"}, 400, "malformed JSON"},
		{"stored", good, []string{"Authorization", "Bearer s3cret"}, 200, "stored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := ts.postWebhook(t, tc.body, tc.hdr...)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Fatalf("got %d %q, want %d containing %q", code, body, tc.code, tc.want)
			}
			if code != 200 && !strings.Contains(body, `"error"`) {
				t.Fatalf("error answers must be {\"error\": …}, got %s", body)
			}
		})
	}
	var n int
	ts.store.DB().Get(&n, `SELECT count(*) FROM episodes`)
	if n != 1 {
		t.Fatalf("only the authorised delivery may be stored; %d episodes", n)
	}
}

func TestWebhookAnswers503WhilePostgresIsDown(t *testing.T) {
	cl := storetest.NewCluster(t)
	url := cl.URL("postgres")
	ts := newTestServer(t, url, nil)
	firing := fixture(t, "am_webhook_firing.json")
	cl.Stop()
	code, body := ts.postWebhook(t, firing)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("with Postgres down the webhook answered %d %s; Alertmanager only retries on 5xx", code, body)
	}
	cl.Start()
	var err error
	for i := 0; i < 50; i++ { // the pool reconnects on its own; retry like Alertmanager would
		if code, body = ts.postWebhook(t, firing); code == 200 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code != 200 {
		t.Fatalf("after Postgres came back the webhook answered %d %s (%v)", code, body, err)
	}
	eps, err := ts.store.Episodes(context.Background(), storeFilterAll())
	if err != nil || len(eps) != 1 {
		t.Fatalf("want exactly one episode after the retry, got %d (%v)", len(eps), err)
	}
}

func TestEpisodesAPI(t *testing.T) {
	ts := newTestServer(t, "", nil)
	for _, b := range captured(t)[:2] {
		ts.postWebhook(t, b)
	}
	code, body := ts.do(t, httptest.NewRequest("GET", "/api/v1/episodes?alertname=DemoHighErrorRatio&from=2026-11-23T00:00:00Z&to=2026-11-24T00:00:00Z", nil))
	if code != 200 || !strings.Contains(body, `"items":[{`) || !strings.Contains(body, `"fingerprint":"f012426a98fce58d"`) ||
		!strings.Contains(body, `"starts_at":"2026-11-23T18:53:16.445Z"`) {
		t.Fatalf("got %d %s", code, body)
	}
	code, body = ts.do(t, httptest.NewRequest("GET", "/api/v1/episodes?from=yesterday", nil))
	if code != 400 || !strings.Contains(body, `"error":"from:`) {
		t.Fatalf("a bad from= must be a 400 naming the parameter, got %d %s", code, body)
	}
	code, body = ts.do(t, httptest.NewRequest("GET", "/api/v1/episodes?alertname=DemoHighErrorRatio", nil))
	if code != 200 || strings.Count(body, `"fingerprint"`) != 1 {
		t.Fatalf("without from= and to= the API lists every episode, got %d %s", code, body)
	}
	code, body = ts.do(t, httptest.NewRequest("GET", fmt.Sprintf("/api/v1/episodes?to=%s", ts.now.Add(-24*time.Hour).Format(time.RFC3339)), nil))
	if code != 200 || body != `{"items":[]}` {
		t.Fatalf("an empty window must answer an empty list, got %d %s", code, body)
	}
}
