package collectors

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/opsreview/opsreview/config"
)

// newHTTPClient builds the one HTTP client of a source: its own connection pool, and every request
// to the source's host carries the configured headers and credentials. Requests elsewhere (a
// redirect to another host) get neither, so a token never leaks. Timeouts come from the context.
// The Date of every answer from the source's host goes to clock (when not nil).
func newHTTPClient(rawURL string, h config.HTTP, clock *sourceClock) (*http.Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if h.BearerToken != "" && (h.BasicAuth.Username != "" || h.BasicAuth.Password != "") {
		return nil, errors.New("set either a bearer token or basic auth, not both")
	}
	t := &sourceTransport{
		next:   http.DefaultTransport.(*http.Transport).Clone(),
		host:   u.Host,
		header: http.Header{},
		clock:  clock,
	}
	for k, v := range h.Headers {
		t.header.Set(k, v)
	}
	switch {
	case h.BearerToken != "":
		t.header.Set("Authorization", "Bearer "+h.BearerToken)
	case h.BasicAuth.Username != "" || h.BasicAuth.Password != "":
		r := &http.Request{Header: http.Header{}}
		r.SetBasicAuth(h.BasicAuth.Username, h.BasicAuth.Password)
		t.header.Set("Authorization", r.Header.Get("Authorization"))
	}
	return &http.Client{Transport: t}, nil
}

// sourceTransport adds a source's headers and credentials to the requests sent to it.
type sourceTransport struct {
	next   http.RoundTripper
	host   string
	header http.Header
	clock  *sourceClock
}

// RoundTrip sends req with the source's headers when it goes to the source's host.
func (t *sourceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.host {
		return t.next.RoundTrip(req)
	}
	r := req
	if len(t.header) > 0 {
		r = req.Clone(req.Context())
		for k, v := range t.header {
			r.Header[k] = v
		}
	}
	resp, err := t.next.RoundTrip(r)
	if err == nil {
		t.clock.observe(resp)
	}
	return resp, err
}

// CloseIdleConnections closes the source's idle connections.
func (t *sourceTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
