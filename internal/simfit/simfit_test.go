package simfit

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/fit"
	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/worm"
)

// observed simulates an outbreak of n hosts at rate r in 2^24 addresses and
// returns what an observer seeing each infection with probability cov
// records, per 10-minute bin over 14 hours.
func observed(t *testing.T, n int, r, cov float64, seed uint64) fit.Obs {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	hosts, _ := ipspace.PlaceUniform(n, []ipspace.Prefix{ipspace.PrefixFrom(0, 8)}, rng)
	rates := make([]float64, n)
	for i := range rates {
		rates[i] = r
	}
	start := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	c := &sim.Config{Start: start, Duration: 14 * time.Hour, Step: 10 * time.Minute, SpaceBits: 24,
		Hosts: hosts, Rates: rates, Initial: []int32{0}, Strategy: worm.Uniform{}, Calendar: worm.Always{}}
	res, err := sim.RunEvent(c, seed)
	if err != nil {
		t.Fatal(err)
	}
	o := fit.Obs{Start: start, Width: 1.0 / 6}
	for m, row := range res.Rows[1:] {
		k := row.NewInfections
		if m == 0 {
			k++
		}
		y := float64(binomial(rng, k, cov))
		o.Ends = append(o.Ends, float64(m+1)/6)
		o.Counts = append(o.Counts, y)
		o.Total += y
	}
	return o
}

// TestFitRecovers: from what an observer seeing half the infections
// records of an outbreak (N = 2,000 hosts, r = 5 probes a second in 2^24
// addresses: K = 2.15 an hour), the fit's intervals cover the true N and r
// in at least 8 of 10 independent outbreaks. Nominal coverage is 95%, so 8
// of 10 fails only if the intervals are badly off (binomial(10, 0.95):
// P(<= 7) = 1.2%).
func TestFitRecovers(t *testing.T) {
	const n, r, cov = 2000, 5.0, 0.5
	coveredN, coveredR := 0, 0
	for s := range uint64(10) {
		o := observed(t, n, r, cov, 100+s)
		res, err := Fit(o, cov, Options{SpaceBits: 24, Boot: 40, Seed: s})
		if err != nil {
			t.Fatal(err)
		}
		pn, pr := res.Params[0].Value, res.Params[1].Value
		if pn.Lo <= n && n <= pn.Hi {
			coveredN++
		}
		if pr.Lo <= r && r <= pr.Hi {
			coveredR++
		}
		t.Logf("N %.0f [%.0f, %.0f], r %.2f [%.2f, %.2f]", pn.Est, pn.Lo, pn.Hi, pr.Est, pr.Lo, pr.Hi)
	}
	if coveredN < 8 || coveredR < 8 {
		t.Errorf("intervals covered N %d and r %d times of 10, want at least 8 each", coveredN, coveredR)
	}
}

func TestFitDeterministic(t *testing.T) {
	o := observed(t, 2000, 5, 0.5, 1)
	a, err1 := Fit(o, 0.5, Options{SpaceBits: 24, Boot: 20, Seed: 3})
	b, err2 := Fit(o, 0.5, Options{SpaceBits: 24, Boot: 20, Seed: 3})
	if err1 != nil || err2 != nil || a.Params[0].Value != b.Params[0].Value {
		t.Errorf("same seed, different fits: %v %v", a.Params[0].Value, b.Params[0].Value)
	}
}

// TestPeakIntervalIsTheBootstraps: the peak time's interval is the
// bootstrap's percentile interval of the refitted T, as for N and r, not
// the logistic fit's profile interval carried over.
func TestPeakIntervalIsTheBootstraps(t *testing.T) {
	o := observed(t, 2000, 5, 0.5, 1)
	res, err := Fit(o, 0.5, Options{SpaceBits: 24, Boot: 20, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	l, err := fit.Logistic(o, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	tp := res.Params[3]
	if tp.Name != "T" || res.PeakHour != tp.Value {
		t.Errorf("peak %v, want T's bootstrap interval %v", res.PeakHour, tp.Value)
	}
	if !(res.PeakHour.Lo < res.PeakHour.Hi) || res.PeakHour == l.PeakHour {
		t.Errorf("peak interval %v: want the bootstrap's, not the logistic's %v", res.PeakHour, l.PeakHour)
	}
	if res.Intervals == fit.ProfileIntervals || res.Intervals == "" {
		t.Errorf("Intervals %q: want the bootstrap's meaning", res.Intervals)
	}
}
