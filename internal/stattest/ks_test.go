package stattest

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestQKSReference(t *testing.T) {
	// Reference values of the Kolmogorov survival function, from its series
	// (e.g. scipy.special.kolmogorov): Q(1.0) = 0.26999967, Q(1.36) = 0.04946,
	// Q(1.63) = 0.00981.
	for _, tc := range []struct{ l, want float64 }{{1.0, 0.26999967}, {1.36, 0.0494}, {1.63, 0.0098}} {
		if got := QKS(tc.l); math.Abs(got-tc.want) > 5e-4 {
			t.Errorf("QKS(%v) = %v, want %v", tc.l, got, tc.want)
		}
	}
}

func TestKS2(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	draw := func(n int, shift float64) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = rng.NormFloat64() + shift
		}
		return xs
	}
	// Same law: with these fixed seeds p is far from 0.
	if _, p := KS2(draw(300, 0), draw(300, 0)); p < 0.01 {
		t.Errorf("same law rejected, p = %v", p)
	}
	// A shift of half a standard deviation with 300 a side: D is about 0.2,
	// lambda about 2.4, so p is below 1e-4.
	if d, p := KS2(draw(300, 0), draw(300, 0.5)); p > 1e-3 {
		t.Errorf("shifted law not rejected: D = %v, p = %v", d, p)
	}
	// Identical samples: D = 0.
	x := draw(50, 0)
	if d, p := KS2(x, x); d != 0 || p != 1 {
		t.Errorf("identical samples: D = %v p = %v", d, p)
	}
}
