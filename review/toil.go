package review

import (
	"math"
	"slices"
	"sort"
	"time"
)

// ToilPage is one page as toil counts it: a firing notification to a paging receiver that carried at least one
// episode the receiver had not been notified of before. At is when it was received.
type ToilPage struct {
	NotificationID int64
	At             time.Time
	Team           string   // the owning team of its new episodes ("" unassigned)
	Rules          []string // alertnames of its new episodes: one page for each of those rules
	Hours          string   // business, evening or sleep, in the owning team's timezone
	Minutes        int      // what the page costs (the team's minutes_per_page)
}

// ToilPagesOf groups pages (one per notification and rule, oldest first) into one page per
// notification: it lists the rules of its new episodes, sorted, and takes the team of its first row.
// Hours and Minutes are left for the caller, which knows the teams.
func ToilPagesOf(pages []Page) []ToilPage {
	var out []ToilPage
	idx := map[int64]int{}
	for _, r := range pages {
		i, ok := idx[r.NotificationID]
		if !ok {
			i = len(out)
			idx[r.NotificationID] = i
			out = append(out, ToilPage{NotificationID: r.NotificationID, At: r.At, Team: r.Team})
		}
		if p := &out[i]; !slices.Contains(p.Rules, r.Alertname) {
			p.Rules = append(p.Rules, r.Alertname)
		}
	}
	for i := range out {
		slices.Sort(out[i].Rules)
	}
	return out
}

// ToilEntry is toil logged by hand.
type ToilEntry struct {
	ID        int64     `json:"id"`
	Team      string    `json:"team"`
	Minutes   int       `json:"minutes"`
	Category  string    `json:"category"`
	Note      string    `json:"note"`
	Alertname string    `json:"alertname"`
	At        time.Time `json:"at"`
	Who       string    `json:"who"`
	CreatedAt time.Time `json:"created_at"`
}

// ToilSummary is a week of toil for one team (or all): what was counted and what was logged.
type ToilSummary struct {
	Pages             int          `json:"pages"` // distinct notifications
	PagesByHours      PagesByHours `json:"pages_by_hours"`
	InterruptedHours  int          `json:"interrupted_hours"` // hours of the week with at least one page
	RepeatOffenders   []Offender   `json:"repeat_offenders"`  // rules paging RepeatOffenderPages or more times
	PageMinutes       int          `json:"page_minutes"`
	ManualMinutes     int          `json:"manual_minutes"`
	TotalHours        float64      `json:"total_hours"`
	BudgetHours       float64      `json:"budget_hours"`
	BudgetShare       float64      `json:"budget_share"` // total over budget: 1 is the whole budget
	OverBudget        bool         `json:"over_budget"`
	InterruptedByHour []time.Time  `json:"-"` // start of each interrupted hour, in order
}

// SummarizeToil adds up a week of toil. Pages and entries are taken as given: the caller chose
// the week, the team and the pages' hours classes and costs. An interrupted hour is a clock hour
// in loc (the team's timezone) with at least one page; across a DST change the repeated or
// skipped hour is counted as the clock shows it, so a week may have 167 or 169 hours.
func SummarizeToil(pages []ToilPage, entries []ToilEntry, budget time.Duration, loc *time.Location) ToilSummary {
	if loc == nil {
		loc = time.UTC
	}
	var s ToilSummary
	seen := map[int64]bool{}
	hours := map[time.Time]bool{}
	perRule := map[string]int{}
	for _, p := range pages {
		for _, r := range uniq(p.Rules) {
			perRule[r]++
		}
		if seen[p.NotificationID] {
			continue
		}
		seen[p.NotificationID] = true
		s.Pages++
		s.PagesByHours.Add(p.Hours)
		s.PageMinutes += p.Minutes
		hours[HourStart(p.At, loc)] = true
	}
	for _, e := range entries {
		s.ManualMinutes += e.Minutes
	}
	s.InterruptedHours = len(hours)
	for h := range hours {
		s.InterruptedByHour = append(s.InterruptedByHour, h)
	}
	sort.Slice(s.InterruptedByHour, func(i, j int) bool { return s.InterruptedByHour[i].Before(s.InterruptedByHour[j]) })
	s.RepeatOffenders = RepeatOffenders(perRule, RepeatOffenderPages)
	s.TotalHours = round2(float64(s.PageMinutes+s.ManualMinutes) / 60)
	s.BudgetHours = round2(budget.Hours())
	if budget > 0 {
		s.BudgetShare = round2(float64(s.PageMinutes+s.ManualMinutes) / budget.Minutes())
		s.OverBudget = float64(s.PageMinutes+s.ManualMinutes) > budget.Minutes()
	}
	return s
}

// HourStart is the start of the clock hour in loc that t falls in, as an instant. Unlike
// truncating local wall time, it keeps the two 01:00 hours of a DST fall-back apart, and it
// follows zones whose offset is not a whole number of hours.
func HourStart(t time.Time, loc *time.Location) time.Time {
	_, off := t.In(loc).Zone()
	shift := time.Duration(off) * time.Second
	return t.Add(shift).Truncate(time.Hour).Add(-shift).In(loc)
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	out := xs[:0:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
