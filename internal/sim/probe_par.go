package sim

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/worm"
)

// The probe engine on all cores.
//
// For the configurations parallelProbe accepts, every spreading copy has
// its own random stream, seeded from the run's seed, the host, and how
// many copies started before it. The run advances in windows of simulated
// time that never cross a bin edge, a timer, a calendar change or the
// end; only a copy's lifetime may end within one, which stops that copy
// alone. In a window, each copy spreading at its start draws its probes
// on its own, in parallel over fixed chunks of copies: a Poisson number of
// them for its part of the window, their targets in order from its
// generator, and keeps those that land on a host that may be susceptible
// (timeHits then gives those alone their times, from the uniform order
// statistics). The hits are then applied one at a time in time order,
// with the lifetimes that end among them: a hit infects if its target is
// still susceptible, switched on, and reached through the filters; the
// new copy draws its own probes from the instant of its infection to the
// window's end (or its lifetime's) at once, and its hits join the queue,
// so a copy infected during a window scans in that window exactly as in
// the sequential engine.
//
// This is exact because in these configurations nothing a copy finds
// changes what it or any other copy sends: no strategy changes course on
// a hit (worm.Jumper) or hands part of a list on (worm.HitList), no rate
// depends on the state (congestion, capacity), and no life-cycle event
// stops a copy at a time not known when it starts. Since nothing drawn
// depends on the chunks or the number of workers, the output is the same
// bytes for any GOMAXPROCS (TestParallelProbeSameBytes).

// parWindowProbes is about how many probes a window holds when enough
// copies spread: large enough that starting the workers costs little,
// small enough that copies infected in a window (drawn by one core) send
// few of the probes. A window also lasts long enough for each copy to
// send about parCopyProbes, so that the Poisson draw that starts each
// copy's share costs little per probe.
const (
	parWindowProbes = 1 << 18
	parCopyProbes   = 64
)

// parChunkHosts is how many copies a worker takes at a time (a variable
// for the test that changes it).
var parChunkHosts = 256

// parMinProbes is the fewest probes a window must expect before its
// copies are drawn on more than one core.
const parMinProbes = 2048

// parallelWindows counts the windows drawn on more than one worker, for
// the tests to see that the parallel path ran, and parallelPart adds up
// the nanoseconds spent drawing windows large enough to be drawn so, with
// any number of workers: what more cores can shorten, for the benchmark
// to report.
var parallelWindows, parallelPart atomic.Int64

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
	rate   float64
	end    float64 // when its lifetime ends (+Inf: never)
	cursor uint64  // its generator state
	addr   ipspace.Addr
	site   int32
	host   int32
	seenIn int32 // the last window in which it probed the telescope
}

// parHit is a probe from src landing on dst at t, the k-th of the n its
// source sent in the window (k and n serve to find t).
type parHit struct {
	t        float64
	src, dst int32
	k, n     int32
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
	count   distuv.Poisson
	n       int
	srcs    [probeBatch]int32 // index into the copies being drawn
	ks, ns  [probeBatch]int32 // the probe's place k among the n its copy sent
	targets [probeBatch]ipspace.Addr
	hits    [probeBatch]int32
	order   distuv.Beta // the place of a hit among its copy's probes in time
}

func newParDrawer() *parDrawer {
	d := &parDrawer{}
	d.rng = rand.New(&d.pcg)
	d.count.Src = &d.pcg
	d.order.Src = &d.pcg
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
	now     float64      // the time of the change being applied
	// Lifetimes end within windows, each stopping only its own copy, so
	// they are kept apart from the timers that end windows.
	lifetimes timerHeap
	ends      []float64 // per host: when its copy's lifetime ends, +Inf never
	want      uint8     // the states of hosts whose probes a window keeps
	merging   bool      // applying a window's hits: new copies scan at once

	// the window being drawn
	windows int32 // windows so far
	t0, t1  float64
	row     int
	n0      int // copies spreading at its start
	chunk   atomic.Int64
}

func newParProbe(e *probeEngine, seed uint64) *parProbe {
	p := &parProbe{e: e, seed: seed, ends: make([]float64, len(e.cfg.Hosts)), want: 1 << Susceptible}
	for i := range p.ends {
		p.ends[i] = math.Inf(1)
	}
	if e.cfg.Lifetime != nil && e.cfg.AfterLifetime == Susceptible {
		// A host infected at a window's start may be susceptible again
		// before its end.
		p.want |= 1 << Infected
	}
	for range runtime.GOMAXPROCS(0) {
		p.drawers = append(p.drawers, newParDrawer())
	}
	return p
}

// mix64 is SplitMix64's output function (Steele, Lea and Flood, "Fast
// splittable pseudorandom number generators", OOPSLA 2014; the constants
// of its public-domain version by Vigna): it spreads every bit of x over
// the result, so that nearby seeds give unrelated streams.
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
	s := parSpreader{rate: c.Rates[h], end: p.ends[h], cursor: e.cursor[h], addr: c.Hosts[h], site: c.siteOf(h), host: h}
	s.pcg.Seed(mix64(p.seed^mix64(uint64(h))), mix64(p.starts^p.seed<<1))
	slot := len(p.hosts)
	e.slotOf[h] = int32(slot)
	p.hosts = append(p.hosts, s)
	e.spreadRate += c.Rates[h]
	if !p.merging {
		return
	}
	// A target infected now may be susceptible again by the time a probe
	// lands (a lifetime ending in Susceptible), so hits on infected hosts
	// are kept too.
	p.late.probes, p.late.tele, p.late.seen, p.late.hits = 0, 0, p.late.seen[:0], p.late.hits[:0]
	p.draw(p.hosts[slot:slot+1], p.now, p.t1, p.drawers[0], 1<<Susceptible|1<<Infected, &p.late)
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

// draw sends the probes of copies ss in (from, stop], or until their
// lifetimes end, counting them in out and keeping those that land on a
// host whose state is in the set want.
func (p *parProbe) draw(ss []parSpreader, from, stop float64, d *parDrawer, want uint8, out *parChunk) {
	gen, rng := p.e.gen, d.rng
	first := len(out.hits)
	d.n = 0
	for i := range ss {
		s := &ss[i]
		d.pcg = s.pcg
		d.count.Lambda = s.rate * (min(stop, s.end) - from)
		n := 0
		if d.count.Lambda > 0 {
			n = int(d.count.Rand())
		}
		for k := range n {
			if d.n == probeBatch {
				p.lookUp(ss, d, want, out)
			}
			d.srcs[d.n], d.ks[d.n], d.ns[d.n] = int32(i), int32(k), int32(n)
			d.targets[d.n] = gen.Next(s.addr, &s.cursor, rng)
			d.n++
		}
		s.pcg = d.pcg
	}
	p.lookUp(ss, d, want, out)
	p.timeHits(out.hits[first:], from, stop, d)
}

// timeHits gives hits their times in (from, stop], or up to the end of
// their copy's lifetime. A copy's hits come together, in the order it
// sent them. The k-th smallest of n uniform draws is Beta(k, n-k+1); given
// it is u, the ones above it are uniform on (u, 1), so each later hit's
// draw is found from the last one's by a Beta draw of its own: a few draws
// a hit rather than n draws and a sort.
func (p *parProbe) timeHits(hits []parHit, from, stop float64, d *parDrawer) {
	for i := 0; i < len(hits); {
		src, n := hits[i].src, hits[i].n
		s := &p.hosts[p.e.slotOf[src]]
		span := min(stop, s.end) - from
		d.pcg = s.pcg
		u, last := 0.0, int32(-1) // the previous hit's draw and place
		for ; i < len(hits) && hits[i].src == src; i++ {
			k := hits[i].k
			d.order.Alpha, d.order.Beta = float64(k-last), float64(n-k)
			u += float64((1 - u) * d.order.Rand())
			last = k
			hits[i].t = from + float64(span*u)
		}
		s.pcg = d.pcg
	}
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
			out.hits = append(out.hits, parHit{src: ss[d.srcs[j]].host, dst: h, k: d.ks[j], n: d.ns[j]})
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
		p.draw(p.hosts[i*parChunkHosts:min((i+1)*parChunkHosts, p.n0)], p.t0, p.t1, d, p.want, ch)
	}
}

// window runs the window (t0, t1], which lies within one bin.
func (p *parProbe) window(t0, t1 float64) {
	e := p.e
	p.windows++
	p.t0, p.t1, p.row, p.n0 = t0, t1, e.rec.row(t1), len(p.hosts)
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
	workers := min(len(p.drawers), nch)
	switch {
	case nch < 2 || e.spreadRate*(t1-t0) < parMinProbes:
		p.drawChunks(0)
	case workers < 2:
		began := time.Now()
		p.drawChunks(0)
		parallelPart.Add(int64(time.Since(began)))
	default:
		began := time.Now()
		parallelWindows.Add(1)
		var wg sync.WaitGroup
		for w := 1; w < workers; w++ {
			wg.Go(func() { p.drawChunks(w) })
		}
		p.drawChunks(0)
		wg.Wait()
		parallelPart.Add(int64(time.Since(began)))
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

// fireTimers fires, in time order, the lifetimes that end before t and
// any timer due before t.
func (p *parProbe) fireTimers(t float64) {
	e := p.e
	for {
		var tm timer
		switch lt, et := p.lifetimes.dueBefore(t), e.timers.dueBefore(t); {
		case lt && (!et || p.lifetimes.top().before(e.timers.top())):
			tm = p.lifetimes.pop()
		case et:
			tm = e.timers.pop()
		default:
			return
		}
		p.now = tm.t
		e.fireTimer(tm.t, tm)
	}
}

// lifetime schedules the end of a new copy's lifetime.
func (p *parProbe) lifetime(tm timer) {
	p.lifetimes.push(tm)
	p.ends[tm.host] = tm.t
}

// dueBefore reports whether h holds a timer due before t.
func (h timerHeap) dueBefore(t float64) bool { return !h.empty() && h.top().t < t }

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
// edge, the boundary, or about max(parWindowProbes, parCopyProbes per
// copy) probes on, whichever is first.
func (p *parProbe) windowEnd(t, boundary float64) float64 {
	step := p.e.rec.step
	edge := float64((math.Floor(t/step) + 1) * step)
	if edge <= t {
		edge += step
	}
	t1 := min(boundary, edge)
	if r := p.e.spreadRate; r > 0 {
		if w := t + float64(max(parWindowProbes, parCopyProbes*len(p.hosts)))/r; w > t {
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
		// A window can hold millions of probes: Stop is looked at before
		// each, not every stopEvery turns.
		if c.Stop != nil && c.stopRequested() {
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
		if p.lifetimes.dueBefore(boundary) {
			// Outside windows (nothing spreading, or the calendar's
			// pause) lifetimes end one at a time.
			t = p.lifetimes.top().t
			e.rec.snapshot(t, &e.sets.counts)
			p.fireTimers(math.Nextafter(t, math.Inf(1)))
			continue
		}
		t = boundary
		e.rec.snapshot(t, &e.sets.counts)
		p.now = t
		if timerDue {
			e.fireTimer(t, e.timers.pop())
		} else {
			k.cross(t)
		}
	}
	e.rec.snapshot(end, &e.sets.counts)
}

// hitHeap is a binary min-heap of hits by time, then source and target,
// with timerHeap's sift code (timerHeap says why they share no code).
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
