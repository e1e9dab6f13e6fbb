package main

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/opsreview/opsreview/collectors/upstreamtest"
)

// Scenario 2, backfill: opsreview (a child process) backfills days of ALERTS history from a real
// Prometheus, one UTC day per transaction, and is SIGKILLed at random moments of it 4 times (20
// under OPSREVIEW_SOAK=1). After every kill the watermark is consistent (every true episode that
// starts before it is stored); after the last restart and quiescence nothing is lost or doubled,
// runs that cross midnight (a chunk boundary) included.
func TestReliabilityOpsreviewKilledDuringBackfill(t *testing.T) {
	trials, days, series := 4, 3, 60
	if soak() {
		trials, days, series = 20, 7, 300
	}
	ctx := upstreamtest.Context(t)
	now := time.Now().UTC().Truncate(15 * time.Second)
	history, truth := alertsHistory(now, days, series)
	prom := upstreamtest.StartPrometheus(t, upstreamtest.PrometheusOptions{History: history})

	dbURL := storetestURL(t)
	addr := freeAddr(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "opsreview.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
sources:
  prometheus: [{name: prom, url: %q, interval: 1s, lookback: %dh, timeout: 60s}]
`, prom.URL, (days+1)*24)), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, bin: buildOpsreview(t), args: []string{"serve", "--config", cfg, "--listen", addr},
		env: []string{"DATABASE_URL=" + dbURL}, logPath: filepath.Join(dir, "opsreview.log"), url: "http://" + addr}
	t.Cleanup(func() {
		c.kill()
		if t.Failed() {
			b, _ := os.ReadFile(c.logPath)
			t.Logf("opsreview output:\n%s", b)
		}
	})
	o := newOracle(0)
	for _, te := range truth {
		o.truth[labelKey(te.labels)] = append(o.truth[labelKey(te.labels)], te)
		o.names[te.labels["alertname"]] = true
	}

	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rnd := rand.New(rand.NewSource(time.Now().UnixNano()))
	var marks []string
	var slowest time.Duration
	for trial := 0; trial < trials; trial++ {
		ready := c.start()
		slowest = max(slowest, ready)
		if ready > 5*time.Second {
			t.Errorf("trial %d: ready %v after restart, want within 5s", trial, ready)
		}
		time.Sleep(time.Duration(rnd.Int63n(int64(2 * time.Second))))
		c.kill()
		wm := watermark(ctx, t, db, "prom", "prometheus")
		marks = append(marks, wmString(wm, now))
		if missing := storedBefore(t, c, o, wm); len(missing) > 0 {
			// Checked with opsreview down: read the store through a fresh process.
			t.Fatalf("trial %d: the watermark %v is past %d true episodes that are not stored, e.g. %v", trial, wm, len(missing), missing[0])
		}
	}
	c.start()
	rep := o.settle(t, c.url, 180*time.Second)
	t.Logf("%d kills during the backfill of %d days of %d ALERTS series; slowest restart to ready %v; watermark after each kill: %s; %v",
		trials, days, series, slowest.Round(time.Millisecond), strings.Join(marks, ", "), rep)
	if !rep.clean() {
		t.Fatalf("after %d kills: %v", trials, rep)
	}
}

// alertsHistory builds days of ALERTS{alertstate="firing"} samples every 15 s for series alert
// instances over ten alertnames, each firing for 5 to 20 minutes every two hours at its own offset,
// as OpenMetrics text, and the true episodes: from the first sample to one interval after the last.
func alertsHistory(now time.Time, days, series int) (string, []*trueEpisode) {
	const step = 15 * time.Second
	from := now.Add(-time.Duration(days) * 24 * time.Hour)
	var b strings.Builder
	b.WriteString("# TYPE ALERTS gauge\n")
	var truth []*trueEpisode
	for i := 0; i < series; i++ {
		labels := map[string]string{"alertname": fmt.Sprintf("KillBackfill_a%02d", i%10),
			"instance": fmt.Sprintf("host-%03d", i), "severity": "page"}
		lbl := fmt.Sprintf(`alertname=%q,alertstate="firing",instance=%q,severity="page"`, labels["alertname"], labels["instance"])
		length := time.Duration(5+(i%4)*5) * time.Minute
		for s := from.Add(time.Duration(i*7%120) * time.Minute); s.Add(length).Before(now.Add(-10 * time.Minute)); s = s.Add(2 * time.Hour) {
			end := s.Add(length)
			for ts := s; ts.Before(end); ts = ts.Add(step) {
				fmt.Fprintf(&b, "ALERTS{%s} 1 %d\n", lbl, ts.Unix())
			}
			e := end
			truth = append(truth, &trueEpisode{labels: labels, start: s, end: &e})
		}
	}
	b.WriteString("# EOF\n")
	return b.String(), truth
}

// watermark reads a collector's watermark from the store; zero when it has none.
func watermark(ctx context.Context, t *testing.T, db *sqlx.DB, source, kind string) time.Time {
	t.Helper()
	var wm *time.Time
	err := db.GetContext(ctx, &wm, `SELECT watermark FROM collector_state WHERE source = $1 AND kind = $2`, source, kind)
	if err != nil && !strings.Contains(err.Error(), "no rows") {
		t.Fatalf("reading the watermark: %v", err)
	}
	if wm == nil {
		return time.Time{}
	}
	return wm.UTC()
}

func wmString(wm, now time.Time) string {
	if wm.IsZero() {
		return "none"
	}
	if now.Sub(wm) < time.Minute {
		return "caught up"
	}
	return fmt.Sprintf("%v behind", now.Sub(wm).Round(time.Minute))
}

// storedBefore lists the true episodes that start before the watermark but are not stored with
// their start, reading the store through opsreview started for the purpose and killed again.
func storedBefore(t *testing.T, c *child, o *oracle, wm time.Time) []string {
	t.Helper()
	if wm.IsZero() {
		return nil
	}
	// Started and read at once: a backfill running meanwhile only adds episodes.
	c.start()
	defer c.kill()
	stored := map[string][]time.Time{}
	for name := range o.names {
		eps, err := allEpisodes(c.url, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range eps {
			stored[labelKey(e.Labels)] = append(stored[labelKey(e.Labels)], e.StartsAt)
		}
	}
	var missing []string
	for k, eps := range o.truth {
		for _, te := range eps {
			if !te.start.Before(wm) {
				continue
			}
			found := false
			for _, s := range stored[k] {
				found = found || (s.Sub(te.start) < time.Second && te.start.Sub(s) < time.Second)
			}
			if !found {
				missing = append(missing, fmt.Sprintf("%s@%s", k, te.start.Format(time.RFC3339)))
			}
		}
	}
	return missing
}
