package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Scale says how much history the data set holds.
type Scale struct {
	Name     string
	Days     int
	Teams    int
	Rules    int
	Episodes int // target over Days; the generated count is close to it
	SLIs     int // spread evenly over the teams
	SLIWeeks int // weeks of 5-minute samples each SLI has
}

// scales are the data sets the tool knows. Year is the size issue 6 asks for: 50 teams, 2,000
// rules, ~5 M episodes, 500 SLIs × 8 weeks; month is the same fleet over 30 days (and the same
// SLIs); smoke runs inside `go test`.
var scales = map[string]Scale{
	"year":  {Name: "year", Days: 365, Teams: 50, Rules: 2000, Episodes: 5_000_000, SLIs: 500, SLIWeeks: 8},
	"month": {Name: "month", Days: 30, Teams: 50, Rules: 2000, Episodes: 5_000_000 * 30 / 365, SLIs: 500, SLIWeeks: 8},
	"smoke": {Name: "smoke", Days: 14, Teams: 5, Rules: 60, Episodes: 4_000, SLIs: 10, SLIWeeks: 5},
}

// dataEnd is where every data set ends: fixed, so a seed always gives the same rows. It is the
// Monday that closes ISO week 2026-W47, the week the benchmarks review.
var dataEnd = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

// rule is one generated alert rule.
type rule struct {
	Name      string
	Team      string
	Severity  string // page or ticket
	Instances int
	Episodes  int    // target count over the data set
	Kind      string // steady, flappy or nightly
	Runbook   string // "" when the rule links none
}

// episode is one generated episodes row; ID is assigned in start order per rule.
type episode struct {
	ID          int64
	Fingerprint int64
	Rule        *rule
	Instance    int
	Start       time.Time
	End         *time.Time
	Silenced    bool
}

// notification is one generated Alertmanager delivery and the episodes it carries.
type notification struct {
	ID       int64
	Receiver string
	Status   string
	Received time.Time
	Sent     time.Time
	Rule     *rule
	Episodes []*episode
	First    bool // the first firing notification of its episodes: a page when Receiver pages
}

// teamName is the name (and team label) of team i.
func teamName(i int) string { return fmt.Sprintf("team-%02d", i) }

// receiver is where a rule's notifications go: the team's pager for page severity.
func (r *rule) receiver() string {
	if r.Severity == "page" {
		return r.Team + "-pager"
	}
	return r.Team + "-chat"
}

// genRules builds the fleet: rule ranks follow Zipf (s = 1.1), so the noisiest handful fires a
// large share of all episodes and most rules fire a few times a year.
func genRules(sc Scale, rng *rand.Rand) []*rule {
	weights := make([]float64, sc.Rules)
	var sum float64
	for k := range weights {
		weights[k] = 1 / math.Pow(float64(k+1), 1.1)
		sum += weights[k]
	}
	rank := rng.Perm(sc.Rules) // which rule gets which rank
	kinds := []string{"Down", "HighLatency", "ErrorBudgetBurn", "DiskFull", "QueueBacklog", "CertExpiry",
		"PodCrashLooping", "ReplicationLag", "MemoryPressure", "JobFailed"}
	out := make([]*rule, sc.Rules)
	for i := range out {
		n := int(math.Round(float64(sc.Episodes) * weights[rank[i]] / sum))
		r := &rule{
			Name:     fmt.Sprintf("%s%04d", kinds[i%len(kinds)], i),
			Team:     teamName(i % sc.Teams),
			Severity: "ticket",
			Episodes: n,
			Kind:     "steady",
		}
		if rng.Float64() < 0.3 {
			r.Severity = "page"
		}
		switch x := rng.Float64(); {
		case x < 0.15:
			r.Kind = "flappy"
		case x < 0.20:
			r.Kind = "nightly"
		}
		if rng.Float64() < 0.8 {
			r.Runbook = fmt.Sprintf("https://runbooks.example/%s/%s", r.Team, r.Name)
		}
		r.Instances = 1 + min(n/500, 199)
		if r.Instances > 1 {
			r.Instances = 1 + rng.IntN(r.Instances)
		}
		out[i] = r
	}
	return out
}

// genEpisodes returns the episodes of one rule, sorted by start, IDs from nextID on. Each instance
// fires its share of the rule's episodes one after another (never overlapping: the schema forbids
// it), with gaps sized so that the share fits the data set's span. Flappy rules mostly fire for a
// minute or two and refire within minutes; nightly ones start between 01:00 and 05:00 UTC; 8 % of
// episodes are silenced; an episode still firing at the data set's end stays open.
func genEpisodes(sc Scale, r *rule, ri int, rng *rand.Rand, nextID int64) []*episode {
	if r.Episodes == 0 {
		return nil
	}
	first := dataEnd.AddDate(0, 0, -sc.Days)
	span := dataEnd.Sub(first)
	var out []*episode
	for inst := 0; inst < r.Instances; inst++ {
		n := r.Episodes / r.Instances
		if inst < r.Episodes%r.Instances {
			n++
		}
		if n == 0 {
			continue
		}
		cycle := span / time.Duration(n)
		meanDur := min(cycle/4, 2*time.Hour)
		const shortDur, shortGap = 105 * time.Second, 330 * time.Second // means of the flappy draws
		meanGap := cycle - time.Minute - meanDur
		if r.Kind == "flappy" {
			// 60 % short fires, 50 % short gaps: the long gaps make up the rest of the cycle.
			used := time.Duration(0.6*float64(shortDur) + 0.4*float64(time.Minute+meanDur) + 0.5*float64(shortGap))
			meanGap = 2 * (cycle - used)
		}
		meanGap = max(meanGap, time.Minute)
		t := first.Add(time.Duration(rng.Float64() * float64(cycle)))
		fp := int64(ri)<<20 | int64(inst)
		for k := 0; k < n && t.Before(dataEnd); k++ {
			if r.Kind == "nightly" {
				night := t.Truncate(24 * time.Hour).Add(time.Hour + time.Duration(rng.Float64()*4*float64(time.Hour)))
				if night.Before(t) {
					night = night.Add(24 * time.Hour)
				}
				if t = night; !t.Before(dataEnd) {
					break
				}
			}
			dur := time.Minute + time.Duration(rng.ExpFloat64()*float64(meanDur))
			if r.Kind == "flappy" && rng.Float64() < 0.6 {
				dur = 30*time.Second + time.Duration(rng.Float64()*2*float64(shortDur-30*time.Second))
			}
			e := &episode{Fingerprint: fp, Rule: r, Instance: inst, Start: t.Truncate(time.Second), Silenced: rng.Float64() < 0.08}
			end := e.Start.Add(dur).Truncate(time.Second)
			if end.Before(dataEnd) {
				e.End = &end
			}
			out = append(out, e)
			if e.End == nil {
				break
			}
			gap := time.Duration(rng.ExpFloat64() * float64(meanGap))
			if r.Kind == "flappy" && rng.Float64() < 0.5 {
				gap = time.Minute + time.Duration(rng.Float64()*2*float64(shortGap-time.Minute))
			}
			t = end.Add(max(gap, time.Second))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].Fingerprint < out[j].Fingerprint
	})
	for i, e := range out {
		e.ID = nextID + int64(i)
	}
	return out
}

// genNotifications groups one rule's episodes the way Alertmanager does with group_by
// [alertname] and group_wait 30s: episodes starting within 30 s of a group's first (at most 100)
// are one firing notification, the first of each of them (a page on a pager receiver). An episode
// still firing after 4 h is notified again every 4 h (repeat_interval, at most 6 times); episodes
// ending within 5 minutes of each other share one resolved notification.
func genNotifications(eps []*episode, nextID int64) []*notification {
	var out []*notification
	add := func(n *notification) {
		n.ID = nextID + int64(len(out))
		out = append(out, n)
	}
	if len(eps) == 0 {
		return nil
	}
	r := eps[0].Rule
	var cur *notification
	for _, e := range eps {
		if cur == nil || e.Start.Sub(cur.Episodes[0].Start) > 30*time.Second || len(cur.Episodes) == 100 {
			cur = &notification{Receiver: r.receiver(), Status: "firing", Received: e.Start.Add(30 * time.Second), Rule: r, First: true}
			add(cur)
		}
		cur.Episodes = append(cur.Episodes, e)
		cur.Sent = e.Start
	}
	for _, e := range eps {
		end := dataEnd
		if e.End != nil {
			end = *e.End
		}
		for k, t := 1, e.Start.Add(4*time.Hour); k <= 6 && t.Before(end); k, t = k+1, t.Add(4*time.Hour) {
			add(&notification{Receiver: r.receiver(), Status: "firing", Received: t, Sent: e.Start, Rule: r, Episodes: []*episode{e}})
		}
	}
	ended := make([]*episode, 0, len(eps))
	for _, e := range eps {
		if e.End != nil {
			ended = append(ended, e)
		}
	}
	sort.Slice(ended, func(i, j int) bool { return ended[i].End.Before(*ended[j].End) })
	cur = nil
	for _, e := range ended {
		if cur == nil || e.End.Sub(*cur.Episodes[0].End) > 5*time.Minute || len(cur.Episodes) == 100 {
			cur = &notification{Receiver: r.receiver(), Status: "resolved", Received: e.End.Add(5 * time.Minute), Rule: r}
			add(cur)
		}
		cur.Episodes = append(cur.Episodes, e)
		cur.Sent = *e.End
	}
	return out
}

// dedupKey is the notification's identity as the store would compute it: receiver, group,
// status, the episodes carried and (here) the delivery time, so repeats stay distinct.
func (n *notification) dedupKey() []byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d", n.Receiver, n.groupKey(), n.Status, n.Received.UnixNano())
	for _, e := range n.Episodes {
		fmt.Fprintf(h, "\x00%d", e.ID)
	}
	return h.Sum(nil)
}

func (n *notification) groupKey() string {
	return fmt.Sprintf(`{}:{alertname=%q}`, n.Rule.Name)
}

func (r *rule) labels(inst int) string {
	return mustJSON(map[string]string{"alertname": r.Name, "instance": fmt.Sprintf("host-%03d:9100", inst),
		"job": "node", "severity": r.Severity, "team": r.Team})
}

func (r *rule) annotations() string {
	a := map[string]string{"summary": r.Name + " on {{ $labels.instance }}"}
	if r.Runbook != "" {
		a["runbook_url"] = r.Runbook
	}
	return mustJSON(a)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
