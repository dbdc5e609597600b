// Package worm describes how scanning worms behave: how each probe picks
// its target (the strategies, with the worms' own target generators for
// the probe engine) and when copies scan (the calendars).
package worm

import (
	"math/rand/v2"

	"github.com/wormlab/wormlab/internal/ipspace"
)

// Strategy is a worm's way of choosing targets.
type Strategy interface {
	// Name is the strategy's name in scenario files.
	Name() string
	// Channels returns the strategy as a mixture of uniform draws over
	// neighbourhoods of the source, if it is one; the event engine can
	// simulate exactly only such strategies.
	Channels() ([]Channel, bool)
	// Filter returns the addresses the worm never targets.
	Filter() AddressFilter
	// Generator returns the probe-by-probe target generator for a space of
	// 2^spaceBits addresses starting at 0.
	Generator(spaceBits int) Generator
}

// Channel is one component of a mixture strategy: with probability Share a
// probe's target is uniform over the addresses of the source's own
// neighbourhood of prefix length PrefixBits (counted from the top of the
// simulated space, so 0 is the whole space), the source's own address
// excluded. A draw of the source's own address is redrawn, so the law is
// uniform over the other addresses; both engines follow that rule.
type Channel struct {
	Share      float64
	PrefixBits int
}

// Generator produces a copy's targets one probe at a time. cursor is the
// copy's own generator state (zero when the copy starts), which Next may
// read and advance; rng is the simulation's generator.
type Generator interface {
	Next(src ipspace.Addr, cursor *uint64, rng *rand.Rand) ipspace.Addr
}

// Uniform picks every target uniformly over the space, as Code Red I v2
// does with its per-copy random seed [Moore, Shannon, Brown, IMW 2002].
type Uniform struct{}

var _ Strategy = Uniform{}

func (Uniform) Name() string                { return "uniform" }
func (Uniform) Channels() ([]Channel, bool) { return []Channel{{Share: 1, PrefixBits: 0}}, true }
func (Uniform) Filter() AddressFilter       { return AddressFilter{} }
func (Uniform) Generator(spaceBits int) Generator {
	return uniformGen{shift: uint(32 - spaceBits)}
}

type uniformGen struct{ shift uint }

func (g uniformGen) Next(src ipspace.Addr, _ *uint64, rng *rand.Rand) ipspace.Addr {
	for {
		// The top bits of PCG's output are as good as any; a shift keeps the
		// draw exactly uniform over 2^spaceBits without a modulus.
		a := ipspace.Addr(rng.Uint32() >> g.shift)
		if a != src {
			return a
		}
	}
}

// StaticSeed is Code Red I v1's flaw: every copy seeds its generator with
// the same constant, so every copy walks the same target list from the
// start [Moore, Shannon, Brown, IMW 2002]. Only the probe engine can run
// it: targets are not independent between copies.
type StaticSeed struct {
	// Seed selects the shared list; every copy uses the same one.
	Seed uint64
}

var _ Strategy = StaticSeed{}

func (StaticSeed) Name() string                { return "static-seed" }
func (StaticSeed) Channels() ([]Channel, bool) { return nil, false }
func (StaticSeed) Filter() AddressFilter       { return AddressFilter{} }
func (s StaticSeed) Generator(spaceBits int) Generator {
	return staticGen{seed: s.Seed, shift: uint(64 - spaceBits)}
}

type staticGen struct {
	seed  uint64
	shift uint
}

// Next returns entry *cursor of the shared list and advances the cursor.
// Entry k is SplitMix64 of seed+k (Steele, Lea, Flood, "Fast splittable
// pseudorandom number generators", OOPSLA 2014): a counter-based generator,
// so the list is the same for every copy and needs no memory.
func (g staticGen) Next(src ipspace.Addr, cursor *uint64, _ *rand.Rand) ipspace.Addr {
	for {
		k := *cursor
		*cursor++
		a := ipspace.Addr(splitmix64(g.seed+k) >> g.shift)
		if a != src {
			return a
		}
	}
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
