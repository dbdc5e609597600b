package detect

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	"github.com/wormlab/wormlab/internal/logformat"
)

// A log where half the lines are probes from hundreds of thousands of
// sources spends its time on the way from a probe to its source's figures:
// each random access into a table of that size misses the caches. So a
// source's record lives in the slot of an open-addressing table keyed by
// its address (one access finds and updates it), and the (bin, source)
// pairs behind the series' sources columns are appended to a log, written
// in order, instead of being inserted into a set; the record remembers
// which families its latest bin has logged, so the log holds each pair
// once, and the report counts it in one pass.

// srcRec is one source's figures and its slot in the source table, in 40
// bytes.
type srcRec struct {
	first, last int64  // first and last timed probe (valid when timed)
	sigs        uint64 // bit i: sent a probe of signature i
	probes      uint32 // probes, timed or not (saturating); 0 marks an empty slot
	key         uint32 // the IPv4 address, or for a text source its index in sourceTable.texts
	binFams     uint32 // bit f: the pair (the bin of last, this source) is in the pair log with family f
	timedFams   uint32 // bit f: the source sent a timed probe of family f; and the flag textSrc
}

// textSrc, in srcRec.timedFams, marks a source that is an IPv6 address or
// a host name.
const textSrc = 1 << 31

func (s *srcRec) timed() bool { return s.timedFams&famBits != 0 }
func (s *srcRec) text() bool  { return s.timedFams&textSrc != 0 }

// id returns the source's identity as one number, for follow mode's
// per-bin sets.
func (s *srcRec) id() uint64 {
	if s.text() {
		return 1<<32 | uint64(s.key)
	}
	return uint64(s.key)
}

// sourceTable is an open-addressing hash table of source records with
// linear probing. It grows at four fifths full, so a source costs 50 to
// 100 bytes of slots (docs/PERFORMANCE.md, Detect, memory).
type sourceTable struct {
	slots []srcRec // a power of two of them
	shift uint     // 64 less log2(len(slots))
	n     int

	texts     []string          // text sources by key
	textIndex map[string]uint32 // and their keys
}

const minSlots = 1 << 10

func newSourceTable() *sourceTable {
	return &sourceTable{slots: make([]srcRec, minSlots), shift: 64 - 10, textIndex: map[string]uint32{}}
}

func (t *sourceTable) len() int { return t.n }

// slot returns the slot of the source (key, text), claiming an empty one
// for a new source. A new source's record has probes 0 until the caller
// counts its probe; until then, the table must not be searched again.
func (t *sourceTable) slot(key uint32, text bool) *srcRec {
	h := uint64(key)
	if text {
		h |= 1 << 32
	}
	// Fibonacci hashing: the multiplier spreads runs of neighbouring
	// addresses, common in logs, over the whole table.
	mask := uint64(len(t.slots) - 1)
	for i := (h * 0x9e3779b97f4a7c15) >> t.shift; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.probes == 0 {
			if 5*(t.n+1) > 4*len(t.slots) {
				t.grow()
				return t.slot(key, text)
			}
			s.key = key
			if text {
				s.timedFams = textSrc
			}
			t.n++
			return s
		}
		if s.key == key && s.text() == text {
			return s
		}
	}
}

func (t *sourceTable) grow() {
	old := t.slots
	t.slots = make([]srcRec, 2*len(old))
	t.shift--
	mask := uint64(len(t.slots) - 1)
	for i := range old {
		o := &old[i]
		if o.probes == 0 {
			continue
		}
		h := uint64(o.key)
		if o.text() {
			h |= 1 << 32
		}
		j := (h * 0x9e3779b97f4a7c15) >> t.shift
		for t.slots[j].probes != 0 {
			j = (j + 1) & mask
		}
		t.slots[j] = *o
	}
}

// each returns the records of every source, in no particular order.
func (t *sourceTable) each() []*srcRec {
	out := make([]*srcRec, 0, t.n)
	for i := range t.slots {
		if t.slots[i].probes != 0 {
			out = append(out, &t.slots[i])
		}
	}
	return out
}

// lookup returns the record of the source a request names, claiming a
// slot if it is new (see slot), and false when the line names no client.
func (t *sourceTable) lookup(rec *logformat.Record) (*srcRec, bool) {
	if rec.IsV4 {
		return t.slot(rec.V4, false), true
	}
	h := rec.Host
	if len(h) == 0 || (len(h) == 1 && h[0] == '-') {
		return nil, false
	}
	var text string
	if a, err := netip.ParseAddr(string(h)); err == nil {
		a = a.Unmap()
		if a.Is4() {
			b := a.As4()
			return t.slot(uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]), false), true
		}
		text = a.String()
	} else {
		text = printable([]byte(strings.ToLower(string(h))))
	}
	k, ok := t.textIndex[text]
	if !ok {
		k = uint32(len(t.texts))
		t.texts = append(t.texts, text)
		t.textIndex[text] = k
	}
	return t.slot(k, true), true
}

// sourceKey is a source's identity: an IPv4 address, or text (an IPv6
// address or a host name as logged, escaped for printing).
type sourceKey struct {
	v4   uint32
	text string // "" for IPv4
}

// key returns a record's identity.
func (t *sourceTable) key(s *srcRec) sourceKey {
	if s.text() {
		return sourceKey{text: t.texts[s.key]}
	}
	return sourceKey{v4: s.key}
}

func (k sourceKey) String() string {
	if k.text != "" {
		return k.text
	}
	return k.addr().String()
}

func (k sourceKey) addr() netip.Addr {
	if k.text != "" {
		a, _ := netip.ParseAddr(k.text)
		return a
	}
	return netip.AddrFrom4([4]byte{byte(k.v4 >> 24), byte(k.v4 >> 16), byte(k.v4 >> 8), byte(k.v4)})
}

// compare orders IPv4 sources by address, before the others by text.
func (k sourceKey) compare(o sourceKey) int {
	if (k.text == "") != (o.text == "") {
		if k.text == "" {
			return -1
		}
		return 1
	}
	if k.text == "" {
		return cmp.Compare(k.v4, o.v4)
	}
	return strings.Compare(k.text, o.text)
}

// pair is one entry of the pair log: a source probed in a bin for the
// families fams holds. While the log is in order (see pairLog), the
// entries of one (bin, source) pair have disjoint families, the first of
// them carries pairFirst, and news says for which families this is the
// source's first timed probe; a normalised log has one entry a pair.
type pair struct {
	src  uint32 // srcRec.key
	bin  int32  // offset from aggregate.binBase
	fams uint32 // families, and the flags pairFirst and pairText
	news uint32 // families first probed for here, and the flag srcFirst
}

const (
	pairFirst = 1 << 31 // in fams: the first entry of its (bin, source) pair
	pairText  = 1 << 30 // in fams: src is a text source's key
	srcFirst  = 1 << 31 // in news: the source's first timed probe of any family
	famBits   = 1<<30 - 1
	maxFams   = 30
)

// pairLog is the (bin, source) pairs in the order they were first seen.
// The flags of an entry come from its source's record, which is only
// right while each source's probes come in time order, bin by bin: the
// case for a log, or logs given oldest first. A source that goes back to
// an earlier bin marks the log unordered; the report then sorts it into
// one entry a pair with the flags worked out anew (normalise), and a
// long unordered log is normalised whenever it has doubled, so that it
// holds at most twice as many entries as pairs.
type pairLog struct {
	// The entries, in chunks of pairChunk (but for a normalised first
	// one): a log that grows never copies what it holds, and the
	// memory it touches is what it keeps.
	chunks    [][]pair
	n         int
	unordered bool
	compacted int // length after the last normalisation
}

const pairChunk = 1 << 15

func (l *pairLog) add(p pair) {
	c := len(l.chunks) - 1
	if c < 0 || len(l.chunks[c]) == cap(l.chunks[c]) {
		l.chunks = append(l.chunks, make([]pair, 0, pairChunk))
		c++
	}
	l.chunks[c] = append(l.chunks[c], p)
	l.n++
	if l.unordered && l.n >= 1<<16 && l.n >= 2*l.compacted {
		l.normalise()
	}
}

// normalise sorts the log by source and bin, merges the entries of each
// pair and sets the flags from the sorted order. It leaves the log
// marked unordered: entries added later take their flags from records
// that no longer say which probe came first.
func (l *pairLog) normalise() {
	all := make([]pair, 0, l.n)
	for _, c := range l.chunks {
		all = append(all, c...)
	}
	srcOf := func(p pair) uint64 { return uint64(p.fams&pairText)<<2 | uint64(p.src) }
	slices.SortFunc(all, func(x, y pair) int {
		if c := cmp.Compare(srcOf(x), srcOf(y)); c != 0 {
			return c
		}
		return cmp.Compare(x.bin, y.bin)
	})
	out := all[:0]
	for _, p := range all {
		if n := len(out); n > 0 && srcOf(out[n-1]) == srcOf(p) && out[n-1].bin == p.bin {
			out[n-1].fams |= p.fams & famBits
			continue
		}
		out = append(out, pair{src: p.src, bin: p.bin, fams: p.fams&(famBits|pairText) | pairFirst})
	}
	var seen uint32 // the families of the current source's earlier pairs
	for i := range out {
		p := &out[i]
		if i == 0 || srcOf(out[i-1]) != srcOf(*p) {
			seen = 0
		}
		f := p.fams & famBits
		p.news = f &^ seen
		if seen == 0 {
			p.news |= srcFirst
		}
		seen |= f
	}
	if 4*len(out) < 3*len(all) {
		out = slices.Clone(out)
	}
	l.chunks = [][]pair{slices.Clip(out)}
	l.n, l.compacted = len(out), len(out)
}
