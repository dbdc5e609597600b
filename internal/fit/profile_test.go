package fit

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/wormlab/wormlab/internal/series"
)

func readObs(t testing.TB, path string) Obs {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := series.Read(f, path)
	if err != nil {
		t.Fatal(err)
	}
	o, err := FromSeries(s, path)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// carefulMin minimises f far more carefully than minimize: Nelder-Mead
// from each start, restarted from its own result with a fresh simplex,
// first of size 0.1 and then 0.01, for as long as a restart gains more
// than 1e-11 nats, and the best over all starts: a fresh simplex undoes
// one that collapsed before it reached the minimum.
func carefulMin(f func([]float64) float64, starts [][]float64) ([]float64, float64) {
	var best []float64
	fbest := math.Inf(1)
	for _, s := range starts {
		x, fx := s, f(s)
		for _, size := range []float64{0.1, 0.01} {
			for range 30 {
				y, fy, err := nelderMead(f, x, size, nmStop{tol: 1e-12, iters: 30, evals: 20000})
				if err != nil || !(fy < fx-1e-11) {
					break
				}
				x, fx = y, fy
			}
		}
		if fx < fbest {
			best, fbest = x, fx
		}
	}
	return best, fbest
}

// TestTwoFactorProfileBounds checks each two-factor interval end in
// testdata/profile (series whose profile minima sit where the starting
// infected count meets its floor of 1e-9 hosts, as Slammer's 10-second
// bins do) against a careful minimisation: the deviance there,
// 2 (min over the free parameters of the nll with the bound fixed - the
// nll's global minimum), must be chi2q95.
//
// The tolerance: minimize stops once 20 iterations gain under 1e-9
// nats, which leaves each minimum within about 1e-4 nats of the true one
// (its doc: what interval ends need), so the deviance is off by at most
// 2 (1e-4 + 1e-4) = 4e-4; the root finder stops at |sqrt(dev) - 1.96| <
// 1e-6, another 4e-6. We allow 5e-4. The deviance's slope at the bound is
// 2·1.96/σ, σ the parameter's standard error (for Slammer's log N about
// 0.0036, half the interval's log-width over 1.96), so the smallest error
// detected is 5e-4·σ/3.92: about 5e-7 of N, 0.04 of its 89,500 hosts,
// under 0.01% of the interval's half-width. The bug this guards against
// left N's lower end 12 hosts (deviance 3.70) inside the true one.
func TestTwoFactorProfileBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("ODE fits")
	}
	files, err := filepath.Glob("testdata/profile/*.csv")
	if err != nil || len(files) == 0 {
		t.Fatalf("no series in testdata/profile: %v", err)
	}
	const tol = 5e-4
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			o := readObs(t, path)
			fixed := DefaultTwoFactorFixed()
			r, err := TwoFactor(o, 1, fixed)
			if err != nil {
				t.Fatal(err)
			}
			tf := twoFactorLL{o: o, c: 1, fixed: fixed}
			for _, e := range o.Ends {
				tf.hours = append(tf.hours, e-o.Ends[0])
			}
			est := []float64{math.Log(r.Params[0].Value.Est), math.Log(r.Params[1].Value.Est), math.Log(r.Params[3].Value.Est)}
			// Starts spread over the infected count at the start, from
			// its floor to the whole first bin.
			spread := func(x []float64) [][]float64 {
				var ss [][]float64
				for _, is := range []float64{1e-9, 1e-4, 1, math.Max(o.Counts[0], 1)} {
					s := append([]float64(nil), x...)
					s[2] = math.Log(is) + 0.01
					ss = append(ss, s)
				}
				return ss
			}
			_, fmin := carefulMin(tf.nll, spread(est))
			if d := -r.LogLik - fmin; d > 1e-4 {
				t.Errorf("the fit's maximum is %g nats short of the careful one", d)
			}
			for j, name := range []string{"N", "beta0"} {
				v := r.Params[j].Value
				for _, b := range []float64{v.Lo, v.Hi} {
					fix := math.Log(b)
					g := func(y []float64) float64 {
						x := []float64{0, 0, y[len(y)-1]}
						x[j], x[1-j] = fix, y[0]
						return tf.nll(x)
					}
					var starts [][]float64
					for _, s := range spread(est) {
						starts = append(starts, []float64{s[1-j], s[2]})
					}
					_, fb := carefulMin(g, starts)
					dev := 2 * (fb - fmin)
					t.Logf("%s bound %.6g: deviance %.6f", name, b, dev)
					if math.Abs(dev-chi2q95) > tol {
						t.Errorf("%s bound %.6g has deviance %.6f, want %.4f ± %g", name, b, dev, chi2q95, tol)
					}
				}
			}
		})
	}
}
