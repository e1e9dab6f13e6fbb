package server

import "github.com/gofiber/fiber/v2"

// routesReview registers the routes of the weekly review, noisy alerts, verdicts, action items,
// changes and the alert rule pages.
func (s *Server) routesReview(app *fiber.App, api fiber.Router) {
	app.Get("/review", s.reviewShow)
	app.Get("/review.md", s.reviewMarkdown)
	app.Post("/review/verdicts", s.verdictForm)
	app.Post("/review/action-items", s.actionAddForm)
	app.Post("/review/action-items/:id", s.actionUpdateForm)
	app.Get("/alerts", s.alertsList)
	app.Get("/alerts/:alertname", s.alertShow)

	api.Get("/review", s.reviewAPI)
	api.Get("/alerts/noisy", s.noisyAPI)
	api.Get("/verdicts", s.verdictsAPI)
	api.Post("/verdicts", s.verdictSaveAPI)
	api.Get("/action-items", s.actionsAPI)
	api.Post("/action-items", s.actionAddAPI)
	api.Post("/action-items/:id", s.actionUpdateAPI)
	api.Patch("/action-items/:id", s.actionUpdateAPI)
	api.Get("/changes", s.changesAPI)
	api.Post("/changes", s.changeAddAPI)
}
