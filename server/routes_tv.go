package server

import "github.com/gofiber/fiber/v2"

// routesTV registers the routes of the wall TV, access control and tokens. The access-control
// middlewares themselves are installed before every route, by useSecurity.
func (s *Server) routesTV(app *fiber.App, api fiber.Router) {
	s.tv = newTVBoard(s.tvPanels(), s.now)
	app.Get("/tv", s.tvShow)
	app.Get("/tv/panel/:name", s.tvPanelShow)
	app.Get("/whoami", s.whoamiShow)
	app.Post("/whoami", s.whoamiSave)
}
