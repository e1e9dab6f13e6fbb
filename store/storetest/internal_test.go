package storetest

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/lib/pq"
)

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		base     string
		wantHost string
		wantPass string
	}{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "127.0.0.1", ""},
		{"postgresql://u:s3cret@db.example:6543/app?sslmode=disable&dbname=other", "db.example", "s3cret"},
		{"postgres:///app?host=/var/run/postgresql", "/var/run/postgresql", ""},
		{"host=127.0.0.1 port=5432 user=postgres dbname=opsreview sslmode=disable", "127.0.0.1", ""},
		{"host=db password='a b' sslmode=disable", "db", "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			got, err := withDatabase(tt.base, "t_x_0123")
			if err != nil {
				t.Fatalf("withDatabase: %v", err)
			}
			cfg, err := pq.NewConfig(got)
			if err != nil {
				t.Fatalf("parse %q: %v", got, err)
			}
			if cfg.Database != "t_x_0123" || cfg.Host != tt.wantHost || cfg.Password != tt.wantPass {
				t.Errorf("withDatabase(%q) = %q: database %q host %q password %q, want t_x_0123 %q %q",
					tt.base, got, cfg.Database, cfg.Host, cfg.Password, tt.wantHost, tt.wantPass)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for _, dsn := range []string{
		"postgres://u:s3cret@db:5432/app",
		"host=db password=s3cret user=u",
		"host=db password='s3cret x' user=u",
	} {
		if got := redact(dsn); strings.Contains(got, "s3cret") {
			t.Errorf("redact(%q) = %q, still shows the password", dsn, got)
		}
	}
}

func TestDatabaseName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	long := strings.Repeat("TestSomethingVeryLong/with spaces/", 5)
	a, errA := databaseName(long)
	b, errB := databaseName(long)
	if errA != nil || errB != nil {
		t.Fatalf("databaseName: %v, %v", errA, errB)
	}
	if a == b {
		t.Errorf("two names for the same test are equal: %q", a)
	}
	if !valid.MatchString(a) {
		t.Errorf("databaseName(%q) = %q: not a plain identifier of at most 63 bytes", long, a)
	}
}

// TestPrivateClusterServer drives the path taken when no server answers:
// a private cluster on which test databases are created and dropped.
func TestPrivateClusterServer(t *testing.T) {
	t.Parallel()
	c, err := startCluster()
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.destroy(); err != nil {
			t.Errorf("destroy cluster: %v", err)
		}
	})
	srv, err := openServer(c.url("postgres"))
	if err != nil {
		t.Fatalf("open server: %v", err)
	}
	defer srv.admin.Close()

	u, name, err := srv.createDatabase(t.Name())
	if err != nil {
		t.Fatalf("create database: %v", err)
	}
	db, err := openServer(u)
	if err != nil {
		t.Fatalf("connect to new database: %v", err)
	}
	var got string
	if err := db.admin.QueryRowContext(context.Background(), `SELECT current_database()`).Scan(&got); err != nil {
		t.Fatalf("current database: %v", err)
	}
	if got != name {
		t.Errorf("connected to %q, want %q", got, name)
	}
	// Still connected: the drop must disconnect it.
	if err := srv.dropDatabase(name); err != nil {
		t.Fatalf("drop database: %v", err)
	}
	_ = db.admin.Close()
}
