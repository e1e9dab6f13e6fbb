package server

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes registers every route of the app in one place.
func (s *Server) routes() error {
	app := s.app
	app.Use(s.recoverPanics) // first: a panic anywhere below is a 500, not a crash
	// Access control and security headers come next: they cover every route below.
	if err := s.useSecurity(app); err != nil {
		return err
	}
	app.Use(s.readYourWrites)
	mountStatic(app)
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	if s.cfg.MetricsListen == "" {
		app.Get("/metrics", adaptor.HTTPHandler(s.MetricsHandler()))
	}

	api := app.Group("/api/v1")
	api.Post("/alertmanager/webhook", s.webhookReceive)
	api.Get("/episodes", s.episodesAPI)
	app.Get("/episodes", s.episodesShow)

	// Each area of the product registers its own routes, in the file that owns it.
	s.routesReview(app, api)
	s.routesOps(app, api)
	s.routesNormal(app, api)
	s.routesTV(app, api)

	app.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/episodes", fiber.StatusSeeOther) })
	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	return nil
}

// MetricsHandler serves our own metrics in the Prometheus text format (also used on metrics_listen).
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{Registry: s.opts.Registry})
}
