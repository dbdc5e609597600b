package observe

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/fit"
	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/worm"
)

// TestFitCoversKOnTelescopeSeries (issue 5): fitted to 100 telescope
// series from engine runs, the logistic's 95% interval for K covers the
// true K = r N / |space| in at least 90. Outbreaks of 20,000 hosts in 2^24
// addresses at 5 probes a second (K = 21.5 an hour), starting from 50
// hosts, seen by a telescope on 1/16 of the space: a host is first seen
// about 3 s after its infection, against 1/K = 167 s, so the seen curve
// is the infected one. At the nominal 95%, fewer than 90 of 100 happen
// with probability 2.8% (binomial); the seeds are fixed, so the test
// always passes or always fails.
//
// What the log line shows: the profile-likelihood intervals treat the new
// sources as Poisson around a smooth curve, but the outbreak's own path is
// random too, so the estimates spread about 15% wider than the intervals
// imply and the real coverage is near 91%, not 95%. fit.ProfileIntervals,
// which `fit` prints under its estimates, says so; `fit --model sim`,
// whose bootstrap simulates the path, is the remedy when that matters.
func TestFitCoversKOnTelescopeSeries(t *testing.T) {
	if testing.Short() {
		t.Skip("100 runs and fits")
	}
	const n, bits, r = 20000, 24, 5.0
	trueK := r * n / math.Exp2(bits) * 3600
	rng := rand.New(rand.NewPCG(11, 11))
	hosts, err := ipspace.PlaceUniform(n, []ipspace.Prefix{ipspace.PrefixFrom(0, 9)}, rng) // the lower half
	if err != nil {
		t.Fatal(err)
	}
	rates := make([]float64, n)
	for i := range rates {
		rates[i] = r
	}
	var initial []int32
	for i := range 50 {
		initial = append(initial, int32(i*400))
	}
	covered := 0
	var ks, halves []float64
	for s := range uint64(100) {
		c := &sim.Config{Start: t0, Duration: 3 * time.Hour, Step: time.Minute, SpaceBits: bits,
			Hosts: hosts, Rates: rates, Initial: initial, Strategy: worm.Uniform{}, Calendar: worm.Always{}}
		tel, err := NewTelescope(c, ipspace.PrefixFrom(0xf00000, 12), s) // the top 1/16
		if err != nil {
			t.Fatal(err)
		}
		c.Observers = []sim.Observer{tel}
		if _, err := sim.RunEvent(c, s); err != nil {
			t.Fatal(err)
		}
		o, err := fit.FromSeries(tel.Series(c.Start), "telescope")
		if err != nil {
			t.Fatal(err)
		}
		res, err := fit.Logistic(o, 1)
		if err != nil {
			t.Fatalf("seed %d: %v", s, err)
		}
		k := res.Params[0].Value
		if k.Lo <= trueK && trueK <= k.Hi {
			covered++
		}
		ks = append(ks, k.Est)
		halves = append(halves, (k.Hi-k.Lo)/2/1.96)
	}
	t.Logf("the 95%% interval covered K = %.2f in %d of 100 series; estimates' sd %.3f, mean of the intervals' implied sd %.3f",
		trueK, covered, sd(ks), mean(halves))
	if covered < 90 {
		t.Errorf("covered the true K in %d of 100 series, want at least 90", covered)
	}
}

func sd(xs []float64) float64 {
	m := mean(xs)
	var s float64
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(xs)-1))
}
