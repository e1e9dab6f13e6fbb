// Package store owns every SQL statement of opsreview: the Postgres schema, its migrations, and the
// reads and writes of each aggregate (one file each).
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ErrNotFound is returned when the row asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrUnavailable wraps errors that mean Postgres could not be reached or is shutting down; callers
// answer 503 so that clients (Alertmanager) retry.
var ErrUnavailable = errors.New("database unavailable")

// Store is opsreview's Postgres store. Writes go to the primary; page reads may go to a replica.
type Store struct {
	db   *sqlx.DB
	read *sqlx.DB
	// replica: read is a read replica (database.read_url). Without one, read is a second, smaller
	// pool on the primary, so page loads and the TV never queue behind a burst of webhook
	// transactions for a connection.
	replica bool
	// groups serialises the deliveries of one notification group in this process (notifications.go).
	groups *keyedLock // shared by Primary views
	// stmts are the ingest statements, prepared once per connection (prepared.go).
	stmts *preparedStmts // shared by Primary views
}

// Pool sizes per instance: writes (webhook, collectors, forms) and page reads. Three instances on
// one Postgres use 3 × (20 + 8) connections, under Postgres's default max_connections of 100.
const (
	writePoolSize = 20
	readPoolSize  = 8
)

// Open connects to Postgres (and to a read replica when readURL is set) and checks the connection.
func Open(ctx context.Context, url, readURL string) (*Store, error) {
	db, err := connect(ctx, url, writePoolSize)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, groups: &keyedLock{}, stmts: &preparedStmts{}}
	if readURL != "" {
		if s.read, err = connect(ctx, readURL, writePoolSize); err != nil {
			db.Close()
			return nil, fmt.Errorf("read replica: %w", err)
		}
		s.replica = true
	} else if s.read, err = connect(ctx, url, readPoolSize); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func connect(ctx context.Context, dsn string, size int) (*sqlx.DB, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("opening database: %w", hidePassword(err, dsn))
	}
	if cfg.Runtime == nil {
		cfg.Runtime = map[string]string{}
	}
	for k, v := range sessionSettings {
		if _, set := cfg.Runtime[k]; !set {
			cfg.Runtime[k] = v
		}
	}
	c, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("opening database: %w", hidePassword(err, dsn))
	}
	db := sqlx.NewDb(sql.OpenDB(c), "postgres")
	db.SetMaxOpenConns(size)
	db.SetMaxIdleConns(size / 2)
	db.SetConnMaxLifetime(30 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to database: %w", classify(hidePassword(err, dsn)))
	}
	return db, nil
}

// sessionSettings are what every connection of the store starts with (sent with the connection's
// start-up, no statement; a setting the database URL gives itself wins):
//
//   - JIT compilation off. Every statement of opsreview reads or writes a bounded index range, but
//     over a year of history the planner's estimates of some (the noisy list's edge probes, the
//     runbooks' links) cross jit_above_cost, and compiling the statement then costs far more than
//     running it: the TV's noisiest panel at year scale took 0.9-1 s with JIT, 14-17 ms without.
//   - work_mem 32 MB. The long windows' aggregates (90 days of every team's pages grouped by rule,
//     110,000 rows at month scale) sort a few MB; with the default 4 MB they sorted on disk.
//     Postgres takes it per sort only as needed.
var sessionSettings = map[string]string{"jit": "off", "work_mem": "32MB"}

// dsnPasswords finds the password of a database URL (user:password@) or of a key=value
// connection string (password=…), also when the rest does not parse.
var dsnPasswords = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*://[^/@:]*:([^@]*)@|(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// hidePassword returns err without the database password in its text: a URL that does not parse
// comes back whole in the parser's error ("parse \"postgres://u:secret@…\": …"), and the
// error reaches the logs and the terminal.
func hidePassword(err error, dsn string) error {
	msg := err.Error()
	hidden := msg
	for _, m := range dsnPasswords.FindAllStringSubmatch(dsn, -1) {
		for _, pw := range m[1:] {
			if pw = strings.Trim(pw, "'"); len(pw) > 0 {
				hidden = strings.ReplaceAll(hidden, pw, "xxxxx")
				if esc := url.QueryEscape(pw); esc != pw {
					hidden = strings.ReplaceAll(hidden, esc, "xxxxx")
				}
			}
		}
	}
	if hidden == msg {
		return err
	}
	return &hiddenError{msg: hidden, err: err}
}

// hiddenError is an error whose text had a secret taken out; errors.Is and As still see the cause.
type hiddenError struct {
	msg string
	err error
}

func (e *hiddenError) Error() string { return e.msg }
func (e *hiddenError) Unwrap() error { return e.err }

// DB returns the primary connection pool (for tests and tools).
func (s *Store) DB() *sqlx.DB { return s.db }

// Close closes the connection pools.
func (s *Store) Close() error {
	s.stmts.close()
	if s.read != s.db {
		s.read.Close()
	}
	return s.db.Close()
}

// Ping checks that the primary answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return classify(err)
	}
	return nil
}

// inTx runs fn in a transaction on the primary and commits it; any error rolls back.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return classify(err)
	}
	if err := tx.Commit(); err != nil {
		return classify(fmt.Errorf("committing: %w", err))
	}
	return nil
}

// classify marks connection-level failures as ErrUnavailable, keeping the original error.
func classify(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	var ne net.Error
	var oe *net.OpError
	var pe *pq.Error
	switch {
	case errors.Is(err, sql.ErrConnDone), errors.Is(err, driver.ErrBadConn),
		errors.As(err, &ne), errors.As(err, &oe):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case errors.As(err, &pe):
		switch pe.Code.Class() {
		case "08", "53", "57": // connection exception, insufficient resources, operator intervention
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if pe.Code == "40001" || pe.Code == "40P01" { // serialization failure, deadlock: retryable
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
	}
	if isConnText(err.Error()) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

func isConnText(s string) bool {
	for _, p := range []string{"connection refused", "connection reset", "broken pipe", "unexpected EOF",
		"no such host", "i/o timeout", "the database system is", "server closed the connection"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
