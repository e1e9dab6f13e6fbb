package server

import "github.com/gofiber/fiber/v2"

// routesNormal registers the routes of know your normal: SLIs, baselines and the normal pages.
func (s *Server) routesNormal(app *fiber.App, api fiber.Router) {
	api.Get("/slis", s.slisAPI)
	api.Get("/slis/:name/normal", s.sliNormalAPI)
	app.Get("/normal", s.normalList)
	app.Get("/normal/:name", s.normalShow)
}
