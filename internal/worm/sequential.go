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
// entry is probed once. A copy whose part is used up scans by Then
// (uniformly when nil). The list itself is part of the run's configuration
// (sim.Config.HitList); a copy's cursor packs its part as two indexes into
// it, then, once the part is used up, Then's own cursor (see OnList).
type HitList struct {
	// List holds the addresses of the hit-list, in probing order.
	List []ipspace.Addr
	// Then is how copies scan after their part of the list: nil or
	// Uniform, Permutation (the Warhol worm), or Witty.
	Then Strategy
}

var _ Strategy = HitList{}
var _ Jumper = HitList{}

func (HitList) Name() string                { return "hit-list" }
func (HitList) Channels() ([]Channel, bool) { return nil, false }
func (HitList) Filter() AddressFilter       { return AddressFilter{} }

// After returns the strategy copies follow once their part is used up.
func (h HitList) After() Strategy {
	if h.Then == nil {
		return Uniform{}
	}
	return h.Then
}

func (h HitList) Generator(spaceBits int) Generator {
	then := h.After()
	g := hitGen{list: h.List, rest: then.Generator(spaceBits), spaceBits: spaceBits}
	g.starter, _ = then.(Starter)
	return g
}

// Jump passes a jump on to Then when the copy has left the list.
func (h HitList) Jump(cursor uint64, spaceBits int, rng *rand.Rand) (uint64, bool) {
	j, ok := h.After().(Jumper)
	if !ok || cursor&afterList == 0 {
		return cursor, false
	}
	c, ok := j.Jump(cursor&^afterList, spaceBits, rng)
	return c | afterList, ok
}

// afterList marks a cursor that holds Then's state rather than a part of
// the list; parts never use the top bit (the list has under 2^31 entries).
const afterList = uint64(1) << 63

// HitRange packs a part [lo, hi) of the hit-list into a cursor.
func HitRange(lo, hi uint32) uint64 { return uint64(lo)<<32 | uint64(hi) }

// HitBounds unpacks a cursor made by HitRange; a cursor past the list
// gives an empty part.
func HitBounds(cursor uint64) (lo, hi uint32) {
	if cursor&afterList != 0 {
		return 0, 0
	}
	return uint32(cursor >> 32), uint32(cursor)
}

// OnList reports whether a cursor still holds entries of the list.
func OnList(cursor uint64) bool {
	lo, hi := HitBounds(cursor)
	return lo < hi
}

// SplitHitList gives a new copy the upper half (rounded down) of what
// remains of its parent's part, and returns the child's cursor.
func SplitHitList(parent *uint64) uint64 {
	lo, hi := HitBounds(*parent)
	mid := hi - (hi-lo)/2
	*parent = HitRange(lo, mid)
	return HitRange(mid, hi)
}

type hitGen struct {
	list      []ipspace.Addr
	rest      Generator
	starter   Starter
	spaceBits int
}

func (g hitGen) Next(src ipspace.Addr, cursor *uint64, rng *rand.Rand) ipspace.Addr {
	if *cursor&afterList == 0 {
		lo, hi := HitBounds(*cursor)
		for lo < hi {
			a := g.list[lo]
			lo++
			*cursor = HitRange(lo, hi)
			if a != src {
				return a
			}
		}
		// The part is used up: Then starts afresh.
		var c uint64
		if g.starter != nil {
			c = g.starter.Start(src, g.spaceBits, rng)
		}
		*cursor = c | afterList
	}
	// Then works on the cursor in place (a copy would escape to the heap
	// through the interface call on every probe).
	*cursor &^= afterList
	a := g.rest.Next(src, cursor, rng)
	*cursor |= afterList
	return a
}
