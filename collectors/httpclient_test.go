package collectors

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/opsreview/opsreview/config"
)

func TestHTTPClientAddsHeadersAndCredentialsToItsSourceOnly(t *testing.T) {
	var elsewhere http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere = r.Header.Clone() }))
	defer other.Close()
	var got http.Header
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		}
	}))
	defer src.Close()

	hc, err := newHTTPClient(src.URL, config.HTTP{Headers: map[string]string{"X-Scope-OrgID": "team-a"}, BearerToken: "t0k"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(src.URL + "/redirect")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Get("X-Scope-OrgID") != "team-a" || got.Get("Authorization") != "Bearer t0k" {
		t.Fatalf("source request headers: %v", got)
	}
	if elsewhere.Get("Authorization") != "" || elsewhere.Get("X-Scope-OrgID") != "" {
		t.Fatalf("credentials followed a redirect to another host: %v", elsewhere)
	}

	hc, err = newHTTPClient(src.URL, config.HTTP{BasicAuth: config.BasicAuth{Username: "u", Password: "p"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = hc.Get(src.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Get("Authorization") != "Basic dTpw" {
		t.Fatalf("basic auth: %v", got)
	}

	if _, err := newHTTPClient(src.URL, config.HTTP{BearerToken: "t", BasicAuth: config.BasicAuth{Username: "u"}}, nil); err == nil {
		t.Fatal("want an error for both a bearer token and basic auth")
	}
}
