package worm

import (
	"math/rand/v2"
	"sync"

	"github.com/wormlab/wormlab/internal/ipspace"
)

// Witty is the Witty worm's own target generator (March 2004), as Kumar,
// Paxson and Weaver reconstructed it ("Exploiting Underlying Structure for
// Detailed Reconstruction of an Internet-scale Event", IMC 2005). The worm
// seeds the linear congruential generator X' = 214013 X + 2531011 mod 2^32
// with the host's uptime in milliseconds and, for each of 20,000 packets,
// draws four numbers, each the top 16 bits of the next state: the first
// two, concatenated, make the destination address; the others the port and
// the packet's size. It then draws a disk number and tries to write to
// that disk; only when the write succeeds does it reseed from the uptime,
// otherwise it carries on from where the generator stands.
//
// Because an address is two consecutive outputs of one generator, the
// second half is a function of the first half's state: of the 2^16 low
// halves possible under a given high half, only 58,951 occur, so about 10%
// of the address space (10.05%) can never be a target, and the paper found
// about 10% of the vulnerable hosts were never infected. Only the probe
// engine can run it, in the full 2^32 space.
type Witty struct {
	// Reseed is the probability that the disk write after a round of
	// 20,000 packets succeeds, so that the copy reseeds. Kumar et al.
	// inferred each host's disk count from how often it reseeded; the
	// share is a per-scenario assumption (0: never reseed).
	Reseed float64
}

var _ Strategy = Witty{}
var _ Starter = Witty{}

// Witty's generator constants and round length [Kumar, Paxson, Weaver 2005].
const (
	WittyMultiplier = 214013
	WittyIncrement  = 2531011
	WittyRound      = 20000
)

func (Witty) Name() string                { return "witty" }
func (Witty) Channels() ([]Channel, bool) { return nil, false }
func (Witty) Filter() AddressFilter       { return AddressFilter{} }

// Start seeds a copy's generator from its uptime, modelled as uniform
// over 32 bits.
func (Witty) Start(_ ipspace.Addr, _ int, rng *rand.Rand) uint64 { return uint64(rng.Uint32()) }

func (w Witty) Generator(int) Generator { return wittyGen{reseed: w.Reseed} }

type wittyGen struct{ reseed float64 }

// wittyStep advances the generator and returns the top 16 bits of the new
// state, as the worm's rand() does.
func wittyStep(x *uint32) uint32 {
	*x = *x*WittyMultiplier + WittyIncrement
	return *x >> 16
}

// Next returns the next destination. The cursor packs the packets sent in
// the current round above the generator's 32-bit state.
func (g wittyGen) Next(src ipspace.Addr, cursor *uint64, rng *rand.Rand) ipspace.Addr {
	x, sent := uint32(*cursor), *cursor>>32
	hi := wittyStep(&x)
	lo := wittyStep(&x)
	wittyStep(&x) // destination port
	wittyStep(&x) // packet size
	sent++
	if sent == WittyRound {
		sent = 0
		wittyStep(&x) // disk number
		if rng.Float64() < g.reseed {
			x = rng.Uint32() // the write succeeded: reseed from the uptime
		}
	}
	*cursor = sent<<32 | uint64(x)
	// A copy does not check for its own address; a probe to itself
	// finds the host infected already and does nothing, as in the worm.
	return ipspace.Addr(hi<<16 | lo)
}

// WittyReachable reports whether Witty's generator can ever produce a.
// The low half follows from the state behind the high half, and the state's
// low 16 bits enter the next state's top half only through the multiply
// and add, whose carries do not depend on the high half's bits (they
// are shifted out of the low 16), so the reachable low halves are one
// set, translated by the high half.
func WittyReachable(a ipspace.Addr) bool {
	hi, lo := uint32(a)>>16, uint32(a)&0xffff
	// The next state's top half is (a*((hi<<16)|l) + c) >> 16 for some l;
	// a*(hi<<16) contributes (a*hi)&0xffff to it, without carry.
	shift := (WittyMultiplier * hi) & 0xffff
	return wittyLowHalves()[(lo-shift)&0xffff]
}

// wittyLowHalves returns, for the high half 0, which low halves occur.
var wittyLowHalves = sync.OnceValue(func() []bool {
	seen := make([]bool, 1<<16)
	for l := uint32(0); l < 1<<16; l++ {
		seen[(WittyMultiplier*l+WittyIncrement)>>16] = true
	}
	return seen
})
