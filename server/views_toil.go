package server

import (
	"time"

	"github.com/opsreview/opsreview/review"
)

// ToilView is the data of the Toil page: one week of one team's (or every team's) toil.
type ToilView struct {
	Now       time.Time
	Demo      bool
	Title     string
	Week      string // 2026-W47
	Prev      string // the week before, for the pager
	Next      string // the week after; "" when it has not started
	Team      string // "" for every team
	Teams     []string
	TimeZone  string
	WeekStart time.Time
	WeekEnd   time.Time
	WeekLabel string // "Mon 16 Nov – Sun 22 Nov 2026", in the team\'s timezone
	Section   ToilSectionView
}

// ToilSectionView is the toil section (templates/partials/toil_entries.html, template
// "toil_section") shared by the Toil page and the weekly review: the counted toil, the manual
// entries and the form that logs more. Build it with Server.toilSection.
type ToilSectionView struct {
	Now        time.Time
	CSRF       string
	Week       string
	Team       string // "" for every team
	TimeZone   string // of the team; UTC for every team
	Summary    review.ToilSummary
	Entries    []review.ToilEntry
	Pages      []review.ToilPage
	Grid       []ToilDay // hours of the week with pages, Monday first
	Alerts     []string  // alertnames that paged this week, offered in the form
	Categories []string  // suggested categories
	FormKey    string    // one-time key: a double-submitted form logs one entry
	Message    string    // after a save: what happened
	Error      string    // after a refused save: why
	BudgetPct  int       // share of the budget used, capped at 100 for the bar
	// Offenders: on the review, how many repeat offenders there are of those listed, with the
	// links to all and to the top; nil on the Toil page, which lists them all.
	Offenders *listMore
}

// ToilDay is one day of the interrupted-hours grid: pages per local clock hour.
type ToilDay struct {
	Label string
	Hours [24]int
}

// toilCategories are offered in the form; any other text is accepted too.
var toilCategories = []string{"incident", "manual fix", "deploy", "access request", "data fix", "investigation", "other"}
