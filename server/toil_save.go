package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// Limits of a toil entry's text fields, in characters.
const (
	maxToilCategory  = 64
	maxToilNote      = 2000
	maxToilAlertname = 256
	maxWho           = 64
)

// toilRequest is the body of POST /api/v1/toil. Minutes is a number so that "30" (a string) and
// 30.5 are refused with a reason rather than guessed at.
type toilRequest struct {
	Team      string       `json:"team"`
	Minutes   *json.Number `json:"minutes"`
	Category  string       `json:"category"`
	Note      string       `json:"note"`
	Alertname string       `json:"alertname"`
	At        string       `json:"at"`
	Who       string       `json:"who"`
}

// cleanText trims s and removes what must not be stored or shown: NUL and other control
// characters (Postgres refuses NUL in text) and bidirectional overrides (they make a note read
// differently from what it says). Newlines and tabs stay.
func cleanText(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r), r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f':
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// storable checks a name-like field that is kept as given (it must match stored alerts, services
// or URLs, so cleanText may not change it): Postgres refuses NUL bytes and invalid UTF-8 in text,
// which would otherwise end as a 500.
func storable(name, v string) error {
	if strings.ContainsRune(v, 0) || !utf8.ValidString(v) {
		return badRequest(name + ": NUL bytes and invalid UTF-8 are not allowed")
	}
	return nil
}

// validateToil checks a toil request and returns the entry to store, or a 400 with the reason.
func (s *Server) validateToil(req toilRequest, actor string) (review.ToilEntry, error) {
	now := s.now().UTC()
	e := review.ToilEntry{CreatedAt: now, At: now}
	if req.Minutes == nil || *req.Minutes == "" {
		return e, badRequest("minutes: required, a whole number from 1 to 1440")
	}
	f, err := req.Minutes.Float64()
	if err != nil || f != math.Trunc(f) || f < 1 || f > 1440 {
		return e, badRequest("minutes: want a whole number from 1 to 1440, got " + req.Minutes.String())
	}
	e.Minutes = int(f)
	switch team := strings.TrimSpace(req.Team); {
	case team == "" || team == config.Unassigned:
	case s.cfg.TeamByName(team) == nil:
		return e, badRequest("team: no team named " + strconv.Quote(team))
	default:
		e.Team = team
	}
	if at := strings.TrimSpace(req.At); at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return e, badRequest("at: want an RFC 3339 time like 2026-11-23T14:00:00Z")
		}
		e.At = t.UTC()
	}
	e.Category, e.Note, e.Alertname, e.Who = cleanText(req.Category), cleanText(req.Note), cleanText(req.Alertname), cleanText(req.Who)
	for _, f := range []struct {
		name, v string
		max     int
	}{{"category", e.Category, maxToilCategory}, {"note", e.Note, maxToilNote}, {"alertname", e.Alertname, maxToilAlertname}, {"who", e.Who, maxWho}} {
		if n := len([]rune(f.v)); n > f.max {
			return e, badRequest(f.name + ": at most " + strconv.Itoa(f.max) + " characters")
		}
	}
	if e.Who == "" {
		e.Who = actor
	}
	return e, nil
}

// toilSaveAPI answers POST /api/v1/toil: 201 with the stored entry; 200 with the earlier entry
// when an Idempotency-Key header repeats; 400 with the reason when the entry is not valid.
func (s *Server) toilSaveAPI(c *fiber.Ctx) error {
	var req toilRequest
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return badRequest("body: want a JSON object like {\"minutes\": 30, \"category\": \"deploy\", \"note\": \"…\"}: " + jsonReason(err))
	}
	e, err := s.validateToil(req, s.actor(c))
	if err != nil {
		return err
	}
	var key string
	if k := c.Get("Idempotency-Key"); k != "" {
		if len(k) > 200 {
			return badRequest("Idempotency-Key: at most 200 characters")
		}
		key = "api:" + k
	}
	saved, created, err := s.st(c.UserContext()).AddToilEntry(c.UserContext(), store.NewToilEntry{ToilEntry: e, RequestKey: key})
	if err != nil {
		return err
	}
	status := fiber.StatusCreated
	if !created {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(saved)
}

// jsonReason says briefly why a body did not decode.
func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return te.Field + " has the wrong type"
	}
	return "not valid JSON"
}

// toilSave handles the form on the Toil page and the review (fields minutes, category, note,
// alertname, team, week, form_key, csrf_token): it logs the entry and answers htmx with the toil
// section re-rendered, or the form again with the reason when the entry is refused. A plain form
// post is redirected back to the Toil page.
func (s *Server) toilSave(c *fiber.Ctx) error {
	n := json.Number(strings.TrimSpace(c.FormValue("minutes")))
	req := toilRequest{Team: c.FormValue("team"), Minutes: &n, Category: c.FormValue("category"),
		Note: c.FormValue("note"), Alertname: c.FormValue("alertname")}
	var team *string
	if t := strings.TrimSpace(req.Team); t != "" {
		if t == config.Unassigned {
			t = ""
		}
		team = &t
	}
	loc := s.teamLocation(team)
	week := review.WeekOf(s.now(), loc)
	if w, err := review.ParseWeek(c.FormValue("week"), loc); err == nil {
		week = w
	}
	e, verr := s.validateToil(req, s.actor(c))
	var saved review.ToilEntry
	if verr == nil {
		var key string
		if k := c.FormValue("form_key"); k != "" && len(k) <= 64 {
			key = "form:" + k
		}
		var err error
		if saved, _, err = s.st(c.UserContext()).AddToilEntry(c.UserContext(), store.NewToilEntry{ToilEntry: e, RequestKey: key}); err != nil {
			return err
		}
	}
	if !isFragment(c) {
		if verr != nil {
			return verr
		}
		q := "?week=" + week.String()
		if team != nil {
			q += "&team=" + url.QueryEscape(strings.TrimSpace(req.Team))
		}
		return c.Redirect("/toil"+q, fiber.StatusSeeOther)
	}
	sec, err := s.toilSection(c.UserContext(), week, team, s.csrfToken(c))
	if err != nil {
		return err
	}
	if c.FormValue("view") == "review" {
		// The form sits in the review, which lists the top repeat offenders.
		cutOffenders(&sec, week.String(), strings.TrimSpace(req.Team), reviewExpand{})
	}
	if verr != nil {
		sec.Error = verr.Error()
	} else {
		sec.Message = "Logged " + strconv.Itoa(saved.Minutes) + " min"
		if !saved.At.Before(week.End) || saved.At.Before(week.Start) {
			sec.Message += " for " + saved.At.In(loc).Format("Mon 02 Jan") + ", outside this week"
		}
		sec.Message += "."
	}
	return s.render.RenderBlock(c, fiber.StatusOK, "toil", "toil_section", sec)
}
