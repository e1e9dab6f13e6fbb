package collectors

import (
	"fmt"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/opsreview/opsreview/config"
)

// NewSLIQueryAPI builds the query API client of a Prometheus-compatible source, once, on the
// source's own HTTP client (newHTTPClient: headers and credentials only to the source's host).
// Timeouts come from the request's context.
func NewSLIQueryAPI(src config.PrometheusSource) (v1.API, error) {
	return newSLIQueryAPI(src, nil)
}

// newSLIQueryAPI is NewSLIQueryAPI telling clock the source's time from every answer.
func newSLIQueryAPI(src config.PrometheusSource, clock *sourceClock) (v1.API, error) {
	hc, err := newHTTPClient(src.URL, src.HTTP, clock)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", src.Name, err)
	}
	c, err := api.NewClient(api.Config{Address: src.URL, Client: hc})
	if err != nil {
		return nil, fmt.Errorf("source %s: building the API client: %w", src.Name, err)
	}
	return v1.NewAPI(c), nil
}
