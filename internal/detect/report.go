package detect

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wormlab/wormlab/internal/series"
	"github.com/wormlab/wormlab/internal/version"
)

// Schema names the JSON report's format.
const Schema = "wormlab.detect/v1"

// Report is everything a detection found. It marshals to the JSON that
// `wormlab detect --json` writes. Times are RFC 3339 in UTC; a time that is
// not known (no probe, or a log without time stamps) is omitted. Every
// string taken from a log (host names, quoted lines, file names) has its
// control characters escaped (see printable).
type Report struct {
	Schema       string         `json:"schema"`
	Version      string         `json:"version"`
	Commit       string         `json:"commit"`
	BinSeconds   int64          `json:"bin_seconds"`
	Inputs       []Input        `json:"inputs"`
	Totals       Totals         `json:"totals"`
	Families     []FamStats     `json:"families"`
	Signatures   []SigStats     `json:"signatures"`
	TopSources   []SrcStats     `json:"top_sources"`
	TopBlocks    []Block        `json:"top_slash16"`
	Unparsable   []BadLine      `json:"unparsable_examples"`
	Series       []BinPoint     `json:"series"`        // every family counted, together
	FamilySeries []FamilySeries `json:"family_series"` // one series per family with probes
	HasCountry   bool           `json:"has_country"`
	Countries    []CountryN     `json:"countries,omitempty"`

	agg *aggregate // for WriteSources
}

// Input is one file's share.
type Input struct {
	Name        string           `json:"name"`
	Format      string           `json:"format,omitempty"`      // the format of most of its lines
	Formats     map[string]int64 `json:"formats,omitempty"`     // lines read per format, when there are several
	Compression string           `json:"compression,omitempty"` // gzip, bzip2, xz or zstd, told by magic bytes
	Bytes       int64            `json:"bytes"`                 // read, after decompression
	Lines       int64            `json:"lines"`
	Requests    int64            `json:"requests"`
	Unparsable  int64            `json:"unparsable"`
	TooLong     int64            `json:"too_long"` // lines cut at the length bound
	Probes      int64            `json:"probes"`
	First       string           `json:"first_request,omitempty"`
	Last        string           `json:"last_request,omitempty"`
	Error       string           `json:"error,omitempty"`

	first, last int64
	hasTime     bool
}

func (in *Input) finish() {
	if in.hasTime {
		in.First, in.Last = stamp(in.first), stamp(in.last)
	}
}

// Totals sums the inputs.
type Totals struct {
	Files          int    `json:"files"`
	FailedFiles    int    `json:"failed_files"`
	Lines          int64  `json:"lines"`
	Requests       int64  `json:"requests"`
	Unparsable     int64  `json:"unparsable"`
	TooLong        int64  `json:"too_long"`
	Probes         int64  `json:"probes"`
	Sources        int    `json:"sources"`
	UntimedProbes  int64  `json:"untimed_probes"`   // probes on lines without a time stamp, left out of the series
	NoClientProbes int64  `json:"no_client_probes"` // probes on lines that name no client, in no source count
	OtherProbes    int64  `json:"other_probes"`     // probes of families not asked for (--family), counted nowhere else
	FirstRequest   string `json:"first_request,omitempty"`
	LastRequest    string `json:"last_request,omitempty"`
	FirstProbe     string `json:"first_probe,omitempty"`
	LastProbe      string `json:"last_probe,omitempty"`
}

// FamStats is one family's row: a worm, whichever of its signatures
// matched. A source that sent probes of two of the family's signatures
// counts once.
type FamStats struct {
	Family     string   `json:"family"`
	Signatures []string `json:"signatures"`
	Probes     int64    `json:"probes"`
	Sources    int      `json:"sources"`
	First      string   `json:"first_seen,omitempty"`
	Last       string   `json:"last_seen,omitempty"`
}

// SigStats is one signature's row of the summary table.
type SigStats struct {
	Name      string `json:"name"`
	Family    string `json:"family"`
	Probes    int64  `json:"probes"`
	Sources   int    `json:"sources"`
	First     string `json:"first_seen,omitempty"`
	Last      string `json:"last_seen,omitempty"`
	PeakHour  string `json:"peak_hour,omitempty"` // start of the UTC hour with most probes (the earliest on a tie)
	PeakProbe int64  `json:"peak_hour_probes"`
}

// SrcStats is one source in the top list.
type SrcStats struct {
	Source     string   `json:"source"`
	Probes     int64    `json:"probes"`
	Families   []string `json:"families"`
	Signatures []string `json:"signatures"`
	First      string   `json:"first_seen,omitempty"`
	Last       string   `json:"last_seen,omitempty"`
	Country    string   `json:"country,omitempty"`
}

// Block is one /16 in the top list (IPv4 sources only).
type Block struct {
	Prefix  string `json:"prefix"`
	Probes  int64  `json:"probes"`
	Sources int    `json:"sources"`

	p netip.Prefix
}

// CountryN counts probing sources per country.
type CountryN struct {
	Country string `json:"country"` // "" when the file has no range for the source
	Sources int    `json:"sources"`
	Probes  int64  `json:"probes"`
}

// BadLine quotes an unparsable line.
type BadLine struct {
	File string `json:"file"`
	Line int64  `json:"line"`
	Why  string `json:"why"`
	Text string `json:"text"`
}

// BinPoint is one bin of the observed series; see package series.
type BinPoint struct {
	Minute     int64  `json:"minute"`
	UTC        string `json:"utc"`
	Probes     int64  `json:"probes"`
	Sources    int64  `json:"sources"`
	NewSources int64  `json:"new_sources"`
}

// FamilySeries is one family's observed series.
type FamilySeries struct {
	Family string     `json:"family"`
	Series []BinPoint `json:"series"`
}

func stamp(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }

func (s span) stamps() (string, string) {
	if !s.ok {
		return "", ""
	}
	return stamp(s.first), stamp(s.last)
}

func (a *aggregate) report() *Report {
	a.flushCounts()
	r := &Report{
		Schema:     Schema,
		Version:    version.Version,
		Commit:     version.Commit(),
		BinSeconds: a.binSecs,
		Inputs:     a.inputs,
		Unparsable: a.badShown,
		HasCountry: a.cfg.Country != nil,
		agg:        a,
	}
	if r.Unparsable == nil {
		r.Unparsable = []BadLine{}
	}
	t := &r.Totals
	var reqSpan span
	for _, in := range a.inputs {
		t.Files++
		if in.Error != "" {
			t.FailedFiles++
		}
		t.Lines += in.Lines
		t.Requests += in.Requests
		t.Unparsable += in.Unparsable
		t.TooLong += in.TooLong
		t.Probes += in.Probes
		if in.hasTime {
			reqSpan.add(in.first)
			reqSpan.add(in.last)
		}
	}
	t.FirstRequest, t.LastRequest = reqSpan.stamps()
	t.Sources = a.srcs.len()
	t.UntimedProbes = a.untimed
	t.NoClientProbes = a.noClient
	t.OtherProbes = a.excluded
	t.FirstProbe, t.LastProbe = a.all.seen.stamps()

	// Sources per signature and per family, from each source's bits.
	sigSrc := make([]int, len(a.sigs))
	famSrc := make([]int, len(a.fams))
	for _, src := range a.srcs.each() {
		bits := src.sigs
		for j := range a.sigs {
			if bits&(1<<j) != 0 {
				sigSrc[j]++
			}
		}
		for j, f := range a.fams {
			if bits&f.sigMask != 0 {
				famSrc[j]++
			}
		}
	}
	r.Families = []FamStats{}
	r.FamilySeries = []FamilySeries{}
	for j, f := range a.fams {
		kept := false
		fs := FamStats{Family: f.name, Probes: f.probes, Sources: famSrc[j], Signatures: []string{}}
		for i, sa := range a.sigs {
			if sa.fam == j {
				fs.Signatures = append(fs.Signatures, sa.sig.Name)
				kept = kept || a.keep[i]
			}
		}
		if !kept {
			continue
		}
		fs.First, fs.Last = f.seen.stamps()
		r.Families = append(r.Families, fs)
		if len(f.binProbe) > 0 {
			r.FamilySeries = append(r.FamilySeries, FamilySeries{Family: f.name, Series: a.series(f, j)})
		}
	}
	for i, sa := range a.sigs {
		if !a.keep[i] {
			continue
		}
		st := SigStats{Name: sa.sig.Name, Family: sa.sig.Family, Probes: sa.probes, Sources: sigSrc[i]}
		st.First, st.Last = sa.seen.stamps()
		var peakH int64
		for h, n := range sa.hours {
			if n > st.PeakProbe || (n == st.PeakProbe && h < peakH) {
				st.PeakProbe, peakH = n, h
			}
		}
		if st.PeakProbe > 0 {
			st.PeakHour = stamp(peakH * 3600)
		}
		r.Signatures = append(r.Signatures, st)
	}
	r.TopSources, r.TopBlocks, r.Countries = a.tops()
	r.Series = a.series(&a.all, -1)
	return r
}

// names returns the signatures and families a source's bits name, in the
// order the rules define them.
func (a *aggregate) names(bits uint64) (sigs, fams []string) {
	for i, sa := range a.sigs {
		if bits&(1<<i) != 0 {
			sigs = append(sigs, sa.sig.Name)
		}
	}
	for _, f := range a.fams {
		if bits&f.sigMask != 0 {
			fams = append(fams, f.name)
		}
	}
	return sigs, fams
}

func (a *aggregate) tops() ([]SrcStats, []Block, []CountryN) {
	// Most probes first; ties by address so the report is deterministic.
	better := func(x, y *srcRec) bool {
		if x.probes != y.probes {
			return x.probes > y.probes
		}
		return a.srcs.key(x).compare(a.srcs.key(y)) < 0
	}
	var best []*srcRec // the top sources so far, best first
	var blocks []Block // by the first 16 bits of the address, made at the first IPv4 source
	countries := map[string]*CountryN{}
	for _, s := range a.srcs.each() {
		if k := a.cfg.Top; len(best) < k || better(s, best[k-1]) {
			i, _ := slices.BinarySearchFunc(best, s, func(x, y *srcRec) int {
				if better(x, y) {
					return -1
				}
				return 1
			})
			best = slices.Insert(best, i, s)
			best = best[:min(len(best), k)]
		}
		if !s.text() {
			if blocks == nil {
				blocks = make([]Block, 1<<16)
			}
			b := &blocks[s.key>>16]
			b.Probes += int64(s.probes)
			b.Sources++
		}
		if a.cfg.Country != nil {
			cc := ""
			if addr := a.srcs.key(s).addr(); addr.IsValid() {
				cc = a.cfg.Country(addr)
			}
			c := countries[cc]
			if c == nil {
				c = &CountryN{Country: cc}
				countries[cc] = c
			}
			c.Sources++
			c.Probes += int64(s.probes)
		}
	}
	top := []SrcStats{}
	for _, s := range best {
		k := a.srcs.key(s)
		st := SrcStats{Source: k.String(), Probes: int64(s.probes)}
		st.Signatures, st.Families = a.names(s.sigs)
		if s.timed() {
			st.First, st.Last = stamp(s.first), stamp(s.last)
		}
		if addr := k.addr(); a.cfg.Country != nil && addr.IsValid() {
			st.Country = a.cfg.Country(addr)
		}
		top = append(top, st)
	}
	var bl []*Block
	for i := range blocks {
		if b := &blocks[i]; b.Sources > 0 {
			b.p = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(i >> 8), byte(i)}), 16)
			b.Prefix = b.p.String()
			bl = append(bl, b)
		}
	}
	slices.SortFunc(bl, func(x, y *Block) int {
		if c := cmp.Compare(y.Probes, x.Probes); c != 0 {
			return c
		}
		return x.p.Addr().Compare(y.p.Addr())
	})
	tb := []Block{}
	for _, b := range bl[:min(len(bl), a.cfg.Top)] {
		tb = append(tb, *b)
	}
	var cs []CountryN
	for _, c := range countries {
		cs = append(cs, *c)
	}
	slices.SortFunc(cs, func(x, y CountryN) int {
		if c := cmp.Compare(y.Probes, x.Probes); c != 0 {
			return c
		}
		return strings.Compare(x.Country, y.Country)
	})
	return top, tb, cs
}

// series returns family fam's observed series (or, for fam -1, that of
// every family asked for, a.all), from its first bin with a probe to its
// last, empty bins included, so that minute advances by the bin width. A
// source is new in the bin of its first probe of the family.
func (a *aggregate) series(f *famAgg, fam int) []BinPoint {
	pts := []BinPoint{}
	if len(f.binProbe) == 0 {
		return pts
	}
	lo, hi := int64(0), int64(0)
	first := true
	for b := range f.binProbe {
		if first || b < lo {
			lo = b
		}
		if first || b > hi {
			hi = b
		}
		first = false
	}
	if a.pairs.unordered {
		a.pairs.normalise()
	}
	// In an ordered log the entries of a pair hold disjoint families, and
	// the first carries pairFirst; news marks a source's first pair of a
	// family (see pairLog).
	inPair, isNew := uint32(pairFirst), uint32(srcFirst)
	if fam >= 0 {
		inPair, isNew = 1<<fam, 1<<fam
	}
	n := hi - lo + 1
	sources := make([]int64, n)
	newSrc := make([]int64, n)
	for _, c := range a.pairs.chunks {
		for _, p := range c {
			b := int64(p.bin) + a.binBase - lo
			if p.fams&inPair != 0 {
				sources[b]++
			}
			if p.news&isNew != 0 {
				newSrc[b]++
			}
		}
	}
	for i := int64(0); i < n; i++ {
		start := (lo + i) * a.binSecs
		pts = append(pts, BinPoint{
			Minute:     i * a.binSecs / 60,
			UTC:        stamp(start),
			Probes:     f.binProbe[lo+i],
			Sources:    sources[i],
			NewSources: newSrc[i],
		})
	}
	return pts
}

// ObservedSeries returns the series of every family counted, together,
// in the shared format of package series. Families names them.
func (r *Report) ObservedSeries() series.Series {
	s := toSeries(r.Series)
	for _, f := range r.Families {
		if f.Probes > 0 {
			s.Families = append(s.Families, f.Family)
		}
	}
	return s
}

// FamilyObserved returns one family's series, or false if the family had
// no timed probe.
func (r *Report) FamilyObserved(family string) (series.Series, bool) {
	for _, fs := range r.FamilySeries {
		if fs.Family == family {
			s := toSeries(fs.Series)
			s.Families = []string{family}
			return s, true
		}
	}
	return series.Series{}, false
}

func toSeries(pts []BinPoint) series.Series {
	var s series.Series
	for _, p := range pts {
		t, _ := time.Parse(time.RFC3339, p.UTC)
		s.Points = append(s.Points, series.Point{Minute: p.Minute, UTC: t, Probes: p.Probes, Sources: p.Sources, NewSources: p.NewSources})
	}
	return s
}

// SourcesHeader is the header of the CSV that WriteSources writes.
var SourcesHeader = []string{"source", "families", "signatures", "probes", "first_seen", "last_seen", "country"}

// WriteSources writes every source as CSV, one a line in address order
// (IPv4 first, then IPv6 addresses and host names as text): its families
// and signatures (joined by ';'), its probes, and its first and last
// probe time (empty for a source seen only on lines without a time), and
// its country when the run has a country database. The first column alone
// is a blocklist for fail2ban, CrowdSec or ipset.
func (r *Report) WriteSources(w io.Writer) error {
	a := r.agg
	if a == nil {
		return errors.New("detect: the report does not hold its sources (it was not made by Run)")
	}
	order := a.srcs.each()
	slices.SortFunc(order, func(x, y *srcRec) int { return a.srcs.key(x).compare(a.srcs.key(y)) })
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	head := SourcesHeader
	if a.cfg.Country == nil {
		head = head[:len(head)-1]
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	row := make([]string, len(head))
	for _, s := range order {
		k := a.srcs.key(s)
		sigs, fams := a.names(s.sigs)
		row[0] = k.String()
		row[1] = strings.Join(fams, ";")
		row[2] = strings.Join(sigs, ";")
		row[3] = strconv.FormatUint(uint64(s.probes), 10)
		row[4], row[5] = "", ""
		if s.timed() {
			row[4], row[5] = stamp(s.first), stamp(s.last)
		}
		if a.cfg.Country != nil {
			row[6] = ""
			if addr := k.addr(); addr.IsValid() {
				row[6] = a.cfg.Country(addr)
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the human summary: inputs, the per-signature table, top
// sources and /16s, and examples of unparsable lines.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	p("FILE\tFORMAT\tLINES\tREQUESTS\tUNPARSABLE\tTOO LONG\tPROBES\tSTATUS\n")
	var mixed []Input
	for _, in := range r.Inputs {
		status := "ok"
		if in.Error != "" {
			status = "error: " + in.Error
		}
		format := dash(in.Format)
		if in.Compression != "" {
			format += "+" + in.Compression
		}
		p("%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", in.Name, format, in.Lines, in.Requests, in.Unparsable, in.TooLong, in.Probes, status)
		if len(in.Formats) > 1 {
			mixed = append(mixed, in)
		}
	}
	for _, in := range mixed {
		var fs []string
		for f, n := range in.Formats {
			fs = append(fs, fmt.Sprintf("%s %d", f, n))
		}
		slices.Sort(fs)
		p("(%s: lines per format: %s)\n", in.Name, strings.Join(fs, ", "))
	}
	p("\nFAMILY\tPROBES\tSOURCES\tFIRST SEEN\tLAST SEEN\n")
	for _, f := range r.Families {
		p("%s\t%d\t%d\t%s\t%s\n", f.Family, f.Probes, f.Sources, dash(f.First), dash(f.Last))
	}
	p("\nSIGNATURE\tFAMILY\tPROBES\tSOURCES\tFIRST SEEN\tLAST SEEN\tPEAK/HOUR\tPEAK HOUR\n")
	for _, s := range r.Signatures {
		p("%s\t%s\t%d\t%d\t%s\t%s\t%d\t%s\n", s.Name, s.Family, s.Probes, s.Sources, dash(s.First), dash(s.Last), s.PeakProbe, dash(s.PeakHour))
	}
	t := r.Totals
	p("total\t\t%d\t%d\t%s\t%s\t\t\n", t.Probes, t.Sources, dash(t.FirstProbe), dash(t.LastProbe))
	p("(%d requests from %s to %s)\n", t.Requests, dash(t.FirstRequest), dash(t.LastRequest))
	if t.UntimedProbes > 0 {
		p("(%d probes had no time stamp and are not in the series)\n", t.UntimedProbes)
	}
	if t.NoClientProbes > 0 {
		p("(%d probes were on lines naming no client and are in no source count)\n", t.NoClientProbes)
	}
	if t.OtherProbes > 0 {
		p("(%d probes of other families were left out)\n", t.OtherProbes)
	}
	if len(r.TopSources) > 0 {
		if r.HasCountry {
			p("\nTOP SOURCES\tPROBES\tCOUNTRY\tFIRST SEEN\tLAST SEEN\tFAMILIES\tSIGNATURES\n")
		} else {
			p("\nTOP SOURCES\tPROBES\tFIRST SEEN\tLAST SEEN\tFAMILIES\tSIGNATURES\n")
		}
		for _, s := range r.TopSources {
			if r.HasCountry {
				p("%s\t%d\t%s\t%s\t%s\t%s\t%s\n", s.Source, s.Probes, dash(s.Country), dash(s.First), dash(s.Last), strings.Join(s.Families, ","), strings.Join(s.Signatures, ","))
			} else {
				p("%s\t%d\t%s\t%s\t%s\t%s\n", s.Source, s.Probes, dash(s.First), dash(s.Last), strings.Join(s.Families, ","), strings.Join(s.Signatures, ","))
			}
		}
	}
	if len(r.TopBlocks) > 0 {
		p("\nTOP /16\tPROBES\tSOURCES\n")
		for _, b := range r.TopBlocks {
			p("%s\t%d\t%d\n", b.Prefix, b.Probes, b.Sources)
		}
	}
	if len(r.Countries) > 0 {
		p("\nCOUNTRY\tSOURCES\tPROBES\n")
		for _, c := range r.Countries {
			p("%s\t%d\t%d\n", dash(c.Country), c.Sources, c.Probes)
		}
	}
	if t.Unparsable > 0 {
		p("\n%d unparsable lines", t.Unparsable)
		if len(r.Unparsable) > 0 {
			p("; the first %d:", len(r.Unparsable))
		}
		p("\n")
		for _, b := range r.Unparsable {
			p("  %s:%d: %s: %s\n", b.File, b.Line, b.Why, b.Text)
		}
	}
	if t.TooLong > 0 {
		p("%d lines longer than the bound were cut\n", t.TooLong)
	}
	return tw.Flush()
}
