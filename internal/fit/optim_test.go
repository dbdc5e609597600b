package fit

import (
	"math"
	"testing"
)

func TestProfileBoundGaussian(t *testing.T) {
	// For a Gaussian log-likelihood the profile interval is exact: with
	// covariance Σ = [[4, 1.2], [1.2, 1]] around (3, -1), the 95% bounds of
	// the first parameter are 3 ± 1.959964·sqrt(4), whatever the
	// correlation. Σ^{-1} = [[1, -1.2], [-1.2, 4]]/2.56. The inner
	// Nelder-Mead stops at 1e-9 nats, which moves a bound by about
	// 1e-9/(dev slope 1.96/σ) ≈ 1e-9; 1e-4 is loose for safety.
	nll := func(x []float64) float64 {
		a, b := x[0]-3, x[1]+1
		return 0.5 * (a*a - 2.4*a*b + 4*b*b) / 2.56
	}
	p := &profile{nll: nll, best: []float64{3, -1}, fbest: 0, scale: []float64{0.1, 0.1}}
	want := 1.959963984540054 * 2
	lo, err := p.bound(0, -1, -100)
	if err != nil {
		t.Fatal(err)
	}
	hi, err := p.bound(0, +1, 100)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(lo-(3-want)) > 1e-4 || math.Abs(hi-(3+want)) > 1e-4 {
		t.Errorf("bounds [%v, %v], want [%v, %v]", lo, hi, 3-want, 3+want)
	}
	// A flat direction has no bound within the limit.
	flat := &profile{nll: func(x []float64) float64 { return (x[1] - 1) * (x[1] - 1) }, best: []float64{0, 1}, scale: []float64{1, 1}}
	if v, err := flat.bound(0, +1, 50); err != nil || !math.IsInf(v, 1) {
		t.Errorf("flat bound = %v, %v, want +Inf", v, err)
	}
}
