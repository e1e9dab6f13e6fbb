package server

import (
	"context"
	"sync"
	"time"
)

// tvCache holds each panel's last rendered fragment per (panel, team), so a panel costs at most
// one load (one query) per tvRefresh however many screens show it. One request refreshes an
// entry while the others get the previous fragment at once (singleflight, without the
// dependency); only requests that find nothing at all wait for that load. A failed load keeps the
// last good fragment: a TV shows old data with its age rather than an error. Entries are
// replaced, never appended: the map is bounded by panels × (teams + 2).
type tvCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[tvKey]*tvEntry
}

type tvKey struct{ panel, team string }

type tvEntry struct {
	val     any       // the last good value (a rendered fragment); nil until a load succeeds
	built   time.Time // when val was loaded
	tried   time.Time // the last load, good or bad
	err     error     // the last load's error; nil after a success
	loading chan struct{}
}

// tvResult is what a panel request gets: the fragment, when it was built, and why it is old.
type tvResult struct {
	Val   any // nil until a load has succeeded
	Built time.Time
	Err   error // the last refresh failed (Val, if any, is older)
}

func newTVCache(ttl time.Duration, now func() time.Time) *tvCache {
	return &tvCache{ttl: ttl, now: now, entries: map[tvKey]*tvEntry{}}
}

// get returns the fragment of key, loading it when it is older than ttl and no other request is
// loading it already.
func (tc *tvCache) get(ctx context.Context, key tvKey, load func(context.Context) (any, error)) tvResult {
	tc.mu.Lock()
	e := tc.entries[key]
	if e == nil {
		e = &tvEntry{}
		tc.entries[key] = e
	}
	now := tc.now()
	fresh := !e.tried.IsZero() && now.Sub(e.tried) < tc.ttl && !now.Before(e.tried)
	switch {
	case fresh || (e.loading != nil && e.val != nil):
		r := e.result()
		tc.mu.Unlock()
		return r
	case e.loading != nil:
		wait := e.loading
		tc.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
		}
		tc.mu.Lock()
		defer tc.mu.Unlock()
		return e.result()
	}
	done := make(chan struct{})
	e.loading = done
	tc.mu.Unlock()

	// The load outlives a request that gives up: the next one will want its result.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tvLoadTimeout)
	val, err := load(lctx)
	cancel()

	tc.mu.Lock()
	defer tc.mu.Unlock()
	e.tried = tc.now()
	e.err = err
	if err == nil {
		e.val, e.built = val, e.tried
	}
	e.loading = nil
	close(done)
	return e.result()
}

func (e *tvEntry) result() tvResult { return tvResult{Val: e.val, Built: e.built, Err: e.err} }

// tvLoadTimeout bounds one panel load; a database that hangs must not hold a TV's request.
const tvLoadTimeout = 8 * time.Second
