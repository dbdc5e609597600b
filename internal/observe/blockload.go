package observe

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/worm"
)

// BlockLoad is the probe load on one operator's address block: for each
// output bin, the expected probes a second arriving (exact for the run's
// path, from the spreading hosts' rates and the strategy's target law), a
// Poisson draw of the count, the infected hosts able to reach the block,
// the expected number of distinct sources seen, and the states of the
// block's own vulnerable hosts.
type BlockLoad struct {
	Block ipspace.Prefix

	cfg   *sim.Config
	chans []worm.Channel
	filt  worm.AddressFilter
	g     grid
	seed  uint64

	share    []float64 // per host: share of its probes that land in the block
	rate     float64   // expected probes a second into the block while spreading
	senders  int       // spreading hosts with a positive share
	distinct float64   // sum over senders of P(seen in one bin)
	inBlock  []bool
	states   [4]int64 // the block's own hosts by state
	spread   bool
	factor   float64 // congestion factor on scan rates

	expected []float64 // expected probes per bin
	cache    map[[2]uint32]float64
	rows     []BlockRow
}

// BlockRow is one point of a block's load series.
type BlockRow struct {
	Minute float64 `json:"minute"`
	// ProbesPerSecond is the expected mean rate over the bin.
	ProbesPerSecond float64 `json:"probes_per_s"`
	// Sources is the expected number of distinct infected hosts whose
	// probes reach the block during the bin.
	Sources float64 `json:"sources"`
	// Probes is a Poisson draw of the bin's count, what a counter would
	// show.
	Probes int64 `json:"probes"`
	// Senders counts the infected, spreading hosts able to reach the block
	// at the bin's end.
	Senders     int   `json:"senders"`
	Susceptible int64 `json:"block_susceptible"`
	Infected    int64 `json:"block_infected"`
	Patched     int64 `json:"block_patched"`
	Removed     int64 `json:"block_removed"`
}

var _ sim.Observer = (*BlockLoad)(nil)

// NewBlockLoad returns an observer of block for runs of c; seed draws the
// sampled counts. The block must lie in the simulated space and, in the
// full IPv4 space, outside private and reserved space: an operator's
// public block.
func NewBlockLoad(c *sim.Config, block ipspace.Prefix, seed uint64) (*BlockLoad, error) {
	if !block.IsValid() {
		return nil, errors.New("observe: invalid block")
	}
	chans, ok := c.Strategy.Channels()
	if !ok {
		return nil, fmt.Errorf("observe: block load needs a strategy the event engine runs, not %q", c.Strategy.Name())
	}
	if c.SpaceBits < 32 && uint64(block.Last()) >= uint64(1)<<c.SpaceBits {
		return nil, fmt.Errorf("observe: block %v lies outside the 2^%d space", block, c.SpaceBits)
	}
	if c.SpaceBits == 32 {
		for _, p := range sim.PrivateBlocks {
			if p.Overlaps(block) {
				return nil, fmt.Errorf("observe: block %v overlaps private %v: probes from outside never reach it", block, p)
			}
		}
	}
	o := &BlockLoad{
		Block: block, cfg: c, chans: chans, filt: c.Strategy.Filter(), seed: seed,
		g:       newGrid(c.Duration, c.Step),
		share:   make([]float64, len(c.Hosts)),
		inBlock: make([]bool, len(c.Hosts)),
	}
	for i := range o.share {
		o.share[i] = -1 // not computed yet
	}
	o.expected = make([]float64, o.g.n)
	o.rows = make([]BlockRow, o.g.n)
	for i, a := range c.Hosts {
		if (c.Site == nil || c.Site[i] == 0) && block.Contains(a) {
			o.inBlock[i] = true
			o.states[sim.Susceptible]++
		}
	}
	return o, nil
}

// shareOf returns the share of host h's probes that land in the block:
// the sum over the strategy's neighbourhoods of share * (allowed addresses
// of the neighbourhood inside the block, h itself excluded) / (allowed
// addresses of the neighbourhood - 1), the law worm.LocalPreference
// draws from.
func (o *BlockLoad) shareOf(h int32) float64 {
	if s := o.share[h]; s >= 0 {
		return s
	}
	c := o.cfg
	a := c.Hosts[h]
	var p float64
	for k, ch := range o.chans {
		nb := ipspace.PrefixFrom(a, 32-c.SpaceBits+ch.PrefixBits)
		if o.Block.Contains(a) {
			// The host's own address is in the block: its share
			// excludes itself, so it is its own.
			p += o.channelShare(ch, nb, a, h)
			continue
		}
		// Otherwise every host of the neighbourhood gets the same share
		// from this channel: compute it once.
		if o.cache == nil {
			o.cache = map[[2]uint32]float64{}
		}
		key := [2]uint32{uint32(k), uint32(nb.Addr())}
		v, ok := o.cache[key]
		if !ok {
			v = o.channelShare(ch, nb, a, h)
			o.cache[key] = v
		}
		p += v
	}
	o.share[h] = p
	return p
}

// channelShare is one channel's part of shareOf: the allowed addresses of
// the neighbourhood nb inside the block, h itself excluded, over the
// neighbourhood's allowed addresses other than h.
func (o *BlockLoad) channelShare(ch worm.Channel, nb ipspace.Prefix, a ipspace.Addr, h int32) float64 {
	var inter ipspace.Prefix
	switch {
	case !nb.Overlaps(o.Block):
		return 0
	case nb.Bits() >= o.Block.Bits():
		inter = nb
	default:
		inter = o.Block
	}
	all := o.filt.CountAllowed(nb)
	in := o.filt.CountAllowed(inter)
	if c := o.cfg; inter.Contains(a) && (c.Site == nil || c.Site[h] == 0) {
		in-- // a source never probes itself
	}
	if all < 2 {
		return 0
	}
	return ch.Share * float64(in) / float64(all-1)
}

func (o *BlockLoad) Spreading(_ float64, h int32, on bool) {
	p := o.shareOf(h)
	if p <= 0 {
		return
	}
	// Distinct sources are estimated without congestion (it is rarely on
	// for a forecast); rates and probe counts include it.
	r := o.cfg.Rates[h]
	seen := 1 - math.Exp(-r*p*o.g.step)
	if on {
		o.rate += float64(r * p)
		o.senders++
		o.distinct += seen
	} else {
		o.rate -= float64(r * p)
		o.senders--
		o.distinct -= seen
		if o.senders == 0 { // clear rounding left over
			o.rate, o.distinct = 0, 0
		}
	}
}

func (o *BlockLoad) Changed(_ float64, h int32, from, to sim.State) {
	if o.inBlock[h] {
		o.states[from]--
		o.states[to]++
	}
}

func (o *BlockLoad) Advance(s sim.Stretch) {
	o.g.due(s.T0, o.snap)
	o.spread = s.Spread
	o.factor = s.ScanFactor
	if o.spread {
		o.g.spread(o.expected, s.T0, s.T1, o.rate*s.ScanFactor)
	}
	o.g.due(s.T1, o.snap)
}

func (o *BlockLoad) snap(m int) {
	r := &o.rows[m]
	r.Minute = float64(m) * o.g.step / 60
	if o.spread {
		r.Senders = o.senders
		r.Sources = max(o.distinct, 0)
	}
	r.Susceptible, r.Infected = o.states[sim.Susceptible], o.states[sim.Infected]
	r.Patched, r.Removed = o.states[sim.Patched], o.states[sim.Removed]
}

// Rows returns the series once the run is over, drawing the sampled
// counts.
func (o *BlockLoad) Rows() []BlockRow {
	o.g.due(math.Inf(1), o.snap)
	src := rand.NewPCG(o.seed, 0x626c6f636b) // "block"
	for m := range o.rows {
		mean := o.expected[m]
		o.rows[m].ProbesPerSecond = mean / o.g.step
		if mean > 0 {
			o.rows[m].Probes = int64(distuv.Poisson{Lambda: mean, Src: src}.Rand())
		}
	}
	return o.rows
}
