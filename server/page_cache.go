package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opsreview/opsreview/store"
)

// pageCache bounds what the heavy pages (the weekly review, the noisy-alerts API) cost, in database
// time and in memory, however many people load them at once:
//   - one build per (page, week, team, query) at a time: concurrent requests for the same page wait
//     for that build and share its result (singleflight, without the dependency);
//   - at most `limit` builds of any pages at once (a semaphore sized from the connection pool), so
//     the result sets held in memory are bounded by that, not by the number of clients;
//   - a built page is reused while the data version (store.DataVersion: bumped by every committed
//     write, whichever instance made it) has not moved and it is younger than ttl. One cheap read
//     per request tells every instance sharing the database whether its copy is current, so a
//     write anywhere is on the next page load everywhere.
//
// The cache holds at most maxEntries built pages; the least recently used goes first. Only data is
// cached, never HTML: each request renders its own page with its session's CSRF token.
type pageCache struct {
	ttl        time.Duration
	maxEntries int
	now        func() time.Time
	sem        chan struct{}
	requests   *prometheus.CounterVec // by result: hit, shared, built

	mu      sync.Mutex
	bytes   int // sum of the entries' sizes
	entries map[pageKey]*pageEntry
	flights map[flightKey]*flight
}

// pageKey names one built page. primary: it was read from the primary (a request right after a
// write), so it is never mixed with builds read from a replica, whose version may be older.
type pageKey struct {
	page, week, team, query string
	primary                 bool
}

type pageEntry struct {
	version int64
	built   time.Time
	used    time.Time
	val     any
	size    int // bytes of a rendered or encoded page; 0 for data
}

type flightKey struct {
	pageKey
	version int64
}

type flight struct {
	done chan struct{}
	val  any
	err  error
}

const (
	pageCacheTTL     = 30 * time.Second // bounds what time alone changes (overdue items, open episodes)
	pageCacheEntries = 64
	pageCacheBytes   = 48 << 20 // rendered pages kept: the all-teams review of a month is ~0.5 MB, ~8 MB with noisy=all
	pageBuildTimeout = 2 * time.Minute
)

func newPageCache(limit int, now func() time.Time, requests *prometheus.CounterVec) *pageCache {
	if limit < 1 {
		limit = 1
	}
	return &pageCache{ttl: pageCacheTTL, maxEntries: pageCacheEntries, now: now, sem: make(chan struct{}, limit),
		requests: requests, entries: map[pageKey]*pageEntry{}, flights: map[flightKey]*flight{}}
}

// buildLimit is how many heavy pages are built at once: a tenth of the connection pool (each build
// runs its statements one after the other), at least two. Postgres does the work of a build; more
// builds at once than it has cores to run them only holds more result sets in memory (under the
// bench's load test, 5 at once peaked at 182 MB RSS, 2 at once at 151 MB, with no faster pages).
func buildLimit(st *store.Store) int { return max(2, st.MaxOpenConns()/10) }

// get returns the page of key as of the current data version of st, building it when needed; the
// build counts against the limit on concurrent builds.
func (pc *pageCache) get(ctx context.Context, st *store.Store, key pageKey, build func(context.Context) (any, error)) (any, error) {
	return pc.fetch(ctx, st, key, true, build)
}

// derived is get for what is computed from other cached pages without reading the database
// itself (a rendering): it takes no build slot, so it never waits for the pages it asks for.
func (pc *pageCache) derived(ctx context.Context, st *store.Store, key pageKey, build func(context.Context) (any, error)) (any, error) {
	return pc.fetch(ctx, st, key, false, build)
}

func (pc *pageCache) fetch(ctx context.Context, st *store.Store, key pageKey, heavy bool, build func(context.Context) (any, error)) (any, error) {
	version, err := st.DataVersion(ctx)
	if err != nil {
		return nil, err
	}
	now := pc.now()
	pc.mu.Lock()
	if e := pc.entries[key]; e != nil && e.version == version && now.Sub(e.built) < pc.ttl && !now.Before(e.built) {
		e.used = now
		pc.mu.Unlock()
		pc.count(key, "hit")
		return e.val, nil
	}
	fk := flightKey{key, version}
	f := pc.flights[fk]
	if f != nil {
		pc.mu.Unlock()
		pc.count(key, "shared")
		select {
		case <-f.done:
			return f.val, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f = &flight{done: make(chan struct{})}
	pc.flights[fk] = f
	pc.mu.Unlock()
	pc.count(key, "built")

	// The build outlives a request that gives up: the others waiting for it still want its result.
	go pc.run(context.WithoutCancel(ctx), fk, f, heavy, build)
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (pc *pageCache) run(ctx context.Context, fk flightKey, f *flight, heavy bool, build func(context.Context) (any, error)) {
	ctx, cancel := context.WithTimeout(ctx, pageBuildTimeout)
	defer cancel()
	if heavy {
		f.err = pc.limit(ctx, func(ctx context.Context) error {
			var err error
			f.val, err = build(ctx)
			return err
		})
	} else {
		f.val, f.err = build(ctx)
	}
	pc.mu.Lock()
	delete(pc.flights, fk)
	if f.err == nil {
		now := pc.now()
		if e := pc.entries[fk.pageKey]; e == nil || e.version <= fk.version {
			if e != nil {
				pc.bytes -= e.size
			}
			ne := &pageEntry{version: fk.version, built: now, used: now, val: f.val}
			switch v := f.val.(type) {
			case []byte:
				ne.size = len(v)
			case *sharedPage:
				ne.size = len(v.html)
			}
			pc.entries[fk.pageKey] = ne
			pc.bytes += ne.size
			pc.evict(fk.pageKey)
		}
	}
	pc.mu.Unlock()
	close(f.done)
}

// limit runs fn once a build slot is free.
func (pc *pageCache) limit(ctx context.Context, fn func(context.Context) error) error {
	select {
	case pc.sem <- struct{}{}:
	case <-ctx.Done():
		return errors.Join(ErrBusy, ctx.Err())
	}
	defer func() { <-pc.sem }()
	return fn(ctx)
}

// evict drops the least recently used entries beyond maxEntries or pageCacheBytes, never the one
// just stored (called with mu held).
func (pc *pageCache) evict(keep pageKey) {
	for len(pc.entries) > pc.maxEntries || (pc.bytes > pageCacheBytes && len(pc.entries) > 1) {
		var oldest pageKey
		var at time.Time
		first := true
		for k, e := range pc.entries {
			if k != keep && (first || e.used.Before(at)) {
				oldest, at, first = k, e.used, false
			}
		}
		pc.bytes -= pc.entries[oldest].size
		delete(pc.entries, oldest)
	}
}

func (pc *pageCache) count(key pageKey, result string) {
	if pc.requests != nil {
		pc.requests.WithLabelValues(key.page, result).Inc()
	}
}

// ErrBusy means a heavy page could not get a build slot before its request gave up.
var ErrBusy = errors.New("too many pages are being built at once")
