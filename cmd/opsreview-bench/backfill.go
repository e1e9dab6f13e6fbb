package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/opsreview/opsreview/collectors"
	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// The SLI backfill benchmark: a real Prometheus (Debian's prometheus and promtool) holding
// backfillWeeks of 5-minute samples for --backfill-slis series, written as TSDB blocks with promtool
// before it starts; opsreview's SLI collector backfills every SLI into a scratch database, as
// `serve` does on its first run against a source, and the stored samples per second are reported.
const (
	backfillStep  = 5 * time.Minute
	backfillWeeks = 8
	backfillDB    = "opsreview_bench_backfill"
	backfillQuery = `bench_sli{sli="%s"}`
)

// backfillResult is what one backfill measurement gives.
type backfillResult struct {
	slis, samplesPerRun int
	perSecond           []float64  // end to end, one per run
	cpu                 []cpuSplit // CPU seconds spent per run, by process
	loadAvg             []string   // the 1-minute load average at each run's end
	queryPS, storePS    float64    // query_range alone, SaveSLISamples alone (a subset, sequential)
	splitSLIs           int
}

// runBackfill measures the SLI backfill and prints its table.
// Within a full run (no --only) a machine without Debian's prometheus package skips it.
func runBackfill(ctx context.Context, o options) error {
	if o.only == "" {
		for _, bin := range []string{"prometheus", "promtool"} {
			if _, err := exec.LookPath(bin); err != nil {
				fmt.Fprintf(o.out, "\nSLI backfill not measured: %s is not installed (apt-get install prometheus).\n", bin)
				return nil
			}
		}
	}
	res, err := measureBackfill(ctx, o)
	if err != nil {
		return err
	}
	reportBackfill(o.out, res)
	return nil
}

func measureBackfill(ctx context.Context, o options) (*backfillResult, error) {
	nSLI := o.backfillSLIs
	if nSLI <= 0 {
		nSLI = 100
	}
	runs := max(1, min(o.runs, 5))
	dir, err := os.MkdirTemp("", "opsreview-bench-prom-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	// The samples end 10 minutes ago: the collector's now is the real one (it follows the source's
	// clock), so the history is written relative to it.
	end := time.Now().UTC().Truncate(backfillStep).Add(-10 * time.Minute)
	start := end.Add(-backfillWeeks * 7 * 24 * time.Hour)
	names := make([]string, nSLI)
	for i := range names {
		names[i] = fmt.Sprintf("sli-%03d", i)
	}
	began := time.Now()
	if err := writeBackfillBlocks(ctx, dir, names, start, end); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.log, "backfill: %d SLIs × %d weeks written as TSDB blocks in %s\n", nSLI, backfillWeeks, time.Since(began).Round(time.Second))
	promURL, promPID, stop, err := startBenchPrometheus(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer stop()

	st, dbURL, err := scratchStore(ctx, o.base, backfillDB)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	cfg, err := backfillConfig(dbURL, promURL, names)
	if err != nil {
		return nil, err
	}
	res := &backfillResult{slis: nSLI}
	for run := 0; run < runs; run++ {
		if err := clearSLIs(ctx, st); err != nil {
			return nil, err
		}
		c, err := collectors.NewSLICollector(cfg, cfg.Sources.Prometheus[0], st, slog.New(slog.DiscardHandler))
		if err != nil {
			return nil, err
		}
		stopProfile := startProfile(o.log, run)
		cpu0 := cpuNow(ctx, st, promPID)
		t0 := time.Now()
		err = c.Collect(ctx)
		d := time.Since(t0)
		cpu := cpuNow(ctx, st, promPID).minus(cpu0)
		stopProfile()
		if err != nil {
			return nil, fmt.Errorf("backfill run %d: %w", run+1, err)
		}
		var n int
		if err := st.DB().GetContext(ctx, &n, `SELECT count(*) FROM sli_samples`); err != nil {
			return nil, fmt.Errorf("counting stored samples: %w", err)
		}
		ps := float64(n) / d.Seconds()
		res.samplesPerRun = n
		res.perSecond = append(res.perSecond, ps)
		res.loadAvg = append(res.loadAvg, loadAverage())
		res.cpu = append(res.cpu, cpu)
		fmt.Fprintf(o.log, "backfill run %d: %d samples in %s: %.0f samples/s (load average %s); CPU: collector %.1f s, Postgres %.1f s, Prometheus %.1f s\n",
			run+1, n, d.Round(time.Millisecond), ps, loadAverage(), cpu.collector, cpu.postgres, cpu.prometheus)
	}
	res.splitSLIs = min(nSLI, 20)
	if res.queryPS, res.storePS, err = backfillSplit(ctx, o, st, cfg, names[:res.splitSLIs]); err != nil {
		return nil, err
	}
	return res, nil
}

// backfillSplit times the two halves of the backfill apart, sequentially, on a subset of the SLIs:
// query_range (with the JSON decoding) of every chunk, then SaveSLISamples of the decoded chunks.
func backfillSplit(ctx context.Context, o options, st *store.Store, cfg *config.Config, names []string) (float64, float64, error) {
	api, err := collectors.NewSLIQueryAPI(cfg.Sources.Prometheus[0])
	if err != nil {
		return 0, 0, err
	}
	now := time.Now().UTC()
	end := now.Add(-2 * time.Minute).Truncate(backfillStep)
	start := now.Add(-cfg.Sources.Prometheus[0].Lookback.D()).Truncate(backfillStep).Add(backfillStep)
	type chunk struct {
		sli     config.SLI
		samples []review.Sample
	}
	var chunks []chunk
	n := 0
	t0 := time.Now()
	for _, s := range cfg.SLIs[:len(names)] {
		for from := start; !from.After(end); from = from.Add(collectors.MaxChunkPoints * backfillStep) {
			to := minTime(end, from.Add((collectors.MaxChunkPoints-1)*backfillStep))
			val, _, _, err := api.QueryRange(ctx, s.Query, v1.Range{Start: from, End: to, Step: backfillStep})
			if err != nil {
				return 0, 0, fmt.Errorf("query_range: %w", err)
			}
			var samples []review.Sample
			for at := from; !at.After(to); at = at.Add(backfillStep) {
				samples = append(samples, review.Sample{At: at, Gap: true})
			}
			if m, ok := val.(model.Matrix); ok && len(m) == 1 {
				for _, sp := range m[0].Values {
					samples[sp.Timestamp.Time().Sub(from)/backfillStep] = review.Sample{At: sp.Timestamp.Time().UTC(), Value: float64(sp.Value)}
				}
			}
			n += len(samples)
			chunks = append(chunks, chunk{s, samples})
		}
	}
	queryPS := float64(n) / time.Since(t0).Seconds()
	if err := clearSLIs(ctx, st); err != nil {
		return 0, 0, err
	}
	refs := map[string]int64{}
	for _, s := range cfg.SLIs[:len(names)] {
		ref, err := st.EnsureSLI(ctx, store.SLIDef{Name: s.Name, Source: s.Source, Query: s.Query, Step: s.Step.D()}, collectors.Job(cfg, s))
		if err != nil {
			return 0, 0, err
		}
		refs[s.Name] = ref.ID
	}
	t0 = time.Now()
	for _, c := range chunks {
		to := c.samples[len(c.samples)-1].At
		if err := st.SaveSLISamples(ctx, refs[c.sli.Name], c.samples, &to, collectors.Job(cfg, c.sli)); err != nil {
			return 0, 0, err
		}
	}
	storePS := float64(n) / time.Since(t0).Seconds()
	fmt.Fprintf(o.log, "backfill split over %d SLIs: query_range alone %.0f samples/s, store alone %.0f samples/s\n", len(names), queryPS, storePS)
	return queryPS, storePS, nil
}

func reportBackfill(w io.Writer, r *backfillResult) {
	s := append([]float64(nil), r.perSecond...)
	sort.Float64s(s)
	med, p95 := s[len(s)/2], s[min(len(s)-1, int(float64(len(s))*0.05))]
	fmt.Fprintf(w, "\nSLI backfill from a real Prometheus: %d SLIs × %d weeks × %s (%d samples a run), load average at each run's end: %v\n\n",
		r.slis, backfillWeeks, backfillStep, r.samplesPerRun, r.loadAvg)
	fmt.Fprintf(w, "| what | scope | median | p95 (slowest 5 %%) | target | met |\n|---|---|---:|---:|---|---|\n")
	fmt.Fprintf(w, "| backfill: SLI collector, end to end | %d SLIs, %d runs | %.0f samples/s | %.0f samples/s | ≥ 100,000 samples/s | %s |\n",
		r.slis, len(s), med, p95, yes(p95 >= 100_000))
	// CPU per sample does not depend on what else the machine runs; two cores fully ours would store
	// 2 / (CPU seconds per sample) samples a second.
	var per []float64
	var last cpuSplit
	for _, c := range r.cpu {
		per = append(per, c.total()/float64(r.samplesPerRun))
		last = c
	}
	sort.Float64s(per)
	if len(per) > 0 && per[len(per)/2] > 0 {
		fmt.Fprintf(w, "| backfill: CPU per sample (collector + Postgres + Prometheus) | %d SLIs, %d runs | %.1f µs | | | |\n",
			r.slis, len(per), 1e6*per[len(per)/2])
		fmt.Fprintf(w, "| backfill: what 2 idle cores would store at that CPU cost | | %.0f samples/s | | ≥ 100,000 samples/s | %s |\n",
			2/per[len(per)/2], yes(2/per[len(per)/2] >= 100_000))
		fmt.Fprintf(w, "| backfill: CPU split of the last run | | collector %.1f s, Postgres %.1f s, Prometheus %.1f s | | | |\n",
			last.collector, last.postgres, last.prometheus)
	}
	fmt.Fprintf(w, "| backfill: query_range alone (sequential) | %d SLIs, 1 run | %.0f samples/s | | | |\n", r.splitSLIs, r.queryPS)
	fmt.Fprintf(w, "| backfill: SaveSLISamples alone (sequential) | %d SLIs, 1 run | %.0f samples/s | | | |\n", r.splitSLIs, r.storePS)
}

// backfillConfig is a configuration with one Prometheus source and an SLI per series.
func backfillConfig(dbURL, promURL string, names []string) (*config.Config, error) {
	os.Setenv("DATABASE_URL", dbURL)
	cfg, err := config.Load("")
	if err != nil {
		return nil, fmt.Errorf("loading the default config: %w", err)
	}
	cfg.Demo = false
	cfg.Database.URL = dbURL
	cfg.Sources.Prometheus = []config.PrometheusSource{{Name: "bench", URL: promURL, Interval: config.Duration(time.Minute),
		Lookback: config.Duration(backfillWeeks * 7 * 24 * time.Hour), Timeout: config.Duration(time.Minute)}}
	cfg.SLIs = nil
	for _, n := range names {
		cfg.SLIs = append(cfg.SLIs, config.SLI{Name: n, Source: "bench", Direction: "lower-is-better", Unit: "ms",
			Step: config.Duration(backfillStep), Query: fmt.Sprintf(backfillQuery, n)})
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating the backfill config: %w", err)
	}
	return cfg, nil
}

func clearSLIs(ctx context.Context, st *store.Store) error {
	if _, err := st.DB().ExecContext(ctx, `TRUNCATE sli_samples, sli_baselines, slis CASCADE`); err != nil {
		return fmt.Errorf("clearing the SLI tables: %w", err)
	}
	return nil
}

// writeBackfillBlocks writes the series as OpenMetrics and turns them into TSDB blocks under
// dir/data with promtool. Values follow a daily shape with noise; each series misses an hour a
// week (gaps the collector must store as such).
func writeBackfillBlocks(ctx context.Context, dir string, names []string, start, end time.Time) error {
	om := filepath.Join(dir, "history.om")
	f, err := os.Create(om)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("# HELP bench_sli A generated SLI.\n# TYPE bench_sli gauge\n")
	rng := rand.New(rand.NewPCG(6, 1))
	var line []byte
	for i, n := range names {
		gapAt := time.Duration(rng.IntN(7*24)) * time.Hour // the hour of each week with no samples
		base := 50 + float64(i%17)*10
		for at := start; !at.After(end); at = at.Add(backfillStep) {
			if at.Sub(start)%(7*24*time.Hour)/time.Hour == gapAt/time.Hour {
				continue
			}
			h := float64(at.Hour()) + float64(at.Minute())/60
			v := base * (1 + 0.3*math.Sin(2*math.Pi*h/24) + 0.05*rng.NormFloat64())
			line = append(line[:0], `bench_sli{sli="`...)
			line = append(line, n...)
			line = append(line, `"} `...)
			line = strconv.AppendFloat(line, v, 'f', 3, 64)
			line = append(line, ' ')
			line = strconv.AppendInt(line, at.Unix(), 10)
			line = append(line, '\n')
			w.Write(line)
		}
	}
	w.WriteString("# EOF\n")
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		return fmt.Errorf("the backfill benchmark needs promtool (apt-get install prometheus): %w", err)
	}
	out, err := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet",
		"--max-block-duration=744h", om, filepath.Join(dir, "data")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("promtool tsdb create-blocks-from openmetrics: %w\n%s", err, out)
	}
	return os.Remove(om)
}

// startBenchPrometheus starts prometheus on a free loopback port over dir/data and waits until it
// is ready. It scrapes nothing and keeps a year, so the blocks are neither compacted nor deleted
// while it runs.
func startBenchPrometheus(ctx context.Context, dir string) (string, int, func(), error) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		return "", 0, nil, fmt.Errorf("the backfill benchmark needs prometheus (apt-get install prometheus): %w", err)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global: {scrape_interval: 1m}\n"), 0o644); err != nil {
		return "", 0, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", 0, nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		return "", 0, nil, err
	}
	pctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(pctx, bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--storage.tsdb.retention.time=1y", "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		cancel()
		return "", 0, nil, fmt.Errorf("starting prometheus: %w", err)
	}
	stop := func() {
		cancel()
		cmd.Wait()
		logf.Close()
	}
	url := "http://" + addr
	for i := 0; ; i++ {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, cmd.Process.Pid, stop, nil
			}
		}
		if i > 1200 || ctx.Err() != nil {
			stop()
			b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			return "", 0, nil, errors.Join(errors.New("prometheus did not become ready:\n"+string(b)), ctx.Err())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startProfile writes a CPU profile of the run to $OPSREVIEW_BENCH_CPUPROFILE.N when that is set.
func startProfile(log io.Writer, run int) func() {
	path := os.Getenv("OPSREVIEW_BENCH_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(fmt.Sprintf("%s.%d", path, run+1))
	if err != nil {
		fmt.Fprintf(log, "cpu profile: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(log, "cpu profile: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// cpuSplit is CPU time (user + system) in seconds: this process (the collector), the Postgres
// backends of the scratch database, Prometheus.
type cpuSplit struct{ collector, postgres, prometheus float64 }

func (c cpuSplit) total() float64 { return c.collector + c.postgres + c.prometheus }

func (c cpuSplit) minus(d cpuSplit) cpuSplit {
	return cpuSplit{c.collector - d.collector, c.postgres - d.postgres, c.prometheus - d.prometheus}
}

// cpuNow reads the CPU time of the three from /proc (Linux, Postgres on this machine; zero
// elsewhere). A backend that ends during a run is not counted: the store's pool keeps its
// connections open.
func cpuNow(ctx context.Context, st *store.Store, promPID int) cpuSplit {
	var pids []int64
	_ = st.DB().SelectContext(ctx, &pids, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	c := cpuSplit{collector: procCPU(os.Getpid()), prometheus: procCPU(promPID)}
	for _, p := range pids {
		c.postgres += procCPU(int(p))
	}
	return c
}

// procCPU is a process's user + system CPU seconds from /proc/PID/stat (clock ticks of 1/100 s).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command may contain spaces
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	sy, _ := strconv.ParseFloat(f[12], 64)
	return (u + sy) / 100
}

// loadAverage is the 1-minute load average, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil || len(b) == 0 {
		return "?"
	}
	var one string
	fmt.Sscan(string(b), &one)
	return one
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
