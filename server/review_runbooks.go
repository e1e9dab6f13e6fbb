package server

import (
	"context"
	"strings"
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
func (s *Server) runbookOf(annotations map[string]string) runbookJSON {
	for _, name := range s.cfg.Runbooks.Annotations {
		v := strings.TrimSpace(annotations[name])
		if v == "" {
			continue
		}
		if safeURL(v) == "" {
			return runbookJSON{URL: v, Status: runbookBroken}
		}
		return runbookJSON{URL: v, Status: runbookUnknown}
	}
	return runbookJSON{Status: runbookMissing}
}

// runbookStatusHook looks up the checked status of runbook URLs. HOOK(runbooks): until the runbook
// checker merges, every URL is "unknown"; it will be replaced by the store's lookup of the
// checker's results (ok, stale, broken), keyed by URL.
func (s *Server) runbookStatusHook(ctx context.Context, urls []string) map[string]string {
	out := make(map[string]string, len(urls))
	for _, u := range urls {
		out[u] = runbookUnknown
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
	st := s.runbookStatusHook(ctx, urls)
	for i := range rows {
		if rows[i].Runbook.Status == runbookUnknown {
			if v, ok := st[rows[i].Runbook.URL]; ok && v != "" {
				rows[i].Runbook.Status = v
			}
		}
	}
}
