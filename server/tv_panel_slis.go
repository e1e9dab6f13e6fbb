package server

import (
	"context"
	"sort"
	"time"

	"github.com/opsreview/opsreview/config"
)

// TVSLIs is the "SLIs against normal" panel: one tile per SLI, red when abnormal, amber when
// outside its band on the bad side (not yet for long enough) or without data, green otherwise.
type TVSLIs struct {
	Now      time.Time
	Tiles    []TVSLITile
	Abnormal int
	More     int // SLIs not shown
}

// TVSLITile is one SLI on the TV.
type TVSLITile struct {
	Name, Service string
	Value, Band   string
	Colour        string // red, amber, green
	Status        string // "abnormal since 14:20", "normal", …
}

// tvSLITiles is how many tiles fit a screen legibly.
const tvSLITiles = 12

// tvSLIs judges the team's SLIs now, the way /normal does, worst first.
func (s *Server) tvSLIs(ctx context.Context, q tvQuery) (any, error) {
	var slis []config.SLI
	for _, x := range s.cfg.SLIs {
		if q.Team == nil || x.Team == *q.Team {
			slis = append(slis, x)
		}
	}
	rows, err := s.judgeSLIs(ctx, slis, q.Now.UTC(), time.Hour)
	if err != nil {
		return nil, err
	}
	v := TVSLIs{Now: q.Now}
	rank := map[string]int{"red": 0, "amber": 1, "green": 2}
	for _, r := range rows {
		class, text := statusOf(r)
		colour := "green"
		switch class {
		case "abnormal":
			colour = "red"
			v.Abnormal++
		case "unusual", "no-data":
			colour = "amber"
		}
		v.Tiles = append(v.Tiles, TVSLITile{Name: r.SLI.Name, Service: r.SLI.Service, Value: valueText(r),
			Band: bandText(r), Colour: colour, Status: text})
	}
	sort.SliceStable(v.Tiles, func(i, j int) bool { return rank[v.Tiles[i].Colour] < rank[v.Tiles[j].Colour] })
	if len(v.Tiles) > tvSLITiles {
		v.More = len(v.Tiles) - tvSLITiles
		v.Tiles = v.Tiles[:tvSLITiles]
	}
	return v, nil
}
