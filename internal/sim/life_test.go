package sim

import (
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/worm"
)

func stateAt(name string, row int, st State) statistic {
	return statistic{name, func(_ *Config, r *Result) float64 {
		x := r.Rows[row]
		return float64([]int64{x.Susceptible, x.Infected, x.Patched, x.Removed}[st])
	}}
}

// TestEnginesAgreeLifeCycle: patching (constant, awareness-driven and a
// schedule), clean-up, reboots and congestion together, on the uniform
// scaled scenario; the patched and removed counts are compared too.
//
// Power: 200 seeds detect a 1.7% scan-rate error (80% power, alpha 0.01),
// the long mode's 700 about 0.9%. The life-cycle rates themselves are
// checked against their laws in rates_test.go, since a fault there would
// move both engines together.
func TestEnginesAgreeLifeCycle(t *testing.T) {
	runs := sized(t, 10, 200, 700)
	c := scaled(t, 20, 4000, 1.5, 2000*time.Second, 10*time.Second, worm.Uniform{})
	c.Initial = []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	c.Life = Life{
		PatchRate:     1e-4,
		PatchAware:    1e-7,
		PatchSchedule: []RateStep{{From: t0.Add(1000 * time.Second), PerSecond: 2e-4}},
		CleanupRate:   2e-4,
		RebootRate:    3e-4,
		CongestionEta: 2,
	}
	requirePower(t, compareEngines(t, c, runs, 150,
		stateAt("patched at 1,500 s", 150, Patched),
		stateAt("removed at the end", 200, Removed)))
}

// TestEnginesAgreeCalendar: every host keeps its own calendar. The run
// starts on 31 July (dormant) and crosses into 1 August; copies wake up to
// two hours after midnight, and a tenth of the hosts have clocks 12 hours
// fast, so they spread while the others sleep.
func TestEnginesAgreeCalendar(t *testing.T) {
	runs := sized(t, 10, 100, 200)
	// 1,000 hosts in 2^18 addresses at 0.2 probes a second: K = 2.7 an
	// hour, slow enough that the wake-up delays and fast clocks shape the
	// curve, and at most 3 million probes a run.
	c := scaled(t, 18, 1000, 0.2, 4*time.Hour, time.Minute, worm.Uniform{})
	c.Start = time.Date(2001, 7, 31, 22, 0, 0, 0, time.UTC)
	c.Calendar = worm.CodeRedI{}
	c.Initial = nil
	c.ClockOffset = make([]float64, len(c.Hosts))
	for i := range c.Hosts {
		if i%10 == 0 {
			c.ClockOffset[i] = 12 * 3600
		}
		if i%20 == 0 {
			c.Initial = append(c.Initial, int32(i))
		}
	}
	c.WakeDelayMax = 2 * 3600
	compareEngines(t, c, runs, 180)
}

// TestWakeDelay: no copy spreads before midnight on the 1st or after its
// wake-up delay; with a two-hour delay and one copy, nothing happens before
// 00:00 and something after.
func TestWakeDelay(t *testing.T) {
	heavy(t)
	c := scaled(t, 16, 2000, 0.5, 5*time.Hour, time.Minute, worm.Uniform{})
	c.Start = time.Date(2001, 7, 31, 22, 0, 0, 0, time.UTC)
	c.Calendar = worm.CodeRedI{}
	c.WakeDelayMax = 2 * 3600
	for _, run := range []func(*Config, uint64) (*Result, error){RunEvent, RunProbe} {
		r, err := run(c, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range r.Rows[:121] {
			if row.NewInfections > 0 || row.Probes > 0 {
				t.Fatalf("%s: activity while dormant, at %v", r.Engine, row.At)
			}
		}
		if r.Rows[len(r.Rows)-1].Infected < 2 {
			t.Errorf("%s: the copy never woke", r.Engine)
		}
	}
}
