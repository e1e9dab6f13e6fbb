package demo

import (
	"time"

	"github.com/opsreview/opsreview/review"
)

const days = 56 // the history, in days

// flappingDisk: NodeDiskFillingUp on the Postgres host flaps during the nightly vacuum and the
// afternoon batch load: bursts of short episodes that refire within minutes. The rule change in the
// last full week made the episodes longer, not fewer.
func flappingDisk(g *gen) {
	host := func(name string) map[string]string {
		return map[string]string{"instance": name + ".eu-central-1:9100", "device": "/dev/nvme1n1",
			"mountpoint": "/var/lib/postgresql", "job": "node", "cluster": "eu-central-1"}
	}
	changed := g.p.rulesChangedAt
	for d := days; d >= 0; d-- {
		// db-3 flaps in the nightly vacuum, its replica db-4 in the afternoon batch load.
		for _, w := range []struct {
			inst    map[string]string
			hh, pct int
		}{{host("db-3"), 1, 60}, {host("db-4"), 14, 35}} {
			inst := w.inst
			if g.rng.IntN(100) >= w.pct {
				continue
			}
			t := g.at(time.UTC, d, w.hh, 20).Add(g.jitter(40 * time.Minute))
			for n := 2 + g.rng.IntN(4); n > 0; n-- {
				dur := g.minutes(1, 4)
				if t.After(changed) {
					dur = g.minutes(10, 16)
				}
				g.fire("NodeDiskFillingUp", inst, t, t.Add(dur), false)
				t = t.Add(dur + g.minutes(4, 20))
			}
		}
	}
}

// nightPages: the payment gateway's latency alert wakes the payments on-call every two to four
// nights, in Berlin's small hours, and now and then in the afternoon.
func nightPages(g *gen) {
	loc := g.loc("payments")
	inst := map[string]string{"service": "payment-gateway", "cluster": "eu-central-1", "job": "gateway"}
	for d := days; d >= 0; d -= 2 + g.rng.IntN(3) {
		t := g.at(loc, d, 1, 30).Add(g.jitter(150 * time.Minute))
		g.fire("PaymentGatewayLatencyHigh", inst, t, t.Add(g.minutes(12, 45)), false)
		if g.rng.IntN(4) == 0 {
			t := g.at(loc, d, 15, 0).Add(g.jitter(2 * time.Hour))
			g.fire("PaymentGatewayLatencyHigh", inst, t, t.Add(g.minutes(8, 20)), false)
		}
	}
}

// ignoredDaily: SearchIndexLagHigh pages search every morning while the reindex job runs, and
// resolves on its own; the team called it noise last week and nobody has changed it.
func ignoredDaily(g *gen) {
	loc := g.loc("search")
	inst := map[string]string{"indexer": "products", "cluster": "us-east-1", "job": "search-indexer"}
	for d := days; d >= 0; d-- {
		t := g.at(loc, d, 9, 0).Add(g.jitter(45 * time.Minute))
		g.fire("SearchIndexLagHigh", inst, t, t.Add(g.minutes(25, 50)), false)
	}
}

// eveningPages: search's query errors page in the New York evening about once a week, and the
// platform team's API server burns its error budget a few times in eight weeks.
func eveningPages(g *gen) {
	loc := g.loc("search")
	inst := map[string]string{"service": "search-api", "cluster": "us-east-1", "job": "search-api"}
	for d := days - g.rng.IntN(5); d >= 0; d -= 5 + g.rng.IntN(4) {
		t := g.at(loc, d, 19, 0).Add(g.jitter(150 * time.Minute))
		g.fire("SearchQueryErrorsHigh", inst, t, t.Add(g.minutes(6, 25)), false)
	}
	api := map[string]string{"cluster": "eu-central-1", "job": "apiserver"}
	for d := days - g.rng.IntN(10); d >= 0; d -= 12 + g.rng.IntN(8) {
		t := g.at(time.UTC, d, 8, 0).Add(g.jitter(14 * time.Hour))
		g.fire("KubeAPIErrorBudgetBurn", api, t, t.Add(g.minutes(10, 40)), false)
	}
	certs := map[string]string{"host": "legacy-payments.example.com", "cluster": "eu-central-1", "job": "blackbox"}
	t := g.at(time.UTC, 12, 9, 0)
	g.fire("CertificateExpiringSoon", certs, t, t.Add(26*time.Hour), false)
}

// unowned: alerts no team's labels match. A batch pod crash loops a few times a week (to a Slack
// channel nobody reads), and an old exporter's targets go down, seen only in Prometheus's ALERTS.
func unowned(g *gen) {
	pod := map[string]string{"namespace": "legacy-batch", "pod": "report-generator-7d9f8-xk2lp",
		"container": "report", "cluster": "eu-central-1", "job": "kube-state-metrics"}
	for d := days; d >= 0; d -= 1 + g.rng.IntN(3) {
		t := g.at(time.UTC, d, 6, 0).Add(g.jitter(12 * time.Hour))
		g.fire("KubePodCrashLooping", pod, t, t.Add(g.minutes(20, 90)), false)
	}
	target := map[string]string{"job": "old-exporter", "namespace": "legacy-batch", "cluster": "eu-central-1"}
	for d := days; d >= 0; d -= 2 + g.rng.IntN(3) {
		t := g.at(time.UTC, d, 0, 0).Add(g.jitter(20 * time.Hour))
		g.fire("TargetDown", target, t, t.Add(g.minutes(30, 240)), false)
	}
}

// watchdog: the always-firing Watchdog, open since before the history starts; stored, and left out
// of every count by alerts.ignore.
func watchdog(g *gen) {
	inst := map[string]string{"cluster": "eu-central-1", "prometheus": "monitoring/k8s"}
	start := g.anchor.Add(-history).Add(time.Hour)
	a := g.alerts["Watchdog"]
	g.fire("Watchdog", inst, start, time.Time{}, false)
	// Alertmanager also sends it to the dead man's switch, once per episode as far as opsreview is
	// concerned (repeats of the same episode are the same notification).
	a.receiver = "deadmansswitch"
	g.fire("Watchdog", inst, start, time.Time{}, false)
	a.receiver = ""
}

// firingNow: what is still firing when the demo is filled, so the TV's first panel and the
// episodes page show open episodes: the checkout's p99 latency on one pod since 23 minutes ago, and
// a second certificate close to expiry since this morning. Their own instance labels keep them
// apart from the closed episodes of the same rules.
func firingNow(g *gen) {
	pod := map[string]string{"service": "checkout", "pod": "checkout-5c7d9-q2mzt", "cluster": "eu-central-1", "job": "checkout"}
	g.fire("CheckoutLatencyP99High", pod, g.anchor.Add(-23*time.Minute), time.Time{}, false)
	certs := map[string]string{"host": "status.example.com", "cluster": "eu-central-1", "job": "blackbox"}
	g.fire("CertificateExpiringSoon", certs, g.anchor.Add(-5*time.Hour-10*time.Minute), time.Time{}, false)
}

// silenced: a node under maintenance (silenced for two days, three weeks ago) and the nightly
// backup, late every night since the backup storage migration started, under an active silence.
// Alertmanager notifies nobody of silenced alerts; opsreview sees them through its API.
func silenced(g *gen) {
	node := map[string]string{"node": "k8s-worker-12", "cluster": "eu-central-1", "job": "kube-state-metrics"}
	mStart := g.at(time.UTC, 23, 20, 0)
	mEnd := mStart.Add(48 * time.Hour)
	for t := mStart.Add(40 * time.Minute); t.Before(mEnd); t = t.Add(g.minutes(300, 700)) {
		g.fire("KubeNodeNotReady", node, t, t.Add(g.minutes(20, 120)), true)
	}
	g.p.silences = append(g.p.silences, review.Silence{Source: amSource, ID: "3f1c2a9e-6b1d-4c55-9d0e-8a7f2b4c1d01",
		Matchers: []review.SilenceMatcher{{Name: "node", Value: "k8s-worker-12", IsEqual: true}},
		StartsAt: mStart, EndsAt: mEnd, UpdatedAt: mStart, CreatedBy: "alex",
		Comment: "Kernel upgrade and disk replacement on k8s-worker-12 (OPS-377)", State: "expired"})

	backup := map[string]string{"job": "pg-backup", "cluster": "eu-central-1", "instance": "backup-runner-1"}
	sStart := g.at(time.UTC, 5, 9, 30)
	for d := 20; d >= 0; d-- {
		t := g.at(time.UTC, d, 2, 10).Add(g.jitter(30 * time.Minute))
		quiet := t.After(sStart)
		if !quiet && g.rng.IntN(3) != 0 {
			continue
		}
		g.fire("BackupJobSlow", backup, t, t.Add(g.minutes(35, 80)), quiet)
	}
	g.p.silences = append(g.p.silences, review.Silence{Source: amSource, ID: "9b2e7d41-0c6a-4f3e-b1a8-5d2c9e7f3a02",
		Matchers: []review.SilenceMatcher{{Name: "alertname", Value: "BackupJobSlow", IsEqual: true},
			{Name: "job", Value: "pg-backup", IsEqual: true}},
		StartsAt: sStart, EndsAt: sStart.Add(10 * 24 * time.Hour), UpdatedAt: sStart, CreatedBy: "priya",
		Comment: "Backups are slow while the backup bucket moves region (OPS-412)", State: "active"})
}
