package report

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart is one figure of the report, drawn the same way as inline SVG for
// the HTML and as PNG for slides.
type Chart struct {
	// File is the PNG's base name, unique within a report: "run1-infected".
	File    string
	Caption string
	plot    *plot.Plot
	w, h    vg.Length
}

// Default chart size: 16 cm by 9 cm, which fills a laptop browser column and
// a slide without scaling the text below 10 points.
const (
	chartW = 16 * vg.Centimeter
	chartH = 9 * vg.Centimeter
	pngDPI = 150
)

// newChart returns the chart of p, its key placed clear of the lines.
// keyLines is the number of entries in p's key.
func newChart(file, caption string, p *plot.Plot) *Chart {
	w, h := legendSize(p)
	placeLegend(p, w, h)
	return &Chart{File: file, Caption: caption, plot: p, w: chartW, h: chartH}
}

// legendSize returns the width and height of p's key as shares of the
// plot area (the chart less about 2.5 cm of axis across and 2.2 cm of
// title and axis down), measured by laying it out on a throwaway canvas:
// gonum keeps the entries private. Both are 0 when the key is empty.
func legendSize(p *plot.Plot) (w, h float64) {
	rect := p.Legend.Rectangle(draw.New(vgsvg.New(chartW, chartH)))
	rw, rh := rect.Max.X-rect.Min.X, rect.Max.Y-rect.Min.Y
	if rw <= 0 || rh <= 0 {
		return 0, 0
	}
	return float64(rw / (chartW - 2.5*vg.Centimeter)), float64(rh / (chartH - 2.2*vg.Centimeter))
}

// SVG returns the chart as an <svg> element ready to inline in HTML: no XML
// prolog, scaled to its container, with a font list that falls back to the
// metric-compatible Arial and then any sans-serif face, so that nothing is
// fetched and the labels keep their measured widths.
func (c *Chart) SVG() (_ []byte, err error) {
	cv := vgsvg.NewWith(vgsvg.UseWH(c.w, c.h))
	if err := c.draw(draw.New(cv)); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	i := bytes.Index(b, []byte("<svg"))
	if i < 0 {
		return nil, fmt.Errorf("chart %s: the SVG canvas wrote no <svg> element", c.File)
	}
	b = b[i:]
	// width="453.5pt" height="255.1pt" -> a box that scales with the page.
	end := bytes.IndexByte(b, '>')
	head := string(b[:end])
	head = replaceAttr(head, "width", "100%")
	head = strings.Replace(head, ` height="`, ` data-height="`, 1)
	head += fmt.Sprintf(` role="img" aria-label="%s" preserveAspectRatio="xMidYMid meet"`, attrEscape(c.Caption))
	out := make([]byte, 0, len(b)+200)
	out = append(out, head...)
	out = append(out, b[end:]...)
	out = bytes.ReplaceAll(out, []byte("font-family:Liberation Sans;"), []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"))
	return out, nil
}

// WritePNG writes the chart as a PNG at pngDPI.
func (c *Chart) WritePNG(w io.Writer) error {
	cv := vgimg.NewWith(vgimg.UseWH(c.w, c.h), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(whiteBG))
	if err := c.draw(draw.New(cv)); err != nil {
		return err
	}
	return png.Encode(w, cv.Image())
}

// draw draws the plot on dc. Gonum's plotters panic on some degenerate
// data (ranges lost to rounding, say); that becomes an error naming the
// chart, not a crash of the whole report.
func (c *Chart) draw(dc draw.Canvas) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("chart %s could not be drawn: %v", c.File, r)
		}
	}()
	c.plot.Draw(dc)
	return nil
}

func replaceAttr(tag, name, value string) string {
	key := " " + name + `="`
	i := strings.Index(tag, key)
	if i < 0 {
		return tag
	}
	j := strings.IndexByte(tag[i+len(key):], '"')
	if j < 0 {
		return tag
	}
	return tag[:i+len(key)] + value + tag[i+len(key)+j:]
}

func attrEscape(s string) string {
	r := strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", `<`, "&lt;", `>`, "&gt;")
	return r.Replace(s)
}
