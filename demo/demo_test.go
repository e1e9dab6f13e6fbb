package demo

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
	"github.com/opsreview/opsreview/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// now is a fixed moment for the tests: a Wednesday, so the last full week is complete.
var now = time.Date(2026, 11, 25, 15, 4, 5, 0, time.UTC)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), storetest.NewURL(t), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func demoConfig(t *testing.T) *config.Config {
	t.Helper()
	t.Setenv("DATABASE_URL", "")
	t.Setenv("OPSREVIEW_LISTEN", "")
	cfg, err := Config()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// tableCounts counts the rows of every table the demo writes to.
func tableCounts(t *testing.T, st *store.Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tbl := range []string{"episodes", "notifications", "notification_episodes", "receiver_episodes",
		"alert_rules", "silences", "verdicts", "action_items", "changes", "toil_entries", "runbooks",
		"runbook_reviews", "collector_state", "demo_runs", "slis", "sli_samples", "sli_baselines"} {
		var n int
		if err := st.DB().Get(&n, `SELECT count(*) FROM `+tbl); err != nil {
			t.Fatalf("counting %s: %v", tbl, err)
		}
		out[tbl] = n
	}
	return out
}

// TestDemoFillTellsTheStories fills a fresh database once and checks that each story of the demo is
// there, then that filling again writes nothing: the marker stops a second Fill, and writing the
// same plan again (an interrupted fill resumed) is a no-op by the store's identity rules.
func TestDemoFillTellsTheStories(t *testing.T) {
	ctx := context.Background()
	st, cfg := newStore(t), demoConfig(t)
	if filled, err := st.DemoFilled(ctx); err != nil || filled {
		t.Fatalf("a fresh database holds no demo data: %v %v", filled, err)
	}
	t0 := time.Now()
	sum, err := Fill(ctx, st, cfg, now, DefaultSeed)
	t.Logf("fill took %s", time.Since(t0))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", sum)
	if filled, err := st.DemoFilled(ctx); err != nil || !filled {
		t.Fatalf("after a fill DemoFilled must say so: %v %v", filled, err)
	}
	if sum.AlreadyFilled || sum.Pages == 0 || sum.Notifications == 0 {
		t.Fatalf("summary: %+v", sum)
	}
	checkSLIs(t, st, cfg, sum)

	from, to := sum.Anchor.Add(-history), sum.Anchor
	f := store.CountFilter{From: from, To: to, Now: sum.Anchor, Ignore: cfg.Alerts.Ignore,
		FlapThreshold: time.Duration(cfg.Alerts.FlapThreshold), RefireWindow: time.Duration(cfg.Alerts.RefireWindow),
		PagingReceivers: cfg.PagingReceivers}
	counts, err := st.RuleCounts(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]review.RuleCounts{}
	for _, c := range counts {
		byName[c.Alertname] = c
	}
	if c := byName["NodeDiskFillingUp"]; c.Flaps < 20 || c.Team != "platform" {
		t.Errorf("the disk alert must flap a lot, for platform: %+v", c)
	}
	if c := byName["SearchIndexLagHigh"]; c.Fires < days || c.Team != "search" {
		t.Errorf("the ignored alert fires every day: %+v", c)
	}
	if c := byName["KubePodCrashLooping"]; c.Fires == 0 || c.Team != "" {
		t.Errorf("an alert nobody owns: %+v", c)
	}
	if c := byName["TargetDown"]; c.Fires == 0 || c.Team != "" {
		t.Errorf("an unowned alert from Prometheus only: %+v", c)
	}
	if c := byName["BackupJobSlow"]; c.Silenced == 0 {
		t.Errorf("silenced fires: %+v", c)
	}
	if _, ok := byName["Watchdog"]; ok {
		t.Errorf("Watchdog is ignored, yet counted")
	}

	pages, err := st.Pages(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	sleep := map[string]int{}
	for _, p := range pages {
		if cfg.HoursTeam(p.Team).HoursClass(p.At) == config.HoursSleep {
			sleep[p.Alertname]++
		}
	}
	if sleep["PaymentGatewayLatencyHigh"] < 10 {
		t.Errorf("the gateway alert must wake payments every few nights: %d sleep pages (%v)", sleep["PaymentGatewayLatencyHigh"], sleep)
	}

	rbs, err := st.Runbooks(ctx, store.RunbookQuery{Annotations: cfg.Runbooks.Annotations, Ignore: cfg.Alerts.Ignore, From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]int{}
	for _, r := range review.RankRunbooks(rbs, sum.Anchor, time.Duration(cfg.Runbooks.MaxAge)) {
		status[r.Status]++
	}
	for _, s := range []string{review.RunbookOK, review.RunbookStale, review.RunbookBroken, review.RunbookMissing} {
		if status[s] == 0 {
			t.Errorf("no %s runbook: %v", s, status)
		}
	}

	versions := 0
	rules, err := st.AlertRules(ctx, store.RuleFilter{Alertname: "NodeDiskFillingUp"})
	if err != nil || len(rules) != 1 {
		t.Fatalf("rules: %v %v", rules, err)
	}
	hist, err := st.RuleHistory(ctx, rules[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	versions = len(hist)
	if versions != 2 {
		t.Errorf("NodeDiskFillingUp must have two versions, has %d", versions)
	}

	changes, err := st.Changes(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	followed := 0
	for _, c := range changes {
		if c.Service == "checkout" && len(c.AlertsAfter) > 0 {
			followed++
		}
	}
	if followed != 2 {
		t.Errorf("both checkout deploys are followed by alerts within the hour, got %d", followed)
	}

	items, err := st.ActionItems(ctx, store.ActionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var overdue, closed int
	for _, a := range items {
		if a.Overdue(sum.Anchor) {
			overdue++
		}
		if !a.Open() {
			closed++
		}
	}
	if overdue != 1 || closed != 1 {
		t.Errorf("last week's action items: %d overdue, %d closed; want 1 and 1", overdue, closed)
	}

	before := tableCounts(t, st)
	again, err := Fill(ctx, st, cfg, now.Add(26*time.Hour), DefaultSeed)
	if err != nil {
		t.Fatal(err)
	}
	if !again.AlreadyFilled || !again.Anchor.Equal(sum.Anchor) {
		t.Errorf("a second fill must find the first: %+v", again)
	}
	if after := tableCounts(t, st); !reflect.DeepEqual(before, after) {
		t.Errorf("a second fill changed row counts:\nbefore %v\nafter  %v", before, after)
	}
	resumed := Summary{Seed: DefaultSeed, Anchor: sum.Anchor}
	if err := write(ctx, st, cfg, generate(cfg, sum.Anchor, DefaultSeed), &resumed); err != nil {
		t.Fatal(err)
	}
	if after := tableCounts(t, st); !reflect.DeepEqual(before, after) {
		t.Errorf("writing the same plan again changed row counts:\nbefore %v\nafter  %v", before, after)
	}
	if resumed.Notifications != 0 || resumed.Pages != 0 {
		t.Errorf("re-delivered notifications must be duplicates: %+v", resumed)
	}
}

func TestGenerateIsReproducible(t *testing.T) {
	cfg := demoConfig(t)
	a, b := generate(cfg, now, 7), generate(cfg, now, 7)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed and anchor must give the same plan")
	}
	if c := generate(cfg, now, 8); reflect.DeepEqual(a.notifications, c.notifications) {
		t.Fatal("another seed must give another history")
	}
	for _, n := range a.notifications {
		if n.ReceivedAt.After(now) || n.ReceivedAt.Before(now.Add(-history)) {
			t.Fatalf("notification outside the history: %v", n.ReceivedAt)
		}
		if n.ReceivedAt.Truncate(time.Second) != n.ReceivedAt {
			t.Fatalf("timestamps are whole seconds, like Alertmanager's: %v", n.ReceivedAt)
		}
	}
}
