package fit

import (
	"math"
	"testing"
)

// The figure: fitting a 14-hour series of one-minute bins (840
// points) with 95% intervals, under 5 s. The series is Code Red v2's curve
// (K = 1.8 per hour) seen with coverage 1/256: a plateau of 1,406 sources.
func benchObs(b *testing.B) Obs {
	o, err := FromSeries(synthLogistic(1.8, 7, 360000.0/256, 840, 1), "bench.csv")
	if err != nil {
		b.Fatal(err)
	}
	return o
}

func BenchmarkLogistic14h(b *testing.B) {
	o := benchObs(b)
	for b.Loop() {
		if _, err := Logistic(o, 1.0/256); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTwoFactor14h(b *testing.B) {
	o := benchObs(b)
	fixed := DefaultTwoFactorFixed()
	for b.Loop() {
		if _, err := TwoFactor(o, 1.0/256, fixed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLogisticKT(b *testing.B) {
	hs := make([]float64, 841)
	inf := make([]float64, 841)
	for i := range hs {
		hs[i] = float64(i) / 60
		inf[i] = 360000 / (1 + 359999*math.Exp(-1.8*hs[i]))
	}
	for b.Loop() {
		if _, _, err := LogisticKT(hs, inf, 360000); err != nil {
			b.Fatal(err)
		}
	}
}

// Slammer seen by a telescope in 10-second bins: the series begins before
// the outbreak, so the fit's maximum and its profiles lie where the
// starting infected count meets its floor.
func BenchmarkTwoFactorSlammer10s(b *testing.B) {
	o := readObs(b, "testdata/profile/slammer-10s.csv")
	fixed := DefaultTwoFactorFixed()
	for b.Loop() {
		if _, err := TwoFactor(o, 1, fixed); err != nil {
			b.Fatal(err)
		}
	}
}
