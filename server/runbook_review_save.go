package server

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/review"
)

// maxRunbookURL bounds the url field of a review: longer is no runbook anyone linked.
const maxRunbookURL = 4096

// markReviewed records the review and returns the runbook as the Runbooks page ranks it.
func (s *Server) markReviewed(c *fiber.Ctx, url, who string) (review.RankedRunbook, error) {
	if url == "" || len(url) > maxRunbookURL {
		return review.RankedRunbook{}, badRequest("url: the runbook URL to mark reviewed is required")
	}
	if err := storable("url", url); err != nil {
		return review.RankedRunbook{}, err
	}
	now := s.now().UTC()
	if _, err := s.st(c.UserContext()).MarkRunbookReviewed(c.UserContext(), s.runbookQuery(now, nil), url, who, now); err != nil {
		return review.RankedRunbook{}, err
	}
	rs, err := s.rankedRunbooks(c.UserContext(), now, nil)
	if err != nil {
		return review.RankedRunbook{}, err
	}
	for _, r := range rs {
		if r.URL == url {
			return r, nil
		}
	}
	return review.RankedRunbook{}, fiber.ErrNotFound
}

// runbookReviewSave handles the "mark reviewed" button (form fields url, csrf_token and view):
// it records who reviewed the runbook and when, and answers htmx with the updated row of the
// page the button was on; a plain form post is redirected back to that page.
func (s *Server) runbookReviewSave(c *fiber.Ctx) error {
	url := string([]byte(c.FormValue("url")))
	r, err := s.markReviewed(c, url, s.actor(c))
	if err != nil {
		return err
	}
	context := "runbooks"
	if c.FormValue("view") == "review" {
		context = "review"
	}
	if !isFragment(c) {
		back := "/runbooks"
		if context == "review" {
			back = "/review"
		}
		return c.Redirect(back, fiber.StatusSeeOther)
	}
	if context == "review" {
		// The agenda shows one row per alert and its fires in the week: the form says which.
		if alert := c.FormValue("alert"); alert != "" {
			r.Alerts = []string{string([]byte(alert))}
		}
		if n, err := strconv.Atoi(c.FormValue("fires")); err == nil && n >= 0 {
			r.Fires = n
		}
		r.Risk = review.RunbookRisk(r.Fires, r.Staleness)
	}
	row := runbookRow(r, s.now().UTC(), time.Duration(s.cfg.Runbooks.MaxAge), s.csrfToken(c), context)
	if context == "review" {
		return s.render.RenderBlock(c, fiber.StatusOK, "runbooks", "runbook_agenda_row", row)
	}
	return s.render.RenderBlock(c, fiber.StatusOK, "runbooks", "runbook_row", row)
}

// runbookReviewAPI answers POST /api/v1/runbooks/reviewed {"url", "who"}: the runbook after the
// review. who defaults to the signed-in identity.
func (s *Server) runbookReviewAPI(c *fiber.Ctx) error {
	var req struct {
		URL string `json:"url"`
		Who string `json:"who"`
	}
	if err := c.BodyParser(&req); err != nil {
		return badRequest("body: want a JSON object like {\"url\": \"https://wiki.example/runbooks/disk\"}")
	}
	who := cleanText(req.Who)
	if who == "" {
		who = s.actor(c)
	}
	if len([]rune(who)) > 64 {
		return badRequest("who: at most 64 characters")
	}
	r, err := s.markReviewed(c, req.URL, who)
	if err != nil {
		return err
	}
	return c.JSON(toRunbookJSON(r))
}
