// Package sim runs worm outbreaks over a simulated address space. It has
// two engines for one model (DESIGN.md section 3): each infected, spreading
// host sends probes as a Poisson process at its own rate, each probe picks
// its target independently by the worm's strategy, and a probe that reaches
// a susceptible vulnerable host infects it at once.
//
// The event engine (RunEvent) draws the infections themselves, so its cost
// grows with events rather than probes; the probe engine (RunProbe) sends
// every probe through the worm's own target generator and is the reference
// the event engine is tested against.
package sim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/worm"
)

// State is a vulnerable host's condition.
type State uint8

const (
	Susceptible State = iota // vulnerable and not infected
	Infected                 // running the worm
	Patched                  // immune: patched before infection
	Removed                  // infected once, then cleaned and immune
	numStates
)

// Config is one simulation's input. Times are simulated; nothing here reads
// the wall clock.
type Config struct {
	Start    time.Time     // the simulated clock at the run's start (UTC)
	Duration time.Duration // how long to simulate
	Step     time.Duration // width of the output bins; Duration must be a multiple

	// SpaceBits sets the simulated space: addresses 0 to 2^SpaceBits-1. The
	// full IPv4 space has 32; scaled-down spaces keep tests fast.
	SpaceBits int
	Hosts     []ipspace.Addr // the vulnerable hosts, sorted, distinct, inside the space
	Rates     []float64      // each host's probes per second while it spreads
	Initial   []int32        // indexes into Hosts of the hosts infected at Start

	Strategy worm.Strategy
	Calendar worm.Calendar
}

// Validate reports the first problem with c, if any.
func (c *Config) Validate() error {
	switch {
	case c.SpaceBits < 1 || c.SpaceBits > 32:
		return fmt.Errorf("sim: space of 2^%d addresses: want 1 to 32 bits", c.SpaceBits)
	case c.Duration <= 0:
		return errors.New("sim: duration must be positive")
	case c.Step <= 0 || c.Duration%c.Step != 0:
		return fmt.Errorf("sim: step %v must be positive and divide the duration %v", c.Step, c.Duration)
	case len(c.Rates) != len(c.Hosts):
		return fmt.Errorf("sim: %d rates for %d hosts", len(c.Rates), len(c.Hosts))
	case c.Strategy == nil || c.Calendar == nil:
		return errors.New("sim: strategy and calendar are required")
	case uint64(len(c.Hosts)) > uint64(1)<<c.SpaceBits:
		return fmt.Errorf("sim: %d hosts do not fit in 2^%d addresses", len(c.Hosts), c.SpaceBits)
	}
	if !slices.IsSorted(c.Hosts) {
		return errors.New("sim: hosts must be sorted")
	}
	limit := uint64(1) << c.SpaceBits
	for i, h := range c.Hosts {
		if i > 0 && h == c.Hosts[i-1] {
			return fmt.Errorf("sim: host %v listed twice", h)
		}
		if uint64(h) >= limit {
			return fmt.Errorf("sim: host %v outside the 2^%d space", h, c.SpaceBits)
		}
	}
	for i, r := range c.Rates {
		if !(r >= 0) || math.IsInf(r, 0) {
			return fmt.Errorf("sim: host %d has scan rate %v", i, r)
		}
	}
	seen := map[int32]bool{}
	for _, h := range c.Initial {
		if h < 0 || int(h) >= len(c.Hosts) || seen[h] {
			return fmt.Errorf("sim: initial host index %d invalid or repeated", h)
		}
		seen[h] = true
	}
	return nil
}

// Row is the state of the run at one instant of the output grid and what
// happened in the bin that ends there: row m stands at Start + m*Step and
// counts the events in (Start+(m-1)*Step, Start+m*Step]. Row 0 is the
// initial state with zero counts.
type Row struct {
	At            time.Time
	Susceptible   int64
	Infected      int64
	Patched       int64
	Removed       int64
	NewInfections int64
	Probes        int64
}

// Result is one run's output.
type Result struct {
	Engine string
	Rows   []Row
	// Infections lists the infection events in time order, the initial
	// hosts excluded.
	Infections []Infection
	// ProbesSent counts probes the engine generated; the event engine,
	// which sends none, leaves it zero.
	ProbesSent int64
}

// Infection is one infection event.
type Infection struct {
	T    float64 // seconds since Config.Start
	Host int32   // index into Config.Hosts
}

// Random streams: each engine draws from PCG(seed, stream) so that the
// same seed gives the same run whatever else is drawn elsewhere.
const (
	streamEvent = 0x6576656e74 // "event"
	streamProbe = 0x70726f6265 // "probe"
)

// recorder keeps the output grid.
type recorder struct {
	start time.Time
	step  float64 // seconds
	rows  []Row
	// expected counts of probes that infected nobody, per row (event engine)
	missed  []float64
	snapped int // rows [0, snapped) hold their state
}

func newRecorder(c *Config) *recorder {
	n := int(c.Duration/c.Step) + 1
	r := &recorder{start: c.Start.UTC(), step: c.Step.Seconds(), rows: make([]Row, n), missed: make([]float64, n)}
	for m := range r.rows {
		r.rows[m].At = r.start.Add(time.Duration(m) * c.Step)
	}
	return r
}

// row returns the row whose bin (t_{m-1}, t_m] holds time t (seconds).
func (r *recorder) row(t float64) int {
	m := int(math.Ceil(t / r.step))
	return min(max(m, 0), len(r.rows)-1)
}

// snapshot fills the state of every grid row at or before time t that
// has none yet; engines call it before applying an event at t.
func (r *recorder) snapshot(t float64, counts *[numStates]int64) {
	for r.snapped < len(r.rows) && float64(r.snapped)*r.step <= t {
		row := &r.rows[r.snapped]
		row.Susceptible, row.Infected, row.Patched, row.Removed =
			counts[Susceptible], counts[Infected], counts[Patched], counts[Removed]
		r.snapped++
	}
}

// addMissed spreads rate*(b-a) expected probes over the bins of [a, b).
func (r *recorder) addMissed(a, b, rate float64) {
	if rate <= 0 || b <= a {
		return
	}
	for a < b {
		m := r.row(a)
		if float64(m)*r.step <= a { // a sits on a grid instant: its bin starts there
			m++
		}
		if m >= len(r.rows) {
			r.missed[len(r.rows)-1] += rate * (b - a)
			return
		}
		edge := min(float64(m)*r.step, b)
		r.missed[m] += rate * (edge - a)
		a = edge
	}
}
