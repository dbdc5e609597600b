package sim

import (
	"math"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/model"
	"github.com/wormlab/wormlab/internal/worm"
)

// TestTwoFactorODE: the mean of 100 event-engine runs with the two-factor
// model's options (awareness-driven patching mu S J, removal gamma I,
// congestion (1 - I/N)^eta) tracks the model's ODE with the same
// parameters (Zou, Gong, Towsley 2002, solved by internal/model).
//
// Tolerance from the run-to-run spread: at every hour the ODE must lie
// within 3 standard deviations of the runs around their mean (a band that
// would hold 99.7% of normal runs). The ODE is the mean-field limit, so
// this holds unless the engine and the model disagree by more than the
// randomness itself.
func TestTwoFactorODE(t *testing.T) {
	const (
		n     = 20000
		bits  = 24
		rate  = 2.0  // probes a second
		gamma = 0.5  // per hour
		mu    = 2e-5 // per susceptible host per infected host, per hour
		eta   = 3.0
		i0    = 100
		hours = 4
	)
	c := scaled(t, bits, n, rate, hours*time.Hour, 10*time.Minute, worm.Uniform{})
	c.Initial = nil
	for i := range i0 {
		c.Initial = append(c.Initial, int32(i*7))
	}
	c.Life = Life{CleanupRate: gamma / 3600, PatchAware: mu / 3600, CongestionEta: eta}
	runs := sized(t, 10, 100, 100)
	nrow := int(hours*time.Hour/(10*time.Minute)) + 1
	sum, sq := infectedMoments(t, c, runs, nrow)
	hoursGrid := make([]float64, nrow)
	for m := range hoursGrid {
		hoursGrid[m] = float64(m) / 6
	}
	// beta0 per hour: each probe lands on a given other address with
	// probability 1/(2^bits - 1).
	p := model.TwoFactor{N: n, Beta0: rate * 3600 / (math.Exp2(bits) - 1), Gamma: gamma, Mu: mu, Eta: eta, I0: i0}
	curve, err := p.Solve(hoursGrid)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for m := range nrow {
		mean := sum[m] / float64(runs)
		sd := math.Sqrt(max(sq[m]/float64(runs)-mean*mean, 0))
		d := math.Abs(mean - curve.Infected[m])
		if sd > 0 {
			worst = max(worst, d/sd)
		}
		if d > 3*sd+0.5 { // +0.5: the integer counts at hour 0 have sd 0
			t.Errorf("hour %.2f: runs' mean %.0f (sd %.0f), ODE %.0f", hoursGrid[m], mean, sd, curve.Infected[m])
		}
	}
	t.Logf("largest gap between the runs' mean and the ODE: %.2f run-to-run sd", worst)
}

// infectedMoments runs the event engine on seeds 0..runs-1 and returns,
// per row, the sum and the sum of squares of the infected count: the
// pieces of the mean and run-to-run spread that the ODE tests compare.
func infectedMoments(t *testing.T, c *Config, runs, nrow int) (sum, sq []float64) {
	t.Helper()
	sum = make([]float64, nrow)
	sq = make([]float64, nrow)
	for s := range runs {
		r, err := RunEvent(c, uint64(s))
		if err != nil {
			t.Fatal(err)
		}
		for m, row := range r.Rows {
			v := float64(row.Infected)
			sum[m] += v
			sq[m] += v * v
		}
	}
	return sum, sq
}
