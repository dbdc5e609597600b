package fit

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/wormlab/wormlab/internal/series"
)

// FuzzParseCoverage checks that any accepted coverage is a share in (0, 1].
// Seeds (testdata/fuzz/FuzzParseCoverage): fractions with spaces, zero
// denominators, signs, exponents, NaN and Inf spellings, and "1/2/3".
func FuzzParseCoverage(f *testing.F) {
	for _, s := range []string{"1", "1/256", " 3 / 4 ", "0", "1/0", "-1/-256", "1e-3", "NaN", "+Inf", "1/2/3", "", "0x1p-8", "١/٢"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseCoverage(s)
		if err == nil && !(v > 0 && v <= 1) {
			t.Fatalf("ParseCoverage(%q) = %v, accepted outside (0, 1]", s, v)
		}
	})
}

// FuzzFitSeries feeds arbitrary series files through the path `wormlab fit`
// takes: read, reduce, fit. Whatever the input, it must not panic, and a
// fit that returns no error must give finite estimates inside their own
// intervals. The seeds are the CSV files in testdata/series (a clean
// logistic, a series with gaps, one that never saturates, one with a
// single burst) plus the Go corpus in testdata/fuzz.
func FuzzFitSeries(f *testing.F) {
	files, _ := filepath.Glob("testdata/series/*.csv")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := series.Read(bytes.NewReader(b), "f.csv")
		if err != nil {
			return
		}
		if len(s.Points) > 2000 {
			return // keep each input cheap
		}
		o, err := FromSeries(s, "f.csv")
		if err != nil {
			return
		}
		r, err := Logistic(o, 1)
		if err != nil {
			if !errors.Is(err, ErrNoConverge) {
				t.Fatalf("Logistic error does not say it did not converge: %v", err)
			}
			return
		}
		for _, p := range append(r.Params, Param{Name: "plateau", Value: r.Plateau}) {
			v := p.Value
			if math.IsNaN(v.Est) || math.IsInf(v.Est, 0) || !(v.Lo <= v.Est*(1+1e-6)+1e-9 && v.Est <= v.Hi*(1+1e-6)+1e-9) {
				t.Fatalf("%s = %+v: estimate not finite or outside its interval", p.Name, v)
			}
		}
	})
}
