package shield

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// banWays is the associativity of the ban table: a source can live in one
// of banWays slots in each of its two buckets, and a new source takes a free
// slot in the emptier of the two or else evicts the least useful of the 16.
// With one bucket per source, live bans were lost from full buckets once the
// table was half full; with two choices of eight ways the table fills to
// over 95% before any bucket pair overflows (the "power of two choices":
// Azar, Broder, Karlin and Upfal, SIAM J. Computing 1999; tested in
// TestBanTableOccupancy).
const banWays = 8

// banKey returns the table key for src: the address itself for IPv4, its
// /64 for IPv6, since one host is given a whole /64 and can send from any
// address in it.
func banKey(src netip.Addr) [16]byte {
	k := src.Unmap().As16()
	if src.Unmap().Is6() {
		clear(k[8:])
	}
	return k
}

// banEntry is one source's probe count and ban. Times are Unix nanoseconds
// so the entry holds no pointers and the table costs the GC nothing to scan.
type banEntry struct {
	addr  [16]byte // IPv4 sources as IPv4-mapped IPv6
	used  bool
	count uint32 // probes since start
	start int64  // when the current counting window began
	last  int64  // last probe
	until int64  // banned until; 0 or past: not banned
}

// banTable counts probes per source and bans a source that sends after
// probes within window, for dur. Its memory is fixed at construction: a
// flood of distinct (for instance spoofed or IPv6) sources evicts entries
// instead of growing the table. Eviction prefers sources that are not banned
// and, among equals, the one idle longest; a banned source is evicted only
// when its whole bucket is banned, and then the one whose ban ends first.
// Buckets are chosen by a keyed hash with a random seed, so a sender cannot
// aim its sources at one bucket to evict a chosen ban.
type banTable struct {
	after  uint32
	window int64
	dur    int64
	seed   uint64 // secret hash key

	mu      sync.Mutex
	buckets [][banWays]banEntry
	mask    uint64
	active  atomic.Int64 // entries whose ban has not been seen to expire; written under mu
	evicted uint64
	lost    atomic.Uint64 // live bans evicted: the table was too small
}

// newBanTable returns a table of at least size entries (rounded up to a
// power-of-two number of buckets).
func newBanTable(size int, after int, window, dur time.Duration) *banTable {
	nb := 1
	for nb*banWays < size {
		nb *= 2
	}
	return &banTable{
		after:   uint32(after),
		window:  int64(window),
		dur:     int64(dur),
		seed:    rand.Uint64(),
		buckets: make([][banWays]banEntry, nb),
		mask:    uint64(nb - 1),
	}
}

// capacity returns the number of sources the table can hold.
func (t *banTable) capacity() int { return len(t.buckets) * banWays }

// pair returns the two buckets key may live in.
func (t *banTable) pair(key *[16]byte) (*[banWays]banEntry, *[banWays]banEntry) {
	h := t.hash(key)
	i, j := h&t.mask, (h>>32)&t.mask
	if i == j {
		j = i ^ 1&t.mask
	}
	return &t.buckets[i], &t.buckets[j]
}

// hash mixes key with the table's secret seed (splitmix64's finaliser,
// Steele, Lea and Flood, OOPSLA 2014). It is not a cryptographic function,
// but a sender who cannot learn the seed cannot aim sources at one bucket
// pair, and a test can fix the seed to make a table's layout repeatable.
func (t *banTable) hash(key *[16]byte) uint64 {
	return mix64(mix64(binary.LittleEndian.Uint64(key[:8])^t.seed) ^ binary.LittleEndian.Uint64(key[8:]))
}

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// find returns key's entry, or nil.
func (t *banTable) find(key *[16]byte) *banEntry {
	b1, b2 := t.pair(key)
	for _, b := range [2]*[banWays]banEntry{b1, b2} {
		for i := range b {
			if e := &b[i]; e.used && e.addr == *key {
				return e
			}
		}
	}
	return nil
}

// banned reports whether src is banned at now.
func (t *banTable) banned(src netip.Addr, now time.Time) bool {
	if t.active.Load() == 0 {
		// The common case, no source banned, costs no lock.
		return false
	}
	key := banKey(src)
	n := now.UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.find(&key)
	return e != nil && e.until > n
}

// probe records a probe from src at now and reports whether it started a
// new ban.
func (t *banTable) probe(src netip.Addr, now time.Time) (newBan bool) {
	key := banKey(src)
	n := now.UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.find(&key)
	if e == nil {
		b1, b2 := t.pair(&key)
		e = t.victim(b1, b2, n)
		*e = banEntry{addr: key, used: true, start: n}
	}
	if n-e.start > t.window {
		e.count, e.start = 0, n
	}
	e.count++
	e.last = n
	if e.until > n || e.count < t.after {
		return false
	}
	if e.until == 0 {
		t.active.Add(1)
	}
	e.until = n + t.dur
	e.count, e.start = 0, n
	return true
}

// victim returns the slot a new source should take: a free slot in the
// emptier of its buckets, else the entry that matters least of both (see
// evictBefore).
func (t *banTable) victim(b1, b2 *[banWays]banEntry, now int64) *banEntry {
	var best *banEntry
	var free [2]*banEntry
	var nfree [2]int
	for k, b := range [2]*[banWays]banEntry{b1, b2} {
		for i := range b {
			e := &b[i]
			if !e.used {
				if free[k] == nil {
					free[k] = e
				}
				nfree[k]++
				continue
			}
			if e.until != 0 && e.until <= now {
				// The ban has run out: forget it, so active counts live bans.
				e.until = 0
				t.active.Add(-1)
			}
			if best == nil || evictBefore(e, best, now) {
				best = e
			}
		}
	}
	switch {
	case nfree[0] > 0 && nfree[0] >= nfree[1]:
		return free[0]
	case nfree[1] > 0:
		return free[1]
	}
	if best.until <= now {
		t.evicted++
		return best
	}
	// Both buckets are full of live bans: move one of them to its other
	// bucket if that has a slot without a live ban (one step of cuckoo
	// hashing), which lets the table fill almost to the brim before a live
	// ban is lost.
	for _, b := range [2]*[banWays]banEntry{b1, b2} {
		for i := range b {
			e := &b[i]
			a1, a2 := t.pair(&e.addr)
			alt := a1
			if alt == b {
				alt = a2
			}
			if alt == b1 || alt == b2 {
				continue
			}
			for j := range alt {
				if a := &alt[j]; !a.used || a.until <= now {
					if a.used {
						t.evicted++
						if a.until != 0 {
							t.active.Add(-1) // an ended ban not yet forgotten
						}
					}
					*a = *e
					return e
				}
			}
		}
	}
	t.evicted++
	if best.until != 0 {
		t.active.Add(-1)
		t.lost.Add(1)
	}
	return best
}

// evictBefore reports whether a is a better eviction victim than b: a
// source that is not banned (an expired ban counts as none) before a banned
// one, and among the unbanned the one idle longest, among the banned the
// one whose ban ends first.
func evictBefore(a, b *banEntry, now int64) bool {
	aBanned, bBanned := a.until > now, b.until > now
	if aBanned != bBanned {
		return !aBanned
	}
	if aBanned {
		return a.until < b.until
	}
	return a.last < b.last
}

// stats returns the number of live bans (bans seen to expire are not
// counted; an expired ban not yet revisited still is, until its slot is
// reused or a sweep clears it) and the evictions so far.
func (t *banTable) stats() (active int, evicted uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return int(t.active.Load()), t.evicted
}

// sweep forgets bans that have ended by now, so stats counts only live bans.
func (t *banTable) sweep(now time.Time) {
	n := now.UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	for bi := range t.buckets {
		b := &t.buckets[bi]
		for i := range b {
			if e := &b[i]; e.used && e.until != 0 && e.until <= n {
				e.until = 0
				t.active.Add(-1)
			}
		}
	}
}
