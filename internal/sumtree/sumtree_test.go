package sumtree

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFloatFindFollowsWeights(t *testing.T) {
	w := []float64{0, 3, 0, 1, 6, 0, 0}
	tr := NewFloat(len(w))
	for i, v := range w {
		tr.Set(i, v)
	}
	if tr.Total() != 10 {
		t.Fatalf("Total = %v", tr.Total())
	}
	// Boundaries of the cumulative sums: [0,3) -> 1, [3,4) -> 3, [4,10) -> 4.
	for _, tc := range []struct {
		u    float64
		want int
	}{{0, 1}, {2.999, 1}, {3, 3}, {3.5, 3}, {4, 4}, {9.999, 4}} {
		if got := tr.Find(tc.u); got != tc.want {
			t.Errorf("Find(%v) = %d, want %d", tc.u, got, tc.want)
		}
	}
}

func TestFloatNeverPicksZeroAfterManyUpdates(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 1000
	tr := NewFloat(n)
	ref := make([]float64, n)
	// Many more updates than rebuildEvery, with weights spanning 12 orders
	// of magnitude so that difference updates lose bits.
	for k := 0; k < 3*rebuildEvery; k++ {
		i := rng.IntN(n)
		v := 0.0
		if rng.IntN(3) > 0 {
			v = math.Pow(10, rng.Float64()*12-6)
		}
		tr.Set(i, v)
		ref[i] = v
		if k%997 == 0 {
			total := tr.Total()
			if j := tr.Find(rng.Float64() * total); j >= 0 && ref[j] == 0 {
				t.Fatalf("Find picked zero weight %d", j)
			}
		}
	}
	var sum float64
	for _, v := range ref {
		sum += v
	}
	if got := tr.Total(); math.Abs(got-sum) > 1e-9*sum {
		t.Errorf("Total drifted: %v vs exact %v", got, sum)
	}
}

func TestFloatSampling(t *testing.T) {
	// 1e5 draws over weights 1:2:7; each share's standard error is
	// sqrt(p(1-p)/n) <= 1.6e-3, so 5 sigma is 8e-3.
	tr := NewFloat(3)
	for i, v := range []float64{1, 2, 7} {
		tr.Set(i, v)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var c [3]float64
	const n = 100000
	for range n {
		c[tr.Find(rng.Float64()*tr.Total())]++
	}
	for i, want := range []float64{0.1, 0.2, 0.7} {
		if got := c[i] / n; math.Abs(got-want) > 8e-3 {
			t.Errorf("share %d = %v, want %v", i, got, want)
		}
	}
}

func TestIntFind(t *testing.T) {
	counts := []int64{2, 0, 3, 1}
	tr := NewInt(len(counts))
	for i, c := range counts {
		tr.Add(i, c)
	}
	want := [][2]int64{{0, 0}, {0, 1}, {2, 0}, {2, 1}, {2, 2}, {3, 0}}
	for k, w := range want {
		i, r := tr.Find(int64(k))
		if int64(i) != w[0] || r != w[1] {
			t.Errorf("Find(%d) = %d,%d want %d,%d", k, i, r, w[0], w[1])
		}
	}
	if tr.Prefix(3) != 5 || tr.Prefix(4) != 6 {
		t.Errorf("Prefix wrong: %d %d", tr.Prefix(3), tr.Prefix(4))
	}
}
