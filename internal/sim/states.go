package sim

import "math/rand/v2"

// hostSets keeps each host's state and, for every state, the set of hosts
// in it as an array with positions, so that a state change and a uniform
// draw from a state are both O(1).
type hostSets struct {
	state   []State
	counts  [numStates]int64
	members [numStates][]int32
	pos     []int32 // host h is members[state[h]][pos[h]]
}

func newHostSets(n int) *hostSets {
	s := &hostSets{state: make([]State, n), pos: make([]int32, n)}
	s.members[Susceptible] = make([]int32, n)
	for h := range n {
		s.members[Susceptible][h] = int32(h)
		s.pos[h] = int32(h)
	}
	s.counts[Susceptible] = int64(n)
	return s
}

// set moves host h to state to and returns its former state.
func (s *hostSets) set(h int32, to State) State {
	from := s.state[h]
	if from == to {
		return from
	}
	m := s.members[from]
	i, last := s.pos[h], int32(len(m)-1)
	m[i] = m[last]
	s.pos[m[i]] = i
	s.members[from] = m[:last]
	s.pos[h] = int32(len(s.members[to]))
	s.members[to] = append(s.members[to], h)
	s.state[h] = to
	s.counts[from]--
	s.counts[to]++
	return from
}

// random returns a host drawn uniformly from state st, or -1 if none.
func (s *hostSets) random(st State, rng *rand.Rand) int32 {
	m := s.members[st]
	if len(m) == 0 {
		return -1
	}
	return m[rng.IntN(len(m))]
}
