package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// actionRequest is the body of POST /api/v1/action-items (and the review page's form).
type actionRequest struct {
	Title          string `json:"title"`
	Owner          string `json:"owner"`
	Due            string `json:"due"` // YYYY-MM-DD
	TicketURL      string `json:"ticket_url"`
	Alertname      string `json:"alertname"`
	SLI            string `json:"sli"`
	Runbook        string `json:"runbook"`
	Team           string `json:"team"`
	Week           string `json:"week"` // the review it is decided in; default the last full week
	IdempotencyKey string `json:"idempotency_key"`
}

// newKey returns a random idempotency key for a form: a double-submitted form sends it twice.
func newKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) actionInput(c *fiber.Ctx, r actionRequest) (store.ActionItem, error) {
	var a store.ActionItem
	trim := func(v string, max int, name string) (string, error) {
		if name == "title" || name == "owner" {
			v = cleanText(v) // free text: control characters and bidi overrides go
		} else if err := storable(name, v); err != nil {
			return "", err
		}
		v = strings.TrimSpace(v)
		if len(v) > max {
			return "", badRequest(name + ": at most " + strconv.Itoa(max) + " bytes")
		}
		return v, nil
	}
	var err error
	for _, f := range []struct {
		dst  *string
		v    string
		max  int
		name string
	}{{&a.Title, r.Title, 500, "title"}, {&a.Owner, r.Owner, 100, "owner"}, {&a.TicketURL, r.TicketURL, 2000, "ticket_url"},
		{&a.Alertname, r.Alertname, 200, "alertname"}, {&a.SLI, r.SLI, 200, "sli"}, {&a.Runbook, r.Runbook, 2000, "runbook"}} {
		if *f.dst, err = trim(f.v, f.max, f.name); err != nil {
			return a, err
		}
	}
	if a.Title == "" {
		return a, badRequest("title: required")
	}
	if a.Owner == "" {
		return a, badRequest("owner: required (who will do it)")
	}
	due, err := time.Parse(time.DateOnly, strings.TrimSpace(r.Due))
	if err != nil {
		return a, badRequest("due: want a date like 2026-12-01")
	}
	a.Due = due
	if a.TicketURL != "" && safeURL(a.TicketURL) == "" {
		return a, badRequest("ticket_url: want an absolute http(s) URL")
	}
	if r.Team != "" && r.Team != "unassigned" && s.cfg.TeamByName(r.Team) == nil {
		return a, badRequest("team: no team named " + strconv.Quote(r.Team))
	}
	a.Team = r.Team
	if a.Team == "unassigned" {
		a.Team = ""
	}
	var team *string
	if a.Team != "" {
		team = &a.Team
	}
	loc := s.locationOf(team)
	w := review.LastFullWeek(s.now(), loc)
	if r.Week != "" {
		if w, err = review.ParseWeek(r.Week, loc); err != nil {
			return a, badRequest("week: " + err.Error())
		}
	}
	a.Week, a.WeekStart = w.String(), w.Start
	a.CreatedBy, a.CreatedAt = s.actor(c), s.now().UTC()
	return a, nil
}

// actionAddAPI answers POST /api/v1/action-items: 201 with the item, 200 when the idempotency key
// was seen before (the first item, unchanged).
func (s *Server) actionAddAPI(c *fiber.Ctx) error {
	var r actionRequest
	if err := json.Unmarshal(c.Body(), &r); err != nil {
		return badRequest("body: want JSON {\"title\", \"owner\", \"due\", ...}: " + err.Error())
	}
	a, err := s.actionInput(c, r)
	if err != nil {
		return err
	}
	item, created, err := s.st(c.UserContext()).AddActionItem(c.UserContext(), a, r.IdempotencyKey)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(toActionJSON(item, s.today(time.UTC)))
}

// actionsAPI answers GET /api/v1/action-items?team=&alertname=&open=true.
func (s *Server) actionsAPI(c *fiber.Ctx) error {
	team, err := s.teamParam(c)
	if err != nil {
		return err
	}
	items, err := s.st(c.UserContext()).ActionItems(c.UserContext(), store.ActionFilter{Team: team,
		Alertname: string([]byte(c.Query("alertname"))), OpenOnly: c.Query("open") == "true"})
	if err != nil {
		return err
	}
	out := make([]actionJSON, len(items))
	for i, a := range items {
		out[i] = toActionJSON(a, s.today(time.UTC))
	}
	return c.JSON(fiber.Map{"items": out})
}

// actionChangeRequest is the body of POST /api/v1/action-items/{id}: any of a new due date, closed
// true (close) or false (reopen), and the version the client saw.
type actionChangeRequest struct {
	Due     string `json:"due"`
	Closed  *bool  `json:"closed"`
	Version *int   `json:"version"`
}

func (s *Server) actionChange(c *fiber.Ctx, r actionChangeRequest) (int64, store.ActionItemChange, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, store.ActionItemChange{}, badRequest("id: want a number")
	}
	ch := store.ActionItemChange{By: s.actor(c), At: s.now().UTC(), ExpectVersion: r.Version}
	if r.Due != "" {
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(r.Due))
		if err != nil {
			return 0, ch, badRequest("due: want a date like 2026-12-01")
		}
		ch.Due = &d
	}
	if r.Closed != nil {
		ch.Close, ch.Reopen = *r.Closed, !*r.Closed
	}
	if ch.Due == nil && r.Closed == nil {
		return 0, ch, badRequest("nothing to change: give due or closed")
	}
	return id, ch, nil
}

// actionUpdateAPI answers POST /api/v1/action-items/{id}: re-date, close or reopen in place;
// 409 when the version the client saw is no longer current.
func (s *Server) actionUpdateAPI(c *fiber.Ctx) error {
	var r actionChangeRequest
	if err := json.Unmarshal(c.Body(), &r); err != nil {
		return badRequest("body: want JSON {\"due\", \"closed\", \"version\"}: " + err.Error())
	}
	id, ch, err := s.actionChange(c, r)
	if err != nil {
		return err
	}
	item, err := s.st(c.UserContext()).UpdateActionItem(c.UserContext(), id, ch)
	if errors.Is(err, store.ErrConflict) {
		return fiber.NewError(fiber.StatusConflict, "someone else changed this action item in the meantime: reload and try again")
	}
	if err != nil {
		return err
	}
	return c.JSON(toActionJSON(item, s.today(time.UTC)))
}

// actionAddForm answers POST /review/action-items from the review page (htmx): it adds the item
// and sends back the week's list of decided items with a fresh form.
func (s *Server) actionAddForm(c *fiber.Ctx) error {
	r := actionRequest{Title: c.FormValue("title"), Owner: c.FormValue("owner"), Due: c.FormValue("due"),
		TicketURL: c.FormValue("ticket_url"), Alertname: c.FormValue("alertname"), Team: c.FormValue("team"),
		Week: c.FormValue("week"), IdempotencyKey: c.FormValue("idempotency_key")}
	a, err := s.actionInput(c, r)
	if err != nil {
		return err
	}
	// The same form sent twice (a double click, a retry) adds one item; the same form sent again
	// with other words (the next item typed into the row's form) adds another.
	key := ""
	if r.IdempotencyKey != "" {
		h := sha256.Sum256([]byte(strings.Join([]string{r.IdempotencyKey, a.Title, a.Owner, r.Due, a.TicketURL, a.Alertname}, "\x00")))
		key = hex.EncodeToString(h[:16])
	}
	if _, _, err := s.st(c.UserContext()).AddActionItem(c.UserContext(), a, key); err != nil {
		return err
	}
	if !isFragment(c) {
		return c.Redirect(reviewURL(a.Week, r.Team), fiber.StatusSeeOther)
	}
	var team *string
	if a.Team != "" || r.Team == "unassigned" {
		team = &a.Team
	}
	items, err := s.st(c.UserContext()).ActionItems(c.UserContext(), store.ActionFilter{Team: team, DecidedIn: &a.WeekStart})
	if err != nil {
		return err
	}
	today := s.today(s.locationOf(team))
	v := decidedView{Week: a.Week, Team: r.Team, CSRF: s.csrfToken(c), Key: newKey(), Now: s.now(),
		DueDef: today.AddDate(0, 0, 7).Format(time.DateOnly)}
	for _, it := range items {
		v.Items = append(v.Items, toActionJSON(it, today))
	}
	return s.render.Render(c, fiber.StatusOK, "review_actions", v)
}

// actionUpdateForm answers POST /review/action-items/{id} from a follow-up row (htmx): close it or
// give it a new due date, and send back the row. A stale change shows the row as it now is.
func (s *Server) actionUpdateForm(c *fiber.Ctx) error {
	version, err := strconv.Atoi(c.FormValue("version"))
	if err != nil {
		return badRequest("version: want a number")
	}
	r := actionChangeRequest{Due: c.FormValue("due"), Version: &version}
	if c.FormValue("action") == "close" {
		closed := true
		r.Closed, r.Due = &closed, ""
	} else if c.FormValue("action") == "reopen" {
		closed := false
		r.Closed, r.Due = &closed, ""
	}
	id, ch, err := s.actionChange(c, r)
	if err != nil {
		return err
	}
	item, err := s.st(c.UserContext()).UpdateActionItem(c.UserContext(), id, ch)
	conflict := errors.Is(err, store.ErrConflict)
	if conflict {
		item, err = s.st(c.UserContext()).ActionItem(c.UserContext(), id)
	}
	if err != nil {
		return err
	}
	if !isFragment(c) {
		return c.Redirect(reviewURL(c.FormValue("week"), c.FormValue("team")), fiber.StatusSeeOther)
	}
	return s.render.Render(c, fiber.StatusOK, "review_followup", followUpView{
		Item: toActionJSON(item, s.today(time.UTC)), Conflict: conflict, CSRF: s.csrfToken(c),
		Week: c.FormValue("week"), Team: c.FormValue("team"), Now: s.now()})
}
