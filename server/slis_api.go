package server

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
)

// normalJSON answers "is this normal?" for one SLI at one moment. Numbers are null when there is
// not enough data; since is null unless abnormal.
type normalJSON struct {
	SLI        string     `json:"sli"`
	At         time.Time  `json:"at"`
	Value      *float64   `json:"value"`
	ValueAt    *time.Time `json:"value_at"`
	Median     *float64   `json:"median"`
	Low        *float64   `json:"low"`
	High       *float64   `json:"high"`
	Abnormal   bool       `json:"abnormal"`
	Since      *time.Time `json:"since"`
	Side       *string    `json:"side"` // inside, bad, good; null without a value or band
	HourOfWeek int        `json:"hour_of_week"`
	HourStart  *time.Time `json:"hour_start"`
	Samples    int        `json:"samples"` // baseline samples behind the band
	Weeks      int        `json:"weeks"`
	Timezone   string     `json:"timezone"`
	Unit       string     `json:"unit"`
	Direction  string     `json:"direction"`
	Sentence   string     `json:"sentence"`
	Objective  *objJSON   `json:"objective,omitempty"`
}

// objJSON is an SLI's objective figures.
type objJSON struct {
	Objective  float64  `json:"objective"`
	WeekMet    *float64 `json:"week_met"`
	BudgetLeft *float64 `json:"budget_left"`
	BurnRate   *float64 `json:"burn_rate"`
}

// sliJSON is one configured SLI with its current state.
type sliJSON struct {
	Name        string     `json:"name"`
	Source      string     `json:"source"`
	Service     string     `json:"service"`
	Team        string     `json:"team"`
	Unit        string     `json:"unit"`
	Direction   string     `json:"direction"`
	Objective   *float64   `json:"objective"`
	StepSeconds int64      `json:"step_seconds"`
	Query       string     `json:"query"`
	CollectedTo *time.Time `json:"collected_to"`
	LastError   string     `json:"last_error"`
	Normal      normalJSON `json:"normal"`
}

func toNormalJSON(n sliNow) normalJSON {
	nm, b := n.Normal, n.Band()
	j := normalJSON{
		SLI: n.SLI.Name, At: nm.At.UTC(), Value: nm.Value, ValueAt: nm.ValueAt, Median: b.Median, Low: b.Low, High: b.High,
		Abnormal: nm.Abnormal, Since: nm.Since, HourOfWeek: review.HourOfWeek(nm.At, n.Loc),
		Samples: b.Samples, Weeks: b.Weeks, Timezone: n.Loc.String(), Unit: n.SLI.Unit, Direction: n.SLI.Direction,
		Sentence: sentence(n),
	}
	if !b.HourStart.IsZero() {
		h := b.HourStart
		j.HourStart = &h
	}
	if nm.Side != review.SideUnknown {
		side := string(nm.Side)
		j.Side = &side
	}
	return j
}

// Band is the band of the hour judged.
func (n sliNow) Band() review.Band { return n.Normal.Band }

// atParam reads at= (RFC 3339), default now.
func (s *Server) atParam(c *fiber.Ctx) (time.Time, error) {
	v := c.Query("at")
	if v == "" {
		return s.now().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, badRequest("at: want an RFC 3339 time like 2026-11-24T15:00:00Z")
	}
	return t.UTC(), nil
}

// sliParam returns the SLI named in the path, or a 404 that says so.
func (s *Server) sliParam(c *fiber.Ctx) (config.SLI, error) {
	name := c.Params("name")
	x := s.cfg.SLIByName(name)
	if x == nil {
		return config.SLI{}, fiber.NewError(fiber.StatusNotFound, "no SLI named "+strconv.Quote(name))
	}
	return *x, nil
}

// slisAPI answers GET /api/v1/slis: every configured SLI with its normal now.
func (s *Server) slisAPI(c *fiber.Ctx) error {
	at := s.now().UTC()
	rows, err := s.judgeSLIs(c.UserContext(), s.cfg.SLIs, at, 0) // draws nothing: the short window
	if err != nil {
		return err
	}
	items := make([]sliJSON, len(rows))
	for i, r := range rows {
		x := r.SLI
		items[i] = sliJSON{
			Name: x.Name, Source: x.Source, Service: x.Service, Team: x.Team, Unit: x.Unit, Direction: x.Direction,
			Objective: x.Objective, StepSeconds: int64(x.Step.D() / time.Second), Query: x.Query,
			CollectedTo: r.State.CollectedTo, LastError: r.State.LastError, Normal: toNormalJSON(r),
		}
	}
	return c.JSON(fiber.Map{"items": items})
}

// sliNormalAPI answers GET /api/v1/slis/{name}/normal?at=: is the SLI normal at that moment.
func (s *Server) sliNormalAPI(c *fiber.Ctx) error {
	x, err := s.sliParam(c)
	if err != nil {
		return err
	}
	at, err := s.atParam(c)
	if err != nil {
		return err
	}
	r, obj, err := s.judgeOne(c.UserContext(), x, at)
	if err != nil {
		return err
	}
	j := toNormalJSON(r)
	if obj != nil {
		j.Objective = &objJSON{Objective: obj.Objective, WeekMet: obj.WeekMet, BudgetLeft: obj.BudgetLeft, BurnRate: obj.BurnRate}
	}
	return c.JSON(j)
}
