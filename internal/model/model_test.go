package model

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// closedForm is the logistic through I(0) = i0 with rate k: the solution of
// dI/dt = k I (1 - I/n).
func closedForm(k, n, i0, t float64) float64 {
	return n / (1 + (n/i0-1)*math.Exp(-k*t))
}

func TestLogisticShape(t *testing.T) {
	p := Logistic{K: 1.8, T: 7, N: 360000}
	if got := p.Infected(7); got != 180000 {
		t.Errorf("Infected(T) = %v, want N/2", got)
	}
	// The peak rate of a logistic is N K / 4, at T.
	if got, want := p.Rate(7), 360000*1.8/4; math.Abs(got-want) > 1e-9*want {
		t.Errorf("Rate(T) = %v, want %v", got, want)
	}
	// Rate is the derivative of Infected: central difference with h = 1e-4
	// has error about h^2 |I'''|/6 ≈ 1e-8 * N K^3 / 6 ≈ 3.5e-3 (plus rounding
	// N*1e-16/h ≈ 4e-7), so 1e-2 is a safe bound.
	for _, x := range []float64{2, 6.5, 9} {
		h := 1e-4
		num := (p.Infected(x+h) - p.Infected(x-h)) / (2 * h)
		if math.Abs(num-p.Rate(x)) > 1e-2 {
			t.Errorf("Rate(%v) = %v, numerical derivative %v", x, p.Rate(x), num)
		}
	}
	// Far in the tails Sigmoid must neither overflow nor lose the value.
	if s := Sigmoid(-800); s != 0 || math.IsNaN(Sigmoid(800)) || Sigmoid(800) != 1 {
		t.Errorf("Sigmoid tails: %v %v", Sigmoid(-800), Sigmoid(800))
	}
	if got := LogSigmoid(-800); got != -800 {
		t.Errorf("LogSigmoid(-800) = %v, want -800", got)
	}
}

func TestTwoFactorReducesToLogistic(t *testing.T) {
	// With γ = μ = η = 0 the two-factor model is dI/dt = β0 (N - I) I, the
	// logistic with K = β0 N. RK4's global error is O(h^4): the relative
	// local error of one step is about (Kh)^5 max|σ^(5)|/120 with
	// max|σ^(5)| = 1/4 at the midpoint, and in the exponential phase relative
	// errors add up over t/h steps, giving K t (Kh)^4 / 480 relative. Solve
	// uses Kh = 0.01 here (η = 0, so the stiffness bound is K), so over 24 h
	// the bound is 43.2e-8/480 ≈ 9e-10 of N ≈ 3.3e-4 hosts; rounding over
	// 4,320 steps adds about 4320 * 2.2e-16 * N ≈ 3.4e-7. We allow 1e-3.
	p := TwoFactor{N: 360000, Beta0: 358 * 60.0 / IPv4Space, I0: 1}
	k := p.Beta0 * p.N
	g, _ := Grid(24, 1.0/60)
	c, err := p.Solve(g)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i, h := range g {
		worst = math.Max(worst, math.Abs(c.Infected[i]-closedForm(k, p.N, p.I0, h)))
	}
	if worst > 1e-3 {
		t.Errorf("max |RK4 - closed form| = %g hosts, want <= 1e-3", worst)
	}
	t.Logf("max error at Kh = 0.01: %g hosts", worst)
}

func TestTwoFactorConvergesAtFourthOrder(t *testing.T) {
	// Halving the step must cut the error by 2^4 = 16 if the integrator is
	// RK4; a first-order slip (Euler) gives 2, a second-order one 4. Steps
	// large enough (Kh = 0.18, 0.09) that the truncation error dwarfs
	// rounding; the ratio is asymptotic, so we accept 12..20.
	p := TwoFactor{N: 360000, Beta0: 358 * 60.0 / IPv4Space, I0: 1}
	k := p.Beta0 * p.N
	errAt := func(h float64) float64 {
		c, err := p.SolveStep([]float64{8, 12}, h)
		if err != nil {
			t.Fatal(err)
		}
		return math.Abs(c.Infected[0]-closedForm(k, p.N, p.I0, 8)) + math.Abs(c.Infected[1]-closedForm(k, p.N, p.I0, 12))
	}
	e1, e2 := errAt(0.1), errAt(0.05)
	if r := e1 / e2; r < 12 || r > 20 {
		t.Errorf("error ratio for halved step = %.2f (errors %g, %g), want about 16", r, e1, e2)
	}
}

func TestTwoFactorBookkeeping(t *testing.T) {
	p := CodeRedTwoFactor()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	g, _ := Grid(48, 0.25)
	c, err := p.Solve(g)
	if err != nil {
		t.Fatal(err)
	}
	// R = γ ∫ I dt. The composite trapezoid rule's error is (Δt)^2/12 times
	// the integral of I'', that is (Δt)^2/12 |I'(48) - I'(0)|; with Δt = 1/4 h
	// and |I'| below the peak infection rate (~1e5 an hour) that is under
	// 600 hosts times γ, against γ∫I of order 1e5 hosts: 1% is ample and
	// still catches a wrong γ or a missing -dR/dt term.
	integral := 0.0
	for i := 1; i < len(g); i++ {
		integral += (c.Infected[i] + c.Infected[i-1]) / 2 * (g[i] - g[i-1])
		// Conservation and positivity, at every sample.
		s := p.N - c.Infected[i] - c.Removed[i] - c.Patched[i]
		if s < -1e-6*p.N || c.Infected[i] < 0 || c.Ever[i] < c.Ever[i-1]-1e-9 {
			t.Fatalf("hour %v: S=%v I=%v J=%v (J before %v)", g[i], s, c.Infected[i], c.Ever[i], c.Ever[i-1])
		}
	}
	last := len(g) - 1
	if want := p.Gamma * integral; math.Abs(c.Removed[last]-want) > 0.01*want {
		t.Errorf("R(48h) = %v, want γ∫I = %v within 1%%", c.Removed[last], want)
	}
	// The paper's qualitative result: patching keeps part of the population
	// from ever being infected, and removal makes I peak and then fall.
	sum := c.Summarize(p.N)
	if c.Ever[last] >= 0.99*p.N || c.Patched[last] <= 0 {
		t.Errorf("J(48h) = %v, Q = %v: patching should spare some hosts", c.Ever[last], c.Patched[last])
	}
	if !(sum.PeakInfectedHour < 48 && c.Infected[last] < sum.PeakInfected/2) {
		t.Errorf("I peaks at %v h (%v) and ends at %v: want a peak and a decline", sum.PeakInfectedHour, sum.PeakInfected, c.Infected[last])
	}
}

func TestValidate(t *testing.T) {
	good := CodeRedTwoFactor()
	for _, tc := range []struct {
		name string
		edit func(*TwoFactor)
		want string
	}{
		{"N", func(p *TwoFactor) { p.N = 0 }, "N = 0"},
		{"beta0", func(p *TwoFactor) { p.Beta0 = math.NaN() }, "beta0 = NaN"},
		{"gamma", func(p *TwoFactor) { p.Gamma = -1 }, "gamma = -1"},
		{"mu", func(p *TwoFactor) { p.Mu = math.Inf(1) }, "mu = +Inf"},
		{"eta", func(p *TwoFactor) { p.Eta = -0.5 }, "eta = -0.5"},
		{"I0 zero", func(p *TwoFactor) { p.I0 = 0 }, "I0 = 0"},
		{"I0 over N", func(p *TwoFactor) { p.I0 = 2 * p.N }, "I0 = 720000"},
	} {
		p := good
		tc.edit(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate = %v, want %q", tc.name, err, tc.want)
		}
	}
	for _, p := range []Logistic{{K: 0, T: 1, N: 1}, {K: 1, T: math.Inf(1), N: 1}, {K: 1, T: 1, N: -1}, {K: 1, T: 1, N: 1, Ceiling: -1}} {
		if p.Validate() == nil {
			t.Errorf("Logistic%+v.Validate() = nil, want an error", p)
		}
	}
}

func TestGridAndCSV(t *testing.T) {
	g, err := Grid(1, 0.4)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{0, 0.4, 0.8, 1}; len(g) != 4 || g[1] != want[1] || g[3] != 1 {
		t.Errorf("Grid(1, 0.4) = %v, want %v", g, want)
	}
	if g, _ := Grid(1, 0.25); len(g) != 5 {
		t.Errorf("Grid(1, 0.25) has %d points, want 5 (no duplicate end)", len(g))
	}
	for _, bad := range [][2]float64{{1, 0}, {-1, 1}, {1e9, 1e-6}} {
		if _, err := Grid(bad[0], bad[1]); err == nil {
			t.Errorf("Grid(%v, %v) = nil error", bad[0], bad[1])
		}
	}
	var buf bytes.Buffer
	c := Logistic{K: 1.8, T: 0.5, N: 100}.Curve([]float64{0.5})
	if err := WriteCSV(&buf, c); err != nil {
		t.Fatal(err)
	}
	if want := CSVHeader + "\n30,0.5,50,0,0,50,45\n"; buf.String() != want {
		t.Errorf("WriteCSV =\n%q\nwant\n%q", buf.String(), want)
	}
}

func TestSummarizeInterpolates(t *testing.T) {
	// A logistic sampled every 2 h: linear interpolation between samples
	// around T = 7 puts the half time within the curve's curvature, which
	// for a symmetric pair of samples (6 and 8) is exactly T.
	p := Logistic{K: 1.8, T: 7, N: 1000}
	g, _ := Grid(14, 2)
	s := p.Curve(g).Summarize(p.N)
	if math.Abs(s.HalfHour-7) > 1e-12 || s.PeakRateHour != 6 && s.PeakRateHour != 8 {
		t.Errorf("Summarize = %+v, want half at 7 and peak at 6 or 8", s)
	}
	if s := (Logistic{K: 1.8, T: 30, N: 1000}).Curve(g).Summarize(1000); !math.IsNaN(s.HalfHour) {
		t.Errorf("HalfHour = %v for a curve that never reaches half, want NaN", s.HalfHour)
	}
}

func TestBetaWholeAndFractionalEta(t *testing.T) {
	// The multiplication shortcut for whole η must agree with math.Pow to
	// rounding (a few ulps over three multiplications).
	for _, eta := range []float64{1, 3, 2.5, 9} {
		p := TwoFactor{N: 1000, Beta0: 2, Eta: eta}
		got, want := p.beta(250), 2*math.Pow(0.75, eta)
		if math.Abs(got-want) > 1e-15 {
			t.Errorf("beta(η=%v) = %v, want %v", eta, got, want)
		}
	}
}

// TestCeiling: with a network capacity the logistic is unchanged until
// Ceiling hosts are infected and then closes on N exponentially; the
// two-factor ODE with γ = μ = η = 0 and the same ceiling must follow that
// closed form to RK4's accuracy (1e-6 relative here, far above its
// 1e-10), which checks both: a slip in either (the rate after the kink,
// or where the kink sits) moves the curves apart by percents.
func TestCeiling(t *testing.T) {
	const n, k = 75000.0, 288.0 // Slammer-like: K = 0.08 a second, in hours
	plain := Logistic{K: k, T: 0.05, N: n}
	capped := plain
	capped.Ceiling = n / 6
	tc, ac, ok := capped.saturates()
	if !ok || math.Abs(plain.Share(tc)-ac) > 1e-12 {
		t.Fatalf("the network fills at %v h with share %v; the logistic there is %v", tc, ac, plain.Share(tc))
	}
	for _, h := range []float64{0, tc / 2, tc} {
		if capped.Share(h) != plain.Share(h) {
			t.Errorf("hour %v: capped %v, plain %v: early growth must not change", h, capped.Share(h), plain.Share(h))
		}
	}
	// After the kink the rate is N K ac (1-a): at most the capacity's share.
	if r, want := capped.Rate(tc+0.01), n*k*ac*(1-capped.Share(tc+0.01)); math.Abs(r/want-1) > 1e-12 {
		t.Errorf("rate after the kink %v, want %v", r, want)
	}
	if capped.Share(tc+0.05) >= plain.Share(tc+0.05) {
		t.Error("the ceiling does not slow the late growth")
	}
	tf := TwoFactor{N: n, Beta0: k / n, I0: plain.Infected(0), Ceiling: capped.Ceiling}
	hours := []float64{0.02, tc, tc + 0.01, tc + 0.03, tc + 0.1}
	c, err := tf.Solve(hours)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hours {
		if want := capped.Infected(h); math.Abs(c.Infected[i]/want-1) > 1e-6 {
			t.Errorf("hour %.4f: two-factor %v, logistic with ceiling %v", h, c.Infected[i], want)
		}
	}
}
