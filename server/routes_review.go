package server

import "github.com/gofiber/fiber/v2"

// routesReview registers the routes of the weekly review, noisy alerts, verdicts, action items and the alert rule page.
func (s *Server) routesReview(app *fiber.App, api fiber.Router) {}
