// Package server is opsreview's web tier: the Fiber app, its routes, middleware and handlers. Handlers
// are thin: they parse, call the store and the pure analysis, and render.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
	"github.com/opsreview/opsreview/templates"
)

// Options is everything the server needs. Config, Store, Logger and Registry are required.
type Options struct {
	Config   *config.Config
	Store    *store.Store
	Logger   *slog.Logger
	Registry *prometheus.Registry // our own metrics, served on /metrics
	// Now is the clock (injectable for tests); defaults to time.Now.
	Now func() time.Time
	// Reconcile asks the collectors to poll Alertmanager at once (a webhook said it truncated alerts).
	Reconcile func()
	// Version is shown on pages and in /metrics.
	Version string
	// PageCacheTTL is how long a built heavy page (review, noisy alerts) is reused while the data
	// version stands still; 0 is the default (30 s), negative builds every request anew (the
	// benchmark measures builds, not cache hits).
	PageCacheTTL time.Duration
}

func (o *Options) validate() error {
	switch {
	case o.Config == nil:
		return errors.New("server: Config is required")
	case o.Store == nil:
		return errors.New("server: Store is required")
	case o.Logger == nil:
		return errors.New("server: Logger is required")
	case o.Registry == nil:
		return errors.New("server: Registry is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Reconcile == nil {
		o.Reconcile = func() {}
	}
	return nil
}

// Server is the HTTP application.
type Server struct {
	opts    Options
	cfg     *config.Config
	store   *store.Store
	log     *slog.Logger
	now     func() time.Time
	app     *fiber.App
	render  *Renderer
	metrics *metrics
	sec     *security  // access control: auth.go
	tv      *tvBoard   // the wall TV's panels and cache: tv_show.go
	pages   *pageCache // built heavy pages, shared and bounded: page_cache.go
}

// New builds the server and its routes.
func New(opts Options) (*Server, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		opts:  opts,
		cfg:   opts.Config,
		store: opts.Store,
		log:   opts.Logger.With("component", "server"),
		now:   opts.Now,
	}
	m, err := newMetrics(opts.Registry)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.pages = newPageCache(buildLimit(opts.Store), opts.Now, m.pageCache)
	if opts.PageCacheTTL != 0 {
		s.pages.ttl = opts.PageCacheTTL
	}
	if s.render, err = NewRenderer(templates.FS); err != nil {
		return nil, fmt.Errorf("loading templates: %w", err)
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "opsreview",
		DisableStartupMessage: true,
		// A little above webhook.max_body, so the webhook handler answers an oversize body with its own
		// JSON 413; fasthttp refuses anything larger before reading it.
		BodyLimit: int(opts.Config.Webhook.MaxBody) + 1<<20,
		// Slow clients: a request (headers and body) must arrive within ReadTimeout, however
		// slowly it trickles in, and an idle keep-alive connection is closed after IdleTimeout,
		// so connections that never finish cannot pile up (scenario 9's slow-loris test).
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 60 * time.Second,
		IdleTimeout:  120 * time.Second,
		// The request line and headers must fit in ReadBufferSize; larger ones are answered
		// 431. 16 KiB leaves room for an authenticating proxy's headers and cookies.
		ReadBufferSize: 16 << 10,
		ErrorHandler:   s.handleError,
	})
	if err := s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// App exposes the Fiber app (tests drive it with app.Test).
func (s *Server) App() *fiber.App { return s.app }

// Serve answers requests on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.app.Listener(ln); err != nil {
		return fmt.Errorf("serving HTTP: %w", err)
	}
	return nil
}

// Shutdown stops accepting requests and waits for those in flight, up to ctx's deadline.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.app.ShutdownWithContext(ctx)
}
