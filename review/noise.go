package review

import (
	"sort"
	"time"
)

// Verdicts: the team's classification of an alert rule in a given week.
const (
	VerdictActionable  = "actionable"
	VerdictNoise       = "noise"
	VerdictNeedsTuning = "needs-tuning"
	VerdictUnreviewed  = "unreviewed"
)

// ValidVerdict reports whether v is a verdict a person may give (unreviewed is the absence of one).
func ValidVerdict(v string) bool {
	return v == VerdictActionable || v == VerdictNoise || v == VerdictNeedsTuning
}

// RuleCounts are one alert rule's numbers for a window, as the store aggregates them. An episode
// counts when it starts in the window; FiringSeconds is the overlap of every episode with it.
type RuleCounts struct {
	Alertname     string
	Team          string // the team of the rule's latest episode; "" is unassigned
	Fires         int    // episodes that started in the window
	Flaps         int    // of those, flaps (see IsFlap)
	Silenced      int    // of those, silenced in Alertmanager
	FiringSeconds float64
	Annotations   map[string]string // of the latest episode
	GeneratorURL  string            // of the latest episode
}

// SilencedShare is the fraction of the window's fires that were silenced, 0 when nothing fired.
func (r RuleCounts) SilencedShare() float64 {
	if r.Fires == 0 {
		return 0
	}
	return float64(r.Silenced) / float64(r.Fires)
}

// Page is one page of one rule: a firing notification to a paging receiver that carried at least
// one new episode of the rule. A notification carrying new episodes of several rules is a page for
// each; NotificationID tells them apart when a team's distinct pages are counted.
type Page struct {
	NotificationID int64
	Alertname      string
	Team           string
	At             time.Time // when the notification was received
}

// IsFlap reports whether an episode is a flap: shorter than threshold, or starting within refire
// of the end of the previous episode of the same instance (prevEnd, nil when there is none or it is
// still open). An open episode is never short: it has not ended.
func IsFlap(e Episode, prevEnd *time.Time, threshold, refire time.Duration) bool {
	if e.EndsAt != nil && e.EndsAt.Sub(e.StartsAt) < threshold {
		return true
	}
	return prevEnd != nil && !e.StartsAt.Before(*prevEnd) && e.StartsAt.Sub(*prevEnd) <= refire
}

// CountFlaps counts flaps per alertname among the episodes that start in [from, to). eps must hold
// the earlier episodes of the same instances too: flaps look back across the window's start.
func CountFlaps(eps []Episode, from, to time.Time, threshold, refire time.Duration) map[string]int {
	sorted := append([]Episode(nil), eps...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].StartsAt.Before(sorted[j].StartsAt) })
	last := map[uint64]Episode{}
	out := map[string]int{}
	for _, e := range sorted {
		var prevEnd *time.Time
		if p, ok := last[e.Fingerprint]; ok {
			prevEnd = p.EndsAt
		}
		last[e.Fingerprint] = e
		if e.StartsAt.Before(from) || !e.StartsAt.Before(to) {
			continue
		}
		if IsFlap(e, prevEnd, threshold, refire) {
			out[e.Alertname]++
		}
	}
	return out
}

// FiringOverlap is how long [starts_at, ends_at or now) overlaps [from, to).
func FiringOverlap(e Episode, from, to, now time.Time) time.Duration {
	end := now
	if e.EndsAt != nil {
		end = *e.EndsAt
	}
	start := e.StartsAt
	if start.Before(from) {
		start = from
	}
	if end.After(to) {
		end = to
	}
	if !end.After(start) {
		return 0
	}
	return end.Sub(start)
}

// Hours classes, as config names them.
const (
	HoursBusiness = "business"
	HoursEvening  = "evening"
	HoursSleep    = "sleep"
)

// PagesByHours counts pages by when they landed in the owning team's timezone.
type PagesByHours struct {
	Business int `json:"business"`
	Evening  int `json:"evening"`
	Sleep    int `json:"sleep"`
}

// Total is every page.
func (p PagesByHours) Total() int { return p.Business + p.Evening + p.Sleep }

// Add counts one page of the hours class.
func (p *PagesByHours) Add(class string) {
	switch class {
	case HoursBusiness:
		p.Business++
	case HoursSleep:
		p.Sleep++
	default:
		p.Evening++
	}
}

// ClassifyPages counts page times by hours class; class is the owning team's HoursClass.
func ClassifyPages(times []time.Time, class func(time.Time) string) PagesByHours {
	var p PagesByHours
	for _, t := range times {
		p.Add(class(t))
	}
	return p
}
