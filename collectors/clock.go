package collectors

import (
	"net/http"
	"sync"
	"time"
)

// clockSamples is how many recent answers a source's clock estimate is taken from.
const clockSamples = 8

// sourceClock tells the time as one source sees it. Timestamps from a source (ALERTS samples,
// Alertmanager's endsAt, its start) are compared with the source's own "now", never with ours:
// with our clock 15 minutes ahead, every firing alert's endsAt (an expiry a few minutes ahead of
// Alertmanager's now) would already look past, and history read "up to now" would ask Prometheus
// for a future it has no samples of yet, so the next window would start after samples it never read.
//
// The offset is measured from the Date header of the source's answers: Date is whole seconds,
// rounded down, and written before the answer travels back, so Date minus our time at the answer
// is never more than the true offset; the largest of the recent estimates is the closest. A "now"
// derived from it is at most a second or so behind the source's, never ahead.
type sourceClock struct {
	now func() time.Time // our clock

	mu      sync.Mutex
	samples []time.Duration // recent estimates, oldest first
}

func newSourceClock(now func() time.Time) *sourceClock {
	if now == nil {
		now = time.Now
	}
	return &sourceClock{now: now}
}

// observe records the offset an answer's Date header shows.
func (c *sourceClock) observe(resp *http.Response) {
	if c == nil || resp == nil {
		return
	}
	d, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return
	}
	off := d.Sub(c.now())
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.samples) == clockSamples {
		c.samples = c.samples[1:]
	}
	c.samples = append(c.samples, off)
}

// Offset returns how far the source's clock is ahead of ours (negative: behind), and whether any
// answer has told us yet.
func (c *sourceClock) Offset() (time.Duration, bool) {
	if c == nil {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.samples) == 0 {
		return 0, false
	}
	best := c.samples[0]
	for _, s := range c.samples[1:] {
		best = max(best, s)
	}
	// Date is rounded down to the second: an offset under a second is no offset we can measure.
	if best > -time.Second && best < time.Second {
		best = 0
	}
	return best, true
}

// Now returns the source's time: ours moved by the measured offset (ours until one is measured).
func (c *sourceClock) Now() time.Time {
	off, _ := c.Offset()
	return c.now().Add(off)
}

// clockSkewer is a collector that knows how far its source's clock is from ours.
type clockSkewer interface {
	ClockSkew() (time.Duration, bool)
}
