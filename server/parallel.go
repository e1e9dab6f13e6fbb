package server

import (
	"context"
	"sync"
)

// together runs independent loads of one page at once, each on its own connection of the pool, so
// the page waits for the longest rather than for their sum: Postgres works on one statement while
// Go decodes another's rows. The first error cancels the others and is returned.
func together(ctx context.Context, loads ...func(context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, load := range loads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := load(ctx); err != nil {
				once.Do(func() { first = err })
				cancel(err)
			}
		}()
	}
	wg.Wait()
	return first
}
