// Package report turns wormlab's JSON outputs (run records, ensembles,
// detection reports) into pictures: one self-contained HTML page with inline
// SVG charts, and the same charts as PNG files. A section appears only for
// what its inputs hold, so a record that gains observers or per-/8 counts
// gains their charts without a change of format here.
package report

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/wormlab/wormlab/internal/atomicfile"
	"github.com/wormlab/wormlab/internal/detect"
	"github.com/wormlab/wormlab/internal/runrec"
	"github.com/wormlab/wormlab/internal/version"
)

var whiteBG = color.White

// Report is a built report: sections of facts, charts and tables.
type Report struct {
	Title    string
	Sections []*Section
	Footer   []string // one line per input: what made it
	Version  string   // of the wormlab that built the report
	Commit   string
}

// Section is one heading's worth of the report.
type Section struct {
	ID     string
	Title  string
	Intro  string
	Facts  []Fact
	Charts []*Chart
	Tables []Table2
}

// Fact is one line of a section's key figures.
type Fact struct{ Name, Value string }

// Table2 is a table of text cells shown in the HTML only.
type Table2 struct {
	Caption string
	Head    []string
	Rows    [][]string
	Numeric []bool // per column: right-aligned
}

// Charts returns every chart of the report in page order.
func (r *Report) Charts() []*Chart {
	var cs []*Chart
	for _, s := range r.Sections {
		cs = append(cs, s.Charts...)
	}
	return cs
}

// Build makes the report of the inputs, in the order given. It fails only
// when there is nothing to show.
func Build(inputs []*Input) (*Report, error) {
	if len(inputs) == 0 {
		return nil, errors.New("no inputs")
	}
	r := &Report{Version: version.Version, Commit: version.Commit()}
	var runs []*Run
	var names []string
	for _, in := range inputs {
		if in.Run != nil {
			runs = append(runs, in.Run)
			names = append(names, in.Name)
		}
	}
	prefix := func(i int) string {
		if len(inputs) == 1 {
			return ""
		}
		return strconv.Itoa(i+1) + "-"
	}
	if len(runs) > 1 {
		r.Sections = append(r.Sections, compareSection(runs, names))
	}
	for i, in := range inputs {
		p := prefix(i)
		switch {
		case in.Run != nil:
			r.Sections = append(r.Sections, runSections(p, in.Name, in.Run)...)
			r.Footer = append(r.Footer, fmt.Sprintf("%s: run record of scenario %s, seed %d, %s engine, wormlab %s (commit %s)",
				in.Name, in.Run.Scenario.Name, in.Run.Seed, in.Run.Engine, in.Run.Version, in.Run.Commit))
		case in.Ensemble != nil:
			r.Sections = append(r.Sections, ensembleSection(p, in.Name, in.Ensemble, runs))
			e := in.Ensemble
			r.Footer = append(r.Footer, fmt.Sprintf("%s: ensemble of %d runs of scenario %s from seed %d, wormlab %s (commit %s)",
				in.Name, e.Runs, orDash(e.Scenario), e.Seed, orDash(e.Version), orDash(e.Commit)))
		case in.Detect != nil:
			r.Sections = append(r.Sections, detectSection(p, in.Name, in.Detect))
			r.Footer = append(r.Footer, fmt.Sprintf("%s: detection report over %d log files, wormlab %s (commit %s)",
				in.Name, in.Detect.Totals.Files, in.Detect.Version, in.Detect.Commit))
		}
	}
	switch {
	case len(runs) == 1:
		r.Title = "wormlab report: " + runs[0].Scenario.Name
	case len(inputs) == 1 && inputs[0].Detect != nil:
		r.Title = "wormlab report: worm probes in " + plural(inputs[0].Detect.Totals.Files, "log file")
	case len(inputs) == 1 && inputs[0].Ensemble != nil:
		r.Title = "wormlab report: ensemble of " + orDash(inputs[0].Ensemble.Scenario)
	default:
		r.Title = "wormlab report: " + plural(len(inputs), "input")
	}
	return r, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

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
	if run.PerSlash8 != nil {
		m := &Section{ID: p + "slash8", Title: "Where the infected hosts are: the IPv4 space by /8"}
		var total, blocks int64
		for _, n := range run.PerSlash8 {
			total += n
			if n > 0 {
				blocks++
			}
		}
		m.Intro = fmt.Sprintf("Hosts ever infected in each /8 block, %s in %d blocks. Row r, column c is block r+c; grey blocks are reserved (0/8, 10/8, 127/8, 224/8 and up).",
			thousands(total), blocks)
		m.Charts = append(m.Charts, slash8Chart(p+"slash8", "Hosts ever infected per /8", run.PerSlash8))
		if len(run.TopSlash16) > 0 {
			t := Table2{Caption: "The most infected /16 blocks", Head: []string{"/16", "hosts ever infected"}, Numeric: []bool{false, true}}
			for _, b := range run.TopSlash16 {
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
// scenario they describe (DESIGN.md section 2 gives the sources).
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
		}
		caption += ", with the published counts of that day: " + publishedSources[run.Scenario.Name]
	}
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.YOffs = vg.Points(40)
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

// compareSection overlays the infected share of several runs in hours since
// each one's start, so runs of different dates line up.
func compareSection(runs []*Run, names []string) *Section {
	s := &Section{ID: "compare", Title: "Runs compared"}
	s.Intro = "The share of vulnerable hosts infected, in hours since each run's start."
	p := newPlot("Infected, all runs", "hours since the run's start", "infected (% of the vulnerable hosts)")
	// Head room above 100% for the key, one line per run, so that it
	// never hides a curve that reaches the top.
	p.Y.Min, p.Y.Max = 0, 100+7*float64(len(runs))
	p.Legend.Left = false
	p.Y.Tick.Marker = percentTicks{}
	for i, run := range runs {
		n := float64(max(run.Summary.Population, 1))
		xs := make([]float64, len(run.Series))
		ys := make([]float64, len(run.Series))
		start := run.Series[0].UTC
		for j, row := range run.Series {
			xs[j] = row.UTC.Sub(start).Hours()
			ys[j] = 100 * float64(row.Infected) / n
		}
		addLine(p, fmt.Sprintf("%s, seed %d (%s)", run.Scenario.Name, run.Seed, filepath.Base(names[i])), xs, ys, colOther[i%len(colOther)], 2, i%2 == 1)
	}
	s.Charts = append(s.Charts, newChart("compare-infected", "The infected share of every run, in hours since its start", p))
	return s
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

func ensembleSection(p, name string, e *Ensemble, runs []*Run) *Section {
	s := &Section{ID: p + "ensemble", Title: fmt.Sprintf("Ensemble: %s, %d runs", orDash(e.Scenario), e.Runs)}
	s.Intro = "Median of the runs per bin, and the band from the 5% to the 95% quantile: nine runs in ten stay inside it in each bin."
	s.Facts = append(s.Facts, Fact{"Input", name}, Fact{"Runs", strconv.Itoa(e.Runs)}, Fact{"First seed", strconv.FormatUint(e.Seed, 10)})
	xs := unixSeconds(e.Times)
	lo, hi := e.Times[0], e.Times[len(e.Times)-1]
	states := newPlot("Hosts by state: median and 5-95% band", "", "hosts")
	timeAxis(states, lo, hi)
	states.Y.Tick.Marker = countTicks{}
	states.Y.Min = 0
	var nStates int
	bands := append([]Band(nil), e.Bands...)
	sortBy(bands, func(b Band) int { return stateOrder(b.Name) })
	for i, b := range bands {
		if stateOrder(b.Name) < 4 {
			if stateOrder(b.Name) >= 2 && allZero(b.Hi) {
				continue // no run patched or removed a host: no line to draw
			}
			c := quantityColor(b.Name, i)
			addBand(states, b.Name+" 5-95%", xs, b.Lo, b.Hi, c)
			addLine(states, b.Name+" median", xs, b.Mid, c, 1.5, false)
			nStates++
			continue
		}
		unit := bandUnit(b.Name, time.Duration(e.Step*float64(time.Second)))
		bp := newPlot(humanName(b.Name)+": median and 5-95% band", "", unit)
		timeAxis(bp, lo, hi)
		bp.Y.Tick.Marker = countTicks{}
		bp.Y.Min = math.Min(0, minOf(b.Lo))
		c := quantityColor(b.Name, i)
		addBand(bp, "5-95%", xs, b.Lo, b.Hi, c)
		addLine(bp, "median", xs, b.Mid, c, 1.5, false)
		s.Charts = append(s.Charts, newChart(p+"ensemble-"+b.Name, humanName(b.Name)+" across the ensemble: median and 5-95% band", bp))
	}
	for _, run := range runs {
		if run.Scenario.Name == e.Scenario {
			ys := make([]float64, len(run.Series))
			rx := runXY(run)
			for i, row := range run.Series {
				ys[i] = float64(row.Infected)
			}
			addLine(states, fmt.Sprintf("infected, seed %d", run.Seed), rx, ys, colFit, 0.8, true)
		}
	}
	states.Legend.Top, states.Legend.Left = false, false
	states.Legend.YOffs = vg.Points(40)
	if nStates > 0 {
		s.Charts = append([]*Chart{newChart(p+"ensemble-states", "Hosts by state across the ensemble: median and 5-95% band", states)}, s.Charts...)
	}
	for _, f := range []struct {
		field, title, xlabel string
		scale                float64
	}{
		{"minutes_to_half", "Time to half infected, per run", "hours from the start until half the hosts are infected", 1.0 / 60},
		{"k_per_hour", "Logistic growth rate K, per run", "K fitted to the run (per hour)", 1},
		{"final_infected", "Infected at the end, per run", "hosts infected at the end", 1},
	} {
		if c := histogramChart(p+"ensemble-"+f.field, f.title, f.xlabel, e.Figures[f.field], f.scale, e.Runs); c != nil {
			s.Charts = append(s.Charts, c)
		}
	}
	return s
}

// histogramChart draws how a figure spreads over the runs, or returns nil
// when there are too few runs or they all agree.
func histogramChart(file, title, xlabel string, values []float64, scale float64, runs int) *Chart {
	if len(values) < 10 {
		return nil
	}
	vs := make(plotter.Values, len(values))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, v := range values {
		vs[i] = v * scale
		lo, hi = math.Min(lo, vs[i]), math.Max(hi, vs[i])
	}
	if hi-lo <= 1e-9*math.Abs(hi) {
		return nil
	}
	if math.IsInf(hi-lo, 0) || hi-lo < 1e-9*math.Max(math.Abs(lo), math.Abs(hi)) {
		return nil // nothing a histogram could show
	}
	// About 2 n^(1/3) bins (Terrell and Scott's oversmoothed rule, rounded
	// up), at most 40 so that each bar stays wide enough to see. The bins
	// are counted here: gonum's binning panics on extreme ranges.
	n := min(40, int(math.Ceil(2*math.Cbrt(float64(len(vs))))))
	w := (hi - lo) / float64(n)
	h := &plotter.Histogram{Width: w, FillColor: colSusceptible}
	h.Bins = make([]plotter.HistogramBin, n)
	for i := range h.Bins {
		h.Bins[i].Min = lo + float64(i)*w
		h.Bins[i].Max = lo + float64(i+1)*w
	}
	for _, v := range vs {
		i := min(n-1, max(0, int((v-lo)/w)))
		h.Bins[i].Weight++
	}
	h.LineStyle.Color = color.White
	h.LineStyle.Width = vg.Points(0.5)
	subtitle := fmt.Sprintf("%s of %s runs", thousands(int64(len(vs))), thousands(int64(runs)))
	p := newPlot(title+" ("+subtitle+")", xlabel, "runs")
	p.Y.Tick.Marker = countTicks{}
	p.X.Tick.Marker = countTicks{}
	p.Add(h)
	return newChart(file, title+", "+subtitle, p)
}

// allZero reports whether every number in xs is 0 or NaN.
func allZero(xs []float64) bool {
	for _, x := range xs {
		if x != 0 && !math.IsNaN(x) {
			return false
		}
	}
	return true
}

// minOf returns the smallest number in xs that is not NaN, or 0.
func minOf(xs []float64) float64 {
	m := math.Inf(1)
	for _, x := range xs {
		if x < m {
			m = x
		}
	}
	if math.IsInf(m, 1) {
		return 0
	}
	return m
}

func sortBy[T any](xs []T, key func(T) int) {
	// A stable insertion sort: the lists are a handful long.
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && key(xs[j]) < key(xs[j-1]); j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

func humanName(field string) string {
	b := []byte(field)
	for i, c := range b {
		if c == '_' {
			b[i] = ' '
		}
	}
	if len(b) > 0 && b[0] >= 'a' && b[0] <= 'z' {
		b[0] -= 'a' - 'A'
	}
	return string(b)
}

// bandUnit names the unit of an ensemble quantity from its field name and
// the bin width (0 when unknown).
func bandUnit(name string, bin time.Duration) string {
	per := "bin"
	if bin > 0 {
		per = binName(bin)
	}
	switch name {
	case "new_infections":
		return "new infections per " + per
	case "probes":
		return "probes per " + per
	}
	return unitOf(name)
}

// unitOf guesses an axis label from a column name: shares are shares, the
// rest are counts of what the name says.
func unitOf(name string) string {
	for _, w := range []string{"share", "fraction", "ratio"} {
		if containsWord(name, w) {
			return "share"
		}
	}
	if containsWord(name, "per_second") || containsWord(name, "rate") {
		return humanLower(name)
	}
	return humanLower(name) + " (count)"
}

func humanLower(s string) string {
	h := []byte(humanName(s))
	if len(h) > 0 && h[0] >= 'A' && h[0] <= 'Z' {
		h[0] += 'a' - 'A'
	}
	return string(h)
}

func containsWord(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i:i+len(w)] == w {
			return true
		}
	}
	return false
}

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
}

func observerSection(id string, o Observer, run *Run) *Section {
	title := humanName(o.Kind)
	if o.Label != "" {
		title += " " + o.Label
	}
	s := &Section{ID: id, Title: "Observer: " + title}
	telescope := containsWord(o.Kind, "telescope")
	switch {
	case telescope:
		s.Intro = "What the telescope saw, with the true infected count of the run for comparison."
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
			p := newPlot(g.title, "", g.unit)
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
				name := columnLegend[c.Name]
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
			for i := len(lines) - 1; i >= 0; i-- {
				addLine(p, "", xs, lines[i].line, lines[i].col, lines[i].w, false)
			}
			for _, l := range lines {
				addLegend(p, l.name, l.col, l.w)
			}
			if knownObservers[o.Kind] != nil {
				p.Legend.Left = false
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
	sig := Table2{Caption: "Per signature", Head: []string{"signature", "family", "probes", "sources", "first seen", "last seen", "peak hour", "probes in it"},
		Numeric: []bool{false, false, true, true, false, false, false, true}}
	for _, g := range d.Signatures {
		sig.Rows = append(sig.Rows, []string{g.Name, g.Family, thousands(g.Probes), thousands(int64(g.Sources)), stamp(g.First), stamp(g.Last), stamp(g.PeakHour), thousands(g.PeakProbe)})
	}
	s.Tables = append(s.Tables, sig)
	if len(d.TopSources) > 0 {
		ts := Table2{Caption: "Top sources", Head: []string{"source", "probes", "first seen", "last seen", "signatures"}, Numeric: []bool{false, true}}
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
		tb := Table2{Caption: "Top /16 blocks", Head: []string{"/16", "probes", "sources"}, Numeric: []bool{false, true, true}}
		for _, b := range d.TopBlocks {
			tb.Rows = append(tb.Rows, []string{b.Prefix, thousands(b.Probes), thousands(int64(b.Sources))})
		}
		s.Tables = append(s.Tables, tb)
	}
	if len(d.Countries) > 0 {
		tc := Table2{Caption: "Countries", Head: []string{"country", "sources", "probes"}, Numeric: []bool{false, true, true}}
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

// WritePNGs writes every chart to dir as FILE.png, each atomically, and
// returns the paths written.
func (r *Report) WritePNGs(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, c := range r.Charts() {
		path := filepath.Join(dir, c.File+".png")
		if err := atomicfile.Write(path, c.WritePNG); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

var _ plot.Plotter = (*slash8Grid)(nil)

// WriteHTMLFile writes the HTML page to path atomically.
func (r *Report) WriteHTMLFile(path string) error {
	return atomicfile.Write(path, r.WriteHTML)
}

// WriteRecordHTML writes the HTML report of one run record held in memory
// to path, atomically: what `wormlab simulate --report` writes.
func WriteRecordHTML(path string, rec *runrec.Record) error {
	in, err := FromRecord("this run", rec)
	if err != nil {
		return err
	}
	r, err := Build([]*Input{in})
	if err != nil {
		return err
	}
	return r.WriteHTMLFile(path)
}

// FromRecord returns the input for a run record held in memory, read back
// through its JSON form so that it is seen exactly as a saved file would be.
func FromRecord(name string, rec *runrec.Record) (*Input, error) {
	var buf bytes.Buffer
	if err := rec.WriteJSON(&buf); err != nil {
		return nil, err
	}
	return Parse(name, buf.Bytes())
}
