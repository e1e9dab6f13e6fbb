package store

import (
	"context"
	"sync"
)

// keyedLock serialises work per key within this process, waiting without holding anything else:
// copies of one notification (Alertmanager replicas, retries) take their turn here instead of each
// holding a database connection while they queue on the same fingerprints' advisory locks. The
// advisory locks stay the guarantee across processes. The zero value is ready to use.
type keyedLock struct {
	mu    sync.Mutex
	slots map[string]*keySlot
}

type keySlot struct {
	ch    chan struct{} // holds one token while the key is taken
	users int           // holders and waiters; the slot is dropped at zero
}

// lock takes key, or returns ctx's error if ctx ends first; unlock must be called after a nil error.
func (k *keyedLock) lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	if k.slots == nil {
		k.slots = map[string]*keySlot{}
	}
	s := k.slots[key]
	if s == nil {
		s = &keySlot{ch: make(chan struct{}, 1)}
		k.slots[key] = s
	}
	s.users++
	k.mu.Unlock()
	release := func() {
		k.mu.Lock()
		s.users--
		if s.users == 0 {
			delete(k.slots, key)
		}
		k.mu.Unlock()
	}
	select {
	case s.ch <- struct{}{}:
		return func() { <-s.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
