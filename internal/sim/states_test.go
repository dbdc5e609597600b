package sim

import (
	"math/rand/v2"
	"testing"
)

// TestHostSetsKeepOnlyDrawnStates checks that the host lists kept for the
// drawn states stay exact through changes, and that a draw from a state
// whose list is not kept fails loudly rather than returning a wrong host.
func TestHostSetsKeepOnlyDrawnStates(t *testing.T) {
	var drawn [numStates]bool
	drawn[Infected] = true
	s := newHostSets(10, drawn)
	for _, h := range []int32{3, 7, 1, 7, 9} {
		s.set(h, Infected)
	}
	s.set(7, Removed)
	s.set(1, Susceptible)
	if s.counts[Susceptible] != 7 || s.counts[Infected] != 2 || s.counts[Removed] != 1 {
		t.Fatalf("counts %v", s.counts)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[int32]int{}
	for range 200 {
		seen[s.random(Infected, rng)]++
	}
	if len(seen) != 2 || seen[3] == 0 || seen[9] == 0 {
		t.Errorf("draws from the infected hosts 3 and 9 gave %v", seen)
	}
	defer func() {
		if recover() == nil {
			t.Error("a draw from the susceptible hosts, whose list is not kept, did not panic")
		}
	}()
	s.random(Susceptible, rng)
}
