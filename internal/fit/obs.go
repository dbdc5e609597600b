package fit

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/wormlab/wormlab/internal/series"
)

// MinPoints is the fewest bins a series must have to be fitted: the models
// have three free parameters, and with fewer than five bins a confidence
// interval would rest on one or two degrees of freedom.
const MinPoints = 5

// Obs is an observed series reduced to what the fitters use: new sources per
// bin and the bins' end times.
//
// Time is in hours since the start of the first bin. Bin i ends at
// Ends[i] = start_i - start_0 + width, width being the smallest step between
// consecutive bin starts (the bin width, which may be under a minute). A
// row missing between two rows is read as a bin with no new sources: the
// cumulative count simply carries over, which is what a writer that omits
// empty bins means. The first bin reaches back to the outbreak's start:
// hosts infected before the observer started are first seen in it.
type Obs struct {
	Start  time.Time // UTC start of the first bin
	Width  float64   // bin width in hours
	Ends   []float64 // bin end times in hours since Start
	Counts []float64 // new sources in each bin
	Total  float64   // sum of Counts: the sources seen over the series
}

// FromSeries converts s, read from the file name, for fitting. It rejects
// series with fewer than MinPoints bins or with no new sources at all, naming
// the file.
func FromSeries(s series.Series, name string) (Obs, error) {
	n := len(s.Points)
	if n < MinPoints {
		return Obs{}, &series.Error{File: name, Msg: fmt.Sprintf("%d data rows, need at least %d to fit", n, MinPoints)}
	}
	width := time.Duration(math.MaxInt64)
	for i := 1; i < n; i++ {
		width = min(width, s.Points[i].Offset()-s.Points[i-1].Offset())
	}
	t0 := s.Points[0].Offset()
	o := Obs{
		Start:  s.Points[0].UTC,
		Width:  width.Hours(),
		Ends:   make([]float64, n),
		Counts: make([]float64, n),
	}
	for i, p := range s.Points {
		o.Ends[i] = (p.Offset() - t0 + width).Hours()
		o.Counts[i] = float64(p.NewSources)
		o.Total += o.Counts[i]
	}
	if o.Total == 0 {
		return Obs{}, &series.Error{File: name, Msg: "no new sources in any row: nothing to fit"}
	}
	return o, nil
}

// Cumulative returns the running sum of Counts: the distinct sources seen by
// the end of each bin.
func (o Obs) Cumulative() []float64 {
	c := make([]float64, len(o.Counts))
	sum := 0.0
	for i, y := range o.Counts {
		sum += y
		c[i] = sum
	}
	return c
}

// ParseCoverage parses an observer's coverage: a number or a fraction such as
// "1/256", in (0, 1].
func ParseCoverage(s string) (float64, error) {
	s = strings.TrimSpace(s)
	var v float64
	var err error
	if num, den, ok := strings.Cut(s, "/"); ok {
		var a, b float64
		a, err = strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err == nil {
			b, err = strconv.ParseFloat(strings.TrimSpace(den), 64)
		}
		v = a / b
	} else {
		v, err = strconv.ParseFloat(s, 64)
	}
	if err != nil || !(v > 0 && v <= 1) {
		return 0, fmt.Errorf("coverage %q: want a share in (0, 1] such as 1 or 1/256", s)
	}
	return v, nil
}
