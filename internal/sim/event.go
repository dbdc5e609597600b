package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/wormlab/wormlab/internal/sumtree"
	"github.com/wormlab/wormlab/internal/worm"
)

// maxGroupBits bounds the neighbourhood prefix length the event engine
// keeps dense per-group arrays for (2^16 groups: Code Red II's /16s).
const maxGroupBits = 20

// eventEngine draws infections directly (DESIGN.md section 3). Between
// events every rate is constant, so the time to the next infection is
// exponential with the total infection rate. That rate is a sum over the
// strategy's channels and, within a channel, over the source
// neighbourhoods ("groups"): a channel of share s over /p neighbourhoods
// contributes, for each group g, s * R_g * S_g / (A_g - 1), where R_g is the
// summed scan rate of g's spreading hosts, S_g its susceptible hosts and
// A_g its addresses (a source never targets itself). The group weights live
// in sum trees, so an event costs O(channels * log groups).
type eventEngine struct {
	cfg    *Config
	rng    *rand.Rand
	rec    *recorder
	state  []State
	counts [numStates]int64

	// Susceptible hosts are found through the finest neighbourhood level:
	// the hosts of finest block b are order[blockStart[b]:blockStart[b+1]]
	// (hosts are sorted by address, so a block's hosts are contiguous), and
	// the first susInBlock[b] of them are the susceptible ones.
	finestShift uint
	blockStart  []int32
	blockOf     []int32
	order, pos  []int32
	susInBlock  []int32
	susTree     *sumtree.Int

	chans []evChannel
	// spreadRate is the summed scan rate of infected hosts, whether or not
	// the calendar lets them spread now.
	spreadRate float64
	infections []Infection
}

type evChannel struct {
	share      float64
	hostShift  uint // group of a host = addr >> hostShift
	toFinest   uint // group g covers finest blocks [g<<toFinest, (g+1)<<toFinest)
	invTargets float64
	rate       []float64
	sus        []int64
	tree       *sumtree.Float
}

// RunEvent simulates c with the event engine. It is exact in distribution
// for the model of the package comment; strategies that are not mixtures
// of uniform neighbourhood draws (worm.Strategy.Channels) are refused.
func RunEvent(c *Config, seed uint64) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	chans, ok := c.Strategy.Channels()
	if !ok {
		return nil, fmt.Errorf("sim: the event engine cannot run strategy %q; use the probe engine", c.Strategy.Name())
	}
	e := &eventEngine{cfg: c, rng: rand.New(rand.NewPCG(seed, streamEvent)), rec: newRecorder(c)}
	if err := e.init(chans); err != nil {
		return nil, err
	}
	e.run()
	e.finishProbes()
	return &Result{Engine: "event", Rows: e.rec.rows, Infections: e.infections}, nil
}

func (e *eventEngine) init(chans []worm.Channel) error {
	c := e.cfg
	n := len(c.Hosts)
	finestBits := 0
	for _, ch := range chans {
		if ch.PrefixBits < 0 || ch.PrefixBits > min(c.SpaceBits, maxGroupBits) {
			return fmt.Errorf("sim: neighbourhood /%d outside 0..%d", ch.PrefixBits, min(c.SpaceBits, maxGroupBits))
		}
		finestBits = max(finestBits, ch.PrefixBits)
	}
	e.finestShift = uint(c.SpaceBits - finestBits)
	nBlocks := 1 << finestBits
	e.blockStart = make([]int32, nBlocks+1)
	e.blockOf = make([]int32, n)
	for i, h := range c.Hosts {
		b := int32(uint64(h) >> e.finestShift)
		e.blockOf[i] = b
		e.blockStart[b+1]++
	}
	for b := range nBlocks {
		e.blockStart[b+1] += e.blockStart[b]
	}
	e.order = make([]int32, n)
	e.pos = make([]int32, n)
	for i := range n {
		e.order[i], e.pos[i] = int32(i), int32(i)
	}
	e.susInBlock = make([]int32, nBlocks)
	e.susTree = sumtree.NewInt(nBlocks)
	for b := range nBlocks {
		e.susInBlock[b] = e.blockStart[b+1] - e.blockStart[b]
		e.susTree.Add(b, int64(e.susInBlock[b]))
	}
	for _, ch := range chans {
		groups := 1 << ch.PrefixBits
		ec := evChannel{
			share:     ch.Share,
			hostShift: uint(c.SpaceBits - ch.PrefixBits),
			toFinest:  uint(finestBits - ch.PrefixBits),
			// Every neighbourhood at one level has the same number of
			// addresses; the source's own is never a target.
			invTargets: 1 / (math.Exp2(float64(c.SpaceBits-ch.PrefixBits)) - 1),
			rate:       make([]float64, groups),
			sus:        make([]int64, groups),
			tree:       sumtree.NewFloat(groups),
		}
		for _, h := range c.Hosts {
			ec.sus[uint64(h)>>ec.hostShift]++
		}
		e.chans = append(e.chans, ec)
	}
	e.state = make([]State, n)
	e.counts[Susceptible] = int64(n)
	for _, h := range c.Initial {
		e.infect(h)
	}
	return nil
}

// setSusceptible moves host h into or out of its block's susceptible part.
func (e *eventEngine) setSusceptible(h int32, sus bool) {
	b := e.blockOf[h]
	start := e.blockStart[b]
	var j int32 // the slot h swaps with
	if sus {
		j = start + e.susInBlock[b]
		e.susInBlock[b]++
		e.susTree.Add(int(b), 1)
	} else {
		e.susInBlock[b]--
		j = start + e.susInBlock[b]
		e.susTree.Add(int(b), -1)
	}
	i := e.pos[h]
	other := e.order[j]
	e.order[i], e.order[j] = other, h
	e.pos[other], e.pos[h] = i, j
}

// infect makes susceptible host h infected and spreading.
func (e *eventEngine) infect(h int32) {
	e.state[h] = Infected
	e.counts[Susceptible]--
	e.counts[Infected]++
	e.setSusceptible(h, false)
	r := e.cfg.Rates[h]
	e.spreadRate += r
	addr := uint64(e.cfg.Hosts[h])
	for k := range e.chans {
		ch := &e.chans[k]
		g := addr >> ch.hostShift
		ch.sus[g]--
		ch.rate[g] += r
		ch.tree.Set(int(g), ch.share*ch.rate[g]*float64(ch.sus[g])*ch.invTargets)
	}
}

// infectionRate returns the total rate of infecting probes.
func (e *eventEngine) infectionRate() float64 {
	var s float64
	for k := range e.chans {
		s += e.chans[k].tree.Total()
	}
	return s
}

func (e *eventEngine) run() {
	c := e.cfg
	end := c.Duration.Seconds()
	t := 0.0
	phase, next := c.Calendar.At(c.Start)
	for t < end {
		boundary := end
		if !next.IsZero() {
			boundary = min(boundary, next.Sub(c.Start).Seconds())
		}
		var lambda, probeRate float64
		if phase == worm.Spread {
			lambda, probeRate = e.infectionRate(), e.spreadRate
		}
		te := math.Inf(1)
		if lambda > 0 {
			te = t + e.rng.ExpFloat64()/lambda
		}
		missRate := max(probeRate-lambda, 0)
		if te >= boundary {
			// Nothing fires before the boundary; the exponential is
			// memoryless, so it is simply drawn again from there.
			e.rec.addMissed(t, boundary, missRate)
			t = boundary
			e.rec.snapshot(t, &e.counts)
			phase, next = c.Calendar.At(c.Start.Add(secondsToDuration(t)))
			continue
		}
		e.rec.addMissed(t, te, missRate)
		e.rec.snapshot(te, &e.counts)
		t = te
		if h := e.pickTarget(lambda); h >= 0 {
			e.infect(h)
			e.infections = append(e.infections, Infection{t, h})
			e.rec.rows[e.rec.row(t)].NewInfections++
		}
	}
	e.rec.snapshot(end, &e.counts)
}

// pickTarget draws the host the next infection reaches: a channel and a
// group in proportion to their rates, then a host uniformly among the
// group's susceptible hosts.
func (e *eventEngine) pickTarget(lambda float64) int32 {
	u := e.rng.Float64() * lambda
	k := 0
	for ; k < len(e.chans)-1; k++ {
		tot := e.chans[k].tree.Total()
		if u < tot {
			break
		}
		u -= tot
	}
	ch := &e.chans[k]
	u = min(u, ch.tree.Total())
	g := ch.tree.Find(u)
	if g < 0 || ch.sus[g] == 0 {
		return -1
	}
	lo := g << ch.toFinest
	k64 := e.susTree.Prefix(lo) + e.rng.Int64N(ch.sus[g])
	b, r := e.susTree.Find(k64)
	return e.order[e.blockStart[b]+int32(r)]
}

// finishProbes turns each bin's expected count of probes that infected
// nobody into a Poisson draw and adds the infecting probes. Given the run's
// infection times, the probes that infect nobody form a Poisson process of
// intensity R(t) - lambda(t) (thinning of the superposed probe stream), so
// the per-bin counts are exact in distribution.
func (e *eventEngine) finishProbes() {
	src := rand.NewPCG(e.rng.Uint64(), e.rng.Uint64())
	for m := range e.rec.rows {
		row := &e.rec.rows[m]
		mean := e.rec.missed[m]
		var k float64
		if mean > 0 {
			k = distuv.Poisson{Lambda: mean, Src: src}.Rand()
		}
		row.Probes = int64(k) + row.NewInfections
	}
}

func secondsToDuration(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }
