package ipspace

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// HostAddress reports whether a is a plausible address for a host: not the
// first or last address of its /24, which most 2001 networks used as
// network and broadcast addresses. Layouts of the full IPv4 space only
// place hosts where it holds.
func HostAddress(a Addr) bool {
	o := a & 0xff
	return o != 0 && o != 0xff
}

// privateBlocks are RFC 1918's private ranges.
var privateBlocks = []Prefix{MustParsePrefix("10.0.0.0/8"), MustParsePrefix("172.16.0.0/12"), MustParsePrefix("192.168.0.0/16")}

// PublicHost reports whether a is a plausible public host address: a
// HostAddress outside the private ranges of RFC 1918 and the reserved
// /8s (see Reserved).
func PublicHost(a Addr) bool {
	if !HostAddress(a) || Reserved(uint8(a>>24)) {
		return false
	}
	for _, p := range privateBlocks {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// PlaceUniform returns n distinct addresses drawn uniformly from the union
// of blocks (which must not overlap), in increasing order: a uniformly
// random n-subset of the blocks' addresses.
func PlaceUniform(n int, blocks []Prefix, rng *rand.Rand) ([]Addr, error) {
	return Place(n, blocks, nil, nil, rng)
}

// Place returns n distinct addresses, in increasing order, each drawn by
// picking a block with probability proportional to its weight (nil
// weights: to its size) and then an address uniformly within it, skipping
// addresses for which ok (if not nil) is false. Blocks must not overlap.
//
// It draws n addresses independently, sorts them, drops repeats and draws
// again for the shortfall until n remain. The procedure treats addresses
// of equal probability alike, so with nil weights and ok the subset it
// returns is uniform over n-subsets. At the densities of interest
// (360,000 hosts in 2^31 addresses) repeats are rare and one pass nearly
// always suffices.
func Place(n int, blocks []Prefix, weights []float64, ok func(Addr) bool, rng *rand.Rand) ([]Addr, error) {
	if weights != nil && len(weights) != len(blocks) {
		return nil, errors.New("ipspace: one weight per block")
	}
	var capacity uint64
	cum := make([]float64, len(blocks)+1)
	for i, b := range blocks {
		if !b.IsValid() {
			return nil, errors.New("ipspace: invalid block")
		}
		w := float64(b.Size())
		if weights != nil {
			w = weights[i]
			if !(w >= 0) || math.IsInf(w, 0) {
				return nil, fmt.Errorf("ipspace: weight %v of block %v", w, b)
			}
		}
		if w > 0 {
			capacity += b.Size()
		}
		cum[i+1] = cum[i] + w
	}
	// The blocks' usable room; with a filter, a block may hold fewer.
	if n < 0 || uint64(n) > capacity || (n > 0 && cum[len(blocks)] == 0) {
		return nil, fmt.Errorf("ipspace: %d hosts do not fit in %d addresses", n, capacity)
	}
	if ok != nil && uint64(n) > capacity/2 {
		return nil, fmt.Errorf("ipspace: %d hosts fill over half of %d addresses; too dense to place with a filter", n, capacity)
	}
	total := cum[len(blocks)]
	// A block whose addresses ok rejects almost entirely would loop for
	// ever; give up after this many rejections in a row.
	const maxRejects = 1 << 16
	// Equal blocks without weights (the /8s of a layout) need no search:
	// one draw over all their addresses names the block and the address.
	equal := weights == nil
	for _, b := range blocks {
		equal = equal && b.Size() == blocks[0].Size()
	}
	draw := func() (Addr, error) {
		for tries := 0; ; tries++ {
			if tries == maxRejects {
				return 0, errors.New("ipspace: blocks with almost no usable host addresses")
			}
			if equal {
				size := blocks[0].Size()
				off := rng.Uint64N(size * uint64(len(blocks)))
				a := blocks[off/size].Addr() + Addr(off%size)
				if ok == nil || ok(a) {
					return a, nil
				}
				continue
			}
			i := len(blocks) - 1
			if len(blocks) > 1 {
				u := rng.Float64() * total
				i, _ = slices.BinarySearch(cum[1:], u)
				i = min(i, len(blocks)-1)
				for cum[i+1] <= u && i < len(blocks)-1 { // land past ties of zero weight
					i++
				}
			}
			b := blocks[i]
			a := b.Addr() + Addr(rng.Uint64N(b.Size()))
			if ok == nil || ok(a) {
				return a, nil
			}
		}
	}
	out := make([]Addr, 0, n)
	for len(out) < n {
		for range n - len(out) {
			a, err := draw()
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
		sortAddrs(out)
		out = slices.Compact(out)
	}
	return out, nil
}

// Clustered lays out n hosts over the given /8s with the clustering of
// real vulnerable populations (docs/DESIGN.md §6): the /8s get weights
// 1, 2^-s8, 3^-s8, ... in a random order (a Zipf law of exponent s8), and
// within each /8 only a share `occupied` of its 256 /16s hold hosts, with
// Zipf weights of exponent s16 in a random order; the /16s of a /8 share
// its weight. Each host picks a /16 by weight and an address uniformly in
// it among the public host addresses (PublicHost). With s8 = s16 = 1 and occupied = 0.25 over the 124
// /8s allocated by mid-2001, the busiest /8 holds about 18% of the hosts
// and its busiest /16 about a fifth of those, while three quarters of the
// /16s stay empty.
func Clustered(n int, slash8s []Prefix, s8, s16, occupied float64, rng *rand.Rand) ([]Addr, error) {
	if len(slash8s) == 0 {
		return nil, errors.New("ipspace: no /8 to place hosts in")
	}
	perm := rng.Perm(len(slash8s))
	m := max(1, int(math.Round(occupied*256)))
	var blocks []Prefix
	var weights []float64
	for rank, i := range perm {
		p := slash8s[i]
		if p.Bits() != 8 {
			return nil, fmt.Errorf("ipspace: %v is not a /8", p)
		}
		w8 := math.Pow(float64(rank+1), -s8)
		// Private /16s (192.168/16, 172.16/12) hold no public host.
		var cands []int
		for _, b := range rng.Perm(256) {
			if PublicHost(p.Addr() | Addr(b)<<16 | 1) {
				cands = append(cands, b)
			}
		}
		sub := cands[:min(m, len(cands))]
		var norm float64
		for r := range sub {
			norm += math.Pow(float64(r+1), -s16)
		}
		for r, b := range sub {
			blocks = append(blocks, PrefixFrom(p.Addr()|Addr(b)<<16, 16))
			weights = append(weights, w8*math.Pow(float64(r+1), -s16)/norm)
		}
	}
	// Place wants blocks in any order; sort for a stable layout.
	idx := make([]int, len(blocks))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return int(int64(blocks[a].Addr()) - int64(blocks[b].Addr())) })
	sb := make([]Prefix, len(blocks))
	sw := make([]float64, len(blocks))
	for j, i := range idx {
		sb[j], sw[j] = blocks[i], weights[i]
	}
	return Place(n, sb, sw, PublicHost, rng)
}

// LayoutLine is one line of a layout file: Hosts hosts in Prefix.
type LayoutLine struct {
	Prefix Prefix
	Hosts  int
	Line   int
}

// LayoutError is a problem at one line of a layout file.
type LayoutError struct {
	File string
	Line int
	Msg  string
}

func (e *LayoutError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// maxLayoutLine bounds a layout file's line; longer ones are errors.
const maxLayoutLine = 4096

// ReadLayout parses a layout file: lines "prefix,hosts" (for example
// "24.0.0.0/16,1200"), blank lines and lines starting with '#' ignored, an
// optional header "prefix,hosts". Prefixes must not overlap, and each must
// have room for its hosts off .0 and .255 at no more than half density.
func ReadLayout(r io.Reader, file string) ([]LayoutLine, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), maxLayoutLine)
	var out []LayoutLine
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || (len(out) == 0 && strings.EqualFold(strings.ReplaceAll(line, " ", ""), "prefix,hosts")) {
			continue
		}
		ps, hs, found := strings.Cut(line, ",")
		if !found {
			return nil, &LayoutError{file, n, fmt.Sprintf("%q: want prefix,hosts", clip(line))}
		}
		p, err := ParsePrefix(strings.TrimSpace(ps))
		if err != nil {
			return nil, &LayoutError{file, n, strings.TrimPrefix(err.Error(), "ipspace: ")}
		}
		if p.Bits() < 8 {
			return nil, &LayoutError{file, n, fmt.Sprintf("prefix %v: want /8 to /32", p)}
		}
		h, err := strconv.Atoi(strings.TrimSpace(hs))
		if err != nil || h < 0 {
			return nil, &LayoutError{file, n, fmt.Sprintf("hosts %q: want a whole number >= 0", clip(strings.TrimSpace(hs)))}
		}
		if Reserved(uint8(p.Addr() >> 24)) {
			return nil, &LayoutError{file, n, fmt.Sprintf("prefix %v is in reserved space", p)}
		}
		for _, q := range privateBlocks {
			if q.Overlaps(p) {
				return nil, &LayoutError{file, n, fmt.Sprintf("prefix %v overlaps private %v: a layout lists public hosts", p, q)}
			}
		}
		room := hostRoom(p)
		if uint64(h) > room/2 {
			return nil, &LayoutError{file, n, fmt.Sprintf("%d hosts in %v: at most %d (half its host addresses)", h, p, room/2)}
		}
		for _, prev := range out {
			if prev.Prefix.Overlaps(p) {
				return nil, &LayoutError{file, n, fmt.Sprintf("prefix %v overlaps %v of line %d", p, prev.Prefix, prev.Line)}
			}
		}
		out = append(out, LayoutLine{p, h, n})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &LayoutError{file, n + 1, fmt.Sprintf("line longer than %d bytes", maxLayoutLine)}
		}
		return nil, &LayoutError{file, n, err.Error()}
	}
	if len(out) == 0 {
		return nil, &LayoutError{file, n, "no prefix,hosts lines"}
	}
	return out, nil
}

// hostRoom returns how many host addresses (HostAddress) p holds.
func hostRoom(p Prefix) uint64 {
	if p.Bits() <= 24 { // whole /24s: 254 host addresses each
		return p.Size() / 256 * 254
	}
	var room uint64
	for a, last := uint64(p.Addr()), uint64(p.Last()); a <= last; a++ {
		if HostAddress(Addr(a)) {
			room++
		}
	}
	return room
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// FromLayout places each line's hosts uniformly in its prefix (off .0 and
// .255, and never in private space) and returns them all in increasing
// order.
func FromLayout(lines []LayoutLine, rng *rand.Rand) ([]Addr, error) {
	var out []Addr
	for _, l := range lines {
		hosts, err := Place(l.Hosts, []Prefix{l.Prefix}, nil, PublicHost, rng)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", l.Line, err)
		}
		out = append(out, hosts...)
	}
	slices.Sort(out)
	return out, nil
}

// sortAddrs sorts a in place: a radix sort for large slices (a comparison
// sort of 360,000 addresses takes several times as long), slices.Sort for
// small ones. The digits are 11, 11 and 10 bits: three moves of the data
// rather than four by bytes, with one pass counting all three digits at
// once, and the counts (24 KiB) still fit the first-level cache, which
// 16-bit digits (512 KiB of counts to clear) would not; small layouts
// sorted again and again (dense spaces with repeats to redraw) paid for
// that clearing. A digit in which every address agrees (the top bits of a
// small space) costs no move.
func sortAddrs(a []Addr) {
	if len(a) < 1<<12 {
		slices.Sort(a)
		return
	}
	const digitBits = 11
	var count [3][1 << digitBits]uint32
	for _, x := range a {
		count[0][x&(1<<digitBits-1)]++
		count[1][x>>digitBits&(1<<digitBits-1)]++
		count[2][x>>(2*digitBits)]++
	}
	buf := make([]Addr, len(a))
	src, dst := a, buf
	for d := range count {
		shift := uint(d * digitBits)
		c := &count[d]
		if int(c[src[0]>>shift&(1<<digitBits-1)]) == len(src) {
			continue // every address has this digit
		}
		var sum uint32
		for i, k := range c {
			c[i] = sum
			sum += k
		}
		for _, x := range src {
			k := x >> shift & (1<<digitBits - 1)
			dst[c[k]] = x
			c[k]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}
