package server

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/store"
)

// changeRequest is the body of POST /api/v1/changes.
type changeRequest struct {
	Service string `json:"service"`
	Kind    string `json:"kind"`
	At      string `json:"at"` // RFC 3339; default now
	Who     string `json:"who"`
	Summary string `json:"summary"`
	URL     string `json:"url"`
}

// changeAddAPI answers POST /api/v1/changes: 201 with the stored change; 200 with the stored one
// when the same change was posted before (a CI retry).
func (s *Server) changeAddAPI(c *fiber.Ctx) error {
	var r changeRequest
	if err := json.Unmarshal(c.Body(), &r); err != nil {
		return badRequest(`body: want JSON {"service","kind","at","who","summary","url"}: ` + err.Error())
	}
	ch := store.Change{Service: strings.TrimSpace(r.Service), Kind: cleanText(r.Kind), Who: cleanText(r.Who),
		Summary: cleanText(r.Summary), URL: strings.TrimSpace(r.URL), At: s.now().UTC(), CreatedAt: s.now().UTC()}
	if err := errors.Join(storable("service", ch.Service), storable("url", ch.URL)); err != nil {
		return badRequest("service or url: NUL bytes and invalid UTF-8 are not allowed")
	}
	switch {
	case ch.Service == "" || len(ch.Service) > 200:
		return badRequest("service: required, at most 200 bytes")
	case len(ch.Kind) > 100 || len(ch.Who) > 200 || len(ch.Summary) > 2000 || len(ch.URL) > 2000:
		return badRequest("kind, who, summary or url too long (100, 200, 2000, 2000 bytes)")
	case ch.URL != "" && safeURL(ch.URL) == "":
		return badRequest("url: want an absolute http(s) URL")
	}
	if ch.Kind == "" {
		ch.Kind = "deploy"
	}
	if r.At != "" {
		t, err := time.Parse(time.RFC3339, r.At)
		if err != nil {
			return badRequest("at: want an RFC 3339 time like 2026-11-23T14:00:00Z")
		}
		ch.At = t.UTC()
	}
	stored, created, err := s.st(c.UserContext()).AddChange(c.UserContext(), ch)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(toChangeJSON(stored))
}

// changesAPI answers GET /api/v1/changes?from=&to=&team=: changes (default the last 7 days), each
// with the alert rules that fired within an hour after it.
func (s *Server) changesAPI(c *fiber.Ctx) error {
	from, to, err := s.window(c, 7*24*time.Hour)
	if err != nil {
		return err
	}
	team, err := s.teamParam(c)
	if err != nil {
		return err
	}
	var teams []string
	if team != nil {
		teams = []string{*team}
	}
	changes, err := s.st(c.UserContext()).Changes(c.UserContext(), s.countFilter(scope{From: from, To: to}, teams))
	if err != nil {
		return err
	}
	out := make([]changeJSON, len(changes))
	for i, ch := range changes {
		out[i] = toChangeJSON(ch)
	}
	return c.JSON(fiber.Map{"items": out})
}
