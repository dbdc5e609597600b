package report

import (
	"image/color"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// slash8Grid draws the IPv4 space as 16 rows of 16 /8 blocks, block
// 16*row+col, coloured by a count per block in decade classes. The key sits
// to the right of the grid, inside the same plot, so the PNG carries it too.
type slash8Grid struct {
	counts [256]int64
}

var _ plot.Plotter = (*slash8Grid)(nil)

// Decade classes: empty, 1-9, 10-99, ... The colours are ColorBrewer's
// YlOrRd sequence, which stays ordered in grey scale.
var gridClasses = []struct {
	label string
	upTo  int64 // inclusive
	col   color.Color
}{
	{"0", 0, color.RGBA{0xf4, 0xf4, 0xf4, 0xff}},
	{"1-9", 9, color.RGBA{0xff, 0xff, 0xb2, 0xff}},
	{"10-99", 99, color.RGBA{0xfe, 0xd9, 0x76, 0xff}},
	{"100-999", 999, color.RGBA{0xfe, 0xb2, 0x4c, 0xff}},
	{"1k-10k", 9999, color.RGBA{0xfd, 0x8d, 0x3c, 0xff}},
	{"10k-100k", 99999, color.RGBA{0xf0, 0x3b, 0x20, 0xff}},
	{"100k+", 1<<62 - 1, color.RGBA{0xbd, 0x00, 0x26, 0xff}},
}

var colReserved = color.RGBA{0x9e, 0x9e, 0x9e, 0xff}

// reservedSlash8 reports whether block b is not public unicast space that a
// 2001 host could hold: 0/8, 10/8 (private), 127/8 (loopback) and 224/8 up
// (multicast and reserved), as docs/DESIGN.md §6 lists them.
func reservedSlash8(b int) bool { return b == 0 || b == 10 || b == 127 || b >= 224 }

func classOf(n int64) int {
	for i, c := range gridClasses {
		if n <= c.upTo {
			return i
		}
	}
	return len(gridClasses) - 1
}

const keyX = 16.6 // where the key column starts, in cell units

func (g *slash8Grid) DataRange() (xmin, xmax, ymin, ymax float64) { return 0, 21, 0, 16 }

func (g *slash8Grid) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	small := text.Style{Color: color.Black, Font: font.From(labelFont(6.5), 6.5), XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: p.Title.TextStyle.Handler}
	cell := func(x, y float64, col color.Color) {
		pad := 0.04
		r := vg.Rectangle{
			Min: vg.Point{X: tx(x + pad), Y: ty(y + pad)},
			Max: vg.Point{X: tx(x + 1 - pad), Y: ty(y + 1 - pad)},
		}
		c.SetColor(col)
		c.Fill(r.Path())
	}
	for b := range 256 {
		row, col := b/16, b%16
		x, y := float64(col), float64(15-row)
		n := g.counts[b]
		fill := gridClasses[classOf(n)].col
		if n == 0 && reservedSlash8(b) {
			fill = colReserved
		}
		cell(x, y, fill)
		st := small
		if classOf(n) >= 5 || (n == 0 && reservedSlash8(b)) {
			st.Color = color.White
		}
		c.FillText(st, vg.Point{X: tx(x + 0.5), Y: ty(y + 0.5)}, strconv.Itoa(b))
	}
	key := small
	key.XAlign = draw.XLeft
	key.Font = font.From(labelFont(9), 9)
	y := 15.0
	for _, cl := range append(gridClasses[:len(gridClasses):len(gridClasses)], struct {
		label string
		upTo  int64
		col   color.Color
	}{"reserved", 0, colReserved}) {
		cell(keyX, y, cl.col)
		c.FillText(key, vg.Point{X: tx(keyX + 1.25), Y: ty(y + 0.5)}, cl.label)
		y -= 1.2
	}
}

// gridTicks labels the grid's rows (first /8 of the row) or columns (offset
// within the row), at cell centres.
type gridTicks struct{ rows bool }

func (t gridTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for i := range 16 {
		if t.rows {
			ticks = append(ticks, plot.Tick{Value: float64(15-i) + 0.5, Label: strconv.Itoa(16 * i)})
		} else if i%3 == 0 || i == 15 {
			ticks = append(ticks, plot.Tick{Value: float64(i) + 0.5, Label: "+" + strconv.Itoa(i)})
		} else {
			ticks = append(ticks, plot.Tick{Value: float64(i) + 0.5})
		}
	}
	return ticks
}

// slash8Chart returns the map of the IPv4 space coloured by counts.
func slash8Chart(file, title string, counts []int64) *Chart {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = labelFont(13)
	g := &slash8Grid{}
	copy(g.counts[:], counts)
	p.Add(g)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 21, 0, 16
	p.X.Label.Text = "column: add it to the row's first /8"
	p.Y.Label.Text = "first /8 of the row"
	p.X.Tick.Marker = gridTicks{}
	p.Y.Tick.Marker = gridTicks{rows: true}
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = labelFont(11)
		a.Tick.Label.Font = labelFont(9)
		a.LineStyle.Width = 0
		a.Tick.LineStyle.Width = 0
	}
	ch := newChart(file, title, p)
	ch.w, ch.h = 16*vg.Centimeter, 13*vg.Centimeter
	return ch
}
