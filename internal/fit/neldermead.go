package fit

import (
	"errors"
	"fmt"
	"math"
)

// The coefficients of the simplex moves: reflection 1, expansion 2,
// contraction 1/2 and shrink 1/2, the standard choice of Nelder and Mead
// (The Computer Journal 7(4), 1965) as stated by Lagarias, Reeds, Wright
// and Wright (SIAM J. Optim. 9(1), 1998, section 2).
const (
	nmReflect  = 1.0
	nmExpand   = 2.0
	nmContract = 0.5
	nmShrink   = 0.5
)

// nmStop is when nelderMead stops: with success once the best value has
// not improved by more than tol over iters successive iterations, with
// errEvalLimit as soon as f has been evaluated evals times (that last
// value unused).
type nmStop struct {
	tol   float64
	iters int
	evals int
}

// errEvalLimit marks a minimization stopped by its evaluation cap.
var errEvalLimit = errors.New("evaluation limit reached")

// nelderMead minimizes f by the downhill simplex method of Nelder and
// Mead (The Computer Journal 7(4), 1965). The first simplex is x0 and, for
// each coordinate i, x0 with size added to coordinate i. It returns the best
// vertex and its value.
//
// Each iteration replaces the worst vertex by a point on the line through
// it and the centroid of the others (reflected, expanded, or contracted
// outside or inside), or shrinks the simplex towards the best vertex;
// the acceptance rules are those of Lagarias et al. (1998). Among equal
// values the newer vertex ranks better, and sorting is stable. A point
// where f is NaN ranks as +Inf, worst of all; x0 must have a finite value.
//
// Every sum of a product is rounded explicitly (float64() around the
// product; Go spec, "Floating-point operators"), so no compiler fuses it
// into a multiply-add and the path of the simplex, and so a seeded
// bootstrap's output, is the same on every architecture.
func nelderMead(f func([]float64) float64, x0 []float64, size float64, stop nmStop) ([]float64, float64, error) {
	n := len(x0)
	if n == 0 {
		return nil, 0, errors.New("nelderMead: no parameters")
	}
	evals := 0
	arg := make([]float64, n) // f gets a copy, so it cannot move a vertex
	eval := func(x []float64) (float64, error) {
		copy(arg, x)
		v := f(arg)
		if evals++; evals >= stop.evals {
			return 0, errEvalLimit
		}
		if math.IsNaN(v) {
			v = math.Inf(1)
		}
		return v, nil
	}

	f0, err := eval(x0)
	if err != nil {
		return nil, 0, err
	}
	if math.IsInf(f0, 0) {
		return nil, 0, fmt.Errorf("the function is %v at the starting point", f0)
	}
	pts := make([][]float64, n+1) // vertices, best first
	vals := make([]float64, n+1)
	for i := range n {
		pts[i] = append([]float64(nil), x0...)
		pts[i][i] += size
		if vals[i], err = eval(pts[i]); err != nil {
			return nil, 0, err
		}
	}
	pts[n], vals[n] = append([]float64(nil), x0...), f0
	sortSimplex(pts, vals)
	c := make([]float64, n)
	centroid(c, pts[:n])

	trial := make([]float64, n)
	refl := make([]float64, n)
	// along sets dst to the centroid moved t times (centroid - worst).
	along := func(dst []float64, t float64) {
		for j := range dst {
			dst[j] = c[j] + float64(t*(c[j]-pts[n][j]))
		}
	}
	// replace puts x in place of the worst vertex, keeps the order and
	// moves the centroid by the vertex that leaves it and the one that
	// joins it.
	replace := func(x []float64, fx float64) {
		copy(pts[n], x)
		vals[n] = fx
		for i := n - 1; i >= 0 && !(vals[i] < fx); i-- {
			pts[i], pts[i+1] = pts[i+1], pts[i]
			vals[i], vals[i+1] = vals[i+1], vals[i]
		}
		d := float64(n)
		for j := range c {
			c[j] += float64(-1 / d * pts[n][j])
			c[j] += float64(1 / d * x[j])
		}
	}
	shrink := func() error {
		for i := 1; i <= n; i++ {
			for j := range pts[i] {
				pts[i][j] = pts[0][j] + float64(nmShrink*(pts[i][j]-pts[0][j]))
			}
			var err error
			if vals[i], err = eval(pts[i]); err != nil {
				return err
			}
		}
		sortSimplex(pts, vals)
		centroid(c, pts[:n])
		return nil
	}

	best, stale := f0, 0
	for {
		if math.IsInf(vals[0], -1) {
			return nil, 0, errors.New("the function is -Inf")
		}
		if vals[0] < best && best-vals[0] > stop.tol {
			best, stale = vals[0], 0
		} else if stale++; stale >= stop.iters {
			return append([]float64(nil), pts[0]...), vals[0], nil
		}

		along(refl, nmReflect)
		fr, err := eval(refl)
		if err != nil {
			return nil, 0, err
		}
		switch {
		case fr >= vals[0] && fr < vals[n-1]:
			replace(refl, fr)
		case fr < vals[0]:
			along(trial, nmReflect*nmExpand)
			fe, err := eval(trial)
			if err != nil {
				return nil, 0, err
			}
			if fe < fr {
				replace(trial, fe)
			} else {
				replace(refl, fr)
			}
		case fr < vals[n]:
			along(trial, nmReflect*nmContract)
			fc, err := eval(trial)
			if err != nil {
				return nil, 0, err
			}
			if fc <= fr {
				replace(trial, fc)
			} else if err := shrink(); err != nil {
				return nil, 0, err
			}
		default:
			along(trial, -nmContract)
			fc, err := eval(trial)
			if err != nil {
				return nil, 0, err
			}
			if fc < vals[n] {
				replace(trial, fc)
			} else if err := shrink(); err != nil {
				return nil, 0, err
			}
		}
	}
}

// sortSimplex orders the vertices by value, best first, keeping the order
// of equal values (insertion sort: a simplex has a handful of vertices).
func sortSimplex(pts [][]float64, vals []float64) {
	for i := 1; i < len(vals); i++ {
		for j := i; j > 0 && vals[j] < vals[j-1]; j-- {
			pts[j], pts[j-1] = pts[j-1], pts[j]
			vals[j], vals[j-1] = vals[j-1], vals[j]
		}
	}
}

// centroid sets c to the mean of pts.
func centroid(c []float64, pts [][]float64) {
	clear(c)
	for _, p := range pts {
		for j, v := range p {
			c[j] += v
		}
	}
	for j := range c {
		c[j] /= float64(len(pts))
	}
}
