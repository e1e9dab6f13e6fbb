package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/opsreview/opsreview/review"
)

// addRule stores an alert rule with annotations, as the rules collector would.
func addRule(t *testing.T, s *Store, alertname string, annotations map[string]string, firstSeen time.Time) {
	t.Helper()
	_, err := s.DB().Exec(`
		INSERT INTO alert_rules (rule_key, source, group_file, group_name, alertname, expr, annotations,
		                         content_hash, first_seen, last_seen)
		VALUES ($1, 'prom', 'f.yml', 'g', $2, 'up == 0', $3, '\x00', $4, $4)`,
		[]byte(alertname), alertname, jsonText(annotations), firstSeen)
	if err != nil {
		t.Fatal(err)
	}
}

// fire stores one episode of alertname with annotations, starting at start, for team.
func fire(t *testing.T, s *Store, fp uint64, alertname, team string, annotations map[string]string, start time.Time) {
	t.Helper()
	r := review.AlertReport{Fingerprint: fp, Labels: map[string]string{"alertname": alertname},
		Annotations: annotations, StartsAt: start, EndsAt: start.Add(time.Minute), EndKind: review.EndResolved,
		ObservedAt: start, Road: review.RoadWebhook, Team: team}
	if err := s.IngestAlerts(context.Background(), []review.AlertReport{r}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestRunbooksFromRulesAndEpisodes(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	day := 24 * time.Hour
	now := t0
	addRule(t, s, "DiskFull", map[string]string{"runbook_url": "https://wiki/disk"}, now.Add(-200*day))
	addRule(t, s, "DiskFullSoon", map[string]string{"playbook": " https://wiki/disk "}, now.Add(-10*day))
	addRule(t, s, "NoBook", map[string]string{"summary": "x"}, now.Add(-5*day))
	addRule(t, s, "Watchdog", map[string]string{}, now.Add(-5*day))
	// Episodes: DiskFull fired 3 times recently and once long ago; Latency only from episodes.
	for i := range 3 {
		fire(t, s, 1, "DiskFull", "payments", map[string]string{"runbook_url": "https://wiki/disk"}, now.Add(-time.Duration(i+1)*day))
	}
	fire(t, s, 1, "DiskFull", "payments", map[string]string{"runbook_url": "https://wiki/disk"}, now.Add(-300*day))
	fire(t, s, 2, "Latency", "search", map[string]string{"runbook_url": "javascript:alert(1)"}, now.Add(-2*day))
	fire(t, s, 3, "NoBookEither", "", nil, now.Add(-3*day))
	fire(t, s, 4, "OldNoBook", "", nil, now.Add(-100*day))
	// Alerts without a rule whose annotations changed (two annotation sets, neither with a
	// runbook): one fired recently with its newer set, the other only long ago with both.
	fire(t, s, 5, "ChangedNoBook", "", map[string]string{"summary": "a"}, now.Add(-100*day))
	fire(t, s, 5, "ChangedNoBook", "", map[string]string{"summary": "b"}, now.Add(-2*day))
	fire(t, s, 6, "OldChangedNoBook", "", map[string]string{"summary": "a"}, now.Add(-100*day))
	fire(t, s, 6, "OldChangedNoBook", "", map[string]string{"summary": "b"}, now.Add(-60*day))

	q := RunbookQuery{Annotations: []string{"runbook_url", "playbook"}, Ignore: []string{"Watchdog"},
		From: now.Add(-review.RiskWindow), To: now}
	got, err := s.Runbooks(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]review.RankedRunbook{}
	for _, r := range got {
		key := r.URL
		if key == "" {
			key = "missing:" + r.Alerts[0]
		}
		byKey[key] = r
	}
	if len(byKey) != 5 {
		t.Fatalf("got %d entries, want disk, javascript, NoBook, NoBookEither and ChangedNoBook: %+v", len(byKey), got)
	}
	if _, ok := byKey["missing:ChangedNoBook"]; !ok {
		t.Error("an alert with no runbook that fired recently (with its newer annotations) is not listed as missing")
	}
	disk := byKey["https://wiki/disk"]
	if len(disk.Alerts) != 2 || disk.Alerts[0] != "DiskFull" || disk.Alerts[1] != "DiskFullSoon" {
		t.Errorf("disk alerts = %v", disk.Alerts)
	}
	if disk.Fires != 3 {
		t.Errorf("disk fires = %d, want 3 in the window", disk.Fires)
	}
	if !disk.FirstSeen.Equal(now.Add(-300 * day)) {
		t.Errorf("disk first seen = %v, want the oldest episode", disk.FirstSeen)
	}
	if js := byKey["javascript:alert(1)"]; js.Fires != 1 || js.Alerts[0] != "Latency" {
		t.Errorf("javascript runbook = %+v", js)
	}
	if _, ok := byKey["missing:OldNoBook"]; ok {
		t.Error("an alert with no rule that has not fired recently is listed as missing")
	}
	if _, ok := byKey["missing:Watchdog"]; ok {
		t.Error("an ignored alert is listed")
	}

	// Team filter applies to fires.
	other := "search"
	q.Team = &other
	got, err = s.Runbooks(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if r.URL == "https://wiki/disk" && r.Fires != 0 {
			t.Errorf("disk fires for team search = %d, want 0", r.Fires)
		}
	}
}

func TestRunbookChecksAndReviews(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	now := t0
	addRule(t, s, "DiskFull", map[string]string{"runbook_url": "https://wiki/disk"}, now.Add(-24*time.Hour))
	q := RunbookQuery{Annotations: []string{"runbook_url"}, From: now.Add(-review.RiskWindow), To: now}

	urls, err := s.RunbookURLs(ctx, q)
	if err != nil || len(urls) != 1 {
		t.Fatalf("RunbookURLs = %v, %v", urls, err)
	}
	lm := now.Add(-48 * time.Hour)
	if err := s.RecordRunbookCheck(ctx, RunbookCheck{URL: "https://wiki/disk", FirstSeen: urls["https://wiki/disk"].FirstSeen,
		CheckedAt: now, StatusCode: 200, LastModified: &lm}); err != nil {
		t.Fatal(err)
	}
	// A later check without Last-Modified keeps the last known change.
	if err := s.RecordRunbookCheck(ctx, RunbookCheck{URL: "https://wiki/disk", FirstSeen: now,
		CheckedAt: now.Add(time.Hour), StatusCode: 503, Error: ""}); err != nil {
		t.Fatal(err)
	}
	st, err := s.MarkRunbookReviewed(ctx, q, "https://wiki/disk", "ana", now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st.ReviewedBy != "ana" || st.LastReviewed == nil || !st.LastReviewed.Equal(now.Add(2*time.Hour)) {
		t.Errorf("after review: %+v", st)
	}
	if st.StatusCode != 503 || st.LastModified == nil || !st.LastModified.Equal(lm) {
		t.Errorf("check fields after review: %+v", st)
	}
	if !st.FirstSeen.Equal(now.Add(-24 * time.Hour)) {
		t.Errorf("first seen = %v", st.FirstSeen)
	}
	// A double click records one review; a later one by someone else a second.
	if _, err := s.MarkRunbookReviewed(ctx, q, "https://wiki/disk", "ana", now.Add(2*time.Hour+time.Second)); err != nil {
		t.Fatal(err)
	}
	// An earlier review (a clock behind) does not move last_reviewed back.
	st, err = s.MarkRunbookReviewed(ctx, q, "https://wiki/disk", "bo", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st.ReviewedBy != "ana" || !st.LastReviewed.Equal(now.Add(2*time.Hour+time.Second)) {
		t.Errorf("an older review overwrote a newer one: %+v", st)
	}
	revs, err := s.RunbookReviews(ctx, "https://wiki/disk")
	if err != nil || len(revs) != 2 {
		t.Errorf("reviews = %+v, %v; want ana once and bo once", revs, err)
	}
	if _, err := s.MarkRunbookReviewed(ctx, q, "https://wiki/other", "ana", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("reviewing an unknown runbook: %v, want ErrNotFound", err)
	}
}

func TestRunbookAgendaRows(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	day := 24 * time.Hour
	week := t0
	addRule(t, s, "DiskFull", map[string]string{"runbook_url": "https://wiki/disk"}, week.Add(-200*day))
	fire(t, s, 1, "DiskFull", "payments", map[string]string{"runbook_url": "https://wiki/disk"}, week.Add(time.Hour))
	fire(t, s, 1, "DiskFull", "payments", map[string]string{"runbook_url": "https://wiki/disk"}, week.Add(3*time.Hour))
	fire(t, s, 2, "NoBook", "payments", nil, week.Add(2*time.Hour))
	fire(t, s, 3, "Quiet", "payments", map[string]string{"runbook_url": "https://wiki/quiet"}, week.Add(-30*day))
	fire(t, s, 4, "Search", "search", nil, week.Add(2*time.Hour))
	team := "payments"
	rows, err := s.RunbookAgendaRows(ctx, RunbookQuery{Annotations: []string{"runbook_url"},
		From: week, To: week.Add(7 * day), Team: &team})
	if err != nil {
		t.Fatal(err)
	}
	agenda := review.RunbookAgenda(rows, week.Add(7*day), 90*day)
	if len(agenda) != 2 {
		t.Fatalf("agenda = %+v, want DiskFull (stale) and NoBook (missing)", agenda)
	}
	if agenda[0].Alerts[0] != "DiskFull" || agenda[0].Status != review.RunbookStale || agenda[0].Fires != 2 {
		t.Errorf("first = %+v", agenda[0])
	}
	if agenda[1].Alerts[0] != "NoBook" || agenda[1].Status != review.RunbookMissing || agenda[1].Fires != 1 {
		t.Errorf("second = %+v", agenda[1])
	}
}

// TestRunbooksMissingWhenRuleGone: an alert without a runbook is missing while its rule is live,
// or, once the rule is gone, while it still fired in the window; an alert with a runbook in one
// of its annotation sets is never missing, even when its recent episodes carry none.
func TestRunbooksMissingWhenRuleGone(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	day := 24 * time.Hour
	now := t0
	addRule(t, s, "GoneFired", map[string]string{"summary": "x"}, now.Add(-90*day))
	addRule(t, s, "GoneQuiet", map[string]string{"summary": "x"}, now.Add(-90*day))
	addRule(t, s, "LiveQuiet", map[string]string{"summary": "x"}, now.Add(-90*day))
	if _, err := s.DB().Exec(`UPDATE alert_rules SET gone_at = $1 WHERE alertname IN ('GoneFired', 'GoneQuiet')`, now.Add(-day)); err != nil {
		t.Fatal(err)
	}
	fire(t, s, 1, "GoneFired", "", map[string]string{"summary": "x"}, now.Add(-2*day))
	fire(t, s, 2, "GoneQuiet", "", map[string]string{"summary": "x"}, now.Add(-60*day))
	fire(t, s, 3, "LostBook", "", map[string]string{"runbook_url": "https://wiki/lost"}, now.Add(-60*day))
	fire(t, s, 3, "LostBook", "", map[string]string{"summary": "no link any more"}, now.Add(-2*day))

	got, err := s.Runbooks(ctx, RunbookQuery{Annotations: []string{"runbook_url"}, From: now.Add(-review.RiskWindow), To: now})
	if err != nil {
		t.Fatal(err)
	}
	var missing, urls []string
	for _, r := range got {
		if r.URL == "" {
			missing = append(missing, r.Alerts[0])
		} else {
			urls = append(urls, r.URL)
		}
	}
	if strings.Join(missing, ",") != "GoneFired,LiveQuiet" {
		t.Errorf("missing = %v, want GoneFired (gone, fired in the window) and LiveQuiet (live rule)", missing)
	}
	if strings.Join(urls, ",") != "https://wiki/lost" {
		t.Errorf("runbooks = %v, want LostBook's", urls)
	}
}

// replacedRunbookLinks is the live-links statement runbookLinks replaced (a probe of the episodes
// per annotation set), kept as the reference its answers are compared with.
const replacedRunbookLinks = `
	WITH names AS (
	    SELECT unnest($1::text[]) AS name
	), links AS (
	    SELECT r.alertname, nullif(btrim(r.annotations ->> n.name), '') AS url,
	           r.first_seen AS seen, r.gone_at IS NULL AS live
	    FROM alert_rules r
	    CROSS JOIN names n
	    UNION ALL
	    SELECT s.alertname, nullif(btrim(s.annotations ->> n.name), '') AS url,
	           min(s.first_start) AS seen,
	           bool_or(EXISTS (SELECT 1 FROM episodes e
	                           WHERE e.alertname = s.alertname AND e.starts_at >= $3 AND e.starts_at < $4
	                             AND e.annotations = s.annotations)) AS live
	    FROM alert_annotation_sets s
	    CROSS JOIN names n
	    GROUP BY 1, 2
	)
	SELECT alertname, coalesce(url, '') AS url, min(seen) AS first_seen, bool_or(live) AS live
	FROM links
	WHERE NOT (alertname = ANY($2::text[]))
	GROUP BY 1, 2
	ORDER BY 1, 2`

// TestRunbookLinksMatchEveryEpisodeProbed compares runbookLinks, which probes the episodes once
// per alert without any URL whose rule is not live, with the statement it replaced, which probed
// once per annotation set, on random rules and episodes: the same links, first seen at the same
// time, and the same liveness for every link without a URL that is kept.
func TestRunbookLinksMatchEveryEpisodeProbed(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	day := 24 * time.Hour
	now := t0
	rng := rand.New(rand.NewPCG(6, 6))
	anns := []map[string]string{
		nil,
		{"summary": "a"},
		{"summary": "b"},
		{"runbook_url": "https://wiki/a"},
		{"runbook_url": "https://wiki/b", "summary": "b"},
		{"runbook_url": "  "},
		{"playbook": "https://wiki/a"},
		{"playbook": "https://wiki/p", "runbook_url": ""},
	}
	fp := uint64(0)
	for i := range 60 {
		name := fmt.Sprintf("Alert%02d", i)
		if rng.IntN(3) > 0 {
			addRule(t, s, name, anns[rng.IntN(len(anns))], now.Add(-time.Duration(rng.IntN(200))*day))
			if rng.IntN(2) == 0 {
				if _, err := s.DB().Exec(`UPDATE alert_rules SET gone_at = $1 WHERE alertname = $2`, now.Add(-day), name); err != nil {
					t.Fatal(err)
				}
			}
		}
		for range rng.IntN(4) {
			fp++
			start := now.Add(-time.Duration(rng.IntN(60*24)) * time.Hour)
			fire(t, s, fp, name, "", anns[rng.IntN(len(anns))], start)
		}
	}
	for _, q := range []RunbookQuery{
		{Annotations: []string{"runbook_url"}, From: now.Add(-review.RiskWindow), To: now},
		{Annotations: []string{"runbook_url", "playbook"}, Ignore: []string{"Alert03", "Alert07"}, From: now.Add(-7 * day), To: now},
	} {
		got, err := runbookLinks(ctx, s.read, q, true)
		if err != nil {
			t.Fatal(err)
		}
		var ref []runbookLink
		if err := s.read.SelectContext(ctx, &ref, replacedRunbookLinks,
			pq.Array(q.Annotations), pq.Array(nonNil(q.Ignore)), q.From, q.To); err != nil {
			t.Fatal(err)
		}
		// The replaced statement's caller dropped the link without a URL of an alert that has one,
		// and read liveness only from links without a URL.
		hasURL := map[string]bool{}
		for _, l := range ref {
			hasURL[l.Alertname] = hasURL[l.Alertname] || l.URL != ""
		}
		var want []string
		for _, l := range ref {
			if l.URL == "" && hasURL[l.Alertname] {
				continue
			}
			want = append(want, linkText(l))
		}
		var have []string
		for _, l := range got {
			have = append(have, linkText(l))
		}
		if strings.Join(have, "\n") != strings.Join(want, "\n") {
			t.Errorf("annotations %v from %s: links\n%s\nwant\n%s", q.Annotations, q.From.Format(time.DateOnly),
				strings.Join(have, "\n"), strings.Join(want, "\n"))
		}
		var live int
		for _, l := range got {
			if l.URL == "" && l.Live {
				live++
			}
		}
		if live == 0 || live == len(got) {
			t.Errorf("%d of %d links are live without a URL: the data does not tell probing from not probing", live, len(got))
		}
	}
}

func linkText(l runbookLink) string {
	live := ""
	if l.URL == "" {
		live = fmt.Sprintf(" live=%v", l.Live)
	}
	return fmt.Sprintf("%s %q %s%s", l.Alertname, l.URL, l.FirstSeen.UTC().Format(time.RFC3339), live)
}
