package report

import (
	"io"
	"testing"
)

// The figure of the issue: a report from a 1,000-run ensemble in under 3 s
// and under 2 MB. testdata/ensemble-1000.json.gz is a real ensemble file,
// written by `wormlab simulate --scenario codered-v2-scaled --runs 1000
// --json` (841 bins, 1,000 members): the report's cost depends on the bins
// and the members, not on the size of the simulated population, so the
// full-size Code Red day gives the same file layout and the same cost.

func benchInputs(b *testing.B) []byte {
	return gunzipTestdata(b, "ensemble-1000.json.gz")
}

// BenchmarkEnsembleHTML is `wormlab report ensemble.json -o report.html`
// less the file system: parse, build, draw every chart as SVG.
func BenchmarkEnsembleHTML(b *testing.B) {
	data := benchInputs(b)
	var size int64
	for b.Loop() {
		in, err := Parse("ensemble.json", data)
		if err != nil {
			b.Fatal(err)
		}
		r, err := Build([]*Input{in})
		if err != nil {
			b.Fatal(err)
		}
		cw := &countWriter{}
		if err := r.WriteHTML(cw); err != nil {
			b.Fatal(err)
		}
		size = cw.n
	}
	b.ReportMetric(float64(size), "html-bytes")
}

// BenchmarkEnsemblePNG is the same report drawn as PNG files (--png).
func BenchmarkEnsemblePNG(b *testing.B) {
	data := benchInputs(b)
	in, err := Parse("ensemble.json", data)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r, err := Build([]*Input{in})
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range r.Charts() {
			if err := c.WritePNG(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkRunHTML is the report of one full Code Red II week with its
// block-load observer and per-/8 map (1,009 bins).
func BenchmarkRunHTML(b *testing.B) {
	data := gunzipTestdata(b, "crii-block.json.gz")
	for b.Loop() {
		in, err := Parse("crii.json", data)
		if err != nil {
			b.Fatal(err)
		}
		r, err := Build([]*Input{in})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.WriteHTML(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// TestEnsembleFigures checks the report of the real 1,000-run ensemble:
// its facts and its size. Its time is BenchmarkEnsembleHTML's to measure
// (docs/PERFORMANCE.md): a wall-clock bound in a test fails on a loaded
// machine and proves nothing on a quiet one.
func TestEnsembleFigures(t *testing.T) {
	data := gunzipTestdata(t, "ensemble-1000.json.gz")
	in, err := Parse("ensemble.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if in.Ensemble.Runs != 1000 || len(in.Ensemble.Figures["minutes_to_half"]) != 1000 {
		t.Fatalf("ensemble: %d runs, %d times to half", in.Ensemble.Runs, len(in.Ensemble.Figures["minutes_to_half"]))
	}
	// The summary of the file: minutes to half 204, 252, 340 and K 1.718,
	// 1.794, 1.875 over 1,000 runs that all reached half and were fitted.
	facts := map[string]string{}
	for _, f := range ensembleFacts(in.Ensemble) {
		facts[f.Name] = f.Value
	}
	if got, want := facts["Half infected after"], "4.2 h (3.4 h to 5.7 h), in 1,000 of 1,000 runs"; got != want {
		t.Errorf("half infected after %q, want %q", got, want)
	}
	if got, want := facts["Logistic K per hour"], "1.79 (1.72 to 1.88), in 1,000 of 1,000 runs"; got != want {
		t.Errorf("K %q, want %q", got, want)
	}
	r, err := Build([]*Input{in})
	if err != nil {
		t.Fatal(err)
	}
	var w countWriter
	if err := r.WriteHTML(&w); err != nil {
		t.Fatal(err)
	}
	if w.n <= 0 || w.n > 2<<20 {
		t.Errorf("report is %d bytes, want under 2 MiB", w.n)
	}
	t.Logf("%d bytes", w.n)
}
