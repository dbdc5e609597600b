package report

import (
	"fmt"
	"image/color"
	"math"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// observerGroup is one chart of an observer whose columns are known: the
// columns it draws, in order, and the unit they share.
type observerGroup struct {
	title, unit string
	cols        []string
	// perSecond names the columns that count per bin, drawn divided by
	// the bin length in seconds.
	perSecond map[string]bool
}

// knownObservers lays out the observers whose fields are known, by kind.
// Columns of theirs not named here, and every column of other kinds, are
// drawn together on one more chart.
var knownObservers = map[string][]observerGroup{
	"block_load": {
		{title: "Probes a second arriving at %s", unit: "probes per second", cols: []string{"probes_per_s", "probes"}, perSecond: map[string]bool{"probes": true}},
		{title: "Infected hosts whose probes reach %s", unit: "hosts", cols: []string{"sources", "senders"}},
		{title: "Vulnerable hosts inside %s", unit: "hosts", cols: []string{"block_susceptible", "block_infected", "block_patched", "block_removed"}},
	},
	"telescope": {
		{title: "Sources seen by the telescope %s, against the truth", unit: "hosts", cols: []string{"seen", "infected"}},
		{title: "Probes reaching the telescope %s", unit: "probes per {bin}", cols: []string{"probes"}},
		{title: "Sources probing the telescope %s", unit: "sources per {bin}", cols: []string{"sources", "new_sources"}},
	},
	"flood": {
		{title: "Flood packets a second arriving at %s", unit: "packets per second", cols: []string{"packets_per_s"}},
		{title: "Infected hosts flooding %s", unit: "hosts", cols: []string{"hosts"}},
	},
}

// columnLegend names a known column for a legend.
var columnLegend = map[string]string{
	"probes_per_s":      "expected",
	"probes":            "sampled count / bin length",
	"sources":           "distinct sources in the bin (expected)",
	"senders":           "infected hosts able to reach it",
	"block_susceptible": "susceptible",
	"block_infected":    "infected",
	"block_patched":     "patched",
	"block_removed":     "removed",
	"packets_per_s":     "packets per second",
	"telescope.sources": "active in the bin",
	"seen":              "distinct sources seen so far",
	"infected":          "infected hosts (truth)",
	"new_sources":       "seen for the first time",
	"hosts":             "hosts flooding",
}

func observerSection(id string, o Observer, run *Run) *Section {
	if o.Kind == "census" && len(o.Tables) == 1 {
		if s := censusSection(id, o.Tables[0]); s != nil {
			return s
		}
	}
	title := humanName(o.Kind)
	if o.Label != "" {
		title += " " + o.Label
	}
	s := &Section{ID: id, Title: "Observer: " + title}
	telescope := containsWord(o.Kind, "telescope")
	switch {
	case o.Kind == "telescope":
		s.Intro = "What a dark block saw: the distinct sources it has seen so far against the true number of infected hosts (the telescope method's estimate and what it estimates), the probes reaching it, and the sources per bin."
	case telescope:
		s.Intro = "What the telescope saw, with the true infected count of the run for comparison."
	case o.Kind == "flood":
		s.Intro = "The flood at the target on the days the calendar sends every infected host's packets there: packets a second arriving, and how many hosts send them."
	case o.Kind == "block_load":
		s.Intro = "The load a worm puts on one operator's block: probes a second arriving (expected from the rates, and a sampled count as a counter would show it), how many infected hosts send them, and the block's own vulnerable hosts."
	}
	binSeconds := run.StepSeconds
	if binSeconds <= 0 {
		binSeconds = 60
	}
	n := 0
	for _, t := range o.Tables {
		xs := unixSeconds(t.Times)
		byName := map[string]Column{}
		for _, c := range t.Columns {
			byName[c.Name] = c
		}
		draw := func(g observerGroup, cols []Column, truth bool) {
			if len(cols) == 0 {
				return
			}
			if strings.Contains(g.title, "%s") {
				g.title = fmt.Sprintf(g.title, orDash(o.Label))
			}
			unit := strings.ReplaceAll(g.unit, "{bin}", binName(time.Duration(binSeconds*float64(time.Second))))
			p := newPlot(g.title, "", unit)
			timeAxis(p, t.Times[0], t.Times[len(t.Times)-1])
			p.Y.Tick.Marker = countTicks{}
			p.Y.Min = math.Min(0, minOf(cols[0].Values))
			// The first column is the one the chart is about: drawn last, so
			// on top, and thicker; the key lists the columns in order.
			type drawn struct {
				name string
				line []float64
				col  color.Color
				w    float64
			}
			var lines []drawn
			for ci, c := range cols {
				ys := c.Values
				if g.perSecond[c.Name] {
					ys = make([]float64, len(c.Values))
					for i, v := range c.Values {
						ys[i] = v / binSeconds
					}
				}
				name := columnLegend[o.Kind+"."+c.Name]
				if name == "" {
					name = columnLegend[c.Name]
				}
				if name == "" {
					name = humanLower(c.Name)
				}
				col := colOther[ci%len(colOther)]
				if st := strings.TrimPrefix(c.Name, "block_"); stateOrder(st) < 4 {
					col = quantityColor(st, ci)
				}
				w := 1.2
				if ci == 0 && len(cols) > 1 {
					w = 2.2
				}
				lines = append(lines, drawn{name, ys, col, w})
			}
			// The truth, when an observer carries it, goes on top of all,
			// dashed, so that it shows even where the view matches it.
			isTruth := func(l drawn) bool { return strings.Contains(l.name, "(truth)") }
			for i := len(lines) - 1; i >= 0; i-- {
				if !isTruth(lines[i]) {
					addLine(p, "", xs, lines[i].line, lines[i].col, lines[i].w, false)
				}
			}
			for _, l := range lines {
				if isTruth(l) {
					addLine(p, "", xs, l.line, colFit, 1.2, true)
					addDashedLegend(p, l.name, colFit, 1.2)
				} else {
					addLegend(p, l.name, l.col, l.w)
				}
			}
			if truth {
				ys := make([]float64, len(run.Series))
				for i, row := range run.Series {
					ys[i] = float64(row.Infected)
				}
				addLine(p, "infected (truth)", runXY(run), ys, colInfected, 2, true)
			}
			if len(cols) == 1 && !truth {
				p.Legend = plot.NewLegend() // one line needs no key
			}
			n++
			s.Charts = append(s.Charts, newChart(fmt.Sprintf("%s-%d", id, n), g.title+", over time (UTC)", p))
		}
		used := map[string]bool{}
		for _, g := range knownObservers[o.Kind] {
			var cols []Column
			nonZero := false
			for _, name := range g.cols {
				if c, ok := byName[name]; ok && !(stateOrder(strings.TrimPrefix(name, "block_")) >= 2 && allZero(c.Values)) {
					cols = append(cols, c)
					nonZero = nonZero || !allZero(c.Values)
				}
				used[name] = true
			}
			if nonZero { // a block with no vulnerable hosts gets no chart of them
				draw(g, cols, false)
			}
		}
		var rest []Column
		for _, c := range t.Columns {
			if !used[c.Name] {
				rest = append(rest, c)
			}
		}
		groups := byMagnitude(rest)
		// The true infected count goes on the chart whose scale is
		// nearest to it, where a reader can compare the two.
		truthAt := -1
		if telescope && len(groups) > 0 {
			var infMax float64
			for _, row := range run.Series {
				infMax = math.Max(infMax, float64(row.Infected))
			}
			best := math.Inf(1)
			for gi, g := range groups {
				if d := math.Abs(math.Log10(math.Max(maxOf(g[0].Values), 1) / math.Max(infMax, 1))); d < best {
					best, truthAt = d, gi
				}
			}
		}
		for gi, g := range groups {
			unit := "count per bin (see legend)"
			name := humanLower(t.Name)
			if len(g) == 1 {
				unit = unitOf(g[0].Name)
				name = humanLower(g[0].Name)
			}
			draw(observerGroup{title: title + ": " + name, unit: unit}, g, gi == truthAt)
		}
	}
	return s
}

// byMagnitude splits columns into groups whose largest values are within a
// factor of 10 of each other, so that no line is flattened against the
// axis by a larger one; columns keep their order within a group.
func byMagnitude(cols []Column) [][]Column {
	var groups [][]Column
	var tops []float64
	for _, c := range cols {
		m := math.Max(maxOf(c.Values), 1e-300)
		placed := false
		for gi, top := range tops {
			if m <= 10*top && top <= 10*m {
				groups[gi] = append(groups[gi], c)
				placed = true
				break
			}
		}
		if !placed {
			groups = append(groups, []Column{c})
			tops = append(tops, m)
		}
	}
	return groups
}

// maxOf returns the largest number in xs that is not NaN, or 0.
func maxOf(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		if x > m {
			m = x
		}
	}
	if math.IsInf(m, -1) {
		return 0
	}
	return m
}

// censusSection shows the censuses of a run: a table always, and the share
// of servers found unprotected with its 95% interval over time when there
// are several. It returns nil when the table lacks the census's columns.
func censusSection(id string, t Table) *Section {
	col := map[string][]float64{}
	for _, c := range t.Columns {
		col[c.Name] = c.Values
	}
	share, lo, hi := col["share_unprotected"], col["low"], col["high"]
	if share == nil || lo == nil || hi == nil {
		return nil
	}
	s := &Section{ID: id, Title: "Observer: census"}
	s.Intro = "Servers sampled at random at given times, as the census of 20,000 systems in 2001 did, and the share of them found unprotected (susceptible or infected), with its 95% Wilson interval."
	tab := TextTable{Caption: "Censuses", Head: []string{"time (UTC)", "servers sampled", "unprotected", "infected", "share unprotected (95% interval)"},
		Numeric: []bool{false, true, true, true, true}}
	cell := func(name string, i int) string {
		if v := col[name]; v != nil && !math.IsNaN(v[i]) {
			return thousands(int64(v[i]))
		}
		return "-"
	}
	for i, at := range t.Times {
		tab.Rows = append(tab.Rows, []string{at.UTC().Format(ts), cell("sample", i), cell("unprotected", i), cell("infected", i),
			fmt.Sprintf("%.2f%% (%.2f%% to %.2f%%)", 100*share[i], 100*lo[i], 100*hi[i])})
	}
	s.Tables = append(s.Tables, tab)
	if len(t.Times) < 2 {
		return s
	}
	pct := func(xs []float64) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = 100 * x
		}
		return out
	}
	xs := unixSeconds(t.Times)
	p := newPlot("Servers found unprotected by the census", "", "unprotected (% of servers sampled)")
	timeAxis(p, t.Times[0], t.Times[len(t.Times)-1])
	p.Y.Tick.Marker = countTicks{}
	p.Y.Min = 0
	addBand(p, "95% interval", xs, pct(lo), pct(hi), colSusceptible)
	addLine(p, "share unprotected", xs, pct(share), colSusceptible, 2, false)
	if sc, err := plotter.NewScatter(xyOf(xs, pct(share))); err == nil {
		sc.GlyphStyle.Color = colSusceptible
		sc.GlyphStyle.Radius = vg.Points(3)
		p.Add(sc)
	}
	s.Charts = append(s.Charts, newChart(id+"-1", "Share of sampled servers unprotected at each census, with its 95% interval (UTC)", p))
	return s
}

func xyOf(xs, ys []float64) plotter.XYs {
	out := make(plotter.XYs, 0, len(xs))
	for i := range xs {
		if !math.IsNaN(ys[i]) {
			out = append(out, plotter.XY{X: xs[i], Y: ys[i]})
		}
	}
	return out
}
