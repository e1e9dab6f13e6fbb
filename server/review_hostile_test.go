package server

import (
	"strings"
	"testing"

	"github.com/opsreview/opsreview/config"
)

// xssURLs are runbook and generator URLs that must never become links.
var xssURLs = []string{
	"javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
	"javascript&colon;alert(1)", "&#106;avascript:alert(1)", "vbscript:msgbox(1)", "data:text/html,<script>alert(1)</script>",
	"//evil.example/x", "file:///etc/passwd", "/relative/path", "https:evil.example", "\u202ehttps://evil.example",
}

func TestRunbookOfRefusesEverythingButHTTP(t *testing.T) {
	s := &Server{cfg: &config.Config{Runbooks: config.Runbooks{Annotations: []string{"runbook_url", "runbook"}}}}
	for _, u := range xssURLs {
		got := s.runbookOf(map[string]string{"runbook_url": u})
		if got.Status != runbookBroken || safeURL(got.URL) != "" {
			t.Errorf("%q: %+v, want broken and never a link", u, got)
		}
	}
	if got := s.runbookOf(map[string]string{"runbook": "https://wiki.internal/disk"}); got.Status != runbookUnknown || got.URL != "https://wiki.internal/disk" {
		t.Errorf("second annotation name: %+v", got)
	}
	if got := s.runbookOf(map[string]string{"summary": "x"}); got.Status != runbookMissing || got.URL != "" {
		t.Errorf("no runbook: %+v", got)
	}
}

func TestSilenceURL(t *testing.T) {
	if got := silenceURL("http://am.example:9093/", `Disk"Full`); got != `http://am.example:9093/#/silences/new?filter=%7Balertname%3D%22Disk%5C%22Full%22%7D` {
		t.Errorf("silence URL %q", got)
	}
	for _, u := range xssURLs {
		if got := silenceURL(u, "A"); got != "" {
			t.Errorf("Alertmanager at %q gave a silence link %q", u, got)
		}
	}
}

func TestMarkdownTextIsInert(t *testing.T) {
	for _, in := range []string{"<script>alert(1)</script>", "[x](javascript:alert(1))", "a|b\n# heading", "\u202eevil", "![img](http://x)"} {
		out := md(in)
		// Every markup character is escaped with a backslash: drop the escaped pairs and none is left.
		var bare strings.Builder
		for i := 0; i < len(out); i++ {
			if out[i] == '\\' {
				i++
				continue
			}
			bare.WriteByte(out[i])
		}
		if strings.ContainsAny(bare.String(), "<>[]()|#!\n\u202e") {
			t.Errorf("md(%q) = %q leaves markup unescaped: %q", in, out, bare.String())
		}
	}
}
