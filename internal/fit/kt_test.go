package fit

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func logistic(k, t0, t float64) float64 { return 1 / (1 + math.Exp(-k*(t-t0))) }

func TestLogisticKTExactCurve(t *testing.T) {
	// A noiseless logistic lies exactly on the logit line, so the fit must
	// return K and T to rounding error (1e-9 leaves room for the sums of
	// ~200 terms of size ~1e3).
	const k, t0, n = 1.8, 7.5, 360000
	var hs, inf []float64
	for m := 0; m <= 14*60; m += 5 {
		h := float64(m) / 60
		hs = append(hs, h)
		inf = append(inf, n*logistic(k, t0, h))
	}
	gk, gt, err := LogisticKT(hs, inf, n)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(gk-k) > 1e-9 || math.Abs(gt-t0) > 1e-9 {
		t.Errorf("LogisticKT = (%v, %v), want (%v, %v)", gk, gt, k, t0)
	}
}

func TestLogisticKTBinomialNoise(t *testing.T) {
	// Infected counts drawn as Binomial(n, a(t)) (normal approximation) around
	// K=1.8, T=7.5 with n=10,000. The logit's sd at a point is
	// 1/sqrt(n a(1-a)) <= 0.1 in the band; with ~90 points over ~5 hours the
	// slope's standard error is about 0.1/sqrt(90)/sd(t) ≈ 0.1/9.5/1.4 ≈ 0.008
	// per hour and T's about 0.1/9.5/1.8 ≈ 0.006 h. 0.05 is over 5 sigma.
	const k, t0, n = 1.8, 7.5, 10000
	r := rand.New(rand.NewPCG(1, 2))
	var hs, inf []float64
	for m := 0; m <= 14*60; m += 3 {
		h := float64(m) / 60
		a := logistic(k, t0, h)
		x := n*a + math.Sqrt(n*a*(1-a))*r.NormFloat64()
		hs = append(hs, h)
		inf = append(inf, math.Max(0, math.Min(n, math.Round(x))))
	}
	gk, gt, err := LogisticKT(hs, inf, n)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(gk-k) > 0.05 || math.Abs(gt-t0) > 0.05 {
		t.Errorf("LogisticKT = (%v, %v), want (%v, %v) within 0.05", gk, gt, k, t0)
	}
}

func TestLogisticKTErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		hs, in []float64
		n      float64
		want   string
	}{
		{"length mismatch", []float64{0, 1}, []float64{1}, 10, "2 times but 1"},
		{"zero population", []float64{0, 1}, []float64{1, 2}, 0, "not a positive number"},
		{"nothing in band", []float64{0, 1, 2}, []float64{0, 0, 100}, 100, "need two at different times"},
		{"one time", []float64{1, 1}, []float64{10, 20}, 100, "need two at different times"},
		{"shrinking", []float64{0, 1, 2}, []float64{50, 30, 10}, 100, "does not grow"},
	} {
		_, _, err := LogisticKT(tc.hs, tc.in, tc.n)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}
