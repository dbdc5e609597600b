package fit

import (
	"fmt"
	"math"

	"github.com/wormlab/wormlab/internal/detmath"
	"github.com/wormlab/wormlab/internal/model"
)

// TwoFactorFixed are the two-factor parameters a single curve cannot
// separate, which the user fixes.
//
// From one cumulative-sources curve the model's growth rate β0 N shows in
// the early exponential phase, the population in the plateau, and the
// number infected at the start in the first bins; γ, μ and η all bend the
// curve later in much the same way (each slows growth as the outbreak
// matures), so one curve trades them off against each other and against
// β0 N. They are therefore fixed, μ given as μN so that the assumption does
// not change with the fitted N (the paper too writes μ = 0.06/N).
type TwoFactorFixed struct {
	Gamma float64 // removal rate of infectious hosts per hour; >= 0
	MuN   float64 // μ·N: patching rate per hour when every host is infected; >= 0
	Eta   float64 // congestion exponent; >= 0
}

// DefaultTwoFactorFixed returns the fixed parameters of
// model.CodeRedTwoFactor.
func DefaultTwoFactorFixed() TwoFactorFixed {
	p := model.CodeRedTwoFactor()
	return TwoFactorFixed{Gamma: p.Gamma, MuN: p.Mu * p.N, Eta: p.Eta}
}

// fitStepScale is λh for the RK4 step in the fitter, λ the model's stiffness
// bound. Five times Solve's: the relative error of the solution is then
// about K t (λh)^4 / 480 ≈ 3e-7 over 14 hours at K = 1.8 per hour, which
// moves the log-likelihood of 1e5 counts by under 0.03 nats, smoothly in
// the parameters, against interval thresholds of 1.92 nats.
const fitStepScale = 0.05

// TwoFactor fits the two-factor model to o by maximum likelihood with
// γ, μN and η fixed, and 95% profile-likelihood intervals for N and β0.
// coverage is the share of infected hosts the observer sees (1 if unknown);
// unlike the logistic's plateau, N here is the global vulnerable
// population, because the model's congestion and patching terms depend on
// the infected share, not the count.
//
// The noise model is the logistic fitter's: new sources in bin i are
// Poisson with mean c (J(e_i) - J(e_{i-1})), c the coverage and J = I + R
// the hosts infected so far, and the first bin's mean is c J(e_0). The
// model starts at the end of the first bin with I(e_0) = I_s, a third free
// parameter, and R = Q = 0: removals and patching before the series began
// are taken as negligible.
//
// The peak time (of new infections) comes without an interval, and the
// population infected by the end of the outbreak is the model's J(∞) with
// no interval of its own; N's interval bounds it from above.
func TwoFactor(o Obs, coverage float64, fixed TwoFactorFixed) (Result, error) {
	if !(coverage > 0 && coverage <= 1) {
		return Result{}, fmt.Errorf("fit: coverage %v, want a share in (0, 1]", coverage)
	}
	probe := model.TwoFactor{N: 1, Beta0: 1, I0: 1, Gamma: fixed.Gamma, Mu: fixed.MuN, Eta: fixed.Eta}
	if err := probe.Validate(); err != nil {
		return Result{}, fmt.Errorf("fit: %w", err)
	}
	tf := twoFactorLL{o: o, c: coverage, fixed: fixed}
	for _, e := range o.Ends {
		tf.hours = append(tf.hours, e-o.Ends[0])
	}
	// Start from the logistic's maximum: the two-factor model with
	// γ = μ = η = 0 is that logistic, with K = β0 N.
	bud := newBudget(12000) // ~4.6 times a typical fit; about 4 s at 0.3 ms an evaluation
	nll := bud.wrap(tf.nll)
	best, fbest, err := minimize(nll, tf.start(), 0.1)
	if err = bud.check(err); err != nil {
		return Result{}, err
	}
	if k := detmath.Exp(best[0] + best[1]); k > kMax/1.01 || k < kMin*1.01 {
		return Result{}, fmt.Errorf("%w: the growth rate beta0 N ran to the search limit (%g to %g per hour): the series shows no epidemic growth", ErrNoConverge, kMin, kMax)
	}
	pr := &profile{nll: nll, best: best, fbest: fbest, scale: []float64{0.05, 0.05, 0.1}}
	var lim [2][2]float64
	for j := 0; j < 2; j++ {
		for s, dir := range []float64{-1, 1} {
			v, err := pr.bound(j, dir, best[j]+float64(dir*detmath.Log(1e3)))
			if err = bud.check(err); err != nil {
				if bud.left <= 0 {
					return Result{}, err
				}
				// The profile could not be followed: far from the
				// estimate the likelihood degenerates, which for N
				// upwards means the data stop constraining it.
				v = dir * math.Inf(1)
			}
			lim[j][s] = v
		}
	}
	n, beta0, is := detmath.Exp(best[0]), detmath.Exp(best[1]), tf.params(best).I0
	if math.IsInf(lim[0][1], 0) {
		return Result{}, fmt.Errorf("%w: the series does not bound the population N (no upper 95%% limit within 1000 times the best fit): "+
			"the curve has not visibly begun to saturate; a longer series is needed", ErrNoConverge)
	}
	if math.IsInf(lim[1][0], 0) || math.IsInf(lim[1][1], 0) {
		return Result{}, fmt.Errorf("%w: the series does not bound beta0 within a factor of 1000 either way", ErrNoConverge)
	}
	if math.IsInf(lim[0][0], 0) {
		return Result{}, fmt.Errorf("%w: the series does not bound the population N from below", ErrNoConverge)
	}
	p := tf.params(best)
	e0 := o.Ends[0]
	// The peak of new infections and the final size: solve well past the
	// data, 10 days at the bin width, where every outbreak the model can
	// fit to a bounded plateau has long saturated.
	span := o.Ends[len(o.Ends)-1] - e0
	horizon, _ := model.Grid(span+240, math.Min(o.Width, 1.0/60))
	c, err := p.SolveStep(horizon, fitStepScale/stiffness(p))
	if err != nil {
		return Result{}, err
	}
	sum := c.Summarize(p.N)
	final := c.Ever[len(c.Ever)-1]
	r := Result{
		Model:     "two-factor",
		Intervals: ProfileIntervals,
		Params: []Param{
			{Name: "N", Unit: "vulnerable hosts", Value: Interval{n, detmath.Exp(lim[0][0]), detmath.Exp(lim[0][1])}},
			{Name: "beta0", Unit: "per hour", Value: Interval{beta0, detmath.Exp(lim[1][0]), detmath.Exp(lim[1][1])}},
			{Name: "beta0*N", Unit: "per hour", Value: Interval{beta0 * n, math.NaN(), math.NaN()}},
			{Name: "I_start", Unit: "infected at the end of the first bin", Value: Interval{is, math.NaN(), math.NaN()}},
			{Name: "gamma", Unit: "per hour", Value: Interval{fixed.Gamma, math.NaN(), math.NaN()}, Fixed: true},
			{Name: "mu*N", Unit: "per hour", Value: Interval{fixed.MuN, math.NaN(), math.NaN()}, Fixed: true},
			{Name: "eta", Value: Interval{fixed.Eta, math.NaN(), math.NaN()}, Fixed: true},
		},
		Plateau:       Interval{coverage * final, math.NaN(), math.NaN()},
		Coverage:      coverage,
		CoverageGiven: coverage != 1,
		Population:    Interval{final, math.NaN(), math.NaN()},
		PeakHour:      Interval{sum.PeakRateHour + e0, math.NaN(), math.NaN()},
		Start:         o.Start,
		LogLik:        -fbest,
	}
	r.curve = func(hs []float64) ([]float64, []float64, error) {
		rel := make([]float64, len(hs))
		for i, h := range hs {
			rel[i] = math.Max(0, h-e0)
		}
		c, err := p.SolveStep(rel, fitStepScale/stiffness(p))
		if err != nil {
			return nil, nil, err
		}
		cum := make([]float64, len(hs))
		for i := range hs {
			cum[i] = coverage * c.Ever[i]
		}
		return cum, c.Rate, nil
	}
	return r, nil
}

// stiffness mirrors model.TwoFactor's bound on the Jacobian, per hour.
func stiffness(p model.TwoFactor) float64 {
	return float64((1+p.Eta)*p.Beta0*p.N) + p.Gamma + float64(2*p.Mu*p.N)
}

// minStart is the fewest hosts infected at the end of the first bin that
// the fitter considers, a billionth of one: with none the model would
// never start.
const minStart = 1e-9

// nMax caps the fitted population: a thousand times the IPv4 space leaves
// room for any coverage a user might give.
const nMax = 1000 * model.IPv4Space

// twoFactorLL is the Poisson log-likelihood of the two-factor model in
// (log N, log β0, log I_s). Below log minStart the likelihood stays at its
// value at minStart, level, rather than rising to a wall: a series that
// begins before the outbreak (Slammer's in 10-second bins) has its maximum
// on that floor, and a Nelder-Mead simplex pressed against a wall there
// collapses before it has slid along it, which left a profile interval's
// end 12 hosts (2% of its half-width) inside the true one.
type twoFactorLL struct {
	o     Obs
	c     float64
	fixed TwoFactorFixed
	hours []float64 // Ends relative to Ends[0]
}

func (l twoFactorLL) params(x []float64) model.TwoFactor {
	n := detmath.Exp(x[0])
	return model.TwoFactor{
		N: n, Beta0: detmath.Exp(x[1]), I0: math.Max(detmath.Exp(x[2]), minStart),
		Gamma: l.fixed.Gamma, Mu: l.fixed.MuN / n, Eta: l.fixed.Eta,
	}
}

func (l twoFactorLL) nll(x []float64) float64 {
	p := l.params(x)
	// The walls: β0 N within the logistic's K range and N below nMax.
	if k := p.Beta0 * p.N; !(k >= kMin && k <= kMax) || p.N > nMax || p.Validate() != nil {
		return big
	}
	c, err := p.SolveStep(l.hours, fitStepScale/stiffness(p))
	if err != nil {
		return big
	}
	v := 0.0
	prev := 0.0
	for i, j := range c.Ever {
		mean := l.c * (j - prev)
		prev = j
		if y := l.o.Counts[i]; y > 0 {
			if !(mean > 0) {
				return big
			}
			v -= float64(y * detmath.Log(mean))
		}
	}
	v += float64(l.c * prev)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return big
	}
	return v
}

// start maps the logistic's maximum-likelihood point to the two-factor
// parameters (N = P/c, β0 = K/N, I_s = N a(e_0)), or the logistic's own
// starting guess when that fit fails.
func (l twoFactorLL) start() []float64 {
	ll := logisticLL{o: l.o}
	x, _, err := ll.mle()
	if err != nil {
		x = ll.start()
	}
	k, t := detmath.Exp(x[0]), x[1]
	n := ll.plateau(k, t) / l.c
	is := math.Max(n*model.Sigmoid(k*(l.o.Ends[0]-t)), l.o.Counts[0]/l.c)
	n = math.Min(n, nMax/2)
	k = math.Min(math.Max(k, 2*kMin), kMax/2)
	is = math.Max(math.Min(is, n/2), 1e-3)
	return []float64{detmath.Log(n), detmath.Log(k / n), detmath.Log(is)}
}
