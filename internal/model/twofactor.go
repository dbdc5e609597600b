package model

import (
	"fmt"
	"math"

	"github.com/wormlab/wormlab/internal/detmath"
)

// TwoFactor is the two-factor worm model of Zou, Gong and Towsley, "Code
// Red Worm Propagation Modeling and Analysis" (ACM CCS 2002, section 5). It
// extends the simple epidemic model by the two factors of the paper's
// abstract: human countermeasures, which remove hosts from both the
// susceptible and the infectious populations, and an infection rate that
// slows as the worm's own traffic congests the network:
//
//	dI/dt = β(t) [N - R - I - Q] I - dR/dt
//	dR/dt = γ I
//	dQ/dt = μ S J,  J = I + R
//	β(t)  = β0 (1 - I/N)^η
//
// I counts infectious hosts, R infectious hosts removed (cleaned or patched
// after infection), Q susceptible hosts patched before infection, and J the
// hosts infected so far. The paper writes the population as conserved,
// N = S + I + R + Q, which is where S comes from: S = N - I - R - Q, so the
// bracket in dI/dt is S and dS/dt = -β(t) S I - dQ/dt. (The equations were
// checked against docs/DESIGN.md §6 and a secondary summary of the paper
// that gives the dI/dt form; the stored copy of the paper available to us
// held only its abstract.) The paper's numerical example uses N = 1,000,000,
// I0 = 1, η = 3, γ = 0.05, μ = 0.06/N and β0 = 0.8/N in its own time unit.
//
// With γ = μ = η = 0 the model reduces to the logistic with K = β0 N.
type TwoFactor struct {
	N     float64 // vulnerable hosts; > 0 and finite
	Beta0 float64 // pairwise infection rate per hour: scan rate per hour / address space; > 0
	Gamma float64 // removal rate of infectious hosts per hour; >= 0
	Mu    float64 // patching rate per susceptible host per host infected so far, per hour; >= 0
	Eta   float64 // congestion exponent; >= 0 (0: no slowdown)
	I0    float64 // infectious hosts at hour 0; 0 < I0 <= N (R and Q start at 0)
	// Ceiling, when > 0, is the network's capacity in hosts: the
	// aggregate scan rate it carries over one host's scan rate. The
	// infected hosts' combined scanning, I (1 - I/N)^η, is capped there,
	// so β(t) S I becomes β0 min(I (1 - I/N)^η, Ceiling) S: unchanged
	// early, linear in S once the links are full (Slammer; Moore et al.,
	// "Inside the Slammer Worm", IEEE Security and Privacy 2003). 0: none.
	Ceiling float64
}

// Validate reports the first parameter outside its documented range.
func (p TwoFactor) Validate() error {
	bad := func(name string, v float64, want string) error {
		return fmt.Errorf("two-factor: %s = %v, want %s", name, v, want)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !(p.N > 0) || !finite(p.N):
		return bad("N", p.N, "a positive population")
	case !(p.Beta0 > 0) || !finite(p.Beta0):
		return bad("beta0", p.Beta0, "a positive rate per hour")
	case !(p.Gamma >= 0) || !finite(p.Gamma):
		return bad("gamma", p.Gamma, "a rate per hour >= 0")
	case !(p.Mu >= 0) || !finite(p.Mu):
		return bad("mu", p.Mu, "a rate >= 0")
	case !(p.Eta >= 0) || !finite(p.Eta):
		return bad("eta", p.Eta, "an exponent >= 0")
	case !(p.I0 > 0) || p.I0 > p.N:
		return bad("I0", p.I0, fmt.Sprintf("between 0 (exclusive) and N = %v", p.N))
	case !(p.Ceiling >= 0) || !finite(p.Ceiling):
		return bad("ceiling", p.Ceiling, "hosts >= 0 (0: no capacity limit)")
	}
	return nil
}

// stiffness bounds the magnitude of the Jacobian of the right-hand side
// over the state space, per hour: β0 S and β0 I are at most β0 N, the
// congestion factor's derivative adds at most η β0 N, γ enters once and μ
// twice (through S and J).
func (p TwoFactor) stiffness() float64 {
	return float64((1+p.Eta)*p.Beta0*p.N) + p.Gamma + float64(2*p.Mu*p.N)
}

// solveStepScale is λh for Solve's RK4 step, λ the stiffness bound. RK4's
// local error is O((λh)^5) relative to the solution, so λh = 0.01 makes each
// step's error about 1e-12 of the state and the global error, accumulated
// over λt steps of growth, near 1e-10 relative for a day of Code Red; the
// logistic test measures it.
const solveStepScale = 0.01

// Solve integrates the model from hour 0 and samples it at the given hours,
// which must be non-negative and non-decreasing.
func (p TwoFactor) Solve(hours []float64) (Curve, error) {
	return p.SolveStep(hours, solveStepScale/p.stiffness())
}

// SolveStep is Solve with a maximum RK4 step of h hours; the fitter uses a
// coarser step than Solve's to save time where its error is still far below
// the counting noise.
func (p TwoFactor) SolveStep(hours []float64, h float64) (Curve, error) {
	if err := p.Validate(); err != nil {
		return Curve{}, err
	}
	if !(h > 0) {
		return Curve{}, fmt.Errorf("two-factor: step %v h, want > 0", h)
	}
	c := newCurve(hours)
	x := state{I: p.I0}
	t := 0.0
	for i, target := range hours {
		if !(target >= t) {
			return Curve{}, fmt.Errorf("two-factor: sample hour %v is before %v; hours must be non-negative and non-decreasing", target, t)
		}
		// Equal steps that land exactly on the sample time.
		if span := target - t; span > 0 {
			n := math.Ceil(span / h)
			dt := span / n
			for k := 0; k < int(n); k++ {
				x = p.rk4(x, dt)
			}
			t = target
		}
		c.Infected[i], c.Removed[i], c.Patched[i] = x.I, x.R, x.Q
		c.Ever[i] = x.I + x.R
		c.Rate[i] = p.infection(x)
	}
	return c, nil
}

type state struct{ I, R, Q float64 }

// plus returns a + f b. Each product is rounded before the sum, here and
// throughout the package, so that no compiler fuses them into one
// multiply-add (which rounds once, on arm64 and not on amd64) and a curve
// comes out the same on every architecture.
func (a state) plus(b state, f float64) state {
	return state{a.I + float64(f*b.I), a.R + float64(f*b.R), a.Q + float64(f*b.Q)}
}

// infection returns β(t) S I, the new infections per hour.
func (p TwoFactor) infection(x state) float64 {
	s := math.Max(0, p.N-x.I-x.R-x.Q) // rounding can take S a hair below 0 at saturation
	return p.scanning(x.I) * s
}

// scanning returns β(t) I, capped at β0 Ceiling.
func (p TwoFactor) scanning(i float64) float64 {
	b := p.beta(i) * i
	if p.Ceiling > 0 {
		b = math.Min(b, p.Beta0*p.Ceiling)
	}
	return b
}

func (p TwoFactor) beta(i float64) float64 {
	if p.Eta == 0 {
		return p.Beta0
	}
	f := math.Max(0, 1-i/p.N)
	// Whole exponents (the paper's η = 3) by multiplication: math.Pow is
	// most of the cost of a right-hand side, and the fitter solves the model
	// thousands of times.
	if e := int(p.Eta); float64(e) == p.Eta && e <= 8 {
		b := p.Beta0
		for ; e > 0; e-- {
			b *= f
		}
		return b
	}
	return p.Beta0 * detmath.Exp(p.Eta*detmath.Log(f)) // f^η; 0 at f = 0
}

// deriv is the right-hand side; S = N - I - R - Q by conservation.
func (p TwoFactor) deriv(x state) state {
	s := math.Max(0, p.N-x.I-x.R-x.Q)
	dR := float64(p.Gamma * x.I) // rounded: it is subtracted below
	return state{
		I: float64(p.scanning(x.I)*s) - dR,
		R: dR,
		Q: p.Mu * s * (x.I + x.R),
	}
}

// rk4 is one classical Runge-Kutta step of dt hours.
func (p TwoFactor) rk4(x state, dt float64) state {
	k1 := p.deriv(x)
	k2 := p.deriv(x.plus(k1, dt/2))
	k3 := p.deriv(x.plus(k2, dt/2))
	k4 := p.deriv(x.plus(k3, dt))
	return x.plus(k1.plus(k2, 2).plus(k3, 2).plus(k4, 1), dt/6)
}

// Address-space and Code Red constants for the defaults below.
const (
	IPv4Space        = 1 << 32 // addresses a uniform scanner picks from
	CodeRedN         = 360000  // vulnerable hosts, docs/DESIGN.md §6 (Zou 2002; Moore 2002: over 359,000 infected)
	CodeRedScanPerMn = 358     // probes per minute per host, docs/DESIGN.md §6 (Zou 2002)
)

// CodeRedTwoFactor returns the two-factor parameters used as defaults: N and
// β0 = 358 probes a minute over 2^32 addresses from docs/DESIGN.md §6, so that
// β0 N ≈ 1.80 per hour, matching Staniford's K ≈ 1.8; one initial infection;
// and γ, μ, η from the paper's numerical example (γ = 0.05, μN = 0.06,
// η = 3 in a time unit where β0 N = 0.8), rescaled to hours by keeping the
// ratios γ/(β0 N) and μN/(β0 N), as the paper gives no unit. They are an
// illustration of the model's shape, not a calibration to 2001's data.
func CodeRedTwoFactor() TwoFactor {
	beta0 := CodeRedScanPerMn * 60.0 / IPv4Space
	k := beta0 * CodeRedN
	return TwoFactor{
		N:     CodeRedN,
		Beta0: beta0,
		Gamma: 0.05 / 0.8 * k,
		Mu:    0.06 / 0.8 * k / CodeRedN,
		Eta:   3,
		I0:    1,
	}
}
