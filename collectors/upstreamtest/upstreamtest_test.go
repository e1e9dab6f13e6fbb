package upstreamtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/opsreview/opsreview/collectors/upstreamtest"
)

// notification is the part of Alertmanager's webhook body the tests read.
type notification struct {
	Receiver string `json:"receiver"`
	Status   string `json:"status"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		StartsAt    time.Time         `json:"startsAt"`
		EndsAt      time.Time         `json:"endsAt"`
		Fingerprint string            `json:"fingerprint"`
	} `json:"alerts"`
	TruncatedAlerts int `json:"truncatedAlerts"`

	authorization string // the request's Authorization header
}

// hook is a webhook receiver that queues every notification it gets.
type hook struct {
	URL string
	ch  chan notification
}

func newHook(t *testing.T) *hook {
	h := &hook{ch: make(chan notification, 1000)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n notification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			t.Errorf("webhook: decode body: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n.authorization = r.Header.Get("Authorization")
		h.ch <- n
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL + "/webhook"
	return h
}

// await returns the first queued notification with the given status,
// failing the test if none arrives before ctx ends.
func (h *hook) await(ctx context.Context, t *testing.T, status string) notification {
	t.Helper()
	for {
		select {
		case n := <-h.ch:
			if n.Status == status {
				return n
			}
		case <-ctx.Done():
			t.Fatalf("no %s webhook arrived: %v", status, ctx.Err())
		}
	}
}

const rules = `
groups:
  - name: harness
    interval: 1s
    rules:
      - alert: HighErrorRatio
        expr: demo_error_ratio > 0.5
        labels:
          severity: critical
        annotations:
          summary: 'Error ratio of {{ $labels.service }} is {{ $value }}'
`

// TestFiringThenResolved proves the harness end to end: a gauge on a target
// makes a Prometheus rule fire, Alertmanager notifies the webhook, and
// setting the gauge back resolves it.
func TestFiringThenResolved(t *testing.T) {
	t.Parallel()
	ctx := upstreamtest.Context(t)
	h := newHook(t)
	target := upstreamtest.NewTarget(t)
	service := map[string]string{"service": "checkout"}
	target.Set("demo_error_ratio", service, 0)

	am := upstreamtest.StartAlertmanager(t, upstreamtest.AlertmanagerOptions{
		WebhookURL:  h.URL,
		BearerToken: "s3cret",
		GroupBy:     []string{"alertname", "service"},
	})
	upstreamtest.StartPrometheus(t, upstreamtest.PrometheusOptions{
		Targets:        []string{target.Addr},
		ExternalLabels: map[string]string{"env": "test"},
		Alertmanagers:  []string{am.URL},
		Rules:          rules,
	})

	target.Set("demo_error_ratio", service, 0.9)
	firing := h.await(ctx, t, "firing")
	if firing.authorization != "Bearer s3cret" {
		t.Errorf("webhook Authorization = %q, want %q", firing.authorization, "Bearer s3cret")
	}
	if firing.Receiver != "opsreview" || len(firing.Alerts) != 1 {
		t.Fatalf("firing webhook: receiver %q with %d alerts, want opsreview with 1", firing.Receiver, len(firing.Alerts))
	}
	got := firing.Alerts[0].Labels
	for k, want := range map[string]string{"alertname": "HighErrorRatio", "service": "checkout", "env": "test", "severity": "critical"} {
		if got[k] != want {
			t.Errorf("firing alert label %s = %q, want %q (labels %v)", k, got[k], want, got)
		}
	}

	target.Set("demo_error_ratio", service, 0)
	resolved := h.await(ctx, t, "resolved")
	if len(resolved.Alerts) != 1 {
		t.Fatalf("resolved webhook has %d alerts, want 1", len(resolved.Alerts))
	}
	a, f := resolved.Alerts[0], firing.Alerts[0]
	if a.Fingerprint != f.Fingerprint || !a.StartsAt.Equal(f.StartsAt) {
		t.Errorf("resolved alert %s starting %v, want the firing one %s starting %v", a.Fingerprint, a.StartsAt, f.Fingerprint, f.StartsAt)
	}
	if !a.EndsAt.After(a.StartsAt) {
		t.Errorf("resolved alert ends at %v, not after its start %v", a.EndsAt, a.StartsAt)
	}
}

// TestAlertmanagerAPI covers PostAlerts, max_alerts, Silence and that a
// Restart keeps silences.
func TestAlertmanagerAPI(t *testing.T) {
	t.Parallel()
	ctx := upstreamtest.Context(t)
	h := newHook(t)
	am := upstreamtest.StartAlertmanager(t, upstreamtest.AlertmanagerOptions{WebhookURL: h.URL, MaxAlerts: 1})

	now := time.Now()
	alerts := []upstreamtest.Alert{
		{Labels: map[string]string{"alertname": "Posted", "instance": "a"}, StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour)},
		{Labels: map[string]string{"alertname": "Posted", "instance": "b"}, StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour)},
	}
	if err := am.PostAlerts(ctx, alerts); err != nil {
		t.Fatal(err)
	}
	// Alertmanager may flush the group before it holds both alerts; the next flush (group_interval
	// later) carries both, truncated to one.
	for {
		n := h.await(ctx, t, "firing")
		if len(n.Alerts) != 1 {
			t.Fatalf("with max_alerts 1: %d alerts in a notification, want 1", len(n.Alerts))
		}
		if n.TruncatedAlerts == 1 {
			break
		}
	}

	id, err := am.Silence(ctx, []upstreamtest.Matcher{{Name: "alertname", Value: "Posted"}}, now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if state := silenceState(ctx, t, am, id); state != "active" {
		t.Errorf("new silence is %q, want active", state)
	}

	am.Restart()
	if state := silenceState(ctx, t, am, id); state != "active" {
		t.Errorf("silence after restart is %q, want active", state)
	}
	if err := am.ExpireSilence(ctx, id); err != nil {
		t.Fatal(err)
	}
	if state := silenceState(ctx, t, am, id); state != "expired" {
		t.Errorf("expired silence is %q, want expired", state)
	}
}

// silenceState reads a silence's state from the API.
func silenceState(ctx context.Context, t *testing.T, am *upstreamtest.Alertmanager, id string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, am.URL+"/api/v2/silence/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("get silence: %v", err)
	}
	defer resp.Body.Close()
	var s struct {
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("decode silence: %v", err)
	}
	return s.Status.State
}

func TestTargetExposition(t *testing.T) {
	t.Parallel()
	target := upstreamtest.NewTarget(t)
	target.Set("b_gauge", nil, 1.5)
	target.Set("a_gauge", map[string]string{"z": "1", "a": `q"uo\te` + "\n"}, 2)
	target.Set("a_gauge", map[string]string{"a": "x"}, -3)
	target.Set("gone", nil, 1)
	target.Delete("gone", nil)

	resp, err := http.Get(target.URL + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read scrape: %v", err)
	}
	want := "# TYPE a_gauge gauge\n" +
		`a_gauge{a="q\"uo\\te\n",z="1"} 2` + "\n" +
		`a_gauge{a="x"} -3` + "\n" +
		"# TYPE b_gauge gauge\n" +
		"b_gauge 1.5\n"
	if string(body) != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", body, want)
	}
}

// TestMissingBinarySkips checks that a test needing an absent server is
// skipped rather than failed when OPSREVIEW_REQUIRE_UPSTREAM is unset.
func TestMissingBinarySkips(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(upstreamtest.EnvRequireUpstream, "")
	var skipped bool
	t.Run("prometheus", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		upstreamtest.StartPrometheus(t, upstreamtest.PrometheusOptions{})
	})
	if !skipped {
		t.Error("StartPrometheus without a prometheus binary did not skip the test")
	}
}

// TestAlertmanagerReceivers checks that extra receivers get the alerts their
// Match selects and the first receiver gets the rest.
func TestAlertmanagerReceivers(t *testing.T) {
	t.Parallel()
	ctx := upstreamtest.Context(t)
	rest, paging := newHook(t), newHook(t)
	am := upstreamtest.StartAlertmanager(t, upstreamtest.AlertmanagerOptions{
		Receivers: []upstreamtest.Receiver{
			{Name: "rest", WebhookURL: rest.URL},
			{Name: "pager", WebhookURL: paging.URL, Match: map[string]string{"team": "payments", "severity": "critical"}},
		},
	})
	now := time.Now()
	if err := am.PostAlerts(ctx, []upstreamtest.Alert{
		{Labels: map[string]string{"alertname": "Paged", "team": "payments", "severity": "critical"}, StartsAt: now, EndsAt: now.Add(time.Hour)},
		{Labels: map[string]string{"alertname": "NotPaged", "team": "search", "severity": "critical"}, StartsAt: now, EndsAt: now.Add(time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		h        *hook
		receiver string
		alert    string
	}{{paging, "pager", "Paged"}, {rest, "rest", "NotPaged"}} {
		n := c.h.await(ctx, t, "firing")
		if n.Receiver != c.receiver || len(n.Alerts) != 1 || n.Alerts[0].Labels["alertname"] != c.alert {
			t.Errorf("receiver %s got %+v, want one %s alert", c.receiver, n, c.alert)
		}
	}
}

// TestAlertmanagerCluster: three replicas gossip into one cluster; an alert posted to each (as
// Prometheus sends it to all) is notified, and the replicas that come later in the cluster's order
// leave it to the first, seeing its entry in the gossiped notification log.
func TestAlertmanagerCluster(t *testing.T) {
	t.Parallel()
	ctx := upstreamtest.Context(t)
	h := newHook(t)
	ams := upstreamtest.StartAlertmanagerCluster(t, upstreamtest.AlertmanagerOptions{WebhookURL: h.URL}, 3)
	alert := upstreamtest.Alert{Labels: map[string]string{"alertname": "ClusterTest"}, StartsAt: time.Now().Add(-time.Minute)}
	for _, am := range ams {
		if err := am.PostAlerts(ctx, []upstreamtest.Alert{alert}); err != nil {
			t.Fatal(err)
		}
	}
	h.await(ctx, t, "firing")
	// Replica i waits i peer timeouts before it would send: after the last one, count the copies.
	time.Sleep(3 * upstreamtest.ClusterPeerTimeout)
	copies := 1 + len(h.ch)
	t.Logf("one firing alert posted to 3 clustered replicas reached the webhook %d time(s)", copies)
	if copies >= 3 {
		t.Errorf("every replica notified (%d copies): the cluster does not share its notification log", copies)
	}
}
