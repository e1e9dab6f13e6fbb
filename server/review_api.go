package server

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
)

// reviewAPI answers GET /api/v1/review?week=&team=: the whole weekly review, section by section.
func (s *Server) reviewAPI(c *fiber.Ctx) error {
	sc, err := s.weekScope(c)
	if err != nil {
		return err
	}
	// The JSON is encoded once per data version and shared: for every team it is megabytes.
	ctx := c.UserContext()
	b, err := s.pages.derived(ctx, s.st(ctx), s.pageKey(ctx, "review-json", sc, ""), func(ctx context.Context) (any, error) {
		rv, err := s.review(ctx, sc)
		if err != nil {
			return nil, err
		}
		return json.Marshal(rv)
	})
	if err != nil {
		return err
	}
	body := b.([]byte)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Response().SetBodyStream(bytes.NewReader(body), len(body))
	return nil
}

// noisyAPI answers GET /api/v1/alerts/noisy?from=&to=&team=&limit=: per alert rule, its counts and
// noise score with the parts, highest first. The window defaults to the last 7 days.
func (s *Server) noisyAPI(c *fiber.Ctx) error {
	from, to, err := s.window(c, 7*24*time.Hour)
	if err != nil {
		return err
	}
	team, err := s.teamParam(c)
	if err != nil {
		return err
	}
	limit, err := s.limitParam(c, 50, 1000)
	if err != nil {
		return err
	}
	sc := scope{From: from, To: to, Team: team, Loc: s.locationOf(team)}
	var teams []string
	if team != nil {
		teams = []string{*team}
	}
	ctx := c.UserContext()
	key := s.pageKey(ctx, "noisy", sc, from.UTC().Format(time.RFC3339Nano)+" "+to.UTC().Format(time.RFC3339Nano)+" "+strconv.Itoa(limit))
	v, err := s.pages.get(ctx, s.st(ctx), key, func(ctx context.Context) (any, error) {
		rows, err := s.noisy(ctx, sc, teams, weeksOverlapping(from, to, sc.Loc))
		if len(rows) > limit {
			rows = rows[:limit]
		}
		return rows, err
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": v})
}
