package server

import (
	"context"
	"net/url"
	"slices"

	"github.com/gofiber/fiber/v2"
)

// reviewShow renders the weekly review page (GET /review?week=&team=): the agenda of one week. The
// page is rendered once per data version for everyone (a sharedPage) and streamed to each viewer
// with their CSRF token and fresh form keys.
func (s *Server) reviewShow(c *fiber.Ctx) error {
	sc, err := s.weekScope(c)
	if err != nil {
		return err
	}
	expand, err := reviewExpandParams(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	fragment := isFragment(c)
	form := "page"
	if fragment {
		form = "fragment"
	}
	p, err := s.pages.derived(ctx, s.st(ctx), s.pageKey(ctx, "review-html", sc, form+expand.key()), func(ctx context.Context) (any, error) {
		return s.renderReview(ctx, sc, fragment, expand)
	})
	if err != nil {
		return err
	}
	return s.sendShared(c, fiber.StatusOK, p.(*sharedPage))
}

// renderReview renders the review page of a scope for every viewer: markers stand for the CSRF
// token and the form keys. The long lists show their top unless expand asks for them in full.
func (s *Server) renderReview(ctx context.Context, sc scope, fragment bool, expand reviewExpand) (*sharedPage, error) {
	// The runbooks section is read while the review is: two builds, each in its own build slot, so
	// the page waits for the longer one rather than for both in turn. The toil section is made from
	// the review's own pages and manual entries.
	var runbooks any
	var runbooksErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		runbooks, runbooksErr = s.pages.get(ctx, s.st(ctx), s.pageKey(ctx, "review-runbooks", sc, ""), func(ctx context.Context) (any, error) {
			return s.runbooksSection(ctx, sc.Week, sc.Team, "")
		})
	}()
	rv, err := s.review(ctx, sc)
	<-done
	if err != nil {
		return nil, err
	}
	if runbooksErr != nil {
		return nil, runbooksErr
	}
	q := url.Values{"week": {rv.Week}}
	if rv.Team != "" {
		q.Set("team", rv.Team)
	}
	title := "Weekly review " + rv.Week
	if rv.Team != "" {
		title += " · " + rv.Team
	}
	v := reviewView{Now: s.now(), Demo: s.cfg.Demo, Title: title, R: rv, CSRF: tokenMarker, Normal: rv.normalView, shared: true, Expand: expand,
		DueDef:      s.today(sc.Loc).AddDate(0, 0, 7).Format("2006-01-02"),
		PrevURL:     reviewURL(rv.Previous, rv.Team),
		NextURL:     reviewURL(rv.Next, rv.Team),
		MarkdownURL: "/review.md?" + q.Encode(),
		APIURL:      "/api/v1/review?" + q.Encode(),
	}
	for _, t := range s.cfg.Teams {
		v.Teams = append(v.Teams, t.Name)
	}
	rb := runbooks.(RunbooksSectionView)
	v.Toil = s.toilSectionOf(sc.Week, sc.Team, tokenMarker, slices.Clone(rv.toilPages), rv.Toil.ManualEntries)
	v.Runbooks = rb
	v.Toil.FormKey = keyMarker
	cutOffenders(&v.Toil, rv.Week, rv.Team, expand)
	v.Runbooks.Items = append([]RunbookRow(nil), rb.Items...)
	for i := range v.Runbooks.Items {
		v.Runbooks.Items[i].CSRF = tokenMarker
	}
	v.cutRunbooks()
	return s.render.renderShared("review", fragment, v)
}

// review returns the weekly review of a scope, built once per data version however many ask.
func (s *Server) review(ctx context.Context, sc scope) (weeklyReview, error) {
	v, err := s.pages.get(ctx, s.st(ctx), s.pageKey(ctx, "review", sc, ""), func(ctx context.Context) (any, error) {
		return s.buildReview(ctx, sc)
	})
	if err != nil {
		return weeklyReview{}, err
	}
	return v.(weeklyReview), nil
}

// pageKey names a heavy page of a scope in the page cache.
func (s *Server) pageKey(ctx context.Context, page string, sc scope, query string) pageKey {
	k := pageKey{page: page, team: sc.teamName(), query: query, primary: readsPrimary(ctx) && s.store.HasReplica()}
	if sc.Team == nil {
		k.team = "\x00all"
	}
	if !sc.Week.Start.IsZero() {
		k.week = sc.Week.String()
	}
	return k
}
