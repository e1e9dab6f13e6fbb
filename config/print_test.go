package config

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestRedactedNeverLeaks(t *testing.T) {
	secrets := map[string]string{
		"webhook token":        "wh-7f3a9c",
		"bearer token":         "bearer-55e1",
		"bearer from file":     "bearer-file-0d2b",
		"basic password":       "pw-prom-8811",
		"password from file":   "pw-file-3c3c",
		"database password":    "db-pw-4242",
		"read replica":         "replica-pw-9090",
		"source URL password":  "url-pw-1717",
		"credential header":    "api-key-6060",
		"authorization header": "auth-header-2323",
		"user hash":            hashA,
		"user hash from file":  hashB,
	}
	bearerFile := writeFile(t, "bearer", secrets["bearer from file"])
	passwordFile := writeFile(t, "password", secrets["password from file"])
	usersFile := writeFile(t, "users", "bob:"+hashB+"\n")
	c := mustLoad(t, `
database:
  url: postgres://opsreview:`+secrets["database password"]+`@db:5432/opsreview?sslmode=require
  read_url: "host=replica user=opsreview password='`+secrets["read replica"]+`' dbname=opsreview"
webhook: {token: `+secrets["webhook token"]+`}
sources:
  prometheus:
    - {name: a, url: "http://prom:9090", bearer_token: `+secrets["bearer token"]+`,
       headers: {X-Scope-OrgID: team-a, X-Api-Key: `+secrets["credential header"]+`}}
    - {name: b, url: "https://metrics:`+secrets["source URL password"]+`@thanos", bearer_token_file: `+bearerFile+`}
    - {name: c, url: "http://prom-c", basic_auth: {username: ops, password: `+secrets["basic password"]+`},
       headers: {Authorization: "Bearer `+secrets["authorization header"]+`"}}
  alertmanager:
    - {name: am, url: "http://am:9093", basic_auth: {username: ops, password_file: `+passwordFile+`}}
auth: {mode: basic, basic: {users: {alice: '`+hashA+`'}, users_file: `+usersFile+`}}
`)
	var out bytes.Buffer
	if err := c.WriteYAML(&out); err != nil {
		t.Fatal(err)
	}
	for what, s := range secrets {
		if strings.Contains(out.String(), s) {
			t.Errorf("WriteYAML prints the %s", what)
		}
	}
	for _, want := range []string{
		"postgres://opsreview:<secret>@db:5432/opsreview?sslmode=require",
		"password=<secret> dbname=opsreview",
		"https://metrics:<secret>@thanos",
		"X-Scope-OrgID: team-a",
		"bearer_token_file: " + bearerFile,
		"password_file: " + passwordFile,
		"users_file: " + usersFile,
		"alice: <secret>",
		"bob: <secret>",
		"username: ops",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("WriteYAML output lacks %q:\n%s", want, out.String())
		}
	}
	if c.Webhook.Token != secrets["webhook token"] || c.Auth.Basic.Users["alice"] != hashA {
		t.Error("Redacted must not change the original")
	}
}

func TestRedactedIsDeepCopy(t *testing.T) {
	objective := 0.999
	c := &Config{
		Teams:           []Team{{Name: "a", Match: map[string]string{"team": "a"}, BusinessHours: BusinessHours{Days: []string{"mon"}}}},
		PagingReceivers: []string{"pager"},
		Alerts:          Alerts{Ignore: []string{"Watchdog"}},
		Sources: Sources{
			Prometheus:   []PrometheusSource{{Name: "p", HTTP: HTTP{Headers: map[string]string{"X-Scope-OrgID": "a"}}}},
			Alertmanager: []AlertmanagerSource{{Name: "am", HTTP: HTTP{Headers: map[string]string{"X-A": "b"}}}},
		},
		SLIs:     []SLI{{Name: "s", Objective: &objective}},
		Baseline: Baseline{Band: []float64{0.1, 0.9}},
		Runbooks: Runbooks{Annotations: []string{"runbook_url"}, AllowHosts: []string{"wiki"}},
		Auth:     Auth{Proxy: AuthProxy{Trusted: []string{"10.0.0.1"}}, Basic: AuthBasic{Users: map[string]string{"a": hashA}}},
	}
	assertNoSharing(t, "Config", reflect.ValueOf(c).Elem(), reflect.ValueOf(c.Redacted()).Elem())
}

// assertNoSharing fails when a slice, map or pointer in b points at the same memory as in a,
// so a field added later without a copy in Redacted is caught.
func assertNoSharing(t *testing.T, path string, a, b reflect.Value) {
	t.Helper()
	switch a.Kind() {
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if a.Type().Field(i).Name == "Location" {
				continue // *time.Location is immutable and meant to be shared
			}
			assertNoSharing(t, path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
		}
	case reflect.Slice, reflect.Map, reflect.Pointer:
		if a.IsNil() {
			return
		}
		if a.Pointer() == b.Pointer() {
			t.Errorf("%s is shared between the config and its redacted copy", path)
		}
		if a.Kind() == reflect.Slice {
			for i := 0; i < a.Len(); i++ {
				assertNoSharing(t, path+"[]", a.Index(i), b.Index(i))
			}
		}
	}
}

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"postgres://…", "postgres://…"},
		{"postgres://opsreview@db/opsreview", "postgres://opsreview@db/opsreview"},
		{"postgres://u:pw@db/opsreview", "postgres://u:<secret>@db/opsreview"},
		{"postgres://u:p@ss@db/opsreview", "postgres://u:<secret>@db/opsreview"},
		{"postgres://u:p%zz@db/x", "postgres://u:<secret>@db/x"},
		{"postgres://db/x?sslmode=disable&password=pw", "postgres://db/x?sslmode=disable&password=<secret>"},
		{"postgres://db/x?PASSWORD=pw&sslpassword=k", "postgres://db/x?PASSWORD=<secret>&sslpassword=<secret>"},
		{"http://prom:9090/prefix", "http://prom:9090/prefix"},
	} {
		if got := redactDSN(tc.in); got != tc.want {
			t.Errorf("redactDSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"host=db user=u password=pw dbname=x", "host=db user=u password=<secret> dbname=x"},
		{"host=db password = 'p w\\'x' dbname=x", "host=db password=<secret> dbname=x"},
		{"host=db sslpassword=k", "host=db sslpassword=<secret>"},
	} {
		if got := redactDSN(tc.in); got != tc.want {
			t.Errorf("redactDSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriteYAMLRoundTrip(t *testing.T) {
	c := mustLoad(t, productExampleNoSecrets())
	var out bytes.Buffer
	if err := c.WriteYAML(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"retention: 400d", "max_body: 32MiB", "lookback: 8w", "toil_budget: 20h", "flap_threshold: 5m"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	var again bytes.Buffer
	if err := mustLoad(t, out.String()).WriteYAML(&again); err != nil {
		t.Fatal(err)
	}
	if again.String() != out.String() {
		t.Errorf("WriteYAML output does not load back to the same config:\n%s\nthen\n%s", out.String(), again.String())
	}
}

// productExampleNoSecrets is PRODUCT.md's example without its token file, which a test cannot have.
func productExampleNoSecrets() string {
	return strings.Replace(productExample, "token_file: /etc/opsreview/webhook-token, ", "", 1)
}
