package sim

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/sumtree"
	"github.com/wormlab/wormlab/internal/worm"
)

// maxGroupBits bounds the neighbourhood prefix length the event engine
// keeps dense per-group arrays for (2^20 groups).
const maxGroupBits = 20

// eventEngine draws infections directly (DESIGN.md section 3). Between
// events every rate is constant, so the time to the next infection is
// exponential with the total infection rate, and the memoryless property
// lets the engine redraw it after any change.
//
// The total rate is a sum over lanes. A lane is one neighbourhood channel of
// the strategy (share s, prefix /p) restricted to one kind of target: the
// public hosts, or the hosts of the source's own NAT site. Within a lane,
// sources and targets fall into groups (for the public lane, the /p
// neighbourhoods), and group g contributes s * R_g * S_g / (A_g - 1): R_g
// the summed scan rate of the group's spreading sources, S_g its susceptible
// targets, A_g the allowed addresses of its neighbourhood (a source never
// targets itself). Group weights live in sum trees, so choosing the group
// that fires costs O(log groups), and each group keeps its targets in an
// array partitioned into susceptible and other hosts, so the target is
// drawn in O(1). An event costs O(lanes * log groups).
type eventEngine struct {
	cfg    *Config
	rng    *rand.Rand
	rec    *recorder
	state  []State
	counts [numStates]int64

	lanes []lane
	// spreadRate is the summed scan rate of infected hosts, whether or not
	// the calendar lets them spread now.
	spreadRate float64
	timers     timerHeap
	infectedAt []float64 // per host: time of its latest infection
	walk       *walkers  // sequential scanners, or nil
	hit        *hitList  // hit-list copies, or nil
	infections []Infection
	obs        []Observer
}

// lane is one channel of the strategy restricted to one kind of target.
type lane struct {
	share float64
	src   []int32   // per host: the group its scanning feeds, -1 none
	tgt   []int32   // per host: the group it is a target in, -1 none
	inv   []float64 // per group: 1 / (allowed addresses of its neighbourhood - 1)
	rate  []float64 // per group: summed scan rate of spreading sources
	// Group g's targets are order[first[g]:first[g+1]]; the first sus[g]
	// of them are susceptible. pos[h] is host h's index in order.
	first []int32
	sus   []int32
	order []int32
	pos   []int32
	tree  *sumtree.Float
}

// RunEvent simulates c with the event engine. It is exact in distribution
// for the model of the package comment; strategies that are not mixtures
// of uniform neighbourhood draws (worm.Strategy.Channels) are refused.
func RunEvent(c *Config, seed uint64) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	e := &eventEngine{cfg: c, rng: rand.New(rand.NewPCG(seed, streamEvent)), rec: newRecorder(c), obs: c.Observers}
	chans, ok := c.Strategy.Channels()
	switch st := c.Strategy.(type) {
	case worm.Sequential:
		e.walk = newWalkers(c, st)
	case worm.HitList:
		// Copies that have used up their part of the list scan uniformly.
		chans, _ = worm.Uniform{}.Channels()
		e.hit = newHitList(c)
	default:
		if !ok {
			return nil, fmt.Errorf("sim: the event engine cannot run strategy %q; use the probe engine", c.Strategy.Name())
		}
	}
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
	filter := c.Strategy.Filter()
	for _, ch := range chans {
		if ch.PrefixBits < 0 || ch.PrefixBits > min(c.SpaceBits-1, maxGroupBits) {
			return fmt.Errorf("sim: neighbourhood /%d outside 0..%d", ch.PrefixBits, min(c.SpaceBits-1, maxGroupBits))
		}
		if ch.Share == 0 {
			continue
		}
		// allowed-1 for the neighbourhood whose index (at this level) is g.
		shift := uint(c.SpaceBits - ch.PrefixBits)
		invOf := func(g uint64) float64 {
			p := ipspace.PrefixFrom(ipspace.Addr(g<<shift), 32-int(shift))
			a := filter.CountAllowed(p)
			if a < 2 {
				return 0
			}
			return 1 / float64(a-1)
		}
		public := lane{share: ch.Share, src: make([]int32, n), tgt: make([]int32, n)}
		groups := 1 << ch.PrefixBits
		public.inv = make([]float64, groups)
		for g := range groups {
			public.inv[g] = invOf(uint64(g))
		}
		var private *lane
		var privKey map[uint64]int32
		if c.Site != nil {
			private = &lane{share: ch.Share, src: make([]int32, n), tgt: make([]int32, n)}
			privKey = map[uint64]int32{}
		}
		for i, a := range c.Hosts {
			g := uint64(a) >> shift
			site := c.siteOf(int32(i))
			if site == 0 {
				public.src[i], public.tgt[i] = int32(g), int32(g)
				if private != nil {
					private.src[i], private.tgt[i] = -1, -1
				}
				continue
			}
			// A NATed host: a target only in its own site; as a source it
			// feeds the public part of its neighbourhood, if there is one,
			// and its site's private part.
			public.tgt[i] = -1
			public.src[i] = -1
			if !c.coveredByPrivate(ipspace.PrefixFrom(ipspace.Addr(g<<shift), 32-int(shift))) {
				public.src[i] = int32(g)
			}
			key := uint64(site)<<32 | g
			id, ok := privKey[key]
			if !ok {
				id = int32(len(private.inv))
				privKey[key] = id
				private.inv = append(private.inv, invOf(g))
			}
			private.src[i], private.tgt[i] = id, id
		}
		public.partition(n)
		e.lanes = append(e.lanes, public)
		if private != nil {
			private.partition(n)
			e.lanes = append(e.lanes, *private)
		}
	}
	e.state = make([]State, n)
	e.infectedAt = make([]float64, n)
	e.counts[Susceptible] = int64(n)
	var parts []uint64
	if e.hit != nil {
		parts = c.hitParts()
	}
	for j, h := range c.Initial {
		if e.hit != nil {
			e.hit.part[h] = parts[j]
		}
		e.infect(0, h)
	}
	return nil
}

// coveredByPrivate reports whether every address of p is private.
func (c *Config) coveredByPrivate(p ipspace.Prefix) bool {
	for _, q := range c.privateBlocks() {
		if q.Bits() <= p.Bits() && q.Overlaps(p) {
			return true
		}
	}
	return false
}

// partition builds the per-group target arrays, all targets susceptible.
func (l *lane) partition(n int) {
	groups := len(l.inv)
	l.first = make([]int32, groups+1)
	for _, g := range l.tgt {
		if g >= 0 {
			l.first[g+1]++
		}
	}
	for g := range groups {
		l.first[g+1] += l.first[g]
	}
	l.sus = make([]int32, groups)
	l.order = make([]int32, l.first[groups])
	l.pos = make([]int32, n)
	for h, g := range l.tgt {
		if g < 0 {
			l.pos[h] = -1
			continue
		}
		i := l.first[g] + l.sus[g]
		l.order[i], l.pos[h] = int32(h), i
		l.sus[g]++
	}
	l.rate = make([]float64, groups)
	l.tree = sumtree.NewFloat(groups)
}

func (l *lane) update(g int32) {
	l.tree.Set(int(g), l.share*l.rate[g]*float64(l.sus[g])*l.inv[g])
}

// setSusceptible moves host h into or out of its group's susceptible part.
func (l *lane) setSusceptible(h int32, sus bool) {
	g := l.tgt[h]
	if g < 0 {
		return
	}
	var j int32 // the slot h swaps with
	if sus {
		j = l.first[g] + l.sus[g]
		l.sus[g]++
	} else {
		l.sus[g]--
		j = l.first[g] + l.sus[g]
	}
	i := l.pos[h]
	other := l.order[j]
	l.order[i], l.order[j] = other, h
	l.pos[other], l.pos[h] = i, j
	l.update(g)
}

func (l *lane) addRate(h int32, r float64) {
	if g := l.src[h]; g >= 0 {
		l.rate[g] += r
		if l.rate[g] < 1e-9*r { // rounding after the last source left
			l.rate[g] = 0
		}
		l.update(g)
	}
}

// setState moves host h to state to, keeping the lanes' susceptible sets.
func (e *eventEngine) setState(t float64, h int32, to State) {
	from := e.state[h]
	if from == to {
		return
	}
	e.state[h] = to
	e.counts[from]--
	e.counts[to]++
	if from == Susceptible || to == Susceptible {
		for k := range e.lanes {
			e.lanes[k].setSusceptible(h, to == Susceptible)
		}
	}
	for _, o := range e.obs {
		o.Changed(t, h, from, to)
	}
}

// setSpreading starts or stops host h's scanning.
func (e *eventEngine) setSpreading(t float64, h int32, on bool) {
	r := e.cfg.Rates[h]
	if !on {
		r = -r
	}
	e.spreadRate += r
	if e.spreadRate < 0 {
		e.spreadRate = 0
	}
	switch {
	case e.walk != nil:
		if on {
			e.walk.start(e, h)
		}
	case e.hit != nil && e.hit.active(h):
		if on {
			e.hit.tree.Set(int(h), r)
		} else {
			e.hit.tree.Set(int(h), 0)
		}
	default:
		e.moveRate(h, r)
	}
	for _, o := range e.obs {
		o.Spreading(t, h, on)
	}
}

// moveRate adds r to the scanning rate host h feeds into the lanes.
func (e *eventEngine) moveRate(h int32, r float64) {
	for k := range e.lanes {
		e.lanes[k].addRate(h, r)
	}
}

// infect makes susceptible host h infected and spreading, and schedules
// the end of its lifetime.
func (e *eventEngine) infect(t float64, h int32) {
	e.infectedAt[h] = t
	e.setState(t, h, Infected)
	e.setSpreading(t, h, true)
	if lt := e.cfg.Lifetime; lt != nil && lt[h] > 0 {
		heap.Push(&e.timers, timer{t: t + lt[h], host: h, since: t})
	}
}

// infectionRate returns the total rate of infecting probes.
func (e *eventEngine) infectionRate() float64 {
	var s float64
	if e.hit != nil {
		s += e.hit.tree.Total()
	}
	for k := range e.lanes {
		s += e.lanes[k].tree.Total()
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
		timerDue := len(e.timers) > 0 && e.timers[0].t < boundary
		if timerDue {
			boundary = e.timers[0].t
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
		if e.walk != nil {
			// Walkers' probes are counted by their rate (see walkers).
			missRate = probeRate
			if tw := e.walk.next(t, phase); tw < te && tw < boundary {
				e.advance(t, tw, missRate, phase)
				e.rec.snapshot(tw, &e.counts)
				t = tw
				e.walk.arrive(e, t)
				continue
			}
		}
		if te >= boundary {
			// Nothing fires before the boundary; the exponential is
			// memoryless, so it is simply drawn again from there.
			e.advance(t, boundary, missRate, phase)
			t = boundary
			e.rec.snapshot(t, &e.counts)
			if timerDue {
				tm := heap.Pop(&e.timers).(timer)
				// A timer from an earlier infection of a host that was
				// cleaned and reinfected since is stale.
				if e.state[tm.host] == Infected && e.infectedAt[tm.host] == tm.since {
					e.setSpreading(t, tm.host, false)
					e.setState(t, tm.host, c.AfterLifetime)
				}
				continue
			}
			phase, next = c.Calendar.At(c.Start.Add(secondsToDuration(t)))
			continue
		}
		e.advance(t, te, missRate, phase)
		e.rec.snapshot(te, &e.counts)
		t = te
		u := e.rng.Float64() * lambda
		if e.hit != nil {
			if ht := e.hit.tree.Total(); u < ht {
				e.hit.fire(e, t, u)
				continue
			} else {
				u -= ht
				lambda -= ht
			}
		}
		if h := e.pickTarget(u, lambda); h >= 0 {
			e.rec.explicit[e.rec.row(t)]++
			e.newInfection(t, h)
		}
	}
	e.rec.snapshot(end, &e.counts)
}

// newInfection records and applies an infection at time t.
func (e *eventEngine) newInfection(t float64, h int32) {
	e.infect(t, h)
	e.infections = append(e.infections, Infection{t, h})
	e.rec.rows[e.rec.row(t)].NewInfections++
}

func (e *eventEngine) advance(t0, t1, missRate float64, phase worm.Phase) {
	e.rec.addMissed(t0, t1, missRate)
	if e.walk != nil && phase == worm.Spread {
		e.walk.active += t1 - t0
	}
	for _, o := range e.obs {
		o.Advance(t0, t1, phase)
	}
}

// pickTarget draws the host the next infection reaches: a lane and a group
// in proportion to their rates, then a host uniformly among the group's
// susceptible targets.
// u is uniform on [0, lambda), lambda the lanes' total rate.
func (e *eventEngine) pickTarget(u, lambda float64) int32 {
	k := 0
	for ; k < len(e.lanes)-1; k++ {
		tot := e.lanes[k].tree.Total()
		if u < tot {
			break
		}
		u -= tot
	}
	l := &e.lanes[k]
	g := l.tree.Find(min(u, l.tree.Total()))
	if g < 0 || l.sus[g] == 0 {
		return -1
	}
	return l.order[l.first[g]+e.rng.Int32N(l.sus[g])]
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
		row.Probes = int64(k) + e.rec.explicit[m]
	}
}

func secondsToDuration(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// timer is a scheduled change to one host (the end of its lifetime).
type timer struct {
	t     float64
	host  int32
	since float64 // the infection it belongs to
}

// timerHeap orders timers by time, then host, so equal times pop in a
// fixed order.
type timerHeap []timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	return h[i].t < h[j].t || (h[i].t == h[j].t && h[i].host < h[j].host)
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
