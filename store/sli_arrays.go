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

// eachElem calls fn with each element's text of a one-dimensional Postgres array literal of
// numbers ({1.5,NULL,-2e-05}: no quoting), in order; {} has none.
func eachElem(b []byte, fn func(k int, el []byte) error) error {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return fmt.Errorf("not an array literal: %.40q", b)
	}
	b = b[1 : len(b)-1]
	for k := 0; len(b) > 0; k++ {
		j := bytes.IndexByte(b, ',')
		if j < 0 {
			j = len(b)
		}
		if err := fn(k, b[:j]); err != nil {
			return fmt.Errorf("array element %d: %w", k, err)
		}
		if j == len(b) {
			break
		}
		b = b[j+1:]
	}
	return nil
}

// eachFloat calls fn with each element of a float8[] literal, in order; null for NULL.
func eachFloat(b []byte, fn func(k int, v float64, null bool)) error {
	return eachElem(b, func(k int, el []byte) error {
		if string(el) == "NULL" {
			fn(k, 0, true)
			return nil
		}
		v, err := strconv.ParseFloat(string(el), 64)
		if err != nil {
			return err
		}
		fn(k, v, false)
		return nil
	})
}

func (a numberArray) ints() ([]int64, error) {
	var out []int64
	err := eachElem(a, func(_ int, el []byte) error {
		v, err := strconv.ParseInt(string(el), 10, 64)
		out = append(out, v)
		return err
	})
	return out, err
}

func (a numberArray) floats() ([]float64, error) {
	var out []float64
	err := eachElem(a, func(_ int, el []byte) error {
		v, err := strconv.ParseFloat(string(el), 64)
		out = append(out, v)
		return err
	})
	return out, err
}
