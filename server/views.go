package server

import (
	"net/http"
	"time"
)

// A view is the data one page renders. The layout reads four optional fields from any view by
// name: Title (string), Demo and TV (bool) and Now (time.Time); see frameOf.

// EpisodesView is the data of the episodes page: the most recent firing intervals.
type EpisodesView struct {
	Now      time.Time // the moment the page was built; relative times count from it
	Demo     bool      // the data came from `opsreview demo`: the page says so
	Title    string
	Episodes []EpisodeRow
}

// EpisodeRow is one episode as the episodes table shows it.
type EpisodeRow struct {
	ID        int64
	Alertname string
	Team      string // "" shows as "unassigned"
	Labels    map[string]string
	StartsAt  time.Time
	EndsAt    *time.Time    // nil while firing
	Duration  time.Duration // to EndsAt, or to Now while firing
	// Roads by which opsreview heard of the episode.
	ViaWebhook, ViaAlertmanager, ViaPrometheus bool
	// Backfilled marks an episode rebuilt from Prometheus's ALERTS history alone; IsBackfilled
	// also infers it from the roads.
	Backfilled bool
	Silenced   bool
	Flags      []string // what was changed to store the alert (truncated, escaped)
	// GeneratorURL links to the rule's expression in Prometheus. It is rendered only when its
	// scheme is http or https.
	GeneratorURL string
}

// IsBackfilled reports whether Prometheus is the only road the episode came by, so nobody was
// notified of it through opsreview's webhook or seen in Alertmanager.
func (r EpisodeRow) IsBackfilled() bool {
	return r.Backfilled || (r.ViaPrometheus && !r.ViaWebhook && !r.ViaAlertmanager)
}

// ErrorView is the data of the error page. It carries no error text: the page shows a fixed,
// friendly message for the status so internals never reach a browser.
type ErrorView struct {
	Now       time.Time
	Demo      bool
	Title     string
	Status    int
	Heading   string
	Message   string
	RequestID string // optional; lets a user quote the request to whoever reads the logs
}

// NewErrorView returns the error page's data for an HTTP status.
func NewErrorView(status int, now time.Time) ErrorView {
	v := ErrorView{Now: now, Status: status, Heading: "Something went wrong on our side",
		Message: "The error has been logged. Try again in a minute; if it keeps happening, tell whoever runs opsreview."}
	switch {
	case status == http.StatusNotFound:
		v.Heading = "Page not found"
		v.Message = "There is nothing at this address. It may have moved, or the link may be mistyped."
	case status == http.StatusServiceUnavailable:
		v.Heading = "opsreview cannot reach its data right now"
		v.Message = "The database is not answering. This page will work again once it is back."
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		v.Heading = "Not allowed"
		v.Message = "You are not signed in, or this page is not open to you."
	case status >= 400 && status < 500:
		v.Heading = "That request did not work"
		v.Message = "Something in the request was not as expected. Go back and try again."
	}
	v.Title = v.Heading
	return v
}
