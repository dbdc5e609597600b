package observe

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/raceflag"
	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/stattest"
	"github.com/wormlab/wormlab/internal/worm"
)

// scaledOutbreak: 4,000 hosts in a 2^20 space, none in its top 1/16 (the
// telescope's side), 1 probe a second, 10 initially infected.
func scaledOutbreak(t *testing.T) *sim.Config {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	hosts, err := ipspace.PlaceUniform(4000, []ipspace.Prefix{ipspace.PrefixFrom(0, 13), ipspace.PrefixFrom(0x80000, 14), ipspace.PrefixFrom(0xc0000, 15)}, rng)
	if err != nil {
		t.Fatal(err)
	}
	rates := make([]float64, len(hosts))
	for i := range rates {
		rates[i] = 1
	}
	return &sim.Config{
		Start: t0, Duration: 1800 * time.Second, Step: 10 * time.Second, SpaceBits: 20,
		Hosts: hosts, Rates: rates, Initial: []int32{0, 400, 800, 1200, 1600, 2000, 2400, 2800, 3200, 3600},
		Strategy: worm.Uniform{}, Calendar: worm.Always{},
	}
}

// TestTelescopeMatchesProbes: what the event engine's telescope observer
// reports (drawn from rates) against what the probe engine's telescope
// counts probe by probe, over 200 seeds each: the running count of sources
// seen, the sources and new sources of one bin, must not differ in law
// (two-sample KS, alpha = 0.01, as the engines' own equivalence test).
func TestTelescopeMatchesProbes(t *testing.T) {
	if raceflag.Enabled {
		t.Skip("heavy and single-threaded: runs without -race")
	}
	runs := 200
	if testing.Short() {
		runs = 20 // for the race detector; the KS test is weak here
	}
	c := scaledOutbreak(t)
	block, err := DarkBlock(c)
	if err != nil {
		t.Fatal(err)
	}
	const row = 120 // 1,200 s
	var seen, src, fresh, probes [2][]float64
	for s := range runs {
		cc := *c
		tel, err := NewTelescope(&cc, block, uint64(s))
		if err != nil {
			t.Fatal(err)
		}
		cc.Observers = []sim.Observer{tel}
		if _, err := sim.RunEvent(&cc, uint64(s)); err != nil {
			t.Fatal(err)
		}
		rows := tel.Rows()
		seen[0] = append(seen[0], float64(rows[row].Seen))
		src[0] = append(src[0], float64(rows[row].Sources))
		fresh[0] = append(fresh[0], float64(rows[row].NewSources))
		probes[0] = append(probes[0], float64(rows[row].Probes))

		pc := *c
		pc.ProbeTelescope = block
		r, err := sim.RunProbe(&pc, uint64(5000+s))
		if err != nil {
			t.Fatal(err)
		}
		var cum int64
		for _, tc := range r.Telescope[:row+1] {
			cum += tc.NewSources
		}
		seen[1] = append(seen[1], float64(cum))
		src[1] = append(src[1], float64(r.Telescope[row].Sources))
		fresh[1] = append(fresh[1], float64(r.Telescope[row].NewSources))
		probes[1] = append(probes[1], float64(r.Telescope[row].Probes))
	}
	for _, st := range []struct {
		name string
		x    [2][]float64
	}{{"sources seen by 1,200 s", seen}, {"sources in the bin", src}, {"new sources in the bin", fresh}, {"probes in the bin", probes}} {
		d, p := stattest.KS2(st.x[0], st.x[1])
		t.Logf("%s: observer mean %.2f, probe engine mean %.2f, KS D = %.3f, p = %.3f", st.name, mean(st.x[0]), mean(st.x[1]), d, p)
		if p < 0.01 {
			t.Errorf("%s: observer and probe engine disagree, KS p = %.4f", st.name, p)
		}
	}
}

// TestTelescopeStaticPopulation: with every host infected from the start
// and nobody left to infect, host h is first seen by time t with
// probability 1 - exp(-lambda t), lambda = r/256 for a block of 1/256 of
// the space: at 600 s, 4,000 * (1 - e^-2.34) = 3,615 hosts. The count is
// binomial, sd 19; 5 sd.
func TestTelescopeStaticPopulation(t *testing.T) {
	if raceflag.Enabled {
		t.Skip("heavy and single-threaded: runs without -race")
	}
	c := scaledOutbreak(t)
	c.Initial = nil
	for i := range c.Hosts {
		c.Initial = append(c.Initial, int32(i))
	}
	block, _ := DarkBlock(c)
	tel, err := NewTelescope(c, block, 1)
	if err != nil {
		t.Fatal(err)
	}
	c.Observers = []sim.Observer{tel}
	if _, err := sim.RunEvent(c, 1); err != nil {
		t.Fatal(err)
	}
	rows := tel.Rows()
	lambda := 1.0 * 4096 / (1<<20 - 1)
	want := 4000 * (1 - math.Exp(-lambda*600))
	sd := math.Sqrt(want * (1 - want/4000))
	if got := float64(rows[60].Seen); math.Abs(got-want) > 5*sd {
		t.Errorf("seen by 600 s: %v, want %.0f +- %.0f", got, want, 5*sd)
	}
	// Late bins: all seen; sources a bin ~ Binomial(4000, 1-e^{-10 lambda}).
	var s float64
	for _, r := range rows[150:] {
		s += float64(r.Sources)
	}
	s /= float64(len(rows[150:]))
	p := 1 - math.Exp(-10*lambda)
	if want, sd := 4000*p, math.Sqrt(4000*p*(1-p)/31); math.Abs(s-want) > 5*sd {
		t.Errorf("sources a bin late on: mean %.1f, want %.1f +- %.1f", s, want, 5*sd)
	}
}

func TestTelescopeMustBeDark(t *testing.T) {
	c := scaledOutbreak(t)
	if _, err := NewTelescope(c, ipspace.PrefixFrom(0, 20), 1); err == nil {
		t.Error("a block holding hosts was accepted as a telescope")
	}
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
