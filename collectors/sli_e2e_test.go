package collectors

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
	"github.com/opsreview/opsreview/store/storetest"
)

// lookUpstream finds a binary of the Debian prometheus package; without it the test is skipped,
// unless OPSREVIEW_REQUIRE_UPSTREAM is set.
func lookUpstream(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("OPSREVIEW_REQUIRE_UPSTREAM") != "" {
			t.Fatalf("%s is required (OPSREVIEW_REQUIRE_UPSTREAM is set): %v", name, err)
		}
		t.Skipf("%s not installed (apt-get install prometheus): %v", name, err)
	}
	return p
}

// historyProm starts a Prometheus on a free loopback port whose storage holds the given
// OpenMetrics days, written with promtool before start, and returns its URL.
func historyProm(t *testing.T, days []string) string {
	t.Helper()
	prom, promtool := lookUpstream(t, "prometheus"), lookUpstream(t, "promtool")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	for i, day := range days {
		f := filepath.Join(dir, fmt.Sprintf("day-%02d.om", i))
		if err := os.WriteFile(f, []byte(day), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", f, data).CombinedOutput()
		if err != nil {
			t.Fatalf("promtool on day %d: %v\n%s", i, err, out)
		}
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global: {scrape_interval: 1m}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(prom, "--config.file="+cfg, "--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=60d", "--web.listen-address="+addr)
	log, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		log.Close()
	})
	url := "http://" + addr
	for i := 0; ; i++ {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return url
			}
		}
		if i > 600 { // a bound against a Prometheus that never starts, not an assertion on speed
			b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Fatalf("prometheus did not become ready:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSLIEndToEndRealPrometheus backfills five weeks of generated history from a real Prometheus:
// the stored baselines equal those computed here from the generated values, a value injected
// outside the band is abnormal after K samples, rate() over a counter reset is never negative,
// and an expression returning several series is rejected.
func TestSLIEndToEndRealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	const step = 5 * time.Minute
	berlin, _ := time.LoadLocation("Europe/Berlin")
	end := time.Now().UTC().Truncate(step).Add(-10 * time.Minute)
	start := end.Add(-5 * 7 * 24 * time.Hour)
	r := rand.New(rand.NewPCG(4, 2))

	// latency: one gauge sample per step, daily and weekly shape plus noise; the last three far up.
	var gen []review.Sample
	var days []string
	var b strings.Builder
	counter, dayStart := 0.0, start
	flush := func() {
		b.WriteString("# EOF\n")
		days = append(days, b.String())
		b.Reset()
	}
	var lat, req, multi strings.Builder
	for at := start; !at.After(end); at = at.Add(step) {
		if at.Sub(dayStart) >= 24*time.Hour {
			b.WriteString("# TYPE e2e_latency_seconds gauge\n" + lat.String())
			b.WriteString("# TYPE e2e_requests counter\n" + req.String())
			b.WriteString("# TYPE e2e_multi gauge\n" + multi.String())
			flush()
			lat.Reset()
			req.Reset()
			multi.Reset()
			dayStart = at
		}
		l := at.In(berlin)
		v := 0.2 + 0.05*math.Sin(float64(l.Hour())/24*2*math.Pi) + r.NormFloat64()*0.01
		if l.Weekday() == time.Saturday || l.Weekday() == time.Sunday {
			v -= 0.05
		}
		if !at.Before(end.Add(-2 * step)) {
			v = 3
		}
		gen = append(gen, review.Sample{At: at, Value: v})
		ts := at.Unix()
		fmt.Fprintf(&lat, "e2e_latency_seconds %g %d\n", v, ts)
		counter += 300
		if at.Equal(start.Add(10 * 24 * time.Hour)) {
			counter = 7 // a restart resets the counter
		}
		for s := int64(0); s < 300; s += 60 { // the counter is scraped every minute
			fmt.Fprintf(&req, "e2e_requests_total %g %d\n", counter+float64(s), ts+s)
		}
		fmt.Fprintf(&multi, "e2e_multi{instance=\"a\"} 1 %d\ne2e_multi{instance=\"b\"} 2 %d\n", ts, ts)
	}
	b.WriteString("# TYPE e2e_latency_seconds gauge\n" + lat.String())
	b.WriteString("# TYPE e2e_requests counter\n" + req.String())
	b.WriteString("# TYPE e2e_multi gauge\n" + multi.String())
	flush()
	url := historyProm(t, days)

	st, err := store.Open(context.Background(), storetest.NewURL(t), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{
		Teams: []config.Team{{Name: "payments", Timezone: "Europe/Berlin", Location: berlin}},
		Sources: config.Sources{Prometheus: []config.PrometheusSource{{Name: "prom", URL: url,
			Interval: config.Duration(time.Minute), Lookback: config.Duration(5*7*24*time.Hour + time.Hour),
			Timeout: config.Duration(time.Minute)}}},
		SLIs: []config.SLI{
			{Name: "latency", Source: "prom", Team: "payments", Unit: "s", Direction: "lower-is-better",
				Step: config.Duration(step), Query: "e2e_latency_seconds"},
			{Name: "requests", Source: "prom", Team: "payments", Unit: "req/s", Direction: "higher-is-better",
				Step: config.Duration(step), Query: "sum(rate(e2e_requests_total[10m]))"},
			{Name: "multi", Source: "prom", Unit: "", Direction: "higher-is-better",
				Step: config.Duration(step), Query: "e2e_multi"},
		},
		Baseline: config.Baseline{Weeks: 4, Band: []float64{0.1, 0.9}, AbnormalAfter: 3},
	}
	c, err := NewSLICollector(cfg, cfg.Sources.Prometheus[0], st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	c.Now = func() time.Time { return end.Add(c.Lag + time.Second) }
	began := time.Now()
	err = c.Collect(context.Background())
	took := time.Since(began)
	if err == nil || !strings.Contains(err.Error(), `"multi" returns 2 series`) || !strings.Contains(err.Error(), "aggregate it, e.g. sum(...)") {
		t.Fatalf("Collect: %v; want only the multi-series SLI rejected", err)
	}
	if strings.Contains(err.Error(), "latency") || strings.Contains(err.Error(), "requests:") {
		t.Fatalf("Collect: %v", err)
	}
	var n int
	st.DB().Get(&n, `SELECT count(*) FROM sli_samples`)
	t.Logf("backfill: %d samples in %s: %.0f samples/s (with baselines)", n, took.Round(time.Millisecond), float64(n)/took.Seconds())

	ser, err := st.SLISeries(context.Background(), []string{"latency", "requests"}, start, end)
	if err != nil {
		t.Fatal(err)
	}
	lat2 := ser["latency"]
	if len(lat2.Points) != len(gen) {
		t.Fatalf("%d latency samples stored, %d generated", len(lat2.Points), len(gen))
	}
	for i, p := range lat2.Points {
		if p.Gap || !p.At.Equal(gen[i].At) || math.Abs(p.Value-gen[i].Value) > 1e-9 {
			t.Fatalf("sample %d: stored %+v, generated %+v", i, p.Sample, gen[i])
		}
	}
	spec := review.NewBaselineSpec(4, 0.1, 0.9)
	checked := 0
	for at := end.Add(-7 * 24 * time.Hour); !at.After(end); at = at.Add(37 * time.Minute) {
		want := review.BaselineAt(gen, at, berlin, spec)
		got := lat2.BandAt(at)
		if got.Known() != want.Known() || (want.Known() && (math.Abs(*got.Median-*want.Median) > 1e-9 ||
			math.Abs(*got.Low-*want.Low) > 1e-9 || math.Abs(*got.High-*want.High) > 1e-9)) {
			t.Fatalf("at %s: stored band %+v, computed %+v", at, got, want)
		}
		checked++
	}
	t.Logf("%d baselines equal the computed ones", checked)

	k := cfg.Baseline.AbnormalAfter
	judge := func(at time.Time) review.Normal {
		return review.Judge(lat2.Points, at, lat2.BandAt(at), review.LowerIsBetter, k, time.Hour)
	}
	if nm := judge(end.Add(-step)); nm.Abnormal {
		t.Errorf("abnormal after two samples outside: %+v", nm)
	}
	if nm := judge(end); !nm.Abnormal || !nm.Since.Equal(end.Add(-2*step)) {
		t.Errorf("after K samples outside: abnormal %v since %v, want since %s", nm.Abnormal, nm.Since, end.Add(-2*step))
	}
	for _, p := range ser["requests"].Points {
		if !p.Gap && p.Value < 0 {
			t.Fatalf("negative rate %v at %s", p.Value, p.At)
		}
	}
}
