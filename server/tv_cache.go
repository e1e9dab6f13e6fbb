package server

import (
	"context"
	"sync"
	"time"
)

// tvCache holds each panel's last rendered fragment per (panel, team), so a panel costs at most
// one load (one query) per tvRefresh however many screens show it. A fragment older than ttl is
// refreshed by one load in the background while every request, the one that started it included,
// gets the previous fragment at once (singleflight, without the dependency): under steady polling
// no request ever waits for the database. Only requests that find nothing at all, or a fragment
// so old that nobody has polled it for a while (a screen switched on again, which should show
// what is true now), wait for that load. A failed load keeps the last good fragment: a TV shows
// old data with its age rather than an error. Entries are replaced, never appended: the map is
// bounded by panels × (teams + 2).
type tvCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[tvKey]*tvEntry
	loads   sync.WaitGroup // loads running, for tests to wait on
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

// get returns the fragment of key. One older than ttl is refreshed by a load that no other
// request is running already: in the background while the fragment is recent enough to show
// (tried within tvWaitAfter), else before answering.
func (tc *tvCache) get(ctx context.Context, key tvKey, load func(context.Context) (any, error)) tvResult {
	return tc.getEvery(ctx, key, tc.ttl, load)
}

// getEvery is get for a fragment refreshed every ttl rather than the cache's interval.
func (tc *tvCache) getEvery(ctx context.Context, key tvKey, ttl time.Duration, load func(context.Context) (any, error)) tvResult {
	tc.mu.Lock()
	e := tc.entries[key]
	if e == nil {
		e = &tvEntry{}
		tc.entries[key] = e
	}
	now := tc.now()
	age := now.Sub(e.tried)
	fresh := !e.tried.IsZero() && age < ttl && !now.Before(e.tried)
	recent := e.val != nil && !e.tried.IsZero() && age < tvWaitAfter*ttl && !now.Before(e.tried)
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
	tc.loads.Add(1)
	r := e.result()
	tc.mu.Unlock()

	// The load outlives a request that gives up, or that does not wait for it: the next one
	// will want its result.
	lctx := context.WithoutCancel(ctx)
	if recent {
		go tc.load(lctx, e, done, load)
		return r
	}
	tc.load(lctx, e, done, load)
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return e.result()
}

// load runs one load of e and stores what it gave.
func (tc *tvCache) load(ctx context.Context, e *tvEntry, done chan struct{}, load func(context.Context) (any, error)) {
	defer tc.loads.Done()
	ctx, cancel := context.WithTimeout(ctx, tvLoadTimeout)
	val, err := load(ctx)
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
}

// wait returns once no load is running (for tests: a refresh may outlive the request that
// started it).
func (tc *tvCache) wait() { tc.loads.Wait() }

func (e *tvEntry) result() tvResult { return tvResult{Val: e.val, Built: e.built, Err: e.err} }

// tvWaitAfter is, in refresh intervals, how long after the last load a fragment is still shown
// while the next one runs: polled screens refresh it every interval, so an older one has not been
// polled (or its loads hang) and the screen that asks waits for what is true now.
const tvWaitAfter = 3

// tvLoadTimeout bounds one panel load; a database that hangs must not hold a TV's request.
const tvLoadTimeout = 8 * time.Second
