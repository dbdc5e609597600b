package report

import (
	"image/color"
	"math"
	"time"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Overlay is a chart of a simulated band over time with published values
// drawn on it: what `wormlab reproduce` shows for each experiment.
type Overlay struct {
	File    string // the PNG's base name, unique within the report
	Title   string
	Caption string
	YLabel  string
	Times   []time.Time
	// Lo, Mid and Hi are the 5%, 50% and 95% quantiles per time.
	Lo, Mid, Hi []float64
	BandName    string
	// Model, if not nil, is an analytic curve on the same times, drawn
	// dashed.
	Model     []float64
	ModelName string
	Points    []Published
}

// Published is one published value placed on an overlay chart: a point at
// At with its tolerance drawn as a vertical bar from Lo to Hi.
type Published struct {
	At            time.Time
	Value, Lo, Hi float64
	// Holds colours the point: green when wormlab's value is within the
	// tolerance, red when it misses.
	Holds bool
}

var (
	colHolds = color.RGBA{0x1a, 0x7f, 0x37, 0xff}
	colMiss  = color.RGBA{0xc0, 0x1c, 0x28, 0xff}
)

// OverlayChart draws o.
func OverlayChart(o Overlay) *Chart {
	p := newPlot(o.Title, "", o.YLabel)
	lo, hi := o.Times[0], o.Times[len(o.Times)-1]
	for _, pt := range o.Points {
		if pt.At.Before(lo) {
			lo = pt.At
		}
		if pt.At.After(hi) {
			hi = pt.At
		}
	}
	timeAxis(p, lo, hi)
	p.Y.Tick.Marker = countTicks{}
	p.Y.Min = 0
	xs := unixSeconds(o.Times)
	addBand(p, "", xs, o.Lo, o.Hi, colInfected)
	addLine(p, "", xs, o.Mid, colInfected, 1.5, false)
	addBandLegend(p, o.BandName, colInfected)
	if o.Model != nil {
		addLine(p, o.ModelName, xs, o.Model, colOther[0], 1.5, true)
	}
	var held, missed plotter.XYs
	for _, pt := range o.Points {
		x := float64(pt.At.Unix())
		xy := plotter.XY{X: x, Y: pt.Value}
		c := colMiss
		if pt.Holds {
			held, c = append(held, xy), colHolds
		} else {
			missed = append(missed, xy)
		}
		if !math.IsInf(pt.Lo, 0) && !math.IsInf(pt.Hi, 0) && pt.Hi > pt.Lo {
			bar, err := plotter.NewLine(plotter.XYs{{X: x, Y: pt.Lo}, {X: x, Y: pt.Hi}})
			if err == nil {
				bar.Color = c
				bar.Width = vg.Points(1)
				p.Add(bar)
				track(p, bar.XYs)
			}
		}
	}
	for _, set := range []struct {
		pts   plotter.XYs
		name  string
		color color.Color
	}{{held, "published, within tolerance", colHolds}, {missed, "published, missed", colMiss}} {
		if len(set.pts) == 0 {
			continue
		}
		s, err := plotter.NewScatter(set.pts)
		if err != nil {
			continue
		}
		s.GlyphStyle = draw.GlyphStyle{Color: set.color, Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
		p.Add(s)
		track(p, set.pts)
		p.Legend.Add(set.name, s)
	}
	return newChart(o.File, o.Caption, p)
}
