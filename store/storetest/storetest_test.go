package storetest_test

import (
	"database/sql"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/opsreview/opsreview/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func TestNewDBIsEmpty(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	var n int
	if err := db.Get(&n, `
		SELECT count(*)
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')`); err != nil {
		t.Fatalf("count relations: %v", err)
	}
	if n != 0 {
		t.Errorf("new database has %d user relations, want 0", n)
	}
}

func TestNewDBIsolation(t *testing.T) {
	t.Parallel()
	a, b := storetest.NewDB(t), storetest.NewDB(t)

	var nameA, nameB string
	if err := a.Get(&nameA, `SELECT current_database()`); err != nil {
		t.Fatalf("database a: %v", err)
	}
	if err := b.Get(&nameB, `SELECT current_database()`); err != nil {
		t.Fatalf("database b: %v", err)
	}
	if nameA == nameB {
		t.Fatalf("two NewDB calls share database %q", nameA)
	}

	a.MustExec(`CREATE TABLE note (body text NOT NULL)`)
	a.MustExec(`INSERT INTO note (body) VALUES ('only in a')`)
	var exists bool
	if err := b.Get(&exists, `SELECT to_regclass('public.note') IS NOT NULL`); err != nil {
		t.Fatalf("look for table in b: %v", err)
	}
	if exists {
		t.Errorf("table created in %s is visible in %s", nameA, nameB)
	}
}

func TestNewURLDroppedAtCleanup(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("owner", func(t *testing.T) {
		db, err := sqlx.Connect("postgres", storetest.NewURL(t))
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		// Left open until the parent ends: the drop must not wait for it.
		t.Cleanup(func() { _ = db.Close() })
		if err := db.Get(&name, `SELECT current_database()`); err != nil {
			t.Fatalf("current database: %v", err)
		}
	})

	check := storetest.NewDB(t)
	var exists bool
	if err := check.Get(&exists, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name); err != nil {
		t.Fatalf("look for database: %v", err)
	}
	if exists {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

func TestClusterStopStart(t *testing.T) {
	t.Parallel()
	c := storetest.NewCluster(t)
	url := c.URL("postgres")
	db, err := sqlx.Connect("postgres", url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer db.Close()
	db.MustExec(`CREATE TABLE kept (v int NOT NULL)`)
	db.MustExec(`INSERT INTO kept (v) VALUES (42)`)

	c.Stop()
	if err := db.Ping(); err == nil {
		t.Fatal("ping on an open pool succeeded with the server stopped")
	}
	fresh, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer fresh.Close()
	if err := fresh.Ping(); err == nil {
		t.Fatal("new connection succeeded with the server stopped")
	}

	c.Start()
	if got := c.URL("postgres"); got != url {
		t.Errorf("URL after restart = %q, want %q", got, url)
	}
	var v int
	if err := db.Get(&v, `SELECT v FROM kept`); err != nil {
		t.Fatalf("query through the old pool after restart: %v", err)
	}
	if v != 42 {
		t.Errorf("kept value = %d after restart, want 42", v)
	}
	if err := fresh.Ping(); err != nil {
		t.Errorf("new connection after restart: %v", err)
	}
}
