package server

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/opsreview/opsreview/review"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	return b
}

func noTeam(map[string]string) string { return "" }

func TestDecodeRealFiringAndResolved(t *testing.T) {
	now := time.Date(2026, 11, 23, 19, 0, 0, 0, time.UTC)
	f, err := decodeWebhook(fixture(t, "am_webhook_firing.json"), now, noTeam)
	if err != nil {
		t.Fatal(err)
	}
	if f.Receiver != "hook" || f.Status != "firing" || len(f.Alerts) != 1 {
		t.Fatalf("unexpected notification %+v", f)
	}
	a := f.Alerts[0]
	// Our fingerprint must equal Alertmanager's own, or webhook and API never meet.
	if got := strings.TrimLeft(hex16(a.Fingerprint), "0"); got != "f012426a98fce58d" {
		t.Fatalf("fingerprint %s, Alertmanager says f012426a98fce58d", got)
	}
	if !a.Firing() || !a.ExpiresAt.IsZero() || a.Alertname() != "DemoHighErrorRatio" {
		t.Fatalf("firing alert decoded wrongly: %+v", a)
	}
	r, err := decodeWebhook(fixture(t, "am_webhook_resolved.json"), now, noTeam)
	if err != nil {
		t.Fatal(err)
	}
	ra := r.Alerts[0]
	if ra.Firing() || ra.EndKind != review.EndResolved || !ra.EndsAt.After(ra.StartsAt) {
		t.Fatalf("resolved alert decoded wrongly: %+v", ra)
	}
	if ra.Fingerprint != a.Fingerprint || !ra.StartsAt.Equal(a.StartsAt) {
		t.Fatal("firing and resolved of one alert must share fingerprint and start")
	}
}

func TestDecodeRejectsWithReason(t *testing.T) {
	good := string(fixture(t, "am_webhook_firing.json"))
	for _, tc := range []struct{ name, body, want string }{
		{"not json", "{", "malformed JSON"},
		{"wrong version", strings.Replace(good, `"version": "4"`, `"version": "3"`, 1), "unsupported webhook version"},
		{"no receiver", strings.Replace(good, `"receiver": "hook"`, `"receiver": ""`, 1), "receiver"},
		{"bad status", strings.Replace(good, `"status": "firing",
  "alerts"`, `"status": "burning",
  "alerts"`, 1), "status"},
		{"wrong type", strings.Replace(good, `"truncatedAlerts": 0`, `"truncatedAlerts": "many"`, 1), "truncatedAlerts"},
		{"no start", strings.Replace(good, `"startsAt": "2026-11-23T18:53:16.445Z"`, `"startsAt": "0001-01-01T00:00:00Z"`, 1), "alerts[0].startsAt"},
		{"two values", good + good, "more than one value"},
		{"start in year 0", strings.Replace(good, `"startsAt": "2026-11-23T18:53:16.445Z"`, `"startsAt": "0000-01-01T00:00:00Z"`, 1), "alerts[0].startsAt"},
		{"start before 1970", strings.Replace(good, `"startsAt": "2026-11-23T18:53:16.445Z"`, `"startsAt": "1969-12-31T23:59:59Z"`, 1), "alerts[0].startsAt"},
		{"start in year 9999", strings.Replace(good, `"startsAt": "2026-11-23T18:53:16.445Z"`, `"startsAt": "9999-12-31T23:59:59Z"`, 1), "alerts[0].startsAt"},
		{"expiry in year 0", strings.Replace(good, `"endsAt": "0001-01-01T00:00:00Z"`, `"endsAt": "0000-06-01T00:00:00Z"`, 1), "alerts[0].endsAt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeWebhook([]byte(tc.body), time.Now(), noTeam)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error mentioning %q, got %v", tc.want, err)
			}
		})
	}
}

func TestDecodeRepairsUnstorableText(t *testing.T) {
	body := strings.Replace(string(fixture(t, "am_webhook_firing.json")), `"env": "rt"`,
		`"env": "r\u0000t", "big": "`+strings.Repeat("x", 70000)+`"`, 1)
	n, err := decodeWebhook([]byte(body), time.Now(), noTeam)
	if err != nil {
		t.Fatal(err)
	}
	a := n.Alerts[0]
	if strings.ContainsRune(a.Labels["env"], 0) || len(a.Labels["big"]) > maxValueBytes+4 {
		t.Fatalf("unstorable text kept: %q, %d bytes", a.Labels["env"], len(a.Labels["big"]))
	}
	if strings.Join(a.Flags, ",") != "nul-byte,truncated" && strings.Join(a.Flags, ",") != "truncated,nul-byte" {
		t.Fatalf("want nul-byte and truncated flags, got %v", a.Flags)
	}
}

// encoding/json turns invalid UTF-8 into U+FFFD silently; the alert must still say it was repaired.
func TestDecodeFlagsInvalidUTF8(t *testing.T) {
	body := strings.Replace(string(fixture(t, "am_webhook_firing.json")), `"env": "rt"`, "\"env\": \"r\xff\xfet\"", 1)
	n, err := decodeWebhook([]byte(body), time.Now(), noTeam)
	if err != nil {
		t.Fatal(err)
	}
	if a := n.Alerts[0]; !utf8.ValidString(a.Labels["env"]) || !slices.Contains(a.Flags, flagInvalidUTF8) {
		t.Fatalf("want valid text flagged %s, got %q flagged %v", flagInvalidUTF8, a.Labels["env"], a.Flags)
	}
	good, err := decodeWebhook(fixture(t, "am_webhook_firing.json"), time.Now(), noTeam)
	if err != nil || len(good.Alerts[0].Flags) != 0 {
		t.Fatalf("a clean payload must carry no flags: %v %v", good.Alerts[0].Flags, err)
	}
}

func FuzzDecodeWebhook(f *testing.F) {
	f.Add(fixture(f, "am_webhook_firing.json"))
	f.Add(fixture(f, "am_webhook_resolved.json"))
	f.Add([]byte(`{"version":"4","receiver":"r","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"\u0000"},"startsAt":"2026-01-01T00:00:00Z"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := decodeWebhook(body, time.Unix(0, 0), noTeam)
		if err != nil {
			if _, ok := err.(*decodeError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		for _, a := range n.Alerts {
			for k, v := range a.Labels {
				if strings.ContainsRune(k+v, 0) || len(v) > maxValueBytes+4 {
					t.Fatalf("unstorable label %q=%q passed", k, v)
				}
			}
			if a.Alertname() == "" || a.StartsAt.IsZero() {
				t.Fatal("alert without alertname or start passed")
			}
		}
	})
}
