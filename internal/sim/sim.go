// Package sim runs worm outbreaks over a simulated address space. It has
// two engines for one model (docs/DESIGN.md §3): each infected, spreading
// host sends probes as a Poisson process at its own rate, each probe picks
// its target independently by the worm's strategy, and a probe that reaches
// a susceptible vulnerable host infects it at once.
//
// Patching, clean-up and reboots are Poisson processes per host; lifetimes
// and calendars change hosts at known times.
//
// The event engine (RunEvent) draws the infections themselves, so its cost
// grows with events rather than probes; the probe engine (RunProbe) sends
// every probe through the worm's own target generator and is the reference
// the event engine is tested against.
package sim

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/worm"
)

// State is a vulnerable host's condition.
type State uint8

const (
	Susceptible State = iota // vulnerable and not infected
	Infected                 // running the worm
	Patched                  // immune: patched before infection
	Removed                  // infected once, then cleaned and immune
	numStates
)

// Config is one simulation's input. Times are simulated; nothing here reads
// the wall clock.
type Config struct {
	Start    time.Time     // the simulated clock at the run's start (UTC)
	Duration time.Duration // how long to simulate
	Step     time.Duration // width of the output bins; Duration must be a multiple

	// SpaceBits sets the simulated space: addresses 0 to 2^SpaceBits-1. The
	// full IPv4 space has 32; scaled-down spaces keep tests fast.
	SpaceBits int
	Hosts     []ipspace.Addr // the vulnerable hosts, inside the space
	Rates     []float64      // each host's probes per second while it spreads
	Initial   []int32        // indexes into Hosts of the hosts infected at Start

	// Site says, per host, whether it has a public address (0) or sits
	// behind NAT in private site k > 0; nil means all public. A NATed host's
	// address lies in one of the Private blocks and is reachable only from
	// hosts of its own site; its own probes reach the public space and its
	// own site's private blocks, and nothing else. Public hosts' probes into
	// private blocks reach nobody. Addresses are distinct within a site.
	Site    []int32
	Private []ipspace.Prefix

	// Lifetime gives, per host, the seconds a copy spreads after its
	// infection before the host reboots and becomes AfterLifetime (Code Red
	// II: 24 or 48 hours, then Removed: backdoored, not infectable). Nil or
	// zero: forever.
	Lifetime      []float64
	AfterLifetime State

	Strategy worm.Strategy
	Calendar worm.Calendar

	// HitList, for a worm.HitList strategy, gives the hosts (indexes into
	// Hosts) whose addresses make up the list, in order; the strategy's own
	// List must hold the same addresses. The initial hosts share it in
	// equal consecutive parts.
	HitList []int32

	// Life cycle. Rates are per second; zero turns a process off.
	Life Life

	// ClockOffset gives, per host, seconds its clock is off from UTC (nil:
	// all right); the calendar runs by each host's own clock.
	ClockOffset []float64
	// WakeDelayMax: a copy whose calendar turns to spreading resumes after
	// a delay drawn uniformly up to this many seconds (Code Red's threads
	// sleep and wake hours after midnight). Zero: at once.
	WakeDelayMax float64

	// InitialAsleep: the initial copies start asleep and wake after their
	// own delay (up to WakeDelayMax), as dormant copies do on the 1st.
	InitialAsleep bool

	// InitialPatched and InitialRemoved are hosts in those states at the
	// start (a run that starts from a given state, as wave 2 does).
	InitialPatched []int32
	InitialRemoved []int32

	// FloodRate is what one copy sends to the flood target per second
	// while its calendar says flood (packets a second; observers report it).
	FloodRate float64

	// ScanCapacity caps the probes a second that all spreading hosts
	// together can send (the network's capacity); every host's rate
	// shrinks in proportion when their sum would exceed it. Zero: no cap.
	ScanCapacity float64

	// Diurnal switches hosts off at night in their own time zone (nil:
	// every host always on).
	Diurnal *Diurnal

	// Containment filters probes between networks (nil: none).
	Containment *Containment

	// Observers watch the run (event engine).
	Observers []Observer

	// ProbeTelescope, if valid, makes the probe engine count the probes
	// that land in this block, per bin, with their distinct and first-seen
	// sources: what a telescope there sees, counted probe by probe. It
	// checks the event engine's telescope observer.
	ProbeTelescope ipspace.Prefix

	// Stop, if not nil, ends the run early once it is closed: the engines
	// look at it every stopEvery turns of their loop and then return
	// ErrStopped.
	Stop <-chan struct{}
}

// ErrStopped is the error of a run that Config.Stop ended early.
var ErrStopped = errors.New("sim: run stopped")

// stopRequested reports whether c.Stop has been closed.
func (c *Config) stopRequested() bool {
	select {
	case <-c.Stop:
		return true
	default:
		return false
	}
}

// Life is the host life cycle besides infection: patching of susceptible
// hosts (they become Patched, immune), clean-up of infected hosts (Removed,
// immune), reboots of infected hosts (Susceptible again: Code Red I lives
// only in memory), and congestion.
type Life struct {
	PatchRate float64 // per susceptible host
	// PatchAware is the two-factor model's awareness-driven patching
	// (Zou, Gong, Towsley 2002): each susceptible host is patched at rate
	// PatchAware * J, J the hosts infected so far (infected or removed).
	PatchAware float64
	// PatchSchedule adds, from each step's time on, a patch rate per
	// susceptible host (the scenario derives it from patch downloads).
	PatchSchedule []RateStep
	CleanupRate   float64 // per infected host (gamma)
	RebootRate    float64 // per infected host
	// CongestionEta slows every scan rate by (1 - I/N)^eta, the two-factor
	// model's congestion; 0 turns it off.
	CongestionEta float64
}

// RateStep is a rate in force from a time on.
type RateStep struct {
	From      time.Time
	PerSecond float64
}

// on reports whether any life-cycle process is on.
func (l *Life) on() bool {
	return l.PatchRate > 0 || l.PatchAware > 0 || len(l.PatchSchedule) > 0 || l.CleanupRate > 0 || l.RebootRate > 0
}

// scheduled returns the schedule's rate at t and when it next changes.
func (l *Life) scheduled(t time.Time) (float64, time.Time) {
	rate := 0.0
	for i, s := range l.PatchSchedule {
		if s.From.After(t) {
			return rate, l.PatchSchedule[i].From
		}
		rate = s.PerSecond
	}
	return rate, time.Time{}
}

// perHostCalendar reports whether each host keeps its own calendar.
func (c *Config) perHostCalendar() bool { return c.ClockOffset != nil || c.WakeDelayMax > 0 }

// PrivateBlocks are the private ranges NATed hosts live in by default.
var PrivateBlocks = []ipspace.Prefix{ipspace.MustParsePrefix("10.0.0.0/8"), ipspace.MustParsePrefix("192.168.0.0/16")}

// Observer watches a run as the engine advances. Times are seconds since
// Config.Start. Calls come in time order.
type Observer interface {
	// Spreading is called when host h starts (on) or stops spreading.
	Spreading(t float64, h int32, on bool)
	// Changed is called when host h goes from one state to another.
	Changed(t float64, h int32, from, to State)
	// Advance is called for each stretch of time in which nothing changes.
	Advance(s Stretch)
}

// Stretch is a span of time [T0, T1) in which nothing changes.
type Stretch struct {
	T0, T1 float64
	// Spread reports whether hosts marked spreading scan now (false while
	// a calendar shared by all hosts has them flood or sleep).
	Spread bool
	// ScanFactor multiplies every spreading host's scan rate (congestion).
	ScanFactor float64
	// Flooding counts the infected hosts whose calendar says flood.
	Flooding int64
}

// siteOf returns host h's site (0 when public).
func (c *Config) siteOf(h int32) int32 {
	if c.Site == nil {
		return 0
	}
	return c.Site[h]
}

// Validate reports the first problem with c, if any.
func (c *Config) Validate() error {
	switch {
	case c.SpaceBits < 1 || c.SpaceBits > 32:
		return fmt.Errorf("sim: space of 2^%d addresses: want 1 to 32 bits", c.SpaceBits)
	case c.Duration <= 0:
		return errors.New("sim: duration must be positive")
	case c.Step <= 0 || c.Duration%c.Step != 0:
		return fmt.Errorf("sim: step %v must be positive and divide the duration %v", c.Step, c.Duration)
	case len(c.Rates) != len(c.Hosts):
		return fmt.Errorf("sim: %d rates for %d hosts", len(c.Rates), len(c.Hosts))
	case c.Strategy == nil || c.Calendar == nil:
		return errors.New("sim: strategy and calendar are required")
	case uint64(len(c.Hosts)) > uint64(1)<<c.SpaceBits:
		return fmt.Errorf("sim: %d hosts do not fit in 2^%d addresses", len(c.Hosts), c.SpaceBits)
	}
	if c.Site != nil && len(c.Site) != len(c.Hosts) {
		return fmt.Errorf("sim: %d sites for %d hosts", len(c.Site), len(c.Hosts))
	}
	if c.Lifetime != nil && len(c.Lifetime) != len(c.Hosts) {
		return fmt.Errorf("sim: %d lifetimes for %d hosts", len(c.Lifetime), len(c.Hosts))
	}
	if c.AfterLifetime != Removed && c.AfterLifetime != Susceptible {
		return fmt.Errorf("sim: after its lifetime a host must become removed or susceptible, not %v", c.AfterLifetime)
	}
	filter := c.Strategy.Filter()
	if err := filter.Check(); err != nil {
		return err
	}
	switch st := c.Strategy.(type) {
	case worm.Sequential, worm.HitList, worm.Permutation, worm.Witty:
		if c.Site != nil {
			return fmt.Errorf("sim: the %s strategy runs on public hosts only (no NAT sites)", st.Name())
		}
	}
	if walks(c.Strategy) && c.perHostCalendar() {
		// The event engine's walkers keep time for all copies at once;
		// a copy that stops and resumes on its own would need where it
		// stood on its path, which the walker does not track.
		return fmt.Errorf("sim: the %s strategy runs with a calendar shared by all hosts (no clock offsets or wake-up delays)", c.Strategy.Name())
	}
	if usesWitty(c.Strategy) && c.SpaceBits != 32 {
		return fmt.Errorf("sim: Witty's generator needs the full IPv4 space (32 bits), not %d", c.SpaceBits)
	}
	if d := c.Diurnal; d != nil {
		if err := d.check(c); err != nil {
			return err
		}
	}
	if k := c.Containment; k != nil {
		if err := k.check(c); err != nil {
			return err
		}
	}
	if !(c.ScanCapacity >= 0) || math.IsInf(c.ScanCapacity, 0) {
		return fmt.Errorf("sim: scan capacity %v: want a finite number of probes a second >= 0", c.ScanCapacity)
	}
	if hl, ok := c.Strategy.(worm.HitList); ok {
		if len(hl.List) != len(c.HitList) {
			return fmt.Errorf("sim: hit-list of %d addresses but %d hosts", len(hl.List), len(c.HitList))
		}
		onList := make(map[int32]bool, len(c.HitList))
		for i, h := range c.HitList {
			if h < 0 || int(h) >= len(c.Hosts) || c.Hosts[h] != hl.List[i] || onList[h] {
				return fmt.Errorf("sim: hit-list entry %d does not match its host or repeats one", i)
			}
			onList[h] = true
		}
		for _, h := range c.Initial {
			if onList[h] {
				return fmt.Errorf("sim: initial host %v is on the hit-list", c.Hosts[h])
			}
		}
	}
	limit := uint64(1) << c.SpaceBits
	if dup, ok := c.duplicate(); ok {
		return fmt.Errorf("sim: host %v listed twice", dup)
	}
	for i, h := range c.Hosts {
		site := c.siteOf(int32(i))
		if uint64(h) >= limit {
			return fmt.Errorf("sim: host %v outside the 2^%d space", h, c.SpaceBits)
		}
		if site < 0 || (site > 0) != c.isPrivate(h) {
			return fmt.Errorf("sim: host %v in site %d: NATed hosts, and only they, have private addresses", h, site)
		}
		if !filter.Allowed(h) {
			return fmt.Errorf("sim: host %v can never be reached: the strategy excludes its address", h)
		}
	}
	l := c.Life
	for _, v := range []float64{l.PatchRate, l.PatchAware, l.CleanupRate, l.RebootRate, l.CongestionEta, c.WakeDelayMax, c.FloodRate} {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("sim: life-cycle rate, delay or exponent %v: want a finite value >= 0", v)
		}
	}
	for i, st := range l.PatchSchedule {
		if !(st.PerSecond >= 0) || (i > 0 && !st.From.After(l.PatchSchedule[i-1].From)) {
			return fmt.Errorf("sim: patch schedule step %d: rates must be >= 0 and times increase", i+1)
		}
	}
	if c.ClockOffset != nil && len(c.ClockOffset) != len(c.Hosts) {
		return fmt.Errorf("sim: %d clock offsets for %d hosts", len(c.ClockOffset), len(c.Hosts))
	}
	for i, r := range c.Rates {
		if !(r >= 0) || math.IsInf(r, 0) {
			return fmt.Errorf("sim: host %d has scan rate %v", i, r)
		}
	}
	seen := map[int32]bool{}
	for _, list := range [][]int32{c.Initial, c.InitialPatched, c.InitialRemoved} {
		for _, h := range list {
			if h < 0 || int(h) >= len(c.Hosts) || seen[h] {
				return fmt.Errorf("sim: initial host index %d invalid or repeated", h)
			}
			seen[h] = true
		}
	}
	return nil
}

// duplicate returns a host listed twice in one site, if any. Layouts list
// hosts sorted by site and address, which makes the check linear; other
// orders take a map.
func (c *Config) duplicate() (ipspace.Addr, bool) {
	less := func(i int) bool { // host i-1 sorts strictly before host i
		si, sj := c.siteOf(int32(i-1)), c.siteOf(int32(i))
		return si < sj || (si == sj && c.Hosts[i-1] < c.Hosts[i])
	}
	sorted := true
	for i := 1; i < len(c.Hosts) && sorted; i++ {
		sorted = less(i)
	}
	if sorted {
		return 0, false
	}
	type key struct {
		site int32
		addr ipspace.Addr
	}
	seen := make(map[key]bool, len(c.Hosts))
	for i, h := range c.Hosts {
		k := key{c.siteOf(int32(i)), h}
		if seen[k] {
			return h, true
		}
		seen[k] = true
	}
	return 0, false
}

// isPrivate reports whether a lies in the private blocks (only when the
// configuration has NATed hosts).
func (c *Config) isPrivate(a ipspace.Addr) bool {
	if c.Site == nil {
		return false
	}
	for _, p := range c.privateBlocks() {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (c *Config) privateBlocks() []ipspace.Prefix {
	if c.Private != nil {
		return c.Private
	}
	return PrivateBlocks
}

// Row is the state of the run at one instant of the output grid and what
// happened in the bin that ends there: row m stands at Start + m*Step and
// counts the events in (Start+(m-1)*Step, Start+m*Step]. Row 0 is the
// initial state with zero counts.
type Row struct {
	At            time.Time
	Susceptible   int64
	Infected      int64
	Patched       int64
	Removed       int64
	NewInfections int64
	Probes        int64
}

// Result is one run's output.
type Result struct {
	Engine string
	Rows   []Row
	// Infections lists the infection events in time order, the initial
	// hosts excluded.
	Infections []Infection
	// ProbesSent counts probes the engine generated; the event engine,
	// which sends none, leaves it zero.
	ProbesSent int64
	// Telescope holds, per row, what Config.ProbeTelescope saw (probe
	// engine only).
	Telescope []TelescopeCount
}

// hitParts returns the initial hosts' parts of the hit-list: equal
// consecutive shares, in the order the initial hosts are listed.
func (c *Config) hitParts() []uint64 {
	m := uint32(len(c.Initial))
	k := uint32(len(c.HitList))
	parts := make([]uint64, m)
	for j := range m {
		parts[j] = worm.HitRange(j*k/m, (j+1)*k/m)
	}
	return parts
}

// TelescopeCount is what a telescope saw in one bin.
type TelescopeCount struct {
	Probes, Sources, NewSources int64
}

// Infection is one infection event.
type Infection struct {
	T    float64 // seconds since Config.Start
	Host int32   // index into Config.Hosts
}

// Random streams: each engine draws from PCG(seed, stream) so that the
// same seed gives the same run whatever else is drawn elsewhere.
const (
	streamEvent = 0x6576656e74 // "event"
	streamProbe = 0x70726f6265 // "probe"
)

// recorder keeps the output grid.
type recorder struct {
	start time.Time
	step  float64 // seconds
	rows  []Row
	// expected counts of probes that infected nobody, per row (event engine)
	missed []float64
	// probes counted one by one per row (the event engine's infecting and
	// hit-list probes)
	explicit []int64
	snapped  int // rows [0, snapped) hold their state
}

func newRecorder(c *Config) *recorder {
	n := int(c.Duration/c.Step) + 1
	r := &recorder{start: c.Start.UTC(), step: c.Step.Seconds(), rows: make([]Row, n), missed: make([]float64, n), explicit: make([]int64, n)}
	for m := range r.rows {
		r.rows[m].At = r.start.Add(time.Duration(m) * c.Step)
	}
	return r
}

// row returns the row whose bin (t_{m-1}, t_m] holds time t (seconds).
func (r *recorder) row(t float64) int {
	m := int(math.Ceil(t / r.step))
	return min(max(m, 0), len(r.rows)-1)
}

// snapshot fills the state of every grid row at or before time t that
// has none yet; engines call it before applying an event at t.
func (r *recorder) snapshot(t float64, counts *[numStates]int64) {
	for r.snapped < len(r.rows) && float64(r.snapped)*r.step <= t {
		row := &r.rows[r.snapped]
		row.Susceptible, row.Infected, row.Patched, row.Removed =
			counts[Susceptible], counts[Infected], counts[Patched], counts[Removed]
		r.snapped++
	}
}

// addMissed spreads rate*(b-a) expected probes over the bins of [a, b).
func (r *recorder) addMissed(a, b, rate float64) {
	if rate <= 0 || b <= a {
		return
	}
	for a < b {
		m := r.row(a)
		if float64(m)*r.step <= a { // a sits on a grid instant: its bin starts there
			m++
		}
		if m >= len(r.rows) {
			r.missed[len(r.rows)-1] += float64(rate * (b - a))
			return
		}
		edge := min(float64(m)*r.step, b)
		r.missed[m] += float64(rate * (edge - a))
		a = edge
	}
}

// walks reports whether s's copies walk a fixed path (sequential or
// permutation scanning, after a hit-list or not).
func walks(s worm.Strategy) bool {
	if h, ok := s.(worm.HitList); ok {
		s = h.After()
	}
	switch s.(type) {
	case worm.Sequential, worm.Permutation:
		return true
	}
	return false
}

// usesWitty reports whether s scans with Witty's generator, after a
// hit-list or not.
func usesWitty(s worm.Strategy) bool {
	if h, ok := s.(worm.HitList); ok {
		s = h.After()
	}
	_, ok := s.(worm.Witty)
	return ok
}

// EventEngineRuns reports whether the event engine can run strategy s:
// mixtures of neighbourhood draws, sequential and permutation scanners,
// and hit-lists followed by any of those. Worms with their own generators
// (worm.StaticSeed, worm.Witty) need the probe engine.
func EventEngineRuns(s worm.Strategy) bool {
	switch st := s.(type) {
	case worm.Sequential, worm.Permutation:
		return true
	case worm.HitList:
		return EventEngineRuns(st.After())
	}
	_, ok := s.Channels()
	return ok
}
