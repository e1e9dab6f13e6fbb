package server

import "github.com/gofiber/fiber/v2"

// routesOps registers the routes of toil, runbooks and the sources page.
func (s *Server) routesOps(app *fiber.App, api fiber.Router) {
	app.Get("/runbooks", s.runbooksShow)
	app.Post("/runbooks/reviewed", s.runbookReviewSave)
	api.Get("/runbooks", s.runbooksAPI)
	api.Post("/runbooks/reviewed", s.runbookReviewAPI)

	app.Get("/toil", s.toilShow)
	app.Post("/toil/entries", s.toilSave)
	api.Get("/toil", s.toilAPI)
	api.Post("/toil", s.toilSaveAPI)

	app.Get("/sources", s.sourcesShow)
	api.Get("/sources", s.sourcesAPI)
}
