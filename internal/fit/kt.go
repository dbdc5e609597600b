package fit

import (
	"errors"
	"fmt"
	"math"

	"github.com/wormlab/wormlab/internal/detmath"
)

// Bounds of the share of the population used by LogisticKT: outside them the
// logit is dominated by the first and last few infections, whose timing is
// pure chance, and is infinite at 0 and 1.
const (
	ktLow  = 0.01
	ktHigh = 0.99
)

// LogisticKT fits the logistic a(t) = e^{K(t-T)}/(1+e^{K(t-T)}) of Staniford,
// Paxson and Weaver (2002) to a simulated infected curve: hours are the
// sample times, infected the infected counts at those times and n the
// population the share is taken of (the vulnerable hosts). It returns the
// growth rate K per hour and the time T, in the same hours, at which half of
// n is infected.
//
// The method is weighted least squares on the logit: for a = infected/n in
// [1%, 99%], logit(a) = K t - K T is linear in t. Each point is weighted by
// a(1-a), the inverse of the logit's variance for a binomial share (delta
// method: var logit(â) ≈ 1/(n a(1-a))), so the noisy tails count less than
// the middle. It is a quick summary for one run, not a maximum-likelihood
// fit with intervals (Logistic does that). It fails when fewer than two
// distinct times fall in the band or when the curve does not grow.
func LogisticKT(hours, infected []float64, n float64) (k, t float64, err error) {
	if len(hours) != len(infected) {
		return 0, 0, fmt.Errorf("fit: %d times but %d infected counts", len(hours), len(infected))
	}
	if !(n > 0) || math.IsInf(n, 0) {
		return 0, 0, fmt.Errorf("fit: population %v is not a positive number", n)
	}
	// Weighted sums for the regression of y = logit(a) on x = t; centred
	// afterwards, which is stable enough for hours-scale times.
	var sw, sx, sy, sxx, sxy float64
	used := 0
	firstX, distinct := math.NaN(), false
	for i, x := range hours {
		a := infected[i] / n
		if math.IsNaN(x) || math.IsNaN(a) || a < ktLow || a > ktHigh {
			continue
		}
		w := float64(a * (1 - a))
		y := detmath.Log(a / (1 - a))
		// float64() rounds each product before the sum, so no compiler
		// fuses the two into one multiply-add, as arm64's would, and the
		// fit is the same on every architecture; likewise throughout the
		// package.
		sw += w
		sx += float64(w * x)
		sy += float64(w * y)
		sxx += float64(w * x * x)
		sxy += float64(w * x * y)
		used++
		if used == 1 {
			firstX = x
		} else if x != firstX {
			distinct = true
		}
	}
	if !distinct {
		return 0, 0, fmt.Errorf("fit: %d points between %g%% and %g%% of the population, need two at different times",
			used, 100*ktLow, 100*ktHigh)
	}
	mx, my := sx/sw, sy/sw
	varx := sxx/sw - float64(mx*mx)
	cov := sxy/sw - float64(mx*my)
	if !(varx > 0) {
		return 0, 0, errors.New("fit: the sample times in the band do not vary")
	}
	k = cov / varx
	if !(k > 0) {
		return 0, 0, fmt.Errorf("fit: the infected curve does not grow (slope of the logit %g per hour)", k)
	}
	// Intercept of the regression line is my - k*mx = -k*T.
	t = mx - my/k
	return k, t, nil
}
