package upstreamtest

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Target is an in-process scrape target serving gauges in the Prometheus
// text format at /metrics. A test sets a gauge to make a rule fire and sets
// it back (or deletes it) to resolve it. Its methods are safe for
// concurrent use.
type Target struct {
	// URL is the server's base URL, like http://127.0.0.1:41234.
	URL string
	// Addr is its "host:port", for PrometheusOptions.Targets.
	Addr string

	tb     testing.TB
	mu     sync.Mutex
	gauges map[string]map[string]float64 // name → rendered label set → value
}

// NewTarget starts a scrape target with no gauges, closed when the test ends.
func NewTarget(tb testing.TB) *Target {
	tb.Helper()
	t := &Target{tb: tb, gauges: map[string]map[string]float64{}}
	srv := httptest.NewServer(http.HandlerFunc(t.serve))
	tb.Cleanup(srv.Close)
	t.URL = srv.URL
	t.Addr = srv.Listener.Addr().String()
	return t
}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// Set sets gauge name with the given labels to v, creating it if needed.
// An invalid metric or label name fails the test.
func (t *Target) Set(name string, labels map[string]string, v float64) {
	key, ok := t.key(name, labels)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gauges[name] == nil {
		t.gauges[name] = map[string]float64{}
	}
	t.gauges[name][key] = v
}

// Delete removes the series of gauge name with exactly these labels, so
// Prometheus marks it stale on its next scrape.
func (t *Target) Delete(name string, labels map[string]string) {
	key, ok := t.key(name, labels)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.gauges[name], key)
	if len(t.gauges[name]) == 0 {
		delete(t.gauges, name)
	}
}

// key renders a label set as it appears in the exposition, sorted by name.
func (t *Target) key(name string, labels map[string]string) (string, bool) {
	if !metricName.MatchString(name) {
		t.tb.Errorf("upstreamtest: invalid metric name %q", name)
		return "", false
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if !labelName.MatchString(k) || strings.HasPrefix(k, "__") {
			t.tb.Errorf("upstreamtest: invalid label name %q on %s", k, name)
			return "", false
		}
		parts = append(parts, k+`="`+escapeLabelValue(labels[k])+`"`)
	}
	if len(parts) == 0 {
		return "", true
	}
	return "{" + strings.Join(parts, ",") + "}", true
}

// escapeLabelValue escapes a label value for the text format.
func escapeLabelValue(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

// serve writes every gauge in the text exposition format.
func (t *Target) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/metrics" {
		http.NotFound(w, r)
		return
	}
	var b strings.Builder
	t.mu.Lock()
	for _, name := range slices.Sorted(maps.Keys(t.gauges)) {
		fmt.Fprintf(&b, "# TYPE %s gauge\n", name)
		series := t.gauges[name]
		for _, key := range slices.Sorted(maps.Keys(series)) {
			fmt.Fprintf(&b, "%s%s %s\n", name, key, strconv.FormatFloat(series[key], 'g', -1, 64))
		}
	}
	t.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}
