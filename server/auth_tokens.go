package server

import (
	"context"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/opsreview/opsreview/store"
)

// tokenRecheck is how long a looked-up token is believed before it is read again: a revoked TV
// link stops working within one TV refresh (tvRefresh), without a query per request.
const tokenRecheck = 5 * time.Second

// tokenChecker looks up TV links and API tokens, remembering each for tokenRecheck. While the
// database is unreachable it keeps believing what it last read, so a wall TV keeps showing its
// cached panels through an outage. Only tokens that exist are remembered: the map is bounded by
// the tokens in the database, whatever clients send.
type tokenChecker struct {
	store *store.Store
	now   func() time.Time

	mu   sync.Mutex
	seen map[string]seenToken
}

type seenToken struct {
	tok store.Token
	at  time.Time
}

func newTokenChecker(st *store.Store, now func() time.Time) *tokenChecker {
	return &tokenChecker{store: st, now: now, seen: map[string]seenToken{}}
}

// check returns the stored token matching raw; store.ErrNotFound when none does, and
// store.ErrUnavailable when the database cannot say and nothing is remembered.
func (tc *tokenChecker) check(ctx context.Context, kind, raw string) (store.Token, error) {
	key := kind + ":" + hex.EncodeToString(store.HashToken(raw))
	now := tc.now()
	tc.mu.Lock()
	seen, ok := tc.seen[key]
	tc.mu.Unlock()
	if ok && now.Sub(seen.at) < tokenRecheck && !now.Before(seen.at) {
		return seen.tok, nil
	}
	tok, err := tc.store.LookupToken(ctx, kind, raw)
	switch {
	case errors.Is(err, store.ErrUnavailable) && ok:
		return seen.tok, nil
	case err != nil:
		if errors.Is(err, store.ErrNotFound) {
			tc.forget(key)
		}
		return store.Token{}, err
	}
	tc.mu.Lock()
	tc.seen[key] = seenToken{tok: tok, at: now}
	tc.mu.Unlock()
	if tok.Valid(now) {
		// Best effort: "last used" is for people listing tokens; failing to note it denies nothing.
		_ = tc.store.TouchToken(ctx, tok.ID, now)
	}
	return tok, nil
}

func (tc *tokenChecker) forget(key string) {
	tc.mu.Lock()
	delete(tc.seen, key)
	tc.mu.Unlock()
}
