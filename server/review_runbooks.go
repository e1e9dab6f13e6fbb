package server

import (
	"context"
	"strings"
	"time"

	"github.com/opsreview/opsreview/review"
)

// Runbook statuses, as PRODUCT.md names them; unknown until the runbook checker has looked.
const (
	runbookOK      = "ok"
	runbookStale   = "stale"
	runbookMissing = "missing"
	runbookBroken  = "broken"
	runbookUnknown = "unknown"
)

// runbookOf finds a rule's runbook in its annotations (runbooks.annotations, in order). A value
// that is not an absolute http(s) URL can never be followed: it is broken, and is never a link.
func (s *Server) runbookOf(annotations map[string]string) runbookRef {
	for _, name := range s.cfg.Runbooks.Annotations {
		v := strings.TrimSpace(annotations[name])
		if v == "" {
			continue
		}
		if safeURL(v) == "" {
			return runbookRef{URL: v, Status: runbookBroken}
		}
		return runbookRef{URL: v, Status: runbookUnknown}
	}
	return runbookRef{Status: runbookMissing}
}

// runbookStatuses looks up the checked status of runbook URLs (ok, stale, broken); a URL the
// checker has not reached yet stays "unknown".
func (s *Server) runbookStatuses(ctx context.Context, urls []string) map[string]string {
	out := make(map[string]string, len(urls))
	states, err := s.st(ctx).RunbookStates(ctx, urls)
	if err != nil {
		s.log.Warn("reading runbook states", "err", err)
	}
	now := s.now().UTC()
	for _, u := range urls {
		out[u] = runbookUnknown
		if st, ok := states[u]; ok {
			out[u] = review.RunbookStatus(st, now, time.Duration(s.cfg.Runbooks.MaxAge))
		}
	}
	return out
}

// fillRunbookStatuses replaces "unknown" runbook statuses with what the checker knows.
func (s *Server) fillRunbookStatuses(ctx context.Context, rows []noisyRow) {
	var urls []string
	for _, r := range rows {
		if r.Runbook.Status == runbookUnknown {
			urls = append(urls, r.Runbook.URL)
		}
	}
	if len(urls) == 0 {
		return
	}
	st := s.runbookStatuses(ctx, urls)
	for i := range rows {
		if rows[i].Runbook.Status == runbookUnknown {
			if v, ok := st[rows[i].Runbook.URL]; ok && v != "" {
				rows[i].Runbook.Status = v
			}
		}
	}
}
