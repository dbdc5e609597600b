package sim

import (
	"math/rand/v2"
	"testing"
)

// TestShuffledLaneDrawsUniformly checks the shuffled lane's claim (see
// lane.setSusceptible): after any history of departures and returns, the
// last of a group's susceptible targets is a uniform draw among them.
//
// The first draw after the shuffle is recorded, over 20,000 seeds: each
// of the 60 targets is expected 333 times, and the chi-square statistic
// (59 degrees of freedom) exceeds 99 with probability 0.001
// (Wilson-Hilferty). Then the lane goes through a history that leaves a
// known set: ten times the last target leaves (an infection) and comes
// back (a reboot); then hosts 5 to 14 leave from wherever they are
// (patching) and hosts 5, 6 and 7 come back. The next target is recorded
// again. Each of the 53 susceptible targets is expected 377 times; the
// statistic has 52 degrees of freedom and exceeds 90 with probability
// 0.001. A lane that did not shuffle, or put returning hosts last, draws
// one target every time (a statistic near 10^6); one target drawn twice
// as often as the rest adds about 333 or 377.
func TestShuffledLaneDrawsUniformly(t *testing.T) {
	defer func(k int) { shuffleTargets = k }(shuffleTargets)
	shuffleTargets = 0
	const (
		n     = 60
		seeds = 20000
	)
	first, counts := make([]int, n), make([]int, n)
	for seed := range uint64(seeds) {
		l := newLane(1, n, true)
		l.inv = []float64{1}
		l.partition(rand.New(rand.NewPCG(seed, 99)))
		first[l.order[l.sus[0]-1]]++
		for range 10 {
			h := l.order[l.sus[0]-1]
			l.setSusceptible(h, false)
			l.setSusceptible(h, true)
		}
		for h := int32(5); h < 15; h++ {
			l.setSusceptible(h, false)
		}
		for h := int32(5); h < 8; h++ {
			l.setSusceptible(h, true)
		}
		if seed == 0 {
			checkPartition(t, &l, func(h int32) bool { return h < 8 || h >= 15 })
		}
		counts[l.order[l.sus[0]-1]]++
	}
	if chi := chiSquare(first, float64(seeds)/n); chi > 99 {
		t.Errorf("first draw: chi-square %.1f over 60 targets, want at most 99; counts %v", chi, first)
	}
	const want = float64(seeds) / 53
	var chi float64
	for h, c := range counts {
		if h >= 8 && h < 15 {
			if c != 0 {
				t.Errorf("host %d, which left, drawn %d times", h, c)
			}
			continue
		}
		d := float64(c) - want
		chi += d * d / want
	}
	if chi > 90 {
		t.Errorf("chi-square %.1f over 53 targets, want at most 90; counts %v", chi, counts)
	}
}

func chiSquare(counts []int, want float64) float64 {
	var chi float64
	for _, c := range counts {
		d := float64(c) - want
		chi += d * d / want
	}
	return chi
}

// checkPartition checks that every host's position agrees with the order
// and that the susceptible part holds exactly the hosts sus says.
func checkPartition(t *testing.T, l *lane, sus func(int32) bool) {
	t.Helper()
	for i, h := range l.order {
		if l.pos[h] != int32(i) {
			t.Fatalf("host %d at slot %d, but its position says %d", h, i, l.pos[h])
		}
		if (int32(i) < l.sus[0]) != sus(h) {
			t.Fatalf("host %d on the wrong side of the partition", h)
		}
	}
}

// TestEnginesAgreeShuffled runs the life-cycle agreement test again with
// every lane shuffled, as lanes of shuffleTargets targets or more are (the
// test's 4,000 hosts are fewer): the shuffled draw of the next target,
// and its handling of hosts that leave and come back (patching, clean-up,
// reboots), must give the probe engine's distribution too.
func TestEnginesAgreeShuffled(t *testing.T) {
	defer func(k int) { shuffleTargets = k }(shuffleTargets)
	shuffleTargets = 0
	TestEnginesAgreeLifeCycle(t)
}
