package sim

import (
	"math"
	"time"

	"github.com/wormlab/wormlab/internal/worm"
)

// clock tracks what changes at known times, the same in both engines: the
// phase of a calendar shared by all hosts (in per-host mode every host
// keeps its own and the shared phase stays Spread), the patch schedule,
// and the engine's timers.
type clock struct {
	c         *Config
	phase     worm.Phase
	next      time.Time // the shared calendar's next change; zero: none
	sched     float64   // the patch schedule's rate now
	schedNext time.Time // its next step; zero: none
	turns     uint32    // loop turns, for stopped

	// nextAt and schedAt are next and schedNext in run seconds (+Inf:
	// none), worked out once per change rather than on every event.
	nextAt, schedAt float64
}

// stopEvery is how many turns of an engine's loop pass between looks at
// Config.Stop. A turn is one event or one batch of 512 probes (13 µs at
// 40 M probes a second), so a look every 1,024 turns costs nothing
// measurable and answers in well under a second.
const stopEvery = 1024

// stopped reports whether the run should end now because Config.Stop is
// closed; the engine's Run then returns ErrStopped.
func (k *clock) stopped() bool {
	if k.c.Stop == nil {
		return false
	}
	k.turns++
	return k.turns%stopEvery == 0 && k.c.stopRequested()
}

func newClock(c *Config, perHost bool) clock {
	k := clock{c: c, phase: worm.Spread}
	if !perHost {
		k.phase, k.next = c.Calendar.At(c.Start)
	}
	k.sched, k.schedNext = c.Life.scheduled(c.Start)
	k.convert()
	return k
}

// convert sets nextAt and schedAt from next and schedNext.
func (k *clock) convert() {
	k.nextAt, k.schedAt = math.Inf(1), math.Inf(1)
	if !k.next.IsZero() {
		k.nextAt = k.next.Sub(k.c.Start).Seconds()
	}
	if !k.schedNext.IsZero() {
		k.schedAt = k.schedNext.Sub(k.c.Start).Seconds()
	}
}

// boundary returns the first known change after t, at most end, and
// reports whether it is the first of the timers.
func (k *clock) boundary(end float64, timers timerHeap) (float64, bool) {
	b := min(end, k.nextAt, k.schedAt)
	if !timers.empty() && timers.top().t < b {
		return timers.top().t, true
	}
	return b, false
}

// cross moves past a boundary at t that was not a timer: the patch
// schedule's next step, or the shared calendar's.
func (k *clock) cross(t float64) {
	at := k.c.Start.Add(secondsToDuration(t))
	defer k.convert()
	if t >= k.schedAt {
		k.sched, k.schedNext = k.c.Life.scheduled(at)
		return
	}
	k.phase, k.next = k.c.Calendar.At(at)
}

// congestion returns the factor (1 - I/N)^eta on every scan rate.
func congestion(c *Config, counts *[numStates]int64) float64 {
	eta := c.Life.CongestionEta
	if eta == 0 {
		return 1
	}
	return math.Pow(max(0, 1-float64(counts[Infected])/float64(len(c.Hosts))), eta)
}

// lifeRates returns the total rates of patching, clean-up and reboots for
// the state counts n and the scheduled patch rate.
func lifeRates(l *Life, n *[numStates]int64, sched float64) (patch, clean, reboot float64) {
	if !l.on() {
		return 0, 0, 0
	}
	j := float64(n[Infected] + n[Removed])
	patch = float64(n[Susceptible]) * (l.PatchRate + float64(l.PatchAware*j) + sched)
	clean = float64(n[Infected]) * l.CleanupRate
	reboot = float64(n[Infected]) * l.RebootRate
	return
}
