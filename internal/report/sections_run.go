package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

const ts = "2006-01-02 15:04 UTC"

func runSections(p, name string, run *Run) []*Section {
	rec, sum := run.Record, run.Summary
	s := &Section{ID: p + "run", Title: "Run: " + rec.Scenario.Name + " (seed " + strconv.FormatUint(rec.Seed, 10) + ")"}
	s.Intro = rec.Scenario.Description
	first, last := rec.Series[0].UTC, rec.Series[len(rec.Series)-1].UTC
	s.Facts = append(s.Facts,
		Fact{"Input", name},
		Fact{"Vulnerable hosts", thousands(int64(sum.Population))},
		Fact{"Simulated", first.UTC().Format(ts) + " to " + last.UTC().Format(ts) + ", " + rec.Engine + " engine"},
	)
	for _, cp := range sum.Checkpoints {
		s.Facts = append(s.Facts, Fact{"Infected at " + cp.UTC.UTC().Format(ts) + " (+" + shortDuration(cp.After) + ")", thousands(cp.Infected)})
	}
	if sum.Population > 0 {
		s.Facts = append(s.Facts, Fact{"Infected at the end", fmt.Sprintf("%s (%.1f%%)", thousands(sum.Final.Infected), 100*float64(sum.Final.Infected)/float64(sum.Population))})
	}
	if sum.PeakPerMinute > 0 {
		s.Facts = append(s.Facts, Fact{"Peak new infections", fmt.Sprintf("%s a minute, in the bin ending %s", shortFloat(sum.PeakPerMinute), sum.PeakAt.UTC().Format(ts))})
	}
	if l := sum.Logistic; l != nil {
		s.Facts = append(s.Facts, Fact{"Logistic fit", fmt.Sprintf("K = %.2f per hour, midpoint T = %s", l.KPerHour, l.T.UTC().Format(ts))})
	}
	s.Facts = append(s.Facts, Fact{"Infections, probes", thousands(sum.Infections) + " infections, " + thousands(sum.Probes) + " probes"})

	s.Charts = append(s.Charts, statesChart(p+"states", run), newInfectionsChart(p+"new-infections", run))
	if c := logisticChart(p+"logistic", run); c != nil {
		s.Charts = append(s.Charts, c)
	}
	out := []*Section{s}
	if run.Summary.PerSlash8 != nil {
		m := &Section{ID: p + "slash8", Title: "Where the infected hosts are: the IPv4 space by /8"}
		var total, blocks int64
		for _, n := range run.Summary.PerSlash8 {
			total += n
			if n > 0 {
				blocks++
			}
		}
		m.Intro = fmt.Sprintf("Hosts ever infected in each /8 block, %s in %d blocks. Row r, column c is block r+c; grey blocks are reserved (0/8, 10/8, 127/8, 224/8 and up).",
			thousands(total), blocks)
		m.Charts = append(m.Charts, slash8Chart(p+"slash8", "Hosts ever infected per /8", run.Summary.PerSlash8))
		if len(run.Summary.TopSlash16) > 0 {
			t := TextTable{Caption: "The most infected /16 blocks", Head: []string{"/16", "hosts ever infected"}, Numeric: []bool{false, true}}
			for _, b := range run.Summary.TopSlash16 {
				t.Rows = append(t.Rows, []string{b.Prefix, thousands(b.Infected)})
			}
			m.Tables = append(m.Tables, t)
		}
		out = append(out, m)
	}
	for i, o := range run.Observers {
		out = append(out, observerSection(fmt.Sprintf("%sobs%d", p, i+1), o, run))
	}
	return out
}

// shortDuration writes a duration string such as "24h0m0s" as "24h".
func shortDuration(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil {
		return s
	}
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}

func shortFloat(v float64) string {
	if v >= 10 {
		return thousands(int64(math.Round(v)))
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// runXY returns the run's times as Unix seconds.
func runXY(run *Run) []float64 {
	ts := make([]time.Time, len(run.Series))
	for i, row := range run.Series {
		ts[i] = row.UTC
	}
	return unixSeconds(ts)
}

// published are figures from the literature to draw beside a run of the
// scenario they describe (docs/DESIGN.md §6 gives the sources).
var published = map[string][]struct {
	at       time.Time
	infected float64
	label    string
	// right puts the label right of the point, else below and left of it,
	// wherever the curves are not.
	right bool
}{
	"codered-v2-2001-07-19": {
		{time.Date(2001, 7, 19, 19, 0, 0, 0, time.UTC), 250000, "CERT: over 250,000 in 9 h", true},
		{time.Date(2001, 7, 20, 0, 0, 0, 0, time.UTC), 359000, "Moore et al.: over 359,000", false},
	},
}

// publishedSources says where the published figures come from.
var publishedSources = map[string]string{
	"codered-v2-2001-07-19": "Moore, Shannon, Brown, IMW 2002 (over 359,000 hosts in under 14 hours from about 10:00 UTC) and CERT (over 250,000 in 9 hours)",
}

func statesChart(file string, run *Run) *Chart {
	rows := run.Series
	xs := runXY(run)
	p := newPlot("Hosts by state", "", "hosts")
	timeAxis(p, rows[0].UTC, rows[len(rows)-1].UTC)
	p.Y.Tick.Marker = countTicks{}
	p.Y.Min = 0
	states := []struct {
		name string
		get  func(i int) int64
	}{
		{"infected", func(i int) int64 { return rows[i].Infected }},
		{"susceptible", func(i int) int64 { return rows[i].Susceptible }},
		{"patched", func(i int) int64 { return rows[i].Patched }},
		{"removed", func(i int) int64 { return rows[i].Removed }},
	}
	for _, st := range states {
		ys := make([]float64, len(rows))
		var any bool
		for i := range rows {
			ys[i] = float64(st.get(i))
			any = any || ys[i] != 0
		}
		if any || st.name == "infected" || st.name == "susceptible" {
			addLine(p, st.name, xs, ys, quantityColor(st.name, 0), 2, false)
		}
	}
	caption := "Hosts infected, susceptible, patched and removed over time (UTC)"
	if pub := published[run.Scenario.Name]; len(pub) > 0 {
		var pts plotter.XYs
		var labels []string
		for _, f := range pub {
			pts = append(pts, plotter.XY{X: float64(f.at.Unix()), Y: f.infected})
			labels = append(labels, f.label)
		}
		track(p, pts)
		sc, err := plotter.NewScatter(pts)
		if err == nil {
			sc.GlyphStyle.Shape = draw.BoxGlyph{}
			sc.GlyphStyle.Radius = vg.Points(4)
			sc.GlyphStyle.Color = colFit
			p.Add(sc)
			p.Legend.Add("published figures", sc)
		}
		for i, f := range pub {
			lb, err := plotter.NewLabels(plotter.XYLabels{XYs: pts[i : i+1], Labels: labels[i : i+1]})
			if err != nil {
				continue
			}
			lb.TextStyle[0].Font = labelFont(10)
			if f.right {
				lb.TextStyle[0].XAlign = draw.XLeft
				lb.Offset = vg.Point{X: vg.Points(8), Y: vg.Points(-4)}
			} else {
				lb.TextStyle[0].XAlign = draw.XRight
				lb.Offset = vg.Point{X: vg.Points(-4), Y: vg.Points(-40)}
			}
			p.Add(lb)
			// Keep the key off the label: mark the span it covers, about
			// 6 points a character on a 400-point plot, 40 points below
			// the point when it sits left of it.
			span := float64(len(f.label)) * 6 / 400 * (xs[len(xs)-1] - xs[0])
			x0, x1, y := pts[i].X, pts[i].X+span, pts[i].Y
			if !f.right {
				x0, x1, y = pts[i].X-span, pts[i].X, pts[i].Y*(1-40.0/220)
			}
			track(p, plotter.XYs{{X: x0, Y: y}, {X: (x0 + x1) / 2, Y: y}, {X: x1, Y: y}})
		}
		caption += ", with the published counts of that day: " + publishedSources[run.Scenario.Name]
	}
	return newChart(file, caption, p)
}

func newInfectionsChart(file string, run *Run) *Chart {
	rows := run.Series
	xs := runXY(run)
	perMinute := 1.0
	if run.StepSeconds > 0 {
		perMinute = 60 / run.StepSeconds
	}
	ys := make([]float64, len(rows))
	for i, row := range rows {
		ys[i] = float64(row.NewInfections) * perMinute
	}
	if len(ys) > 0 {
		ys[0] = math.NaN() // row 0 is the initial state, not a bin
	}
	p := newPlot("New infections per minute", "", "new infections per minute")
	timeAxis(p, rows[0].UTC, rows[len(rows)-1].UTC)
	p.Y.Tick.Marker = countTicks{}
	p.Y.Min = 0
	addLine(p, "", xs, ys, colInfected, 1.2, false)
	return newChart(file, "New infections per minute over time (UTC)", p)
}

// logisticChart draws the infected share with the fitted logistic
// a(t) = 1/(1+exp(-K(t-T))) over it, or returns nil when the record holds
// no fit.
func logisticChart(file string, run *Run) *Chart {
	l := run.Summary.Logistic
	n := float64(run.Summary.Population)
	if l == nil || n <= 0 {
		return nil
	}
	rows := run.Series
	xs := runXY(run)
	ys := make([]float64, len(rows))
	fit := make([]float64, len(rows))
	tMid := float64(l.T.Unix())
	for i, row := range rows {
		ys[i] = 100 * float64(row.Infected) / n
		h := (xs[i] - tMid) / 3600
		fit[i] = 100 / (1 + math.Exp(-l.KPerHour*h))
	}
	p := newPlot(fmt.Sprintf("Logistic fit: K = %.2f per hour, T = %s UTC", l.KPerHour, l.T.UTC().Format("15:04")), "", "infected (% of the vulnerable hosts)")
	timeAxis(p, rows[0].UTC, rows[len(rows)-1].UTC)
	p.Y.Min, p.Y.Max = 0, 100
	addLine(p, "simulated", xs, ys, colInfected, 3.5, false)
	addLine(p, fmt.Sprintf("fit, K = %.2f/h", l.KPerHour), xs, fit, colFit, 1.2, true)
	addLine(p, "T = "+l.T.UTC().Format("15:04")+" UTC", []float64{tMid, tMid}, []float64{0, 100}, colRemoved, 1, true)
	labels, err := plotter.NewLabels(plotter.XYLabels{
		XYs:    []plotter.XY{{X: tMid, Y: 50}},
		Labels: []string{"50% at T"},
	})
	if err == nil {
		labels.TextStyle[0].Font = labelFont(10)
		// Below and right of the midpoint, where the rising curve is not.
		labels.Offset = vg.Point{X: vg.Points(6), Y: vg.Points(-14)}
		p.Add(labels)
	}
	return newChart(file, fmt.Sprintf("Share infected with the fitted logistic curve, K = %.2f per hour, midpoint T = %s", l.KPerHour, l.T.UTC().Format(ts)), p)
}

// percentTicks marks 0 to 100 in steps of 25, and nothing above.
type percentTicks struct{}

func (percentTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for v := 0.0; v <= 100; v += 12.5 {
		t := plot.Tick{Value: v}
		if math.Mod(v, 25) == 0 {
			t.Label = strconv.Itoa(int(v))
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// stateOrder puts the host states first, in the order of the states chart.
func stateOrder(name string) int {
	switch name {
	case "infected":
		return 0
	case "susceptible":
		return 1
	case "patched":
		return 2
	case "removed":
		return 3
	}
	return 4
}
