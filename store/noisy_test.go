package store

import (
	"context"
	"math"
	"math/rand"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
)

// rawNotification is a notification the test inserts, with the episodes it carries.
type rawNotification struct {
	id       int64
	receiver string
	status   string
	at       time.Time
	episodes []int // indexes into the inserted episodes
}

// history is raw rows inserted straight into the tables, so the expected counts below are computed
// from exactly what is stored, without going through any of the code under test.
type history struct {
	eps    []review.Episode
	notifs []rawNotification
}

var (
	winFrom = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	winTo   = winFrom.AddDate(0, 0, 7)
	winNow  = winTo.Add(26 * time.Hour)
)

// insertHistory writes random episodes of a few rules and teams around the window, and
// notifications that carry them, to paging and non-paging receivers.
func insertHistory(t *testing.T, s *Store, seed int64) history {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewSource(seed))
	rules := []struct{ name, team string }{
		{"DiskFull", "payments"}, {"HighLatency", "payments"}, {"ErrorBudgetBurn", "search"},
		{"Orphan", ""}, {"Watchdog", "payments"},
	}
	var h history
	for fp := uint64(1); fp <= 40; fp++ {
		rule := rules[rng.Intn(len(rules))]
		at := winFrom.Add(-time.Duration(rng.Intn(72)) * time.Hour)
		for at.Before(winNow) {
			length := []time.Duration{time.Minute, 3 * time.Minute, 20 * time.Minute, 2 * time.Hour, 30 * time.Hour}[rng.Intn(5)]
			e := review.Episode{Fingerprint: fp, Alertname: rule.name, Team: rule.team, StartsAt: at,
				Silenced: rng.Intn(5) == 0, Labels: map[string]string{"alertname": rule.name, "fp": "x"}}
			end := at.Add(length)
			if end.Before(winNow) || rng.Intn(2) == 0 {
				e.EndsAt = &end
			}
			h.eps = append(h.eps, e)
			if e.EndsAt == nil {
				break
			}
			gap := []time.Duration{time.Second, 10 * time.Minute, 29 * time.Minute, 31 * time.Minute, 6 * time.Hour}[rng.Intn(5)]
			at = end.Add(gap)
		}
	}
	for i := range h.eps {
		e := &h.eps[i]
		err := s.db.GetContext(ctx, &e.ID, `
			INSERT INTO episodes (fingerprint, alertname, team, labels, starts_at, ends_at, last_seen_at, silenced)
			VALUES ($1, $2, $3, $4, $5, $6, $5, $7) RETURNING id`,
			int64(e.Fingerprint), e.Alertname, e.Team, jsonText(e.Labels), e.StartsAt, e.EndsAt, e.Silenced)
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 120; i++ {
		n := rawNotification{
			receiver: []string{"pager", "pager", "chat"}[rng.Intn(3)],
			status:   []string{"firing", "firing", "resolved"}[rng.Intn(3)],
			at:       winFrom.Add(-24*time.Hour + time.Duration(rng.Intn(9*24*60))*time.Minute),
		}
		for k := 0; k <= rng.Intn(3); k++ {
			n.episodes = append(n.episodes, rng.Intn(len(h.eps)))
		}
		err := s.db.GetContext(ctx, &n.id, `
			INSERT INTO notifications (dedup_key, receiver, group_key, group_key_hash, status, received_at,
			                           last_received_at, alerts, sent_at)
			VALUES ($1, $2, 'g', 'g', $3, $4, $4, 1, $4) RETURNING id`,
			[]byte{byte(i), byte(i >> 8)}, n.receiver, n.status, n.at)
		if err != nil {
			t.Fatal(err)
		}
		h.notifs = append(h.notifs, n)
	}
	// The first firing notification of each episode to each receiver, by time.
	first := map[[2]any]int{}
	for i, n := range h.notifs {
		if n.status != "firing" {
			continue
		}
		for _, e := range n.episodes {
			k := [2]any{n.receiver, e}
			if j, ok := first[k]; !ok || n.at.Before(h.notifs[j].at) {
				first[k] = i
			}
		}
	}
	for k, i := range first {
		n := h.notifs[i]
		if _, err := s.db.ExecContext(ctx, `
			INSERT INTO receiver_episodes (receiver, episode_id, first_notification_id, first_sent_at, first_dedup_key)
			VALUES ($1, $2, $3, $4, 'k')`, n.receiver, h.eps[k[1].(int)].ID, n.id, n.at); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func testFilter() CountFilter {
	return CountFilter{From: winFrom, To: winTo, Now: winNow, Ignore: []string{"Watchdog"},
		FlapThreshold: 5 * time.Minute, RefireWindow: 30 * time.Minute, PagingReceivers: []string{"pager"}}
}

func inTeams(team string, teams []string) bool {
	if teams == nil {
		return true
	}
	for _, t := range teams {
		if t == team {
			return true
		}
	}
	return false
}

func TestRuleCountsMatchTheRawEpisodes(t *testing.T) {
	s := newTestStore(t)
	h := insertHistory(t, s, 1)
	for _, teams := range [][]string{nil, {"payments"}, {"search", ""}, {""}} {
		f := testFilter()
		f.Teams = teams
		got, err := s.RuleCounts(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		// Expected, from the raw episodes: fires and silenced by start in the window; flaps by the
		// pure rule over every episode (it looks back); firing time by overlap.
		want := map[string]*review.RuleCounts{}
		var mine []review.Episode
		for _, e := range h.eps {
			if e.Alertname == "Watchdog" || !inTeams(e.Team, teams) {
				continue
			}
			mine = append(mine, e)
			overlap := review.FiringOverlap(e, winFrom, winTo, winNow)
			starts := !e.StartsAt.Before(winFrom) && e.StartsAt.Before(winTo)
			if !starts && overlap == 0 {
				continue
			}
			w := want[e.Alertname]
			if w == nil {
				w = &review.RuleCounts{Alertname: e.Alertname, Team: e.Team}
				want[e.Alertname] = w
			}
			w.FiringSeconds += overlap.Seconds()
			if starts {
				w.Fires++
				if e.Silenced {
					w.Silenced++
				}
			}
		}
		flaps := review.CountFlaps(mine, winFrom, winTo, f.FlapThreshold, f.RefireWindow)
		if len(got) != len(want) {
			t.Fatalf("teams %v: %d rules, want %d: %+v", teams, len(got), len(want), got)
		}
		for _, g := range got {
			w := want[g.Alertname]
			if w == nil {
				t.Fatalf("teams %v: unexpected rule %s", teams, g.Alertname)
			}
			if g.Fires != w.Fires || g.Silenced != w.Silenced || g.Flaps != flaps[g.Alertname] || g.Team != w.Team ||
				math.Abs(g.FiringSeconds-w.FiringSeconds) > 0.001 {
				t.Errorf("teams %v, %s: got fires %d flaps %d silenced %d firing %.0fs team %q; want %d %d %d %.0fs %q",
					teams, g.Alertname, g.Fires, g.Flaps, g.Silenced, g.FiringSeconds, g.Team,
					w.Fires, flaps[g.Alertname], w.Silenced, w.FiringSeconds, w.Team)
			}
		}
		if flaps["DiskFull"]+flaps["HighLatency"]+flaps["ErrorBudgetBurn"]+flaps["Orphan"] == 0 && teams == nil {
			t.Error("the random history has no flaps at all: the test proves nothing")
		}
	}
}

func TestPagesMatchTheRawNotifications(t *testing.T) {
	s := newTestStore(t)
	h := insertHistory(t, s, 2)
	for _, teams := range [][]string{nil, {"payments"}, {""}} {
		f := testFilter()
		f.Teams = teams
		got, err := s.Pages(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		// Expected: walk notifications in time order, remembering which (receiver, episode) pairs
		// were notified before; a firing notification to the pager in the window is a page for each
		// rule with a first-time episode in it.
		order := make([]int, len(h.notifs))
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(a, b int) bool { return h.notifs[order[a]].at.Before(h.notifs[order[b]].at) })
		seen := map[[2]any]bool{}
		want := map[string]bool{}
		for _, i := range order {
			n := h.notifs[i]
			if n.status != "firing" {
				continue
			}
			for _, ei := range n.episodes {
				k := [2]any{n.receiver, ei}
				if seen[k] {
					continue
				}
				seen[k] = true
				e := h.eps[ei]
				if n.receiver == "pager" && !n.at.Before(winFrom) && n.at.Before(winTo) &&
					e.Alertname != "Watchdog" && inTeams(e.Team, teams) {
					want[e.Alertname+"@"+n.at.Format(time.RFC3339)+"#"+e.Team] = true
				}
			}
		}
		gotSet := map[string]bool{}
		for i, p := range got {
			if i > 0 {
				q := got[i-1]
				if p.At.Before(q.At) || p.At.Equal(q.At) && (p.NotificationID < q.NotificationID ||
					p.NotificationID == q.NotificationID && p.Alertname < q.Alertname) {
					t.Errorf("page %d (%s %d %s) is listed after page %d (%s %d %s): want oldest first, then by notification and rule",
						i, p.At, p.NotificationID, p.Alertname, i-1, q.At, q.NotificationID, q.Alertname)
				}
			}
			k := p.Alertname + "@" + p.At.Format(time.RFC3339) + "#" + p.Team
			if gotSet[k] {
				t.Errorf("page %s twice", k)
			}
			gotSet[k] = true
		}
		if len(gotSet) != len(want) {
			t.Errorf("teams %v: %d pages, want %d", teams, len(gotSet), len(want))
		}
		for k := range want {
			if !gotSet[k] {
				t.Errorf("teams %v: missing page %s", teams, k)
			}
		}
		if teams == nil && len(want) < 5 {
			t.Errorf("only %d pages in the random history: the test proves little", len(want))
		}
	}
}

func TestWeeklyFires(t *testing.T) {
	s := newTestStore(t)
	h := insertHistory(t, s, 3)
	bounds := []time.Time{winFrom.AddDate(0, 0, -7), winFrom, winFrom.Add(48 * time.Hour), winTo}
	f := testFilter()
	got, err := s.WeeklyFires(context.Background(), bounds, f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{}
	for _, e := range h.eps {
		if e.Alertname == "Watchdog" {
			continue
		}
		for i := 0; i+1 < len(bounds); i++ {
			if !e.StartsAt.Before(bounds[i]) && e.StartsAt.Before(bounds[i+1]) {
				if want[e.Alertname] == nil {
					want[e.Alertname] = make([]int, len(bounds)-1)
				}
				want[e.Alertname][i]++
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, w := range want {
		for i := range w {
			if got[k][i] != w[i] {
				t.Errorf("%s: got %v, want %v", k, got[k], w)
				break
			}
		}
	}
}

// PageTimes groups by rule and team exactly the pages Pages lists, each once, oldest first.
func TestPageTimesGroupThePagesPagesLists(t *testing.T) {
	s := newTestStore(t)
	insertHistory(t, s, 5)
	for _, teams := range [][]string{nil, {"payments"}, {"search", ""}} {
		f := testFilter()
		f.Teams = teams
		pages, err := s.Pages(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		want := map[[2]string][]int64{}
		for _, p := range pages {
			k := [2]string{p.Alertname, p.Team}
			want[k] = append(want[k], p.At.UnixMicro())
		}
		got, err := s.PageTimes(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("teams %v: %d rules with pages, want %d", teams, len(got), len(want))
		}
		for i, g := range got {
			if i > 0 && (got[i-1].Alertname > g.Alertname || got[i-1].Alertname == g.Alertname && got[i-1].Team >= g.Team) {
				t.Errorf("teams %v: %s/%q listed after %s/%q", teams, g.Alertname, g.Team, got[i-1].Alertname, got[i-1].Team)
			}
			if w := want[[2]string{g.Alertname, g.Team}]; !slices.Equal(g.At, w) {
				t.Errorf("teams %v, %s of %q: times %v, want %v", teams, g.Alertname, g.Team, g.At, w)
			}
		}
		if teams == nil && len(pages) < 5 {
			t.Errorf("only %d pages in the random history: the test proves little", len(pages))
		}
	}
}
