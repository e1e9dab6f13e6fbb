// Package storetest gives every test its own empty Postgres database.
//
// The base server is, in order: OPSREVIEW_TEST_DATABASE_URL or DATABASE_URL
// when set; else 127.0.0.1:5432 as user postgres when it answers; else one
// private cluster per test binary, started on first use and stopped by [Main].
// A package that uses NewDB or NewURL should therefore have
//
//	func TestMain(m *testing.M) { storetest.Main(m) }
//
// Without it, a test that needs a private cluster gets one of its own, which
// is correct but slow.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

// Environment variables that name the base server, first match wins.
const (
	envTestURL = "OPSREVIEW_TEST_DATABASE_URL"
	envURL     = "DATABASE_URL"
)

// localURL is the conventional developer server, tried when no URL is set.
// A variable so that the private-cluster path can be exercised by hand:
// go test -ldflags=-X=…/storetest.localURL=postgres://127.0.0.1:1/x
var localURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=5"

// opTimeout bounds one administrative statement; it guards against a hung
// server, it is not a test assertion.
const opTimeout = 60 * time.Second

// server is a Postgres server on which test databases are created.
type server struct {
	url   string  // connection URL of the maintenance database
	admin *sql.DB // pool on url, used for CREATE and DROP DATABASE
}

// state is shared by all tests of one test binary.
var state struct {
	mu       sync.Mutex
	main     bool       // Main is running the tests
	resolved bool       // srv or err is final
	srv      *server    // nil with err == nil: no server, use a per-test cluster
	err      error      // why there is no usable server
	cluster  *pgCluster // private cluster started for this binary
}

// Main runs the tests of a package and then stops the private cluster, if
// one was started. Call it from TestMain; it does not return.
func Main(m *testing.M) {
	state.mu.Lock()
	state.main = true
	state.mu.Unlock()

	code := m.Run()
	if err := shutdown(); err != nil {
		fmt.Fprintf(os.Stderr, "storetest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// shutdown closes the shared pool and stops the binary's private cluster.
func shutdown() error {
	state.mu.Lock()
	defer state.mu.Unlock()
	var errs []error
	if state.srv != nil {
		errs = append(errs, state.srv.admin.Close())
	}
	if state.cluster != nil {
		errs = append(errs, state.cluster.destroy())
	}
	state.srv, state.cluster, state.resolved, state.err = nil, nil, false, nil
	return errors.Join(errs...)
}

// NewDB returns a connection pool on a brand-new empty database that is
// dropped when the test ends. Tests never share data.
func NewDB(tb testing.TB) *sqlx.DB {
	tb.Helper()
	u := NewURL(tb)
	db, err := sqlx.Open("postgres", u)
	if err != nil {
		tb.Fatalf("storetest: open test database: %v", err)
	}
	// Registered after NewURL's drop, so it runs before it: close, then drop.
	tb.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		tb.Fatalf("storetest: connect to test database: %v", err)
	}
	return db
}

// NewURL creates a brand-new empty database and returns its connection URL.
// The database is dropped when the test ends, even if connections to it are
// still open.
func NewURL(tb testing.TB) string {
	tb.Helper()
	srv := serverFor(tb)
	u, name, err := srv.createDatabase(tb.Name())
	if err != nil {
		tb.Fatalf("storetest: %v", err)
	}
	tb.Cleanup(func() {
		if err := srv.dropDatabase(name); err != nil {
			tb.Errorf("storetest: %v", err)
		}
	})
	return u
}

// serverFor returns the shared server, resolving it on first use, or a
// per-test private cluster when there is none and Main is not in charge.
func serverFor(tb testing.TB) *server {
	tb.Helper()
	state.mu.Lock()
	if !state.resolved {
		state.srv, state.cluster, state.err = resolve(state.main)
		state.resolved = true
	}
	srv, err := state.srv, state.err
	state.mu.Unlock()
	if err != nil {
		tb.Fatalf("storetest: %v", err)
	}
	if srv != nil {
		return srv
	}

	tb.Logf("storetest: no Postgres server and no storetest.Main in TestMain: starting a cluster for this test alone")
	c := NewCluster(tb)
	srv, err = openServer(c.URL("postgres"))
	if err != nil {
		tb.Fatalf("storetest: %v", err)
	}
	tb.Cleanup(func() { _ = srv.admin.Close() })
	return srv
}

// resolve finds the base server. With withCluster it may start this
// binary's private cluster; without, a nil server means "none found".
func resolve(withCluster bool) (*server, *pgCluster, error) {
	for _, env := range []string{envTestURL, envURL} {
		if u := os.Getenv(env); u != "" {
			srv, err := openServer(u)
			if err != nil {
				return nil, nil, fmt.Errorf("server from %s: %w", env, err)
			}
			return srv, nil, nil
		}
	}
	if srv, err := openServer(localURL); err == nil {
		return srv, nil, nil
	}
	if !withCluster {
		return nil, nil, nil
	}
	c, err := startCluster()
	if err != nil {
		return nil, nil, fmt.Errorf("no server at %s or 127.0.0.1:5432, and a private cluster failed: %w", envTestURL, err)
	}
	srv, err := openServer(c.url("postgres"))
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("private cluster: %w", err), c.destroy())
	}
	return srv, c, nil
}

// openServer connects to the maintenance database at u and checks it answers.
func openServer(u string) (*server, error) {
	db, err := sql.Open("postgres", u)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", redact(u), err)
	}
	// CREATE and DROP DATABASE are rare and short: a small pool is plenty.
	db.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to %s: %w", redact(u), err)
	}
	return &server{url: u, admin: db}, nil
}

// createDatabase creates an empty database named after the test and returns
// its URL and name. template0 keeps it empty whatever was added to template1, and the
// C locale keeps sorting identical on every server.
func (s *server) createDatabase(testName string) (u, name string, err error) {
	name, err = databaseName(testName)
	if err != nil {
		return "", "", err
	}
	stmt := `CREATE DATABASE ` + pq.QuoteIdentifier(name) + `
		TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		_, err = s.admin.ExecContext(ctx, stmt)
		// Concurrent CREATE DATABASE statements can collide on the template.
		if pq.As(err, pqerror.ObjectInUse) == nil || attempt == 10 {
			break
		}
		time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
	}
	if err != nil {
		return "", "", fmt.Errorf("create database %s on %s: %w", name, redact(s.url), err)
	}
	u, err = withDatabase(s.url, name)
	if err != nil {
		return "", "", errors.Join(err, s.dropDatabase(name))
	}
	return u, name, nil
}

// dropDatabase drops a test database, disconnecting whoever still uses it.
func (s *server) dropDatabase(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	q := pq.QuoteIdentifier(name)
	_, err := s.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+q+` WITH (FORCE)`)
	if pq.As(err, pqerror.SyntaxError) != nil {
		// Before Postgres 13: disconnect by hand, then drop.
		_, err = s.admin.ExecContext(ctx, `
			SELECT pg_terminate_backend(pid)
			FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid()`, name)
		if err == nil {
			_, err = s.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+q)
		}
	}
	if err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// databaseName makes a unique, valid database name that still says which
// test it belongs to (handy in pg_stat_activity).
func databaseName(testName string) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		if b.Len() == 40 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", fmt.Errorf("random database name: %w", err)
	}
	return "t_" + b.String() + "_" + hex.EncodeToString(rnd[:]), nil
}
