// Package simfit fits a scanning worm to an observed series by simulating
// it: the vulnerable population and scan rate, with intervals from a
// parametric bootstrap through the event engine. It sits apart from fit,
// which holds the closed-form models, because it needs the engines.
package simfit

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/wormlab/wormlab/internal/detmath"
	"github.com/wormlab/wormlab/internal/fit"
	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/worm"
)

// Options tune the simulation-based fit.
type Options struct {
	SpaceBits int    // the scanned space: 32 for IPv4
	Boot      int    // bootstrap runs (at least 20)
	Seed      uint64 // for the runs; the same seed gives the same intervals
	// Progress, if set, is called after each bootstrap run.
	Progress func(done, total int)
	// Stop, if not nil, ends the bootstrap early once closed; Fit then
	// returns sim.ErrStopped.
	Stop <-chan struct{}
}

// Fit fits a uniform scanning worm to the series by simulating it: the
// vulnerable population N and the scan rate r of each host.
//
// The point estimate is the logistic fit's (fit.Logistic), mapped to the
// worm's parameters by N = plateau/coverage and K = r N / |space|
// (Staniford, Paxson, Weaver 2002). The 95% intervals come from a
// parametric bootstrap through the event engine (Efron and Tibshirani, An
// Introduction to the Bootstrap, 1993, ch. 6 and 13): Boot outbreaks are
// simulated with the estimated N and r from the series' start, each
// infection is seen by the observer with probability coverage, each
// simulated series is fitted the same way, and the 2.5% and 97.5%
// percentiles of the refitted N, r, K and T (the peak time) bound them. Unlike the logistic's
// profile likelihood, these intervals carry the randomness of the real
// process (an outbreak's early phase), not only the observer's counting
// noise.
func Fit(o fit.Obs, coverage float64, opt Options) (fit.Result, error) {
	if opt.SpaceBits < 8 || opt.SpaceBits > 32 {
		return fit.Result{}, fmt.Errorf("fit: a space of 2^%d addresses, want 8 to 32 bits", opt.SpaceBits)
	}
	if opt.Boot < 20 {
		return fit.Result{}, fmt.Errorf("fit: %d bootstrap runs, want at least 20", opt.Boot)
	}
	l, err := fit.Logistic(o, coverage)
	if err != nil {
		return fit.Result{}, err
	}
	space := math.Exp2(float64(opt.SpaceBits))
	k, t := l.Params[0].Value.Est, l.Params[1].Value.Est
	n := math.Round(l.Population.Est)
	if n < 2 || n > space/2 {
		return fit.Result{}, fmt.Errorf("%w: an estimated population of %g hosts does not fit the space", fit.ErrNoConverge, n)
	}
	rate := k / 3600 * space / n // probes a second: K = r N / |space|

	// The simulated outbreaks start at the series' start with as many
	// hosts infected as the fitted curve holds there, at least one.
	i0 := max(1, math.Round(n/(1+detmath.Exp(k*t))))
	span := o.Ends[len(o.Ends)-1]
	width := time.Duration(math.Round(o.Width * float64(time.Hour)))
	if width < time.Second {
		return fit.Result{}, errors.New("fit: bins under a second are too fine to simulate")
	}
	bins := int(math.Round(span / o.Width))
	c := &sim.Config{
		Start: o.Start, Duration: time.Duration(bins) * width, Step: width,
		SpaceBits: opt.SpaceBits, Strategy: worm.Uniform{}, Calendar: worm.Always{},
		Stop: opt.Stop,
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x73696d666974)) // "simfit"
	hosts, err := ipspace.PlaceUniform(int(n), []ipspace.Prefix{ipspace.PrefixFrom(0, 32-opt.SpaceBits)}, rng)
	if err != nil {
		return fit.Result{}, err
	}
	c.Hosts = hosts
	c.Rates = make([]float64, len(hosts))
	for i := range c.Rates {
		c.Rates[i] = rate
	}
	for i := range int(min(i0, n)) {
		c.Initial = append(c.Initial, int32(i))
	}
	var ns, rs, ks, ts []float64
	for b := range opt.Boot {
		r, err := sim.RunEvent(c, opt.Seed+uint64(b))
		if err != nil {
			return fit.Result{}, err
		}
		bo := fit.Obs{Start: o.Start, Width: o.Width}
		for m, row := range r.Rows[1:] {
			seen := row.NewInfections
			if m == 0 {
				seen += int64(len(c.Initial)) // the first bin reaches back
			}
			y := float64(binomial(rng, seen, coverage))
			bo.Ends = append(bo.Ends, float64(m+1)*o.Width)
			bo.Counts = append(bo.Counts, y)
			bo.Total += y
		}
		if opt.Progress != nil {
			opt.Progress(b+1, opt.Boot)
		}
		bl, err := fit.Logistic(bo, coverage)
		if err != nil {
			continue // a run whose curve cannot be fitted carries no estimate
		}
		bk, bn := bl.Params[0].Value.Est, bl.Population.Est
		ks, ns, rs = append(ks, bk), append(ns, bn), append(rs, bk/3600*space/bn)
		ts = append(ts, bl.Params[1].Value.Est)
	}
	if len(ns) < opt.Boot*9/10 {
		return fit.Result{}, fmt.Errorf("%w: only %d of %d simulated series could be fitted", fit.ErrNoConverge, len(ns), opt.Boot)
	}
	ci := func(est float64, xs []float64) fit.Interval {
		return fit.Interval{Est: est, Lo: percentile(xs, 0.025), Hi: percentile(xs, 0.975)}
	}
	res := l
	res.Model = "sim"
	res.Params = []fit.Param{
		{Name: "N", Unit: "vulnerable hosts", Value: ci(n, ns)},
		{Name: "r", Unit: "probes a second a host", Value: ci(rate, rs)},
		{Name: "K", Unit: "per hour", Value: ci(k, ks)},
		{Name: "T", Unit: "hours after the series start", Value: ci(t, ts)},
	}
	// The peak of new infections is the logistic's T; its interval is the
	// bootstrap's too, not the logistic fit's profile interval.
	res.PeakHour = ci(t, ts)
	res.Intervals = "percentile bootstrap through the event engine: the outbreak's own randomness and the observer's sampling"
	res.Population = ci(n, ns)
	res.Plateau = fit.Interval{Est: res.Population.Est * coverage, Lo: res.Population.Lo * coverage, Hi: res.Population.Hi * coverage}
	return res, nil
}

// binomial draws Binomial(n, p) by n Bernoulli trials for small n and a
// normal approximation with continuity correction beyond 1,000 trials,
// where its error is far below the bootstrap's own.
func binomial(rng *rand.Rand, n int64, p float64) int64 {
	if p >= 1 {
		return n
	}
	if n <= 1000 {
		var k int64
		for range n {
			if rng.Float64() < p {
				k++
			}
		}
		return k
	}
	mu, sd := float64(float64(n)*p), math.Sqrt(float64(n)*p*(1-p))
	return min(n, max(0, int64(math.Round(mu+float64(sd*rng.NormFloat64())))))
}

// percentile returns the q-quantile of xs by linear interpolation between
// order statistics (Hyndman and Fan's type 7).
func percentile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	h := float64(q * float64(len(s)-1))
	lo := int(math.Floor(h))
	hi := min(lo+1, len(s)-1)
	return s[lo] + float64((h-float64(lo))*(s[hi]-s[lo]))
}
