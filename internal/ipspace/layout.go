package ipspace

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
)

// PlaceUniform returns n distinct addresses drawn uniformly from the union
// of blocks (which must not overlap), in increasing order: a uniformly
// random n-subset of the blocks' addresses.
//
// It draws n addresses independently, sorts them, drops repeats and draws
// again for the shortfall until n remain. The procedure treats all
// addresses alike, so the subset it returns is uniform over n-subsets; at
// the densities of interest (360,000 hosts in 2^31 addresses) repeats are
// rare and one pass nearly always suffices.
func PlaceUniform(n int, blocks []Prefix, rng *rand.Rand) ([]Addr, error) {
	var total uint64
	for _, b := range blocks {
		if !b.IsValid() {
			return nil, errors.New("ipspace: invalid block")
		}
		total += b.Size()
	}
	if n < 0 || uint64(n) > total {
		return nil, fmt.Errorf("ipspace: %d hosts do not fit in %d addresses", n, total)
	}
	// Cumulative sizes, to map an offset in [0, total) to an address.
	cum := make([]uint64, len(blocks)+1)
	for i, b := range blocks {
		cum[i+1] = cum[i] + b.Size()
	}
	at := func(off uint64) Addr {
		i, _ := slices.BinarySearch(cum, off+1)
		return blocks[i-1].Addr() + Addr(off-cum[i-1])
	}
	out := make([]Addr, 0, n)
	for len(out) < n {
		for range n - len(out) {
			out = append(out, at(rng.Uint64N(total)))
		}
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out, nil
}
