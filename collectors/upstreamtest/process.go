// Package upstreamtest runs real Prometheus and Alertmanager servers for
// tests, on free loopback ports, with configurations written per test, and
// a scrape target whose gauges a test sets to make rules fire and resolve.
//
// A test that needs a server binary that is not installed is skipped, unless
// OPSREVIEW_REQUIRE_UPSTREAM is set (CI sets it): then it fails.
package upstreamtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// EnvRequireUpstream names the variable that turns "binary not installed"
// from a skip into a failure.
const EnvRequireUpstream = "OPSREVIEW_REQUIRE_UPSTREAM"

// startTimeout bounds how long a server may take to become ready. It guards
// against a hung process; it is not a test assertion.
const startTimeout = 90 * time.Second

// lookBinary returns the path of the first of names found in PATH, or skips
// (or fails, under EnvRequireUpstream) the test.
func lookBinary(tb testing.TB, pkg string, names ...string) string {
	tb.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("upstreamtest: %s not found in PATH (install it: apt-get install %s)", strings.Join(names, " or "), pkg)
	if os.Getenv(EnvRequireUpstream) != "" {
		tb.Fatalf("%s; failing because %s is set", msg, EnvRequireUpstream)
	}
	tb.Skipf("%s; set %s=1 to fail instead of skipping", msg, EnvRequireUpstream)
	return ""
}

// process is one upstream server owned by a test: started on a free port,
// its output captured to a file, killed at cleanup.
type process struct {
	tb    testing.TB
	name  string                                       // for messages: "alertmanager", "prometheus"
	bin   string                                       // absolute path of the binary
	dir   string                                       // working directory, holds the log
	args  func(port int) []string                      // command line for a port
	ready func(ctx context.Context, base string) error // nil once the server is usable

	port    int
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	logPath string
}

// newProcess prepares a server process; start runs it.
func newProcess(tb testing.TB, name, bin, dir string, args func(int) []string, ready func(context.Context, string) error) *process {
	p := &process{tb: tb, name: name, bin: bin, dir: dir, args: args, ready: ready,
		logPath: filepath.Join(dir, name+".log")}
	tb.Cleanup(func() {
		p.kill()
		if tb.Failed() {
			tb.Logf("upstreamtest: %s output (tail of %s):\n%s", p.name, p.logPath, p.logTail())
		}
	})
	return p
}

// baseURL is the server's address as an http URL without a trailing slash.
func (p *process) baseURL() string { return fmt.Sprintf("http://127.0.0.1:%d", p.port) }

// start runs the server and waits until it is ready. With samePort it
// reuses the previous port (a restart); otherwise it picks a free one, and
// picks again if another process took it in the meantime.
func (p *process) start(samePort bool) {
	p.tb.Helper()
	var err error
	for attempt := 1; attempt <= 5; attempt++ {
		if !samePort || p.port == 0 {
			if p.port, err = freePort(); err != nil {
				break
			}
		}
		var bindFailed bool
		bindFailed, err = p.try()
		if err == nil {
			return
		}
		if !bindFailed {
			break
		}
		if samePort {
			// The old process has exited, but give the kernel a moment.
			time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
		}
	}
	// The cleanup registered by newProcess logs the server's output.
	p.tb.Fatalf("upstreamtest: start %s: %v", p.name, err)
}

// try starts the server once. bindFailed reports that it exited because its
// port was taken.
func (p *process) try() (bindFailed bool, err error) {
	log, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return false, fmt.Errorf("open log: %w", err)
	}
	defer log.Close() // the child has its own descriptor
	offset, _ := log.Seek(0, io.SeekEnd)
	fmt.Fprintf(log, "=== upstreamtest: starting %s on port %d\n", p.name, p.port)

	cmd := exec.Command(p.bin, p.args(p.port)...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = log, log
	killWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return false, fmt.Errorf("run %s: %w", p.bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p.cmd, p.exited = cmd, exited

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			out := p.logSince(offset)
			return strings.Contains(out, "address already in use"),
				fmt.Errorf("%s exited during start-up: %v", p.name, cmd.ProcessState)
		case <-ctx.Done():
			p.kill()
			return false, fmt.Errorf("%s not ready after %v: %w", p.name, startTimeout, err)
		case <-tick.C:
			if err = p.ready(ctx, p.baseURL()); err == nil {
				return false, nil
			}
		}
	}
}

// stop asks the server to shut down cleanly (so it saves its state), and
// kills it if it does not within a while.
func (p *process) stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.tb.Logf("upstreamtest: %s ignored SIGTERM for 30s: killing it", p.name)
		p.kill()
	}
	p.cmd = nil
}

// kill ends the server at once and waits for it.
func (p *process) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.cmd = nil
}

// logSince returns the output written after offset.
func (p *process) logSince(offset int64) string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// logTail returns the last lines of the server's output.
func (p *process) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no output: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

// freePort returns a loopback TCP port that was free a moment ago; start
// retries with another when the server then fails to bind.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	return port, nil
}

// client is used for readiness probes and API helpers; every request also
// carries a context.
var client = &http.Client{Timeout: 30 * time.Second}

// getOK fetches url and returns its body, or an error unless the status is 200.
func getOK(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: read body: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

// errNotYet is returned by readiness checks while the server is coming up.
var errNotYet = errors.New("not ready yet")

// Context returns a context that is cancelled shortly before the test
// binary's -timeout, so that a wait for something that never happens fails
// the test with the servers' logs instead of a timeout panic that skips all
// cleanups. Without a deadline it is cancelled when the test ends.
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	if t, ok := tb.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := t.Deadline(); ok {
			margin := time.Until(d) / 10
			if margin > 30*time.Second {
				margin = 30 * time.Second
			}
			ctx, cancel = context.WithDeadline(context.Background(), d.Add(-margin))
		}
	}
	tb.Cleanup(cancel)
	return ctx
}
