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
			// The log spans Nimda's start, so that root.exe and cmd.exe
			// probes are the sadmind/IIS worm's before it and Nimda's after.
			Format: format, Seed: 3, Start: NimdaStart.Add(-4 * time.Hour), Duration: 14 * time.Hour,
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
			counted := c.Signatures[k.kind].Probes
			if before := c.Signatures[strings.Replace(k.kind, "nimda-", "sadmind-", 1)]; strings.HasPrefix(k.kind, "nimda-") {
				if before.Probes == 0 || counted == 0 {
					t.Errorf("%s: %d %s before Nimda and %d after; want some of each", format, before.Probes, k.kind, counted)
				}
				counted += before.Probes
			}
			if n := strings.Count(text, marker); n != probes[k.kind] || counted != probes[k.kind] {
				t.Errorf("%s: %q appears %d times, counts say %d, asked %d", format, marker, n, counted, probes[k.kind])
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

// TestGrowth checks that with Growth the probes follow the logistic curve:
// with K = 1.8/h and the midpoint at 7 h of 14, the share of probes in the
// first half is (softplus(0) - softplus(-12.6)) / (softplus(12.6) -
// softplus(-12.6)) = 0.693/12.6 = 0.055, so about 110 of 2000 (binomial
// sigma 10; the bound of 60-170 is 5 sigma and leaves room for the
// sampler's approximation of the remaining weight). Evenly spread probes
// would put 1000 there.
func TestGrowth(t *testing.T) {
	var buf bytes.Buffer
	c, err := Generate(&buf, Config{
		Format: Fallback, Seed: 11, Start: time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC), Duration: 14 * time.Hour,
		Lines: 20000, Probes: map[string]int{"codered2": 2000}, Sources: map[string]int{"codered2": 1000}, Growth: 1.8,
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	early := strings.Count(strings.Join(lines[:len(lines)/2], "\n"), "default.ida?XXXX")
	if total := strings.Count(buf.String(), "default.ida?XXXX"); total != 2000 || c.Signatures["codered2"].Probes != 2000 {
		t.Fatalf("%d probes written, %d counted, want 2000", total, c.Signatures["codered2"].Probes)
	}
	if early < 60 || early > 170 {
		t.Errorf("%d of 2000 probes in the first half, want about 110", early)
	}
	t.Logf("%d of 2000 probes in the first half, %d sources", early, c.Signatures["codered2"].Sources)
	// Only infected hosts probe, so fewer than the pool show up early.
	if s := c.Signatures["codered2"].Sources; s < 500 || s > 1000 {
		t.Errorf("%d distinct sources of a pool of 1000", s)
	}
}
