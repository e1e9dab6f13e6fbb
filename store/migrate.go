package store

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/opsreview/opsreview/migrations"
)

// migrationLock is the advisory lock key under which migrations run, so that several instances
// starting at once apply each migration exactly once.
const migrationLock = 0x6f70737265766965 // "opsrevie"

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("listing migrations: %w", err)
	}
	var ms []migration
	for _, n := range names {
		num, _, ok := strings.Cut(n, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and an underscore", n)
		}
		b, err := fs.ReadFile(migrations.FS, n)
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", n, err)
		}
		ms = append(ms, migration{version: v, name: n, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share a number", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// Migrate applies every migration not yet recorded, each in its own transaction, under an advisory
// lock held on one connection. It returns the versions it applied.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return nil, classify(fmt.Errorf("migrating: %w", err))
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return nil, classify(fmt.Errorf("taking the migration lock: %w", err))
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLock))

	if _, err := conn.ExecContext(ctx, `
		CREATE TABLE IF NOT EXISTS schema_migrations (
		    version    integer     PRIMARY KEY,
		    name       text        NOT NULL,
		    applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
		return nil, classify(fmt.Errorf("creating schema_migrations: %w", err))
	}
	var done []int
	if err := conn.SelectContext(ctx, &done, `SELECT version FROM schema_migrations`); err != nil {
		return nil, classify(fmt.Errorf("reading schema_migrations: %w", err))
	}
	have := map[int]bool{}
	for _, v := range done {
		have[v] = true
	}
	var applied []int
	for _, m := range ms {
		if have[m.version] {
			continue
		}
		if err := applyMigration(ctx, conn, m); err != nil {
			return applied, err
		}
		applied = append(applied, m.version)
	}
	return applied, nil
}

func applyMigration(ctx context.Context, conn *sqlx.Conn, m migration) error {
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return classify(fmt.Errorf("migration %s: %w", m.name, err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
		return fmt.Errorf("recording migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return classify(fmt.Errorf("committing migration %s: %w", m.name, err))
	}
	return nil
}

// Migrated reports whether every known migration has been applied (for /readyz).
func (s *Store) Migrated(ctx context.Context) (bool, error) {
	ms, err := loadMigrations()
	if err != nil {
		return false, err
	}
	var n int
	err = s.db.GetContext(ctx, &n, `
		SELECT count(*) FROM schema_migrations WHERE version = ANY($1)`, intArray(ms))
	if err != nil {
		return false, classify(fmt.Errorf("reading schema_migrations: %w", err))
	}
	return n == len(ms), nil
}

func intArray(ms []migration) any {
	vs := make([]int64, len(ms))
	for i, m := range ms {
		vs[i] = int64(m.version)
	}
	return int64s(vs)
}
