package review

import (
	"testing"
	"time"
)

func TestRunbookStatus(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	maxAge := 90 * day
	at := func(d time.Duration) *time.Time { x := now.Add(-d); return &x }
	checked := at(time.Hour)
	tests := []struct {
		name string
		r    RunbookState
		want string
	}{
		{"no url is missing", RunbookState{}, RunbookMissing},
		{"javascript is broken", RunbookState{URL: "javascript:alert(1)", FirstSeen: now}, RunbookBroken},
		{"scheme-relative is broken", RunbookState{URL: "//evil.example/x", FirstSeen: now}, RunbookBroken},
		{"data is broken", RunbookState{URL: "data:text/html,<b>x</b>", FirstSeen: now}, RunbookBroken},
		{"leading space is broken", RunbookState{URL: " https://wiki/x", FirstSeen: now}, RunbookBroken},
		{"new and unchecked is ok", RunbookState{URL: "https://wiki/x", FirstSeen: now.Add(-day)}, RunbookOK},
		{"never touched, first seen long ago is stale", RunbookState{URL: "https://wiki/x", FirstSeen: now.Add(-91 * day)}, RunbookStale},
		{"exactly max age is not yet stale", RunbookState{URL: "https://wiki/x", FirstSeen: now.Add(-maxAge)}, RunbookOK},
		{"changed recently is ok", RunbookState{URL: "https://wiki/x", FirstSeen: now.Add(-400 * day), CheckedAt: checked, StatusCode: 200, LastModified: at(10 * day)}, RunbookOK},
		{"reviewed recently is ok", RunbookState{URL: "https://wiki/x", FirstSeen: now.Add(-400 * day), LastModified: at(300 * day), LastReviewed: at(day)}, RunbookOK},
		{"changed and reviewed long ago is stale", RunbookState{URL: "https://wiki/x", FirstSeen: now.Add(-400 * day), LastModified: at(300 * day), LastReviewed: at(100 * day)}, RunbookStale},
		{"a date wins over first seen even when older", RunbookState{URL: "https://wiki/x", FirstSeen: now.Add(-day), LastModified: at(200 * day)}, RunbookStale},
		{"404 is broken", RunbookState{URL: "https://wiki/x", FirstSeen: now, CheckedAt: checked, StatusCode: 404}, RunbookBroken},
		{"500 is broken", RunbookState{URL: "https://wiki/x", FirstSeen: now, CheckedAt: checked, StatusCode: 503}, RunbookBroken},
		{"unreachable is broken", RunbookState{URL: "https://wiki/x", FirstSeen: now, CheckedAt: checked, CheckError: "connection refused"}, RunbookBroken},
		{"broken wins over reviewed", RunbookState{URL: "https://wiki/x", FirstSeen: now, CheckedAt: checked, StatusCode: 410, LastReviewed: at(0)}, RunbookBroken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RunbookStatus(tt.r, now, maxAge); got != tt.want {
				t.Errorf("RunbookStatus = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUsableRunbookURL(t *testing.T) {
	for _, s := range []string{"https://wiki.example/runbooks/disk", "http://10.0.0.1:8080/x", "HTTPS://wiki.example/"} {
		if !UsableRunbookURL(s) {
			t.Errorf("UsableRunbookURL(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
		"java\tscript:alert(1)", "javascript://wiki.example/%0aalert(1)", "data:text/html;base64,PHNjcmlwdD4=",
		"//evil.example/x", "/relative", "file:///etc/passwd", "vbscript:msgbox", "https:evil.example",
		"http://", "ftp://wiki.example/x", "https://wiki.example/\nx"} {
		if UsableRunbookURL(s) {
			t.Errorf("UsableRunbookURL(%q) = true, want false", s)
		}
	}
}

func TestStalenessAndRisk(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	maxAge := 100 * day
	checked := now.Add(-time.Hour)
	tests := []struct {
		name      string
		r         RunbookState
		fires     int
		staleness float64
		risk      float64
	}{
		{"fresh", RunbookState{URL: "https://w/x", FirstSeen: now}, 10, 0, 0},
		{"half way", RunbookState{URL: "https://w/x", FirstSeen: now.Add(-50 * day)}, 4, 0.5, 2},
		{"twice max age", RunbookState{URL: "https://w/x", FirstSeen: now.Add(-200 * day)}, 3, 2, 6},
		{"never fired", RunbookState{URL: "https://w/x", FirstSeen: now.Add(-200 * day)}, 0, 2, 0},
		{"broken and new counts as two", RunbookState{URL: "https://w/x", FirstSeen: now, CheckedAt: &checked, StatusCode: 404}, 5, 2, 10},
		{"broken and old keeps its age", RunbookState{URL: "https://w/x", FirstSeen: now.Add(-300 * day), CheckedAt: &checked, StatusCode: 404}, 1, 4, 4},
		{"missing counts as two", RunbookState{FirstSeen: now}, 7, 2, 14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Staleness(tt.r, now, maxAge)
			if s != tt.staleness {
				t.Errorf("Staleness = %v, want %v", s, tt.staleness)
			}
			if r := RunbookRisk(tt.fires, s); r != tt.risk {
				t.Errorf("RunbookRisk(%d, %v) = %v, want %v", tt.fires, s, r, tt.risk)
			}
		})
	}
}

func TestRiskRisesWithFiresAndStaleness(t *testing.T) {
	if !(RunbookRisk(5, 1.5) > RunbookRisk(4, 1.5)) {
		t.Error("risk must rise with fires")
	}
	if !(RunbookRisk(5, 1.6) > RunbookRisk(5, 1.5)) {
		t.Error("risk must rise with staleness")
	}
}

func TestRankRunbooks(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	checked := now.Add(-time.Hour)
	in := []RankedRunbook{
		{RunbookState: RunbookState{URL: "https://w/ok", FirstSeen: now.Add(-day)}, Fires: 50},
		{RunbookState: RunbookState{URL: "https://w/stale", FirstSeen: now.Add(-180 * day)}, Fires: 3},
		{RunbookState: RunbookState{URL: "https://w/broken", FirstSeen: now, CheckedAt: &checked, StatusCode: 500}, Fires: 0},
		{RunbookState: RunbookState{URL: "https://w/quiet-stale", FirstSeen: now.Add(-180 * day)}, Fires: 0},
		{RunbookState: RunbookState{FirstSeen: now}, Alerts: []string{"NoBook"}, Fires: 2},
	}
	got := RankRunbooks(in, now, 90*day)
	var order []string
	for _, r := range got {
		order = append(order, r.Status+":"+r.URL)
	}
	want := []string{"stale:https://w/stale", "missing:", "ok:https://w/ok", "broken:https://w/broken", "stale:https://w/quiet-stale"}
	if len(order) != len(want) {
		t.Fatalf("order = %v", order)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order = %v, want %v", order, want)
		}
	}
}
