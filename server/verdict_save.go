package server

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// verdictRequest is the body of POST /api/v1/verdicts. Version is the verdict version the client
// saw (0: none yet); without it the decision is recorded whatever came before.
type verdictRequest struct {
	Alertname      string `json:"alertname"`
	Week           string `json:"week"`
	Verdict        string `json:"verdict"`
	Version        *int   `json:"version"`
	IdempotencyKey string `json:"idempotency_key"`
}

func (s *Server) verdictInput(c *fiber.Ctx, r verdictRequest) (store.VerdictInput, error) {
	r.Alertname = strings.TrimSpace(r.Alertname)
	if err := storable("alertname", r.Alertname); err != nil {
		return store.VerdictInput{}, err
	}
	if r.Alertname == "" || len(r.Alertname) > 200 {
		return store.VerdictInput{}, badRequest("alertname: required, at most 200 bytes")
	}
	if _, err := review.ParseWeek(r.Week, s.locationOf(nil)); err != nil {
		return store.VerdictInput{}, badRequest("week: " + err.Error())
	}
	if !review.ValidVerdict(r.Verdict) && r.Verdict != review.VerdictUnreviewed {
		return store.VerdictInput{}, badRequest("verdict: want actionable, noise, needs-tuning or unreviewed")
	}
	if len(r.IdempotencyKey) > 100 {
		return store.VerdictInput{}, badRequest("idempotency_key: at most 100 bytes")
	}
	return store.VerdictInput{Alertname: r.Alertname, Week: r.Week, Verdict: r.Verdict, By: s.actor(c),
		At: s.now().UTC(), ExpectVersion: r.Version, IdempotencyKey: r.IdempotencyKey}, nil
}

// verdictSaveAPI answers POST /api/v1/verdicts: 201 with the verdict, 409 when the version the
// client saw is no longer the latest.
func (s *Server) verdictSaveAPI(c *fiber.Ctx) error {
	var r verdictRequest
	if err := json.Unmarshal(c.Body(), &r); err != nil {
		return badRequest("body: want JSON {\"alertname\", \"week\", \"verdict\", \"version\"}: " + err.Error())
	}
	in, err := s.verdictInput(c, r)
	if err != nil {
		return err
	}
	v, err := s.st(c.UserContext()).SaveVerdict(c.UserContext(), in)
	if errors.Is(err, store.ErrConflict) {
		return fiber.NewError(fiber.StatusConflict, "someone else changed this verdict in the meantime: reload and decide again")
	}
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

// verdictsAPI answers GET /api/v1/verdicts?alertname=&week=: decisions, newest first.
func (s *Server) verdictsAPI(c *fiber.Ctx) error {
	limit, err := s.limitParam(c, 100, 1000)
	if err != nil {
		return err
	}
	vs, err := s.st(c.UserContext()).VerdictHistory(c.UserContext(), string([]byte(c.Query("alertname"))), string([]byte(c.Query("week"))), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": vs})
}

// verdictForm answers POST /review/verdicts from the review page's one-click buttons (htmx): it
// records the verdict and sends back the row's verdict cell. A stale click (someone else decided in
// between) changes nothing and shows the current verdict with a notice.
func (s *Server) verdictForm(c *fiber.Ctx) error {
	version, err := strconv.Atoi(c.FormValue("version", "0"))
	if err != nil || version < 0 {
		return badRequest("version: want a number")
	}
	r := verdictRequest{Alertname: c.FormValue("alertname"), Week: c.FormValue("week"), Verdict: c.FormValue("verdict"),
		Version: &version, IdempotencyKey: c.FormValue("idempotency_key")}
	in, err := s.verdictInput(c, r)
	if err != nil {
		return err
	}
	cell := verdictCell{Alertname: in.Alertname, Week: in.Week, CSRF: s.csrfToken(c), Now: s.now()}
	v, err := s.st(c.UserContext()).SaveVerdict(c.UserContext(), in)
	switch {
	case errors.Is(err, store.ErrConflict):
		cell.Conflict = true
		hist, herr := s.st(c.UserContext()).VerdictHistory(c.UserContext(), in.Alertname, in.Week, 1)
		if herr != nil {
			return herr
		}
		if len(hist) > 0 {
			v = hist[0]
		}
	case err != nil:
		return err
	}
	cell.Verdict, cell.Version, cell.By = review.VerdictUnreviewed, v.Version, v.DecidedBy
	if v.Verdict != "" {
		cell.Verdict = v.Verdict
		at := v.DecidedAt
		cell.At = &at
	}
	if !isFragment(c) {
		return c.Redirect(reviewURL(in.Week, c.FormValue("team")), fiber.StatusSeeOther)
	}
	return s.render.Render(c, fiber.StatusOK, "review_verdict", cell)
}
