package collectors

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/opsreview/opsreview/store"
)

// fakeCollector runs fn as its Collect.
type fakeCollector struct {
	name, kind        string
	interval, timeout time.Duration
	fn                func(ctx context.Context) error
}

func (f *fakeCollector) Name() string                      { return f.name }
func (f *fakeCollector) Kind() string                      { return f.kind }
func (f *fakeCollector) Interval() time.Duration           { return f.interval }
func (f *fakeCollector) Timeout() time.Duration            { return f.timeout }
func (f *fakeCollector) Collect(ctx context.Context) error { return f.fn(ctx) }

func fake(name string, fn func(ctx context.Context) error) *fakeCollector {
	return &fakeCollector{name: name, kind: "fake", interval: time.Millisecond, timeout: time.Minute, fn: fn}
}

// metricValue reads one counter or gauge of a registry by name and source label.
func metricValue(t *testing.T, reg *prometheus.Registry, name, source string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelValue(m, "source") == source {
				if m.Counter != nil {
					return m.Counter.GetValue()
				}
				return m.Gauge.GetValue()
			}
		}
	}
	t.Fatalf("no %s{source=%q}", name, source)
	return 0
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// secondStore opens another connection pool on the same database: another opsreview instance.
func secondStore(t *testing.T, url string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestTwoRunnersNeverCollectOneSourceAtOnce(t *testing.T) {
	st1, url := newTestStore(t)
	st2 := secondStore(t, url)
	ctx := context.Background()

	entered, release := make(chan struct{}), make(chan struct{})
	var calls2 atomic.Int32
	c1 := fake("prom", func(ctx context.Context) error { close(entered); <-release; return nil })
	c2 := fake("prom", func(ctx context.Context) error { calls2.Add(1); return nil })
	reg1, reg2 := prometheus.NewRegistry(), prometheus.NewRegistry()
	r1, err := NewRunner(Options{Store: st1, Registerer: reg1}, c1)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := NewRunner(Options{Store: st2, Registerer: reg2}, c2)
	if err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() { done <- r1.RunOnce(ctx) }()
	<-entered
	// Instance 1 is collecting "prom": instance 2 skips it, and that is no error.
	if err := r2.RunOnce(ctx); err != nil {
		t.Fatalf("a skipped source is not an error: %v", err)
	}
	if calls2.Load() != 0 {
		t.Fatal("instance 2 collected a source instance 1 was collecting")
	}
	if v := metricValue(t, reg2, "opsreview_collector_runs_skipped_total", "prom"); v != 1 {
		t.Fatalf("want one skipped run counted, got %v", v)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The lock is free again.
	if err := r2.RunOnce(ctx); err != nil || calls2.Load() != 1 {
		t.Fatalf("instance 2 should collect once the lock is free: %v, %d calls", err, calls2.Load())
	}
	if v := metricValue(t, reg1, "opsreview_source_up", "prom"); v != 1 {
		t.Fatalf("up = %v", v)
	}
}

func TestRunLoopsShareTheLockAndStopOnCancel(t *testing.T) {
	st1, url := newTestStore(t)
	st2 := secondStore(t, url)
	var active, total, overlaps atomic.Int32
	enough := make(chan struct{})
	var once sync.Once
	collect := func(ctx context.Context) error {
		if active.Add(1) > 1 {
			overlaps.Add(1)
		}
		defer active.Add(-1)
		if total.Add(1) >= 20 {
			once.Do(func() { close(enough) })
		}
		return nil
	}
	r1, err := NewRunner(Options{Store: st1}, fake("prom", collect), fake("other", func(context.Context) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := NewRunner(Options{Store: st2}, fake("prom", collect))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, r := range []*Runner{r1, r2} {
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(ctx) }()
	}
	<-enough
	cancel()
	wg.Wait() // Run returns only when its loops have stopped
	if overlaps.Load() != 0 {
		t.Fatalf("%d runs overlapped another instance's run of the same source", overlaps.Load())
	}
	if active.Load() != 0 {
		t.Fatal("a run was still going after Run returned")
	}
}

func TestRunOnceJoinsErrorsAndRecordsThem(t *testing.T) {
	st, _ := newTestStore(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	boom := errors.New("boom")
	slow := fake("slow", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	slow.timeout = 10 * time.Millisecond
	r, err := NewRunner(Options{Store: st, Registerer: reg},
		fake("bad", func(context.Context) error { return boom }),
		fake("good", func(context.Context) error { return nil }),
		slow)
	if err != nil {
		t.Fatal(err)
	}
	err = r.RunOnce(ctx)
	if !errors.Is(err, boom) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "fake bad") {
		t.Fatalf("want both failures joined and named, got %v", err)
	}
	if strings.Contains(err.Error(), "good") {
		t.Fatalf("the good collector did not fail: %v", err)
	}
	state, _ := st.CollectorState(ctx, "bad", "fake")
	if state.LastError != "boom" || state.LastErrorAt == nil || state.LastSuccess != nil {
		t.Fatalf("want the error recorded for the Sources page: %+v", state)
	}
	if state, _ := st.CollectorState(ctx, "good", "fake"); state.LastSuccess == nil || state.LastError != "" {
		t.Fatalf("want the success recorded: %+v", state)
	}
	if v := metricValue(t, reg, "opsreview_source_errors_total", "bad"); v != 1 {
		t.Fatalf("errors_total = %v", v)
	}
	if v := metricValue(t, reg, "opsreview_source_up", "bad"); v != 0 {
		t.Fatalf("up = %v", v)
	}
	if v := metricValue(t, reg, "opsreview_source_errors_total", "good"); v != 0 {
		t.Fatalf("errors_total = %v", v)
	}
}

func TestRunnerLagFromTheWatermark(t *testing.T) {
	st, _ := newTestStore(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	c := fake("prom", func(ctx context.Context) error {
		return st.IngestAlerts(ctx, nil, &store.Watermark{Source: "prom", Kind: "fake", At: now.Add(-90 * time.Second)})
	})
	r, err := NewRunner(Options{Store: st, Registerer: reg, Now: func() time.Time { return now }}, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if v := metricValue(t, reg, "opsreview_source_lag_seconds", "prom"); v != 90 {
		t.Fatalf("lag = %v, want 90", v)
	}
	if v := metricValue(t, reg, "opsreview_source_last_success_timestamp_seconds", "prom"); v != float64(now.Unix()) {
		t.Fatalf("last success = %v", v)
	}
}

func TestNewRunnerValidates(t *testing.T) {
	if _, err := NewRunner(Options{}); err == nil || !strings.Contains(err.Error(), "Store") {
		t.Fatalf("want a missing-store error, got %v", err)
	}
	st, _ := newTestStore(t)
	zero := fake("prom", nil)
	zero.interval = 0
	if _, err := NewRunner(Options{Store: st}, zero); err == nil {
		t.Fatal("want an error for a zero interval")
	}
	if _, err := NewRunner(Options{Store: st}, fake("prom", nil), fake("prom", nil)); err == nil {
		t.Fatal("want an error for a source configured twice")
	}
	// With nothing to collect, Run still returns only when cancelled.
	empty, err := NewRunner(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	returned := make(chan struct{})
	go func() { empty.Run(ctx); close(returned) }()
	select {
	case <-returned:
		t.Fatal("Run returned before its context was cancelled")
	default:
	}
	cancel()
	<-returned
	// Two runners on one process each register their own metrics.
	for range 2 {
		if _, err := NewRunner(Options{Store: st, Registerer: prometheus.NewRegistry()}, fake("prom", nil)); err != nil {
			t.Fatal(err)
		}
	}
}
