package server

import (
	"encoding/json"
	"math/rand"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/opsreview/opsreview/config"
)

// shuffleAlert is one alert of a generated notification.
type shuffleAlert struct {
	instance   string
	start, end time.Time // zero end: firing
}

// shuffleNotification renders a version 4 webhook payload for the group of alertname ShuffleGroup.
func shuffleNotification(t *testing.T, status string, alerts ...shuffleAlert) []byte {
	t.Helper()
	var as []map[string]any
	for _, a := range alerts {
		st, end := "firing", "0001-01-01T00:00:00Z"
		if !a.end.IsZero() {
			st, end = "resolved", a.end.Format(time.RFC3339Nano)
		}
		as = append(as, map[string]any{"status": st, "startsAt": a.start.Format(time.RFC3339Nano), "endsAt": end,
			"labels": map[string]string{"alertname": "ShuffleGroup", "instance": a.instance, "severity": "page"}})
	}
	b, err := json.Marshal(map[string]any{"version": "4", "receiver": "pager", "status": status,
		"groupKey": `{}:{alertname="ShuffleGroup"}`, "groupLabels": map[string]string{"alertname": "ShuffleGroup"},
		"alerts": as})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// shuffleDeliveries is what Alertmanager sends, in order, for a group whose alerts fire, resolve
// and fire again, as two replicas that were told starts 300 ms apart.
func shuffleDeliveries(t *testing.T) [][]byte {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	replica := func(a shuffleAlert) shuffleAlert { a.start = a.start.Add(300 * time.Millisecond); return a }
	a1, b1 := shuffleAlert{"a", at(0), time.Time{}}, shuffleAlert{"b", at(1), time.Time{}}
	a1end, b1end := shuffleAlert{"a", at(0), at(10)}, shuffleAlert{"b", at(1), at(12)}
	a2, a2end := shuffleAlert{"a", at(40), time.Time{}}, shuffleAlert{"a", at(40), at(45)}
	c1 := shuffleAlert{"c", at(50), time.Time{}}
	return [][]byte{
		shuffleNotification(t, "firing", a1),
		shuffleNotification(t, "firing", replica(a1)),
		shuffleNotification(t, "firing", a1, b1),
		shuffleNotification(t, "firing", replica(a1), replica(b1)),
		shuffleNotification(t, "firing", b1, a1end), // a resolved while b fires
		shuffleNotification(t, "resolved", a1end, b1end),
		shuffleNotification(t, "resolved", replica(a1end), replica(b1end)),
		shuffleNotification(t, "firing", a2),
		shuffleNotification(t, "resolved", a2end),
		shuffleNotification(t, "firing", c1), // still firing at the end
		shuffleNotification(t, "firing", replica(c1)),
	}
}

// Scenario 5: every notification delivered three times plus a full replay, shuffled (so resolves
// arrive before their firing and stale firings after their resolve), from two replicas with
// different startsAt: the same stored state as one clean delivery, one episode per true episode.
func TestWebhookShuffledDuplicatesLeaveTheSameRowsAsOnce(t *testing.T) {
	once := newTestServer(t, "", func(c *config.Config) { c.PagingReceivers = []string{"pager"} })
	for _, b := range shuffleDeliveries(t) {
		if code, body := once.postWebhook(t, b); code != 200 {
			t.Fatalf("clean delivery answered %d: %s", code, body)
		}
	}
	want := storedState(t, once)
	if n := strings.Count(strings.Join(want, "\n"), "episode "); n != 4 {
		t.Fatalf("want 4 episodes (a twice, b, c), got %d:\n%s", n, strings.Join(want, "\n"))
	}
	trials := 3
	if os.Getenv("OPSREVIEW_SOAK") != "" {
		trials = 20
	}
	for trial := 0; trial < trials; trial++ {
		ts := newTestServer(t, "", func(c *config.Config) { c.PagingReceivers = []string{"pager"} })
		var all [][]byte
		for k := 0; k < 3; k++ {
			all = append(all, shuffleDeliveries(t)...)
		}
		rand.New(rand.NewSource(int64(trial))).Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		all = append(all, shuffleDeliveries(t)...) // the full replay, in order, after the storm
		for i, b := range all {
			if code, body := ts.postWebhook(t, b); code != 200 {
				t.Fatalf("trial %d: delivery %d answered %d: %s", trial, i, code, body)
			}
		}
		if got := storedState(t, ts); !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: shuffled duplicates stored\n%s\nbut one clean delivery stored\n%s",
				trial, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
