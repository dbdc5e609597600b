package model

import (
	"fmt"
	"math"

	"github.com/wormlab/wormlab/internal/detmath"
)

// Logistic is the random constant spread model of Staniford, Paxson and
// Weaver, "How to 0wn the Internet in Your Spare Time" (USENIX Security
// 2002): the infected share is a(t) = e^{K(t-T)}/(1+e^{K(t-T)}), the
// solution of da/dt = K a (1-a). For Code Red v2 on 19 July 2001 they found
// K ≈ 1.8 per hour.
type Logistic struct {
	K float64 // growth rate per hour; > 0 and finite
	T float64 // hour at which half the population is infected (without a ceiling); finite
	N float64 // population at saturation (hosts); > 0 and finite
	// Ceiling, when > 0, is the network's capacity in hosts: the aggregate
	// scan rate the network carries over one host's scan rate (see
	// TwoFactor.Ceiling). Until Ceiling hosts are infected the curve is the
	// logistic; from then on the scanning stays at the capacity, so
	// dI/dt = (K/N) Ceiling (N - I) and N - I decays exponentially at the
	// rate K Ceiling/N. 0 (or Ceiling >= N): the plain logistic.
	Ceiling float64
}

// Validate reports the first parameter outside its documented range.
func (p Logistic) Validate() error {
	switch {
	case !(p.K > 0) || math.IsInf(p.K, 0):
		return fmt.Errorf("logistic: K = %v, want a positive growth rate per hour", p.K)
	case math.IsNaN(p.T) || math.IsInf(p.T, 0):
		return fmt.Errorf("logistic: T = %v, want a finite time in hours", p.T)
	case !(p.N > 0) || math.IsInf(p.N, 0):
		return fmt.Errorf("logistic: N = %v, want a positive population", p.N)
	case !(p.Ceiling >= 0) || math.IsInf(p.Ceiling, 0):
		return fmt.Errorf("logistic: ceiling = %v, want hosts >= 0 (0: no capacity limit)", p.Ceiling)
	}
	return nil
}

// Share returns a(t), the infected share at hour t.
func (p Logistic) Share(t float64) float64 {
	if tc, ac, ok := p.saturates(); ok && t > tc {
		return 1 - float64((1-ac)*detmath.Exp(-p.K*ac*(t-tc)))
	}
	return Sigmoid(p.K * (t - p.T))
}

// saturates returns when the network fills (hour tc, share ac infected),
// if it ever does.
func (p Logistic) saturates() (tc, ac float64, ok bool) {
	if !(p.Ceiling > 0) || p.Ceiling >= p.N {
		return 0, 0, false
	}
	ac = p.Ceiling / p.N
	return p.T + detmath.Log(ac/(1-ac))/p.K, ac, true
}

// Infected returns N a(t).
func (p Logistic) Infected(t float64) float64 { return p.N * p.Share(t) }

// Rate returns the new infections per hour at hour t, N K a (1-a) (with
// a ceiling, N K min(a, Ceiling/N) (1-a)).
func (p Logistic) Rate(t float64) float64 {
	if tc, ac, ok := p.saturates(); ok && t > tc {
		return p.N * p.K * ac * (1 - p.Share(t))
	}
	x := p.K * (t - p.T)
	return p.N * p.K * Sigmoid(x) * Sigmoid(-x)
}

// Curve samples the model at the given hours. Removed and Patched stay zero:
// the logistic has no removals.
func (p Logistic) Curve(hours []float64) Curve {
	c := newCurve(hours)
	for i, t := range hours {
		c.Infected[i] = p.Infected(t)
		c.Ever[i] = c.Infected[i]
		c.Rate[i] = p.Rate(t)
	}
	return c
}

// Sigmoid returns 1/(1+e^{-x}), computed without overflow for any x.
func Sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + detmath.Exp(-x))
	}
	e := detmath.Exp(x)
	return e / (1 + e)
}

// LogSigmoid returns log(1/(1+e^{-x})) accurately for any x, including
// large negative x where Sigmoid underflows.
func LogSigmoid(x float64) float64 {
	if x >= 0 {
		return -detmath.Log1p(detmath.Exp(-x))
	}
	return x - detmath.Log1p(detmath.Exp(x))
}
