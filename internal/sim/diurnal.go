package sim

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/wormlab/wormlab/internal/worm"
)

// Diurnal switches hosts on by day and off by night, each by the clock of
// its own time zone: home and small-business machines, most of Code Red's
// victims, were switched off at night (Moore, Shannon, Brown, IMW 2002,
// time-of-day effects; Dagon, Zou, Lee, "Modeling Botnet Propagation
// Using Time Zones", NDSS 2006). A host that is off neither scans nor can
// be reached. The worms modelled live in memory, so switching off ends a
// copy: the host becomes AfterOff (Susceptible: infectable again once it
// is back on; Removed: not infectable again).
type Diurnal struct {
	// Zone gives, per host, the seconds its local time is ahead of UTC
	// (US Eastern in summer: -4 * 3600).
	Zone []float64
	// Cycles says, per host, whether it is switched off at night; nil
	// means every host. The others stay on.
	Cycles []bool
	// On and Off are the local times of day, in seconds after midnight,
	// at which cycling hosts are switched on and off; On < Off.
	On, Off  float64
	AfterOff State
}

const daySeconds = 86400

func (d *Diurnal) check(c *Config) error {
	n := len(c.Hosts)
	switch {
	case len(d.Zone) != n:
		return fmt.Errorf("sim: %d time zones for %d hosts", len(d.Zone), n)
	case d.Cycles != nil && len(d.Cycles) != n:
		return fmt.Errorf("sim: %d day/night flags for %d hosts", len(d.Cycles), n)
	case !(d.On >= 0 && d.On < d.Off && d.Off <= daySeconds):
		return fmt.Errorf("sim: hosts switched on at %v s and off at %v s after local midnight: want 0 <= on < off <= 86400", d.On, d.Off)
	case d.AfterOff != Susceptible && d.AfterOff != Removed:
		return fmt.Errorf("sim: switched off, an infected host must become removed or susceptible, not %v", d.AfterOff)
	}
	for i, z := range d.Zone {
		if !(math.Abs(z) <= daySeconds) {
			return fmt.Errorf("sim: host %d's time zone is %v s from UTC: want at most a day either way", i, z)
		}
	}
	if _, hit := c.Strategy.(worm.HitList); hit || walks(c.Strategy) {
		// Walkers and hit-list copies reach their targets by address
		// without asking whether the host there is on.
		return errors.New("sim: a day/night cycle runs with worms that draw their targets (not sequential, permutation or hit-list scanners)")
	}
	return nil
}

// Timer kinds of the cycle; their host field is a zone's index.
const (
	switchOn  timerKind = 100 + iota // the zone's cycling hosts come on
	switchOff                        // the zone's cycling hosts go off
)

// dayCycle is an engine's view of Diurnal: the cycling hosts grouped by
// time zone, so that one timer a zone switches them all, and which hosts
// are off now.
type dayCycle struct {
	d     *Diurnal
	zones []float64 // the distinct zones of cycling hosts, ascending
	hosts [][]int32 // per zone, its cycling hosts
	off   []bool    // per host
}

func newDayCycle(c *Config) *dayCycle {
	d := c.Diurnal
	k := &dayCycle{d: d, off: make([]bool, len(c.Hosts))}
	index := map[float64]int{}
	for h, z := range d.Zone {
		if d.Cycles != nil && !d.Cycles[h] {
			continue
		}
		if _, ok := index[z]; !ok {
			index[z] = len(k.zones)
			k.zones = append(k.zones, z)
		}
	}
	// Zones in ascending order, so that equal switch times pop in an
	// order that does not depend on the hosts' order.
	slices.Sort(k.zones)
	for i, z := range k.zones {
		index[z] = i
	}
	k.hosts = make([][]int32, len(k.zones))
	for h, z := range d.Zone {
		if d.Cycles == nil || d.Cycles[h] {
			i := index[z]
			k.hosts[i] = append(k.hosts[i], int32(h))
		}
	}
	return k
}

// first returns, for zone i, whether its hosts are on at the run's start
// and the run times of its next switch on and off.
func (k *dayCycle) first(c *Config, i int) (on bool, nextOn, nextOff float64) {
	start := float64(c.Start.Unix()%daySeconds) + float64(c.Start.Nanosecond())/1e9
	local := math.Mod(start+k.zones[i]+2*daySeconds, daySeconds)
	on = local >= k.d.On && local < k.d.Off
	until := func(at float64) float64 {
		w := math.Mod(at-local+daySeconds, daySeconds)
		if w == 0 {
			w = daySeconds
		}
		return w
	}
	return on, until(k.d.On), until(k.d.Off)
}

// start switches off, by turnOff, the zones that are off at the run's
// start and schedules every zone's switches.
func (k *dayCycle) start(c *Config, timers *timerHeap, turnOff func(zone int32)) {
	for i := range k.zones {
		on, nextOn, nextOff := k.first(c, i)
		if !on {
			turnOff(int32(i))
		}
		timers.push(timer{t: nextOn, host: int32(i), kind: switchOn})
		timers.push(timer{t: nextOff, host: int32(i), kind: switchOff})
	}
}

// startDayCycle sets up the cycle, if the run has one (event engine).
func (e *eventEngine) startDayCycle() {
	if e.cfg.Diurnal != nil {
		e.day = newDayCycle(e.cfg)
		e.day.start(e.cfg, &e.timers, func(z int32) { e.switchZone(0, z, false) })
	}
}

// fireSwitch applies a zone's scheduled switch and schedules the same
// switch a day later.
func (e *eventEngine) fireSwitch(t float64, tm timer) {
	e.switchZone(t, tm.host, tm.kind == switchOn)
	tm.t += daySeconds
	e.timers.push(tm)
}

// switchZone switches zone z's cycling hosts on or off.
func (e *eventEngine) switchZone(t float64, z int32, on bool) {
	for _, h := range e.day.hosts[z] {
		if on {
			e.switchHostOn(h)
		} else {
			e.switchHostOff(t, h)
		}
	}
}

func (e *eventEngine) switchHostOff(t float64, h int32) {
	if e.day.off[h] {
		return
	}
	// Marked off first, so that a copy ended here does not rejoin the
	// susceptible targets (setState asks isOff).
	e.day.off[h] = true
	switch e.sets.state[h] {
	case Susceptible:
		for k := range e.lanes {
			e.lanes[k].setSusceptible(h, false)
		}
	case Infected:
		e.setSpreading(t, h, false)
		e.setState(t, h, e.cfg.Diurnal.AfterOff)
	}
}

func (e *eventEngine) switchHostOn(h int32) {
	if !e.day.off[h] {
		return
	}
	e.day.off[h] = false
	if e.sets.state[h] == Susceptible {
		for k := range e.lanes {
			e.lanes[k].setSusceptible(h, true)
		}
	}
}

// isOff reports whether host h is switched off now.
func (e *eventEngine) isOff(h int32) bool { return e.day != nil && e.day.off[h] }

// startDayCycle is the probe engine's eventEngine.startDayCycle.
func (e *probeEngine) startDayCycle() {
	if e.cfg.Diurnal != nil {
		e.day = newDayCycle(e.cfg)
		e.day.start(e.cfg, &e.timers, func(z int32) { e.switchZone(z, false) })
	}
}

// fireSwitch is the probe engine's eventEngine.fireSwitch.
func (e *probeEngine) fireSwitch(tm timer) {
	e.switchZone(tm.host, tm.kind == switchOn)
	tm.t += daySeconds
	e.timers.push(tm)
}

// switchZone is the probe engine's eventEngine.switchZone. A host that is
// off is not reached: a probe to it is lost (probeEngine.batch).
func (e *probeEngine) switchZone(z int32, on bool) {
	for _, h := range e.day.hosts[z] {
		e.day.off[h] = !on
		if !on && e.sets.state[h] == Infected {
			e.stopScanning(h)
			e.sets.set(h, e.cfg.Diurnal.AfterOff)
		}
	}
}
