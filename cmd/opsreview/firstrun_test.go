//go:build unix

package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDemoCommandFillsOnce(t *testing.T) {
	t.Setenv("DATABASE_URL", storetestURL(t))
	t.Setenv("OPSREVIEW_CONFIG", "")
	out, stderr, err := runCLI(t, "demo", "--seed", "3")
	if err != nil || !strings.Contains(out, "demo data filled from seed 3") {
		t.Fatalf("first demo: %v\n%s%s", err, out, stderr)
	}
	out, stderr, err = runCLI(t, "demo", "--seed", "3")
	if err != nil || !strings.Contains(out, "already in the database") {
		t.Fatalf("second demo must write nothing: %v\n%s%s", err, out, stderr)
	}
	if _, _, err := runCLI(t, "demo", "--seed", "x"); !errors.Is(err, errUsage) {
		t.Fatalf("a bad seed is a usage error, got %v", err)
	}
}

// TestFirstRunFromAFreshClone is what a newcomer does: clone the repository into an empty folder
// and `make run` with no config file. The program must fill demo data and serve it, every page
// saying so, and print the URL and the TV's. It tests what is committed (a clone), not the
// working tree.
func TestFirstRunFromAFreshClone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program from a fresh clone; skipped with -short")
	}
	for _, tool := range []string{"git", "make", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the first-run test needs %s on PATH: %v", tool, err)
		}
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("the first-run test clones the repository, and this is not a git checkout: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "opsreview")
	if out, err := exec.Command("git", "clone", "--quiet", strings.TrimSpace(string(top)), dir).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}

	addr := freeAddr(t)
	base := "http://" + addr
	cmd := exec.Command("make", "--no-print-directory", "run")
	cmd.Dir = dir
	cmd.Env = append(withoutEnv(os.Environ(), "OPSREVIEW_CONFIG", "DATABASE_URL", "OPSREVIEW_LISTEN"),
		"DATABASE_URL="+storetestURL(t), "OPSREVIEW_LISTEN="+addr)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // make, go run and opsreview: one group to stop
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("make run output:\n%s", logs.String())
		}
	})

	// Compiling and filling take a while on a cold cache; the bound only stops a hung run.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		select {
		case err := <-exited:
			t.Fatalf("make run exited early: %v\n%s", err, logs.String())
		default:
		}
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("make run never became ready:\n%s", logs.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
	// The program prints its URLs just before it serves, so they are in the output by now.
	waitFor(t, "the URLs in make run's output", 10*time.Second, func() bool {
		return strings.Contains(logs.String(), "/tv")
	})
	out := logs.String()
	for _, want := range []string{"/review", "/tv", "--config"} {
		if !strings.Contains(out, want) {
			t.Errorf("make run must print %q:\n%s", want, out)
		}
	}

	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const banner = "DEMO DATA"
	for path, story := range map[string]string{
		"/review":   "SearchIndexLagHigh",
		"/episodes": "NodeDiskFillingUp",
		"/runbooks": "index-lag",
		"/toil":     "toil",
	} {
		code, body := get(path)
		if code != 200 || !strings.Contains(body, banner) || !strings.Contains(body, story) {
			t.Errorf("GET %s: %d, banner %v, %q %v", path, code, strings.Contains(body, banner), story, strings.Contains(body, story))
		}
	}
	for _, path := range []string{"/normal", "/tv"} {
		if code, body := get(path); code == 200 && !strings.Contains(body, banner) {
			t.Errorf("GET %s answers without the demo banner", path)
		} else if code != 200 {
			t.Logf("GET %s: %d (not built on this branch yet)", path, code)
		}
	}
	if code, body := get("/normal"); code != 200 || !strings.Contains(body, "checkout-errors") || !strings.Contains(body, "search-latency-p99") {
		t.Errorf("GET /normal must list the demo's SLIs: %d", code)
	}

	code, body := get("/api/v1/review")
	var rv struct {
		Demo        bool `json:"demo"`
		NoisyAlerts []struct {
			Alertname string `json:"alertname"`
		} `json:"noisy_alerts"`
		Unassigned []json.RawMessage `json:"unassigned"`
		FollowUps  []json.RawMessage `json:"follow_ups"`
	}
	if err := json.Unmarshal([]byte(body), &rv); code != 200 || err != nil {
		t.Fatalf("GET /api/v1/review: %d %v", code, err)
	}
	if !rv.Demo || len(rv.NoisyAlerts) < 3 || len(rv.Unassigned) == 0 || len(rv.FollowUps) == 0 {
		t.Errorf("the weekly review of demo data: demo=%v, %d noisy, %d unassigned, %d follow-ups",
			rv.Demo, len(rv.NoisyAlerts), len(rv.Unassigned), len(rv.FollowUps))
	}

	// The demo's SLIs: every one has a value and a band now, checkout's error ratio is red, and the
	// made-up Prometheus they name was never asked (serve starts no collectors for the demo).
	code, body = get("/api/v1/slis")
	var slis struct {
		Items []struct {
			Name      string `json:"name"`
			LastError string `json:"last_error"`
			Normal    struct {
				Value    *float64 `json:"value"`
				Median   *float64 `json:"median"`
				Abnormal bool     `json:"abnormal"`
			} `json:"normal"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &slis); code != 200 || err != nil || len(slis.Items) < 4 {
		t.Fatalf("GET /api/v1/slis: %d %v, %d SLIs", code, err, len(slis.Items))
	}
	for _, x := range slis.Items {
		if x.Normal.Value == nil || x.Normal.Median == nil || x.LastError != "" ||
			x.Normal.Abnormal != (x.Name == "checkout-errors") {
			t.Errorf("demo SLI %s: value %v, median %v, abnormal %v, last error %q", x.Name, x.Normal.Value,
				x.Normal.Median, x.Normal.Abnormal, x.LastError)
		}
	}
	if code, body := get("/api/v1/sources"); code != 200 || strings.Contains(body, `"state":"failing"`) {
		t.Errorf("GET /api/v1/sources: a demo source was collected from: %d %s", code, body)
	}
	if strings.Contains(logs.String(), "demo.invalid") {
		t.Errorf("opsreview contacted the demo's made-up Prometheus:\n%s", logs.String())
	}

	// A second start finds the demo data and writes nothing: `opsreview demo` on the same database says so.
	t.Setenv("DATABASE_URL", envOf(cmd.Env, "DATABASE_URL"))
	t.Setenv("OPSREVIEW_CONFIG", "")
	if out, stderr, err := runCLI(t, "demo"); err != nil || !strings.Contains(out, "already in the database") {
		t.Errorf("after make run, opsreview demo must write nothing: %v\n%s%s", err, out, stderr)
	}
}

func withoutEnv(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		keep := true
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

func envOf(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}
