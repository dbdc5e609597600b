package detect

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/wormlab/wormlab/internal/logformat"
	"github.com/wormlab/wormlab/internal/signature"
)

// The aggregate keeps what the report needs in memory that grows with the
// distinct sources and the distinct (bin, source) pairs, never with the
// lines. Its layout is chosen for logs with hundreds of thousands of
// sources (a /16 telescope's worth of Code Red): a source is a 40-byte
// record in fixed-size chunks (no copy when they grow), found through a
// map from its IPv4 address as a uint32; its signatures are a bit set, so
// per-signature and per-family source counts need no set of their own;
// and the (bin, source) pairs are uint64 keys of one map, whose values are
// the families the source probed for in the bin, as bits. The figure to keep is docs/PERFORMANCE.md's
// bytes per distinct source.

// maxSignatures bounds the signatures a run can tell apart: each source
// records its signatures as bits of a uint64.
const maxSignatures = 64

// srcRec is one source's figures, in 40 bytes.
type srcRec struct {
	first, last int64  // first and last probe time (valid when timed)
	sigs        uint64 // bit i: sent a probe of signature i
	probes      uint32 // probes, timed or not (saturating)
	v4          uint32 // the address, for an IPv4 source
	lastBin     int32  // the bin whose pairs binFams records, as an offset from binBase
	binFams     uint32 // bit f: the pair (lastBin, this source) holds family f in aggregate.pairs; bit 31: see timedBit
}

const (
	timedBit = 31 // the source has a timed probe: first and last are set
	pairBits = 1<<timedBit - 1
	maxFams  = timedBit
)

func (s *srcRec) timed() bool { return s.binFams&(1<<timedBit) != 0 }

// chunkSize is the number of records in one chunk of the source table.
const chunkSize = 4096

// sourceTable gives each distinct source an index and a record.
type sourceTable struct {
	v4     map[uint32]uint32 // IPv4 address to index
	other  map[string]uint32 // IPv6 addresses and host names, as text, to index
	text   map[uint32]string // index to text, for the sources in other
	n      uint32
	chunks []*[chunkSize]srcRec
}

// sourceKey is a source's identity: an IPv4 address, or text (an IPv6
// address or a host name as logged, escaped for printing).
type sourceKey struct {
	v4   uint32
	text string // "" for IPv4
}

func newSourceTable() *sourceTable {
	return &sourceTable{v4: map[uint32]uint32{}, other: map[string]uint32{}, text: map[uint32]string{}}
}

func (t *sourceTable) len() int { return int(t.n) }

func (t *sourceTable) rec(i uint32) *srcRec { return &t.chunks[i/chunkSize][i%chunkSize] }

// key returns source i's identity.
func (t *sourceTable) key(i uint32) sourceKey {
	if text, ok := t.text[i]; ok {
		return sourceKey{text: text}
	}
	return sourceKey{v4: t.rec(i).v4}
}

func (t *sourceTable) add() uint32 {
	i := t.n
	if i%chunkSize == 0 {
		t.chunks = append(t.chunks, new([chunkSize]srcRec))
	}
	t.n++
	return i
}

func (t *sourceTable) addV4(v uint32) uint32 {
	i, ok := t.v4[v]
	if !ok {
		i = t.add()
		t.rec(i).v4 = v
		t.v4[v] = i
	}
	return i
}

// lookup returns the index of the source a record names, adding it if
// new, and false when the line names no client.
func (t *sourceTable) lookup(rec *logformat.Record) (uint32, bool) {
	if rec.IsV4 {
		return t.addV4(rec.V4), true
	}
	h := rec.Host
	if len(h) == 0 || (len(h) == 1 && h[0] == '-') {
		return 0, false
	}
	var text string
	if a, err := netip.ParseAddr(string(h)); err == nil {
		a = a.Unmap()
		if a.Is4() {
			b := a.As4()
			return t.addV4(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])), true
		}
		text = a.String()
	} else {
		text = printable([]byte(strings.ToLower(string(h))))
	}
	i, ok := t.other[text]
	if !ok {
		i = t.add()
		t.other[text] = i
		t.text[i] = text
	}
	return i, true
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

// span is a first and last time, in seconds since the epoch.
type span struct {
	first, last int64
	ok          bool
}

func (s *span) add(t int64) {
	if !s.ok || t < s.first {
		s.first = t
	}
	if !s.ok || t > s.last {
		s.last = t
	}
	s.ok = true
}

type sigAgg struct {
	sig     *signature.Signature
	fam     int // index into aggregate.fams
	probes  int64
	untimed int64
	seen    span
	hours   map[int64]int64 // probes per UTC hour (hour index since the epoch)
}

// famAgg is one family's share: its own series, so that a fit never mixes
// worms.
type famAgg struct {
	name     string
	sigMask  uint64 // the family's signatures
	probes   int64
	untimed  int64
	seen     span
	binProbe map[int64]int64
}

// pairKey packs a bin and a source index: bins are offsets from the first
// timed probe's bin, biased into 32 bits (a log would need 40,000 years
// of one-minute bins to overflow them).
func (a *aggregate) pairKey(bin int64, src uint32) uint64 {
	return uint64(uint32(bin-a.binBase+1<<31))<<32 | uint64(src)
}

func (a *aggregate) pairBin(k uint64) int64 { return int64(k>>32) - 1<<31 + a.binBase }

// aggregate accumulates everything the report needs.
type aggregate struct {
	cfg     Config
	rules   *signature.Set
	binSecs int64

	sigIndex map[*signature.Signature]int
	sigs     []*sigAgg
	fams     []*famAgg
	keep     []bool // by signature: its family was asked for

	srcs       *sourceTable
	all        famAgg            // every family asked for, together
	pairs      map[uint64]uint32 // (bin, source) pairs (see pairKey) to the families the source probed for in the bin, as bits
	binBase    int64
	hasBase    bool
	untimed    int64
	noClient   int64
	excluded   int64
	lastSigAgg *sigAgg

	inputs   []Input
	badShown []BadLine

	// The counts of the current bin and hour; see count.
	curBin, curHour int64
	binCount        []int64 // by family
	hourCount       []int64 // by signature
}

func newAggregate(cfg Config) (*aggregate, error) {
	a := &aggregate{
		cfg:      cfg,
		rules:    cfg.Rules,
		binSecs:  int64(cfg.Bin.Seconds()),
		sigIndex: map[*signature.Signature]int{},
		srcs:     newSourceTable(),
		all:      famAgg{binProbe: map[int64]int64{}},
		pairs:    map[uint64]uint32{},
	}
	sigs := cfg.Rules.Signatures()
	if len(sigs) > maxSignatures {
		return nil, fmt.Errorf("%d signatures: at most %d can be told apart in one run", len(sigs), maxSignatures)
	}
	famIndex := map[string]int{}
	for i, s := range sigs {
		f, ok := famIndex[s.Family]
		if !ok {
			f = len(a.fams)
			famIndex[s.Family] = f
			a.fams = append(a.fams, &famAgg{name: s.Family, binProbe: map[int64]int64{}})
		}
		a.fams[f].sigMask |= 1 << i
		a.sigIndex[s] = i
		a.sigs = append(a.sigs, &sigAgg{sig: s, fam: f, hours: map[int64]int64{}})
	}
	if len(a.fams) > maxFams {
		return nil, fmt.Errorf("%d families: at most %d can be told apart in one run", len(a.fams), maxFams)
	}
	a.keep = make([]bool, len(sigs))
	if len(cfg.Families) == 0 {
		for i := range a.keep {
			a.keep[i] = true
		}
	} else {
		var known []string
		for _, f := range a.fams {
			known = append(known, f.name)
		}
		for _, name := range cfg.Families {
			f, ok := famIndex[name]
			if !ok {
				return nil, fmt.Errorf("unknown family %q (the signatures name %s)", name, strings.Join(known, ", "))
			}
			for i, s := range a.sigs {
				if s.fam == f {
					a.keep[i] = true
				}
			}
		}
	}
	return a, nil
}

// floorDiv divides rounding toward minus infinity, so times before 1970
// fall in the right bin.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// probe counts one probe of signature sig (an index) and returns its
// source's index, or false if the line names no client. The caller has
// checked that the family was asked for. It runs for probes only, a small share of the lines of
// most logs, but all of them on a server under attack, so it keeps to
// map lookups on small keys.
func (a *aggregate) probe(sig int, rec *logformat.Record) (uint32, bool) {
	sa := a.sigs[sig]
	fa := a.fams[sa.fam]
	sa.probes++
	fa.probes++
	a.all.probes++
	src, hasSrc := a.srcs.lookup(rec)
	var s *srcRec
	if hasSrc {
		s = a.srcs.rec(src)
		if s.probes < math.MaxUint32 {
			s.probes++
		}
		s.sigs |= 1 << sig
	} else {
		a.noClient++
	}
	if !rec.HasTime {
		sa.untimed++
		fa.untimed++
		a.untimed++
		return src, hasSrc
	}
	t := rec.Time
	sa.seen.add(t)
	fa.seen.add(t)
	a.all.seen.add(t)
	bin := floorDiv(t, a.binSecs)
	if !a.hasBase {
		a.binBase, a.hasBase = bin, true
	}
	a.count(sig, sa.fam, bin, floorDiv(t, 3600))
	if !hasSrc {
		return src, false
	}
	if !s.timed() || t < s.first {
		s.first = t
	}
	if !s.timed() || t > s.last {
		s.last = t
	}
	// The pair sets are the truth; binFams only skips inserting a pair
	// already there, which in a log written in time order is almost
	// every probe after a source's first in a bin.
	if rel := int32(bin - a.binBase); s.lastBin != rel || s.binFams&pairBits == 0 {
		s.lastBin, s.binFams = rel, 0
	}
	s.binFams |= 1 << timedBit
	if s.binFams&(1<<sa.fam) == 0 {
		a.pairs[a.pairKey(bin, src)] |= 1 << sa.fam
		s.binFams |= 1 << sa.fam
	}
	return src, true
}

// count adds a probe to its bin and hour. A log is written in time order,
// so nearly every probe falls in the bin and hour of the one before: the
// counts for the current bin and hour are kept in slices, and go to the
// maps only when the bin or hour changes (and before a report).
func (a *aggregate) count(sig, fam int, bin, hour int64) {
	if bin != a.curBin || hour != a.curHour || a.binCount == nil {
		a.flushCounts()
		a.curBin, a.curHour = bin, hour
	}
	a.binCount[fam]++
	a.hourCount[sig]++
}

// flushCounts moves the current bin's and hour's counts to the maps.
func (a *aggregate) flushCounts() {
	if a.binCount == nil {
		a.binCount = make([]int64, len(a.fams))
		a.hourCount = make([]int64, len(a.sigs))
		return
	}
	for f, n := range a.binCount {
		if n > 0 {
			a.fams[f].binProbe[a.curBin] += n
			a.all.binProbe[a.curBin] += n
			a.binCount[f] = 0
		}
	}
	for i, n := range a.hourCount {
		if n > 0 {
			a.sigs[i].hours[a.curHour] += n
			a.hourCount[i] = 0
		}
	}
}

// maxLineShown is how much of an unparsable line the report quotes.
const maxLineShown = 160

func (a *aggregate) bad(file string, line int64, why string, text []byte) {
	if len(a.badShown) >= a.cfg.Show {
		return
	}
	if len(text) > maxLineShown {
		text = text[:maxLineShown]
	}
	a.badShown = append(a.badShown, BadLine{File: printable([]byte(file)), Line: line, Why: why, Text: printable(text)})
}

// printable returns b as text with control characters (C0, DEL and the C1
// controls U+0080 to U+009F, which some terminals obey) and bytes that are
// not UTF-8 written as \xNN or \u00NN, so that a log line cannot move the
// cursor, retitle the window or clear the screen of whoever reads the
// report, and binary junk survives JSON.
func printable(b []byte) string {
	clean := true
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '\\' {
			clean = false
			break
		}
	}
	if clean {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case (r == utf8.RuneError && n == 1) || r < 0x20 || r == 0x7f:
			fmt.Fprintf(&sb, "\\x%02x", b[0])
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&sb, "\\u%04x", r)
		case r == '\\':
			sb.WriteString(`\\`)
		default:
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}
