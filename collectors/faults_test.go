package collectors

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/opsreview/opsreview/collectors/upstreamtest"
	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
)

// faultProxy is an HTTP reverse proxy in front of a real Prometheus that answers query requests
// with an injected fault: a 503, a 422, a delay past the collector's timeout, a warning added to the
// real answer, a body cut in half, or no answer at all (down).
type faultProxy struct {
	srv   *httptest.Server
	mu    sync.Mutex
	fault string
	hits  int // query requests answered with the fault
}

func newFaultProxy(t *testing.T, upstream string) *faultProxy {
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	f := &faultProxy{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		fault := f.fault
		query := r.URL.Path == "/api/v1/query" || r.URL.Path == "/api/v1/query_range"
		if fault != "" && (query || fault == "down") {
			f.hits++
		}
		f.mu.Unlock()
		if fault == "down" {
			// A Prometheus that is not there: the connection is dropped without an answer.
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
				}
			}
			return
		}
		if !query || fault == "" {
			rp.ServeHTTP(w, r)
			return
		}
		switch fault {
		case "503":
			http.Error(w, "upstream connect error", http.StatusServiceUnavailable)
		case "422":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			io.WriteString(w, `{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}`)
		case "timeout":
			// Read the form first: only then does the server notice the client hanging up.
			r.ParseForm()
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
		case "warnings", "truncated":
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Del("Content-Length")
			if fault == "warnings" {
				body = append(bytes.TrimSuffix(bytes.TrimSpace(body), []byte("}")), []byte(`,"warnings":["partial response: store eu-2 down"]}`)...)
				w.WriteHeader(rec.Code)
				w.Write(body)
				return
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.Code)
			w.Write(body[:len(body)/2]) // the connection drops mid-answer
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *faultProxy) set(fault string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fault = fault
}

// Scenario 8: a real Prometheus behind a fault proxy. While a rule fires, resolves and fires again,
// every query is answered with one fault after another (503, 422, a timeout, warnings, a truncated
// body, down): no run that met a fault moves the ALERTS watermark or the SLI's, and no gap is
// stored for the SLI. Once the faults stop, the runs that follow close the gap: the stored episodes
// equal those a collector that never saw a fault stores from the same Prometheus.
func TestPrometheusFaultsNeverPassTheWatermark(t *testing.T) {
	t.Parallel()
	ctx := upstreamtest.Context(t)
	target := upstreamtest.NewTarget(t)
	svc := map[string]string{"service": "checkout"}
	target.Set("demo_error_ratio", svc, 0)
	prom := upstreamtest.StartPrometheus(t, upstreamtest.PrometheusOptions{Targets: []string{target.Addr}, Rules: e2eRules})
	proxy := newFaultProxy(t, prom.URL)

	one := 0.5
	newRunner := func(promURL string) (*Runner, *store.Store) {
		st, _ := newTestStore(t)
		cfg := e2eConfig(promURL, "")
		cfg.Sources.Prometheus[0].Timeout = config.Duration(2 * time.Second)
		cfg.SLIs = []config.SLI{{Name: "errors", Source: "prom", Service: "checkout", Unit: "ratio",
			Direction: "lower-is-better", Objective: &one, Step: config.Duration(time.Second), Query: `sum(demo_error_ratio)`}}
		cfg.Baseline = config.Baseline{Weeks: 1, Band: []float64{0.1, 0.9}, AbnormalAfter: 3}
		r, err := New(cfg, st, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range r.collectors {
			switch c := c.(type) {
			case *prometheusCollector:
				c.delay = 0
			case *SLICollector:
				c.Lag, c.HeadGrace = 0, 5*time.Second
			}
		}
		return r, st
	}
	faulty, fst := newRunner(proxy.srv.URL)
	clean, cst := newRunner(prom.URL)
	watermarks := func(st *store.Store) (alerts, sli time.Time) {
		s, err := st.CollectorState(ctx, "prom", KindPrometheus)
		if err != nil {
			t.Fatal(err)
		}
		if s.Watermark != nil {
			alerts = *s.Watermark
		}
		st.DB().Get(&sli, `SELECT coalesce(max(collected_to), 'epoch') FROM slis`)
		return alerts, sli.UTC()
	}

	target.Set("demo_error_ratio", svc, 0.9)
	if err := faulty.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	for _, fault := range []string{"503", "422", "timeout", "warnings", "truncated", "down"} {
		proxy.set(fault)
		beforeA, beforeS := watermarks(fst)
		var gapsBefore int
		fst.DB().Get(&gapsBefore, `SELECT count(*) FROM sli_samples WHERE value IS NULL`)
		for range 2 {
			if err := faulty.RunOnce(ctx); err == nil {
				t.Fatalf("%s: a run through the fault reported success", fault)
			}
			time.Sleep(time.Second)
		}
		afterA, afterS := watermarks(fst)
		if !afterA.Equal(beforeA) || !afterS.Equal(beforeS) {
			t.Fatalf("%s: watermarks moved from %v/%v to %v/%v through the fault", fault, beforeA, beforeS, afterA, afterS)
		}
		var gaps int
		fst.DB().Get(&gaps, `SELECT count(*) FROM sli_samples WHERE value IS NULL`)
		if gaps != gapsBefore {
			t.Fatalf("%s: %d SLI gaps stored through the fault", fault, gaps-gapsBefore)
		}
		if fault == "timeout" {
			target.Set("demo_error_ratio", svc, 0) // the alert resolves during the faults …
		}
		if fault == "truncated" {
			target.Set("demo_error_ratio", svc, 0.9) // … and fires again
		}
	}
	proxy.set("")
	time.Sleep(2 * time.Second)
	recovered := time.Now()
	until(ctx, t, "the gap closed: the same episodes as a collector that saw no fault", func() error {
		if err := clean.RunOnce(ctx); err != nil {
			return err
		}
		return faulty.RunOnce(ctx)
	}, func() (bool, string) {
		a, b := episodes(t, fst), episodes(t, cst)
		if len(a) != 2 || len(a) != len(b) {
			return false, fmt.Sprintf("faulty %+v, clean %+v", a, b)
		}
		for i := range a {
			if !a[i].StartsAt.Equal(b[i].StartsAt) || a[i].Open() != b[i].Open() || (!a[i].Open() && !a[i].EndsAt.Equal(*b[i].EndsAt)) {
				return false, fmt.Sprintf("faulty %+v, clean %+v", a[i], b[i])
			}
		}
		wa, ws := watermarks(fst)
		return wa.After(recovered) && ws.After(recovered), fmt.Sprintf("watermarks %v %v", wa, ws)
	})
	var gaps int
	fst.DB().Get(&gaps, `SELECT count(*) FROM sli_samples WHERE value IS NULL`)
	t.Logf("gap closed %s after recovery; %d fault answers; SLI gaps stored: %d", time.Since(recovered).Round(time.Millisecond), proxy.hits, gaps)
}
