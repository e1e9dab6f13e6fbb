package server

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// reviewMarkdown answers GET /review.md?week=&team=: the whole review as Markdown to paste into a
// wiki or chat, with the same numbers as the page and the API.
func (s *Server) reviewMarkdown(c *fiber.Ctx) error {
	sc, err := s.weekScope(c)
	if err != nil {
		return err
	}
	expand, err := reviewExpandParams(c)
	if err != nil {
		return err
	}
	rv, err := s.review(c.UserContext(), sc)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/markdown; charset=utf-8")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`inline; filename="review-%s.md"`, rv.Week))
	return c.SendString(renderMarkdown(rv, mdOptions{expand: expand, base: mdBase(c)}))
}

// mdOptions are what the Markdown export shows of the long lists: their top (as the page does)
// with a link to the rest on base's review page, unless expand asks for them in full.
type mdOptions struct {
	expand reviewExpand
	base   string // scheme and host of the links to the rest, "" for none
}

// mdBase is this server's address as the request reached it, when it is a plain http(s) origin:
// the export is pasted into a wiki, where a relative link would lead nowhere.
func mdBase(c *fiber.Ctx) string {
	u, err := url.Parse(c.BaseURL())
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" ||
		strings.ContainsAny(u.Host, "<>() \\\"'`") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// mdLink is a link to the review page with the lists of e in full, at anchor, as Markdown.
func mdLink(o mdOptions, rv weeklyReview, e reviewExpand, anchor string) string {
	u := reviewListURL("/review", rv.Week, rv.Team, e, anchor)
	if o.base == "" {
		return "`" + u + "`"
	}
	return "<" + o.base + u + ">"
}

// md makes text from alerts and people safe to paste: no Markdown or HTML markup, no table breaks,
// no line breaks, no bidi overrides.
func md(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteRune(' ')
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F:
			// bidi controls would reorder the text around them
		case strings.ContainsRune("\\`*_{}[]()<>#+-.!|~&", r):
			b.WriteRune('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func renderMarkdown(rv weeklyReview, o mdOptions) string {
	var b strings.Builder
	team := rv.Team
	if team == "" {
		team = "all teams"
	}
	fmt.Fprintf(&b, "# Operational review %s — %s\n\n", rv.Week, md(team))
	fmt.Fprintf(&b, "%s to %s (%s)\n\n", rv.From.Format(time.RFC3339), rv.To.Format(time.RFC3339), md(rv.Timezone))

	b.WriteString("## Follow-ups\n\n")
	if len(rv.FollowUps) == 0 {
		b.WriteString("No open action items from earlier weeks.\n\n")
	}
	for _, a := range rv.FollowUps {
		box, note := "[ ]", ""
		if !a.Open {
			box = "[x]"
			note = " — closed by " + md(a.ClosedBy)
		} else if a.Overdue {
			note = " — **overdue**"
		}
		fmt.Fprintf(&b, "- %s %s (owner %s, due %s)%s\n", box, md(a.Title), md(a.Owner), a.Due, note)
	}
	if len(rv.FollowUps) > 0 {
		b.WriteString("\n")
	}

	top := reviewTop(rv.Team)
	noisyTable := func(rows []noisyRow, all bool, set func(*reviewExpand), anchor string) {
		total := len(rows)
		if !all && total > top {
			rows = rows[:top]
			fmt.Fprintf(&b, "Top %d of %s by noise score.\n\n", top, thousands(total))
		}
		b.WriteString("| Alert | Fires | Flaps | Firing | Pages (business/evening/sleep) | Silenced | Runbook | Verdict | Noise score |\n")
		b.WriteString("| --- | ---: | ---: | ---: | --- | ---: | --- | --- | ---: |\n")
		for _, r := range rows {
			var parts []string
			for _, p := range r.PartList() {
				parts = append(parts, fmt.Sprintf("%s %g", p.Name, p.Value))
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %s | %d (%d/%d/%d) | %d%% | %s | %s | %g (%s) |\n",
				md(r.Alertname), r.Fires, r.Flaps, dur(r.FiringTime()), r.Pages, r.PagesByHours.Business, r.PagesByHours.Evening,
				r.PagesByHours.Sleep, r.SilencedPercent(), r.Runbook.Status, r.Verdict, r.NoiseScore, strings.Join(parts, ", "))
		}
		b.WriteString("\n")
		if len(rows) < total {
			e := o.expand
			set(&e)
			fmt.Fprintf(&b, "%s more: see %s\n\n", thousands(total-len(rows)), mdLink(o, rv, e, anchor))
		}
	}
	b.WriteString("## Noisy alerts\n\n")
	if len(rv.NoisyAlerts) == 0 {
		b.WriteString("Nothing fired.\n\n")
	} else {
		noisyTable(rv.NoisyAlerts, o.expand.Noisy, func(e *reviewExpand) { e.Noisy = true }, "noisy")
	}
	if len(rv.Unassigned) > 0 {
		b.WriteString("## Alerts nobody owns\n\n")
		noisyTable(rv.Unassigned, o.expand.Unassigned, func(e *reviewExpand) { e.Unassigned = true }, "unassigned")
	}
	b.WriteString("## Know your normal\n\nNot available yet.\n\n")

	t := rv.Toil
	b.WriteString("## Toil\n\n")
	fmt.Fprintf(&b, "- Pages: %d (business %d, evening %d, sleep %d)\n", t.Pages, t.PagesByHours.Business, t.PagesByHours.Evening, t.PagesByHours.Sleep)
	fmt.Fprintf(&b, "- Hours with at least one interruption: %d\n", t.InterruptedHours)
	fmt.Fprintf(&b, "- Toil: %s of a %s budget (%d%%)\n", dur(time.Duration(t.TotalMinutes)*time.Minute), dur(time.Duration(t.BudgetMinutes)*time.Minute), t.BudgetPercent())
	offenders := t.RepeatOffenders
	if !o.expand.Offenders && len(offenders) > top {
		offenders = offenders[:top]
	}
	for _, r := range offenders {
		fmt.Fprintf(&b, "- Repeat offender: %s paged %d times\n", md(r.Alertname), r.Pages)
	}
	if n := len(t.RepeatOffenders) - len(offenders); n > 0 {
		e := o.expand
		e.Offenders = true
		fmt.Fprintf(&b, "- %s more repeat offenders: see %s\n", thousands(n), mdLink(o, rv, e, "offenders"))
	}
	b.WriteString("\n## Runbooks\n\n")
	if n := len(rv.Runbooks.Missing) + len(rv.Runbooks.Broken) + len(rv.Runbooks.Stale); n == 0 {
		b.WriteString("Every alert that fired has a runbook.\n")
	}
	var problems []runbookAlert
	for _, list := range [][]runbookAlert{rv.Runbooks.Missing, rv.Runbooks.Broken, rv.Runbooks.Stale} {
		problems = append(problems, list...)
	}
	shown := problems
	if !o.expand.Runbooks && len(shown) > top {
		shown = shown[:top]
	}
	for _, a := range shown {
		fmt.Fprintf(&b, "- %s: runbook %s (%d fires)\n", md(a.Alertname), a.Status, a.Fires)
	}
	if n := len(problems) - len(shown); n > 0 {
		e := o.expand
		e.Runbooks = true
		fmt.Fprintf(&b, "\n%s more: see %s\n", thousands(n), mdLink(o, rv, e, "runbooks"))
	}
	b.WriteString("\n## Changes\n\n")
	if len(rv.Changes) == 0 {
		b.WriteString("No changes posted.\n")
	}
	changes := rv.Changes
	if !o.expand.Changes {
		changes = topChanges(changes, top)
	}
	cut := len(changes) < len(rv.Changes)
	if cut {
		fmt.Fprintf(&b, "The %d of %s changes the most alerts fired after:\n\n", top, thousands(len(rv.Changes)))
	}
	for _, ch := range changes {
		var after []string
		shown := ch.AlertsAfter
		if !o.expand.Changes && len(shown) > reviewTopAfter {
			shown = shown[:reviewTopAfter]
		}
		for _, a := range shown {
			after = append(after, fmt.Sprintf("%s ×%d", md(a.Alertname), a.Fires))
		}
		if n := len(ch.AlertsAfter) - len(shown); n > 0 {
			after = append(after, "and "+thousands(n)+" more")
			cut = true
		}
		line := fmt.Sprintf("- %s %s %s by %s: %s", ch.At.Format("Mon 02 Jan 15:04"), md(ch.Service), md(ch.Kind), md(ch.Who), md(ch.Summary))
		if len(after) > 0 {
			line += " — fired within an hour after: " + strings.Join(after, ", ")
		}
		b.WriteString(line + "\n")
	}
	if cut {
		e := o.expand
		e.Changes = true
		fmt.Fprintf(&b, "\nEvery change and every alert after each: see %s\n", mdLink(o, rv, e, "changes"))
	}
	sm := rv.Summary
	b.WriteString("\n## Summary\n\n")
	fmt.Fprintf(&b, "- %d alert rules fired %d times; %d pages, %d in sleep hours\n", sm.Rules, sm.Fires, sm.Pages, sm.SleepPages)
	fmt.Fprintf(&b, "- Verdicts: %d actionable, %d noise, %d needs tuning, %d unreviewed\n",
		sm.Verdicts["actionable"], sm.Verdicts["noise"], sm.Verdicts["needs-tuning"], sm.Verdicts["unreviewed"])
	fmt.Fprintf(&b, "- Follow-ups: %d open, %d overdue\n", sm.FollowUpsOpen, sm.FollowUpsOverdue)
	if len(rv.ActionItems) > 0 {
		b.WriteString("\n### Action items decided\n\n")
		for _, a := range rv.ActionItems {
			link := ""
			if u := safeURL(a.TicketURL); u != "" {
				link = " <" + strings.NewReplacer("<", "%3C", ">", "%3E", " ", "%20").Replace(u) + ">"
			}
			about := ""
			if a.Alertname != "" {
				about = " [" + md(a.Alertname) + "]"
			}
			fmt.Fprintf(&b, "- [ ] %s%s — owner %s, due %s%s\n", md(a.Title), about, md(a.Owner), a.Due, link)
		}
	}
	return b.String()
}
