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
