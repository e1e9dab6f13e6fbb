package server

import (
	"time"

	"github.com/opsreview/opsreview/review"
)

// reviewView is the data of the weekly review page.
type reviewView struct {
	Now    time.Time
	Demo   bool
	Title  string
	R      weeklyReview
	CSRF   string
	Teams  []string // configured team names, for the team switcher
	DueDef string   // default due date of a new action item: a week from today
	// Toil and Runbooks are the agenda's toil (with the form to log toil) and runbooks sections.
	Toil     ToilSectionView
	Runbooks RunbooksSectionView
	Normal   NormalSectionView
	// Links of the page: previous and next week, the Markdown export and the JSON.
	PrevURL, NextURL, MarkdownURL, APIURL string
	// Expand: which long lists are shown in full (noisy=all, unassigned=all, changes=all).
	Expand reviewExpand
	// shared: the page is rendered once for every viewer (sharedPage); each form key is keyMarker.
	shared bool
}

// Key returns a fresh idempotency key for one form.
func (v reviewView) Key() string {
	if v.shared {
		return keyMarker
	}
	return newKey()
}

// Span is the week's days in the team's timezone: "Mon 16 Nov – Sun 22 Nov 2026".
func (v reviewView) Span() string {
	loc, err := time.LoadLocation(v.R.Timezone)
	if err != nil {
		loc = time.UTC
	}
	from, last := v.R.From.In(loc), v.R.To.In(loc).AddDate(0, 0, -1)
	return from.Format("Mon 02 Jan") + " – " + last.Format("Mon 02 Jan 2006")
}

// Cell is a noisy row's verdict cell.
func (v reviewView) Cell(r noisyRow) verdictCell {
	return verdictCell{Alertname: r.Alertname, Week: v.R.Week, Team: v.R.Team, Verdict: r.Verdict, By: r.VerdictBy,
		At: r.VerdictAt, Version: r.VerdictVersion, CSRF: v.CSRF, Now: v.Now, shared: v.shared}
}

// FollowUp is a follow-up row's data.
func (v reviewView) FollowUp(a actionJSON) followUpView {
	return followUpView{Item: a, CSRF: v.CSRF, Week: v.R.Week, Team: v.R.Team, Now: v.Now}
}

// Decided is the data of the "decided this week" list and its form.
func (v reviewView) Decided() decidedView {
	return decidedView{Week: v.R.Week, Team: v.R.Team, CSRF: v.CSRF, Key: v.Key(), Items: v.R.ActionItems, DueDef: v.DueDef, Now: v.Now}
}

// EpisodesURL links to the episodes of the review's window (and team).
func (v reviewView) EpisodesURL() string {
	u := "/episodes?from=" + rfc3339(v.R.From) + "&to=" + rfc3339(v.R.To)
	if v.R.Team != "" {
		u += "&team=" + v.R.Team
	}
	return u
}

// Verdicts are the verdicts a person can give, in button order.
func (v reviewView) Verdicts() []string {
	return []string{review.VerdictActionable, review.VerdictNoise, review.VerdictNeedsTuning}
}

// verdictCell is one rule's verdict with the buttons to change it (the htmx fragment of a verdict).
type verdictCell struct {
	Alertname, Week, Team string
	Verdict, By           string
	At                    *time.Time
	Version               int
	Conflict              bool // the click was refused: someone else decided first
	CSRF                  string
	Now                   time.Time
	shared                bool // rendered within a shared page: the key is keyMarker
}

// Key returns a fresh idempotency key for the cell's form.
func (v verdictCell) Key() string {
	if v.shared {
		return keyMarker
	}
	return newKey()
}

// Verdicts are the verdicts a person can give, in button order.
func (v verdictCell) Verdicts() []string {
	return []string{review.VerdictActionable, review.VerdictNoise, review.VerdictNeedsTuning}
}

// followUpView is one follow-up row with its close and re-date forms (an htmx fragment).
type followUpView struct {
	Item     actionJSON
	Conflict bool
	CSRF     string
	Week     string
	Team     string
	Now      time.Time
}

// decidedView is the list of action items decided in a week's review, with the form to add one.
type decidedView struct {
	Week, Team string
	CSRF, Key  string
	Items      []actionJSON
	DueDef     string
	Now        time.Time
}

// alertsView is the data of the alert rules page: every rule that fired in the week.
type alertsView struct {
	Now     time.Time
	Demo    bool
	Title   string
	Week    string
	Team    string
	Rows    []noisyRow
	PrevURL string
	NextURL string
}

// alertView is the data of one alert rule's page.
type alertView struct {
	Now         time.Time
	Demo        bool
	Title       string
	Alertname   string
	Week        string
	From, To    time.Time
	Labels      map[string]string
	Annotations []label
	Runbook     runbookRef
	RunbookLink string // the runbook URL when it may be a link
	Generator   string
	SilenceURL  string
	Timeline    timeline
	Heatmap     heatmap
	Verdicts    []verdictHistoryRow
	Actions     []actionJSON
	Fires       int // episodes that start in [From, To)
	EpisodesURL string
	// The timeline draws the newest Latest episodes, or MaxDrawn with All; Cut when some are not
	// drawn, DrawnSince then the start of the oldest drawn.
	All                     bool
	Drawn, Latest, MaxDrawn int
	Cut                     bool
	DrawnSince              time.Time
	AllURL, LatestURL       string
}

// verdictHistoryRow is one past decision on the rule page.
type verdictHistoryRow struct {
	Week, Verdict, By string
	At                time.Time
	Version           int
}

// noisyTable is one table of noisy rows on the review page (owned alerts, or alerts nobody owns).
type noisyTable struct {
	V    reviewView
	Rows []noisyRow
	ID   string
}

// Table is the data of one noisy-alerts table.
func (v reviewView) Table(rows []noisyRow, id string) noisyTable {
	return noisyTable{V: v, Rows: rows, ID: id}
}

// TeamURL links to the same week's review of another team ("" for every team).
func (v reviewView) TeamURL(team string) string { return reviewURL(v.R.Week, team) }
