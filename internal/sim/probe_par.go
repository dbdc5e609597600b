package sim

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/worm"
)

// The probe engine on all cores.
//
// For the configurations parallelProbe accepts, every spreading copy has
// its own Poisson stream of probes and its own generator, seeded from the
// run's seed, the host, and how many copies started before it. The run
// advances in windows of simulated time that never cross a bin edge, a
// timer, a calendar change or the end. In a window, the copies spreading
// at its start draw all their probes up to the window's end on their own,
// in parallel over fixed chunks of copies, and keep the probes that land
// on a host susceptible at the window's start. Those hits are then applied
// one at a time in time order: a hit infects if its target is still
// susceptible and the filters let the probe through; the new copy draws
// its own probes from the instant of its infection to the window's end (or
// its lifetime's, whichever is first) at once, and its hits join the
// queue, so a copy infected during a window scans in that window exactly
// as in the sequential engine.
//
// This is exact because in these configurations nothing a copy finds
// changes what it or any other copy sends: no strategy changes course on
// a hit (worm.Jumper) or hands part of a list on (worm.HitList), no rate
// depends on the state (congestion, capacity), and no life-cycle event can
// stop a copy within a window. Since nothing drawn depends on the chunks,
// the number of workers or the window length, the output is the same
// bytes for any GOMAXPROCS (TestParallelProbeSameBytes).

// parWindowProbes is about how many probes a window holds when enough
// copies spread: large enough that starting the workers costs little,
// small enough that copies infected in a window (drawn by one core) send
// few of the probes.
var parWindowProbes = 1 << 18

const (
	// parChunkHosts is how many copies a worker takes at a time.
	parChunkHosts = 256
	// parMinProbes is the fewest probes a window must expect before its
	// copies are drawn on more than one core.
	parMinProbes = 2048
)

// parallelWindows counts the windows drawn on more than one worker, for
// the tests to see that the parallel path ran.
var parallelWindows atomic.Int64

// parallelProbe reports whether e's run can use the parallel probe
// engine: see the comment above.
func (e *probeEngine) parallelProbe() bool {
	c := e.cfg
	return !e.perHost && !e.hitList && e.jumper == nil && !c.Life.on() &&
		c.Life.CongestionEta == 0 && c.ScanCapacity == 0
}

// parSpreader is a spreading copy with its own probe stream.
type parSpreader struct {
	pcg    rand.PCG // the copy's random stream
	next   float64  // when it sends its next probe
	inv    float64  // 1/rate: mean seconds between its probes
	cursor uint64   // its generator state
	addr   ipspace.Addr
	site   int32
	host   int32
	seenIn int32 // the last window in which it probed the telescope
}

// parHit is a probe from src landing on dst at t.
type parHit struct {
	t        float64
	src, dst int32
}

func (a parHit) before(b parHit) bool {
	return a.t < b.t || (a.t == b.t && (a.src < b.src || (a.src == b.src && a.dst < b.dst)))
}

// parChunk is what one chunk of copies sent in a window.
type parChunk struct {
	probes int64
	tele   int64   // probes into the telescope, besides each seen host's first
	seen   []int32 // hosts that probed the telescope in the window
	hits   []parHit
}

// parDrawer draws copies' probes, each with its copy's stream, and looks
// their targets up by the batch: drawing first and looking up in a
// separate loop lets the processor overlap the cache misses of
// independent look-ups.
type parDrawer struct {
	pcg     rand.PCG
	rng     *rand.Rand
	n       int
	times   [probeBatch]float64
	srcs    [probeBatch]int32 // index into the copies being drawn
	targets [probeBatch]ipspace.Addr
	hits    [probeBatch]int32
}

func newParDrawer() *parDrawer {
	d := &parDrawer{}
	d.rng = rand.New(&d.pcg)
	return d
}

type parProbe struct {
	e       *probeEngine
	seed    uint64
	starts  uint64 // copies started so far: part of each new stream's seed
	hosts   []parSpreader
	chunks  []parChunk
	late    parChunk // what a copy infected during the merge sent
	queue   hitHeap
	drawers []*parDrawer // one per worker; drawers[0] is the caller's
	stale   bool         // the calendar paused: every copy's next probe is redrawn
	now     float64      // the time of the change being applied
	merging bool         // applying a window's hits: new copies scan at once

	// the window being drawn
	windows int32 // windows so far
	t1      float64
	row     int
	n0      int // copies spreading at its start
	chunk   atomic.Int64
}

func newParProbe(e *probeEngine, seed uint64) *parProbe {
	p := &parProbe{e: e, seed: seed}
	for range runtime.GOMAXPROCS(0) {
		p.drawers = append(p.drawers, newParDrawer())
	}
	return p
}

// mix64 is the SplitMix64 finaliser: it spreads every bit of x over the
// result, so that nearby seeds give unrelated streams.
func mix64(x uint64) uint64 {
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// start makes host h spread from p.now; a copy infected while a window's
// hits are applied draws its probes in the window at once.
func (p *parProbe) start(h int32) {
	e := p.e
	c := e.cfg
	p.starts++
	s := parSpreader{inv: 1 / c.Rates[h], cursor: e.cursor[h], addr: c.Hosts[h], site: c.siteOf(h), host: h}
	s.pcg.Seed(mix64(p.seed^mix64(uint64(h))), mix64(p.starts^p.seed<<1))
	d := p.drawers[0]
	d.pcg = s.pcg
	s.next = p.now + d.rng.ExpFloat64()*s.inv
	s.pcg = d.pcg
	slot := len(p.hosts)
	e.slotOf[h] = int32(slot)
	p.hosts = append(p.hosts, s)
	e.spreadRate += c.Rates[h]
	if !p.merging {
		return
	}
	stop := p.t1
	if lt := c.Lifetime; lt != nil && lt[h] > 0 {
		stop = min(stop, p.now+lt[h])
	}
	// A target infected now may be susceptible again by the time a probe
	// lands (a lifetime ending in Susceptible), so hits on infected hosts
	// are kept too.
	p.late.probes, p.late.tele, p.late.seen, p.late.hits = 0, 0, p.late.seen[:0], p.late.hits[:0]
	p.draw(p.hosts[slot:slot+1], stop, d, 1<<Susceptible|1<<Infected, &p.late)
	p.commit(&p.late)
}

// stop ends host h's spreading; its generator state is kept for a later
// start, its random stream is not (a new start draws afresh).
func (p *parProbe) stop(h int32) {
	e := p.e
	slot := e.slotOf[h]
	if slot < 0 {
		return
	}
	e.cursor[h] = p.hosts[slot].cursor
	e.spreadRate = max(e.spreadRate-e.cfg.Rates[h], 0)
	last := int32(len(p.hosts) - 1)
	if last == 0 {
		e.spreadRate = 0 // no rounding left behind
	}
	p.hosts[slot] = p.hosts[last]
	e.slotOf[p.hosts[slot].host] = slot
	p.hosts = p.hosts[:last]
	e.slotOf[h] = -1
}

// draw sends the probes of copies ss up to time stop, counting them in
// out and keeping those that land on a host whose state is in the set
// want.
func (p *parProbe) draw(ss []parSpreader, stop float64, d *parDrawer, want uint8, out *parChunk) {
	gen, rng := p.e.gen, d.rng
	d.n = 0
	for i := range ss {
		s := &ss[i]
		if s.next > stop {
			continue
		}
		d.pcg = s.pcg
		next := s.next
		for next <= stop {
			if d.n == probeBatch {
				p.lookUp(ss, d, want, out)
			}
			d.times[d.n], d.srcs[d.n] = next, int32(i)
			d.targets[d.n] = gen.Next(s.addr, &s.cursor, rng)
			d.n++
			next += rng.ExpFloat64() * s.inv
		}
		s.next, s.pcg = next, d.pcg
	}
	p.lookUp(ss, d, want, out)
}

// lookUp looks up the batch in d, drawn from copies ss, and empties it.
func (p *parProbe) lookUp(ss []parSpreader, d *parDrawer, want uint8, out *parChunk) {
	e := p.e
	n := d.n
	d.n = 0
	out.probes += int64(n)
	if e.inSite == nil {
		for j := range n {
			d.hits[j] = e.index.find(d.targets[j])
		}
	} else {
		for j := range n {
			d.hits[j] = e.lookupFrom(d.targets[j], ss[d.srcs[j]].site)
		}
	}
	state := e.sets.state
	for j := range n {
		if h := d.hits[j]; h >= 0 && want>>state[h]&1 != 0 {
			out.hits = append(out.hits, parHit{d.times[j], ss[d.srcs[j]].host, h})
		}
	}
	if e.tele == nil {
		return
	}
	for j := range n {
		if !e.cfg.ProbeTelescope.Contains(d.targets[j]) {
			continue
		}
		if s := &ss[d.srcs[j]]; s.seenIn != p.windows {
			s.seenIn = p.windows
			out.seen = append(out.seen, s.host)
		} else {
			out.tele++
		}
	}
}

// commit counts what out sent in the window's row and queues its hits.
func (p *parProbe) commit(out *parChunk) {
	e := p.e
	e.rec.rows[p.row].Probes += out.probes
	e.probes += out.probes
	if e.tele != nil {
		e.tele[p.row].Probes += out.tele
		for _, h := range out.seen {
			e.seeTelescope(p.row, h)
		}
	}
	for _, x := range out.hits {
		p.queue.push(x)
	}
}

// drawChunks draws the window's chunks until none is left; worker w
// uses its own drawer.
func (p *parProbe) drawChunks(w int) {
	d := p.drawers[w]
	for {
		i := int(p.chunk.Add(1) - 1)
		if i >= len(p.chunks) {
			return
		}
		ch := &p.chunks[i]
		p.draw(p.hosts[i*parChunkHosts:min((i+1)*parChunkHosts, p.n0)], p.t1, d, 1<<Susceptible, ch)
	}
}

// window runs the window (t0, t1], which lies within one bin.
func (p *parProbe) window(t0, t1 float64) {
	e := p.e
	if p.stale {
		d := p.drawers[0]
		for i := range p.hosts {
			s := &p.hosts[i]
			d.pcg = s.pcg
			s.next = t0 + d.rng.ExpFloat64()*s.inv
			s.pcg = d.pcg
		}
		p.stale = false
	}
	p.windows++
	p.t1, p.row, p.n0 = t1, e.rec.row(t1), len(p.hosts)
	nch := (p.n0 + parChunkHosts - 1) / parChunkHosts
	for len(p.chunks) < nch {
		p.chunks = append(p.chunks, parChunk{})
	}
	p.chunks = p.chunks[:nch]
	for i := range p.chunks {
		ch := &p.chunks[i]
		ch.probes, ch.tele, ch.seen, ch.hits = 0, 0, ch.seen[:0], ch.hits[:0]
	}
	p.chunk.Store(0)
	if workers := min(len(p.drawers), nch); workers > 1 && e.spreadRate*(t1-t0) >= parMinProbes {
		parallelWindows.Add(1)
		var wg sync.WaitGroup
		for w := 1; w < workers; w++ {
			wg.Go(func() { p.drawChunks(w) })
		}
		p.drawChunks(0)
		wg.Wait()
	} else {
		p.drawChunks(0)
	}
	for i := range p.chunks {
		p.commit(&p.chunks[i])
	}
	p.merging = true
	for len(p.queue) > 0 {
		x := p.queue.pop()
		p.fireTimers(x.t)
		p.apply(x)
	}
	p.fireTimers(t1)
	p.merging = false
}

// fireTimers fires the timers due before t that copies infected in the
// window set (a lifetime shorter than the rest of the window).
func (p *parProbe) fireTimers(t float64) {
	e := p.e
	for !e.timers.empty() && e.timers.top().t < t {
		tm := e.timers.pop()
		p.now = tm.t
		e.fireTimer(tm.t, tm)
	}
}

// apply delivers hit x: it infects its target if that is still
// susceptible and the filters let the probe through.
func (p *parProbe) apply(x parHit) {
	e := p.e
	h := x.dst
	if e.sets.state[h] != Susceptible || (e.day != nil && e.day.off[h]) {
		return
	}
	if e.contain != nil && !e.reaches(x.src, h, x.t) {
		return
	}
	e.cursor[h] = 0 // a new copy starts afresh, whatever an earlier one left
	p.now = x.t
	e.newCopy(x.t, h, p.row)
}

// windowEnd returns the end of the window that starts at t: the next bin
// edge, the boundary, or about parWindowProbes probes on, whichever is
// first.
func (p *parProbe) windowEnd(t, boundary float64) float64 {
	step := p.e.rec.step
	edge := (math.Floor(t/step) + 1) * step
	if edge <= t {
		edge += step
	}
	t1 := min(boundary, edge)
	if r := p.e.spreadRate; r > 0 {
		if w := t + float64(parWindowProbes)/r; w > t {
			t1 = min(t1, w)
		}
	}
	return t1
}

// runParallel is run for the parallel engine.
func (e *probeEngine) runParallel() {
	c := e.cfg
	p := e.par
	end := c.Duration.Seconds()
	t := 0.0
	k := newClock(c, false)
	for t < end {
		if k.stopped() {
			return
		}
		boundary, timerDue := k.boundary(end, e.timers)
		if k.phase == worm.Spread && len(p.hosts) > 0 && e.rMax > 0 {
			t1 := p.windowEnd(t, boundary)
			e.rec.snapshot(t, &e.sets.counts)
			p.window(t, t1)
			if t1 < boundary {
				t = t1
				continue
			}
		}
		t = boundary
		e.rec.snapshot(t, &e.sets.counts)
		p.now = t
		if timerDue {
			e.fireTimer(t, e.timers.pop())
		} else {
			k.cross(t)
			p.stale = true // probes drawn before a pause are stale after it
		}
	}
	e.rec.snapshot(end, &e.sets.counts)
}

// hitHeap is a binary min-heap of hits by time, then source and target.
type hitHeap []parHit

func (h *hitHeap) push(x parHit) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		q := (i - 1) / 2
		if !s[i].before(s[q]) {
			break
		}
		s[i], s[q] = s[q], s[i]
		i = q
	}
}

func (h *hitHeap) pop() parHit {
	s := *h
	x := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < len(s) && s[l].before(s[small]) {
			small = l
		}
		if r := l + 1; r < len(s) && s[r].before(s[small]) {
			small = r
		}
		if small == i {
			break
		}
		s[i], s[small] = s[small], s[i]
		i = small
	}
	*h = s
	return x
}
