package report

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"

	"github.com/wormlab/wormlab/internal/sweep"
	"github.com/wormlab/wormlab/internal/version"
)

// Sweep builds the report of a sweep: the outcome against the swept
// value with its 5-95% band (one line per value of a second key), and
// every point's median infected curve overlaid.
func Sweep(f *sweep.File) *Report {
	r := &Report{Title: sweepTitle(f), Version: version.Version, Commit: version.Commit()}
	r.Footer = append(r.Footer, sweepFooter(f))
	r.Sections = append(r.Sections, sweepSection("", f))
	return r
}

func sweepTitle(f *sweep.File) string {
	return "Sweep of " + f.Scenario + " over " + strings.Join(f.Keys, " and ")
}

func sweepFooter(f *sweep.File) string {
	return fmt.Sprintf("wormlab sweep of %s, %d runs a point from seed %d, by wormlab %s (commit %s)", f.Scenario, f.Runs, f.BaseSeed, f.Version, f.Commit)
}

// sweepSection is a sweep's section; p prefixes its ID and chart files
// when the report has other inputs.
func sweepSection(p string, f *sweep.File) *Section {
	s := &Section{ID: p + "sweep", Title: fmt.Sprintf("Sweep: %s, %d points of %d runs", f.Scenario, len(f.Points), f.Runs)}
	s.Intro = "Per point, the median over its runs (line) and the 5% to 95% quantiles (shaded); every point runs the same seeds."
	s.Facts = append(s.Facts, Fact{"Scenario", f.Scenario}, Fact{"Varied", strings.Join(f.Sets, "; ")}, Fact{"Runs a point", strconv.Itoa(f.Runs)}, Fact{"First seed", strconv.FormatUint(f.BaseSeed, 10)})

	key := f.Keys[0]
	xs, unit := sweptAxis(f, key)
	share := newPlot("Infected share at the end against "+key, key+unit, "% of the population")
	share.Y.Min = 0
	for gi, g := range sweepGroups(f) {
		addOutcome(share, f, xs, g, colOther[gi%len(colOther)], false, orText(g.name, "median and 5-95%"))
	}
	s.Charts = append(s.Charts, newChart(p+"sweep-final-share", "Infected share of the population at the end of the run, against "+key+": median (line) and 5-95% of runs (shaded)", share))

	curves := newPlot("Infected hosts (median of the runs) at each point", "hours from the start", "hosts")
	curves.Y.Min = 0
	curves.Y.Tick.Marker = countTicks{}
	for i, p := range f.Points {
		hx := make([]float64, len(p.Infected))
		hy := make([]float64, len(p.Infected))
		for b, q := range p.Infected {
			hx[b], hy[b] = float64(b)*p.StepSeconds/3600, float64(q[1])
		}
		addLine(curves, pointName(f, i), hx, hy, colOther[i%len(colOther)], 1.2, i >= len(colOther))
	}
	s.Charts = append(s.Charts, newChart(p+"sweep-curves", "Median infected count over time at every point of the sweep", curves))

	t := TextTable{Caption: "Per point: median (5% to 95%) of the runs", Head: append(append([]string(nil), f.Keys...), "infected share at the end", "half infected after (min)", "peak new infections a minute")}
	for range f.Keys {
		t.Numeric = append(t.Numeric, true)
	}
	t.Numeric = append(t.Numeric, true, true, true)
	for _, p := range f.Points {
		var row []string
		for _, k := range f.Keys {
			row = append(row, p.Values[k])
		}
		q := p.FinalShare
		h := p.MinutesToHalf
		row = append(row,
			fmt.Sprintf("%.3g%% (%.3g%% to %.3g%%)", 100*q[1], 100*q[0], 100*q[2]),
			fmt.Sprintf("%s (%s to %s)", minutesText(h[1]), minutesText(h[0]), minutesText(h[2])),
			fmt.Sprintf("%.0f (%.0f to %.0f)", p.PeakPerMinute[1], p.PeakPerMinute[0], p.PeakPerMinute[2]))
		t.Rows = append(t.Rows, row)
	}
	s.Tables = append(s.Tables, t)
	return s
}

// addOutcome draws the infected share at the end of a sweep group's
// points against xs, their values of the swept key: the median as a line
// (dashed if asked) over the 5-95% band, under legend in the key.
func addOutcome(p *plot.Plot, f *sweep.File, xs []float64, g sweepGroup, c color.Color, dashed bool, legend string) {
	var x, lo, mid, hi []float64
	for _, i := range g.points {
		q := f.Points[i].FinalShare
		x, lo, mid, hi = append(x, xs[i]), append(lo, 100*q[0]), append(mid, 100*q[1]), append(hi, 100*q[2])
	}
	addBand(p, "", x, lo, hi, c)
	addLine(p, "", x, mid, c, 1.5, dashed)
	addBandLegend(p, legend, c)
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func minutesText(m *float64) string {
	if m == nil {
		return "never"
	}
	return strconv.FormatFloat(*m, 'f', 0, 64)
}

func pointName(f *sweep.File, i int) string {
	var parts []string
	for _, k := range f.Keys {
		parts = append(parts, f.Points[i].Values[k])
	}
	return strings.Join(parts, ", ")
}

// sweptAxis returns each point's value of key as a number, with the
// unit it is in: durations in minutes, numbers as they are, anything
// else as its position among the values.
func sweptAxis(f *sweep.File, key string) ([]float64, string) {
	xs := make([]float64, len(f.Points))
	unit := ""
	seen := map[string]float64{}
	for i, p := range f.Points {
		v := p.Values[key]
		if d, err := time.ParseDuration(v); err == nil {
			xs[i], unit = d.Minutes(), " (minutes)"
			continue
		}
		if x, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(x, 0) {
			xs[i] = x
			continue
		}
		if _, ok := seen[v]; !ok {
			seen[v] = float64(len(seen))
		}
		xs[i], unit = seen[v], " (position)"
	}
	return xs, unit
}
