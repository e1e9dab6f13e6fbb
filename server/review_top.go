package server

import (
	"net/url"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/store"
)

// The weekly review's HTML agenda and its Markdown export show the top of each long list; the rest
// is one link away (noisy=all, unassigned=all, offenders=all, runbooks=all, changes=all on the
// same URL). Nobody reads 2,000
// rows in a meeting, and rendering them cost seconds. Counts, the summary and toil are computed
// from every row, and /api/v1/review returns every row.
const (
	reviewTopTeam  = 25 // noisy alerts, and alerts nobody owns, in one team's review
	reviewTopAll   = 50 // the same in the review of every team
	reviewTopAfter = 5  // alerts listed under each change
)

// reviewExpand says which of the review's long lists are shown in full.
type reviewExpand struct {
	Noisy, Unassigned, Offenders, Runbooks, Changes bool
}

// reviewExpandParams reads noisy=, unassigned=, offenders=, runbooks= and changes=: "all" shows that list in full;
// absent, empty or "top" shows its top.
func reviewExpandParams(c *fiber.Ctx) (reviewExpand, error) {
	var e reviewExpand
	for _, p := range []struct {
		name string
		to   *bool
	}{{"noisy", &e.Noisy}, {"unassigned", &e.Unassigned}, {"offenders", &e.Offenders}, {"runbooks", &e.Runbooks}, {"changes", &e.Changes}} {
		switch v := c.Query(p.name); v {
		case "", "top":
		case "all":
			*p.to = true
		default:
			return e, badRequest(p.name + `: want "all" or "top", got ` + strconv.Quote(v))
		}
	}
	return e, nil
}

// key names the combination in the page cache.
func (e reviewExpand) key() string {
	k := ""
	for _, f := range []struct {
		on   bool
		name string
	}{{e.Noisy, " noisy"}, {e.Unassigned, " unassigned"}, {e.Offenders, " offenders"}, {e.Runbooks, " runbooks"}, {e.Changes, " changes"}} {
		if f.on {
			k += f.name
		}
	}
	return k
}

// reviewTop is how many noisy alerts (and alerts nobody owns) the review of a team shows.
func reviewTop(team string) int {
	if team == "" {
		return reviewTopAll
	}
	return reviewTopTeam
}

// reviewListURL is the review's URL with the lists of e expanded, at anchor.
func reviewListURL(path, week, team string, e reviewExpand, anchor string) string {
	q := url.Values{"week": {week}}
	if team != "" {
		q.Set("team", team)
	}
	if e.Noisy {
		q.Set("noisy", "all")
	}
	if e.Unassigned {
		q.Set("unassigned", "all")
	}
	if e.Offenders {
		q.Set("offenders", "all")
	}
	if e.Runbooks {
		q.Set("runbooks", "all")
	}
	if e.Changes {
		q.Set("changes", "all")
	}
	u := path + "?" + q.Encode()
	if anchor != "" {
		u += "#" + anchor
	}
	return u
}

// listMore is how much of one long list the agenda shows, with the links to all of it and to its
// top (templates/partials/review.html, "review-more").
type listMore struct {
	ID     string // the section's element id
	By     string // what the top is ranked by: "noise score"
	Shown  int
	Total  int
	Limit  int
	All    bool   // shown in full on request
	AllURL string // this page with the list in full
	TopURL string // this page with the list cut to its top
}

// Cut reports that rows were left out.
func (l listMore) Cut() bool { return l.Shown < l.Total }

// More is how many rows were left out.
func (l listMore) More() int { return l.Total - l.Shown }

// Long reports that the list is longer than its top: it has a "show all" or "show the top" link.
func (l listMore) Long() bool { return l.Total > l.Limit }

// more is the listMore of a list of total rows of the review shown in full when all.
func (v reviewView) more(total int, all bool, id, by string, set func(*reviewExpand, bool)) listMore {
	return moreOf(v.R.Week, v.R.Team, v.Expand, total, all, id, by, set)
}

// moreOf is the listMore of a list of total rows of the review of week and team (as the API
// names it: "" for every team) with the lists of expand in full.
func moreOf(week, team string, expand reviewExpand, total int, all bool, id, by string, set func(*reviewExpand, bool)) listMore {
	l := listMore{ID: id, By: by, Shown: total, Total: total, Limit: reviewTop(team), All: all}
	if !all && total > l.Limit {
		l.Shown = l.Limit
	}
	on, off := expand, expand
	set(&on, true)
	set(&off, false)
	l.AllURL = reviewListURL("/review", week, team, on, id)
	l.TopURL = reviewListURL("/review", week, team, off, id)
	return l
}

// cutOffenders cuts a toil section's repeat offenders to the review's top unless offenders=all.
func cutOffenders(sec *ToilSectionView, week, team string, expand reviewExpand) {
	m := moreOf(week, team, expand, len(sec.Summary.RepeatOffenders), expand.Offenders, "offenders", "pages",
		func(e *reviewExpand, b bool) { e.Offenders = b })
	sec.Summary.RepeatOffenders = sec.Summary.RepeatOffenders[:m.Shown]
	sec.Offenders = &m
}

// listCut is one long list of noisy rows as the agenda shows it: its top, or all of it.
type listCut struct {
	listMore
	Rows []noisyRow
}

func (v reviewView) cut(rows []noisyRow, all bool, id string, set func(*reviewExpand, bool)) listCut {
	l := listCut{listMore: v.more(len(rows), all, id, "noise score", set), Rows: rows}
	l.Rows = rows[:l.Shown]
	return l
}

// cutRunbooks cuts the runbooks section to its top by risk unless runbooks=all.
func (v *reviewView) cutRunbooks() {
	m := v.more(len(v.Runbooks.Items), v.Expand.Runbooks, "runbooks", "risk", func(e *reviewExpand, b bool) { e.Runbooks = b })
	v.Runbooks.Items = v.Runbooks.Items[:m.Shown]
	v.Runbooks.More = &m
}

// NoisyList is the noisy alerts as the agenda shows them.
func (v reviewView) NoisyList() listCut {
	return v.cut(v.R.NoisyAlerts, v.Expand.Noisy, "noisy", func(e *reviewExpand, b bool) { e.Noisy = b })
}

// UnassignedList is the alerts nobody owns as the agenda shows them.
func (v reviewView) UnassignedList() listCut {
	return v.cut(v.R.Unassigned, v.Expand.Unassigned, "unassigned", func(e *reviewExpand, b bool) { e.Unassigned = b })
}

// changeCut is the week's changes as the agenda lists them: in time order, the top (those the most
// alerts fired after) unless changes=all.
type changeCut struct {
	listMore
	Rows []changeJSON
}

// ChangeList is the changes as the agenda lists them.
func (v reviewView) ChangeList() changeCut {
	c := changeCut{listMore: v.more(len(v.R.Changes), v.Expand.Changes, "changes", "the alerts that fired after them",
		func(e *reviewExpand, b bool) { e.Changes = b }), Rows: v.R.Changes}
	c.Rows = topChanges(v.R.Changes, c.Shown)
	return c
}

// topChanges is the n changes with the most fires after them (the earlier first among equals), in
// time order.
func topChanges(changes []changeJSON, n int) []changeJSON {
	if n >= len(changes) {
		return changes
	}
	fires := make([]int, len(changes))
	idx := make([]int, len(changes))
	for i, ch := range changes {
		idx[i] = i
		for _, a := range ch.AlertsAfter {
			fires[i] += a.Fires
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return fires[b] - fires[a] })
	idx = idx[:n]
	slices.Sort(idx)
	out := make([]changeJSON, 0, n)
	for _, i := range idx {
		out = append(out, changes[i])
	}
	return out
}

// afterCut is the alerts that fired after one change as the agenda lists them.
type afterCut struct {
	Shown  []store.AlertAfter
	More   int
	AllURL string
}

// After is the alerts that fired after a change, the most fires first: the top reviewTopAfter
// unless every change's list is shown in full.
func (v reviewView) After(ch changeJSON) afterCut {
	a := afterCut{Shown: ch.AlertsAfter}
	if !v.Expand.Changes && len(a.Shown) > reviewTopAfter {
		a.Shown, a.More = a.Shown[:reviewTopAfter], len(a.Shown)-reviewTopAfter
		e := v.Expand
		e.Changes = true
		a.AllURL = reviewListURL("/review", v.R.Week, v.R.Team, e, "change-"+strconv.FormatInt(ch.ID, 10))
	}
	return a
}

// ChangesTopURL is this page with each change's alerts cut to the top reviewTopAfter.
func (v reviewView) ChangesTopURL() string {
	e := v.Expand
	e.Changes = false
	return reviewListURL("/review", v.R.Week, v.R.Team, e, "changes")
}

// TopAfter is how many alerts each change lists before "and N more".
func (v reviewView) TopAfter() int { return reviewTopAfter }

// thousands writes n with a comma between thousands: 1,234.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
