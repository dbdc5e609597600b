package fit

import (
	"errors"
	"fmt"
	"math"
)

// chi2q95 is the 0.95 quantile of the chi-squared distribution with one
// degree of freedom (1.959964^2): a profile-likelihood 95% interval holds
// the parameter values whose deviance from the maximum is below it (Wilks).
const chi2q95 = 3.841458820694124

// ErrNoConverge marks a fit that did not converge; the CLI says so and
// prints no estimate.
var ErrNoConverge = errors.New("fit did not converge")

// big stands in for +Inf in objective functions: Nelder-Mead compares
// values, and a finite sentinel keeps its centroid arithmetic finite.
const big = 1e300

// budget caps the likelihood evaluations of one fit, so that even a
// degenerate series answers within the 5 s for a 14-hour series.
// A typical fit of one takes about 1,700 evaluations (logistic, 25 µs each)
// or 2,600 (two-factor, 0.3 ms each, an ODE solve);
// degenerate inputs found by fuzzing (a single burst, counts that keep
// improving as K grows without bound) made Nelder-Mead crawl for minutes
// before the cap. Exhausting it is reported as non-convergence.
type budget struct{ left, total int }

func newBudget(n int) *budget { return &budget{left: n, total: n} }

func (b *budget) wrap(f func([]float64) float64) func([]float64) float64 {
	return func(x []float64) float64 {
		if b.left <= 0 {
			return big
		}
		b.left--
		return f(x)
	}
}

// check returns an ErrNoConverge error once the budget is spent, else err.
func (b *budget) check(err error) error {
	if b.left <= 0 {
		return fmt.Errorf("%w: gave up after %d likelihood evaluations", ErrNoConverge, b.total)
	}
	return err
}

// minimize runs Nelder-Mead (nelderMead) from x0 on f and returns the
// minimum. Nelder-Mead needs no gradients, which matters for the
// two-factor model whose likelihood goes through an ODE solve, and copes
// with the flat valleys of a logistic whose plateau is barely seen. It
// stops when the best value has improved by less than 1e-9 over 20
// iterations: the likelihood is in nats, and interval ends need it to
// about 1e-4. A search that has not stopped after 5000 evaluations has
// not converged.
func minimize(f func([]float64) float64, x0 []float64, scale float64) ([]float64, float64, error) {
	x, fx, err := nelderMead(f, x0, scale, nmStop{tol: 1e-9, iters: 20, evals: 5000})
	if errors.Is(err, errEvalLimit) {
		return nil, 0, fmt.Errorf("%w: optimizer stopped after 5000 evaluations", ErrNoConverge)
	}
	if err != nil || fx >= big {
		return nil, 0, fmt.Errorf("%w: the model cannot produce the observed counts anywhere the optimizer looked", ErrNoConverge)
	}
	return x, fx, nil
}

// profile holds a fitted negative log-likelihood and finds profile bounds.
type profile struct {
	nll   func([]float64) float64
	best  []float64 // the maximum-likelihood point
	fbest float64
	scale []float64 // per-parameter step for bracketing and simplex size
}

// at returns the profile negative log-likelihood with parameter j fixed at
// v, minimised over the others starting from start (updated in place so
// successive calls warm-start).
func (p *profile) at(j int, v float64, start []float64) (float64, error) {
	free := make([]float64, 0, len(start)-1)
	for i, x := range start {
		if i != j {
			free = append(free, x)
		}
	}
	full := make([]float64, len(start))
	g := func(y []float64) float64 {
		k := 0
		for i := range full {
			if i == j {
				full[i] = v
				continue
			}
			full[i] = y[k]
			k++
		}
		return p.nll(full)
	}
	x, f, err := minimize(g, free, minScale(p.scale, j))
	if err != nil {
		return 0, err
	}
	k := 0
	for i := range start {
		if i != j {
			start[i] = x[k]
			k++
		}
	}
	start[j] = v
	return f, nil
}

func minScale(s []float64, skip int) float64 {
	m := math.Inf(1)
	for i, v := range s {
		if i != skip {
			m = math.Min(m, v)
		}
	}
	return m
}

// bound finds where the profile deviance of parameter j crosses chi2q95
// going in direction dir (+1 or -1) from the estimate, searching no further
// than limit (an absolute value in the parameter's scale). It returns ±Inf
// (by dir) when the deviance stays below the threshold up to limit: the
// data do not bound the parameter that way.
func (p *profile) bound(j int, dir, limit float64) (float64, error) {
	start := append([]float64(nil), p.best...)
	dev := func(v float64) (float64, error) {
		f, err := p.at(j, v, start)
		if err != nil {
			return 0, err
		}
		return math.Max(0, 2*(f-p.fbest)), nil
	}
	// Step out, doubling, until the deviance passes the threshold.
	lo, dlo := p.best[j], 0.0
	step := p.scale[j]
	var hi, dhi float64
	for {
		hi = lo + float64(dir*step)
		if dir*(hi-limit) >= 0 {
			hi = limit
		}
		d, err := dev(hi)
		if err != nil {
			return 0, err
		}
		dhi = d
		if dhi >= chi2q95 {
			break
		}
		if hi == limit {
			return dir * math.Inf(1), nil
		}
		lo, dlo = hi, dhi
		step *= 2
	}
	// The signed root deviance is close to linear in a well-parameterised
	// parameter, so regula falsi on sqrt(dev) - 1.96 converges in a few
	// steps; the Illinois rule keeps it from stalling on one side.
	target := math.Sqrt(chi2q95)
	rlo, rhi := math.Sqrt(dlo)-target, math.Sqrt(dhi)-target
	side := 0
	for it := 0; it < 60; it++ {
		m := hi - rhi*(hi-lo)/(rhi-rlo)
		if math.Abs(hi-lo) < 1e-7*math.Max(1, math.Abs(m)) {
			return m, nil
		}
		d, err := dev(m)
		if err != nil {
			return 0, err
		}
		r := math.Sqrt(d) - target
		if math.Abs(r) < 1e-6 {
			return m, nil
		}
		if r > 0 {
			hi, rhi = m, r
			if side == +1 {
				rlo /= 2
			}
			side = +1
		} else {
			lo, rlo = m, r
			if side == -1 {
				rhi /= 2
			}
			side = -1
		}
	}
	return (lo + hi) / 2, nil
}
