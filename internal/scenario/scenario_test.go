package scenario

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/sim"
)

func TestBuiltinsParseAndBuild(t *testing.T) {
	names := Names()
	if len(names) < 3 || !contains(names, Default) {
		t.Fatalf("built-ins %v lack the default %q", names, Default)
	}
	for _, name := range names {
		s, err := Builtin(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Name != name {
			t.Errorf("file %s names itself %q", name, s.Name)
		}
		c, err := s.Build(1)
		if err != nil {
			t.Fatalf("%s: build: %v", name, err)
		}
		if len(c.Hosts) != s.Population.Size || len(c.Initial) != s.Worm.InitialInfected {
			t.Errorf("%s: %d hosts, %d initial", name, len(c.Hosts), len(c.Initial))
		}
	}
}

func TestDefaultScenarioValues(t *testing.T) {
	s, err := Builtin(Default)
	if err != nil {
		t.Fatal(err)
	}
	if s.Population.Size != 360000 || s.Space.Bits != 32 || s.Run.End.Sub(s.Run.Start) != 14*time.Hour {
		t.Errorf("default scenario: %+v", s)
	}
	c, _ := s.Build(1)
	// Every host must lie in a /8 allocated by July 2001 (so never in
	// 10/8, 127/8 or multicast).
	for _, h := range c.Hosts {
		if b := uint8(h >> 24); b == 10 || b == 127 || b >= 224 || b == 0 {
			t.Fatalf("host %v in reserved space", h)
		}
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	s, _ := Builtin(Default)
	a, _ := s.Build(5)
	b, _ := s.Build(5)
	c, _ := s.Build(6)
	if a.Hosts[1000] != b.Hosts[1000] || a.Initial[0] != b.Initial[0] {
		t.Error("same seed, different layout")
	}
	if a.Hosts[1000] == c.Hosts[1000] {
		t.Error("different seeds, same layout")
	}
}

func TestScanRateSpread(t *testing.T) {
	src := strings.Replace(string(mustBuiltinSource(t)), "scan_rate_cv = 0.0", "scan_rate_cv = 0.5", 1)
	s, err := Parse([]byte(src), "cv.toml")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := s.Build(3)
	var sum, sq float64
	for _, r := range c.Rates {
		sum += r
		sq += r * r
	}
	n := float64(len(c.Rates))
	mean := sum / n
	cv := (sq/n - mean*mean)
	cv = sqrt(cv) / mean
	// 360,000 gamma draws: the mean's relative standard error is
	// 0.5/sqrt(360000) = 8e-4, the cv's about 1e-3; 5e-3 is over 5 sd.
	if d := mean/5.9667 - 1; d > 5e-3 || d < -5e-3 {
		t.Errorf("mean rate %v, want 5.9667", mean)
	}
	if d := cv - 0.5; d > 5e-3 || d < -5e-3 {
		t.Errorf("cv %v, want 0.5", cv)
	}
}

func sqrt(x float64) float64 {
	z := x
	for range 50 {
		z = (z + x/z) / 2
	}
	return z
}

func mustBuiltinSource(t *testing.T) []byte {
	t.Helper()
	b, err := builtinFS.ReadFile("builtin/" + Default + ".toml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBadScenarios walks testdata/bad/*.toml; each file's first line is a
// comment holding the exact error expected.
func TestBadScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.toml")
	if len(files) < 8 {
		t.Fatalf("only %d bad scenarios", len(files))
	}
	for _, f := range files {
		src, _ := os.ReadFile(f)
		first, _, _ := strings.Cut(string(src), "\n")
		want := strings.TrimSpace(strings.TrimPrefix(first, "#"))
		_, err := Parse(src, f)
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("%s: err = %v, want a scenario.Error", f, err)
			continue
		}
		if err.Error() != want {
			t.Errorf("%s:\n got  %s\n want %s", f, err, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(mustBuiltinSource(&testing.T{}))
	files, _ := filepath.Glob("testdata/bad/*.toml")
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse(src, "fuzz.toml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.toml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if s.Population.Size <= 1<<16 {
			if _, err := s.Build(1); err != nil {
				t.Fatalf("valid scenario fails to build: %v", err)
			}
		}
	})
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// TestContainmentBuild checks what the defence built-ins build: the
// throttle caps about half the hosts (share 0.5 of 360,000: sd 8e-4, so
// 5 sd is 0.004), egress filtering falls on about 30% of the 65,536 /16s
// (sd 0.0018; 5 sd 0.009), the backbone deployment picks the providers
// with the most hosts, and the reaction times arrive in seconds.
func TestContainmentBuild(t *testing.T) {
	build := func(name string) *sim.Config {
		s, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.Build(1)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := build("codered-v2-throttle")
	capped := 0
	for _, r := range c.Rates {
		if r == 1 {
			capped++
		}
	}
	if got := float64(capped) / float64(len(c.Rates)); math.Abs(got-0.5) > 0.004 {
		t.Errorf("throttled share %.4f, want 0.5", got)
	}
	c = build("codered-v2-egress")
	if k := c.Containment; k == nil || k.NetworkBits != 16 || len(k.Egress) != 1<<16 || k.Deployed != nil {
		t.Fatalf("egress containment %+v", k)
	}
	n := 0
	for _, e := range c.Containment.Egress {
		if e {
			n++
		}
	}
	if got := float64(n) / (1 << 16); math.Abs(got-0.3) > 0.009 {
		t.Errorf("egress-filtering share %.4f, want 0.3", got)
	}
	c = build("codered-v2-blacklist")
	if k := c.Containment; k == nil || !k.Blacklist || k.BlacklistDelay != 1200 || k.Deployed != nil || k.Content {
		t.Errorf("blacklist containment %+v", k)
	}
	c = build("codered-v2-content-filter-backbone")
	k := c.Containment
	if k == nil || !k.Content || k.ContentDelay != 7200 || k.ContentAfterFirst || k.NetworkBits != 8 {
		t.Fatalf("backbone containment %+v", k)
	}
	hosts := make([]int, 256)
	for _, a := range c.Hosts {
		hosts[a>>24]++
	}
	held, deployed, minIn, maxOut := 0, 0, len(c.Hosts), 0
	for p, h := range hosts {
		if h > 0 {
			held++
		}
		if k.Deployed[p] {
			deployed++
			minIn = min(minIn, h)
		} else {
			maxOut = max(maxOut, h)
		}
	}
	if deployed != int(math.Round(0.2*float64(held))) || minIn < maxOut {
		t.Errorf("%d of %d providers filter (want a fifth); the smallest holds %d hosts, the largest open one %d", deployed, held, minIn, maxOut)
	}
}

// TestDiurnalBuild: the day/night cycle's draws follow the shares, and
// the initial copies sit on hosts that stay on. Over 20,000 hosts a share
// of 0.3 has a binomial sd of 0.0032; 4 sd (0.013) is the bound, which a
// share drawn from the wrong parameter (0.5, or the zone's 0.25) exceeds
// many times over.
func TestDiurnalBuild(t *testing.T) {
	src := `name = "diurnal"
[run]
start = 2001-07-19T10:00:00Z
end = 2001-07-20T00:00:00Z
[space]
bits = 20
[population]
size = 20000
[worm]
scan_rate = 1.0
initial_infected = 50
[population.diurnal]
share = 0.3
on = "8h"
off = "18h"
zones = [{ utc_offset = "-4h", share = 0.25 }, { utc_offset = "9h", share = 0.75 }]
`
	s, err := Parse([]byte(src), "diurnal.toml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Build(7)
	if err != nil {
		t.Fatal(err)
	}
	d := c.Diurnal
	if d == nil || d.On != 8*3600 || d.Off != 18*3600 || d.AfterOff != sim.Susceptible {
		t.Fatalf("cycle %+v", d)
	}
	var cycling, east float64
	for i := range c.Hosts {
		if d.Cycles[i] {
			cycling++
		}
		switch d.Zone[i] {
		case -4 * 3600:
			east++
		case 9 * 3600:
		default:
			t.Fatalf("host %d in zone %v s", i, d.Zone[i])
		}
	}
	n := float64(len(c.Hosts))
	if got := cycling / n; math.Abs(got-0.3) > 0.013 {
		t.Errorf("%.3f of the hosts cycle, want 0.3", got)
	}
	if got := east / n; math.Abs(got-0.25) > 4*math.Sqrt(0.25*0.75/n) {
		t.Errorf("%.3f of the hosts in UTC-4, want 0.25", got)
	}
	for _, h := range c.Initial {
		if d.Cycles[h] {
			t.Errorf("initial host %d is switched off at night", h)
		}
	}
}
