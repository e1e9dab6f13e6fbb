package store

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// Postgres array literals for the SLI paths, where a backfill sends and reads tens of thousands of
// numbers per statement: pq.Array of []sql.NullFloat64 converts every element through reflection
// and driver.Valuer, and pq's array scanner allocates per element; these append and split bytes.

// float8Array is a float8[] literal of vals, NULL where valid is false (or the value is NaN or
// infinite). valid may be nil: every value is then sent.
func float8Array(vals []float64, valid []bool) string {
	b := make([]byte, 0, 2+len(vals)*20)
	b = append(b, '{')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		if (valid != nil && !valid[i]) || math.IsNaN(v) || math.IsInf(v, 0) {
			b = append(b, "NULL"...)
			continue
		}
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return string(append(b, '}'))
}

// int8Array is an int8[] literal of vals.
func int8Array(vals []int64) string {
	b := make([]byte, 0, 2+len(vals)*17)
	b = append(b, '{')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, v, 10)
	}
	return string(append(b, '}'))
}

// numberArray receives a one-dimensional int8[] or float8[] without NULLs (as array_agg of
// non-null values gives) as its text.
type numberArray []byte

// Scan keeps the text.
func (a *numberArray) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		*a = append((*a)[:0], v...)
	case string:
		*a = append((*a)[:0], v...)
	default:
		return fmt.Errorf("scanning an array: unexpected %T", src)
	}
	return nil
}

// elems returns the elements' texts: {} has none.
func (a numberArray) elems() ([][]byte, error) {
	b := bytes.TrimSpace(a)
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("not an array literal: %.40q", b)
	}
	b = b[1 : len(b)-1]
	if len(b) == 0 {
		return nil, nil
	}
	return bytes.Split(b, []byte{','}), nil
}

func (a numberArray) ints() ([]int64, error) {
	es, err := a.elems()
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(es))
	for i, e := range es {
		if out[i], err = strconv.ParseInt(string(e), 10, 64); err != nil {
			return nil, fmt.Errorf("array element %d: %w", i, err)
		}
	}
	return out, nil
}

func (a numberArray) floats() ([]float64, error) {
	es, err := a.elems()
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(es))
	for i, e := range es {
		if out[i], err = strconv.ParseFloat(string(e), 64); err != nil {
			return nil, fmt.Errorf("array element %d: %w", i, err)
		}
	}
	return out, nil
}
