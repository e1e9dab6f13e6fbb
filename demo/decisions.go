package demo

import (
	"fmt"
	"time"

	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// deploys: CI posts a change for every deploy and config change. Checkout's releases on the
// Thursday of the last two full weeks were each followed within the hour by checkout alerts (the
// second one paged); the rest are quiet.
func deploys(g *gen) {
	berlin := g.loc("payments")
	for i, v := range []string{"v2.13.0", "v2.14.0"} {
		w := g.lastWeek(berlin)
		if i == 0 {
			w = w.Previous()
		}
		at := w.Start.AddDate(0, 0, 3).Add(14*time.Hour + 5*time.Minute)
		g.change(store.Change{Service: "checkout", Kind: "deploy", At: at, Who: "ci/github-actions",
			Summary: "checkout " + v + ": new payment provider client",
			URL:     "https://github.example.com/shop/checkout/releases/tag/" + v})
		inst := map[string]string{"service": "checkout", "cluster": "eu-central-1", "job": "checkout"}
		t := at.Add(g.minutes(12, 18))
		g.fire("CheckoutLatencyP99High", inst, t, t.Add(g.minutes(25, 40)), false)
		if i == 1 {
			t := at.Add(g.minutes(8, 11))
			g.fire("CheckoutErrorRateHigh", inst, t, t.Add(g.minutes(15, 22)), false)
		}
	}
	ny := g.loc("search")
	for k := 0; k < 8; k++ {
		w := review.WeekOf(g.anchor.AddDate(0, 0, -7*k), ny)
		at := w.Start.AddDate(0, 0, 1).Add(16*time.Hour + g.jitter(90*time.Minute)).Truncate(time.Minute)
		g.change(store.Change{Service: "search-api", Kind: "deploy", At: at, Who: "ci/jenkins",
			Summary: fmt.Sprintf("search-api release 2026.%02d", 40+k), URL: "https://ci.example.com/job/search-api/"})
		at = w.Start.AddDate(0, 0, 2).Add(11*time.Hour + g.jitter(4*time.Hour)).Truncate(time.Minute)
		g.change(store.Change{Service: "prometheus-rules", Kind: "config", At: at, Who: "alex",
			Summary: "Alerting rules: labels and thresholds", URL: "https://git.example.com/platform/rules/-/merge_requests"})
	}
	g.change(store.Change{Service: "prometheus-rules", Kind: "config", At: g.p.rulesChangedAt.Add(-5 * time.Minute),
		Who: "alex", Summary: "NodeDiskFillingUp: threshold 10% → 7%, for 2m → 10m (action item from the review)",
		URL: "https://git.example.com/platform/rules/-/merge_requests/412"})
}

func (g *gen) change(c store.Change) {
	if !g.past(c.At) {
		return
	}
	c.CreatedAt = c.At.Add(2 * time.Second)
	g.p.changes = append(g.p.changes, c)
}

// runbookChecks: what the runbook checker found two hours ago. One runbook was changed last month,
// one not for over a year, one answers 404, one's host is gone; one old one was reviewed in last
// week's meeting.
func runbookChecks(g *gen) {
	checked := g.anchor.Add(-2 * time.Hour)
	first := g.anchor.Add(-history)
	lm := func(daysAgo int) *time.Time {
		t := g.anchor.AddDate(0, 0, -daysAgo).Truncate(time.Hour)
		return &t
	}
	for _, c := range []store.RunbookCheck{
		{URL: runbookGateway, StatusCode: 200, LastModified: lm(24)},
		{URL: runbookCheckout, StatusCode: 200, LastModified: lm(240)},
		{URL: runbookDisk, StatusCode: 200, LastModified: lm(410)},
		{URL: runbookAPI, StatusCode: 200, LastModified: lm(180)},
		{URL: runbookIndexLag, StatusCode: 404, Error: "404 Not Found"},
		{URL: runbookCerts, Error: "dial tcp: lookup wiki-old.example.com: no such host"},
		{URL: runbookBackup, StatusCode: 200, LastModified: lm(31)},
		{URL: runbookSearchQ, StatusCode: 200, LastModified: lm(65)},
		{URL: runbookTarget, StatusCode: 200, LastModified: lm(150)},
	} {
		c.FirstSeen, c.CheckedAt, c.FinalURL = first, checked, c.URL
		g.p.checks = append(g.p.checks, c)
	}
	meeting := meetingOf(g, g.lastWeek(g.loc("payments")).Previous(), g.loc("payments"))
	g.p.reviews = append(g.p.reviews, runbookReview{url: runbookCheckout, who: "lena", at: meeting.Add(20 * time.Minute)})
}

// meetingOf is when the review of week w was held: the Tuesday after it, 10:00 in loc, or an hour
// before the anchor when that Tuesday has not come yet.
func meetingOf(g *gen, w review.Week, loc *time.Location) time.Time {
	e := w.End.In(loc)
	t := time.Date(e.Year(), e.Month(), e.Day()+1, 10, 0, 0, 0, loc)
	if !t.Before(g.anchor) {
		t = g.anchor.Add(-time.Hour)
	}
	return t
}

// verdictsScenario: decisions of the last four meetings. SearchIndexLagHigh was called noise last
// week (and the week before) and still pages every day.
func verdictsScenario(g *gen) {
	type v struct {
		alertname, team string
		weeksAgo        int // 0: the last full week, the one the review shows
		verdict, by     string
	}
	for _, x := range []v{
		{"PaymentGatewayLatencyHigh", "payments", 3, "actionable", "lena"},
		{"PaymentGatewayLatencyHigh", "payments", 1, "actionable", "lena"},
		{"PaymentGatewayLatencyHigh", "payments", 0, "needs-tuning", "lena"},
		{"CheckoutErrorRateHigh", "payments", 0, "actionable", "jonas"},
		{"CheckoutLatencyP99High", "payments", 1, "needs-tuning", "jonas"},
		{"SearchIndexLagHigh", "search", 2, "needs-tuning", "sam"},
		{"SearchIndexLagHigh", "search", 1, "noise", "sam"},
		{"SearchIndexLagHigh", "search", 0, "noise", "sam"},
		{"SearchQueryErrorsHigh", "search", 1, "actionable", "maya"},
		{"NodeDiskFillingUp", "platform", 2, "needs-tuning", "alex"},
		{"NodeDiskFillingUp", "platform", 1, "needs-tuning", "alex"},
		{"KubePodCrashLooping", "platform", 2, "noise", "priya"},
	} {
		loc := g.loc(x.team)
		w := g.lastWeek(loc)
		for i := 0; i < x.weeksAgo; i++ {
			w = w.Previous()
		}
		g.p.verdicts = append(g.p.verdicts, store.VerdictInput{Alertname: x.alertname, Week: w.String(),
			Verdict: x.verdict, By: x.by, At: meetingOf(g, w, loc).Add(g.minutes(5, 40)).UTC(),
			IdempotencyKey: g.key("verdict", x.alertname, "-", w.String())})
	}
}

// actionItems: decided in last week's meeting (the review of the week before the last full week):
// one is overdue, one was done (and is why NodeDiskFillingUp changed), one is not due yet.
func actionItems(g *gen) {
	type a struct {
		team, title, owner, alertname, runbook string
		due                                    time.Time
		closed                                 bool
	}
	berlin := g.loc("payments")
	last := g.lastWeek(berlin)
	held := meetingOf(g, last.Previous(), berlin)
	for i, x := range []a{
		{team: "payments", title: "Tune PaymentGatewayLatencyHigh: page on the SLO burn rate, not on p99 over 800ms",
			owner: "lena", alertname: "PaymentGatewayLatencyHigh", due: last.Start.AddDate(0, 0, 3)},
		{team: "platform", title: "NodeDiskFillingUp: lower the threshold and add for: 10m so the vacuum stops flapping it",
			owner: "alex", alertname: "NodeDiskFillingUp", due: last.Start.AddDate(0, 0, 4), closed: true},
		{team: "search", title: "Decide whether SearchIndexLagHigh should page at all, and fix its runbook link",
			owner: "sam", alertname: "SearchIndexLagHigh", runbook: runbookIndexLag, due: g.anchor.AddDate(0, 0, 6)},
	} {
		item := store.ActionItem{Title: x.title, Owner: x.owner, Due: x.due, Alertname: x.alertname, Runbook: x.runbook,
			Team: x.team, Week: last.Previous().String(), WeekStart: last.Previous().Start.UTC(),
			CreatedBy: "facilitator", CreatedAt: held.Add(time.Duration(10+5*i) * time.Minute).UTC()}
		pa := plannedAction{item: item, key: g.key("action", i)}
		if x.closed {
			// Done during the week (the rule changed on Wednesday), ticked off after it ended: the
			// review shows it struck through among the follow-ups.
			end := g.lastWeek(time.UTC).End
			at := end.Add(g.anchor.Sub(end) / 2).Truncate(time.Second)
			pa.closeAt, pa.closeBy = &at, x.owner
		}
		g.p.actions = append(g.p.actions, pa)
	}
}

// toilEntries: interrupt work each team logged by hand, one to three entries a week.
func toilEntries(g *gen) {
	notes := map[string][][2]string{
		"payments": {{"manual-fix", "Refunded double-charged orders by hand"}, {"escalation", "Merchant escalation: settlement report missing"},
			{"access", "Granted read access to the settlement database"}},
		"search": {{"reindex", "Restarted the stuck products reindex"}, {"escalation", "Customer asked why new products do not show up"},
			{"manual-fix", "Cleared the poisoned queue message by hand"}},
		"platform": {{"certificates", "Rotated the legacy-payments certificate by hand"}, {"capacity", "Grew the Postgres data volume by 200 GiB"},
			{"access", "VPN and kubeconfig for two new joiners"}},
	}
	n := 0
	for _, team := range []string{"payments", "search", "platform"} {
		loc := g.loc(team)
		for d := days; d >= 0; d -= 2 + g.rng.IntN(4) {
			at := g.at(loc, d, 9, 0).Add(g.jitter(8 * time.Hour))
			if wd := at.Weekday(); wd == time.Saturday || wd == time.Sunday || !g.past(at) {
				continue
			}
			pick := notes[team][g.rng.IntN(len(notes[team]))]
			e := review.ToilEntry{Team: team, Minutes: 15 * (1 + g.rng.IntN(8)), Category: pick[0], Note: pick[1],
				At: at.UTC(), Who: []string{"lena", "sam", "alex", "maya", "jonas", "priya"}[g.rng.IntN(6)],
				CreatedAt: at.Add(time.Hour).UTC()}
			if e.CreatedAt.After(g.anchor) {
				e.CreatedAt = g.anchor
			}
			if pick[0] == "certificates" {
				e.Alertname = "CertificateExpiringSoon"
			}
			n++
			g.p.toil = append(g.p.toil, store.NewToilEntry{ToilEntry: e, RequestKey: g.key("toil", n)})
		}
	}
}

// collectorRuns: the demo's made-up sources last answered a minute before the anchor.
func collectorRuns(g *gen) {
	g.p.runs = append(g.p.runs,
		collectorRun{source: promSource, kind: "prometheus", at: g.anchor.Add(-time.Minute)},
		collectorRun{source: promSource, kind: "sli", at: g.anchor.Add(-2 * time.Minute)},
		collectorRun{source: amSource, kind: "alertmanager", at: g.anchor.Add(-30 * time.Second)})
}
