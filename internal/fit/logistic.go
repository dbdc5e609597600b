package fit

import (
	"errors"
	"fmt"
	"math"

	"github.com/wormlab/wormlab/internal/detmath"
	"github.com/wormlab/wormlab/internal/model"
)

// Logistic fits the logistic a(t) = e^{K(t-T)}/(1+e^{K(t-T)}) to the new
// sources of o by maximum likelihood, with 95% profile-likelihood intervals
// for K, T and the plateau. coverage is the share of infected hosts the
// observer sees (1 if unknown).
//
// The noise model: the count of new sources in bin i is Poisson with mean
// P (a(e_i) - a(e_{i-1})), P the plateau and e_i the bin ends, the first
// bin reaching back to a(-∞) = 0 because hosts infected before the observer
// started are first seen in it. Poisson counts are what thinning an
// outbreak's infections gives when each host is seen independently; given
// the total, they are the multinomial of independent first-seen times, so
// K and T and their intervals are the same under either reading. P is
// profiled out in closed form (P̂ = Y/a(e_last), Y the total), leaving a
// two-dimensional search over (log K, T). Intervals are profile likelihood,
// not bootstrap: deterministic, and exact enough at the hundreds of counts
// a telescope sees (see the coverage test).
//
// It returns an error wrapping ErrNoConverge when the optimizer fails or
// when the series does not bound K or the plateau: a curve that has not
// begun to bend gives no plateau, and the fit says so rather than guess.
func Logistic(o Obs, coverage float64) (Result, error) {
	if !(coverage > 0 && coverage <= 1) {
		return Result{}, fmt.Errorf("fit: coverage %v, want a share in (0, 1]", coverage)
	}
	bud := newBudget(50000)
	ll := logisticLL{o: o}
	nll2, nll3 := bud.wrap(ll.nll2), bud.wrap(ll.nll3)
	best, fbest, err := minimize(nll2, ll.start(), 0.1)
	if err = bud.check(err); err != nil {
		return Result{}, err
	}
	k, t := detmath.Exp(best[0]), best[1]
	if k > kMax/1.01 || k < kMin*1.01 {
		return Result{}, fmt.Errorf("%w: the growth rate K ran to the search limit (%g to %g per hour): the series shows no logistic growth", ErrNoConverge, kMin, kMax)
	}
	plateau := ll.plateau(k, t)
	tMin, tMax := ll.tRange()

	// Each bound is searched no further than the parameter walls (kMin,
	// kMax, the T range), a factor of 1000 for the plateau.
	var lims [3][2]float64
	pk := &profile{nll: nll2, best: best, fbest: fbest, scale: []float64{0.05, 0.1}}
	full := []float64{best[0], best[1], detmath.Log(plateau)}
	pp := &profile{nll: nll3, best: full, fbest: ll.nll3(full), scale: []float64{0.05, 0.1, 0.05}}
	walls := [3][2]float64{
		{detmath.Log(kMin) + 1e-9, detmath.Log(kMax) - 1e-9},
		{tMin + 1e-9, tMax - 1e-9},
		{full[2] - detmath.Log(1e3), full[2] + detmath.Log(1e3)},
	}
	for j := 0; j < 3; j++ {
		pr := pk
		if j == 2 {
			pr = pp // the plateau needs the three-parameter likelihood
		}
		for s, dir := range []float64{-1, 1} {
			v, err := pr.bound(j, dir, walls[j][s])
			if err = bud.check(err); err != nil {
				if !errors.Is(err, ErrNoConverge) || bud.left <= 0 {
					return Result{}, err
				}
				// Far from the estimate the likelihood can degenerate
				// when the data do not constrain the parameter: that is
				// the unbounded case.
				v = dir * math.Inf(1)
			}
			lims[j][s] = v
		}
	}
	kLo, kHi, tLo, tHi, pLo, pHi := lims[0][0], lims[0][1], lims[1][0], lims[1][1], lims[2][0], lims[2][1]
	if math.IsInf(kLo, 0) || math.IsInf(kHi, 0) {
		return Result{}, fmt.Errorf("%w: the series does not bound the growth rate K between %g and %g per hour", ErrNoConverge, kMin, kMax)
	}
	if math.IsInf(pHi, 0) {
		return Result{}, fmt.Errorf("%w: the series does not bound the plateau (no upper 95%% limit within 1000 times the best fit): "+
			"the curve has not visibly begun to saturate; a longer series is needed", ErrNoConverge)
	}
	if math.IsInf(tLo, 0) || math.IsInf(tHi, 0) || math.IsInf(pLo, 0) {
		return Result{}, fmt.Errorf("%w: the series does not bound T or the plateau from below", ErrNoConverge)
	}
	r := Result{
		Model:     "logistic",
		Intervals: ProfileIntervals,
		Params: []Param{
			{Name: "K", Unit: "per hour", Value: Interval{k, detmath.Exp(kLo), detmath.Exp(kHi)}},
			{Name: "T", Unit: "hours after the series start", Value: Interval{t, tLo, tHi}},
		},
		Plateau:  Interval{plateau, detmath.Exp(pLo), detmath.Exp(pHi)},
		Coverage: coverage,
		PeakHour: Interval{t, tLo, tHi},
		Start:    o.Start,
		LogLik:   -fbest,
	}
	r.Population = Interval{plateau / coverage, r.Plateau.Lo / coverage, r.Plateau.Hi / coverage}
	r.CoverageGiven = coverage != 1
	lp := model.Logistic{K: k, T: t, N: plateau}
	r.curve = func(hs []float64) ([]float64, []float64, error) {
		cum := make([]float64, len(hs))
		rate := make([]float64, len(hs))
		for i, h := range hs {
			cum[i] = lp.Infected(h)
			rate[i] = lp.Rate(h) / coverage
		}
		return cum, rate, nil
	}
	return r, nil
}

// logisticLL is the Poisson log-likelihood of a logistic for one series.
type logisticLL struct{ o Obs }

// logP returns Σ y_i log(a(e_i) - a(e_{i-1})) and a(e_last) for rate k and
// midpoint t. The increment is computed as σ(x_i) σ(-x_{i-1}) (1 - e^{-(x_i -
// x_{i-1})}), an identity that keeps full precision in both tails where the
// plain difference of two sigmoids cancels.
func (l logisticLL) logP(k, t float64) (float64, float64) {
	o := l.o
	sum := 0.0
	prevLS := 0.0 // log σ(-x_{-1}) = log σ(+∞) = 0
	prevE := math.Inf(-1)
	lastW, lastLog := math.NaN(), 0.0
	for i, e := range o.Ends {
		x := float64(k * (e - t)) // rounded: subtracted below
		ls := model.LogSigmoid(x)
		if y := o.Counts[i]; y > 0 {
			lp := ls + prevLS
			if i > 0 {
				if w := e - prevE; w != lastW {
					lastW, lastLog = w, detmath.Log(-detmath.Expm1(-k*w))
				}
				lp += lastLog
			}
			sum += float64(y * lp)
		}
		prevLS = ls - x // log σ(-x) = log σ(x) - x
		prevE = e
	}
	xl := k * (o.Ends[len(o.Ends)-1] - t)
	return sum, model.Sigmoid(xl)
}

// Walls of the search: K between kMin and kMax per hour (a doubling time
// from 7,000 hours to a quarter of a second), T within tPad hours of the
// series. Outside them the likelihood is +Inf (big).
const (
	kMin = 1e-4
	kMax = 1e4
	tPad = 1e4
)

func (l logisticLL) tRange() (float64, float64) {
	return l.o.Ends[0] - tPad, l.o.Ends[len(l.o.Ends)-1] + tPad
}

func (l logisticLL) inside(k, t float64) bool {
	lo, hi := l.tRange()
	return k >= kMin && k <= kMax && t >= lo && t <= hi
}

// mle returns the maximum-likelihood (log K, T) and the negative
// log-likelihood there.
func (l logisticLL) mle() ([]float64, float64, error) {
	return minimize(l.nll2, l.start(), 0.1)
}

// plateau returns P̂ = Y/a(e_last), the plateau's conditional maximum.
func (l logisticLL) plateau(k, t float64) float64 {
	return l.o.Total / model.Sigmoid(k*(l.o.Ends[len(l.o.Ends)-1]-t))
}

// nll2 is the negative log-likelihood in (log K, T) with the plateau at its
// conditional maximum Y/a(e_last).
func (l logisticLL) nll2(x []float64) float64 {
	k, t := detmath.Exp(x[0]), x[1]
	if !l.inside(k, t) {
		return big
	}
	lp, d := l.logP(k, t)
	y := l.o.Total
	v := -(lp - float64(y*detmath.Log(d)) + float64(y*detmath.Log(y)) - y)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return big
	}
	return v
}

// nll3 is the negative log-likelihood in (log K, T, log P).
func (l logisticLL) nll3(x []float64) float64 {
	k, t, p := detmath.Exp(x[0]), x[1], detmath.Exp(x[2])
	if !l.inside(k, t) || math.IsInf(p, 0) || p == 0 {
		return big
	}
	lp, d := l.logP(k, t)
	v := -(lp + float64(l.o.Total*detmath.Log(p)) - float64(p*d))
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return big
	}
	return v
}

// start returns a starting point (log K, T): T where the cumulative count
// passes half its final value, and K from LogisticKT on the cumulative
// curve scaled to a plateau 10% above the count seen, falling back to 1 per
// hour when the curve is too short for that.
func (l logisticLL) start() []float64 {
	cum := l.o.Cumulative()
	y := l.o.Total
	t := l.o.Ends[len(cum)-1]
	for i, c := range cum {
		if c >= y/2 {
			t = l.o.Ends[i]
			break
		}
	}
	k := 1.0
	if gk, gt, err := LogisticKT(l.o.Ends, cum, 1.1*y); err == nil {
		k, t = gk, gt
	}
	lo, hi := l.tRange()
	k = math.Min(math.Max(k, 2*kMin), kMax/2)
	t = math.Min(math.Max(t, lo+1), hi-1)
	return []float64{detmath.Log(k), t}
}
