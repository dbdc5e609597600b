package fit

import (
	"bytes"
	"encoding/csv"
	"math"
	"strconv"
	"testing"
)

func TestWriteCurveForecast(t *testing.T) {
	// 14 hours of minute bins and a 2-hour forecast: 840 + 120 rows after
	// the header; the observed column is empty exactly on the forecast rows;
	// the fitted cumulative at the last observed bin is within a few sd of
	// the observed total (Poisson sd sqrt(5000) ≈ 71), and global_infected
	// is fitted/coverage.
	s := synthLogistic(1.8, 7, 5000, 840, 5)
	o, err := FromSeries(s, "s.csv")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Logistic(o, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.WriteCurve(&buf, o, 2); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+840+120 {
		t.Fatalf("%d rows, want 961", len(rows))
	}
	if h := rows[0]; h[0] != "minute" || h[2] != "observed_sources" || h[4] != "global_infected" {
		t.Errorf("header %v", h)
	}
	last, fc := rows[840], rows[841]
	if last[0] != "839" || last[1] != "2001-07-19T23:59:00Z" || last[2] == "" || fc[2] != "" || fc[0] != "840" {
		t.Errorf("last observed row %v, first forecast row %v", last, fc)
	}
	obs, _ := strconv.ParseFloat(last[2], 64)
	fit, _ := strconv.ParseFloat(last[3], 64)
	glob, _ := strconv.ParseFloat(last[4], 64)
	if math.Abs(fit-obs) > 300 || math.Abs(glob-2*fit) > 0.01 {
		t.Errorf("last bin: observed %v, fitted %v, global %v", obs, fit, glob)
	}
	at, err := r.At(o.Ends[len(o.Ends)-1])
	if err != nil || math.Abs(at-fit) > 0.001 {
		t.Errorf("At(end) = %v, %v; CSV says %v", at, err, fit)
	}
}
