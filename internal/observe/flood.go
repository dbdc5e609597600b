package observe

import (
	"math"

	"github.com/wormlab/wormlab/internal/sim"
)

// Flood is the load on a calendar's flood target (Code Red I floods
// www1.whitehouse.gov, 198.137.240.91, on days 20-27): per bin, the mean
// packets a second reaching it and the infected hosts flooding at the
// bin's end. Each flooding copy sends Config.FloodRate packets a second.
type Flood struct {
	Target string
	rate   float64
	g      grid
	sent   []float64
	hosts  []int64
	now    int64
}

// FloodRow is one point of the flood series.
type FloodRow struct {
	Minute           float64 `json:"minute"`
	PacketsPerSecond float64 `json:"packets_per_s"`
	Hosts            int64   `json:"hosts"`
}

var _ sim.Observer = (*Flood)(nil)

// NewFlood returns an observer of the flood at target for runs of c.
func NewFlood(c *sim.Config, target string) *Flood {
	g := newGrid(c.Duration, c.Step)
	return &Flood{Target: target, rate: c.FloodRate, g: g, sent: make([]float64, g.n), hosts: make([]int64, g.n)}
}

func (f *Flood) Spreading(float64, int32, bool)               {}
func (f *Flood) Changed(float64, int32, sim.State, sim.State) {}

func (f *Flood) Advance(s sim.Stretch) {
	f.g.due(s.T0, f.snap)
	f.now = s.Flooding
	f.g.spread(f.sent, s.T0, s.T1, float64(s.Flooding)*f.rate)
	f.g.due(s.T1, f.snap)
}

func (f *Flood) snap(m int) { f.hosts[m] = f.now }

// Rows returns the series once the run is over.
func (f *Flood) Rows() []FloodRow {
	f.g.due(math.Inf(1), f.snap)
	out := make([]FloodRow, f.g.n)
	for m := range out {
		out[m] = FloodRow{Minute: float64(m) * f.g.step / 60, PacketsPerSecond: f.sent[m] / f.g.step, Hosts: f.hosts[m]}
	}
	return out
}
