package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/opsreview/opsreview/config"
)

// The load test of issue 6: 50 wall TVs, each polling every panel every 10 s as the TV page does,
// while 20 people load the review pages back to back.
const (
	loadClients  = 20
	loadTVs      = 50
	loadTVTeams  = 5 // the TVs show the first five teams, ten screens each
	tvInterval   = 10 * time.Second
	loadDuration = 40 * time.Second
)

// tvPanels are the TV's panels, each polled on its own like the page's htmx does.
var tvPanels = []string{"firing", "slis", "pages", "noisiest", "toil", "runbooks", "freshness"}

// tvPage is the label all TV panel requests are summarised under; tvAlonePage those of the
// screens polling on their own after the load, for tvAloneDuration.
const (
	tvPage          = "/tv/panel/* (50 screens)"
	tvAlonePage     = "/tv/panel/* (50 screens alone)"
	tvAloneDuration = 3 * tvInterval
	tvFirst         = ", first interval"
	tvSteady        = ", after the first interval"
)

// loadResult is what a load test of `opsreview serve` measured.
type loadResult struct {
	peakRSSKB int64
	requests  int
	perPage   map[string]stats
	failed    map[string]int // requests that got an error or a status other than 200
	tvCPU     float64        // serve's CPU time per wall time (1 = a core) with only the TVs polling
}

// measureServe starts `opsreview serve` on the data set, has loadClients clients request the pages
// round-robin and loadTVs screens poll the TV panels for loadDuration, and reads the process's
// peak RSS (VmHWM) at the end.
func measureServe(ctx context.Context, o options, cfg *config.Config, pages []page) (*loadResult, error) {
	dir, err := os.MkdirTemp("", "opsreview-bench")
	if err != nil {
		return nil, fmt.Errorf("making a temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("finding a free port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "database: {url: %q}\npaging_receivers: [%s]\nteams:\n", cfg.Database.URL, strings.Join(cfg.PagingReceivers, ", "))
	for _, t := range cfg.Teams {
		fmt.Fprintf(&b, "  - {name: %s, timezone: UTC, match: {team: %s}}\n", t.Name, t.Name)
	}
	path := filepath.Join(dir, "opsreview.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return nil, fmt.Errorf("writing the config: %w", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(cctx, o.serveBin, "serve", "--config", path, "--listen", addr)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+cfg.Database.URL)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &syncWriter{w: &logs}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", o.serveBin, err)
	}
	defer func() { cancel(); cmd.Wait() }() // stop serve before waiting for it
	base := "http://" + addr
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("opsreview serve never became ready:\n%s", logs.String())
		}
	}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: loadClients + loadTVs}}
	var (
		mu      sync.Mutex
		lat     = map[string][]time.Duration{}
		failed  = map[string]int{}
		lastErr error
		wg      sync.WaitGroup
	)
	end := time.Now().Add(loadDuration)
	for c := 0; c < loadClients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := c; time.Now().Before(end) && cctx.Err() == nil; i++ {
				p := pages[i%len(pages)]
				t0 := time.Now()
				resp, err := client.Get(base + p.path)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("GET %s: status %d", p.path, resp.StatusCode)
					}
				}
				mu.Lock()
				if err != nil {
					failed[p.path]++
					lastErr = err
				}
				lat[p.path] = append(lat[p.path], time.Since(t0))
				mu.Unlock()
			}
		}(c)
	}
	// pollTVs runs the 50 screens until end, each switched on within the first interval; their
	// latencies are recorded under label, and under label+tvFirst in the first interval (screens
	// switched on: the first poll of a panel waits for its first load), label+tvSteady after it.
	pollTVs := func(end time.Time, label string) {
		warm := time.Now().Add(tvInterval)
		for tv := 0; tv < loadTVs; tv++ {
			wg.Add(1)
			go func(tv int) {
				defer wg.Done()
				team := cfg.Teams[tv%min(loadTVTeams, len(cfg.Teams))].Name
				// Screens are switched on over the first interval, not all in the same millisecond.
				time.Sleep(time.Duration(tv) * tvInterval / loadTVs)
				for next := time.Now(); time.Now().Before(end) && cctx.Err() == nil; next = next.Add(tvInterval) {
					for _, panel := range tvPanels {
						t0 := time.Now()
						resp, err := client.Get(base + "/tv/panel/" + panel + "?team=" + team)
						if err == nil {
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if resp.StatusCode != http.StatusOK {
								err = fmt.Errorf("GET /tv/panel/%s: status %d", panel, resp.StatusCode)
							}
						}
						mu.Lock()
						if err != nil {
							failed[label]++
							lastErr = err
						}
						lat[label] = append(lat[label], time.Since(t0))
						part := tvSteady
						if t0.Before(warm) {
							part = tvFirst
						}
						lat[label+part] = append(lat[label+part], time.Since(t0))
						mu.Unlock()
					}
					time.Sleep(time.Until(next.Add(tvInterval)))
				}
			}(tv)
		}
	}
	pollTVs(end, tvPage)
	wg.Wait()
	// Then the screens alone, as on a normal day: serve's CPU time (from /proc) over that window is
	// what 50 screens cost (issue 6: at most 1 % of a core). Postgres' share is one load per
	// panel per interval, counted by TestFiftyTVsCostWhatOneTVCosts.
	cpu0, t0 := procCPU(cmd.Process.Pid), time.Now()
	pollTVs(time.Now().Add(tvAloneDuration), tvAlonePage)
	wg.Wait()
	tvCPU := (procCPU(cmd.Process.Pid) - cpu0) / time.Since(t0).Seconds()
	wg.Wait()
	if lastErr != nil {
		// Under overload pages time out and TV panels answer 503 (no data yet): that is a result.
		fmt.Fprintf(o.log, "load test: %d failed requests, the last: %v\n", sumInts(failed), lastErr)
	}
	res := &loadResult{perPage: map[string]stats{}, failed: failed, peakRSSKB: vmHWM(cmd.Process.Pid), tvCPU: tvCPU}
	for p, ds := range lat {
		res.perPage[p] = summarize(ds)
		if !strings.HasSuffix(p, tvFirst) && !strings.HasSuffix(p, tvSteady) { // counted under its label already
			res.requests += len(ds)
		}
	}
	fmt.Fprintf(o.log, "load test: %d requests, peak RSS %d MB; 50 TVs alone: %.2f %% of a core\n", res.requests, res.peakRSSKB/1024, tvCPU*100)
	return res, nil
}

// reportTVAlone writes the report's rows for the screens polling alone: their latency and the
// CPU serve spent on them.
func reportTVAlone(w io.Writer, load *loadResult) {
	first, steady := load.perPage[tvPage+tvFirst], load.perPage[tvPage+tvSteady]
	fmt.Fprintf(w, "| under load: %s | first %s (screens switched on), %d requests | %s ms | %s ms | | |\n", tvPage, tvInterval,
		first.n, ms(first.median), ms(first.p95))
	fmt.Fprintf(w, "| under load: %s | after the first %s, %d requests | %s ms | %s ms | | |\n", tvPage, tvInterval,
		steady.n, ms(steady.median), ms(steady.p95))
	s := load.perPage[tvAlonePage]
	fmt.Fprintf(w, "| TVs alone: %s | %d teams, %d requests%s | %s ms | %s ms | ≤ 50 ms | %s |\n", tvPage, loadTVTeams, s.n,
		failedText(load.failed[tvAlonePage]), ms(s.median), ms(s.p95), yes(s.n > 0 && s.p95 <= 50*time.Millisecond && load.failed[tvAlonePage] == 0))
	fmt.Fprintf(w, "| CPU of `opsreview serve`, 50 TVs alone | %s, %d requests | %.2f %% of a core | | ≤ 1 %% | %s |\n",
		tvAloneDuration, s.n, load.tvCPU*100, yes(load.tvCPU <= 0.01))
}

// vmHWM reads a process's peak resident set size in kB (0 when unknown).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:")), "%d", &kb)
			return kb
		}
	}
	return 0
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func sumInts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
