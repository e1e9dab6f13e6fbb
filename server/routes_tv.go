package server

import "github.com/gofiber/fiber/v2"

// routesTV registers the routes of the wall TV, access control and tokens.
func (s *Server) routesTV(app *fiber.App, api fiber.Router) {}
