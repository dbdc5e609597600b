package report

import (
	"fmt"
	"image/color"
	"strconv"
	"time"

	"github.com/wormlab/wormlab/internal/detect"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func detectSection(p, name string, d *detect.Report) *Section {
	t := d.Totals
	s := &Section{ID: p + "detect", Title: "Worm probes found in " + plural(t.Files, "log file")}
	s.Facts = append(s.Facts,
		Fact{"Input", name},
		Fact{"Requests", fmt.Sprintf("%s in %s lines (%s unparsable)", thousands(t.Requests), thousands(t.Lines), thousands(t.Unparsable))},
		Fact{"Probes", fmt.Sprintf("%s from %s sources", thousands(t.Probes), thousands(int64(t.Sources)))},
	)
	if t.FirstProbe != "" {
		s.Facts = append(s.Facts, Fact{"First and last probe", stamp(t.FirstProbe) + " to " + stamp(t.LastProbe)})
	}
	if t.FailedFiles > 0 {
		s.Facts = append(s.Facts, Fact{"Files that failed", strconv.Itoa(t.FailedFiles)})
	}
	obs := d.ObservedSeries()
	if len(obs.Points) > 0 {
		bin := binName(time.Duration(d.BinSeconds) * time.Second)
		times := make([]time.Time, len(obs.Points))
		probes := make([]float64, len(obs.Points))
		sources := make([]float64, len(obs.Points))
		fresh := make([]float64, len(obs.Points))
		for i, pt := range obs.Points {
			times[i] = pt.UTC
			probes[i] = float64(pt.Probes)
			sources[i] = float64(pt.Sources)
			fresh[i] = float64(pt.NewSources)
		}
		xs := unixSeconds(times)
		end := times[len(times)-1].Add(time.Duration(d.BinSeconds) * time.Second)
		pp := newPlot("Worm probes per "+bin, "", "probes per "+bin)
		timeAxis(pp, times[0], end)
		pp.Y.Tick.Marker = countTicks{}
		pp.Y.Min = 0
		addLine(pp, "", xs, probes, colInfected, 1.5, false)
		s.Charts = append(s.Charts, newChart(p+"detect-probes", "Worm probes in the logs per "+bin+" (UTC)", pp))
		sp := newPlot("Probing sources per "+bin, "", "sources per "+bin)
		timeAxis(sp, times[0], end)
		sp.Y.Tick.Marker = countTicks{}
		sp.Y.Min = 0
		addLine(sp, "active in the bin", xs, sources, colSusceptible, 1.5, false)
		addLine(sp, "seen for the first time", xs, fresh, colInfected, 1.5, true)
		s.Charts = append(s.Charts, newChart(p+"detect-sources", "Distinct probing sources per "+bin+", and those seen for the first time (UTC)", sp))
	}
	if c := signatureChart(p+"detect-signatures", d.Signatures); c != nil {
		s.Charts = append(s.Charts, c)
	}
	sig := TextTable{Caption: "Per signature", Head: []string{"signature", "family", "probes", "sources", "first seen", "last seen", "peak hour", "probes in it"},
		Numeric: []bool{false, false, true, true, false, false, false, true}}
	for _, g := range d.Signatures {
		sig.Rows = append(sig.Rows, []string{g.Name, g.Family, thousands(g.Probes), thousands(int64(g.Sources)), stamp(g.First), stamp(g.Last), stamp(g.PeakHour), thousands(g.PeakProbe)})
	}
	s.Tables = append(s.Tables, sig)
	if len(d.TopSources) > 0 {
		ts := TextTable{Caption: "Top sources", Head: []string{"source", "probes", "first seen", "last seen", "signatures"}, Numeric: []bool{false, true}}
		if d.HasCountry {
			ts.Head = append(ts.Head, "country")
		}
		for _, x := range d.TopSources {
			row := []string{x.Source, thousands(x.Probes), stamp(x.First), stamp(x.Last), joinComma(x.Signatures)}
			if d.HasCountry {
				row = append(row, orDash(x.Country))
			}
			ts.Rows = append(ts.Rows, row)
		}
		s.Tables = append(s.Tables, ts)
	}
	if len(d.TopBlocks) > 0 {
		tb := TextTable{Caption: "Top /16 blocks", Head: []string{"/16", "probes", "sources"}, Numeric: []bool{false, true, true}}
		for _, b := range d.TopBlocks {
			tb.Rows = append(tb.Rows, []string{b.Prefix, thousands(b.Probes), thousands(int64(b.Sources))})
		}
		s.Tables = append(s.Tables, tb)
	}
	if len(d.Countries) > 0 {
		tc := TextTable{Caption: "Countries", Head: []string{"country", "sources", "probes"}, Numeric: []bool{false, true, true}}
		for _, c := range d.Countries {
			tc.Rows = append(tc.Rows, []string{orDash(c.Country), thousands(int64(c.Sources)), thousands(c.Probes)})
		}
		s.Tables = append(s.Tables, tc)
	}
	return s
}

// addLegend adds a key entry for a line of colour c and width w points.
func addLegend(p *plot.Plot, name string, c color.Color, w float64) {
	l := &plotter.Line{LineStyle: draw.LineStyle{Color: c, Width: vg.Points(w)}}
	p.Legend.Add(name, l)
}

// addDashedLegend adds a key entry for a dashed line.
func addDashedLegend(p *plot.Plot, name string, c color.Color, w float64) {
	l := &plotter.Line{LineStyle: draw.LineStyle{Color: c, Width: vg.Points(w), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}}
	p.Legend.Add(name, l)
}

// stamp rewrites an RFC 3339 time of a detect report as "2001-07-19
// 00:30:44 UTC", a dash when there is none, and leaves anything else as is.
func stamp(s string) string {
	if s == "" {
		return "-"
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// binName names a bin width as people say it: "minute", "10-minute bin",
// "hour".
func binName(d time.Duration) string {
	switch {
	case d <= 0 || d == time.Minute:
		return "minute"
	case d == time.Hour:
		return "hour"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "-hour bin"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + "-minute bin"
	}
	return d.String() + " bin"
}

func joinComma(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// signatureChart draws probes per signature as bars, or returns nil when no
// signature matched.
func signatureChart(file string, sigs []detect.SigStats) *Chart {
	var vals plotter.Values
	var names []string
	for _, g := range sigs {
		if g.Probes > 0 {
			vals = append(vals, float64(g.Probes))
			names = append(names, g.Name)
		}
	}
	if len(vals) == 0 {
		return nil
	}
	p := newPlot("Probes by signature", "", "probes")
	p.Y.Tick.Marker = countTicks{}
	bars, err := plotter.NewBarChart(vals, vg.Points(28))
	if err != nil {
		return nil
	}
	bars.Color = colInfected
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.NominalX(names...)
	p.X.Tick.Label.Font = labelFont(9)
	return newChart(file, "Probes per signature", p)
}
