package detect

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
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
// not known (no probe, or a log without time stamps) is omitted.
type Report struct {
	Schema     string     `json:"schema"`
	Version    string     `json:"version"`
	Commit     string     `json:"commit"`
	BinSeconds int64      `json:"bin_seconds"`
	Inputs     []Input    `json:"inputs"`
	Totals     Totals     `json:"totals"`
	Signatures []SigStats `json:"signatures"`
	TopSources []SrcStats `json:"top_sources"`
	TopBlocks  []Block    `json:"top_slash16"`
	Unparsable []BadLine  `json:"unparsable_examples"`
	Series     []BinPoint `json:"series"`
	HasCountry bool       `json:"has_country"`
	Countries  []CountryN `json:"countries,omitempty"`
}

// Input is one file's share.
type Input struct {
	Name        string `json:"name"`
	Format      string `json:"format,omitempty"`
	Compression string `json:"compression,omitempty"` // gzip, bzip2, xz or zstd, told by magic bytes
	Bytes       int64  `json:"bytes"`                 // read, after decompression
	Lines       int64  `json:"lines"`
	Requests    int64  `json:"requests"`
	Unparsable  int64  `json:"unparsable"`
	TooLong     int64  `json:"too_long"` // lines cut at the length bound
	Probes      int64  `json:"probes"`
	First       string `json:"first_request,omitempty"`
	Last        string `json:"last_request,omitempty"`
	Error       string `json:"error,omitempty"`

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
	Files         int    `json:"files"`
	FailedFiles   int    `json:"failed_files"`
	Lines         int64  `json:"lines"`
	Requests      int64  `json:"requests"`
	Unparsable    int64  `json:"unparsable"`
	TooLong       int64  `json:"too_long"`
	Probes        int64  `json:"probes"`
	Sources       int    `json:"sources"`
	UntimedProbes int64  `json:"untimed_probes"` // probes on lines without a time stamp, left out of the series
	FirstRequest  string `json:"first_request,omitempty"`
	LastRequest   string `json:"last_request,omitempty"`
	FirstProbe    string `json:"first_probe,omitempty"`
	LastProbe     string `json:"last_probe,omitempty"`
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

func stamp(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }

func (a *aggregate) report() *Report {
	r := &Report{
		Schema:     Schema,
		Version:    version.Version,
		Commit:     version.Commit(),
		BinSeconds: a.binSecs,
		Inputs:     a.inputs,
		Unparsable: a.badShown,
		HasCountry: a.cfg.Country != nil,
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
	if reqSpan.ok {
		t.FirstRequest, t.LastRequest = stamp(reqSpan.first), stamp(reqSpan.last)
	}
	t.Sources = len(a.srcs)
	t.UntimedProbes = a.untimed

	var probeSpan span
	for _, sa := range a.sigs {
		if sa.seen.ok {
			probeSpan.add(sa.seen.first)
			probeSpan.add(sa.seen.last)
		}
		st := SigStats{Name: sa.sig.Name, Family: sa.sig.Family, Probes: sa.probes, Sources: len(sa.sources)}
		if sa.seen.ok {
			st.First, st.Last = stamp(sa.seen.first), stamp(sa.seen.last)
		}
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

	if probeSpan.ok {
		t.FirstProbe, t.LastProbe = stamp(probeSpan.first), stamp(probeSpan.last)
	}
	r.TopSources, r.TopBlocks, r.Countries = a.tops()
	r.Series = a.series()
	return r
}

func (a *aggregate) tops() ([]SrcStats, []Block, []CountryN) {
	type kv struct {
		src source
		agg *srcAgg
	}
	all := make([]kv, 0, len(a.srcs))
	blocks := map[netip.Prefix]*Block{}
	countries := map[string]*CountryN{}
	for s, sa := range a.srcs {
		all = append(all, kv{s, sa})
		if s.addr.Is4() {
			p, _ := s.addr.Prefix(16)
			b := blocks[p]
			if b == nil {
				b = &Block{Prefix: p.String(), p: p}
				blocks[p] = b
			}
			b.Probes += sa.probes
			b.Sources++
		}
		if a.cfg.Country != nil {
			cc := ""
			if s.addr.IsValid() {
				cc = a.cfg.Country(s.addr)
			}
			c := countries[cc]
			if c == nil {
				c = &CountryN{Country: cc}
				countries[cc] = c
			}
			c.Sources++
			c.Probes += sa.probes
		}
	}
	// Most probes first; ties by address so the report is deterministic.
	slices.SortFunc(all, func(x, y kv) int {
		if c := cmp.Compare(y.agg.probes, x.agg.probes); c != 0 {
			return c
		}
		if c := x.src.addr.Compare(y.src.addr); c != 0 {
			return c
		}
		return strings.Compare(x.src.name, y.src.name)
	})
	top := []SrcStats{}
	for _, x := range all[:min(len(all), a.cfg.Top)] {
		st := SrcStats{Source: x.src.String(), Probes: x.agg.probes}
		for _, i := range x.agg.sigs {
			st.Signatures = append(st.Signatures, a.sigs[i].sig.Name)
		}
		if x.agg.seen.ok {
			st.First, st.Last = stamp(x.agg.seen.first), stamp(x.agg.seen.last)
		}
		if a.cfg.Country != nil && x.src.addr.IsValid() {
			st.Country = a.cfg.Country(x.src.addr)
		}
		top = append(top, st)
	}
	bl := make([]*Block, 0, len(blocks))
	for _, b := range blocks {
		bl = append(bl, b)
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

// series returns the observed series from the first bin with a probe to the
// last, empty bins included, so that minute advances by the bin width.
func (a *aggregate) series() []BinPoint {
	pts := []BinPoint{}
	if len(a.binProbe) == 0 {
		return pts
	}
	lo, hi := int64(0), int64(0)
	first := true
	for b := range a.binProbe {
		if first || b < lo {
			lo = b
		}
		if first || b > hi {
			hi = b
		}
		first = false
	}
	n := hi - lo + 1
	sources := make([]int64, n)
	for bs := range a.binSrc {
		sources[bs.bin-lo]++
	}
	newSrc := make([]int64, n)
	for _, s := range a.srcs {
		if s.seen.ok {
			newSrc[floorDiv(s.seen.first, a.binSecs)-lo]++
		}
	}
	for i := int64(0); i < n; i++ {
		start := (lo + i) * a.binSecs
		pts = append(pts, BinPoint{
			Minute:     i * a.binSecs / 60,
			UTC:        stamp(start),
			Probes:     a.binProbe[lo+i],
			Sources:    sources[i],
			NewSources: newSrc[i],
		})
	}
	return pts
}

// ObservedSeries returns the series in the shared format of package series.
func (r *Report) ObservedSeries() series.Series {
	var s series.Series
	var first time.Time
	for i, p := range r.Series {
		t, _ := time.Parse(time.RFC3339, p.UTC)
		if i == 0 {
			first = t
		}
		// From the times rather than p.Minute, which repeats when bins are
		// shorter than a minute.
		pt := series.PointAt(t.Sub(first))
		pt.UTC, pt.Probes, pt.Sources, pt.NewSources = t, p.Probes, p.Sources, p.NewSources
		s.Points = append(s.Points, pt)
	}
	return s
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
	if len(r.TopSources) > 0 {
		if r.HasCountry {
			p("\nTOP SOURCES\tPROBES\tCOUNTRY\tFIRST SEEN\tLAST SEEN\tSIGNATURES\n")
		} else {
			p("\nTOP SOURCES\tPROBES\tFIRST SEEN\tLAST SEEN\tSIGNATURES\n")
		}
		for _, s := range r.TopSources {
			if r.HasCountry {
				p("%s\t%d\t%s\t%s\t%s\t%s\n", s.Source, s.Probes, dash(s.Country), dash(s.First), dash(s.Last), strings.Join(s.Signatures, ","))
			} else {
				p("%s\t%d\t%s\t%s\t%s\n", s.Source, s.Probes, dash(s.First), dash(s.Last), strings.Join(s.Signatures, ","))
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
