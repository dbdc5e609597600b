package sim

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTimerHeapOrder checks that timers leave the heap in the order of
// their time, then host, then kind, whatever order they came in: timers
// set for a scenario's fixed instants (a calendar's change of phase) tie
// on time, and a run's bytes depend on the order in which they are
// handled. Dropping the kind from the tie-break fails it.
func TestTimerHeapOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 50 {
		var want []timer
		for range 1 + rng.IntN(300) {
			// Few distinct times and hosts, so that most timers tie on
			// time and many on time and host.
			want = append(want, timer{
				t:    float64(rng.IntN(5)),
				host: int32(rng.IntN(8)) - 1,
				kind: timerKind(rng.IntN(int(contentOn) + 1)),
			})
		}
		var h timerHeap
		for _, x := range want {
			h.push(x)
		}
		slices.SortFunc(want, func(a, b timer) int {
			return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.host, b.host), cmp.Compare(a.kind, b.kind))
		})
		for i, w := range want {
			if got := h.pop(); got.t != w.t || got.host != w.host || got.kind != w.kind {
				t.Fatalf("round %d: pop %d gave %+v, want %+v", round, i, got, w)
			}
		}
		if !h.empty() {
			t.Fatalf("round %d: %d timers left", round, len(h))
		}
	}
}
