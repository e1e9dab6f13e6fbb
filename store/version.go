package store

import (
	"context"
	"fmt"
)

// Primary returns a view of the store whose reads also go to the primary: a mutation's response,
// and a page its author loads right after, read what was just written even while a replica lags.
// Without a replica it is the store itself.
func (s *Store) Primary() *Store {
	if !s.replica {
		return s // the read pool is on the primary too
	}
	p := *s
	p.read = p.db
	return &p
}

// HasReplica reports whether reads go to a read replica (database.read_url).
func (s *Store) HasReplica() bool { return s.replica }

// DataVersion returns the data version as the read pool sees it: a number that grows with every
// committed write to anything a page shows (migration 0080's triggers), whichever instance wrote
// it. A page built after reading version v shows at least every write counted in v, so a cached
// build is current as long as the version has not moved.
func (s *Store) DataVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.read.GetContext(ctx, &v, `SELECT coalesce(sum(v), 0)::bigint FROM data_version`); err != nil {
		return 0, classify(fmt.Errorf("reading the data version: %w", err))
	}
	return v, nil
}

// MaxOpenConns is the size of each connection pool: the server sizes its limit on concurrent page
// builds from it.
func (s *Store) MaxOpenConns() int { return s.read.Stats().MaxOpenConnections }
