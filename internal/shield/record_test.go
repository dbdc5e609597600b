package shield

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/series"
)

// TestSeriesFileAsItGoes checks that the series file holds every finished
// minute a few seconds after it ends, quiet minutes included, so that a
// crash loses at most the minute under way, and that shutdown adds that
// last minute.
func TestSeriesFileAsItGoes(t *testing.T) {
	clock := newFakeClock() // 12:00:30
	rec := newRecorder()
	path := filepath.Join(t.TempDir(), "probes.csv")
	f, err := startSeriesFile(path, rec, clock)
	if err != nil {
		t.Fatal(err)
	}
	probes := func() []int64 {
		t.Helper()
		file, err := os.Open(path)
		if err != nil {
			t.Fatalf("the series file is not there: %v", err)
		}
		defer file.Close()
		s, err := series.Read(file, path)
		if err != nil {
			t.Fatal(err)
		}
		var n []int64
		for _, p := range s.Points {
			n = append(n, p.Probes)
		}
		return n
	}
	check := func(when string, want ...int64) {
		t.Helper()
		got := probes()
		if len(got) != len(want) {
			t.Fatalf("%s: the file holds %v probes a minute, want %v", when, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: the file holds %v probes a minute, want %v", when, got, want)
			}
		}
	}
	a := netip.MustParseAddr("192.0.2.1").As16()
	b := netip.MustParseAddr("192.0.2.2").As16()

	check("at start-up")
	rec.add(a, clock.Now())
	rec.add(b, clock.Now())
	clock.Advance(seriesEvery) // 12:00:35: minute 12:00 still under way
	check("during the first minute")
	clock.Advance(30 * time.Second) // 12:01:05
	rec.add(a, clock.Now())
	clock.Advance(seriesEvery) // 12:01:10: 12:00 is over
	check("after the first minute", 2)
	clock.Advance(2 * time.Minute) // 12:03:10, no probes since 12:01:05
	clock.Advance(seriesEvery)
	check("after two more minutes, one of them quiet", 2, 1, 0)
	if err := f.close(); err != nil {
		t.Fatal(err)
	}
	check("at shutdown", 2, 1, 0, 0)
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}
