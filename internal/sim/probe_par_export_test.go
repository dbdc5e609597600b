package sim

import (
	"time"

	"github.com/wormlab/wormlab/internal/worm"
)

// ParallelPart returns the time the parallel probe engine has spent so
// far drawing windows that more workers would share.
func ParallelPart() time.Duration { return time.Duration(parallelPart.Load()) }

// ParallelProbe reports whether RunProbe runs c on all cores.
func ParallelProbe(c *Config) bool {
	e := &probeEngine{cfg: c, perHost: c.perHostCalendar()}
	_, e.hitList = c.Strategy.(worm.HitList)
	e.jumper, _ = c.Strategy.(worm.Jumper)
	return e.parallelProbe()
}
