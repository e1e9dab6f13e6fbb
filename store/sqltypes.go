package store

import (
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// jsonMap is a string map stored as a jsonb object.
type jsonMap map[string]string

// Scan reads a jsonb object.
func (m *jsonMap) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok {
		if s, isStr := src.(string); isStr {
			b = []byte(s)
		} else if src == nil {
			*m = jsonMap{}
			return nil
		} else {
			return fmt.Errorf("jsonMap: cannot scan %T", src)
		}
	}
	return json.Unmarshal(b, (*map[string]string)(m))
}

// Value writes a jsonb object.
func (m jsonMap) Value() (driver.Value, error) { return jsonText(map[string]string(m)), nil }

// jsonList is a string list stored as a jsonb array.
type jsonList []string

// Scan reads a jsonb array.
func (l *jsonList) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		return json.Unmarshal(v, (*[]string)(l))
	case string:
		return json.Unmarshal([]byte(v), (*[]string)(l))
	case nil:
		*l = nil
		return nil
	}
	return fmt.Errorf("jsonList: cannot scan %T", src)
}

func jsonText(v any) string {
	switch x := v.(type) {
	case map[string]string:
		if x == nil {
			return "{}"
		}
	case []string:
		if x == nil {
			return "[]"
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

// int64s passes a bigint[] parameter.
func int64s(v []int64) any { return pq.Array(v) }

// tsArray passes a timestamptz[] parameter (as text, cast in SQL) with NULL for nil.
func tsArray(ts []*time.Time) any {
	out := make([]sql.NullString, len(ts))
	for i, t := range ts {
		if t != nil {
			out[i] = sql.NullString{String: t.UTC().Format(time.RFC3339Nano), Valid: true}
		}
	}
	return pq.Array(out)
}

func tsPtr(t time.Time) *time.Time { return &t }
