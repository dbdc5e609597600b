package worm

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/ipspace"
)

func TestCodeRedICalendar(t *testing.T) {
	d := func(s string) time.Time {
		tt, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tt
	}
	for _, tc := range []struct {
		at    string
		phase Phase
		next  string
	}{
		{"2001-07-19T10:00:00Z", Spread, "2001-07-20T00:00:00Z"},
		{"2001-07-19T23:59:59Z", Spread, "2001-07-20T00:00:00Z"},
		{"2001-07-20T00:00:00Z", Flood, "2001-07-28T00:00:00Z"},
		{"2001-07-27T23:00:00Z", Flood, "2001-07-28T00:00:00Z"},
		{"2001-07-28T00:00:00Z", Dormant, "2001-08-01T00:00:00Z"},
		{"2001-12-31T12:00:00Z", Dormant, "2002-01-01T00:00:00Z"},
		{"2001-08-01T00:00:00Z", Spread, "2001-08-20T00:00:00Z"},
		// A clock in another zone reads the same instant.
		{"2001-07-19T20:00:00-05:00", Flood, "2001-07-28T00:00:00Z"},
	} {
		p, next := CodeRedI{}.At(d(tc.at))
		if p != tc.phase || !next.Equal(d(tc.next)) {
			t.Errorf("At(%s) = %v, %v; want %v, %s", tc.at, p, next, tc.phase, tc.next)
		}
	}
}

func TestStaticSeedSharedList(t *testing.T) {
	g := StaticSeed{Seed: 7}.Generator(20)
	rng := rand.New(rand.NewPCG(1, 1))
	var c1, c2 uint64
	// Two copies on different hosts see the same list in the same order.
	for range 100 {
		a, b := g.Next(1, &c1, rng), g.Next(2, &c2, rng)
		if a != b && a != 2 && b != 1 {
			t.Fatalf("copies diverge: %v vs %v", a, b)
		}
		if a >= 1<<20 {
			t.Fatalf("target %v outside a 2^20 space", a)
		}
	}
}

func TestUniformNeverSelf(t *testing.T) {
	// In a 2-address space every draw of the source is redrawn.
	g := Uniform{}.Generator(1)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		if a := g.Next(ipspace.Addr(1), nil, rng); a != 0 {
			t.Fatalf("target %v, want 0", a)
		}
	}
}

func TestLocalPreferenceLaw(t *testing.T) {
	// 1e6 draws from a source at 24.1.2.3 with Code Red II's mix and
	// exclusions: the shares landing in the same /16, the same /8 (outside
	// the /16) and elsewhere must be 3/8 + 1/8*2^-16 + 4/8*2^-8, 4/8*(1-2^-8)
	// + 1/8*(2^-8-2^-16), and the rest. Standard error of a share is at most
	// sqrt(0.25/1e6) = 5e-4; 5 sd = 2.5e-3.
	l := LocalPreference{Mix: CodeRedIIMix, Skip: AddressFilter{Exclude: CodeRedIIExclude}}
	if err := l.Check(32); err != nil {
		t.Fatal(err)
	}
	g := l.Generator(32)
	rng := rand.New(rand.NewPCG(1, 3))
	src := ipspace.MustParseAddr("24.1.2.3")
	s16, s8 := ipspace.MustParsePrefix("24.1.0.0/16"), ipspace.MustParsePrefix("24.0.0.0/8")
	var in16, in8, bad float64
	const n = 1000000
	for range n {
		a := g.Next(src, nil, rng)
		switch {
		case a == src || !l.Skip.Allowed(a):
			bad++
		case s16.Contains(a):
			in16++
		case s8.Contains(a):
			in8++
		}
	}
	if bad > 0 {
		t.Fatalf("%v draws on excluded addresses or the source", bad)
	}
	// Uniform draws land in 24/8 with probability 2^24/allowed, allowed =
	// 2^32 - 2^24 (127/8) - 2^29 (224/3).
	allowed := float64(1<<32 - 1<<24 - 1<<29)
	want16 := 3.0/8 + 4.0/8/256 + 1.0/8*65536/allowed
	want8 := 4.0/8*(1-1.0/256) + 1.0/8*(1<<24-1<<16)/allowed
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"same /16", in16 / n, want16}, {"same /8", in8 / n, want8}} {
		if d := c.got - c.want; d > 2.5e-3 || d < -2.5e-3 {
			t.Errorf("%s: share %.4f, want %.4f", c.name, c.got, c.want)
		}
	}
}

func TestCountAllowed(t *testing.T) {
	f := AddressFilter{Exclude: CodeRedIIExclude, SkipZero255: true}
	for _, tc := range []struct {
		p    string
		want uint64
	}{
		{"0.0.0.0/0", (1<<32 - 1<<24 - 1<<29) / 256 * 254},
		{"127.0.0.0/8", 0},
		{"24.0.0.0/8", 1 << 16 * 254},
		{"24.1.2.0/24", 254},
		{"24.1.2.0/25", 127},
		{"240.0.0.0/4", 0},
	} {
		if got := f.CountAllowed(ipspace.MustParsePrefix(tc.p)); got != tc.want {
			t.Errorf("CountAllowed(%s) = %d, want %d", tc.p, got, tc.want)
		}
	}
}
