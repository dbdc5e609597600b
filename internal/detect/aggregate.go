package detect

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/wormlab/wormlab/internal/logformat"
	"github.com/wormlab/wormlab/internal/signature"
)

// The aggregate keeps what the report needs in memory that grows with the
// distinct sources and the distinct (bin, source) pairs, never with the
// lines. Its layout is chosen for logs with hundreds of thousands of
// sources (a /16 telescope's worth of Code Red): see sources.go. A
// source's signatures are a bit set in its record, so per-signature and
// per-family source counts need no set of their own. The figure to keep
// is docs/PERFORMANCE.md's bytes per distinct source.

// maxSignatures bounds the signatures a run can tell apart: each source
// records its signatures as bits of a uint64.
const maxSignatures = 64

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
	all        famAgg // every family asked for, together
	pairs      pairLog
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
// source's record, or nil if the line names no client. The caller has
// checked that the family was asked for. It runs for probes only, a small
// share of the lines of most logs, but all of them on a server under
// attack, so a probe costs one access to its source's slot and, once per
// (bin, source) pair, an entry appended to the pair log.
func (a *aggregate) probe(sig int, rec *logformat.Record) *srcRec {
	sa := a.sigs[sig]
	fa := a.fams[sa.fam]
	sa.probes++
	fa.probes++
	a.all.probes++
	s, hasSrc := a.srcs.lookup(rec)
	if hasSrc {
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
		return s
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
		return nil
	}
	fam := uint32(1) << sa.fam
	lastBin := bin
	if s.timed() {
		lastBin = floorDiv(s.last, a.binSecs)
	}
	switch {
	case !s.timed() || t > s.last:
		if bin != lastBin {
			s.binFams = 0
		}
		if !s.timed() {
			s.first = t
		}
		s.last = t
	case t < s.first:
		s.first = t
	}
	p := pair{src: s.key, bin: int32(bin - a.binBase), fams: fam}
	if s.text() {
		p.fams |= pairText
	}
	if bin < lastBin {
		// Back to an earlier bin: binFams is about the last bin, and
		// the report sorts the log out (see pairLog).
		a.pairs.unordered = true
		a.pairs.add(p)
		s.timedFams |= fam
		return s
	}
	// In a log written in time order almost every probe after a source's
	// first in a bin finds its family logged for the bin already.
	if s.binFams&fam == 0 {
		if s.binFams == 0 {
			p.fams |= pairFirst
		}
		if s.timedFams&fam == 0 {
			p.news = fam
			if !s.timed() {
				p.news |= srcFirst
			}
		}
		s.binFams |= fam
		s.timedFams |= fam
		a.pairs.add(p)
	}
	return s
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
