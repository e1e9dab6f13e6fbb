package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
)

// preparedStmts holds statements prepared on the primary pool, for the ingest path: database/sql
// keeps each prepared once per connection it runs on, so such a statement is parsed and planned
// once per connection instead of once per payload (for a 100-alert payload, parsing and planning
// its few array statements cost more than a tenth of the payload), and each execution is one round
// trip instead of two (lib/pq prepares an unnamed statement before binding it).
//
// Statements are prepared before the transaction that runs them begins: preparing on the pool
// takes a connection, which a transaction already holding one must not wait for. In the
// transaction, a statement not yet prepared on its connection is prepared there, on that connection.
type preparedStmts struct {
	mu sync.Mutex
	m  map[string]*sqlx.Stmt
}

// prepare prepares the queries not prepared yet.
func (p *preparedStmts) prepare(ctx context.Context, db *sqlx.DB, queries ...string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]*sqlx.Stmt{}
	}
	for _, q := range queries {
		if p.m[q] != nil {
			continue
		}
		st, err := db.PreparexContext(ctx, q)
		if err != nil {
			return classify(fmt.Errorf("preparing an ingest statement: %w", err))
		}
		p.m[q] = st
	}
	return nil
}

func (p *preparedStmts) get(q string) *sqlx.Stmt {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[q]
}

// close releases the statements (on Store.Close).
func (p *preparedStmts) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for q, st := range p.m {
		st.Close()
		delete(p.m, q)
	}
}

// preparedTx runs queries in tx, as prepared statements when they were prepared and as plain
// queries otherwise.
type preparedTx struct {
	tx *sqlx.Tx
	p  *preparedStmts
}

func (t preparedTx) get(ctx context.Context, dest any, q string, args ...any) error {
	if st := t.p.get(q); st != nil {
		return t.tx.StmtxContext(ctx, st).GetContext(ctx, dest, args...)
	}
	return t.tx.GetContext(ctx, dest, q, args...)
}

func (t preparedTx) sel(ctx context.Context, dest any, q string, args ...any) error {
	if st := t.p.get(q); st != nil {
		return t.tx.StmtxContext(ctx, st).SelectContext(ctx, dest, args...)
	}
	return t.tx.SelectContext(ctx, dest, q, args...)
}

func (t preparedTx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.p.get(q); st != nil {
		return t.tx.StmtxContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

func (t preparedTx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.p.get(q); st != nil {
		return t.tx.StmtxContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}
