package logsynth

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestCounts checks the generator's account against the text it wrote,
// counted independently with strings.Count.
func TestCounts(t *testing.T) {
	probes := map[string]int{"codered1": 37, "codered2": 23, "codered-unknown": 5, "nimda-root-exe": 11, "nimda-cmd-exe": 13}
	for _, format := range []string{Combined, Common, IIS, IISStripped, Fallback} {
		var buf bytes.Buffer
		c, err := Generate(&buf, Config{
			Format: format, Seed: 3, Start: time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC), Duration: 14 * time.Hour,
			Lines: 1000, Probes: probes, Junk: 3,
		})
		if err != nil {
			t.Fatal(err)
		}
		text := buf.String()
		if n := strings.Count(text, "\n"); n != c.Lines {
			t.Errorf("%s: %d lines written, counts say %d", format, n, c.Lines)
		}
		if format == IISStripped {
			if got := c.Signatures["codered-unknown"].Probes; got != 37+23+5 {
				t.Errorf("%s: %d unknown Code Red, want all 65", format, got)
			}
			continue
		}
		for _, k := range []struct {
			kind, marker string
		}{{"codered1", "default.ida?NNNN"}, {"codered2", "default.ida?XXXX"}, {"codered-unknown", "default.ida?AAAA"}, {"nimda-root-exe", "root.exe"}, {"nimda-cmd-exe", "cmd.exe"}} {
			marker := k.marker
			if format == IIS {
				marker = strings.Replace(marker, "?", " ", 1) // stem and query are columns
			}
			if n := strings.Count(text, marker); n != probes[k.kind] || c.Signatures[k.kind].Probes != probes[k.kind] {
				t.Errorf("%s: %q appears %d times, counts say %d, asked %d", format, marker, n, c.Signatures[k.kind].Probes, probes[k.kind])
			}
			if s := c.Signatures[k.kind].Sources; s < 1 || s > probes[k.kind] {
				t.Errorf("%s: %s from %d sources", format, k.kind, s)
			}
		}
	}
	if _, err := Generate(&bytes.Buffer{}, Config{Format: Combined, Lines: 1, Probes: map[string]int{"codered1": 2}}); err == nil {
		t.Error("2 probes in 1 line accepted")
	}
	if _, err := Generate(&bytes.Buffer{}, Config{Format: Combined, Lines: 9, Probes: map[string]int{"slammer": 1}}); err == nil {
		t.Error("unknown kind accepted")
	}
}
