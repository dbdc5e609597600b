package shield

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// banWays is the associativity of the ban table: a source can live in one
// of banWays slots of its bucket, and a new source evicts the least useful
// of them. Eight slots keep a lookup within two cache lines of keys while
// making it unlikely that a few busy sources evict each other.
const banWays = 8

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
	seed   maphash.Seed

	mu      sync.Mutex
	buckets [][banWays]banEntry
	mask    uint64
	active  atomic.Int64 // entries whose ban has not been seen to expire; written under mu
	evicted uint64
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
		seed:    maphash.MakeSeed(),
		buckets: make([][banWays]banEntry, nb),
		mask:    uint64(nb - 1),
	}
}

// capacity returns the number of sources the table can hold.
func (t *banTable) capacity() int { return len(t.buckets) * banWays }

func (t *banTable) bucket(key *[16]byte) *[banWays]banEntry {
	return &t.buckets[maphash.Bytes(t.seed, key[:])&t.mask]
}

// banned reports whether src is banned at now.
func (t *banTable) banned(src netip.Addr, now time.Time) bool {
	if t.active.Load() == 0 {
		// The common case, no source banned, costs no lock.
		return false
	}
	key := src.As16()
	n := now.UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.bucket(&key)
	for i := range b {
		e := &b[i]
		if e.used && e.addr == key {
			return e.until > n
		}
	}
	return false
}

// probe records a probe from src at now and reports whether it started a
// new ban.
func (t *banTable) probe(src netip.Addr, now time.Time) (newBan bool) {
	key := src.As16()
	n := now.UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.bucket(&key)
	var e *banEntry
	for i := range b {
		if b[i].used && b[i].addr == key {
			e = &b[i]
			break
		}
	}
	if e == nil {
		e = t.victim(b, n)
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

// victim returns the slot of b a new source should take.
func (t *banTable) victim(b *[banWays]banEntry, now int64) *banEntry {
	var best *banEntry
	for i := range b {
		e := &b[i]
		if !e.used {
			return e
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
	t.evicted++
	if best.until != 0 {
		t.active.Add(-1)
	}
	return best
}

// evictBefore reports whether a is a better eviction victim than b.
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
