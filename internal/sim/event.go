package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/sumtree"
	"github.com/wormlab/wormlab/internal/worm"
)

// maxGroupBits bounds the neighbourhood prefix length the event engine
// keeps dense per-group arrays for (2^20 groups).
const maxGroupBits = 20

// eventEngine draws infections directly (docs/DESIGN.md §3). Between
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
//
// Patching, clean-up and reboots add their rates to the total (they too
// are constant between events); scheduled changes (lifetimes, per-host
// calendars) wait in a timer heap; sequential scanners and hit-list copies,
// whose probes are not independent draws, run as walkers and a rate tree
// of their own (walk.go).
type eventEngine struct {
	cfg  *Config
	rng  *rand.Rand
	rec  *recorder
	sets *hostSets

	lanes []lane
	// spreadRate is the summed scan rate of the hosts marked spreading,
	// whether or not a calendar shared by all lets them scan now.
	spreadRate float64
	flags      []hostFlags // per host
	// rates are the hosts' scan rates (Config.Rates), nil when they all
	// scan at uniformRate: then an infection need not read them.
	rates       []float64
	uniformRate float64
	// infectedAt is each host's time of its latest infection, kept only
	// when something reads it (timers, walkers): nil otherwise.
	infectedAt []float64
	timers     timerHeap
	walk       *walkers // sequential scanners, or nil
	hit        *hitList // hit-list copies, or nil
	infections []Infection
	obs        []Observer

	// Containment (nil: none): each host's network, and whether it is
	// blacklisted and content filtering is on.
	contain     *Containment
	netOf       []int32
	blacklisted []bool
	contentOn   bool

	sink int32 // keeps warm's loads from being optimised away

	perHost   bool         // each host keeps its own calendar
	hostPhase []worm.Phase // per host, in per-host mode
	flooding  int64        // infected hosts whose own calendar says flood (per-host mode)

	day *dayCycle // the day/night cycle, or nil (diurnal.go)
}

// The per-host data an infection touches lie at random places in arrays
// of hundreds of thousands of hosts, and waiting for them is most of a
// Code Red day. So what it touches is kept small (two bytes of flags, the
// lanes' positions; the rates and infection times only when they vary or
// are read), to stay in the caches and in the reach of the TLB.

// hostFlags is what the engine changes about a host when it infects it.
type hostFlags struct {
	spreading bool
	class     sourceClass // containment
}

// rate returns host h's scan rate.
func (e *eventEngine) rate(h int32) float64 {
	if e.rates == nil {
		return e.uniformRate
	}
	return e.rates[h]
}

// lane is one channel of the strategy restricted to one kind of target.
type lane struct {
	share float64
	// accepts says which source classes (containment) feed this lane.
	accepts [numClasses]bool
	pos     []int32 // per host: its index in order
	// groups holds per host the group its scanning feeds (src) and the one
	// it is a target in (tgt), -1 for none; nil when there is one group
	// and every host is in it.
	groups []hostGroups
	inv    []float64 // per group: 1 / (allowed addresses of its neighbourhood - 1)
	rate   []float64 // per group: summed scan rate of spreading sources
	// Group g's targets are order[first[g]:first[g+1]]; the first sus[g]
	// of them are susceptible.
	first []int32
	sus   []int32
	order []int32
	tree  *sumtree.Float
	// rng, when set, keeps each group's susceptible targets in a
	// uniformly random order (lanes of shuffleTargets or more; see
	// setSusceptible); nil: in any order, and pickTarget draws one.
	rng *rand.Rand
}

// shuffleTargets is the number of targets from which a lane keeps them in
// random order. Drawing the next target at a random slot of a lane's
// order costs a wait for memory when the order outgrows the second-level
// cache (360,000 targets, 1.4 MB, with the other per-host arrays); taking
// the last of a shuffled order does not, and the shuffle costs a draw per
// target at the start. Below this a lane's order stays in the cache and
// the shuffle would only add work.
// It is a variable so that tests can shuffle small lanes too.
var shuffleTargets = 1 << 17

type hostGroups struct{ src, tgt int32 }

// newLane returns a lane for n hosts; single says that it has one group
// and every host is both a source and a target in it.
func newLane(share float64, n int, single bool) lane {
	l := lane{share: share, pos: make([]int32, n)}
	if !single {
		l.groups = make([]hostGroups, n)
	}
	return l
}

// place sets host h's source and target groups.
func (l *lane) place(h int, src, tgt int32) {
	if l.groups == nil {
		if src != 0 || tgt != 0 {
			panic("sim: a host outside a single-group lane's group")
		}
		return
	}
	l.groups[h] = hostGroups{src, tgt}
}

func (l *lane) src(h int32) int32 {
	if l.groups == nil {
		return 0
	}
	return l.groups[h].src
}

func (l *lane) tgt(h int32) int32 {
	if l.groups == nil {
		return 0
	}
	return l.groups[h].tgt
}

// RunEvent simulates c with the event engine. It is exact in distribution
// for the model of the package comment. It runs mixtures of uniform
// neighbourhood draws (worm.Strategy.Channels), sequential scanners and
// hit-lists, and refuses the rest (see EventEngineRuns).
func RunEvent(c *Config, seed uint64) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	e := &eventEngine{cfg: c, rng: rand.New(rand.NewPCG(seed, streamEvent)), rec: newRecorder(c), obs: c.Observers}
	chans, ok := c.Strategy.Channels()
	switch st := c.Strategy.(type) {
	case worm.Sequential, worm.Permutation:
		e.walk = newWalkers(c, st)
	case worm.HitList:
		// Copies that have used up their part of the list scan by what
		// follows: uniformly, or by walking a permutation.
		e.hit = newHitList(c)
		if e.walk = newWalkers(c, st.After()); e.walk == nil {
			if chans, ok = st.After().Channels(); !ok {
				return nil, fmt.Errorf("sim: the event engine cannot run a hit-list followed by %q; use the probe engine", st.After().Name())
			}
		}
	default:
		if !ok {
			return nil, fmt.Errorf("sim: the event engine cannot run strategy %q; use the probe engine", c.Strategy.Name())
		}
	}
	if err := e.init(chans); err != nil {
		return nil, err
	}
	e.run()
	if c.Stop != nil && c.stopRequested() {
		return nil, ErrStopped
	}
	e.finishProbes()
	return &Result{Engine: "event", Rows: e.rec.rows, Infections: e.infections}, nil
}

func (e *eventEngine) init(chans []worm.Channel) error {
	c := e.cfg
	n := len(c.Hosts)
	e.flags = make([]hostFlags, n)
	e.rates = c.Rates
	if n > 0 && !slices.ContainsFunc(c.Rates, func(r float64) bool { return r != c.Rates[0] }) {
		e.rates, e.uniformRate = nil, c.Rates[0]
	}
	if k := c.Containment; k != nil {
		e.contain = k
		e.netOf = make([]int32, n)
		for i, a := range c.Hosts {
			e.netOf[i] = k.network(uint32(a), c.SpaceBits)
		}
		e.blacklisted = make([]bool, n)
		if k.Content && !k.ContentAfterFirst {
			e.timers.push(timer{t: k.ContentDelay, host: -1, kind: contentOn})
		}
	}
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
		public := newLane(ch.Share, n, ch.PrefixBits == 0 && c.Site == nil)
		groups := 1 << ch.PrefixBits
		public.inv = make([]float64, groups)
		for g := range groups {
			public.inv[g] = invOf(uint64(g))
		}
		var private *lane
		var privKey map[uint64]int32
		if c.Site != nil {
			lp := newLane(ch.Share, n, false)
			private = &lp
			privKey = map[uint64]int32{}
		}
		for i, a := range c.Hosts {
			g := uint64(a) >> shift
			site := c.siteOf(int32(i))
			if site == 0 {
				public.place(i, int32(g), int32(g))
				if private != nil {
					private.place(i, -1, -1)
				}
				continue
			}
			// A NATed host: a target only in its own site; as a source it
			// feeds the public part of its neighbourhood, if there is one,
			// and its site's private part.
			public.place(i, -1, -1)
			if !c.coveredByPrivate(ipspace.PrefixFrom(ipspace.Addr(g<<shift), 32-int(shift))) {
				public.groups[i].src = int32(g)
			}
			key := uint64(site)<<32 | g
			id, ok := privKey[key]
			if !ok {
				id = int32(len(private.inv))
				privKey[key] = id
				private.inv = append(private.inv, invOf(g))
			}
			private.place(i, id, id)
		}
		public.accepts[classFree] = true
		if k := c.Containment; k == nil || ch.PrefixBits >= k.NetworkBits {
			// Every target lies in the source's own network: no filter
			// between them, whatever the source's class (but silenced).
			public.accepts[classOpen], public.accepts[classConfined] = true, true
		}
		public.partition(e.rng)
		e.lanes = append(e.lanes, public)
		if private != nil {
			private.accepts[classFree] = true
			private.partition(e.rng)
			e.lanes = append(e.lanes, *private)
		}
		if k := c.Containment; k != nil && ch.PrefixBits < k.NetworkBits {
			e.lanes = append(e.lanes, containmentLanes(c, ch, public.inv, e.netOf, e.rng)...)
		}
	}
	drawn := drawnBy(&c.Life)
	if c.Containment != nil {
		drawn[Infected] = true // content filtering reclasses every infected host
	}
	e.sets = newHostSets(n, drawn)
	// Room for every host's first infection: appending one by one would
	// copy the list again and again as it grew (a fifth of a Code Red day).
	e.infections = make([]Infection, 0, n)
	e.perHost = c.perHostCalendar()
	if c.Lifetime != nil || e.perHost || c.Containment != nil || e.walk != nil || e.hit != nil {
		// Timers and walkers tell a stale entry by the infection it
		// belongs to.
		e.infectedAt = make([]float64, n)
	}
	if e.perHost {
		e.hostPhase = make([]worm.Phase, n)
	}
	for _, h := range c.InitialPatched {
		e.setState(0, h, Patched)
	}
	for _, h := range c.InitialRemoved {
		e.setState(0, h, Removed)
	}
	var parts []uint64
	if e.hit != nil {
		parts = c.hitParts()
	}
	for j, h := range c.Initial {
		if e.hit != nil {
			e.hit.part[h] = parts[j]
		}
		e.infect(0, h)
		if c.InitialAsleep && e.perHost {
			e.applyPhase(0, h, e.hostPhase[h], worm.Dormant)
			e.timers.push(timer{t: e.rng.Float64() * c.WakeDelayMax, host: h, kind: wakeUp})
		}
	}
	e.startDayCycle()
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
func (l *lane) partition(rng *rand.Rand) {
	groups := len(l.inv)
	l.first = make([]int32, groups+1)
	for h := range l.pos {
		if g := l.tgt(int32(h)); g >= 0 {
			l.first[g+1]++
		}
	}
	for g := range groups {
		l.first[g+1] += l.first[g]
	}
	l.sus = make([]int32, groups)
	l.order = make([]int32, l.first[groups])
	for h := range l.pos {
		g := l.tgt(int32(h))
		if g < 0 {
			l.pos[h] = -1
			continue
		}
		i := l.first[g] + l.sus[g]
		l.order[i], l.pos[h] = int32(h), i
		l.sus[g]++
	}
	if len(l.order) >= shuffleTargets {
		l.rng = rng
		for g := range groups {
			seg := l.order[l.first[g]:l.first[g+1]]
			for i := len(seg) - 1; i > 0; i-- {
				j := rng.Int32N(int32(i + 1))
				seg[i], seg[j] = seg[j], seg[i]
			}
		}
		for i, h := range l.order {
			l.pos[h] = int32(i)
		}
	}
	l.rate = make([]float64, groups)
	l.tree = sumtree.NewFloat(groups)
}

func (l *lane) update(g int32) {
	l.tree.Set(int(g), l.share*l.rate[g]*float64(l.sus[g])*l.inv[g])
}

// setSusceptible moves host h into or out of its group's susceptible part.
//
// In a shuffled lane (rng set) each group's susceptible part stays a
// uniformly random arrangement of its hosts, whatever happened before, so
// its last host is a uniform draw (pickTarget). The partition starts
// shuffled. Taking the last host away leaves the rest uniformly arranged;
// so does moving the last host into the slot of another that leaves: for
// each arrangement left there are as many arrangements before as there
// were slots, one for each place of the host that left. A host that comes
// back is swapped with a uniformly drawn slot, which is a uniform
// insertion.
func (l *lane) setSusceptible(h int32, sus bool) {
	g := l.tgt(h)
	if g < 0 {
		return
	}
	if !sus {
		l.sus[g]--
		if j := l.first[g] + l.sus[g]; l.order[j] != h {
			l.swap(l.pos[h], j)
		}
		l.update(g)
		return
	}
	j := l.first[g] + l.sus[g]
	l.sus[g]++
	l.swap(l.pos[h], j)
	if l.rng != nil {
		l.swap(j, l.first[g]+l.rng.Int32N(l.sus[g]))
	}
	l.update(g)
}

// swap exchanges the hosts at order[i] and order[j].
func (l *lane) swap(i, j int32) {
	a, b := l.order[i], l.order[j]
	l.order[i], l.order[j] = b, a
	l.pos[b], l.pos[a] = i, j
}

func (l *lane) addRate(h int32, r float64) {
	if g := l.src(h); g >= 0 {
		l.rate[g] += r
		if l.rate[g] < 1e-9*r { // rounding after the last source left
			l.rate[g] = 0
		}
		l.update(g)
	}
}

// setState moves host h to state to, keeping the lanes' susceptible sets.
func (e *eventEngine) setState(t float64, h int32, to State) {
	from := e.sets.set(h, to)
	if from == to {
		return
	}
	if (from == Susceptible || to == Susceptible) && !e.isOff(h) {
		for k := range e.lanes {
			e.lanes[k].setSusceptible(h, to == Susceptible)
		}
	}
	if from == Infected && e.perHost {
		if e.hostPhase[h] == worm.Flood {
			e.flooding--
		}
		// A copy that ends keeps no phase: a later copy on the host
		// starts from none, or its flood would be uncounted twice.
		e.hostPhase[h] = worm.Dormant
	}
	for _, o := range e.obs {
		o.Changed(t, h, from, to)
	}
}

// setSpreading starts or stops host h's scanning.
func (e *eventEngine) setSpreading(t float64, h int32, on bool) {
	fl := &e.flags[h]
	if fl.spreading == on {
		return
	}
	fl.spreading = on
	r := e.rate(h)
	if !on {
		r = -r
	}
	e.spreadRate += r
	if e.spreadRate < 0 {
		e.spreadRate = 0
	}
	switch {
	case e.hit != nil && e.hit.active(h):
		if on {
			e.hit.tree.Set(int(h), e.cfg.Rates[h])
		} else {
			e.hit.tree.Set(int(h), 0)
		}
	case e.walk != nil:
		if on {
			e.walk.start(e, h)
		}
	default:
		e.moveRate(h, r)
	}
	for _, o := range e.obs {
		o.Spreading(t, h, on)
	}
}

// moveRate adds r to the scanning rate host h feeds into the lanes its
// source class feeds.
func (e *eventEngine) moveRate(h int32, r float64) {
	cl := e.flags[h].class
	for k := range e.lanes {
		if e.lanes[k].accepts[cl] {
			e.lanes[k].addRate(h, r)
		}
	}
}

// infect makes susceptible host h infected, starts it spreading if its
// calendar allows, and schedules the end of its lifetime.
func (e *eventEngine) infect(t float64, h int32) {
	if e.infectedAt != nil {
		e.infectedAt[h] = t
	}
	e.setState(t, h, Infected)
	if k := e.contain; k != nil {
		// A new infection starts unlisted; its class is set before it
		// feeds any lane.
		e.blacklisted[h] = false
		e.flags[h].class = k.class(e.netOf[h], e.contentOn)
		if k.Blacklist {
			e.timers.push(timer{t: t + k.BlacklistDelay, host: h, kind: blacklistOn, since: t})
		}
	}
	if lt := e.cfg.Lifetime; lt != nil && lt[h] > 0 {
		e.timers.push(timer{t: t + lt[h], host: h, kind: lifetimeEnd, since: t})
	}
	if !e.perHost {
		e.setSpreading(t, h, true)
		return
	}
	// A new copy starts awake: the delay belongs to copies that slept.
	e.checkPhase(t, h, true)
}

// hostClock returns host h's clock reading at run time t.
func (e *eventEngine) hostClock(t float64, h int32) time.Time {
	t0 := e.cfg.Start.Add(secondsToDuration(t))
	if e.cfg.ClockOffset != nil {
		t0 = t0.Add(secondsToDuration(e.cfg.ClockOffset[h]))
	}
	return t0
}

// checkPhase reads host h's calendar by its own clock and applies the
// phase, in per-host mode. A copy whose calendar turns from flood or
// dormancy to spreading first sleeps for a random delay (wakeUp), unless
// awake is set.
func (e *eventEngine) checkPhase(t float64, h int32, awake bool) {
	c := e.cfg
	clock := e.hostClock(t, h)
	p, next := c.Calendar.At(clock)
	old := e.hostPhase[h]
	if p == worm.Spread && old != worm.Spread && !awake && c.WakeDelayMax > 0 {
		// Asleep until the delay passes: neither spreading nor flooding.
		e.applyPhase(t, h, old, worm.Dormant)
		delay := float64(e.rng.Float64() * c.WakeDelayMax)
		e.timers.push(timer{t: t + delay, host: h, kind: wakeUp, since: e.infectedAt[h]})
		return
	}
	e.applyPhase(t, h, old, p)
	if !next.IsZero() {
		e.timers.push(timer{t: t + next.Sub(clock).Seconds(), host: h, kind: phaseCheck, since: e.infectedAt[h]})
	}
}

func (e *eventEngine) applyPhase(t float64, h int32, old, p worm.Phase) {
	e.hostPhase[h] = p
	if old == worm.Flood && p != worm.Flood {
		e.flooding--
	}
	if p == worm.Flood && old != worm.Flood {
		e.flooding++
	}
	e.setSpreading(t, h, p == worm.Spread)
}

// infectionRate returns the total rate of infecting probes, before the
// congestion factor.
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
	k := newClock(c, e.perHost)
	for t < end {
		if k.stopped() {
			return
		}
		boundary, timerDue := k.boundary(end, e.timers)
		spread := k.phase == worm.Spread
		f := scanFactor(c, &e.sets.counts, e.spreadRate)
		var lamInf, probeRate float64
		if spread {
			lamInf, probeRate = f*e.infectionRate(), f*e.spreadRate
		}
		patch, clean, reboot := lifeRates(&c.Life, &e.sets.counts, k.sched)
		lam := lamInf + patch + clean + reboot
		te := math.Inf(1)
		if lam > 0 {
			te = t + e.rng.ExpFloat64()/lam
		}
		missRate := max(probeRate-lamInf, 0)
		st := Stretch{T0: t, Spread: spread, ScanFactor: f, Flooding: e.floodCount(k.phase)}
		if e.walk != nil {
			// Walkers' probes are counted by their rate (see walkers);
			// hit-list probes one by one.
			missRate = probeRate
			if e.hit != nil && spread {
				missRate = max(probeRate-float64(f*e.hit.tree.Total()), 0)
			}
			if tw := e.walk.next(t, spread, f); tw < te && tw < boundary {
				st.T1 = tw
				e.advance(st, missRate)
				t = tw
				e.walk.arrive(e, t)
				continue
			}
		}
		if te >= boundary {
			// Nothing fires before the boundary; the exponential is
			// memoryless, so it is simply drawn again from there.
			st.T1 = boundary
			e.advance(st, missRate)
			t = boundary
			if timerDue {
				e.fireTimer(t, e.timers.pop())
			} else {
				k.cross(t)
			}
			continue
		}
		st.T1 = te
		e.advance(st, missRate)
		t = te
		u := float64(e.rng.Float64() * lam)
		if u < patch+clean+reboot {
			e.lifeEvent(t, u, patch, clean)
			continue
		}
		// An infecting probe: undo the congestion factor to pick among
		// the unscaled weights.
		u = (u - patch - clean - reboot) / f
		lamInf /= f
		if e.hit != nil {
			if ht := e.hit.tree.Total(); u < ht {
				e.hit.fire(e, t, u)
				continue
			} else {
				u -= ht
				lamInf -= ht
			}
		}
		if h := e.pickTarget(u, lamInf); h >= 0 {
			e.rec.explicit[e.rec.row(t)]++
			e.newInfection(t, h)
		}
	}
	e.rec.snapshot(end, &e.sets.counts)
}

// floodCount returns the infected hosts flooding now.
func (e *eventEngine) floodCount(global worm.Phase) int64 {
	if e.perHost {
		return e.flooding
	}
	if global == worm.Flood {
		return e.sets.counts[Infected]
	}
	return 0
}

// lifeEvent applies a patch, clean-up or reboot; u < patch+clean+reboot.
func (e *eventEngine) lifeEvent(t, u, patch, clean float64) {
	switch {
	case u < patch:
		if h := e.sets.random(Susceptible, e.rng); h >= 0 {
			e.setState(t, h, Patched)
		}
	case u < patch+clean:
		if h := e.sets.random(Infected, e.rng); h >= 0 {
			e.setSpreading(t, h, false)
			e.setState(t, h, Removed)
		}
	default:
		// A reboot clears a memory-resident worm; the host can be infected
		// again.
		if h := e.sets.random(Infected, e.rng); h >= 0 {
			e.setSpreading(t, h, false)
			e.setState(t, h, Susceptible)
		}
	}
}

// fireTimer applies a scheduled change, unless it belongs to an infection
// the host has since lost.
func (e *eventEngine) fireTimer(t float64, tm timer) {
	if tm.kind == contentOn {
		e.startContentFilter()
		return
	}
	if tm.kind == switchOn || tm.kind == switchOff {
		e.fireSwitch(t, tm)
		return
	}
	h := tm.host
	if e.sets.state[h] != Infected || e.infectedAt[h] != tm.since {
		return
	}
	switch tm.kind {
	case lifetimeEnd:
		e.setSpreading(t, h, false)
		e.setState(t, h, e.cfg.AfterLifetime)
	case phaseCheck:
		e.checkPhase(t, h, false)
	case wakeUp:
		e.checkPhase(t, h, true)
	case blacklistOn:
		e.blacklisted[h] = true
		e.reclass(h)
	}
}

// newInfection records and applies an infection at time t.
func (e *eventEngine) newInfection(t float64, h int32) {
	if k := e.contain; k != nil && k.Content && k.ContentAfterFirst && len(e.infections) == 0 {
		e.timers.push(timer{t: t + k.ContentDelay, host: -1, kind: contentOn})
	}
	e.infect(t, h)
	e.infections = append(e.infections, Infection{t, h})
	e.rec.rows[e.rec.row(t)].NewInfections++
}

func (e *eventEngine) advance(st Stretch, missRate float64) {
	e.rec.snapshot(st.T0, &e.sets.counts)
	e.rec.addMissed(st.T0, st.T1, missRate)
	if e.walk != nil && st.Spread {
		e.walk.active += float64(st.ScanFactor * (st.T1 - st.T0))
	}
	for _, o := range e.obs {
		o.Advance(st)
	}
	e.rec.snapshot(st.T1, &e.sets.counts)
}

// pickTarget draws the host the next infection reaches: a lane and a group
// in proportion to their rates, then a host uniformly among the group's
// susceptible targets (in a shuffled lane, the last of them). u is uniform
// on [0, lambda), lambda the lanes' total rate.
func (e *eventEngine) pickTarget(u, lambda float64) int32 {
	k := 0
	for ; k < len(e.lanes)-1; k++ {
		tot := e.lanes[k].tree.Total()
		if u < tot {
			break
		}
		u -= tot
	}
	if len(e.lanes) == 0 {
		return -1
	}
	l := &e.lanes[k]
	g := l.tree.Find(min(u, l.tree.Total()))
	if g < 0 || l.sus[g] == 0 {
		return -1
	}
	var h int32
	if l.rng != nil {
		h = l.order[l.first[g]+l.sus[g]-1]
	} else {
		h = l.order[l.first[g]+e.rng.Int32N(l.sus[g])]
	}
	e.warm(h, l, g)
	return h
}

// warm loads at once the memory that infecting h is about to touch: its
// state, flags and place in every lane, and the place of the host that
// takes its slot among g's susceptible targets (in a shuffled lane, h is
// the last and neither is needed). Loaded one after the
// other, as the infection's steps reach them, each would wait for memory
// in turn; loads issued together overlap their waits.
func (e *eventEngine) warm(h int32, l *lane, g int) {
	x := int32(e.sets.state[h]) + int32(e.flags[h].class)
	for k := range e.lanes {
		if &e.lanes[k] != l || l.rng == nil {
			x += e.lanes[k].pos[h]
		}
	}
	if l.rng == nil {
		x += l.pos[l.order[l.first[g]+l.sus[g]-1]]
	}
	e.sink = x
}

// finishProbes turns each bin's expected count of probes that infected
// nobody into a Poisson draw and adds the probes counted one by one. Given
// the run's infection times, the probes that infect nobody form a Poisson
// process of intensity R(t) - lambda(t) (thinning of the superposed probe
// stream), so the per-bin counts are exact in distribution.
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
