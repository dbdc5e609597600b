package observe

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/series"
	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/worm"
)

// Telescope is a network telescope: a dark block that holds no host and
// counts the probes that land in it (Moore, Shannon, Brown 2002 watched
// Code Red from a /8). Per bin it reports the probes received, the distinct
// sources seen, and the sources seen for the first time, the observed
// series of docs/DESIGN.md §5, beside the true infected count.
//
// What it sees is drawn from the rates, not from simulated probes. A host
// that spreads sends probes into the block as a Poisson process of rate
// lambda_h = r_h * p_h (p_h the share of its targets in the block) times
// the congestion factor, so:
//   - its first probe into the block comes when the process's clock, which
//     runs while the host spreads, reaches an Exp(1) draw: one draw per
//     infection, exact across calendar pauses and congestion;
//   - once seen, it is seen again in a bin with probability
//     1 - exp(-lambda_h * active time in the bin), independently of other
//     bins (independent increments); hosts alike in lambda_h are counted
//     together by a binomial draw, so a bin costs O(rate classes) plus the
//     hosts that started or stopped in it;
//   - the bin's probe count is the sources seen (each sent at least one)
//     plus a Poisson draw of what the exact mean leaves over them. Only
//     this coupling is not exact in law (its mean is, while the mean
//     exceeds the sources); the source counts are.
type Telescope struct {
	Block ipspace.Prefix

	cfg   *sim.Config
	chans []worm.Channel
	filt  worm.AddressFilter
	g     grid
	rng   *rand.Rand

	lambda []float64 // per host, probes a second into the block at full rate
	class  []int32   // per host, index of its lambda in classes
	// classes of hosts alike in lambda, with the seen ones spreading now
	classes []float64
	seenOn  []int64

	spreading []bool
	seen      []bool
	// a: the shared clock, seconds of spreading weighted by congestion; a
	// host's first sighting is due when a reaches due[h]. Only the bin of
	// a sighting matters, so pending sightings wait in buckets of one bin's
	// worth of a (a runs no faster than time) and are delivered at bin
	// ends, rather than one by one from a heap.
	a       float64
	due     []float64
	buckets [][]dueItem
	next    int       // first bucket not yet emptied
	left    []float64 // per host: Exp(1) mass still to run, while not spreading

	// per bin
	binStartA float64
	partial   map[int32]float64 // hosts seen before the bin whose spreading changed in it: active a so far
	since     map[int32]float64 // their a when they last started
	rate      float64           // summed lambda of spreading hosts
	expected  []float64
	rows      []TelescopeRow
	infected  int64
	cum       int64
	isNew     []bool  // per host: first seen in the current bin
	newList   []int32 // those hosts
	done      bool
}

// TelescopeRow is one bin of what the telescope saw.
type TelescopeRow struct {
	Minute     float64 `json:"minute"`
	Probes     int64   `json:"probes"`
	Sources    int64   `json:"sources"`
	NewSources int64   `json:"new_sources"`
	// Seen is the running count of distinct sources; Infected the true
	// number of infected hosts at the bin's end, for comparison.
	Seen     int64 `json:"seen"`
	Infected int64 `json:"infected"`
}

var _ sim.Observer = (*Telescope)(nil)

// NewTelescope returns a telescope on block for runs of c; seed draws what
// it sees. The block must hold no vulnerable host (a dark block) and, in
// the full IPv4 space, be public.
func NewTelescope(c *sim.Config, block ipspace.Prefix, seed uint64) (*Telescope, error) {
	if !block.IsValid() {
		return nil, errors.New("observe: invalid telescope block")
	}
	chans, ok := c.Strategy.Channels()
	if !ok {
		return nil, fmt.Errorf("observe: a telescope needs a strategy the event engine runs as channels, not %q", c.Strategy.Name())
	}
	for i, a := range c.Hosts {
		if (c.Site == nil || c.Site[i] == 0) && block.Contains(a) {
			return nil, fmt.Errorf("observe: telescope block %v holds vulnerable host %v: a telescope is dark", block, a)
		}
	}
	n := len(c.Hosts)
	t := &Telescope{
		Block: block, cfg: c, chans: chans, filt: c.Strategy.Filter(),
		g:         newGrid(c.Duration, c.Step),
		rng:       rand.New(rand.NewPCG(seed, 0x74656c6573636f70)), // "telescop"
		lambda:    make([]float64, n),
		class:     make([]int32, n),
		spreading: make([]bool, n),
		seen:      make([]bool, n),
		isNew:     make([]bool, n),
		due:       make([]float64, n),
		left:      make([]float64, n),
		partial:   map[int32]float64{},
		since:     map[int32]float64{},
	}
	t.expected = make([]float64, t.g.n)
	t.rows = make([]TelescopeRow, t.g.n)
	t.buckets = make([][]dueItem, t.g.n+1)
	// The share of a host's probes landing in the block is BlockLoad's.
	bl := &BlockLoad{Block: block, cfg: c, chans: chans, filt: t.filt, share: make([]float64, n)}
	ids := map[float64]int32{}
	last := int32(-1)
	for h := range n {
		bl.share[h] = -1
		t.lambda[h] = c.Rates[h] * bl.shareOf(int32(h))
		// Neighbouring hosts usually share a class: skip the map then.
		if last >= 0 && t.classes[last] == t.lambda[h] {
			t.class[h] = last
			continue
		}
		id, ok := ids[t.lambda[h]]
		if !ok {
			id = int32(len(t.classes))
			ids[t.lambda[h]] = id
			t.classes = append(t.classes, t.lambda[h])
		}
		t.class[h], last = id, id
	}
	t.seenOn = make([]int64, len(t.classes))
	return t, nil
}

// DarkBlock returns the first /8 of the space, outside reserved and private
// space, that holds no public host of c: the default telescope. In scaled
// spaces it is the first empty block of 1/256 of the space.
func DarkBlock(c *sim.Config) (ipspace.Prefix, error) {
	bits := 32 - c.SpaceBits + 8
	used := map[uint32]bool{}
	for i, a := range c.Hosts {
		if c.Site == nil || c.Site[i] == 0 {
			used[uint32(a)>>(32-bits)] = true
		}
	}
	for b := uint32(0); b < 256; b++ {
		p := ipspace.PrefixFrom(ipspace.Addr(b<<(32-bits)), bits)
		if used[b] || (c.SpaceBits == 32 && (ipspace.Reserved(uint8(b)) || b == 172 || b == 192)) {
			continue
		}
		return p, nil
	}
	return ipspace.Prefix{}, errors.New("observe: no empty block for a telescope")
}

func (t *Telescope) Spreading(_ float64, h int32, on bool) {
	t.spreading[h] = on
	lam := t.lambda[h]
	if on {
		t.rate += lam
	} else {
		t.rate -= lam
		if t.rate < 0 {
			t.rate = 0
		}
	}
	if t.seen[h] {
		if t.isNew[h] {
			return // counted as new this bin; it joins its class at the bin's end
		}
		// A seen host whose spreading changes within the bin is counted on
		// its own for this bin, by its active time in it.
		if _, ok := t.partial[h]; !ok {
			t.partial[h] = 0
			if !on { // it had been spreading since the bin started
				t.since[h] = t.binStartA
				t.seenOn[t.class[h]]--
			}
		}
		if on {
			t.since[h] = t.a
		} else {
			t.partial[h] += t.a - t.since[h]
			delete(t.since, h)
		}
		return
	}
	if lam == 0 {
		return
	}
	if on {
		if t.left[h] == 0 {
			t.left[h] = t.rng.ExpFloat64()
		}
		t.due[h] = t.a + t.left[h]/lam
		if k := int(t.due[h] / t.g.step); k < len(t.buckets) {
			t.buckets[k] = append(t.buckets[k], dueItem{t.due[h], h})
		}
		return
	}
	if t.due[h] <= t.a {
		// Its first probe reached the block before it stopped; the bin's
		// end has not delivered it yet.
		t.sight(h)
		return
	}
	// Stopped before its first probe reached the block: keep what remains.
	t.left[h] = max((t.due[h]-t.a)*lam, 1e-300)
	t.due[h] = math.Inf(1)
}

// sight records host h's first probe into the block, in the current bin.
func (t *Telescope) sight(h int32) {
	t.seen[h] = true
	t.cum++
	// New in this bin; from the next bin on, one of its class's seen,
	// spreading hosts.
	t.isNew[h] = true
	t.newList = append(t.newList, h)
}

// deliver records the first sightings due by clock reading limit.
func (t *Telescope) deliver(limit float64) {
	live := func(d dueItem) bool { return t.due[d.h] == d.a && !t.seen[d.h] && t.spreading[d.h] }
	for t.next < len(t.buckets) && float64(t.next+1)*t.g.step <= limit {
		for _, d := range t.buckets[t.next] {
			if live(d) {
				t.sight(d.h)
			}
		}
		t.buckets[t.next] = nil
		t.next++
	}
	if t.next < len(t.buckets) {
		b := t.buckets[t.next]
		keep := b[:0]
		for _, d := range b {
			switch {
			case !live(d):
			case d.a <= limit:
				t.sight(d.h)
			default:
				keep = append(keep, d)
			}
		}
		t.buckets[t.next] = keep
	}
}

func (t *Telescope) Changed(_ float64, h int32, from, to sim.State) {
	if to == sim.Infected {
		t.infected++
		// A new infection is a new copy: a host cured and infected again
		// was already seen, and stays so (a telescope knows addresses).
	}
	if from == sim.Infected {
		t.infected--
	}
	if to == sim.Infected && !t.seen[h] {
		t.left[h] = 0
	}
}

// Advance moves the shared clock over the stretch, delivering the first
// sightings at each bin end it crosses.
func (t *Telescope) Advance(s sim.Stretch) {
	t.g.due(s.T0, t.snap)
	speed := 0.0 // d a / d t
	if s.Spread {
		speed = s.ScanFactor
	}
	t.g.spread(t.expected, s.T0, s.T1, t.rate*speed)
	t0, a0 := s.T0, t.a
	for t.g.snapped < t.g.n {
		edge := float64(float64(t.g.snapped) * t.g.step)
		if edge > s.T1 {
			break
		}
		t.a = a0 + float64((edge-t0)*speed)
		t.g.due(edge, t.snap)
	}
	t.a = a0 + float64((s.T1-t0)*speed)
}

// snap closes bin m: the sources seen again, then resets for the next.
func (t *Telescope) snap(m int) {
	t.deliver(t.a)
	r := &t.rows[m]
	r.Minute = float64(m) * t.g.step / 60
	da := t.a - t.binStartA
	var again int64
	if m > 0 && da > 0 {
		for c, n := range t.seenOn {
			if n > 0 {
				p := -math.Expm1(-t.classes[c] * da)
				again += int64(distuv.Binomial{N: float64(n), P: p, Src: t.rng}.Rand())
			}
		}
	}
	// In host order, so that the draws do not depend on map order.
	part := make([]int32, 0, len(t.partial))
	for h := range t.partial {
		part = append(part, h)
	}
	slices.Sort(part)
	for _, h := range part {
		active := t.partial[h]
		if from, ok := t.since[h]; ok {
			active += t.a - from
		}
		if active > 0 && t.rng.Float64() < -math.Expm1(-t.lambda[h]*active) {
			again++
		}
	}
	r.NewSources = int64(len(t.newList))
	r.Sources = r.NewSources + again
	r.Seen = t.cum
	r.Infected = t.infected
	// Next bin: hosts first seen in this one join their classes, and the
	// partially active ones rejoin, if they spread now.
	for _, h := range t.newList {
		t.isNew[h] = false
		if t.spreading[h] {
			t.seenOn[t.class[h]]++
		}
	}
	t.newList = t.newList[:0]
	for h := range t.partial {
		if t.spreading[h] {
			t.seenOn[t.class[h]]++
		}
	}
	clear(t.partial)
	clear(t.since)
	t.binStartA = t.a
}

// Rows returns the series once the run is over.
func (t *Telescope) Rows() []TelescopeRow {
	if t.done {
		return t.rows
	}
	t.done = true
	t.g.due(math.Inf(1), t.snap)
	src := rand.NewPCG(t.rng.Uint64(), t.rng.Uint64())
	for m := range t.rows {
		r := &t.rows[m]
		r.Probes = r.Sources
		// Probes beyond one a source come from sources seen; none seen, none.
		if rest := t.expected[m] - float64(r.Sources); rest > 0 && r.Sources > 0 {
			r.Probes += int64(distuv.Poisson{Lambda: rest, Src: src}.Rand())
		}
	}
	return t.rows
}

// Series returns what the telescope saw in the observed-series format,
// where a row stands at its bin's start: row m of Rows, which counts the
// bin ending at m steps, becomes the bin starting at m-1 steps (row 0, the
// instant of the start, holds no bin).
func (t *Telescope) Series(start time.Time) series.Series {
	var s series.Series
	rows := t.Rows()
	for m := 1; m < len(rows); m++ {
		r := rows[m]
		// Rounded to the microsecond: a 10 s step is 1/6 minute, which a
		// float64 cannot hold exactly.
		from := time.Duration(rows[m-1].Minute * float64(time.Minute)).Round(time.Microsecond)
		p := series.PointAt(from)
		p.UTC = start.Add(from).UTC()
		p.Probes, p.Sources, p.NewSources = r.Probes, r.Sources, r.NewSources
		s.Points = append(s.Points, p)
	}
	return s
}

type dueItem struct {
	a float64
	h int32
}
