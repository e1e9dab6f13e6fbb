// Package review holds opsreview's analysis: pure functions from values to numbers and decisions.
// No database, no clock (time is passed in), no HTTP.
package review

import "time"

// Road names how an alert report reached opsreview.
type Road string

// The roads by which alert history arrives.
const (
	RoadWebhook      Road = "webhook"      // Alertmanager pushed a notification
	RoadAlertmanager Road = "alertmanager" // Alertmanager's v2 API was polled
	RoadPrometheus   Road = "prometheus"   // rebuilt from the raw samples of ALERTS
)

// EndKind says how sure opsreview is of an episode's end. A higher kind wins over a lower one.
type EndKind int16

// End kinds, weakest first.
const (
	EndOpen     EndKind = 0 // still firing, as far as anyone told us
	EndInferred EndKind = 1 // the alert vanished from Alertmanager's API for two polls
	EndBackfill EndKind = 2 // the ALERTS samples stopped
	EndResolved EndKind = 3 // Alertmanager said resolved, with Prometheus's resolve time
)

// String names the end kind as stored and shown.
func (k EndKind) String() string {
	switch k {
	case EndInferred:
		return "inferred"
	case EndBackfill:
		return "backfill"
	case EndResolved:
		return "resolved"
	}
	return "open"
}

// AlertReport is one sighting of one alert instance, from any road.
type AlertReport struct {
	Fingerprint  uint64            // model.LabelSet.Fingerprint() of Labels (external labels included)
	Labels       map[string]string // includes alertname
	Annotations  map[string]string
	GeneratorURL string
	StartsAt     time.Time
	// EndsAt is when the alert ended; zero while it fires. A firing alert's endsAt from Alertmanager
	// is an expiry, not an end: it goes to ExpiresAt instead.
	EndsAt     time.Time
	EndKind    EndKind // the kind of EndsAt; EndOpen while firing
	ExpiresAt  time.Time
	ObservedAt time.Time // when opsreview received or read the report
	Road       Road
	Source     string // the configured source name ("" for the webhook)
	// Continues says the alert was already firing before StartsAt: StartsAt is where the window the
	// report was read from began (ALERTS history read in chunks), not a real start.
	Continues bool
	Team      string   // the owning team by config match labels; "" is unassigned
	Silenced  bool     // Alertmanager reported the alert as silenced
	Flags     []string // what was changed to make the report storable (truncated, escaped)
}

// Firing reports whether the report says the alert is still firing.
func (r AlertReport) Firing() bool { return r.EndKind == EndOpen }

// Alertname returns the alertname label.
func (r AlertReport) Alertname() string { return r.Labels["alertname"] }

// Episode is one firing interval of one alert instance.
type Episode struct {
	ID              int64
	Fingerprint     uint64
	Alertname       string
	Team            string // "" when no team's match labels fit ("unassigned")
	Labels          map[string]string
	Annotations     map[string]string
	GeneratorURL    string
	StartsAt        time.Time
	EndsAt          *time.Time // nil while open
	EndKind         EndKind
	ExpiresAt       *time.Time
	LastSeenAt      time.Time
	LastSeenBy      string // road and source that last reported it, e.g. "alertmanager:am"
	ViaWebhook      bool
	ViaAlertmanager bool
	ViaPrometheus   bool
	Silenced        bool
	Flags           []string
}

// Open reports whether the episode is still firing.
func (e Episode) Open() bool { return e.EndsAt == nil }

// Backfilled reports whether the episode is known only from Prometheus's ALERTS history.
func (e Episode) Backfilled() bool { return e.ViaPrometheus && !e.ViaWebhook && !e.ViaAlertmanager }

// Duration is how long the episode fired until its end, or until now while open.
func (e Episode) Duration(now time.Time) time.Duration {
	end := now
	if e.EndsAt != nil {
		end = *e.EndsAt
	}
	if end.Before(e.StartsAt) {
		return 0
	}
	return end.Sub(e.StartsAt)
}
