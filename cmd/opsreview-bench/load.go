package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/opsreview/opsreview/store"
)

// datasetVersion changes whenever the generator changes what it writes, so an old data set is
// regenerated rather than measured.
const datasetVersion = 1

// bulkTables are loaded with their indexes and constraints dropped, then rebuilt: building an
// index once is much cheaper than maintaining it for millions of rows.
var bulkTables = []string{"episodes", "notifications", "notification_episodes", "receiver_episodes"}

// withDatabase returns base with its database name replaced.
func withDatabase(base, db string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		return "", fmt.Errorf("database URL must be a postgres:// URL: %q", base)
	}
	u.Path = "/" + db
	return u.String(), nil
}

// ensureDataset makes sure database name on base holds the data set of (scale, seed), generating it
// when missing or different. It returns the data set's URL.
func ensureDataset(ctx context.Context, base, name string, sc Scale, seed uint64, log io.Writer) (string, error) {
	dbURL, err := withDatabase(base, name)
	if err != nil {
		return "", err
	}
	if ok, err := datasetPresent(ctx, dbURL, sc, seed); err != nil {
		return "", err
	} else if ok {
		fmt.Fprintf(log, "data set %s (scale %s, seed %d) is present: reusing it\n", name, sc.Name, seed)
		return dbURL, ensureSLIs(ctx, dbURL, sc, seed, log)
	}
	if err := recreateDatabase(ctx, base, name); err != nil {
		return "", err
	}
	began := time.Now()
	if err := generate(ctx, dbURL, sc, seed, log); err != nil {
		return "", fmt.Errorf("generating %s: %w", name, err)
	}
	fmt.Fprintf(log, "generated %s in %s\n", name, time.Since(began).Round(time.Second))
	return dbURL, ensureSLIs(ctx, dbURL, sc, seed, log)
}

// datasetPresent says whether dbURL holds a complete data set of this scale, seed and version.
func datasetPresent(ctx context.Context, dbURL string, sc Scale, seed uint64) (bool, error) {
	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		return false, fmt.Errorf("opening %s: %w", dbURL, err)
	}
	defer db.Close()
	var n int
	err = db.GetContext(ctx, &n, `
		SELECT count(*) FROM bench_dataset
		WHERE scale = $1 AND seed = $2 AND version = $3 AND complete`, sc.Name, int64(seed), datasetVersion)
	var pe *pq.Error
	switch {
	case errors.As(err, &pe) && (pe.Code == "3D000" || pe.Code == "42P01"): // no database, no table
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading the data set marker: %w", err)
	}
	return n == 1, nil
}

// scratchStore recreates the database name on base's server, migrates it and opens a store on it:
// a measurement's own scratch database. It also returns the database's URL.
func scratchStore(ctx context.Context, base, name string) (*store.Store, string, error) {
	if err := recreateDatabase(ctx, base, name); err != nil {
		return nil, "", err
	}
	dbURL, err := withDatabase(base, name)
	if err != nil {
		return nil, "", err
	}
	st, err := store.Open(ctx, dbURL, "")
	if err != nil {
		return nil, "", err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, "", err
	}
	return st, dbURL, nil
}

func recreateDatabase(ctx context.Context, base, name string) error {
	db, err := sql.Open("postgres", base)
	if err != nil {
		return fmt.Errorf("opening %s: %w", base, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(name)+` WITH (FORCE)`); err != nil {
		return fmt.Errorf("dropping %s: %w", name, err)
	}
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name)); err != nil {
		return fmt.Errorf("creating %s: %w", name, err)
	}
	return nil
}

// generate migrates an empty database and fills it.
func generate(ctx context.Context, dbURL string, sc Scale, seed uint64, log io.Writer) error {
	st, err := store.Open(ctx, dbURL, "")
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	db := st.DB()
	if _, err := db.ExecContext(ctx, `
		CREATE TABLE bench_dataset (scale text, seed bigint, version int, complete boolean, loaded_at timestamptz)`); err != nil {
		return fmt.Errorf("creating the data set marker: %w", err)
	}
	saved, err := dropBulkIndexes(ctx, db, bulkTables)
	if err != nil {
		return err
	}
	// Triggers that keep derived columns exact row by row would run over the bulk tables without
	// their indexes; the columns are rebuilt in one statement each after the load instead.
	for _, t := range bulkTables {
		if _, err := db.ExecContext(ctx, `ALTER TABLE `+t+` DISABLE TRIGGER USER`); err != nil {
			return fmt.Errorf("disabling the triggers of %s: %w", t, err)
		}
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x6f707372))
	rules := genRules(sc, rng)
	t0 := time.Now()
	counts, err := loadHistory(ctx, db, sc, rules, rng)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "copied %d episodes, %d notifications, %d notification_episodes, %d receiver_episodes in %s\n",
		counts[0], counts[1], counts[2], counts[3], time.Since(t0).Round(time.Second))
	t0 = time.Now()
	if err := loadSmallTables(ctx, db, sc, rules, rng); err != nil {
		return err
	}
	fmt.Fprintf(log, "copied rules, verdicts, action items, toil, runbooks, changes in %s\n", time.Since(t0).Round(time.Second))
	t0 = time.Now()
	if err := restoreIndexes(ctx, db, saved); err != nil {
		return err
	}
	fmt.Fprintf(log, "rebuilt %d indexes and constraints in %s\n", len(saved), time.Since(t0).Round(time.Second))
	t0 = time.Now()
	for _, q := range []string{`SELECT episodes_rebuild_gaps()`, `SELECT receiver_episodes_rebuild()`, `SELECT alert_annotation_sets_rebuild()`, `SELECT episode_day_fires_rebuild()`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("filling derived columns (%s): %w", q, err)
		}
	}
	for _, t := range bulkTables {
		if _, err := db.ExecContext(ctx, `ALTER TABLE `+t+` ENABLE TRIGGER USER`); err != nil {
			return fmt.Errorf("enabling the triggers of %s: %w", t, err)
		}
	}
	fmt.Fprintf(log, "filled derived columns in %s\n", time.Since(t0).Round(time.Second))
	t0 = time.Now()
	for _, q := range []string{
		`SELECT setval('episodes_id_seq', (SELECT coalesce(max(id), 1) FROM episodes))`,
		`SELECT setval('notifications_id_seq', (SELECT coalesce(max(id), 1) FROM notifications))`,
		// A live database is vacuumed by autovacuum; without it index-only scans read the heap.
		`VACUUM (ANALYZE)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("finishing the load (%s): %w", q, err)
		}
	}
	fmt.Fprintf(log, "vacuumed and analyzed in %s\n", time.Since(t0).Round(time.Second))
	if _, err := db.ExecContext(ctx, `INSERT INTO bench_dataset VALUES ($1, $2, $3, true, now())`,
		sc.Name, int64(seed), datasetVersion); err != nil {
		return fmt.Errorf("marking the data set complete: %w", err)
	}
	return nil
}

// ddl is one statement that recreates a dropped index or constraint, with its kind for ordering.
type ddl struct {
	order int // 0 primary/unique/exclusion, 1 foreign key, 2 plain index
	sql   string
}

// dropBulkIndexes drops the indexes and constraints of tables (and foreign keys pointing at them)
// and returns the statements that recreate them.
func dropBulkIndexes(ctx context.Context, db *sqlx.DB, tables []string) ([]ddl, error) {
	var cons []struct {
		Table string `db:"tbl"`
		Name  string `db:"conname"`
		Type  string `db:"contype"`
		Def   string `db:"def"`
	}
	if err := db.SelectContext(ctx, &cons, `
		SELECT c.conrelid::regclass::text AS tbl, c.conname, c.contype::text AS contype,
		       pg_get_constraintdef(c.oid) AS def
		FROM pg_constraint c
		WHERE c.contype IN ('p', 'u', 'x', 'f')
		  AND (c.conrelid::regclass::text = ANY($1) OR (c.contype = 'f' AND c.confrelid::regclass::text = ANY($1)))
		ORDER BY c.contype = 'f' DESC`, pq.Array(tables)); err != nil {
		return nil, fmt.Errorf("listing constraints: %w", err)
	}
	var idx []struct {
		Name string `db:"indexname"`
		Def  string `db:"indexdef"`
	}
	if err := db.SelectContext(ctx, &idx, `
		SELECT i.indexname, i.indexdef
		FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`, pq.Array(tables)); err != nil {
		return nil, fmt.Errorf("listing indexes: %w", err)
	}
	var out []ddl
	for _, c := range cons {
		order := 0
		if c.Type == "f" {
			order = 1
		}
		out = append(out, ddl{order, fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %s %s`, c.Table, pq.QuoteIdentifier(c.Name), c.Def)})
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`ALTER TABLE %s DROP CONSTRAINT %s`, c.Table, pq.QuoteIdentifier(c.Name))); err != nil {
			return nil, fmt.Errorf("dropping constraint %s: %w", c.Name, err)
		}
	}
	for _, i := range idx {
		out = append(out, ddl{2, i.Def})
		if _, err := db.ExecContext(ctx, `DROP INDEX `+pq.QuoteIdentifier(i.Name)); err != nil {
			return nil, fmt.Errorf("dropping index %s: %w", i.Name, err)
		}
	}
	return out, nil
}

func restoreIndexes(ctx context.Context, db *sqlx.DB, saved []ddl) error {
	conn, err := db.Connx(ctx)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET maintenance_work_mem = '512MB'`); err != nil {
		return fmt.Errorf("raising maintenance_work_mem: %w", err)
	}
	for order := 0; order <= 2; order++ {
		for _, d := range saved {
			if d.order != order {
				continue
			}
			if _, err := conn.ExecContext(ctx, d.sql); err != nil {
				return fmt.Errorf("rebuilding (%s): %w", d.sql, err)
			}
		}
	}
	return nil
}

// copyStream is one COPY into one table on its own connection, fed rows through a channel.
type copyStream struct {
	rows chan []any
	done chan error
	n    int
}

func startCopy(ctx context.Context, db *sqlx.DB, table string, cols ...string) *copyStream {
	s := &copyStream{rows: make(chan []any, 4096), done: make(chan error, 1)}
	go func() {
		s.done <- func() error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return fmt.Errorf("copying into %s: %w", table, err)
			}
			defer tx.Rollback()
			stmt, err := tx.PrepareContext(ctx, pq.CopyIn(table, cols...))
			if err != nil {
				return fmt.Errorf("copying into %s: %w", table, err)
			}
			for r := range s.rows {
				if _, err := stmt.ExecContext(ctx, r...); err != nil {
					for range s.rows { // drain so the producer does not block
					}
					return fmt.Errorf("copying into %s: %w", table, err)
				}
			}
			if _, err := stmt.ExecContext(ctx); err != nil {
				return fmt.Errorf("finishing the copy into %s: %w", table, err)
			}
			if err := stmt.Close(); err != nil {
				return fmt.Errorf("closing the copy into %s: %w", table, err)
			}
			if err := tx.Commit(); err != nil {
				return fmt.Errorf("committing the copy into %s: %w", table, err)
			}
			return nil
		}()
	}()
	return s
}

func (s *copyStream) send(r ...any) { s.n++; s.rows <- r }

// loadHistory generates rule by rule and streams episodes and notifications into four parallel
// COPYs. It returns the row counts of the four tables.
func loadHistory(ctx context.Context, db *sqlx.DB, sc Scale, rules []*rule, rng *rand.Rand) ([4]int, error) {
	eps := startCopy(ctx, db, "episodes", "id", "fingerprint", "alertname", "team", "labels", "annotations",
		"generator_url", "starts_at", "ends_at", "end_kind", "last_seen_at", "last_seen_by", "via_webhook",
		"via_alertmanager", "silenced")
	ns := startCopy(ctx, db, "notifications", "id", "dedup_key", "receiver", "group_key", "group_key_hash",
		"status", "received_at", "last_received_at", "alerts", "external_url", "group_labels", "sent_at")
	nes := startCopy(ctx, db, "notification_episodes", "notification_id", "episode_id", "alert_status")
	res := startCopy(ctx, db, "receiver_episodes", "receiver", "episode_id", "first_notification_id",
		"first_sent_at", "first_dedup_key")
	streams := []*copyStream{eps, ns, nes, res}
	nextEp, nextN := int64(1), int64(1)
	for ri, r := range rules {
		if ctx.Err() != nil {
			break
		}
		annotations := r.annotations()
		gen := fmt.Sprintf("http://prometheus.example:9090/graph?g0.expr=ALERTS%%7Balertname%%3D%%22%s%%22%%7D", r.Name)
		list := genEpisodes(sc, r, ri, rng, nextEp)
		nextEp += int64(len(list))
		labels := make([]string, r.Instances)
		for i := range labels {
			labels[i] = r.labels(i)
		}
		for _, e := range list {
			kind, seen := 0, dataEnd
			var end any
			if e.End != nil {
				kind, seen, end = 3, *e.End, *e.End
			}
			eps.send(e.ID, e.Fingerprint, r.Name, r.Team, labels[e.Instance], annotations, gen, e.Start, end, kind,
				seen, "am-0", true, true, e.Silenced)
		}
		notes := genNotifications(list, nextN)
		nextN += int64(len(notes))
		groupHash := sha256.Sum256([]byte(fmt.Sprintf(`{}:{alertname=%q}`, r.Name)))
		groupLabels := mustJSON(map[string]string{"alertname": r.Name})
		for _, n := range notes {
			key := n.dedupKey()
			ns.send(n.ID, key, n.Receiver, n.groupKey(), groupHash[:], n.Status, n.Received, n.Received,
				len(n.Episodes), "http://alertmanager.example:9093", groupLabels, n.Sent)
			for _, e := range n.Episodes {
				nes.send(n.ID, e.ID, n.Status)
				if n.First {
					res.send(n.Receiver, e.ID, n.ID, n.Sent, key)
				}
			}
		}
	}
	var errs []error
	for _, s := range streams {
		close(s.rows)
		errs = append(errs, <-s.done)
	}
	if err := errors.Join(errs...); err != nil {
		return [4]int{}, err
	}
	if err := ctx.Err(); err != nil {
		return [4]int{}, fmt.Errorf("generating history: %w", err)
	}
	return [4]int{eps.n, ns.n, nes.n, res.n}, nil
}
