package collectors

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/opsreview/opsreview/config"
)

// NewSLIQueryAPI builds the query API client of a Prometheus-compatible source, once: its own
// connection pool, and the source's headers and credentials on every request to the source's
// host (never to another host a redirect points at). Timeouts come from the request's context.
func NewSLIQueryAPI(src config.PrometheusSource) (v1.API, error) {
	u, err := url.Parse(src.URL)
	if err != nil {
		return nil, fmt.Errorf("source %s: url: %w", src.Name, err)
	}
	h := src.HTTP
	if h.BearerToken != "" && (h.BasicAuth.Username != "" || h.BasicAuth.Password != "") {
		return nil, fmt.Errorf("source %s: set either a bearer token or basic auth, not both", src.Name)
	}
	t := &sliTransport{next: http.DefaultTransport.(*http.Transport).Clone(), host: u.Host, header: http.Header{}}
	for k, v := range h.Headers {
		t.header.Set(k, v)
	}
	switch {
	case h.BearerToken != "":
		t.header.Set("Authorization", "Bearer "+h.BearerToken)
	case h.BasicAuth.Username != "":
		r := &http.Request{Header: http.Header{}}
		r.SetBasicAuth(h.BasicAuth.Username, h.BasicAuth.Password)
		t.header.Set("Authorization", r.Header.Get("Authorization"))
	}
	c, err := api.NewClient(api.Config{Address: src.URL, Client: &http.Client{Transport: t}})
	if err != nil {
		return nil, fmt.Errorf("source %s: building the API client: %w", src.Name, err)
	}
	return v1.NewAPI(c), nil
}

// sliTransport adds a source's headers and credentials to the requests sent to its host.
type sliTransport struct {
	next   http.RoundTripper
	host   string
	header http.Header
}

// RoundTrip sends req, with the source's headers when it goes to the source's host.
func (t *sliTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.host || len(t.header) == 0 {
		return t.next.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	for k, v := range t.header {
		r.Header[k] = v
	}
	return t.next.RoundTrip(r)
}
