// Package observe models what instruments see of a simulated outbreak: the
// probes reaching one operator's block (and, later, a telescope, a census
// and the flood target). Observers attach to the event engine
// (sim.Observer) and compute what they see from the same rates the engine
// draws from, so their expected values are exact for the run's path.
package observe

import (
	"math"
	"time"
)

// grid is the output grid of a run: point m stands at m*step seconds and
// its counts cover (t_{m-1}, t_m], as in the run series.
type grid struct {
	step    float64
	n       int // points
	snapped int // points whose instant values are recorded
}

func newGrid(duration, step time.Duration) grid {
	return grid{step: step.Seconds(), n: int(duration/step) + 1}
}

// bin returns the point whose bin holds time t.
func (g *grid) bin(t float64) int {
	m := int(math.Ceil(t / g.step))
	return min(max(m, 0), g.n-1)
}

// spread adds rate*(b-a) over the bins of [a, b) to acc.
func (g *grid) spread(acc []float64, a, b, rate float64) {
	if rate <= 0 || b <= a {
		return
	}
	for a < b {
		m := g.bin(a)
		if float64(m)*g.step <= a {
			m++
		}
		if m >= g.n {
			acc[g.n-1] += float64(rate * (b - a))
			return
		}
		edge := min(float64(m)*g.step, b)
		acc[m] += float64(rate * (edge - a))
		a = edge
	}
}

// due calls snap for every point at or before t not yet recorded.
func (g *grid) due(t float64, snap func(m int)) {
	for g.snapped < g.n && float64(g.snapped)*g.step <= t {
		snap(g.snapped)
		g.snapped++
	}
}
