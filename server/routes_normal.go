package server

import "github.com/gofiber/fiber/v2"

// routesNormal registers the routes of know your normal: SLIs, baselines and the normal pages.
func (s *Server) routesNormal(app *fiber.App, api fiber.Router) {}
