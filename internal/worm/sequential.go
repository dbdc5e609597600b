package worm

import (
	"math/rand/v2"

	"github.com/wormlab/wormlab/internal/ipspace"
)

// Sequential is a Blaster-style scanner: each copy picks a start address
// and probes upward from it one address at a time, wrapping at the top of
// the space. With probability LocalShare the start is the first address of
// the copy's own /24 (Blaster: 40%, its own class C, less up to 20 below;
// the "less" is left out here), otherwise a random /24-aligned address
// [Symantec, W32.Blaster.Worm, 2003]. A copy never probes itself: its own
// address is stepped over. Copies are not independent probe by probe, so
// the event engine runs them as walkers (see sim), not as channels.
type Sequential struct {
	LocalShare float64
}

var _ Strategy = Sequential{}
var _ Starter = Sequential{}

func (Sequential) Name() string                { return "sequential" }
func (Sequential) Channels() ([]Channel, bool) { return nil, false }
func (Sequential) Filter() AddressFilter       { return AddressFilter{} }

// Start returns a copy's first target, as the cursor value.
func (s Sequential) Start(src ipspace.Addr, spaceBits int, rng *rand.Rand) uint64 {
	if rng.Float64() < s.LocalShare {
		return uint64(src &^ 0xff)
	}
	return uint64(rng.Uint64N(uint64(1)<<spaceBits) &^ 0xff)
}

func (s Sequential) Generator(spaceBits int) Generator {
	return seqGen{mask: uint64(1)<<spaceBits - 1}
}

type seqGen struct{ mask uint64 }

// Next returns the address at the cursor and advances it, stepping over
// the copy's own address.
func (g seqGen) Next(src ipspace.Addr, cursor *uint64, _ *rand.Rand) ipspace.Addr {
	a := *cursor & g.mask
	if ipspace.Addr(a) == src {
		a = (a + 1) & g.mask
	}
	*cursor = (a + 1) & g.mask
	return ipspace.Addr(a)
}

// Starter is a strategy whose copies start from a state of their own; the
// engines call Start when a copy begins and store the result as its cursor.
type Starter interface {
	Start(src ipspace.Addr, spaceBits int, rng *rand.Rand) uint64
}

// HitList is a worm released with a list of known-vulnerable addresses
// (Staniford, Paxson, Weaver 2002, "hit-list scanning"): a copy probes the
// entries of its part of the list in order and, each time it infects a
// host, hands the upper half of what remains to the new copy, so that each
// entry is probed once. A copy whose part is used up scans uniformly. The
// list itself is part of the run's configuration (sim.Config.HitList); a
// copy's cursor packs its part as two indexes into it.
type HitList struct {
	// List holds the addresses of the hit-list, in probing order.
	List []ipspace.Addr
}

var _ Strategy = HitList{}

func (HitList) Name() string                { return "hit-list" }
func (HitList) Channels() ([]Channel, bool) { return nil, false }
func (HitList) Filter() AddressFilter       { return AddressFilter{} }

func (h HitList) Generator(spaceBits int) Generator {
	return hitGen{list: h.List, rest: Uniform{}.Generator(spaceBits)}
}

// HitRange packs a part [lo, hi) of the hit-list into a cursor.
func HitRange(lo, hi uint32) uint64 { return uint64(lo)<<32 | uint64(hi) }

// HitBounds unpacks a cursor made by HitRange.
func HitBounds(cursor uint64) (lo, hi uint32) { return uint32(cursor >> 32), uint32(cursor) }

// SplitHitList gives a new copy the upper half (rounded down) of what
// remains of its parent's part, and returns the child's cursor.
func SplitHitList(parent *uint64) uint64 {
	lo, hi := HitBounds(*parent)
	mid := hi - (hi-lo)/2
	*parent = HitRange(lo, mid)
	return HitRange(mid, hi)
}

type hitGen struct {
	list []ipspace.Addr
	rest Generator
}

func (g hitGen) Next(src ipspace.Addr, cursor *uint64, rng *rand.Rand) ipspace.Addr {
	lo, hi := HitBounds(*cursor)
	for lo < hi {
		a := g.list[lo]
		lo++
		*cursor = HitRange(lo, hi)
		if a != src {
			return a
		}
	}
	return g.rest.Next(src, cursor, rng)
}
