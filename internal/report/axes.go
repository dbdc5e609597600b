package report

import (
	"image/color"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// utcTicks puts the marks of a time axis (Unix seconds) on round UTC
// instants: every 1, 2, 3, 6 or 12 hours, or whole days, whichever gives at
// most about eight labels. A label carries the date when the span crosses a
// day, so a reader never has to work out which 03:00 is meant.
type utcTicks struct{}

var tickSteps = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour,
}

func (utcTicks) Ticks(lo, hi float64) []plot.Tick {
	// Beyond a few years the marks are gonum's plain numbers: no run is
	// that long, and a Duration overflows at 292 years.
	if !(hi > lo) || hi-lo > 5*365*24*3600 || math.Abs(lo) > 1e15 || math.Abs(hi) > 1e15 {
		return endTicks(lo, hi)
	}
	span := time.Duration((hi - lo) * float64(time.Second))
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if span/s <= 8 {
			step = s
			break
		}
	}
	minor := step / 4
	if step == 3*time.Hour || step == 12*time.Hour {
		minor = step / 3
	}
	start := time.Unix(int64(math.Floor(lo)), 0).UTC().Truncate(minor)
	// Over more than a day, midnights carry the date; within one day the
	// axis label gives the dates and every mark reads as a clock time.
	multiDay := hi-lo > 24*3600
	var ticks []plot.Tick
	for t := start; !t.After(time.Unix(int64(math.Ceil(hi)), 0)) && len(ticks) < 200; t = t.Add(minor) {
		v := float64(t.Unix())
		if v < lo || v > hi {
			continue
		}
		tk := plot.Tick{Value: v}
		if t.Sub(t.Truncate(step)) == 0 {
			switch {
			case step >= 24*time.Hour:
				tk.Label = t.Format("2 Jan")
			case multiDay && t.Hour() == 0 && t.Minute() == 0:
				tk.Label = t.Format("2 Jan")
			default:
				tk.Label = t.Format("15:04")
			}
		}
		ticks = append(ticks, tk)
	}
	return ticks
}

// endTicks labels the two ends of an axis that cannot take round marks.
func endTicks(lo, hi float64) []plot.Tick {
	if lo == hi || math.IsNaN(lo) || math.IsNaN(hi) {
		return []plot.Tick{{Value: lo, Label: shortCount(lo)}}
	}
	return []plot.Tick{{Value: lo, Label: shortCount(lo)}, {Value: hi, Label: shortCount(hi)}}
}

// timeLabel names a UTC time axis with the dates it covers.
func timeLabel(lo, hi time.Time) string {
	lo, hi = lo.UTC(), hi.UTC()
	switch {
	case lo.YearDay() == hi.YearDay() && lo.Year() == hi.Year():
		return "time (UTC), " + lo.Format("2 January 2006")
	case lo.Year() == hi.Year() && lo.Month() == hi.Month():
		return "time (UTC), " + strconv.Itoa(lo.Day()) + "-" + hi.Format("2 January 2006")
	case lo.Year() == hi.Year():
		return "time (UTC), " + lo.Format("2 January") + " - " + hi.Format("2 January 2006")
	}
	return "time (UTC), " + lo.Format("2 January 2006") + " - " + hi.Format("2 January 2006")
}

// countTicks labels a count axis with thousands separators or k and M
// suffixes, which read faster than 3.5e+05.
type countTicks struct{}

// The marks are at 1, 2, 2.5 or 5 times a power of ten, four to eight of
// them labelled, so a value can be read off to within a fifth of a step.
func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	raw := (hi - lo) / 6
	// A span lost in the rounding of its ends, or infinite, has no marks
	// that can be told apart: label its ends only (gonum's own ticker
	// loops forever on an infinite span).
	if !(hi > lo) || math.IsInf(raw, 0) || raw < 1e-12*math.Max(math.Abs(lo), math.Abs(hi)) {
		return endTicks(lo, hi)
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []plot.Tick
	first := math.Ceil(lo/step) * step
	for k := 0; k < 20; k++ {
		v := first + float64(k)*step
		if v > hi+step*1e-9 {
			break
		}
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: ""})
		if mid := v + step/2; mid <= hi {
			ticks = append(ticks, plot.Tick{Value: mid})
		}
	}
	// One style along an axis: 0, 50k, 100k rather than 0, 50,000, 100k.
	top := 0.0
	for i, t := range ticks {
		if i%2 == 0 {
			top = math.Max(top, math.Abs(t.Value))
		}
	}
	for i := range ticks {
		if i%2 == 0 {
			ticks[i].Label = countIn(ticks[i].Value, top, step)
		}
	}
	return ticks
}

// countIn writes v in the style shortCount gives to top, the largest
// label of its axis, unless the marks are step apart in digits that style
// would round away (359,940 and 359,960 both reading 359.9k): then in full.
func countIn(v, top, step float64) string {
	unit, suffix := 1.0, ""
	switch {
	case top >= 1e9:
		unit, suffix = 1e9, "G"
	case top >= 1e6:
		unit, suffix = 1e6, "M"
	case top >= 1e5:
		unit, suffix = 1e3, "k"
	}
	if suffix == "" || step < unit/10 {
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return thousands(int64(v))
		}
		return shortCount(v)
	}
	if v == 0 {
		return "0"
	}
	return trimFloat(v/unit) + suffix
}

// shortCount writes v as 950, 12,500, 350k or 1.2M.
func shortCount(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return trimFloat(v/1e9) + "G"
	case a >= 1e6:
		return trimFloat(v/1e6) + "M"
	case a >= 1e5:
		return trimFloat(v/1e3) + "k"
	case a >= 1000 && v == math.Trunc(v):
		return thousands(int64(v))
	}
	return trimFloat(v)
}

// trimFloat writes v with up to four significant digits and no trailing
// zeros, so that 0.1+0.2 reads 0.3.
func trimFloat(v float64) string {
	s := strconv.FormatFloat(v, 'g', 4, 64)
	if strings.ContainsAny(s, "e") {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return s
}

// thousands formats n with comma separators.
func thousands(n int64) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Colours: one per quantity across every chart, so infected is always the
// same red. Chosen from the Okabe-Ito set, readable with colour-blindness.
var (
	colInfected    = color.RGBA{0xd5, 0x5e, 0x00, 0xff}
	colSusceptible = color.RGBA{0x00, 0x72, 0xb2, 0xff}
	colPatched     = color.RGBA{0x00, 0x9e, 0x73, 0xff}
	colRemoved     = color.RGBA{0x80, 0x80, 0x80, 0xff}
	colFit         = color.RGBA{0x00, 0x00, 0x00, 0xff}
	colOther       = []color.Color{
		color.RGBA{0xcc, 0x79, 0xa7, 0xff},
		color.RGBA{0x56, 0xb4, 0xe9, 0xff},
		color.RGBA{0xe6, 0x9f, 0x00, 0xff},
		color.RGBA{0x00, 0x72, 0xb2, 0xff},
		color.RGBA{0xd5, 0x5e, 0x00, 0xff},
		color.RGBA{0x00, 0x9e, 0x73, 0xff},
	}
)

// quantityColor returns the colour of a named quantity, or the i-th of the
// others.
func quantityColor(name string, i int) color.Color {
	switch name {
	case "infected":
		return colInfected
	case "susceptible":
		return colSusceptible
	case "patched":
		return colPatched
	case "removed":
		return colRemoved
	}
	return colOther[i%len(colOther)]
}

// newPlot returns a plot with the house style: title, labelled axes, a
// light grid, the legend top left.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = labelFont(13)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = labelFont(11)
		a.Tick.Label.Font = labelFont(10)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.TextStyle.Font = labelFont(10)
	p.Legend.Padding = vg.Points(2)
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{0xe0}
	g.Horizontal.Color = color.Gray{0xe0}
	p.Add(g)
	return p
}

// timeAxis makes p's X axis a UTC time axis over [lo, hi].
func timeAxis(p *plot.Plot, lo, hi time.Time) {
	p.X.Tick.Marker = utcTicks{}
	p.X.Label.Text = timeLabel(lo, hi)
	p.X.Min, p.X.Max = float64(lo.Unix()), float64(hi.Unix())
}

// addLine adds a line of (x, y) points, skipping NaN ys by splitting the
// line there, in colour c and width w points.
func addLine(p *plot.Plot, legend string, xs, ys []float64, c color.Color, w float64, dashed bool) {
	var seg plotter.XYs
	first := true
	flush := func() {
		if len(seg) == 0 {
			return
		}
		l, err := plotter.NewLine(thin(seg))
		if err != nil {
			seg = nil
			return
		}
		track(p, l.XYs)
		l.Color = c
		l.Width = vg.Points(w)
		if dashed {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		if first && legend != "" {
			p.Legend.Add(legend, l)
		}
		first = false
		seg = nil
	}
	for i, y := range ys {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			flush()
			continue
		}
		seg = append(seg, plotter.XY{X: xs[i], Y: y})
	}
	flush()
}

// A chart is 945 pixels wide at most (16 cm at 150 dpi), so a line of more
// than thinAbove points draws several points per pixel column. Beyond that
// it is cut into thinBuckets runs of consecutive points, each kept as its
// lowest and highest point in their order: the drawn envelope is the same
// to the pixel, and the SVG stays near 50 KB a line whatever the length of
// the run.
const (
	thinAbove   = 2400
	thinBuckets = 1000
)

// thin returns pts, or its min-max envelope when it is longer than
// thinAbove.
func thin(pts plotter.XYs) plotter.XYs {
	n := len(pts)
	if n <= thinAbove {
		return pts
	}
	out := make(plotter.XYs, 0, 2*thinBuckets+2)
	last := -1
	keep := func(i int) {
		if i != last {
			out = append(out, pts[i])
			last = i
		}
	}
	keep(0)
	for b := range thinBuckets {
		lo, hi := b*n/thinBuckets, (b+1)*n/thinBuckets
		imin, imax := lo, lo
		for i := lo; i < hi; i++ {
			if pts[i].Y < pts[imin].Y {
				imin = i
			}
			if pts[i].Y > pts[imax].Y {
				imax = i
			}
		}
		keep(min(imin, imax))
		keep(max(imin, imax))
	}
	keep(n - 1)
	return out
}

// thinBand returns the band's edges, or when they are longer than
// thinAbove, per bucket the lowest of lower and the highest of upper, at
// the bucket's first x: the band drawn can only widen, never hide a run.
func thinBand(lower, upper plotter.XYs) (plotter.XYs, plotter.XYs) {
	n := len(lower)
	if n <= thinAbove {
		return lower, upper
	}
	lo := make(plotter.XYs, 0, thinBuckets+1)
	up := make(plotter.XYs, 0, thinBuckets+1)
	for b := range thinBuckets {
		a, z := b*n/thinBuckets, (b+1)*n/thinBuckets
		l, u := lower[a], upper[a]
		for i := a; i < z; i++ {
			l.Y = math.Min(l.Y, lower[i].Y)
			u.Y = math.Max(u.Y, upper[i].Y)
		}
		lo, up = append(lo, l), append(up, u)
	}
	return append(lo, lower[n-1]), append(up, upper[n-1])
}

// addBandLegend adds one key entry for a band and its median line in
// colour c.
func addBandLegend(p *plot.Plot, name string, c color.Color) {
	r, g, b, _ := c.RGBA()
	box, err := plotter.NewPolygon(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return
	}
	box.Color = color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0x50}
	box.LineStyle.Width = 0
	line := &plotter.Line{LineStyle: draw.LineStyle{Color: c, Width: vg.Points(1.5)}}
	p.Legend.Add(name, box, line)
}

// addBand fills the area between lo and hi, skipping bins where either is
// NaN.
func addBand(p *plot.Plot, legend string, xs, lo, hi []float64, c color.Color) {
	var upper, lower plotter.XYs
	first := true
	flush := func() {
		if len(upper) < 2 {
			upper, lower = nil, nil
			return
		}
		lower, upper = thinBand(lower, upper)
		track(p, lower)
		track(p, upper)
		// The fill counts too: points a quarter, half and three quarters
		// of the way across.
		inside := make(plotter.XYs, 0, 3*len(lower))
		for i := range lower {
			for _, f := range []float64{0.25, 0.5, 0.75} {
				inside = append(inside, plotter.XY{X: lower[i].X, Y: lower[i].Y + f*(upper[i].Y-lower[i].Y)})
			}
		}
		track(p, inside)
		ring := make(plotter.XYs, 0, 2*len(upper))
		ring = append(ring, lower...)
		for i := len(upper) - 1; i >= 0; i-- {
			ring = append(ring, upper[i])
		}
		poly, err := plotter.NewPolygon(ring)
		if err == nil {
			r, g, b, _ := c.RGBA()
			poly.Color = color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0x50}
			poly.LineStyle.Width = 0
			p.Add(poly)
			if first && legend != "" {
				p.Legend.Add(legend, poly)
			}
			first = false
		}
		upper, lower = nil, nil
	}
	for i := range xs {
		if math.IsNaN(lo[i]) || math.IsNaN(hi[i]) {
			flush()
			continue
		}
		lower = append(lower, plotter.XY{X: xs[i], Y: lo[i]})
		upper = append(upper, plotter.XY{X: xs[i], Y: hi[i]})
	}
	flush()
}

// unixSeconds returns the times as float Unix seconds, the X values of a
// time axis.
func unixSeconds(ts []time.Time) []float64 {
	xs := make([]float64, len(ts))
	for i, t := range ts {
		xs[i] = float64(t.Unix()) + float64(t.Nanosecond())/1e9
	}
	return xs
}

// labelFont is the face used for text drawn inside a chart.
func labelFont(size float64) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(size)}
}

// drawn keeps, until its chart is made, the points drawn on each plot, so
// that the key can go where the lines are not.
var drawn = struct {
	sync.Mutex
	m map[*plot.Plot][]plotter.XYs
}{m: map[*plot.Plot][]plotter.XYs{}}

func track(p *plot.Plot, pts plotter.XYs) {
	drawn.Lock()
	drawn.m[p] = append(drawn.m[p], pts)
	drawn.Unlock()
}

// placeLegend puts p's key, w by h as shares of the plot area, in the
// corner or at the middle of a side where the fewest of its drawn points
// fall (top right on a tie), and forgets the points.
func placeLegend(p *plot.Plot, w, h float64) {
	drawn.Lock()
	sets := drawn.m[p]
	delete(drawn.m, p)
	drawn.Unlock()
	if w <= 0 || h <= 0 || len(sets) == 0 {
		return
	}
	w, h = math.Min(w+0.02, 1), math.Min(h+0.02, 1)
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, pts := range sets {
		for _, q := range pts {
			xmin, xmax = math.Min(xmin, q.X), math.Max(xmax, q.X)
			ymin, ymax = math.Min(ymin, q.Y), math.Max(ymax, q.Y)
		}
	}
	// The axes may be set wider than the data (0 to 100%, from 0).
	if !math.IsInf(p.X.Min, 0) && p.X.Min < p.X.Max {
		xmin, xmax = math.Min(xmin, p.X.Min), math.Max(xmax, p.X.Max)
	}
	if p.Y.Min < ymin {
		ymin = p.Y.Min
	}
	if p.Y.Max > ymax {
		ymax = p.Y.Max
	}
	if !(xmax > xmin) || !(ymax > ymin) {
		return
	}
	// The corners, then halfway down either side; y0 is the bottom of the
	// key as a share of the plot's height.
	spots := []struct {
		top, left bool
		y0        float64
	}{{true, false, 1 - h}, {true, true, 1 - h}, {false, false, 0}, {false, true, 0}, {true, true, (1 - h) / 2}, {true, false, (1 - h) / 2}}
	best, bestN := 0, -1
	for i, c := range spots {
		n := 0
		for _, pts := range sets {
			for _, q := range pts {
				fx, fy := (q.X-xmin)/(xmax-xmin), (q.Y-ymin)/(ymax-ymin)
				inX := fx >= 1-w
				if c.left {
					inX = fx <= w
				}
				if inX && fy >= c.y0 && fy <= c.y0+h {
					n++
				}
			}
		}
		if bestN < 0 || n < bestN {
			best, bestN = i, n
		}
	}
	c := spots[best]
	p.Legend.Top, p.Legend.Left = c.top, c.left
	p.Legend.YOffs = 0
	if c.top && c.y0 < 1-h {
		// Down from the top by the share of the plot area above the key;
		// the area is the chart less about 2.2 cm of title and axis.
		p.Legend.YOffs = -vg.Length(1-h-c.y0) * (chartH - 2.2*vg.Centimeter)
	}
}
