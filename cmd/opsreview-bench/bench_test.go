package main

import (
	"context"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/opsreview/opsreview/store"
	"github.com/opsreview/opsreview/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestGenerateIsReproducible: the same seed gives the same rules and episodes; another does not.
func TestGenerateIsReproducible(t *testing.T) {
	sig := func(seed uint64) (int, int64) {
		sc := scales["smoke"]
		rng := rand.New(rand.NewPCG(seed, seed^0x6f707372))
		n, sum := 0, int64(0)
		next := int64(1)
		for ri, r := range genRules(sc, rng) {
			eps := genEpisodes(sc, r, ri, rng, next)
			next += int64(len(eps))
			for _, e := range eps {
				n++
				sum += e.Start.Unix() ^ e.Fingerprint
			}
		}
		return n, sum
	}
	n1, s1 := sig(7)
	n2, s2 := sig(7)
	n3, s3 := sig(8)
	if n1 != n2 || s1 != s2 {
		t.Errorf("seed 7 twice: %d/%d and %d/%d episodes", n1, s1, n2, s2)
	}
	if n1 == n3 && s1 == s3 {
		t.Errorf("seeds 7 and 8 gave the same episodes")
	}
}

// TestSmokeDataset loads the smoke scale into a fresh database (rebuilding every constraint, so
// overlapping episodes would fail here), then requests every benchmarked page once.
func TestSmokeDataset(t *testing.T) {
	ctx := context.Background()
	url := storetest.NewURL(t)
	sc := scales["smoke"]
	if err := generate(ctx, url, sc, 1, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := ensureSLIs(ctx, url, sc, 1, io.Discard); err != nil {
		t.Fatal(err)
	}
	if ok, err := datasetPresent(ctx, url, sc, 1); err != nil || !ok {
		t.Fatalf("data set not marked present: %v %v", ok, err)
	}
	if ok, _ := datasetPresent(ctx, url, sc, 2); ok {
		t.Fatalf("another seed's data set reported present")
	}
	st, err := store.Open(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var c struct {
		Episodes, Open, Silenced, Pages, Flaps int
	}
	if err := st.DB().GetContext(ctx, &c, `
		SELECT count(*) AS episodes, count(*) FILTER (WHERE ends_at IS NULL) AS open,
		       count(*) FILTER (WHERE silenced) AS silenced,
		       (SELECT count(*) FROM receiver_episodes) AS pages,
		       count(*) FILTER (WHERE ends_at - starts_at < interval '3 minutes') AS flaps
		FROM episodes`); err != nil {
		t.Fatal(err)
	}
	if c.Episodes < sc.Episodes/2 || c.Episodes > sc.Episodes*2 || c.Open == 0 || c.Silenced == 0 || c.Flaps == 0 || c.Pages != c.Episodes {
		t.Errorf("unexpected smoke data set: %+v", c)
	}
	// The daily rollup (the trends and long noisy windows read it) was rebuilt after the COPY,
	// triggers off, and matches (firing time per day: store's tests).
	var wrong int
	if err := st.DB().GetContext(ctx, &wrong, `
		SELECT count(*)
		FROM (SELECT (starts_at AT TIME ZONE 'UTC')::date AS day, team, alertname,
		             count(*) AS fires, count(*) FILTER (WHERE silenced) AS silenced,
		             count(*) FILTER (WHERE (ends_at - starts_at < s.flap_threshold) OR gap_before <= s.refire_window) AS flaps
		      FROM episodes CROSS JOIN episode_day_settings s GROUP BY 1, 2, 3) r
		FULL JOIN (SELECT day, team, alertname, sum(fires) AS fires, sum(silenced) AS silenced, sum(flaps) AS flaps
		           FROM episode_day_fires GROUP BY 1, 2, 3 HAVING sum(fires) <> 0) o
		  ON o.day = r.day AND o.team = r.team AND o.alertname = r.alertname
		WHERE r.fires IS DISTINCT FROM o.fires OR r.silenced IS DISTINCT FROM o.silenced OR r.flaps IS DISTINCT FROM o.flaps`); err != nil {
		t.Fatal(err)
	}
	if wrong != 0 {
		t.Errorf("%d keys of episode_day_fires differ from the loaded episodes", wrong)
	}
	cfg, err := benchConfig(sc, url)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := benchPages(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	o := options{runs: 1, log: io.Discard}
	if _, err := measurePages(ctx, o, st, cfg, pages); err != nil {
		t.Fatal(err)
	}
	normal, err := measureNormal(ctx, o, st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(normal.lat) != len(normal.pages) || len(normal.tvLat) != 2*len(tvPanels) || normal.baselines == nil || normal.baselines.slis != sc.SLIs {
		t.Errorf("know-your-normal measurements missing: %d of %d pages, %d TV panels, baselines %+v",
			len(normal.lat), len(normal.pages), len(normal.tvLat), normal.baselines)
	}
	checkSLIs(t, st, url, cfg, sc)
}

// TestIngestBaselinesWriteTheWebhooksRows: the "all rows" baselines write, per payload, the same
// rows as the webhook (episodes, one notification, a link and a first notification per alert);
// the episodes-only baselines write the episodes.
func TestIngestBaselinesWriteTheWebhooksRows(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.NewURL(t), "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	type counts struct {
		Episodes      int `db:"episodes"`
		Notifications int `db:"notifications"`
		Links         int `db:"links"`
		Firsts        int `db:"firsts"`
	}
	count := func() counts {
		var c counts
		if err := st.DB().GetContext(ctx, &c, `
			SELECT (SELECT count(*) FROM episodes) AS episodes, (SELECT count(*) FROM notifications) AS notifications,
			       (SELECT count(*) FROM notification_episodes) AS links, (SELECT count(*) FROM receiver_episodes) AS firsts`); err != nil {
			t.Fatal(err)
		}
		return c
	}
	const alerts = 5
	for i, m := range ingestModes {
		before := count()
		if err := m.write(ctx, st, benchPayload(int64(i+1), alerts)); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		after := count()
		got := counts{after.Episodes - before.Episodes, after.Notifications - before.Notifications,
			after.Links - before.Links, after.Firsts - before.Firsts}
		want := counts{Episodes: alerts}
		if i == modeWebhook || i >= modeAllInsertAutocommit {
			want = counts{alerts, 1, alerts, alerts}
		}
		if got != want {
			t.Errorf("%s wrote %+v; want %+v", m.name, got, want)
		}
	}
}
