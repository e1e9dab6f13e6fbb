package config

import (
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  time.Duration
		print string
	}{
		{"90s", 90 * time.Second, "1m30s"},
		{"5m", 5 * time.Minute, "5m"},
		{"8w", 8 * week, "8w"},
		{"56d", 56 * day, "8w"},
		{"400d", 400 * day, "400d"},
		{"1h30m", 90 * time.Minute, "1h30m"},
		{"20h", 20 * time.Hour, "20h"},
		{"1y", 365 * day, "1y"},
		{"0", 0, "0s"},
	} {
		var d Duration
		if err := yaml.Unmarshal([]byte(tc.in), &d); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if d.D() != tc.want {
			t.Errorf("%s = %v, want %v", tc.in, d.D(), tc.want)
		}
		if d.String() != tc.print {
			t.Errorf("%s prints as %q, want %q", tc.in, d.String(), tc.print)
		}
		out, err := yaml.Marshal(d)
		if err != nil || string(out) != tc.print+"\n" {
			t.Errorf("%s marshals as %q (%v), want %q", tc.in, out, err, tc.print)
		}
		var back Duration
		if err := yaml.Unmarshal(out, &back); err != nil || back != d {
			t.Errorf("%s does not round-trip: %v %v", tc.in, back, err)
		}
	}
	for _, bad := range []string{"5", "5 m", "-5m", "5M", "1.5h", "m", "5m1h", "[5m]"} {
		var d Duration
		if err := yaml.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%q parsed as %v, want an error", bad, d)
		}
	}
}

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  ByteSize
		print string
	}{
		{"32MiB", 32 << 20, "32MiB"},
		{"512KiB", 512 << 10, "512KiB"},
		{"1GiB", 1 << 30, "1GiB"},
		{"10MB", 10_000_000, "10000000B"},
		{"1KB", 1000, "1000B"},
		{"1024", 1024, "1KiB"},
		{"1536KiB", 1536 << 10, "1536KiB"},
		{"7B", 7, "7B"},
		{"32 MiB", 32 << 20, "32MiB"},
		{"0", 0, "0B"},
	} {
		got, err := ParseByteSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			continue
		}
		if got.String() != tc.print {
			t.Errorf("%q prints as %q, want %q", tc.in, got.String(), tc.print)
		}
		var fromYAML ByteSize
		if err := yaml.Unmarshal([]byte(tc.in), &fromYAML); err != nil || fromYAML != tc.want {
			t.Errorf("YAML %q = %d, %v", tc.in, fromYAML, err)
		}
		if back, err := ParseByteSize(got.String()); err != nil || back != got {
			t.Errorf("%q does not round-trip: %d %v", tc.in, back, err)
		}
	}
	for _, bad := range []string{"", "MiB", "-1MiB", "1.5MiB", "32mib", "32M", "9999999999GiB"} {
		if got, err := ParseByteSize(bad); err == nil {
			t.Errorf("ParseByteSize(%q) = %d, want an error", bad, got)
		}
	}
}
