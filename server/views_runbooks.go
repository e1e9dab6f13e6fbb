package server

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/opsreview/opsreview/review"
)

// RunbooksView is the data of the Runbooks page: every runbook, ranked by risk.
type RunbooksView struct {
	Now      time.Time
	Demo     bool
	Title    string
	Items    []RunbookRow
	Counts   map[string]int // per status
	Statuses []StatusCount  // the counts, worst status first
	MaxAge   time.Duration  // runbooks.max_age
	Window   time.Duration  // how far back fires are counted for risk
	// The two durations as people say them ("28 days").
	WindowText, MaxAgeText string
}

// StatusCount is how many runbooks have a status.
type StatusCount struct {
	Status string
	N      int
}

// RunbookRow is one runbook (or one alert with none) as a table row. It carries the page's Now
// and CSRF token so that the row renders alone, as the fragment "mark reviewed" returns.
type RunbookRow struct {
	Now          time.Time
	CSRF         string
	ID           string // DOM id, stable per URL (or per alert, for a missing runbook)
	URL          string // as the alert gave it: shown as text, never as a link unless Link is set
	Link         string // URL when it is an absolute http(s) URL, else ""
	Status       string // ok, stale, missing, broken
	Why          string // one line: why that status
	FirstSeen    time.Time
	LastChanged  *time.Time
	LastReviewed *time.Time
	ReviewedBy   string
	CheckedAt    *time.Time
	Alerts       []string
	Fires        int
	Risk         float64
	Staleness    float64
	// Reviewable: a URL that alerts point to can be marked reviewed (a missing one cannot).
	Reviewable bool
	Context    string // "runbooks" or "review": which row template the fragment uses
}

// RunbooksSectionView is the runbooks section of the weekly review (templates/partials/
// runbooks_section.html, template "runbooks_section"): alerts that fired in the week with no
// runbook, a broken one or a stale one, ranked by risk. Build it with Server.runbooksSection.
type RunbooksSectionView struct {
	Now    time.Time
	Week   string // 2026-W47
	Team   string // "" for every team
	MaxAge time.Duration
	Items  []RunbookRow // one per alert and runbook; Alerts holds the one alert
	More   *listMore    // on the review: how many items there are and the links to all or the top
}

// runbookRow turns a ranked runbook into a row.
func runbookRow(r review.RankedRunbook, now time.Time, maxAge time.Duration, csrf, context string) RunbookRow {
	row := RunbookRow{
		Now: now, CSRF: csrf, URL: r.URL, Link: safeURL(r.URL), Status: r.Status, FirstSeen: r.FirstSeen,
		LastChanged: r.LastModified, LastReviewed: r.LastReviewed, ReviewedBy: r.ReviewedBy,
		CheckedAt: r.CheckedAt, Alerts: r.Alerts, Fires: r.Fires, Risk: r.Risk, Staleness: r.Staleness,
		Reviewable: review.UsableRunbookURL(r.URL), Context: context,
	}
	if !review.UsableRunbookURL(r.URL) {
		row.Link = ""
	}
	h := fnv.New64a()
	h.Write([]byte(r.URL))
	if r.URL == "" {
		for _, a := range r.Alerts {
			h.Write([]byte("\x00" + a))
		}
	}
	if context == "review" {
		for _, a := range r.Alerts {
			h.Write([]byte("\x01" + a))
		}
	}
	row.ID = fmt.Sprintf("rb-%016x", h.Sum64())
	row.Why = runbookWhy(r, now, maxAge)
	return row
}

// days says a duration in whole days when it is one ("90 days"), else as dur does.
func days(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		if d == day {
			return "1 day"
		}
		return fmt.Sprintf("%d days", d/day)
	}
	return dur(d)
}

// runbookWhy explains a status in one line.
func runbookWhy(r review.RankedRunbook, now time.Time, maxAge time.Duration) string {
	switch r.Status {
	case review.RunbookMissing:
		return "the alert has no runbook annotation"
	case review.RunbookBroken:
		switch {
		case !review.UsableRunbookURL(r.URL):
			return "not an http(s) URL: never linked or fetched"
		case r.CheckError != "":
			return r.CheckError
		default:
			return fmt.Sprintf("HTTP %d", r.StatusCode)
		}
	case review.RunbookStale:
		return fmt.Sprintf("untouched for %s (max %s)", days(now.Sub(r.LastTouched()).Truncate(24*time.Hour)), days(maxAge))
	}
	if r.CheckedAt == nil {
		return "not checked yet"
	}
	return ""
}
