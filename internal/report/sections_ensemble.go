package report

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

func ensembleSection(p, name string, e *Ensemble, runs []*Run) *Section {
	s := &Section{ID: p + "ensemble", Title: fmt.Sprintf("Ensemble: %s, %d runs", orDash(e.Scenario), e.Runs)}
	s.Intro = "Median of the runs per bin, and the band from the 5% to the 95% quantile: nine runs in ten stay inside it in each bin."
	s.Facts = append(s.Facts, Fact{"Input", name}, Fact{"Runs", strconv.Itoa(e.Runs)}, Fact{"First seed", strconv.FormatUint(e.Seed, 10)})
	s.Facts = append(s.Facts, ensembleFacts(e)...)
	xs := unixSeconds(e.Times)
	lo, hi := e.Times[0], e.Times[len(e.Times)-1]
	states := newPlot("Hosts by state: median (line) and 5-95% (shaded)", "", "hosts")
	timeAxis(states, lo, hi)
	states.Y.Tick.Marker = countTicks{}
	states.Y.Min = 0
	var nStates int
	bands := append([]Band(nil), e.Bands...)
	sortBy(bands, func(b Band) int { return stateOrder(b.Name) })
	byName := map[string]Band{}
	for _, b := range bands {
		byName[b.Name] = b
	}
	// The telescope's view against the truth, when the runs had one.
	var telescope *Chart
	if seen, ok := byName["telescope_seen"]; ok {
		if inf, ok := byName["infected"]; ok {
			tp := newPlot("Sources seen by the telescope against the truth", "", "hosts")
			timeAxis(tp, lo, hi)
			tp.Y.Tick.Marker = countTicks{}
			tp.Y.Min = 0
			addBand(tp, "", xs, inf.Lo, inf.Hi, colInfected)
			addLine(tp, "", xs, inf.Mid, colInfected, 1.5, false)
			addBandLegend(tp, "infected hosts (truth)", colInfected)
			addBand(tp, "", xs, seen.Lo, seen.Hi, colOther[0])
			addLine(tp, "", xs, seen.Mid, colOther[0], 1.5, true)
			addBandLegend(tp, "distinct sources seen so far", colOther[0])
			telescope = newChart(p+"ensemble-telescope", "Distinct sources the telescope has seen against the true infected count across the ensemble: median (line) and 5-95% (shaded)", tp)
		}
	}
	for i, b := range bands {
		if b.Name == "telescope_seen" && telescope != nil {
			continue
		}
		if stateOrder(b.Name) < 4 {
			if stateOrder(b.Name) >= 2 && allZero(b.Hi) {
				continue // no run patched or removed a host: no line to draw
			}
			c := quantityColor(b.Name, i)
			addBand(states, "", xs, b.Lo, b.Hi, c)
			addLine(states, "", xs, b.Mid, c, 1.5, false)
			addBandLegend(states, b.Name, c)
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
	if telescope != nil {
		s.Charts = append([]*Chart{telescope}, s.Charts...)
	}
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

// ensembleFacts writes the summary's quantiles as "median (5% to 95%)".
func ensembleFacts(e *Ensemble) []Fact {
	var out []Fact
	spread := func(q [3]float64, format func(float64) string) string {
		return format(q[1]) + " (" + format(q[0]) + " to " + format(q[2]) + ")"
	}
	count := func(v float64) string { return thousands(int64(math.Round(v))) }
	of := func(key string) string {
		if n, ok := e.Counts[key]; ok && e.Runs > 0 {
			return fmt.Sprintf(", in %s of %s runs", thousands(int64(n)), thousands(int64(e.Runs)))
		}
		return ""
	}
	if q, ok := e.Stats["final_infected"]; ok {
		out = append(out, Fact{"Infected at the end, median (5% to 95%)", spread(q, count)})
	}
	if q, ok := e.Stats["minutes_to_half"]; ok {
		hours := func(m float64) string { return strconv.FormatFloat(m/60, 'f', 1, 64) + " h" }
		out = append(out, Fact{"Half infected after", spread(q, hours) + of("reached_half")})
	}
	if q, ok := e.Stats["k_per_hour"]; ok {
		k := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
		out = append(out, Fact{"Logistic K per hour", spread(q, k) + of("fitted")})
	}
	if q, ok := e.Stats["telescope_seen"]; ok {
		out = append(out, Fact{"Sources the telescope had seen by the end", spread(q, count)})
	}
	if q, ok := e.Stats["peak_new_infections_per_minute"]; ok {
		out = append(out, Fact{"Peak new infections a minute", spread(q, shortFloat)})
	}
	return out
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
	case "probes", "telescope_probes":
		return "probes per " + per
	case "telescope_sources", "telescope_new_sources":
		return "sources per " + per
	case "telescope_seen":
		return "distinct sources seen"
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
