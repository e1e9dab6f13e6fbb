package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// sharedProm stands in for one Prometheus (or a Thanos/Mimir query endpoint, which answer the same
// API) watched by several opsreview instances. Each instance sends its name in a header, so the
// fake knows who is collecting; every answer is slowed down so that overlapping runs would show.
type sharedProm struct {
	srv         *httptest.Server
	mu          sync.Mutex
	inFlight    int
	maxInFlight int
	last        map[string]time.Time // instance → last request
}

func newSharedProm(t *testing.T) *sharedProm {
	p := &sharedProm{last: map[string]time.Time{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := r.Header.Get("X-Instance")
		p.mu.Lock()
		p.inFlight++
		p.maxInFlight = max(p.maxInFlight, p.inFlight)
		p.last[who] = time.Now()
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			p.inFlight--
			p.mu.Unlock()
		}()
		time.Sleep(100 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/rules":
			fmt.Fprint(w, `{"status":"success","data":{"groups":[]}}`)
		case "/api/v1/status/config":
			fmt.Fprint(w, `{"status":"success","data":{"yaml":"global:\n  scrape_interval: 15s\n"}}`)
		case "/api/v1/query", "/api/v1/query_range":
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[]}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// lastSeen returns when instance last asked anything.
func (p *sharedProm) lastSeen(instance string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last[instance]
}

func (p *sharedProm) max() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxInFlight
}

// instance is one in-process `opsreview serve` that the test can stop on its own.
type instance struct {
	*program
	stop func() error
}

// startInstance is startProgram for several programs started at once: no testing.T calls off the
// test goroutine, and a stop of its own.
func startInstance(ctx context.Context, cfgPath, addr string) (*instance, error) {
	ctx, cancel := context.WithCancel(ctx)
	p := &program{URL: "http://" + addr, Addr: addr, logs: &syncBuffer{}}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--config", cfgPath, "--listen", addr}, io.Discard, p.logs) }()
	var once sync.Once
	var stopErr error
	in := &instance{program: p, stop: func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(20 * time.Second):
				stopErr = fmt.Errorf("%s did not stop within 20s", addr)
			}
		})
		return stopErr
	}}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		select {
		case err := <-done:
			cancel()
			return nil, fmt.Errorf("instance %s exited early: %v\n%s", addr, err, p.logs.String())
		default:
		}
		if resp, err := http.Get(p.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return in, nil
			}
		}
		if time.Now().After(deadline) {
			in.stop()
			return nil, fmt.Errorf("instance %s never became ready:\n%s", addr, p.logs.String())
		}
	}
}

// Three instances on one empty database start together (migrations under their advisory lock),
// collect one Prometheus source one at a time (the others count skipped runs), take over within
// an interval when the collecting one stops, and answer the same pages.
func TestThreeInstancesShareOneDatabase(t *testing.T) {
	db := storetestURL(t)
	t.Setenv("DATABASE_URL", db)
	prom := newSharedProm(t)
	const interval = time.Second
	names := []string{"a", "b", "c"}
	instances := make([]*instance, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		path := filepath.Join(t.TempDir(), "opsreview.yml")
		cfg := fmt.Sprintf(`paging_receivers: [pager]
sources:
  prometheus:
    - {name: prom, url: %q, interval: 1s, lookback: 1h, timeout: 10s, headers: {X-Instance: %s}}
`, prom.srv.URL, name)
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		addr := freeAddr(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			instances[i], errs[i] = startInstance(context.Background(), path, addr)
		}()
	}
	wg.Wait()
	for i, in := range instances {
		if in != nil {
			t.Cleanup(func() {
				if err := in.stop(); err != nil {
					t.Errorf("instance %s: %v", names[i], err)
				}
			})
		}
	}
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	skipped := func(in *instance) bool {
		return strings.Contains(in.metric(t, "opsreview_collector_runs_skipped_total"), `source="prom"`) &&
			!strings.HasSuffix(in.metric(t, `opsreview_collector_runs_skipped_total{kind="prometheus",source="prom"}`), " 0")
	}
	waitFor(t, "every instance to run or skip the source", 30*time.Second, func() bool {
		n := 0
		for i, in := range instances {
			if !prom.lastSeen(names[i]).IsZero() || skipped(in) {
				n++
			}
		}
		return n == len(instances)
	})
	waitFor(t, "some instance to skip a run", 30*time.Second, func() bool {
		for _, in := range instances {
			if skipped(in) {
				return true
			}
		}
		return false
	})
	if m := prom.max(); m != 1 {
		t.Fatalf("Prometheus saw %d requests at once: runs overlapped", m)
	}

	// Stop whoever collected last; one of the others must collect within an interval (plus the
	// slowed-down run itself).
	var victim int
	for i := range names {
		if prom.lastSeen(names[i]).After(prom.lastSeen(names[victim])) {
			victim = i
		}
	}
	if err := instances[victim].stop(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	waitFor(t, "another instance to take over", 2*interval+2*time.Second, func() bool {
		for i := range names {
			if i != victim && prom.lastSeen(names[i]).After(stopped) {
				return true
			}
		}
		return false
	})
	if m := prom.max(); m != 1 {
		t.Fatalf("Prometheus saw %d requests at once: runs overlapped", m)
	}

	// A webhook delivered to one instance shows on every other.
	var live []*instance
	for i, in := range instances {
		if i != victim {
			live = append(live, in)
		}
	}
	body, err := os.ReadFile("../../server/testdata/fixtures/am_webhook_firing.json")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(live[0].URL+"/api/v1/alertmanager/webhook", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %d", resp.StatusCode)
	}
	from := time.Now().AddDate(0, 0, -400).UTC().Format(time.RFC3339)
	// A window that ends before the requests, so open episodes fire for the same time on each.
	to := time.Now().Truncate(time.Second).UTC().Format(time.RFC3339)
	seen := map[string]string{} // path → body of the first instance
	for _, in := range live {
		for _, path := range []string{"/api/v1/episodes?from=" + from + "&to=" + to, "/api/v1/alerts/noisy?from=" + from + "&to=" + to} {
			r, err := http.Get(in.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if r.StatusCode != http.StatusOK {
				t.Fatalf("%s%s: %d %s", in.URL, path, r.StatusCode, b)
			}
			if want, ok := seen[path]; !ok {
				seen[path] = string(b)
			} else if string(b) != want {
				t.Errorf("instances disagree on %s:\n%s\n%s", path, want, b)
			}
		}
	}
	for path, b := range seen {
		if !strings.Contains(b, `"alertname"`) {
			t.Errorf("%s shows nothing from the webhook: %s", path, b)
		}
	}
}
