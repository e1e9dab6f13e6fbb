package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opsreview/opsreview/collectors/upstreamtest"
)

// hostileMaxBody is webhook.max_body in the hostile-input tests: large enough for a 10 MB valid
// payload, small enough that an oversize one is cheap to send.
const hostileMaxBody = 12 << 20

// webhookBody renders a version 4 webhook payload with the given alerts (maps, so a test can put any
// JSON type anywhere).
func webhookBody(t testing.TB, status string, alerts ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"version": "4", "receiver": "opsreview", "status": status, "groupKey": "{}:{}",
		"groupLabels": map[string]string{}, "truncatedAlerts": 0, "externalURL": "http://am.example",
		"alerts": alerts,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hostileAlert is a firing alert named name that started a minute ago, with extra labels.
func hostileAlert(name string, labels map[string]string) map[string]any {
	l := map[string]string{"alertname": name}
	for k, v := range labels {
		l[k] = v
	}
	return map[string]any{"status": "firing", "labels": l, "annotations": map[string]string{"summary": "s"},
		"startsAt": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano), "endsAt": "0001-01-01T00:00:00Z"}
}

// hostileCase is one request of the corpus and what opsreview may answer.
type hostileCase struct {
	name   string
	body   []byte
	header [][2]string // sent in order; a name may repeat
	codes  []int       // acceptable answers
	// resetOK accepts a connection closed before the answer: fasthttp refuses a body over its
	// BodyLimit (max_body + 1 MiB) without reading it, and the client may still be writing.
	resetOK bool
	// stored, when set, is the alertname that must then be stored, carrying flags.
	stored string
	flags  []string
}

// hostileCorpus builds the corpus of scenario 7.
func hostileCorpus(t testing.TB) []hostileCase {
	good := webhookBody(t, "firing", hostileAlert("HostileGood", nil))
	var cs []hostileCase
	for _, cut := range []int{1, 10, len(good) / 2, len(good) - 1} {
		cs = append(cs, hostileCase{name: fmt.Sprintf("truncated at %d", cut), body: good[:cut], codes: []int{400}})
	}
	raw := func(name, body string, codes ...int) hostileCase {
		return hostileCase{name: name, body: []byte(body), codes: codes}
	}
	alertWith := func(field, value string) string {
		return `{"version":"4","receiver":"r","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"HostileType"},` +
			`"startsAt":"2026-01-01T00:00:00Z",` + fmt.Sprintf("%q:%s", field, value) + `}]}`
	}
	cs = append(cs,
		raw("empty body", ``, 400),
		raw("not JSON", `<alert/>`, 400),
		raw("JSON null", `null`, 400),
		raw("JSON array", `[]`, 400),
		raw("version as number", `{"version":4,"receiver":"r","status":"firing","alerts":[]}`, 400),
		raw("alerts as object", `{"version":"4","receiver":"r","status":"firing","alerts":{}}`, 400),
		raw("labels as array", alertWith("labels", `["a"]`), 400),
		raw("label value as number", alertWith("labels", `{"alertname":1}`), 400),
		raw("startsAt as number", alertWith("startsAt", `1700000000`), 400),
		raw("startsAt not a time", alertWith("startsAt", `"yesterday"`), 400),
		raw("status as bool", `{"version":"4","receiver":"r","status":true,"alerts":[]}`, 400),
		raw("huge truncatedAlerts", `{"version":"4","receiver":"r","status":"firing","truncatedAlerts":1e400,"alerts":[]}`, 400),
		raw("overflowing truncatedAlerts", `{"version":"4","receiver":"r","status":"firing","truncatedAlerts":99999999999999999999999,"alerts":[]}`, 400),
		raw("fractional truncatedAlerts", `{"version":"4","receiver":"r","status":"firing","truncatedAlerts":0.5,"alerts":[]}`, 400),
		raw("deep nesting", `{"version":"4","x":`+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+`}`, 400),
		raw("nesting below the decoder's limit", `{"version":"4","receiver":"r","status":"firing","alerts":[],"x":`+
			strings.Repeat(`{"a":`, 5000)+`1`+strings.Repeat("}", 5000)+`}`, 200, 400),
		raw("duplicate keys", `{"version":"4","receiver":"r","receiver":"s","status":"firing","alerts":[]}`, 200, 400),
		raw("case-variant keys", `{"version":"4","Receiver":"r","RECEIVER":"s","STATUS":"firing","alerts":[]}`, 200, 400),
		raw("start in year 0", strings.Replace(alertWith("generatorURL", `""`), "2026-01-01", "0000-01-01", 1), 200, 400),
		raw("start in year 9999", strings.Replace(alertWith("generatorURL", `""`), "2026-01-01", "9999-12-31", 1), 200, 400),
		raw("resolved before it started", strings.Replace(strings.Replace(alertWith("endsAt", `"2025-01-01T00:00:00Z"`),
			`"status":"firing","labels"`, `"status":"resolved","labels"`, 1), `"status":"firing","alerts"`, `"status":"resolved","alerts"`, 1), 200, 400),
		raw("\\u0000 in a label name", strings.Replace(alertWith("generatorURL", `""`), `{"alertname":"HostileType"}`,
			`{"alertname":"HostileNULName","a\u0000b":"x"}`, 1), 200, 400),
	)

	nul := hostileAlert("HostileNUL", map[string]string{"v": "a\x00b"})
	cs = append(cs, hostileCase{name: "\\u0000 in a label value", body: webhookBody(t, "firing", nul),
		codes: []int{200}, stored: "HostileNUL", flags: []string{"nul-byte"}})

	// Invalid UTF-8 cannot be produced by json.Marshal: splice the bytes in by hand.
	bad := bytes.Replace(webhookBody(t, "firing", hostileAlert("HostileUTF8", map[string]string{"v": "PLACEHOLDER"})),
		[]byte("PLACEHOLDER"), []byte("a\xff\xfeb"), 1)
	cs = append(cs, hostileCase{name: "invalid UTF-8 in a label value", body: bad,
		codes: []int{200}, stored: "HostileUTF8", flags: []string{"invalid-utf8"}})

	many := map[string]string{}
	for i := 0; i < 1000; i++ {
		many[fmt.Sprintf("label_%04d", i)] = fmt.Sprintf("value %d", i)
	}
	cs = append(cs, hostileCase{name: "1,000 labels", body: webhookBody(t, "firing", hostileAlert("HostileManyLabels", many)),
		codes: []int{200}, stored: "HostileManyLabels"})

	cs = append(cs, hostileCase{name: "64 KiB label value",
		body:  webhookBody(t, "firing", hostileAlert("HostileLong", map[string]string{"v": strings.Repeat("x", 64<<10)})),
		codes: []int{200}, stored: "HostileLong", flags: []string{"truncated"}})

	// A 10 MB valid payload: 1,000 alerts with a 10 KB annotation each.
	var big []map[string]any
	for i := 0; i < 1000; i++ {
		a := hostileAlert("HostileBig", map[string]string{"instance": fmt.Sprint(i)})
		a["annotations"] = map[string]string{"description": strings.Repeat("d", 10<<10)}
		big = append(big, a)
	}
	bigBody := webhookBody(t, "firing", big...)
	if len(bigBody) < 10e6 || len(bigBody) > hostileMaxBody {
		t.Fatalf("the 10 MB payload is %d bytes", len(bigBody))
	}
	cs = append(cs, hostileCase{name: "10 MB valid payload", body: bigBody, codes: []int{200}, stored: "HostileBig"})

	pad := func(n int) []byte {
		return []byte(`{"version":"4","receiver":"r","status":"firing","alerts":[],"pad":"` + strings.Repeat("x", n) + `"}`)
	}
	cs = append(cs,
		hostileCase{name: "just over max_body", body: pad(hostileMaxBody + 1), codes: []int{413}},
		hostileCase{name: "far over max_body", body: pad(3 * hostileMaxBody), codes: []int{413}, resetOK: true},
	)

	// A gzip bomb: 256 MiB of zeros (twenty times max_body) in a quarter of a megabyte.
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestSpeed)
	zeros := make([]byte, 1<<20)
	for i := 0; i < 256; i++ {
		zw.Write(zeros)
	}
	zw.Close()
	var zgood bytes.Buffer
	zw = gzip.NewWriter(&zgood)
	zw.Write(good)
	zw.Close()
	for _, enc := range [][]string{{"gzip"}, {"GZIP"}, {"deflate"}, {"br"}, {"gzip, identity"}, {"identity", "gzip"}} {
		var hdr [][2]string
		for _, e := range enc {
			hdr = append(hdr, [2]string{"Content-Encoding", e})
		}
		name := "Content-Encoding " + strings.Join(enc, " + ")
		cs = append(cs,
			hostileCase{name: name + ": gzip bomb", body: bomb.Bytes(), header: hdr, codes: []int{415}},
			hostileCase{name: name + ": gzipped valid payload", body: zgood.Bytes(), header: hdr, codes: []int{415}},
		)
	}
	return cs
}

// postRaw sends body to the webhook with headers in order (repeats kept) and returns status and body.
func postRaw(t *testing.T, url string, body []byte, header [][2]string) (int, string, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/api/v1/alertmanager/webhook", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for _, h := range header {
		req.Header.Add(h[0], h[1])
	}
	client := &http.Client{Timeout: 60 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b), nil
}

// Scenario 7: malformed and hostile webhook bodies are answered 400, 413 or 415, or stored with a
// flag; never a panic, never a 5xx (Alertmanager would retry a 5xx for ever).
func TestReliabilityHostileWebhookInput(t *testing.T) {
	cfg := fmt.Sprintf("paging_receivers: [opsreview]\nwebhook: {max_body: %d}\n", hostileMaxBody)
	p := startProgram(t, storetestURL(t), cfg, "")
	began := time.Now()
	corpus := hostileCorpus(t)
	t.Logf("corpus of %d requests built in %v", len(corpus), time.Since(began).Round(time.Millisecond))
	for _, tc := range corpus {
		began := time.Now()
		code, body, err := postRaw(t, p.URL, tc.body, tc.header)
		if d := time.Since(began); d > 500*time.Millisecond {
			t.Logf("%s: %v", tc.name, d)
		}
		if err != nil {
			if !tc.resetOK {
				t.Errorf("%s: no answer: %v", tc.name, err)
			}
			continue
		}
		if !slices.Contains(tc.codes, code) {
			t.Errorf("%s: answered %d %.300s, want one of %v", tc.name, code, body, tc.codes)
			continue
		}
		if code != 200 && !strings.Contains(body, `"error"`) && code != 413 {
			t.Errorf("%s: a refusal must say why in {\"error\": …}, got %.300s", tc.name, body)
		}
		if tc.stored == "" {
			continue
		}
		eps := p.episodes(t, tc.stored)
		if len(eps) == 0 {
			t.Errorf("%s: answered %d but nothing stored for %s", tc.name, code, tc.stored)
			continue
		}
		for _, f := range tc.flags {
			if !slices.Contains(eps[0].Flags, f) {
				t.Errorf("%s: stored without the %q flag: flags %v", tc.name, f, eps[0].Flags)
			}
		}
	}
	if m := p.metric(t, `opsreview_webhook_requests_total{code="5`); m != "" {
		t.Errorf("bad input was answered with a server error:\n%s", m)
	}
	if strings.Contains(p.logs.String(), "panic") {
		t.Errorf("opsreview logged a panic:\n%s", p.logs.String())
	}
	if resp, err := http.Get(p.URL + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("opsreview is not ready after the corpus: %v", err)
	}
}

// Scenario 7 with a real Alertmanager: an alert whose text opsreview must repair (a NUL byte, a
// 64 KiB annotation, 1,000 labels) is stored and flagged, so Alertmanager's failed-notification
// counter stops rising instead of retrying for ever.
func TestReliabilityAlertmanagerStopsRetryingAFlaggedAlert(t *testing.T) {
	ctx := upstreamtest.Context(t)
	addr := freeAddr(t)
	am := upstreamtest.StartAlertmanager(t, upstreamtest.AlertmanagerOptions{
		WebhookURL: "http://" + addr + "/api/v1/alertmanager/webhook",
		GroupBy:    []string{"alertname"},
	})
	p := startProgram(t, storetestURL(t), "paging_receivers: [opsreview]\n", addr)
	labels := map[string]string{"alertname": "HostileViaAlertmanager", "nul": "a\x00b"}
	for i := 0; i < 1000; i++ {
		labels[fmt.Sprintf("label_%04d", i)] = fmt.Sprint(i)
	}
	if err := am.PostAlerts(ctx, []upstreamtest.Alert{{Labels: labels,
		Annotations: map[string]string{"description": strings.Repeat("y", 64<<10)},
		StartsAt:    time.Now().Add(-time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the flagged alert to be stored", 30*time.Second, func() bool {
		eps := p.episodes(t, "HostileViaAlertmanager")
		return len(eps) == 1 && slices.Contains(eps[0].Flags, "nul-byte") && slices.Contains(eps[0].Flags, "truncated")
	})
	// The counter may still move while the first delivery's answer travels back; over three group
	// intervals after that it must not.
	// Requests that failed are retried; notifications that failed were given up after retries.
	time.Sleep(time.Second)
	for _, name := range []string{"alertmanager_notifications_failed_total", "alertmanager_notification_requests_failed_total"} {
		before := amWebhookCounter(t, am.URL, name)
		time.Sleep(3 * time.Second)
		if after := amWebhookCounter(t, am.URL, name); after != before {
			t.Fatalf("%s for the webhook rose from %v to %v after opsreview stored the alert", name, before, after)
		}
		if before != 0 {
			t.Errorf("Alertmanager counted %s %v for a payload opsreview can store", name, before)
		}
	}
}

// amFailedNotifications sums alertmanager_notifications_failed_total (notifications given up after
// their retries) for webhook integrations.
func amFailedNotifications(t *testing.T, base string) float64 {
	t.Helper()
	return amWebhookCounter(t, base, "alertmanager_notifications_failed_total")
}

// amWebhookCounter sums an Alertmanager counter over its webhook integration series.
func amWebhookCounter(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var sum float64
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, name+"{") && strings.Contains(l, `integration="webhook"`) {
			var v float64
			fmt.Sscan(l[strings.LastIndexByte(l, ' ')+1:], &v)
			sum += v
		}
	}
	return sum
}
