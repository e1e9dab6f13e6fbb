package main

import (
	"context"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/opsreview/opsreview/collectors/upstreamtest"
)

// child is `opsreview serve` run as a separate process, so that a test can SIGKILL it.
type child struct {
	t       *testing.T
	bin     string
	args    []string
	env     []string
	logPath string
	url     string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// buildOpsreview compiles this package into a temporary directory and returns the binary's path.
func buildOpsreview(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "opsreview")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// start runs the binary with serve on addr and waits until /readyz answers 200; it returns how
// long that took. The process is killed when the test ends.
func (c *child) start() time.Duration {
	c.t.Helper()
	log, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	defer log.Close()
	began := time.Now()
	cmd := exec.Command(c.bin, c.args...)
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start opsreview: %v", err)
	}
	c.cmd, c.exited = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(c.exited)
	for {
		select {
		case <-c.exited:
			b, _ := os.ReadFile(c.logPath)
			c.t.Fatalf("opsreview exited during start-up:\n%s", b)
		default:
		}
		if resp, err := http.Get(c.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(began)
			}
		}
		if time.Since(began) > 30*time.Second {
			c.t.Fatalf("opsreview not ready after 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *child) kill() {
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
	c.cmd = nil
}

// Scenario 2, short version: opsreview, a child process receiving a real Alertmanager's deliveries,
// is SIGKILLed at random moments around Alertmanager's flushes 4 times (20 under OPSREVIEW_SOAK=1) and started again. It is ready
// within 5 s each time; after quiescence nothing is lost or doubled and no notification is partly
// written.
func TestReliabilityOpsreviewKilledMidIngest(t *testing.T) {
	trials := 4
	if soak() {
		trials = 20
	}
	ctx := upstreamtest.Context(t)
	dbURL := storetestURL(t)
	addr := freeAddr(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "opsreview.yml")
	if err := os.WriteFile(cfg, []byte("paging_receivers: [opsreview]\n"), 0o600); err != nil {
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
	c.start()
	am := upstreamtest.StartAlertmanager(t, upstreamtest.AlertmanagerOptions{
		WebhookURL: c.url + "/api/v1/alertmanager/webhook",
		GroupBy:    []string{"alertname", "group"},
	})
	o := newOracle(0, am)
	rnd := rand.New(rand.NewSource(time.Now().UnixNano()))
	base := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	var slowest time.Duration
	var prev []map[string]string
	for trial := 0; trial < trials; trial++ {
		batch := instances(fmt.Sprintf("KillTrial%02d", trial), 50, 10)
		at := base.Add(time.Duration(trial) * 5 * time.Minute)
		o.fire(ctx, t, batch, at)
		if prev != nil {
			o.resolve(ctx, t, prev, at.Add(time.Minute))
		}
		prev = batch
		// Alertmanager flushes the new groups group_wait (1 s) after they appear, 50 deliveries at
		// once: kill around then.
		time.Sleep(800*time.Millisecond + time.Duration(rnd.Int63n(int64(600*time.Millisecond))))
		c.kill()
		time.Sleep(time.Duration(rnd.Int63n(int64(time.Second))))
		ready := c.start()
		if ready > slowest {
			slowest = ready
		}
		if ready > 5*time.Second {
			t.Errorf("trial %d: ready %v after restart, want within 5s", trial, ready)
		}
	}
	rep := o.settle(t, c.url, 120*time.Second)
	t.Logf("%d kills; slowest restart to ready %v; Alertmanager requests that failed and were retried: %v; %v",
		trials, slowest.Round(time.Millisecond), amWebhookCounter(t, am.URL, "alertmanager_notification_requests_failed_total"), rep)
	if !rep.clean() {
		t.Fatalf("after %d kills: %v", trials, rep)
	}
	if partial := partlyWritten(t, dbURL); len(partial) > 0 {
		t.Fatalf("partly written notifications: %v", partial)
	}
}

// partlyWritten lists notifications stored without their episodes, and webhook episodes that no
// notification carries: what a crash between two statements of one ingest would leave.
func partlyWritten(t *testing.T, dbURL string) []string {
	t.Helper()
	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []string
	if err := db.SelectContext(ctx, &out, `
		SELECT format('notification %s (%s alerts) carries no episode', n.id, n.alerts)
		FROM notifications n
		WHERE n.alerts > 0
		  AND NOT EXISTS (SELECT 1 FROM notification_episodes ne WHERE ne.notification_id = n.id)
		UNION ALL
		SELECT format('episode %s came by webhook but no notification carries it', e.id)
		FROM episodes e
		WHERE e.via_webhook
		  AND NOT EXISTS (SELECT 1 FROM notification_episodes ne WHERE ne.episode_id = e.id)`); err != nil {
		t.Fatalf("checking for partly written notifications: %v", err)
	}
	return out
}
