package collectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// Limits of one runbook check: small, since a runbook check only needs a status line and headers.
const (
	runbookDialTimeout   = 5 * time.Second
	runbookHeaderTimeout = 10 * time.Second
	runbookTimeout       = 15 * time.Second // one URL, redirects included
	runbookMaxRedirects  = 3
	runbookReadLimit     = 16 << 10 // bytes of a GET body read before closing
	runbookHeaderLimit   = 32 << 10
	runbookParallel      = 4
	runbookUserAgent     = "opsreview-runbook-checker (+https://github.com/opsreview/opsreview)"
)

// RunbookChecker checks every runbook URL linked from an alert over HTTP on runbooks.check_interval:
// a HEAD request (a GET, read no further than a few KiB, when HEAD is refused), recording the
// status, the error and Last-Modified. It reaches only public addresses, and internal ones on
// hosts listed in runbooks.allow_hosts (see safeDialer); it sends no credentials and no cookies,
// and follows at most three redirects, each checked like the first URL.
type RunbookChecker struct {
	cfg    *config.Config
	st     *store.Store
	log    *slog.Logger
	client *http.Client
	now    func() time.Time
}

// NewRunbookChecker builds the runbook checker. It satisfies the Collector interface of the
// collector loop: Name, Kind, Interval, Timeout and Collect.
func NewRunbookChecker(cfg *config.Config, st *store.Store, log *slog.Logger) *RunbookChecker {
	return &RunbookChecker{
		cfg:    cfg,
		st:     st,
		log:    log.With("component", "collector", "source", "runbooks"),
		client: newRunbookClient(cfg.Runbooks.AllowHosts, net.DefaultResolver),
		now:    time.Now,
	}
}

// newRunbookClient is an HTTP client that cannot be turned against the network it runs in.
func newRunbookClient(allowHosts []string, r resolver) *http.Client {
	d := &safeDialer{allow: allowHosts, resolver: r, timeout: runbookDialTimeout}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would connect on our behalf, past the dial-time check
		DialContext:            d.DialContext,
		TLSHandshakeTimeout:    runbookDialTimeout,
		ResponseHeaderTimeout:  runbookHeaderTimeout,
		MaxResponseHeaderBytes: runbookHeaderLimit,
		DisableKeepAlives:      true,
		DisableCompression:     true,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   runbookTimeout,
		Jar:       nil, // no cookies, set or sent
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > runbookMaxRedirects {
				return fmt.Errorf("more than %d redirects", runbookMaxRedirects)
			}
			if s := req.URL.Scheme; s != "http" && s != "https" {
				return fmt.Errorf("redirect to a %s: URL", s)
			}
			stripCredentials(req)
			return nil
		},
	}
}

// stripCredentials makes sure a request carries no credentials: none in the URL, no
// Authorization, no cookies.
func stripCredentials(req *http.Request) {
	req.URL.User = nil
	req.Header.Del("Authorization")
	req.Header.Del("Cookie")
	req.Header.Del("Proxy-Authorization")
}

// Name is the collector's name on the Sources page.
func (c *RunbookChecker) Name() string { return "runbooks" }

// Kind is the collector's kind in collector_state.
func (c *RunbookChecker) Kind() string { return "runbooks" }

// Interval is runbooks.check_interval.
func (c *RunbookChecker) Interval() time.Duration {
	if d := time.Duration(c.cfg.Runbooks.CheckInterval); d > 0 {
		return d
	}
	return 6 * time.Hour // the documented default, for configs built without config.Load
}

// Timeout bounds one run over every runbook.
func (c *RunbookChecker) Timeout() time.Duration { return 10 * time.Minute }

// Collect checks every runbook URL not checked within most of an interval (so that a restart
// does not check everything again) and records each outcome. A URL that fails is a broken
// runbook, not a failed run: Collect fails only when the store does.
func (c *RunbookChecker) Collect(ctx context.Context) error {
	now := c.now()
	urls, err := c.st.RunbookURLs(ctx, store.RunbookQuery{Annotations: c.cfg.Runbooks.Annotations,
		Ignore: c.cfg.Alerts.Ignore, From: now.Add(-review.RiskWindow), To: now})
	if err != nil {
		return fmt.Errorf("listing runbooks to check: %w", err)
	}
	fresh := now.Add(-c.Interval() * 9 / 10)
	var todo []review.RunbookState
	for _, st := range urls {
		if !review.UsableRunbookURL(st.URL) {
			continue // broken by its very form; never fetched
		}
		if st.CheckedAt != nil && st.CheckedAt.After(fresh) {
			continue
		}
		todo = append(todo, st)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, runbookParallel)
	)
	for _, st := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				return
			}
			res := c.check(ctx, st.URL)
			res.FirstSeen = st.FirstSeen
			if err := c.st.RecordRunbookCheck(ctx, res); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	c.log.Info("runbooks checked", "checked", len(todo), "known", len(urls))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("recording runbook checks: %w", err)
	}
	return ctx.Err()
}

// check fetches one URL: HEAD, then GET when HEAD is answered with an error status (many wikis
// refuse HEAD).
func (c *RunbookChecker) check(ctx context.Context, raw string) store.RunbookCheck {
	res := store.RunbookCheck{URL: raw, CheckedAt: c.now()}
	resp, err := c.fetch(ctx, http.MethodHead, raw)
	if err == nil && resp.StatusCode >= 400 {
		resp.Body.Close()
		resp, err = c.fetch(ctx, http.MethodGet, raw)
	}
	if err != nil {
		res.Error = checkError(err)
		return res
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, runbookReadLimit))
	res.StatusCode = resp.StatusCode
	res.FinalURL = resp.Request.URL.Redacted()
	if resp.StatusCode >= 400 {
		res.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	if lm, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil && !lm.IsZero() {
		lm = lm.UTC()
		if lm.After(res.CheckedAt) { // a clock ahead of ours: the page changed no later than now
			lm = res.CheckedAt
		}
		res.LastModified = &lm
	}
	return res
}

func (c *RunbookChecker) fetch(ctx context.Context, method, raw string) (*http.Response, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing the URL: %w", err)
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return nil, fmt.Errorf("not an http(s) URL")
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	stripCredentials(req)
	req.Header.Set("User-Agent", runbookUserAgent)
	req.Header.Set("Accept", "text/html, */*;q=0.5")
	return c.client.Do(req)
}

// checkError turns a fetch error into a short reason for the Runbooks page: the refusal or the
// network error without the URL, which the page shows already.
func checkError(err error) string {
	var refused *RefusedError
	if errors.As(err, &refused) {
		return refused.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}
