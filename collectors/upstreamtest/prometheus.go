package upstreamtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// PrometheusOptions configures StartPrometheus.
type PrometheusOptions struct {
	// Targets are scraped at /metrics under job JobName: "host:port" or a
	// URL such as Target.URL (only its host is used).
	Targets []string
	// JobName is the scrape job's name; default "test".
	JobName string
	// TargetLabels are added to every target (static_configs labels).
	TargetLabels map[string]string
	// ScrapeInterval and EvaluationInterval default to 1s.
	ScrapeInterval, EvaluationInterval time.Duration
	// ExternalLabels are the global external_labels, which Prometheus adds
	// to the alerts it sends but not to its own ALERTS series.
	ExternalLabels map[string]string
	// Alertmanagers are the base URLs (Alertmanager.URL) alerts are sent to.
	Alertmanagers []string
	// Rules is the content of a rule file (groups: …); empty for none.
	Rules string
	// History is OpenMetrics text (ending in "# EOF") imported into the TSDB with promtool
	// before the first start, so that Prometheus holds days of samples at once: e.g. ALERTS
	// series for a backfill. Samples must be older than the start and in time order per series.
	History string
	// Flags are added to the command line, e.g. "--rules.alert.for-grace-period=1s".
	Flags []string
}

// Prometheus is a running Prometheus server owned by one test. Its methods
// must be called from the test's goroutine.
type Prometheus struct {
	// URL is the base URL, like http://127.0.0.1:9090 (no trailing slash).
	// It stays the same across Stop and Restart.
	URL string
	p   *process
}

// StartPrometheus writes prometheus.yml (and the rule file) from opts,
// starts prometheus on a free loopback port and returns once every target
// is scraped successfully and every Alertmanager is in use: /-/ready alone
// comes seconds before Prometheus scrapes or talks to Alertmanager. The
// server is killed when the test ends.
func StartPrometheus(tb testing.TB, opts PrometheusOptions) *Prometheus {
	tb.Helper()
	bin := lookBinary(tb, "prometheus", "prometheus")
	dir := tb.TempDir()
	cfg, err := prometheusConfig(opts)
	if err != nil {
		tb.Fatalf("upstreamtest: %v", err)
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		tb.Fatalf("upstreamtest: write prometheus config: %v", err)
	}
	if opts.Rules != "" {
		if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(opts.Rules), 0o644); err != nil {
			tb.Fatalf("upstreamtest: write rule file: %v", err)
		}
	}
	storage := filepath.Join(dir, "data")
	if opts.History != "" {
		importHistory(tb, dir, storage, opts.History)
	}
	args := func(port int) []string {
		return append([]string{
			"--config.file=" + cfgPath,
			"--storage.tsdb.path=" + storage,
			"--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
			"--web.external-url=http://127.0.0.1:" + strconv.Itoa(port),
		}, opts.Flags...)
	}
	ready := func(ctx context.Context, base string) error {
		return prometheusReady(ctx, base, len(opts.Targets), opts.Alertmanagers)
	}
	p := newProcess(tb, "prometheus", bin, dir, args, ready)
	p.start(false)
	return &Prometheus{URL: p.baseURL(), p: p}
}

// importHistory writes OpenMetrics text into TSDB blocks under storage with promtool.
func importHistory(tb testing.TB, dir, storage, history string) {
	tb.Helper()
	promtool := lookBinary(tb, "prometheus", "promtool")
	in := filepath.Join(dir, "history.om")
	if err := os.WriteFile(in, []byte(history), 0o644); err != nil {
		tb.Fatalf("upstreamtest: write history: %v", err)
	}
	if err := os.MkdirAll(storage, 0o755); err != nil {
		tb.Fatalf("upstreamtest: %v", err)
	}
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", in, storage).CombinedOutput()
	if err != nil {
		tb.Fatalf("upstreamtest: promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
}

// Stop shuts Prometheus down cleanly; its URL then refuses connections.
func (p *Prometheus) Stop() { p.p.stop() }

// Start starts a stopped Prometheus again on the same port with the same TSDB (so its ALERTS
// and ALERTS_FOR_STATE series, from which it restores its alerts' state), waiting for the same
// readiness as StartPrometheus. Stop, a wait, then Start is a Prometheus outage.
func (p *Prometheus) Start() {
	p.p.tb.Helper()
	if p.p.cmd != nil {
		p.p.tb.Fatal("upstreamtest: Prometheus.Start while it runs (Stop it first, or Restart)")
	}
	p.p.start(true)
}

// Restart stops Prometheus if it runs and starts it again on the same port
// with the same TSDB, waiting for the same readiness as StartPrometheus.
func (p *Prometheus) Restart() {
	p.p.tb.Helper()
	p.p.stop()
	p.p.start(true)
}

// prometheusReady reports whether Prometheus is ready, has scraped all
// targets successfully and uses every given Alertmanager.
func prometheusReady(ctx context.Context, base string, targets int, alertmanagers []string) error {
	if _, err := getOK(ctx, base+"/-/ready"); err != nil {
		return err
	}
	body, err := getOK(ctx, base+"/api/v1/targets?state=active")
	if err != nil {
		return err
	}
	var ts struct {
		Data struct {
			ActiveTargets []struct {
				ScrapeURL string `json:"scrapeUrl"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ts); err != nil {
		return fmt.Errorf("decode targets: %w", err)
	}
	if n := len(ts.Data.ActiveTargets); n != targets {
		return fmt.Errorf("%d active targets, want %d: %w", n, targets, errNotYet)
	}
	for _, t := range ts.Data.ActiveTargets {
		if t.Health != "up" {
			return fmt.Errorf("target %s is %q (%s): %w", t.ScrapeURL, t.Health, t.LastError, errNotYet)
		}
	}
	if len(alertmanagers) == 0 {
		return nil
	}
	body, err = getOK(ctx, base+"/api/v1/alertmanagers")
	if err != nil {
		return err
	}
	var ams struct {
		Data struct {
			Active []struct {
				URL string `json:"url"`
			} `json:"activeAlertmanagers"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ams); err != nil {
		return fmt.Errorf("decode alertmanagers: %w", err)
	}
	for _, want := range alertmanagers {
		found := false
		for _, a := range ams.Data.Active {
			found = found || strings.HasPrefix(a.URL, strings.TrimRight(want, "/")+"/")
		}
		if !found {
			return fmt.Errorf("alertmanager %s not in use yet: %w", want, errNotYet)
		}
	}
	return nil
}

// prometheusConfig renders prometheus.yml.
func prometheusConfig(opts PrometheusOptions) ([]byte, error) {
	type m = map[string]any
	global := m{
		"scrape_interval":     duration(opts.ScrapeInterval, time.Second),
		"evaluation_interval": duration(opts.EvaluationInterval, time.Second),
	}
	if len(opts.ExternalLabels) > 0 {
		global["external_labels"] = opts.ExternalLabels
	}
	cfg := m{"global": global}

	if len(opts.Targets) > 0 {
		hosts, err := hostPorts(opts.Targets)
		if err != nil {
			return nil, fmt.Errorf("prometheus targets: %w", err)
		}
		static := m{"targets": hosts}
		if len(opts.TargetLabels) > 0 {
			static["labels"] = opts.TargetLabels
		}
		job := opts.JobName
		if job == "" {
			job = "test"
		}
		cfg["scrape_configs"] = []m{{"job_name": job, "static_configs": []m{static}}}
	}
	if len(opts.Alertmanagers) > 0 {
		hosts, err := hostPorts(opts.Alertmanagers)
		if err != nil {
			return nil, fmt.Errorf("prometheus alertmanagers: %w", err)
		}
		cfg["alerting"] = m{"alertmanagers": []m{{"static_configs": []m{{"targets": hosts}}}}}
	}
	if opts.Rules != "" {
		cfg["rule_files"] = []string{"rules.yml"}
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("render prometheus config: %w", err)
	}
	return out, nil
}

// hostPorts turns "host:port" strings or URLs into "host:port" strings.
func hostPorts(addrs []string) ([]string, error) {
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		if strings.Contains(a, "://") {
			u, err := url.Parse(a)
			if err != nil {
				return nil, fmt.Errorf("parse %q: %w", a, err)
			}
			a = u.Host
		}
		if a == "" {
			return nil, fmt.Errorf("empty address in %q", addrs)
		}
		out = append(out, a)
	}
	return out, nil
}
