package main

import (
	"context"
	"fmt"
	"time"
)

// report prints the run as one Markdown table (and a few lines of context) on o.out.
func report(o options, episodes, notifications, pages int64, ingest []ingestResult, ps []page, lat map[string]stats, load *loadResult) {
	w := o.out
	fmt.Fprintf(w, "Machine: %s\n\n", machine(context.Background()))
	fmt.Fprintf(w, "Data set: scale %s, seed %d: %d teams, %d rules, %d episodes, %d notifications, %d first notifications (receiver_episodes), ending %s.\n\n",
		o.scale.Name, o.seed, o.scale.Teams, o.scale.Rules, episodes, notifications, pages, dataEnd.Format("2006-01-02"))
	fmt.Fprintf(w, "| what | scope | median | p95 | target | met |\n|---|---|---:|---:|---|---|\n")
	var webhook, copyPS, autocommit, perTx float64
	for _, r := range ingest {
		med := medianF(r.alertsPS)
		switch r.name {
		case ingestModes[0].name:
			webhook = med
		case ingestModes[1].name:
			autocommit = med
		case ingestModes[2].name:
			perTx = med
		case ingestModes[3].name:
			copyPS = med
		}
		s := summarize(r.latencies)
		fmt.Fprintf(w, "| ingest: %s | %d × %d-alert payloads, %d writers | %.0f alerts/s | %s ms/payload | | |\n",
			r.name, s.n, ingestAlerts, ingestWorkers, med, ms(s.p95))
	}
	if len(ingest) > 0 {
		fmt.Fprintf(w, "| ingest: webhook ÷ raw COPY | | %.0f %% | | ≥ 50 %% | %s |\n", 100*webhook/copyPS, yes(webhook/copyPS >= 0.5))
		fmt.Fprintf(w, "| ingest: webhook ÷ INSERT per alert, autocommit | | %.1f× | | ≥ 10× | %s |\n", webhook/autocommit, yes(webhook/autocommit >= 10))
		fmt.Fprintf(w, "| ingest: webhook ÷ INSERT per alert, one tx | | %.1f× | | ≥ 10× | %s |\n", webhook/perTx, yes(webhook/perTx >= 10))
	}
	for _, p := range ps {
		if len(lat) == 0 {
			break
		}
		s := lat[p.path]
		target := 150 * time.Millisecond
		if p.scope == "all teams" {
			target = 500 * time.Millisecond
		}
		fmt.Fprintf(w, "| %s | %s, %d runs | %s ms | %s ms | ≤ %d ms | %s |\n", p.name, p.scope, s.n, ms(s.median), ms(s.p95),
			target.Milliseconds(), yes(s.p95 <= target))
	}
	if load != nil {
		for _, p := range ps {
			s := load.perPage[p.path]
			fmt.Fprintf(w, "| under load: %s | %s, %d requests%s | %s ms | %s ms | | |\n", p.name, p.scope, s.n, failedText(load.failed[p.path]), ms(s.median), ms(s.p95))
		}
		s := load.perPage[tvPage]
		fmt.Fprintf(w, "| under load: %s | %d teams, %d requests%s | %s ms | %s ms | ≤ 50 ms | %s |\n", tvPage, loadTVTeams, s.n,
			failedText(load.failed[tvPage]), ms(s.median), ms(s.p95), yes(s.n > 0 && s.p95 <= 50*time.Millisecond && load.failed[tvPage] == 0))
		fmt.Fprintf(w, "| peak RSS of `opsreview serve` | %d clients + %d TVs × %s, %d requests | %d MB | | ≤ 150 MB | %s |\n",
			loadClients, loadTVs, loadDuration, load.requests, load.peakRSSKB/1024, yes(load.peakRSSKB <= 150*1024))
		reportTVAlone(w, load)
	}
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func medianF(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}

// failedText says how many requests of a row failed, when any did.
func failedText(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d failed)", n)
}
