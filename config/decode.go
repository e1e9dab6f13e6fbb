package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decodeStrict parses a YAML document into c. Before decoding it walks the document along
// Config's type, so that every unknown key and every bad value is reported at once, each with
// its line and its full key path (teams[0].timezone), not Go type names.
func decodeStrict(b []byte, c *Config) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return Problems{err}
	}
	if len(doc.Content) == 0 {
		return nil // empty file: defaults only
	}
	w := &walker{}
	w.walk(doc.Content[0], reflect.TypeFor[Config](), "")
	if len(w.problems) > 0 {
		return w.problems
	}
	if err := doc.Content[0].Decode(c); err != nil {
		return Problems{err}
	}
	return nil
}

// walker checks a YAML node tree against a Go type without decoding it.
type walker struct {
	problems Problems
	seen     map[string]bool // key paths with [] for indexes, when non-nil; keeps the example complete
}

var (
	durationType = reflect.TypeFor[Duration]()
	byteSizeType = reflect.TypeFor[ByteSize]()
)

func (w *walker) add(n *yaml.Node, path, format string, a ...any) {
	if path == "" {
		path = "top level"
	}
	w.problems = append(w.problems, fmt.Errorf("line %d: %s: %s", n.Line, path, fmt.Sprintf(format, a...)))
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value leaves the default
	}
	if w.seen != nil && path != "" {
		w.seen[indexless(path)] = true
	}
	switch {
	case t == durationType || t == byteSizeType || t.Kind() != reflect.Struct && t.Kind() != reflect.Slice && t.Kind() != reflect.Map:
		w.leaf(n, t, path)
	case t.Kind() == reflect.Struct:
		w.mapping(n, t, path)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.add(n, path, "want a list, got %s", kindName(n))
			return
		}
		for i, e := range n.Content {
			w.walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			w.add(n, path, "want a mapping (key: value), got %s", kindName(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			w.leaf(n.Content[i+1], t.Elem(), path+"."+n.Content[i].Value)
		}
	}
}

// mapping checks a YAML mapping against a struct: every key must be one of its fields.
func (w *walker) mapping(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.add(n, path, "want a mapping (key: value), got %s", kindName(n))
		return
	}
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" { // merge key: the merged mappings must fit the same struct
			w.walk(v, t, path)
			continue
		}
		f, ok := fields[k.Value]
		if !ok {
			w.add(k, path, "unknown key %q%s", k.Value, suggest(k.Value, fields))
			continue
		}
		w.walk(v, f.Type, join(path, k.Value))
	}
}

// leaf decodes a scalar into a throwaway value of its Go type to catch bad values early.
func (w *walker) leaf(n *yaml.Node, t reflect.Type, path string) {
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		w.add(n, path, "%s", leafMessage(err))
	}
}

var lineRe = regexp.MustCompile(`^line \d+: `)

// leafMessage strips yaml's "unmarshal errors" header and line prefix; the walker adds its own.
func leafMessage(err error) string {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for i, m := range msgs {
		msgs[i] = lineRe.ReplaceAllString(m, "")
	}
	return strings.Join(msgs, "; ")
}

// yamlFields maps each YAML key of a struct to its field, following ",inline" embedding.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case opts == "inline":
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
		case name != "":
			out[name] = f
		}
	}
	return out
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var indexRe = regexp.MustCompile(`\[\d+\]`)

// indexless turns teams[0].name into teams[].name.
func indexless(path string) string { return indexRe.ReplaceAllString(path, "[]") }

// suggest names the closest known key, for typos like bussiness_hours or a short form like user.
func suggest(key string, fields map[string]reflect.StructField) string {
	best, bestDist := "", 3 // more than two edits away is not a typo
	for k := range fields {
		d := editDistance(key, k)
		if len(key) >= 3 && (strings.HasPrefix(k, key) || strings.HasPrefix(key, k)) {
			d = min(d, 2)
		}
		if d < bestDist || d == bestDist && best != "" && k < best {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
