package sim

import (
	"cmp"
	"container/heap"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/wormlab/wormlab/internal/sumtree"
	"github.com/wormlab/wormlab/internal/worm"
)

// walkers runs sequential and permutation scanners in the event engine.
// A copy's targets are fixed by its place on the walk (its cursor: an
// address for sequential scanners, a place in the shared permutation for
// permutation scanners), and its probes are a Poisson process, so the time
// it takes to reach the next vulnerable host d places ahead is Gamma(d, r):
// the engine jumps from one vulnerable host on a copy's path to the next,
// an event per host passed rather than per probe, and stays exact. A
// permutation scanner that reaches an infected host jumps to a uniform
// place, as its probe-engine generator does. Times are kept in "active"
// seconds, counted only while the calendar lets copies spread, so a pause
// simply stops every copy's clock.
//
// Probe counts per bin come from the copies' rates, as for the other
// strategies; unlike them they are not conditioned on the arrival events
// (the difference is one probe per host passed, against millions of
// probes).
type walkers struct {
	startAt func(e *eventEngine, h int32) uint64 // a new copy's cursor
	jumps   bool                                 // copies jump on reaching an infected host
	key     []uint64                             // per host: its place on the walk
	sorted  []int32                              // hosts by key
	cursor  []uint64
	queue   walkHeap
	active  float64 // active seconds so far
	mask    uint64
	gamma   distuv.Gamma
}

type walk struct {
	tau   float64 // active time of arrival
	host  int32   // the copy
	at    int32   // index into sorted of the host it reaches
	since float64 // the copy's infection, to drop stale walks
}

// newWalkers returns the walkers of a sequential or permutation strategy.
func newWalkers(c *Config, st worm.Strategy) *walkers {
	w := &walkers{mask: uint64(1)<<c.SpaceBits - 1, key: make([]uint64, len(c.Hosts))}
	switch st := st.(type) {
	case worm.Sequential:
		for i, a := range c.Hosts {
			w.key[i] = uint64(a)
		}
		w.startAt = func(e *eventEngine, h int32) uint64 { return st.Start(e.cfg.Hosts[h], e.cfg.SpaceBits, e.rng) }
	case worm.Permutation:
		order := st.Order(c.SpaceBits)
		for i, a := range c.Hosts {
			w.key[i] = order.Place(uint64(a))
		}
		w.startAt = func(_ *eventEngine, h int32) uint64 { return (w.key[h] + 1) & w.mask }
		w.jumps = true
	default:
		return nil
	}
	w.sorted = make([]int32, len(c.Hosts))
	for i := range w.sorted {
		w.sorted[i] = int32(i)
	}
	slices.SortFunc(w.sorted, func(a, b int32) int { return cmp.Compare(w.key[a], w.key[b]) })
	w.cursor = make([]uint64, len(c.Hosts))
	return w
}

// start begins copy h's walk from its start.
func (w *walkers) start(e *eventEngine, h int32) {
	w.cursor[h] = w.startAt(e, h)
	w.schedule(e, h)
}

// schedule queues copy h's arrival at the next vulnerable host at or after
// its cursor, cyclically, stepping over h itself.
func (w *walkers) schedule(e *eventEngine, h int32) {
	n := len(w.sorted)
	if n < 2 {
		return
	}
	c := w.cursor[h]
	i, _ := slices.BinarySearchFunc(w.sorted, c, func(x int32, v uint64) int { return cmp.Compare(w.key[x], v) })
	if i == n {
		i = 0
	}
	if w.sorted[i] == h {
		i = (i + 1) % n
	}
	target := w.key[w.sorted[i]]
	d := (target-c)&w.mask + 1
	// The copy's own place, if it lies on the way, costs no probe.
	if self := w.key[h]; (self-c)&w.mask < (target-c)&w.mask {
		d--
	}
	w.gamma.Alpha, w.gamma.Beta, w.gamma.Src = float64(d), e.cfg.Rates[h], e.rng
	heap.Push(&w.queue, walk{tau: w.active + w.gamma.Rand(), host: h, at: int32(i), since: e.infectedAt[h]})
}

// next returns the real time of the next arrival, or +Inf; f is the
// factor on scan rates (congestion, capacity), which slows every copy's
// clock alike.
func (w *walkers) next(t float64, spread bool, f float64) float64 {
	if !spread || len(w.queue) == 0 || f <= 0 {
		return math.Inf(1)
	}
	return t + (w.queue[0].tau-w.active)/f
}

// arrive delivers the next arrival at time t.
func (w *walkers) arrive(e *eventEngine, t float64) {
	a := heap.Pop(&w.queue).(walk)
	if e.sets.state[a.host] != Infected || e.infectedAt[a.host] != a.since {
		return // the copy has stopped since
	}
	target := w.sorted[a.at]
	w.cursor[a.host] = (w.key[target] + 1) & w.mask
	if !e.reaches(a.host, target) {
		w.schedule(e, a.host) // dropped by a filter: it learns nothing
		return
	}
	switch e.sets.state[target] {
	case Susceptible:
		e.newInfection(t, target)
	case Infected:
		if w.jumps {
			w.cursor[a.host] = e.rng.Uint64N(w.mask + 1)
		}
	}
	w.schedule(e, a.host)
}

type walkHeap []walk

func (h walkHeap) Len() int { return len(h) }
func (h walkHeap) Less(i, j int) bool {
	return h[i].tau < h[j].tau || (h[i].tau == h[j].tau && h[i].host < h[j].host)
}
func (h walkHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *walkHeap) Push(x any)   { *h = append(*h, x.(walk)) }
func (h *walkHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// hitList runs hit-list copies in the event engine. A copy with entries
// left sends every probe to its next entry, so its probes are a Poisson
// stream of rate r each aimed at a known host: these copies sit in a sum
// tree by rate, apart from the lanes, and move into the lanes (uniform
// scanning) when their part is used up.
type hitList struct {
	list []int32  // hosts, in list order
	part []uint64 // per host: its part of the list (worm.HitRange)
	tree *sumtree.Float
}

func newHitList(c *Config) *hitList {
	return &hitList{list: c.HitList, part: make([]uint64, len(c.Hosts)), tree: sumtree.NewFloat(len(c.Hosts))}
}

// active reports whether copy h has entries left.
func (l *hitList) active(h int32) bool {
	lo, hi := worm.HitBounds(l.part[h])
	return lo < hi
}

// fire delivers one hit-list probe: u, uniform below the tree's total,
// picks the copy.
func (l *hitList) fire(e *eventEngine, t float64, u float64) {
	h := int32(l.tree.Find(u))
	if h < 0 {
		return
	}
	// A copy's part never names the copy itself: initial hosts are not on
	// the list (Config.Validate), and a new copy's part lies after its own
	// entry.
	lo, hi := worm.HitBounds(l.part[h])
	target := l.list[lo]
	lo++
	l.part[h] = worm.HitRange(lo, hi)
	e.rec.explicit[e.rec.row(t)]++
	if e.sets.state[target] == Susceptible && e.reaches(h, target) {
		// The new copy takes the upper half of what is left.
		l.part[target] = worm.SplitHitList(&l.part[h])
		e.newInfection(t, target)
	}
	if !l.active(h) {
		l.leave(e, h)
	}
}

// leave moves copy h, its part used up, from the list to what follows
// it: walking (a permutation), or uniform scanning.
func (l *hitList) leave(e *eventEngine, h int32) {
	l.tree.Set(int(h), 0)
	if e.walk != nil {
		e.walk.start(e, h)
		return
	}
	e.moveRate(h, e.cfg.Rates[h])
}
