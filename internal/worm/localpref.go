package worm

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/wormlab/wormlab/internal/ipspace"
)

// CodeRedIIMix is Code Red II's choice of target for each probe: 1/8
// uniform over IPv4, 4/8 within the source's /8, 3/8 within its /16
// [Staniford, Paxson, Weaver, USENIX Security 2002].
var CodeRedIIMix = []Channel{{Share: 1.0 / 8, PrefixBits: 0}, {Share: 4.0 / 8, PrefixBits: 8}, {Share: 3.0 / 8, PrefixBits: 16}}

// CodeRedIIExclude are the blocks Code Red II never probes: 127/8 and
// 224/8 and above.
var CodeRedIIExclude = []ipspace.Prefix{ipspace.MustParsePrefix("127.0.0.0/8"), ipspace.MustParsePrefix("224.0.0.0/3")}

// LocalPreference picks each probe's neighbourhood from Mix, then a target
// uniformly among the neighbourhood's allowed addresses other than the
// source's own. A rejected draw (excluded, or the source itself) is redrawn
// within the same neighbourhood, so the mixture weights stay exactly Mix
// and the law within a neighbourhood is uniform over what is allowed; the
// event engine relies on exactly that law.
type LocalPreference struct {
	Mix  []Channel
	Skip AddressFilter
}

var _ Strategy = LocalPreference{}

func (LocalPreference) Name() string                  { return "local-preference" }
func (l LocalPreference) Channels() ([]Channel, bool) { return l.Mix, true }
func (l LocalPreference) Filter() AddressFilter       { return l.Skip }

// Check reports whether the mix is a probability distribution over
// neighbourhoods that fit in a space of 2^spaceBits addresses.
func (l LocalPreference) Check(spaceBits int) error {
	if len(l.Mix) == 0 {
		return errors.New("worm: local preference needs at least one neighbourhood")
	}
	var sum float64
	for _, c := range l.Mix {
		if !(c.Share >= 0) || c.PrefixBits < 0 || c.PrefixBits > spaceBits-2 {
			return fmt.Errorf("worm: neighbourhood /%d with share %v: want a share >= 0 and a prefix of 0 to %d bits", c.PrefixBits, c.Share, spaceBits-2)
		}
		sum += c.Share
	}
	if math.Abs(sum-1) > 1e-9 {
		return fmt.Errorf("worm: neighbourhood shares sum to %v, want 1", sum)
	}
	return l.Skip.Check()
}

func (l LocalPreference) Generator(spaceBits int) Generator {
	g := localGen{filter: l.Skip, filtered: len(l.Skip.Exclude) > 0 || l.Skip.SkipZero255}
	var cum float64
	for _, c := range l.Mix {
		cum += c.Share
		free := uint(spaceBits - c.PrefixBits) // bits drawn at random
		g.cum = append(g.cum, cum)
		// (1<<32)-1 is all ones in uint32 arithmetic, so this also
		// covers the full space.
		g.keep = append(g.keep, ^uint32(0)<<free&(uint32(1)<<spaceBits-1))
		g.shift = append(g.shift, 32-free)
	}
	g.cum[len(g.cum)-1] = 1 // rounding must not leave a gap at the top
	return g
}

type localGen struct {
	cum      []float64
	keep     []uint32 // bits kept from the source: its neighbourhood prefix
	shift    []uint   // right shift of a 32-bit draw to get the free bits
	filter   AddressFilter
	filtered bool
}

func (g localGen) Next(src ipspace.Addr, _ *uint64, rng *rand.Rand) ipspace.Addr {
	u := rng.Float64()
	k := 0
	for u >= g.cum[k] {
		k++
	}
	base := uint32(src) & g.keep[k]
	for {
		var free uint32
		if g.shift[k] < 32 {
			free = rng.Uint32() >> g.shift[k]
		}
		a := ipspace.Addr(base | free)
		if a != src && (!g.filtered || g.filter.Allowed(a)) {
			return a
		}
	}
}
