package config

import (
	"os"
	"reflect"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

const examplePath = "../opsreview.example.yml"

// TestExampleLoads keeps the example file valid: it is what users copy.
func TestExampleLoads(t *testing.T) {
	t.Setenv(EnvDatabaseURL, "")
	t.Setenv(EnvListen, "")
	c, err := Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	if c.Teams[0].Location.String() != "Europe/Berlin" || c.SLIs[0].Source != "prom-eu" {
		t.Errorf("unexpected example values: %+v", c)
	}
}

// TestExampleHasEveryKey keeps the example complete: a key added to Config must be shown there.
func TestExampleHasEveryKey(t *testing.T) {
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	w := &walker{seen: map[string]bool{}}
	w.walk(doc.Content[0], reflect.TypeFor[Config](), "")
	for _, key := range keyPaths(reflect.TypeFor[Config](), "") {
		if !w.seen[key] {
			t.Errorf("%s does not show %s", examplePath, key)
		}
	}
}

// keyPaths lists every leaf key of t as written in the docs: teams[].business_hours.days.
func keyPaths(t reflect.Type, prefix string) []string {
	var out []string
	for name, f := range yamlFields(t) {
		path := join(prefix, name)
		ft := f.Type
		switch {
		case ft.Kind() == reflect.Struct && ft != durationType:
			out = append(out, keyPaths(ft, path)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, keyPaths(ft.Elem(), path+"[]")...)
		default:
			out = append(out, path)
		}
	}
	slices.Sort(out)
	return out
}

func TestKeyPaths(t *testing.T) {
	keys := keyPaths(reflect.TypeFor[Config](), "")
	for _, want := range []string{"listen", "teams[].business_hours.days", "sources.prometheus[].basic_auth.password_file", "sources.alertmanager[].headers", "auth.basic.users"} {
		if !slices.Contains(keys, want) {
			t.Errorf("keyPaths lacks %s: %v", want, keys)
		}
	}
	if slices.Contains(keys, "teams[].location") || slices.Contains(keys, "demo") {
		t.Errorf("keyPaths lists a field that is not a key: %v", keys)
	}
}
