package server

import "github.com/gofiber/fiber/v2"

// routesOps registers the routes of toil, changes, runbooks and the sources page.
func (s *Server) routesOps(app *fiber.App, api fiber.Router) {}
