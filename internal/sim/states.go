package sim

import "math/rand/v2"

// hostSets keeps each host's state and, for the states hosts are drawn
// from (drawn), the set of hosts in it as an array with positions, so that
// a state change and a uniform draw from a state are both O(1). Sets of
// states nothing draws from are not kept: they cost two random memory
// accesses per change, a quarter of a Code Red day without patching.
type hostSets struct {
	state   []State
	counts  [numStates]int64
	drawn   [numStates]bool
	members [numStates][]int32
	pos     []int32 // host h is members[state[h]][pos[h]] when its state is drawn
}

func newHostSets(n int, drawn [numStates]bool) *hostSets {
	s := &hostSets{state: make([]State, n), drawn: drawn}
	if drawn != [numStates]bool{} {
		s.pos = make([]int32, n)
	}
	if drawn[Susceptible] {
		s.members[Susceptible] = make([]int32, n)
		for h := range n {
			s.members[Susceptible][h] = int32(h)
			s.pos[h] = int32(h)
		}
	}
	s.counts[Susceptible] = int64(n)
	return s
}

// drawnBy returns the states whose hosts life's processes draw from:
// patching draws susceptible hosts, clean-up and reboots infected ones.
func drawnBy(l *Life) (d [numStates]bool) {
	d[Susceptible] = l.PatchRate > 0 || l.PatchAware > 0 || len(l.PatchSchedule) > 0
	d[Infected] = l.CleanupRate > 0 || l.RebootRate > 0
	return d
}

// set moves host h to state to and returns its former state.
func (s *hostSets) set(h int32, to State) State {
	from := s.state[h]
	if from == to {
		return from
	}
	if s.drawn[from] {
		m := s.members[from]
		i, last := s.pos[h], int32(len(m)-1)
		m[i] = m[last]
		s.pos[m[i]] = i
		s.members[from] = m[:last]
	}
	if s.drawn[to] {
		s.pos[h] = int32(len(s.members[to]))
		s.members[to] = append(s.members[to], h)
	}
	s.state[h] = to
	s.counts[from]--
	s.counts[to]++
	return from
}

// list returns the hosts in state st, which must be one of the drawn
// states, in no particular order; the caller must not change it.
func (s *hostSets) list(st State) []int32 {
	if !s.drawn[st] {
		panic("sim: the hosts of a state whose list is not kept")
	}
	return s.members[st]
}

// random returns a host drawn uniformly from state st, or -1 if none. st
// must be one of the drawn states.
func (s *hostSets) random(st State, rng *rand.Rand) int32 {
	if !s.drawn[st] {
		panic("sim: a draw from a state whose hosts are not kept")
	}
	m := s.members[st]
	if len(m) == 0 {
		return -1
	}
	return m[rng.IntN(len(m))]
}
