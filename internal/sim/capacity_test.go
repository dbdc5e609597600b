package sim

import (
	"math"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/model"
	"github.com/wormlab/wormlab/internal/worm"
)

// TestEnginesAgreeScanCapacity: 1,000 hosts in 2^18 addresses at 1 probe
// a second, 10 initial copies, and a network that carries 100 probes a
// second: the cap binds once 100 hosts are infected (near 600 s), after
// which growth is linear in the susceptible hosts and half are infected
// near 2,100 s. Both engines must agree (KS at alpha = 0.01 over 200 runs
// each; power as ksPower), and no bin may carry more probes than the
// capacity allows: 1,000 a 10 s bin, Poisson sd 32, so 1,000 + 6 sd over
// 300 bins (a false alarm per bin of 1e-9).
func TestEnginesAgreeScanCapacity(t *testing.T) {
	runs := sized(t, 10, 100, 200)
	c := scaled(t, 18, 1000, 1, 3000*time.Second, 10*time.Second, worm.Uniform{})
	c.Initial = []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	c.ScanCapacity = 100
	peak := statistic{"largest probes in a bin", func(_ *Config, r *Result) float64 {
		m := 0.0
		for _, row := range r.Rows {
			m = max(m, float64(row.Probes))
		}
		if m > 1000+6*math.Sqrt(1000) {
			t.Errorf("%s engine: %v probes in a 10 s bin, over the capacity of 1,000", r.Engine, m)
		}
		return m
	}}
	compareEngines(t, c, runs, 150, peak)
}

// TestScanCapacityODE: the mean of 100 event-engine runs with a capacity
// tracks the two-factor ODE with the same ceiling (capacity over one
// host's rate, in hosts), and the run without the capacity keeps the same
// early growth. 20,000 hosts in 2^24 at 2 probes a second, 100 initial,
// capacity 4,000 probes a second (the network fills at 2,000 infected,
// near 1,250 s). Tolerance as TestTwoFactorODE: 3 run-to-run sd at every
// 10-minute row. A ceiling applied at twice or half the capacity moves
// the mean by over 10 sd from hour 1 on.
func TestScanCapacityODE(t *testing.T) {
	const (
		n     = 20000
		bits  = 24
		rate  = 2.0
		i0    = 100
		cap   = 4000.0
		hours = 3
	)
	c := scaled(t, bits, n, rate, hours*time.Hour, 10*time.Minute, worm.Uniform{})
	c.Initial = nil
	for i := range i0 {
		c.Initial = append(c.Initial, int32(i*7))
	}
	c.ScanCapacity = cap
	runs := sized(t, 10, 100, 100)
	nrow := hours*6 + 1
	sum, sq := infectedMoments(t, c, runs, nrow)
	grid := make([]float64, nrow)
	for m := range grid {
		grid[m] = float64(m) / 6
	}
	p := model.TwoFactor{N: n, Beta0: rate * 3600 / (math.Exp2(bits) - 1), I0: i0, Ceiling: cap / rate}
	curve, err := p.Solve(grid)
	if err != nil {
		t.Fatal(err)
	}
	free := p
	free.Ceiling = 0
	uncapped, _ := free.Solve(grid)
	worst := 0.0
	for m := range nrow {
		mean := sum[m] / float64(runs)
		sd := math.Sqrt(max(sq[m]/float64(runs)-mean*mean, 0))
		d := math.Abs(mean - curve.Infected[m])
		if sd > 0 {
			worst = max(worst, d/sd)
		}
		if d > 3*sd+0.5 {
			t.Errorf("hour %.2f: runs' mean %.0f (sd %.0f), ODE with the ceiling %.0f (without %.0f)", grid[m], mean, sd, curve.Infected[m], uncapped.Infected[m])
		}
	}
	t.Logf("largest gap between the runs' mean and the ODE: %.2f run-to-run sd; at 3 h: %.0f infected, %.0f without the cap", worst, curve.Infected[nrow-1], uncapped.Infected[nrow-1])
}
