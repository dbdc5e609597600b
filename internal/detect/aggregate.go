package detect

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/wormlab/wormlab/internal/logformat"
	"github.com/wormlab/wormlab/internal/signature"
)

// source identifies a client: an address, or the name a log gives when the
// server resolved names (HostnameLookups On). The zero source is a line
// without a client field.
type source struct {
	addr netip.Addr
	name string
}

func (s source) String() string {
	switch {
	case s.addr.IsValid():
		return s.addr.String()
	case s.name != "":
		return s.name
	}
	return "(none)"
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
	probes  int64
	untimed int64
	sources map[source]struct{}
	seen    span
	hours   map[int64]int64 // probes per UTC hour (hour index since the epoch)
}

type srcAgg struct {
	probes int64
	seen   span
	sigs   []int // indexes into aggregate.sigs, in first-seen order
}

// binSource is one source seen in one series bin.
type binSource struct {
	bin int64
	src source
}

// aggregate accumulates everything the report needs. Its memory grows with
// the distinct sources and the distinct (bin, source) pairs, not with the
// number of lines.
type aggregate struct {
	cfg     Config
	rules   *signature.Set
	binSecs int64

	sigIndex map[*signature.Signature]int
	sigs     []*sigAgg
	srcs     map[source]*srcAgg
	binSrc   map[binSource]struct{}
	binProbe map[int64]int64
	untimed  int64

	inputs   []Input
	badShown []BadLine
}

func newAggregate(cfg Config) *aggregate {
	a := &aggregate{
		cfg:      cfg,
		rules:    cfg.Rules,
		binSecs:  int64(cfg.Bin.Seconds()),
		sigIndex: map[*signature.Signature]int{},
		srcs:     map[source]*srcAgg{},
		binSrc:   map[binSource]struct{}{},
		binProbe: map[int64]int64{},
	}
	for i, s := range cfg.Rules.Signatures() {
		a.sigIndex[s] = i
		a.sigs = append(a.sigs, &sigAgg{sig: s, sources: map[source]struct{}{}, hours: map[int64]int64{}})
	}
	return a
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

// probe counts one probe. It runs for probes only, about 1% of the lines
// of a server under attack, so it may allocate.
func (a *aggregate) probe(sig *signature.Signature, rec *logformat.Record) {
	var src source
	switch {
	case rec.IsV4:
		v := rec.V4
		src.addr = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	case len(rec.Host) > 0 && !(len(rec.Host) == 1 && rec.Host[0] == '-'):
		if ad, err := netip.ParseAddr(string(rec.Host)); err == nil {
			src.addr = ad.Unmap()
		} else {
			src.name = strings.ToLower(string(rec.Host))
		}
	}
	i := a.sigIndex[sig]
	sa := a.sigs[i]
	sa.probes++
	sa.sources[src] = struct{}{}
	s := a.srcs[src]
	if s == nil {
		s = &srcAgg{}
		a.srcs[src] = s
	}
	s.probes++
	if !slices.Contains(s.sigs, i) {
		s.sigs = append(s.sigs, i)
	}
	if !rec.HasTime {
		sa.untimed++
		a.untimed++
		return
	}
	t := rec.Time
	sa.seen.add(t)
	sa.hours[floorDiv(t, 3600)]++
	s.seen.add(t)
	bin := floorDiv(t, a.binSecs)
	a.binProbe[bin]++
	a.binSrc[binSource{bin, src}] = struct{}{}
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
	a.badShown = append(a.badShown, BadLine{File: file, Line: line, Why: why, Text: printable(text)})
}

// printable returns b as text with control characters and bytes that are
// not UTF-8 written as \xNN, so that binary junk survives JSON and a
// terminal.
func printable(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if (r == utf8.RuneError && n == 1) || r < 0x20 || r == 0x7f {
			fmt.Fprintf(&sb, "\\x%02x", b[0])
			b = b[1:]
			continue
		}
		sb.Write(b[:n])
		b = b[n:]
	}
	return sb.String()
}
