package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// report prints the run as one Markdown table (and a few lines of context) on o.out.
func report(o options, c datasetCounts, ingest []ingestResult, ps []page, lat map[string]stats, normal *normalResult, load *loadResult) {
	w := o.out
	fmt.Fprintf(w, "Machine: %s\n\n", machine(context.Background()))
	fmt.Fprintf(w, "Data set: scale %s, seed %d: %d teams, %d rules, %d episodes, %d notifications, %d first notifications (receiver_episodes), ending %s; "+
		"%d SLIs, %d samples (%d weeks at 5-minute steps, to %s).\n\n",
		o.scale.Name, o.seed, o.scale.Teams, o.scale.Rules, c.Episodes, c.Notifications, c.Pages, dataEnd.Format("2006-01-02"),
		c.SLIs, c.SLISamples, o.scale.SLIWeeks, sliEnd.Format("2006-01-02 15:04"))
	fmt.Fprintf(w, "| what | scope | median | p95 | target | met |\n|---|---|---:|---:|---|---|\n")
	med := make([]float64, len(ingestModes))
	for _, r := range ingest {
		m := medianF(r.alertsPS)
		for i := range ingestModes {
			if r.name == ingestModes[i].name {
				med[i] = m
			}
		}
		s := summarize(r.latencies)
		fmt.Fprintf(w, "| ingest: %s | %d × %d-alert payloads, %d writers | %.0f alerts/s | %s ms/payload | | |\n",
			r.name, s.n, ingestAlerts, ingestWorkers, m, ms(s.p95))
	}
	if len(ingest) > 0 {
		webhook := med[modeWebhook]
		for _, c := range []struct {
			label string
			mode  int
		}{{"", modeCopy}, {", all rows", modeAllCopy}} {
			r := webhook / med[c.mode]
			fmt.Fprintf(w, "| ingest: webhook ÷ raw COPY%s | | %.0f %% | | ≥ 50 %% | %s |\n", c.label, 100*r, yes(r >= 0.5))
		}
		for _, c := range []struct {
			label string
			mode  int
		}{{"INSERT per alert, autocommit", modeInsertAutocommit}, {"INSERT per alert, one tx", modeInsertTx},
			{"INSERT per row, autocommit, all rows", modeAllInsertAutocommit}, {"INSERT per row, one tx, all rows", modeAllInsertTx}} {
			r := webhook / med[c.mode]
			fmt.Fprintf(w, "| ingest: webhook ÷ %s | | %.1f× | | ≥ 10× | %s |\n", c.label, r, yes(r >= 10))
		}
	}
	pageRows(w, ps, lat)
	if normal != nil {
		pageRows(w, normal.pages, normal.lat)
		pageRows(w, normal.tv, normal.tvLat)
		if b := normal.baselines; b != nil {
			fmt.Fprintf(w, "| baseline recomputation, every SLI (RebuildBaselines, one after another) | %d SLIs, %d baselines, %.1f s in all | %s ms/SLI | %s ms/SLI | | |\n",
				b.slis, b.rows, b.total.Seconds(), ms(b.per.median), ms(b.per.p95))
		}
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

// pageRows prints one row per page measured (none when lat is empty).
func pageRows(w io.Writer, ps []page, lat map[string]stats) {
	for _, p := range ps {
		if len(lat) == 0 {
			break
		}
		s := lat[p.path]
		target := p.target
		switch {
		case target != 0:
		case p.scope == "all teams":
			target = 500 * time.Millisecond
		default:
			target = 150 * time.Millisecond
		}
		fmt.Fprintf(w, "| %s | %s, %d runs | %s ms | %s ms | ≤ %d ms | %s |\n", p.name, p.scope, s.n, ms(s.median), ms(s.p95),
			target.Milliseconds(), yes(s.p95 <= target))
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
