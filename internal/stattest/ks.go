// Package stattest holds the statistical tests wormlab's own test suites
// use to compare distributions, such as the event and probe engines.
package stattest

import (
	"math"
	"slices"
)

// KS2 returns the two-sample Kolmogorov-Smirnov statistic D (the largest
// distance between the samples' empirical distribution functions) and its
// asymptotic p-value, Q_KS(lambda) with lambda = (sqrt(ne) + 0.12 +
// 0.11/sqrt(ne)) D and ne = n m/(n+m), the approximation of Stephens (1970)
// as given in Press et al., Numerical Recipes, 3rd ed., section 14.3.3. It
// is accurate for ne of a few dozen and more. Ties between the samples are
// handled by stepping over equal values together.
func KS2(a, b []float64) (d, p float64) {
	x := slices.Clone(a)
	y := slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	n, m := float64(len(x)), float64(len(y))
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		v := min(x[i], y[j])
		for i < len(x) && x[i] == v {
			i++
		}
		for j < len(y) && y[j] == v {
			j++
		}
		d = max(d, math.Abs(float64(i)/n-float64(j)/m))
	}
	ne := n * m / (n + m)
	sq := math.Sqrt(ne)
	return d, QKS((sq + 0.12 + 0.11/sq) * d)
}

// QKS is the Kolmogorov distribution's survival function,
// Q(lambda) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2).
func QKS(lambda float64) float64 {
	if lambda < 0.2 {
		return 1 // the series converges slowly here and the sum is 1 to 1e-15
	}
	var sum float64
	sign := 1.0
	for k := 1; k <= 100; k++ {
		term := sign * math.Exp(-2*float64(k*k)*lambda*lambda)
		sum += term
		if math.Abs(term) < 1e-12*math.Abs(sum) {
			break
		}
		sign = -sign
	}
	return min(max(2*sum, 0), 1)
}
