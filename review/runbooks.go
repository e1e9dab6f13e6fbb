package review

import (
	"cmp"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Runbook statuses, as PRODUCT.md names them.
const (
	RunbookOK      = "ok"
	RunbookStale   = "stale"
	RunbookMissing = "missing"
	RunbookBroken  = "broken"
)

// RiskWindow is how far back "fired recently" looks when the runbooks page ranks by risk.
const RiskWindow = 28 * 24 * time.Hour

// RunbookState is what is known of one runbook URL: when it was first linked from an alert,
// the last check's outcome, and the last review.
type RunbookState struct {
	URL          string
	FirstSeen    time.Time
	CheckedAt    *time.Time // nil: never checked
	StatusCode   int        // HTTP status of the last check; 0 when it got no answer
	CheckError   string     // why the last check failed ("" when it got an answer)
	LastModified *time.Time // the Last-Modified the page reported: its last change
	LastReviewed *time.Time
	ReviewedBy   string
}

// LastTouched is the latest of the last change and the last review; with neither known it is
// when the runbook was first seen, so a runbook nobody ever touched ages from its discovery.
func (r RunbookState) LastTouched() time.Time {
	var t time.Time
	if r.LastModified != nil {
		t = *r.LastModified
	}
	if r.LastReviewed != nil && r.LastReviewed.After(t) {
		t = *r.LastReviewed
	}
	if t.IsZero() {
		return r.FirstSeen
	}
	return t
}

// UsableRunbookURL reports whether s is an absolute http or https URL with a host: the only
// kind of runbook URL opsreview links to or checks. Anything else (javascript:, data:,
// scheme-relative //host, relative paths) counts as broken.
func UsableRunbookURL(s string) bool {
	if s != strings.TrimSpace(s) || strings.ContainsAny(s, "\x00\r\n\t") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	return scheme == "http" || scheme == "https"
}

// RunbookStatus classifies a runbook: missing when there is no URL; broken when the URL is not
// usable or its last check failed (no answer, or an HTTP error status); stale when neither
// changed nor reviewed for maxAge (counted from first seen when neither date is known); else ok.
// A runbook not yet checked is judged by its dates alone.
func RunbookStatus(r RunbookState, now time.Time, maxAge time.Duration) string {
	switch {
	case r.URL == "":
		return RunbookMissing
	case !UsableRunbookURL(r.URL):
		return RunbookBroken
	case r.CheckedAt != nil && (r.CheckError != "" || r.StatusCode < 200 || r.StatusCode >= 400):
		return RunbookBroken
	case now.Sub(r.LastTouched()) > maxAge:
		return RunbookStale
	}
	return RunbookOK
}

// Staleness says how stale a runbook is, in units of maxAge: 0 just after a change or review,
// 1 at maxAge, above 1 once stale. A broken or missing runbook helps nobody whatever its age, so
// it counts as at least 2 (one max_age worse than one that has just gone stale).
func Staleness(r RunbookState, now time.Time, maxAge time.Duration) float64 {
	if maxAge <= 0 {
		maxAge = 90 * 24 * time.Hour
	}
	return staleness(r, now, maxAge, RunbookStatus(r, now, maxAge))
}

// staleness is Staleness for a maxAge above zero and r's status under it.
func staleness(r RunbookState, now time.Time, maxAge time.Duration, status string) float64 {
	s := max(now.Sub(r.LastTouched()).Hours()/maxAge.Hours(), 0)
	switch status {
	case RunbookBroken, RunbookMissing:
		return max(s, 1) + 1
	}
	return s
}

// RunbookRisk is how much a runbook matters to fix: how often the alerts that point to it fired
// recently, times how stale it is. Rounded to two decimals so that it reads and compares cleanly.
func RunbookRisk(fires int, staleness float64) float64 {
	if fires <= 0 || staleness <= 0 {
		return 0
	}
	return math.Round(float64(fires)*staleness*100) / 100
}

// statusRank orders statuses from the one that needs attention most.
func statusRank(s string) int {
	switch s {
	case RunbookBroken:
		return 0
	case RunbookMissing:
		return 1
	case RunbookStale:
		return 2
	}
	return 3
}

// RankedRunbook is one runbook (or one alert without a runbook) with its status and risk.
type RankedRunbook struct {
	RunbookState
	Alerts    []string // alertnames that point to it (for missing: the alert that has none)
	Fires     int      // episodes of those alerts that started in the window
	Status    string
	Staleness float64
	Risk      float64
}

// RankRunbooks computes each runbook's status, staleness and risk and sorts them by risk,
// highest first; ties go to the worse status, then the staler one, then by URL and alert.
func RankRunbooks(rs []RankedRunbook, now time.Time, maxAge time.Duration) []RankedRunbook {
	ranked := make([]RankedRunbook, len(rs))
	for i, r := range rs {
		r.Status = RunbookStatus(r.RunbookState, now, maxAge)
		if maxAge > 0 {
			r.Staleness = staleness(r.RunbookState, now, maxAge, r.Status) // the status just computed
		} else {
			r.Staleness = Staleness(r.RunbookState, now, maxAge)
		}
		r.Risk = RunbookRisk(r.Fires, r.Staleness)
		ranked[i] = r
	}
	// Sorted by index, compared in place: a runbook is some 200 bytes, and sorting the values
	// moved and copied them (with write barriers) a few hundred thousand times for 2,000 runbooks.
	order := make([]int, len(ranked))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		a, b := &ranked[i], &ranked[j]
		if a.Risk != b.Risk {
			return cmp.Compare(b.Risk, a.Risk)
		}
		if ra, rb := statusRank(a.Status), statusRank(b.Status); ra != rb {
			return cmp.Compare(ra, rb)
		}
		if a.Staleness != b.Staleness {
			return cmp.Compare(b.Staleness, a.Staleness)
		}
		if a.URL != b.URL {
			return strings.Compare(a.URL, b.URL)
		}
		return strings.Compare(strings.Join(a.Alerts, ","), strings.Join(b.Alerts, ","))
	})
	out := make([]RankedRunbook, len(ranked))
	for k, i := range order {
		out[k] = ranked[i]
	}
	return out
}

// RunbookAgenda is the runbooks section of the weekly review: of rows (one per alert that fired
// in the week and each runbook it points to, or none), those whose runbook is missing, broken or
// stale, ranked by risk.
func RunbookAgenda(rows []RankedRunbook, now time.Time, maxAge time.Duration) []RankedRunbook {
	var out []RankedRunbook
	for _, r := range RankRunbooks(rows, now, maxAge) {
		if r.Status != RunbookOK {
			out = append(out, r)
		}
	}
	return out
}
