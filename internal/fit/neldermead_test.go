package fit

import (
	"errors"
	"math"
	"testing"
)

// The objectives round every product before adding it, as nelderMead does,
// so that their values too are the same on every architecture.

func rosenbrock(x []float64) float64 {
	s := 0.0
	for i := 0; i+1 < len(x); i++ {
		a, b := 1-x[i], x[i+1]-float64(x[i]*x[i])
		s += float64(a*a) + float64(100*b*b)
	}
	return s
}

// counted returns f and a pointer to the number of times it was called.
func counted(f func([]float64) float64) (func([]float64) float64, *int) {
	n := new(int)
	return func(x []float64) float64 { *n++; return f(x) }, n
}

var testStop = nmStop{tol: 1e-9, iters: 20, evals: 5000}

func TestNelderMeadRosenbrock(t *testing.T) {
	// The classic start (-1.2, 1) of Rosenbrock (The Computer Journal 3(3),
	// 1960). The valley floor is curved, so the simplex must expand and
	// contract along it. What the fits rely on is a value within the
	// stopping tolerance of the minimum 0 (Nelder-Mead has no convergence
	// proof to lean on here: Lagarias et al. 1998 prove convergence for
	// strictly convex functions of one variable). The Hessian at the
	// minimum (1, 1) is [[802, -400], [-400, 200]], smallest eigenvalue
	// 0.399, so f <= 1e-9 puts x within sqrt(2e-9/0.399) = 7.1e-5 of it.
	f, n := counted(rosenbrock)
	x, fx, err := nelderMead(f, []float64{-1.2, 1}, 0.1, testStop)
	if err != nil {
		t.Fatal(err)
	}
	if fx > 1e-9 || math.Hypot(x[0]-1, x[1]-1) > 7.1e-5 {
		t.Errorf("minimum at %v, f %g, want (1, 1), f <= 1e-9", x, fx)
	}
	if *n > 400 {
		t.Errorf("%d evaluations, want a few hundred", *n)
	}
}

func TestNelderMeadQuadratic(t *testing.T) {
	// An ill-scaled quadratic bowl, weights 1, 10 and 100, minimum 5 at
	// (3, -2, 0.5), in three dimensions. The value must be within the
	// stopping tolerance 1e-9 of the minimum (as for Rosenbrock), and then
	// w_i d_i^2 <= 1e-9 bounds coordinate i's error d_i by sqrt(1e-9/w_i):
	// 3.2e-5, 1e-5 and 3.2e-6.
	c, w := []float64{3, -2, 0.5}, []float64{1, 10, 100}
	f := func(x []float64) float64 {
		s := 5.0
		for i := range x {
			d := x[i] - c[i]
			s += float64(w[i] * float64(d*d))
		}
		return s
	}
	x, fx, err := nelderMead(f, []float64{0, 0, 0}, 0.5, testStop)
	if err != nil {
		t.Fatal(err)
	}
	if fx-5 > 1e-9 {
		t.Errorf("minimum value %.12f, want 5 within 1e-9", fx)
	}
	for i := range x {
		if tol := math.Sqrt(1e-9 / w[i]); math.Abs(x[i]-c[i]) > tol {
			t.Errorf("x[%d] = %v, want %v within %.2g", i, x[i], c[i], tol)
		}
	}
}

func TestNelderMeadShrink(t *testing.T) {
	// A shrink never happens on a strictly convex function (Lagarias et
	// al. 1998), so the other tests do not reach it. Here
	// sqrt|x| + sqrt|y| has a cusp at its minimum 0: from a simplex that
	// straddles it, reflections and contractions both fail and only
	// shrinking towards the best vertex gets closer. Without shrinks the
	// search stalls near f = 0.04; with them it gets below 1e-9, which
	// puts each coordinate within 1e-18 of 0.
	f := func(x []float64) float64 { return math.Sqrt(math.Abs(x[0])) + math.Sqrt(math.Abs(x[1])) }
	x, fx, err := nelderMead(f, []float64{0.3, -0.2}, 1, testStop)
	if err != nil || fx > 1e-9 {
		t.Errorf("minimum at %v, f %g, err %v, want (0, 0), f <= 1e-9", x, fx, err)
	}
}

func TestNelderMeadFlat(t *testing.T) {
	// A flat function never improves: every reflection and contraction is
	// refused, each iteration shrinks the simplex at 1 + 1 + n
	// evaluations, and the search stops after 20 checks, that is 19
	// iterations after the 1 + n evaluations of the first simplex: 79 for
	// n = 2. Ties keep their order, so the best vertex is the first one
	// built, x0 moved by the simplex size along the first coordinate.
	f, n := counted(func([]float64) float64 { return 1 })
	x, fx, err := nelderMead(f, []float64{0, 0}, 0.1, testStop)
	if err != nil || fx != 1 || x[0] != 0.1 || x[1] != 0 || *n != 79 {
		t.Errorf("flat: %v, %v, %v after %d evaluations, want [0.1 0], 1, nil after 79", x, fx, err, *n)
	}
}

func TestNelderMeadNaN(t *testing.T) {
	// NaN ranks worst: here the first vertex of the first simplex, (0.1,
	// 0), is NaN, and so is everything right of x = 0.05; the minimum,
	// (-1, -1), lies on the other side. Were NaN left unordered, an
	// insertion sort would keep it in front as the "best" vertex. A value
	// within 1e-9 of the minimum 0 puts x within sqrt(1e-9) = 3.2e-5 of it.
	bowl := func(x []float64) float64 {
		if x[0] > 0.05 {
			return math.NaN()
		}
		a, b := x[0]+1, x[1]+1
		return float64(a*a) + float64(b*b)
	}
	x, fx, err := nelderMead(bowl, []float64{0, 0}, 0.1, testStop)
	if err != nil {
		t.Fatal(err)
	}
	if fx > 1e-9 || math.Hypot(x[0]+1, x[1]+1) > 3.2e-5 {
		t.Errorf("minimum at %v, f %g, want (-1, -1), 0", x, fx)
	}
	// Without a finite value at the start there is nothing to compare.
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, _, err := nelderMead(func([]float64) float64 { return v }, []float64{0}, 0.1, testStop); err == nil || errors.Is(err, errEvalLimit) {
			t.Errorf("f = %v at the start: err %v, want an error other than the evaluation cap", v, err)
		}
	}
}

func TestNelderMeadEvaluationCap(t *testing.T) {
	// Rosenbrock needs about 200 evaluations; a cap of 50 stops it after
	// exactly 50, and minimize reports non-convergence.
	f, n := counted(rosenbrock)
	if _, _, err := nelderMead(f, []float64{-1.2, 1}, 0.1, nmStop{tol: 1e-9, iters: 20, evals: 50}); !errors.Is(err, errEvalLimit) || *n != 50 {
		t.Errorf("err %v after %d evaluations, want errEvalLimit after 50", err, *n)
	}
	slow := func(x []float64) float64 { return -math.Abs(x[0]) } // never stops improving
	if _, _, err := minimize(slow, []float64{1}, 0.1); !errors.Is(err, ErrNoConverge) {
		t.Errorf("minimize of an unbounded function: err %v, want ErrNoConverge", err)
	}
}

// TestDeterminismNelderMead pins the exact bits of two searches. They are
// what gonum.org/v1/gonum/optimize's NelderMead (v0.17.0) gave with the
// same coefficients, simplex and stopping rule on amd64 when this was
// written, evaluation for evaluation; scripts/crossarch runs this test as
// an arm64 binary, where a fused multiply-add would change them.
func TestDeterminismNelderMead(t *testing.T) {
	for _, c := range []struct {
		x0     []float64
		want   []float64
		fwant  float64
		nwants int
	}{
		{[]float64{-1.2, 1}, []float64{1.0000000719888638, 1.0000001447009803}, 5.23470522655244e-15, 213},
		{[]float64{-1.2, 1, 0.5}, []float64{0.9999998804430066, 0.9999998072444398, 0.9999996813258243}, 7.130760398297574e-13, 382},
	} {
		f, n := counted(rosenbrock)
		x, fx, err := nelderMead(f, c.x0, 0.1, testStop)
		if err != nil {
			t.Fatal(err)
		}
		same := fx == c.fwant && *n == c.nwants
		for i := range x {
			same = same && x[i] == c.want[i]
		}
		if !same {
			t.Errorf("from %v: %v, f %v after %d evaluations; want %v, f %v after %d", c.x0, x, fx, *n, c.want, c.fwant, c.nwants)
		}
	}
}
