package server

import (
	"context"
	"net/url"
	"sort"
	"time"

	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// weeklyReview is the whole agenda of one week, section by section, in PRODUCT.md's order. The page,
// the Markdown export and GET /api/v1/review all render this one value.
type weeklyReview struct {
	Week        string          `json:"week"`
	Team        string          `json:"team"` // "" for every team
	Timezone    string          `json:"timezone"`
	From        time.Time       `json:"from"`
	To          time.Time       `json:"to"`
	Previous    string          `json:"previous_week"`
	Next        string          `json:"next_week"`
	FollowUps   []actionJSON    `json:"follow_ups"`
	NoisyAlerts []noisyRow      `json:"noisy_alerts"`
	Unassigned  []noisyRow      `json:"unassigned"`
	Normal      normalSection   `json:"normal"`
	Toil        toilSection     `json:"toil"`
	Runbooks    runbooksSection `json:"runbooks"`
	Changes     []changeJSON    `json:"changes"`
	ActionItems []actionJSON    `json:"action_items"` // decided in this week's review
	Summary     reviewSummary   `json:"summary"`
	Demo        bool            `json:"demo"` // the database holds made-up data from `opsreview demo`

	normalView NormalSectionView // the same section as the page renders it
	toilPages  []review.ToilPage // the week's pages of the team, one per notification, for the page's toil section
}

// normalSection is the "Know your normal" section in the review's JSON.
type normalSection struct {
	Available    bool                `json:"available"` // SLIs are configured
	MostAbnormal []normalAbnormalRow `json:"most_abnormal"`
	Moved        []normalMovedRow    `json:"moved"`
	NoData       []normalNoDataRow   `json:"no_data"`
}

type normalAbnormalRow struct {
	SLI             string  `json:"sli"`
	Service         string  `json:"service"`
	AbnormalSeconds float64 `json:"abnormal_seconds"`
	Runs            int     `json:"runs"`
}

type normalMovedRow struct {
	SLI     string  `json:"sli"`
	Service string  `json:"service"`
	Shift   float64 `json:"shift"` // relative change of the median: 0.12 is +12 %
	Hours   int     `json:"hours"`
}

type normalNoDataRow struct {
	SLI     string `json:"sli"`
	Service string `json:"service"`
	Hours   int    `json:"hours"`
}

// normalSectionJSON turns the "Know your normal" section into its JSON form.
func normalSectionJSON(v NormalSectionView, available bool) normalSection {
	out := normalSection{Available: available, MostAbnormal: []normalAbnormalRow{}, Moved: []normalMovedRow{}, NoData: []normalNoDataRow{}}
	for _, r := range v.MostAbnormal {
		out.MostAbnormal = append(out.MostAbnormal, normalAbnormalRow{SLI: r.Name, Service: r.Service, AbnormalSeconds: r.Abnormal.Seconds(), Runs: r.Runs})
	}
	for _, r := range v.Moved {
		out.Moved = append(out.Moved, normalMovedRow{SLI: r.Name, Service: r.Service, Shift: r.Shift, Hours: r.Hours})
	}
	for _, r := range v.NoData {
		out.NoData = append(out.NoData, normalNoDataRow{SLI: r.Name, Service: r.Service, Hours: r.Hours})
	}
	return out
}

// toilSection is the week's interrupt work: pages by hours class, interrupted hours, repeat offenders,
// and manual entries, against the toil budget.
type toilSection struct {
	Pages            int                 `json:"pages"` // distinct notifications
	PagesByHours     review.PagesByHours `json:"pages_by_hours"`
	InterruptedHours int                 `json:"interrupted_hours"`
	RepeatOffenders  []review.Offender   `json:"repeat_offenders"`
	MinutesPerPage   int                 `json:"minutes_per_page"`
	PageMinutes      int                 `json:"page_minutes"`
	// ManualEntries are the toil entries logged by hand this week (POST /api/v1/toil, the form).
	ManualEntries []review.ToilEntry `json:"manual_entries"`
	ManualMinutes int                `json:"manual_minutes"`
	TotalMinutes  int                `json:"total_minutes"`
	BudgetMinutes int                `json:"budget_minutes"`
	BudgetShare   float64            `json:"budget_share"` // total / budget
}

// BudgetPercent is the share of the toil budget used, as a whole percentage.
func (t toilSection) BudgetPercent() int { return int(t.BudgetShare*100 + 0.5) }

// runbooksSection lists alerts that fired this week with a runbook problem.
type runbooksSection struct {
	Missing []runbookAlert `json:"missing"`
	Broken  []runbookAlert `json:"broken"`
	Stale   []runbookAlert `json:"stale"`
}

// runbookAlert is an alert rule that fired, with its runbook.
type runbookAlert struct {
	Alertname string `json:"alertname"`
	Fires     int    `json:"fires"`
	URL       string `json:"url"`
	Status    string `json:"status"`
}

// reviewSummary counts the week and its decisions.
type reviewSummary struct {
	Fires            int            `json:"fires"`
	Rules            int            `json:"rules"`
	Pages            int            `json:"pages"`
	SleepPages       int            `json:"sleep_pages"`
	Verdicts         map[string]int `json:"verdicts"`
	ActionItemsAdded int            `json:"action_items_added"`
	FollowUpsOpen    int            `json:"follow_ups_open"`
	FollowUpsOverdue int            `json:"follow_ups_overdue"`
	ToilMinutes      int            `json:"toil_minutes"`
	BudgetMinutes    int            `json:"budget_minutes"`
	Changes          int            `json:"changes"`
	UnassignedRules  int            `json:"unassigned_rules"`
	MissingRunbooks  int            `json:"missing_runbooks"`
}

// actionJSON is an action item as the API shows it.
type actionJSON struct {
	store.ActionItem
	Due     string `json:"due"`
	Open    bool   `json:"open"`
	Overdue bool   `json:"overdue"`
}

func toActionJSON(a store.ActionItem, today time.Time) actionJSON {
	return actionJSON{ActionItem: a, Due: a.DueDate(), Open: a.Open(), Overdue: a.Overdue(today)}
}

// changeJSON is a change as the API shows it, with the alerts that fired within an hour after.
type changeJSON struct {
	ID          int64              `json:"id"`
	Service     string             `json:"service"`
	Kind        string             `json:"kind"`
	At          time.Time          `json:"at"`
	Who         string             `json:"who"`
	Summary     string             `json:"summary"`
	URL         string             `json:"url"`
	AlertsAfter []store.AlertAfter `json:"alerts_after"`
}

func toChangeJSON(c store.Change) changeJSON {
	j := changeJSON{ID: c.ID, Service: c.Service, Kind: c.Kind, At: c.At, Who: c.Who, Summary: c.Summary, URL: c.URL, AlertsAfter: c.AlertsAfter}
	if j.AlertsAfter == nil {
		j.AlertsAfter = []store.AlertAfter{}
	}
	return j
}

// today is the current date in loc, as a UTC midnight (how the store keeps dates).
func (s *Server) today(loc *time.Location) time.Time {
	y, m, d := s.now().In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// buildReview loads and computes the whole weekly review of a scope.
func (s *Server) buildReview(ctx context.Context, sc scope) (weeklyReview, error) {
	w := sc.Week
	rv := weeklyReview{
		Week: w.String(), Team: sc.teamName(), Timezone: sc.Loc.String(), From: w.Start.UTC(), To: w.End.UTC(),
		Previous: w.Previous().String(), Next: w.Next().String(),
		Normal: normalSectionJSON(NormalSectionView{}, len(s.cfg.SLIs) > 0), Demo: s.cfg.Demo,
	}
	// Episodes of the team and of nobody: one set of statements, split below.
	var teams []string
	if sc.Team != nil {
		teams = []string{*sc.Team}
		if *sc.Team != "" {
			teams = append(teams, "")
		}
	}
	// Every part below is read at once (together); the sections are then put together in order.
	// The noisy list's pages are the week's pages, read once for it and for the toil section.
	today := s.today(sc.Loc)
	var (
		noisy          noisyInputs
		pages          []review.Page
		weekly         map[string][]int
		normal         NormalSectionView
		manual         []review.ToilEntry
		manualMinutes  int
		items, decided []store.ActionItem
		changes        []store.Change
	)
	loads := append(s.noisyLoads(sc, teams, []string{w.String()}, &noisy, false),
		func(ctx context.Context) (err error) {
			pages, err = s.st(ctx).Pages(ctx, s.countFilter(sc, teams))
			return err
		},
		func(ctx context.Context) (err error) { weekly, err = s.weeksBefore(ctx, sc, teams); return err },
		func(ctx context.Context) (err error) { normal, err = s.NormalReview(ctx, w, sc.Team); return err },
		func(ctx context.Context) (err error) { manual, manualMinutes, err = s.manualToil(ctx, sc); return err },
		func(ctx context.Context) (err error) {
			items, err = s.st(ctx).ActionItems(ctx, store.ActionFilter{Team: sc.Team, FollowUpsOf: &w.Start, ClosedAfter: w.End, Today: today})
			return err
		},
		func(ctx context.Context) (err error) {
			decided, err = s.st(ctx).ActionItems(ctx, store.ActionFilter{Team: sc.Team, DecidedIn: &w.Start, Today: today})
			return err
		},
		func(ctx context.Context) (err error) {
			changes, err = s.st(ctx).Changes(ctx, s.countFilter(sc, teams))
			return err
		},
	)
	if err := together(ctx, loads...); err != nil {
		return rv, err
	}
	noisy.pages = s.pagesByHours(sc.From, sc.To, pageTimesOf(pages))
	rows := s.noisyFrom(ctx, sc, &noisy)
	owned := func(team string) bool { return sc.Team == nil || team == *sc.Team }
	rv.NoisyAlerts, rv.Unassigned = []noisyRow{}, []noisyRow{}
	for _, r := range rows {
		switch {
		case r.Team == "" && (sc.Team == nil || *sc.Team != ""):
			rv.Unassigned = append(rv.Unassigned, r)
		case owned(r.Team):
			rv.NoisyAlerts = append(rv.NoisyAlerts, r)
		}
	}
	addTrends(weekly, rv.NoisyAlerts, rv.Unassigned)
	var teamPages []review.Page
	for _, p := range pages {
		if sc.Team == nil || p.Team == *sc.Team {
			teamPages = append(teamPages, p)
		}
	}
	rv.Toil = s.toil(sc, teamPages)
	rv.toilPages = review.ToilPagesOf(teamPages)
	rv.Normal, rv.normalView = normalSectionJSON(normal, len(s.cfg.SLIs) > 0), normal
	rv.Toil.ManualEntries, rv.Toil.ManualMinutes = manual, manualMinutes
	rv.Toil.TotalMinutes = rv.Toil.PageMinutes + rv.Toil.ManualMinutes
	if rv.Toil.BudgetMinutes > 0 {
		rv.Toil.BudgetShare = float64(rv.Toil.TotalMinutes) / float64(rv.Toil.BudgetMinutes)
	}
	rv.Runbooks = runbookProblems(append(append([]noisyRow{}, rv.NoisyAlerts...), rv.Unassigned...))

	rv.FollowUps = make([]actionJSON, len(items))
	for i, a := range items {
		rv.FollowUps[i] = toActionJSON(a, today)
	}
	rv.ActionItems = make([]actionJSON, len(decided))
	for i, a := range decided {
		rv.ActionItems[i] = toActionJSON(a, today)
	}
	rv.Changes = make([]changeJSON, len(changes))
	for i, c := range changes {
		rv.Changes[i] = toChangeJSON(c)
	}
	rv.Summary = summarize(rv)
	return rv, nil
}

// weeksBefore counts each rule's fires in each of the four weeks before the scope's (one statement).
func (s *Server) weeksBefore(ctx context.Context, sc scope, teams []string) (map[string][]int, error) {
	bounds := []time.Time{sc.Week.Start}
	for w := sc.Week; len(bounds) < 5; {
		w = w.Previous()
		bounds = append([]time.Time{w.Start}, bounds...)
	}
	return s.st(ctx).WeeklyFires(ctx, bounds, s.countFilter(sc, teams))
}

// addTrends sets each row's fires trend against the four weeks before (weeksBefore).
func addTrends(weekly map[string][]int, lists ...[]noisyRow) {
	for _, rows := range lists {
		for i := range rows {
			prev := weekly[rows[i].Alertname]
			if prev == nil {
				prev = make([]int, 4)
			}
			t := review.FiresTrend(rows[i].Fires, prev)
			rows[i].Trend = &t
		}
	}
}

// toil computes the automatic toil of a week from its pages, as the Toil page does
// (review.SummarizeToil): a team's page total counts distinct notifications, each classified and
// priced by the hours of the team its episodes belong to; a rule's pages count its rows.
func (s *Server) toil(sc scope, pages []review.Page) toilSection {
	tps := make([]review.ToilPage, len(pages))
	hoursTeam := s.cfg.HoursTeams()
	for i, p := range pages {
		team := hoursTeam(p.Team)
		tps[i] = review.ToilPage{NotificationID: p.NotificationID, At: p.At, Team: p.Team, Rules: []string{p.Alertname},
			Hours: team.HoursClass(p.At), Minutes: team.MinutesPerPage}
	}
	sum := review.SummarizeToil(tps, nil, 0, sc.Loc)
	t := toilSection{Pages: sum.Pages, PagesByHours: sum.PagesByHours, InterruptedHours: sum.InterruptedHours,
		RepeatOffenders: sum.RepeatOffenders, PageMinutes: sum.PageMinutes, ManualEntries: []review.ToilEntry{}}
	t.MinutesPerPage, t.BudgetMinutes = s.toilRates(sc.Team)
	return t
}

// toilRates is the minutes a page is worth and the weekly toil budget in minutes: the team's, or
// for every team the sum of the teams' budgets (the default team's when none is configured).
func (s *Server) toilRates(team *string) (int, int) {
	if team != nil || len(s.cfg.Teams) == 0 {
		name := ""
		if team != nil {
			name = *team
		}
		t := s.cfg.HoursTeam(name)
		return t.MinutesPerPage, int(time.Duration(t.ToilBudget) / time.Minute)
	}
	budget := 0
	for _, t := range s.cfg.Teams {
		budget += int(time.Duration(t.ToilBudget) / time.Minute)
	}
	return s.cfg.Teams[0].MinutesPerPage, budget
}

// manualToil returns the window's manual toil entries and their minutes.
func (s *Server) manualToil(ctx context.Context, sc scope) ([]review.ToilEntry, int, error) {
	entries, err := s.st(ctx).ToilEntries(ctx, sc.From, sc.To, sc.Team)
	if err != nil {
		return nil, 0, err
	}
	minutes := 0
	for _, e := range entries {
		minutes += e.Minutes
	}
	if entries == nil {
		entries = []review.ToilEntry{}
	}
	return entries, minutes, nil
}

// runbookProblems lists the rules that fired with a missing, broken or stale runbook, most fires first.
func runbookProblems(rows []noisyRow) runbooksSection {
	out := runbooksSection{Missing: []runbookAlert{}, Broken: []runbookAlert{}, Stale: []runbookAlert{}}
	for _, r := range rows {
		if r.Fires == 0 && r.Pages == 0 {
			continue
		}
		a := runbookAlert{Alertname: r.Alertname, Fires: r.Fires, URL: r.Runbook.URL, Status: r.Runbook.Status}
		switch r.Runbook.Status {
		case runbookMissing:
			out.Missing = append(out.Missing, a)
		case runbookBroken:
			out.Broken = append(out.Broken, a)
		case runbookStale:
			out.Stale = append(out.Stale, a)
		}
	}
	for _, l := range [][]runbookAlert{out.Missing, out.Broken, out.Stale} {
		sort.SliceStable(l, func(i, j int) bool { return l[i].Fires > l[j].Fires })
	}
	return out
}

func summarize(rv weeklyReview) reviewSummary {
	sm := reviewSummary{Verdicts: map[string]int{}, ActionItemsAdded: len(rv.ActionItems), Changes: len(rv.Changes),
		Pages: rv.Toil.Pages, SleepPages: rv.Toil.PagesByHours.Sleep, ToilMinutes: rv.Toil.TotalMinutes,
		BudgetMinutes: rv.Toil.BudgetMinutes, UnassignedRules: len(rv.Unassigned), MissingRunbooks: len(rv.Runbooks.Missing)}
	for _, v := range []string{review.VerdictActionable, review.VerdictNoise, review.VerdictNeedsTuning, review.VerdictUnreviewed} {
		sm.Verdicts[v] = 0
	}
	for _, r := range rv.NoisyAlerts {
		sm.Fires += r.Fires
		sm.Rules++
		sm.Verdicts[r.Verdict]++
	}
	for _, a := range rv.FollowUps {
		if a.Open {
			sm.FollowUpsOpen++
		}
		if a.Overdue {
			sm.FollowUpsOverdue++
		}
	}
	return sm
}

// reviewURL links to a week's review of the same team.
func reviewURL(week, team string) string {
	q := url.Values{"week": {week}}
	if team != "" {
		q.Set("team", team)
	}
	return "/review?" + q.Encode()
}
