package observe

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/wormlab/wormlab/internal/sim"
)

// Census samples servers at given times, as the census of 20,000 systems
// in the seed article did: Sample servers drawn at random without
// replacement among Servers, of which the simulated vulnerable hosts are a
// part (the others were never vulnerable, so protected), and the share of
// them unprotected (susceptible or infected) with a 95% interval. With
// Servers equal to the population it samples the vulnerable hosts alone.
type Census struct {
	start   time.Time
	at      []float64 // seconds since the start
	sample  int
	servers int
	rng     *rand.Rand
	state   []sim.State
	points  []CensusPoint
}

// CensusPoint is one census.
type CensusPoint struct {
	UTC         time.Time `json:"utc"`
	Sample      int       `json:"sample"`
	Unprotected int       `json:"unprotected"` // susceptible or infected
	Infected    int       `json:"infected"`
	Share       float64   `json:"share_unprotected"`
	// Low and High bound the Wilson score interval at 95% for the share
	// (Wilson 1927). It ignores the finite-population correction, which
	// would narrow it by sqrt(1 - sample/population): conservative.
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

var _ sim.Observer = (*Census)(nil)

// NewCensus returns an observer that samples `sample` of `servers`
// servers (at least the population) at each time in at (within the run,
// increasing); seed draws the samples.
func NewCensus(c *sim.Config, at []time.Time, sample, servers int, seed uint64) *Census {
	servers = max(servers, len(c.Hosts))
	o := &Census{start: c.Start, sample: min(sample, servers), servers: servers, rng: rand.New(rand.NewPCG(seed, 0x63656e737573)), state: make([]sim.State, len(c.Hosts))}
	for _, t := range at {
		o.at = append(o.at, t.Sub(c.Start).Seconds())
	}
	return o
}

func (o *Census) Spreading(float64, int32, bool)              {}
func (o *Census) Changed(_ float64, h int32, _, to sim.State) { o.state[h] = to }

// Advance takes the censuses due in [T0, T1), when the states are fixed.
func (o *Census) Advance(s sim.Stretch) {
	for len(o.at) > 0 && o.at[0] < s.T1 {
		o.take(o.at[0])
		o.at = o.at[1:]
	}
}

func (o *Census) take(t float64) {
	n := o.servers
	p := CensusPoint{UTC: o.start.Add(time.Duration(t * float64(time.Second))).UTC(), Sample: o.sample}
	// Floyd's algorithm: a uniform sample without replacement.
	seen := make(map[int]bool, o.sample)
	for j := n - o.sample; j < n; j++ {
		k := o.rng.IntN(j + 1)
		if seen[k] {
			k = j
		}
		seen[k] = true
		if k >= len(o.state) {
			continue // a server that was never vulnerable
		}
		switch o.state[k] {
		case sim.Susceptible:
			p.Unprotected++
		case sim.Infected:
			p.Unprotected++
			p.Infected++
		}
	}
	p.Share = float64(p.Unprotected) / float64(p.Sample)
	p.Low, p.High = Wilson(p.Unprotected, p.Sample, 1.959964)
	o.points = append(o.points, p)
}

// Points returns the censuses taken.
func (o *Census) Points() []CensusPoint { return o.points }

// Wilson returns the Wilson score interval for k successes in n trials at
// the normal quantile z (1.959964 for 95%).
func Wilson(k, n int, z float64) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	p := float64(k) / float64(n)
	nf := float64(n)
	den := 1 + z*z/nf
	mid := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return max(0, mid-half), min(1, mid+half)
}
