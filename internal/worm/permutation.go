package worm

import (
	"math/rand/v2"

	"github.com/wormlab/wormlab/internal/ipspace"
)

// Permutation is permutation scanning (Staniford, Paxson, Weaver, "How to
// 0wn the Internet in Your Spare Time", USENIX Security 2002, section 4):
// every copy walks one pseudo-random permutation of the address space,
// shared by all copies, starting just after its own host's place in it.
// When a probe finds a host already running the worm, the copy concludes
// that another copy is walking this stretch and jumps to a random place.
// A copy never probes its own address. The engines call Jump; the
// generator only walks.
//
// Copies are not independent probe by probe, so the event engine runs
// them as walkers over the permuted order (see sim), as it runs
// sequential scanners.
type Permutation struct {
	// Key selects the permutation; every copy of a run uses the same one.
	Key uint64
}

var _ Strategy = Permutation{}
var _ Starter = Permutation{}
var _ Jumper = Permutation{}

func (Permutation) Name() string                { return "permutation" }
func (Permutation) Channels() ([]Channel, bool) { return nil, false }
func (Permutation) Filter() AddressFilter       { return AddressFilter{} }

// Order returns the permutation of a space of 2^spaceBits addresses.
func (p Permutation) Order(spaceBits int) Shuffle { return NewShuffle(p.Key, spaceBits) }

// Start returns the place just after src's own in the permutation.
func (p Permutation) Start(src ipspace.Addr, spaceBits int, _ *rand.Rand) uint64 {
	o := p.Order(spaceBits)
	return (o.Place(uint64(src)) + 1) & o.mask
}

// Jump returns a place drawn uniformly over the permutation.
func (p Permutation) Jump(_ uint64, spaceBits int, rng *rand.Rand) (uint64, bool) {
	return rng.Uint64N(uint64(1) << spaceBits), true
}

func (p Permutation) Generator(spaceBits int) Generator { return permGen{p.Order(spaceBits)} }

type permGen struct{ order Shuffle }

// Next returns the address at the cursor's place and advances it,
// stepping over the copy's own address.
func (g permGen) Next(src ipspace.Addr, cursor *uint64, _ *rand.Rand) ipspace.Addr {
	for {
		a := ipspace.Addr(g.order.At(*cursor))
		*cursor = (*cursor + 1) & g.order.mask
		if a != src {
			return a
		}
	}
}

// Jumper is a strategy whose copies change course when a probe finds a
// host already infected. Jump receives the copy's cursor after that probe
// and returns its new cursor and true, or false when the copy carries on.
type Jumper interface {
	Jump(cursor uint64, spaceBits int, rng *rand.Rand) (uint64, bool)
}

// Shuffle is a keyed bijection of the integers below 2^bits: At maps a
// place to an address and Place maps it back. It composes three rounds of
// an odd multiply-add and a right xor-shift, each invertible modulo 2^bits
// (the multiply by the modular inverse of the odd factor, the xor-shift by
// xoring the shifted words back in), with keys from SplitMix64. The
// Warhol paper used a block cipher (RC5) for its permutation; any keyed
// bijection that scatters neighbouring places serves a model whose
// vulnerable hosts are placed independently of the key.
type Shuffle struct {
	mask  uint64
	shift uint
	mul   [shuffleRounds]uint64
	inv   [shuffleRounds]uint64
	add   [shuffleRounds]uint64
}

const shuffleRounds = 3

// NewShuffle returns the permutation of 2^bits integers selected by key.
func NewShuffle(key uint64, bits int) Shuffle {
	s := Shuffle{mask: uint64(1)<<bits - 1, shift: uint(bits+1) / 2}
	for i := range shuffleRounds {
		m := splitmix64(key+uint64(2*i)) | 1
		s.mul[i] = m & s.mask
		s.inv[i] = oddInverse(m) & s.mask
		s.add[i] = splitmix64(key+uint64(2*i+1)) & s.mask
	}
	return s
}

// oddInverse returns the inverse of odd m modulo 2^64 by Newton's
// iteration, each step doubling the correct low bits (3 bits to start).
func oddInverse(m uint64) uint64 {
	x := m // m*m = 1 mod 8
	for range 5 {
		x *= 2 - m*x
	}
	return x
}

// At returns the address at place i.
func (s Shuffle) At(i uint64) uint64 {
	x := i & s.mask
	for r := range shuffleRounds {
		x = (x*s.mul[r] + s.add[r]) & s.mask
		x ^= x >> s.shift
	}
	return x
}

// Place returns the place of address a: At(Place(a)) == a.
func (s Shuffle) Place(a uint64) uint64 {
	x := a & s.mask
	for r := shuffleRounds - 1; r >= 0; r-- {
		// Undo x ^= x >> shift: the shifted copies telescope away.
		y := x
		for k := s.shift; k < 64 && y>>k != 0; k += s.shift {
			x ^= y >> k
		}
		x = ((x - s.add[r]) * s.inv[r]) & s.mask
	}
	return x
}
