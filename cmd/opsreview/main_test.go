package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsreview/opsreview/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// program is opsreview's whole run() started by a test on a loopback port.
type program struct {
	URL  string
	Addr string
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProgram runs `opsreview serve` in-process with the given config text and database, and waits
// until /readyz answers. The program is stopped (context cancelled, run returns) when the test ends.
func startProgram(t *testing.T, dbURL, cfgText, addr string) *program {
	t.Helper()
	if addr == "" {
		addr = freeAddr(t)
	}
	path := filepath.Join(t.TempDir(), "opsreview.yml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATABASE_URL", dbURL)
	ctx, cancel := context.WithCancel(context.Background())
	p := &program{URL: "http://" + addr, Addr: addr, logs: &syncBuffer{}}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--config", path, "--listen", addr}, io.Discard, p.logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("opsreview serve returned %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("opsreview serve did not stop within 20s")
		}
		if t.Failed() {
			t.Logf("opsreview logs:\n%s", p.logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("opsreview serve exited early: %v\n%s", err, p.logs.String())
		default:
		}
		if resp, err := http.Get(p.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("opsreview never became ready:\n%s", p.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type apiEpisode struct {
	Fingerprint string            `json:"fingerprint"`
	Alertname   string            `json:"alertname"`
	Labels      map[string]string `json:"labels"`
	StartsAt    time.Time         `json:"starts_at"`
	EndsAt      *time.Time        `json:"ends_at"`
	Roads       []string          `json:"roads"`
	Silenced    bool              `json:"silenced"`
	Backfilled  bool              `json:"backfilled"`
	Flags       []string          `json:"flags"`
	EndKind     string            `json:"end_kind"`
}

// episodes asks the public API for every episode of alertname in the last day.
func (p *program) episodes(t *testing.T, alertname string) []apiEpisode {
	t.Helper()
	from := time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
	to := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	resp, err := http.Get(fmt.Sprintf("%s/api/v1/episodes?alertname=%s&from=%s&to=%s", p.URL, alertname, from, to))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Items []apiEpisode `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/v1/episodes: %d %v", resp.StatusCode, err)
	}
	return body.Items
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (p *program) metric(t *testing.T, prefix string) string {
	t.Helper()
	resp, err := http.Get(p.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
