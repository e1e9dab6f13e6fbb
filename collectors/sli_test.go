package collectors

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
	"github.com/opsreview/opsreview/store/storetest"
)

// scriptedProm is a scripted Prometheus query API: it answers query_range from value(t) (ok false: no
// sample at t), or with the next scripted fault.
type scriptedProm struct {
	mu     sync.Mutex
	value  func(t time.Time) (float64, bool)
	faults []string // consumed one per request: "503", "422", "timeout", "warnings", "truncated", "several", "misaligned"
	always string   // a fault answered to every request while set
	asked  []int    // points asked per request
	header http.Header
	date   time.Time // the Date of every answer, when set: the fake's clock is the test's
}

func (f *scriptedProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	f.mu.Lock()
	fault := f.always
	if fault == "" && len(f.faults) > 0 {
		fault, f.faults = f.faults[0], f.faults[1:]
	}
	f.header = r.Header.Clone()
	start, _ := strconv.ParseFloat(r.Form.Get("start"), 64)
	end, _ := strconv.ParseFloat(r.Form.Get("end"), 64)
	step, _ := strconv.ParseFloat(r.Form.Get("step"), 64)
	f.asked = append(f.asked, int((end-start)/step)+1)
	value := f.value
	if !f.date.IsZero() {
		w.Header().Set("Date", f.date.UTC().Format(http.TimeFormat))
	}
	f.mu.Unlock()
	switch fault {
	case "503":
		http.Error(w, "service unavailable", 503)
		return
	case "422":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(422)
		io.WriteString(w, `{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}`)
		return
	case "timeout":
		<-r.Context().Done()
		return
	}
	type series struct {
		Metric map[string]string `json:"metric"`
		Values [][2]any          `json:"values"`
	}
	s := series{Metric: map[string]string{}, Values: [][2]any{}}
	for t := start; t <= end; t += step {
		at := time.Unix(int64(t), 0).UTC()
		if v, ok := value(at); ok {
			ts := t
			if fault == "misaligned" {
				ts += 17
			}
			s.Values = append(s.Values, [2]any{ts, strconv.FormatFloat(v, 'f', -1, 64)})
		}
	}
	result := []series{}
	if len(s.Values) > 0 {
		result = append(result, s)
	}
	if fault == "several" {
		result = []series{
			{Metric: map[string]string{"instance": "a"}, Values: s.Values},
			{Metric: map[string]string{"instance": "b"}, Values: s.Values},
		}
	}
	body := map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": result}}
	if fault == "warnings" {
		body["warnings"] = []string{"PromQL warning: partial response from store eu-2"}
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	if fault == "truncated" {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b[:len(b)/2]) // the connection drops mid-answer
		return
	}
	w.Write(b)
}

func (f *scriptedProm) script(faults ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, faults...)
}

func (f *scriptedProm) setAlways(fault string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.always = fault
}

// sliEnv is a fake Prometheus, a store and an SLI collector with a hand-driven clock.
type sliEnv struct {
	fake *scriptedProm
	st   *store.Store
	c    *SLICollector
	now  time.Time
}

func newSLIEnv(t *testing.T, value func(time.Time) (float64, bool)) *sliEnv {
	t.Helper()
	fake := &scriptedProm{value: value}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	st, err := store.Open(context.Background(), storetest.NewURL(t), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	one := 0.01
	cfg := &config.Config{
		Sources: config.Sources{Prometheus: []config.PrometheusSource{{
			Name: "prom", URL: srv.URL, Interval: config.Duration(time.Minute),
			Lookback: config.Duration(3 * 24 * time.Hour), Timeout: config.Duration(2 * time.Second),
			HTTP: config.HTTP{Headers: map[string]string{"X-Scope-OrgID": "team-a"}, BearerToken: "s3cret"},
		}}},
		SLIs: []config.SLI{{Name: "checkout-errors", Source: "prom", Service: "checkout", Unit: "ratio",
			Direction: "lower-is-better", Objective: &one, Step: config.Duration(5 * time.Minute),
			Query: `sum(rate(errors_total[5m])) / sum(rate(requests_total[5m]))`}},
		Baseline: config.Baseline{Weeks: 4, Band: []float64{0.1, 0.9}, AbnormalAfter: 3},
	}
	c, err := NewSLICollector(cfg, cfg.Sources.Prometheus[0], st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	e := &sliEnv{fake: fake, st: st, c: c, now: time.Date(2026, 11, 24, 15, 2, 30, 0, time.UTC)}
	c.Now = func() time.Time { return e.now }
	c.MaxPoints = 300
	e.advance(0)
	return e
}

// advance moves the test's clock, which is also the fake Prometheus's.
func (e *sliEnv) advance(d time.Duration) {
	e.now = e.now.Add(d)
	e.fake.mu.Lock()
	defer e.fake.mu.Unlock()
	e.fake.date = e.now
}

// state returns the SLI's watermark, its rows, gap rows and the sum of the rows' xmin (changes on
// any rewrite).
func (e *sliEnv) state(t *testing.T) (wm *time.Time, rows, gaps, xmin int64) {
	t.Helper()
	db := e.st.DB()
	if err := db.QueryRow(`SELECT collected_to FROM slis WHERE name = 'checkout-errors'`).Scan(&wm); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE value IS NULL), coalesce(sum(xmin::text::bigint), 0)
		FROM sli_samples`).Scan(&rows, &gaps, &xmin); err != nil {
		t.Fatal(err)
	}
	return wm, rows, gaps, xmin
}

func steady(t time.Time) (float64, bool) { return 0.002 + 0.001*math.Sin(float64(t.Unix())/3600), true }

func TestSLICollectorBackfillThenForward(t *testing.T) {
	e := newSLIEnv(t, steady)
	if err := e.c.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	wm, rows, gaps, _ := e.state(t)
	// Three days of lookback at 5 minutes, up to now minus the lag, aligned: 15:00 is the last step.
	want := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	if wm == nil || !wm.Equal(want) {
		t.Fatalf("watermark %v, want %s", wm, want)
	}
	if rows != 3*288 || gaps != 0 {
		t.Errorf("%d rows (%d gaps), want %d values", rows, gaps, 3*288)
	}
	for _, n := range e.fake.asked {
		if n > 300 || n >= 11000 {
			t.Errorf("a query asked for %d points", n)
		}
	}
	if got := e.fake.header.Get("Authorization"); got != "Bearer s3cret" {
		t.Errorf("Authorization %q", got)
	}
	if got := e.fake.header.Get("X-Scope-OrgID"); got != "team-a" {
		t.Errorf("X-Scope-OrgID %q", got)
	}
	// Forward: ten minutes later, two more steps.
	e.advance(10 * time.Minute)
	asked := len(e.fake.asked)
	if err := e.c.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	wm, rows, _, _ = e.state(t)
	if !wm.Equal(want.Add(10*time.Minute)) || rows != 3*288+2 {
		t.Errorf("after a forward run: watermark %s, %d rows", wm, rows)
	}
	if got := e.fake.asked[asked:]; len(got) != 1 || got[0] != 2 {
		t.Errorf("forward run asked for %v points, want one query of 2", got)
	}
}

func TestSLICollectorFaults(t *testing.T) {
	for _, tc := range []struct {
		fault, wantErr string
	}{
		{"503", "503"},
		{"422", "too many samples"},
		{"timeout", "deadline"},
		{"warnings", "warnings"},
		{"truncated", "query_range"},
		{"misaligned", "off the 5m0s grid"},
		{"several", "aggregate it, e.g. sum(...)"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			e := newSLIEnv(t, steady)
			// The first chunk succeeds, the second fails: the watermark stops after the first.
			e.fake.script("", tc.fault)
			err := e.c.Collect(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Collect: %v, want an error mentioning %q", err, tc.wantErr)
			}
			wm, rows, _, _ := e.state(t)
			if rows != 300 || wm == nil || !wm.Equal(time.Date(2026, 11, 21, 15, 5, 0, 0, time.UTC).Add(299*5*time.Minute)) {
				t.Errorf("after a %s: %d rows, watermark %v; want the first chunk only", tc.fault, rows, wm)
			}
			var lastErr string
			e.st.DB().QueryRow(`SELECT last_error FROM slis`).Scan(&lastErr)
			if !strings.Contains(lastErr, tc.wantErr) {
				t.Errorf("stored error %q", lastErr)
			}
			// The next run recovers everything.
			if err := e.c.Collect(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, rows, gaps, _ := e.state(t); rows != 3*288 || gaps != 0 {
				t.Errorf("after recovery: %d rows, %d gaps", rows, gaps)
			}
		})
	}
}

func TestSLICollectorGapsAndOutage(t *testing.T) {
	// Prometheus itself was down from 09:00 to 09:30 on the 23rd: no data for those steps.
	down := func(t time.Time) bool {
		return !t.Before(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)) && t.Before(time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC))
	}
	var mu sync.Mutex
	latest := time.Date(2026, 11, 24, 14, 40, 0, 0, time.UTC) // data has arrived up to here
	e := newSLIEnv(t, func(t time.Time) (float64, bool) {
		mu.Lock()
		defer mu.Unlock()
		if down(t) || t.After(latest) {
			return 0, false
		}
		return steady(t)
	})
	// Then opsreview cannot reach it for 30 minutes: every run fails, nothing moves.
	e.fake.setAlways("503")
	for i := 0; i < 3; i++ {
		if err := e.c.Collect(context.Background()); err == nil {
			t.Fatal("Collect succeeded during the outage")
		}
		if wm, rows, _, _ := e.state(t); wm != nil || rows != 0 {
			t.Fatalf("during the outage: watermark %v, %d rows", wm, rows)
		}
		e.advance(10 * time.Minute)
	}
	e.fake.setAlways("")
	// It comes back with data up to ten minutes ago; the newest steps are still on their way.
	mu.Lock()
	latest = e.now.Add(-10 * time.Minute).Truncate(5 * time.Minute)
	mu.Unlock()
	if err := e.c.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	wm, _, gaps, _ := e.state(t)
	// The half hour Prometheus had no data is six explicit gaps; the fresh steps with no data yet
	// (within the head grace) are not stored and the watermark waits before them.
	if gaps != 6 {
		t.Errorf("%d gaps stored, want the 6 steps of the real hole", gaps)
	}
	if wm == nil || !wm.Equal(latest) {
		t.Errorf("watermark %v, want %s (the last step with data)", wm, latest)
	}
	mu.Lock()
	latest = e.now
	mu.Unlock()
	e.advance(5 * time.Minute)
	if err := e.c.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if wm, _, gaps, _ := e.state(t); gaps != 6 || !wm.After(latest.Add(-5*time.Minute)) {
		t.Errorf("after the late data arrived: %d gaps (want 6), watermark %s", gaps, wm)
	}
}

func TestSLICollectorEmptyRangeAndRerun(t *testing.T) {
	e := newSLIEnv(t, func(time.Time) (float64, bool) { return 0, false })
	if err := e.c.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	wm, rows, gaps, _ := e.state(t)
	// Every step older than the head grace is an explicit gap; nothing is invented.
	if rows == 0 || gaps != rows || wm == nil || !wm.Before(e.now.Add(-e.c.HeadGrace)) {
		t.Errorf("empty range: %d rows, %d gaps, watermark %v", rows, gaps, wm)
	}

	// A backfill re-run three times over real data: the second and third change no row.
	e2 := newSLIEnv(t, steady)
	var xmins []int64
	for i := 0; i < 3; i++ {
		if _, err := e2.st.DB().Exec(`UPDATE slis SET collected_to = NULL`); err != nil {
			t.Fatal(err)
		}
		if err := e2.c.Collect(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, rows, _, x := e2.state(t)
		if rows != 3*288 {
			t.Fatalf("run %d: %d rows", i+1, rows)
		}
		xmins = append(xmins, x)
	}
	if xmins[0] != xmins[1] || xmins[1] != xmins[2] {
		t.Errorf("re-runs rewrote rows: xmin sums %v", xmins)
	}
}

func TestValidateSLI(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/query", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		switch q := r.Form.Get("query"); q {
		case "up":
			io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"instance":"a"},"value":[1,"1"]},{"metric":{"instance":"b"},"value":[1,"1"]}]}}`)
		case "sum(up)":
			io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"2"]}]}}`)
		default:
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"parse error: unexpected end of input in %d characters"}`, len(q))
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client, err := NewSLIQueryAPI(config.PrometheusSource{Name: "p", URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := ValidateSLI(ctx, client, config.SLI{Name: "ok", Query: "sum(up)"}); err != nil {
		t.Errorf("sum(up): %v", err)
	}
	err = ValidateSLI(ctx, client, config.SLI{Name: "many", Query: "up"})
	if err == nil || !strings.Contains(err.Error(), `"many"`) || !strings.Contains(err.Error(), "aggregate it") {
		t.Errorf("up: %v", err)
	}
	err = ValidateSLI(ctx, client, config.SLI{Name: "broken", Query: "sum(("})
	if err == nil || !strings.Contains(err.Error(), `"broken"`) || !strings.Contains(err.Error(), "parse error") {
		t.Errorf("sum((: %v", err)
	}
}
