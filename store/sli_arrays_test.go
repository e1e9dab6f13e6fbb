package store

import (
	"math"
	"testing"
)

// TestArrayLiterals: values survive the trip through the literals bit for bit; gaps, NaN and
// infinities are sent as NULL.
func TestArrayLiterals(t *testing.T) {
	vals := []float64{0.1, -2.5e-300, 1e300, 123456.789012345, math.NaN(), math.Inf(1), 7}
	valid := []bool{true, true, true, true, true, true, false}
	if got, want := float8Array(vals, valid), "{0.1,-2.5e-300,1e+300,123456.789012345,NULL,NULL,NULL}"; got != want {
		t.Errorf("float8Array = %s, want %s", got, want)
	}
	if got := int8Array([]int64{-1, 0, 1 << 62}); got != "{-1,0,4611686018427387904}" {
		t.Errorf("int8Array = %s", got)
	}
	fs, err := numberArray("{0.1,-2.5e-300,1e+300,123456.789012345}").floats()
	if err != nil || len(fs) != 4 || fs[0] != 0.1 || fs[1] != -2.5e-300 || fs[2] != 1e300 || fs[3] != 123456.789012345 {
		t.Errorf("floats = %v, %v", fs, err)
	}
	is, err := numberArray("{3,-4}").ints()
	if err != nil || len(is) != 2 || is[0] != 3 || is[1] != -4 {
		t.Errorf("ints = %v, %v", is, err)
	}
	if e, err := numberArray("{}").ints(); err != nil || len(e) != 0 {
		t.Errorf("empty array: %v, %v", e, err)
	}
	if _, err := numberArray("{1,NULL}").ints(); err == nil {
		t.Error("NULL element accepted")
	}
}
