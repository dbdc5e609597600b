package report

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/wormlab/wormlab/internal/sweep"
)

// sweepFile is a two-key sweep whose every figure differs by point, so
// that a number drawn or written at the wrong place shows: point i (the
// reaction time 1h, 2h, 4h varying slowest, the scan rate 3, 6 fastest)
// ends with (i+1)/1000, (i+1)/100 and (i+1)/10 of the population infected
// (5%, median, 95%), peaks at i, 10i and 100i new infections a minute,
// reaches half at 300+i minutes in its fastest runs when i is even, and has
// the median infected counts 1, 2+i, 5+i at minutes 0, 1, 2.
func sweepFile() *sweep.File {
	f := &sweep.File{Schema: sweep.Schema, Header: sweep.Header{Scenario: "s",
		Keys: []string{"defence.content_filter.reaction", "worm.scan_rate"}, Sets: []string{"a", "b"}, Runs: 10, BaseSeed: 1}}
	i := 0
	for _, r := range []string{"1h", "2h", "4h"} {
		for _, k := range []string{"3", "6"} {
			n := float64(i + 1)
			p := sweep.FilePoint{StepSeconds: 60, Infected: [][3]int64{{1, 1, 1}, {1, int64(2 + i), int64(3 + i)}, {2, int64(5 + i), int64(9 + i)}}}
			p.Values = map[string]string{"defence.content_filter.reaction": r, "worm.scan_rate": k}
			p.FinalShare = [3]float64{n / 1000, n / 100, n / 10}
			p.PeakPerMinute = [3]float64{float64(i), float64(10 * i), float64(100 * i)}
			if i%2 == 0 {
				half := float64(300 + i)
				p.MinutesToHalf = [3]*float64{&half, nil, nil}
			}
			f.Points = append(f.Points, p)
			i++
		}
	}
	return f
}

// plotted returns the lines and the bands (as their outlines: the lower
// edge left to right, then the upper right to left) of a chart. gonum
// keeps a plot's plotters private, so the test reads the field.
func plotted(c *Chart) (lines, bands []plotter.XYs) {
	field := reflect.ValueOf(c.plot).Elem().FieldByName("plotters")
	all := *(*[]plot.Plotter)(unsafe.Pointer(field.UnsafeAddr()))
	for _, p := range all {
		switch p := p.(type) {
		case *plotter.Line:
			if len(p.XYs) > 0 {
				lines = append(lines, p.XYs)
			}
		case *plotter.Polygon:
			bands = append(bands, p.XYs[0])
		}
	}
	return lines, bands
}

func xyText(pts plotter.XYs) string {
	var parts []string
	for _, p := range pts {
		parts = append(parts, fmt.Sprintf("(%.4g %.4g)", p.X, p.Y))
	}
	return strings.Join(parts, " ")
}

// TestSweepReport checks what the sweep's report shows of each point: the
// outcome chart's medians and 5-95% bands at the right reaction times
// (minutes), one series per scan rate under its name; one median infected
// curve per point in hours; and the table's text.
func TestSweepReport(t *testing.T) {
	f := sweepFile()
	r := Sweep(f)
	if len(r.Sections) != 1 || len(r.Charts()) != 2 {
		t.Fatalf("%d sections, %d charts, want 1 and 2", len(r.Sections), len(r.Charts()))
	}
	share, curves := r.Charts()[0], r.Charts()[1]
	if share.File != "sweep-final-share" || curves.File != "sweep-curves" {
		t.Fatalf("charts %s and %s", share.File, curves.File)
	}

	// Scan rate 3 is points 0, 2 and 4; 6 is 1, 3 and 5. Shares in percent.
	lines, bands := plotted(share)
	want := []string{"(60 1) (120 3) (240 5)", "(60 2) (120 4) (240 6)"}
	wantBands := []string{
		"(60 0.1) (120 0.3) (240 0.5) (240 50) (120 30) (60 10)",
		"(60 0.2) (120 0.4) (240 0.6) (240 60) (120 40) (60 20)",
	}
	if len(lines) != 2 || len(bands) != 2 {
		t.Fatalf("outcome chart: %d lines and %d bands, want 2 of each", len(lines), len(bands))
	}
	for g := range want {
		if got := xyText(lines[g]); got != want[g] {
			t.Errorf("outcome median %d: %s, want %s", g, got, want[g])
		}
		if got := xyText(bands[g]); got != wantBands[g] {
			t.Errorf("outcome band %d: %s, want %s", g, got, wantBands[g])
		}
	}
	if share.plot.X.Label.Text != "defence.content_filter.reaction (minutes)" {
		t.Errorf("outcome chart's x axis %q", share.plot.X.Label.Text)
	}

	lines, _ = plotted(curves)
	if len(lines) != 6 {
		t.Fatalf("curves chart: %d lines, want one per point", len(lines))
	}
	for i, l := range lines {
		if got, want := xyText(l), fmt.Sprintf("(0 1) (0.01667 %d) (0.03333 %d)", 2+i, 5+i); got != want {
			t.Errorf("point %d's curve: %s, want %s", i, got, want)
		}
	}

	rows := r.Sections[0].Tables[0].Rows
	wantRows := []string{
		"1h | 3 | 1% (0.1% to 10%) | never (300 to never) | 0 (0 to 0)",
		"1h | 6 | 2% (0.2% to 20%) | never (never to never) | 10 (1 to 100)",
		"2h | 3 | 3% (0.3% to 30%) | never (302 to never) | 20 (2 to 200)",
		"2h | 6 | 4% (0.4% to 40%) | never (never to never) | 30 (3 to 300)",
		"4h | 3 | 5% (0.5% to 50%) | never (304 to never) | 40 (4 to 400)",
		"4h | 6 | 6% (0.6% to 60%) | never (never to never) | 50 (5 to 500)",
	}
	for i, row := range rows {
		if got := strings.Join(row, " | "); i >= len(wantRows) || got != wantRows[i] {
			t.Errorf("table row %d: %q", i, got)
		}
	}
	if len(rows) != len(wantRows) {
		t.Errorf("%d table rows, want %d", len(rows), len(wantRows))
	}

	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"worm.scan_rate = 3", "worm.scan_rate = 6", ">1h, 3<", ">4h, 6<", "Sweep: s, 6 points of 10 runs"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
