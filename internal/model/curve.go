package model

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Curve is a model sampled on a time grid. All slices have the length of
// Hours.
type Curve struct {
	Hours    []float64 // sample times
	Infected []float64 // I: infected and infectious hosts
	Removed  []float64 // R: infected hosts removed (cleaned, patched after infection)
	Patched  []float64 // Q: susceptible hosts made immune before infection
	Ever     []float64 // J = I + R: hosts infected so far, what a telescope counts as sources
	Rate     []float64 // new infections per hour, dJ/dt
}

func newCurve(hours []float64) Curve {
	n := len(hours)
	return Curve{
		Hours:    append([]float64(nil), hours...),
		Infected: make([]float64, n),
		Removed:  make([]float64, n),
		Patched:  make([]float64, n),
		Ever:     make([]float64, n),
		Rate:     make([]float64, n),
	}
}

// Grid returns the times 0, step, 2 step, ... up to and including hours
// (the last point is hours itself when step does not divide it). Both are
// in hours; it returns an error unless 0 < step and 0 <= hours, and it caps
// the grid at 10 million points so a typo cannot exhaust memory.
func Grid(hours, step float64) ([]float64, error) {
	if !(step > 0) || math.IsInf(step, 0) {
		return nil, fmt.Errorf("model: step %v h, want a positive duration", step)
	}
	if !(hours >= 0) || math.IsInf(hours, 0) {
		return nil, fmt.Errorf("model: horizon %v h, want a non-negative duration", hours)
	}
	const maxPoints = 10_000_000
	n := math.Floor(hours/step + 1e-9)
	if n+2 > maxPoints {
		return nil, fmt.Errorf("model: %g h in steps of %g h is over %d points", hours, step, maxPoints)
	}
	g := make([]float64, 0, int(n)+2)
	for i := 0; i <= int(n); i++ {
		g = append(g, float64(i)*step)
	}
	if last := g[len(g)-1]; hours-last > 1e-9*math.Max(1, hours) {
		g = append(g, hours)
	}
	return g, nil
}

// Summary is what a person asks of a curve first.
type Summary struct {
	// HalfHour is the first sample hour at which Ever reaches half of the
	// population; NaN when it never does on the grid.
	HalfHour float64
	// PeakRateHour and PeakRate locate the largest Rate sample.
	PeakRateHour, PeakRate float64
	// PeakInfectedHour and PeakInfected locate the largest Infected sample.
	PeakInfectedHour, PeakInfected float64
}

// Summarize finds the half-population time and the peaks of c, given the
// population n.
func (c Curve) Summarize(n float64) Summary {
	s := Summary{HalfHour: math.NaN()}
	for i, t := range c.Hours {
		if math.IsNaN(s.HalfHour) && c.Ever[i] >= n/2 {
			// Interpolate linearly between samples: the grid is the user's
			// and may be coarse.
			s.HalfHour = t
			if i > 0 && c.Ever[i] > c.Ever[i-1] {
				// float64() rounds each product before the sum, so no
				// compiler fuses them (n/2 is compiled as n*0.5).
				f := (float64(n/2) - c.Ever[i-1]) / (c.Ever[i] - c.Ever[i-1])
				s.HalfHour = c.Hours[i-1] + float64(f*(t-c.Hours[i-1]))
			}
		}
		if i == 0 || c.Rate[i] > s.PeakRate {
			s.PeakRate, s.PeakRateHour = c.Rate[i], t
		}
		if i == 0 || c.Infected[i] > s.PeakInfected {
			s.PeakInfected, s.PeakInfectedHour = c.Infected[i], t
		}
	}
	return s
}

// CSVHeader is the column list WriteCSV emits.
const CSVHeader = "minute,hour,infected,removed,patched,ever_infected,new_per_hour"

// WriteCSV writes c as CSV with the header CSVHeader; minute is the sample
// time in minutes, rounded to 1e-6, and hour the same in hours, rounded
// to 1e-9.
func WriteCSV(w io.Writer, c Curve) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(CSVHeader + "\n")
	var b []byte
	for i, t := range c.Hours {
		b = b[:0]
		b = strconv.AppendFloat(b, math.Round(t*60*1e6)/1e6, 'f', -1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, math.Round(t*1e9)/1e9, 'f', -1, 64)
		for _, v := range []float64{c.Infected[i], c.Removed[i], c.Patched[i], c.Ever[i], c.Rate[i]} {
			b = append(b, ',')
			b = strconv.AppendFloat(b, v, 'g', 10, 64)
		}
		b = append(b, '\n')
		bw.Write(b)
	}
	return bw.Flush()
}
