package fit

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/wormlab/wormlab/internal/model"
	"github.com/wormlab/wormlab/internal/series"
)

var t0 = time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)

// synthLogistic draws an observed series from the logistic's own
// stochastic version, the model Logistic assumes: per-minute bins over
// hours, new sources in bin i Poisson with mean plateau·(a(e_i)-a(e_{i-1})),
// the first bin collecting everything before it. These are not engine
// telescope series (the engines belong to another package); they test the
// fitter against its own noise model.
func synthLogistic(k, t, plateau float64, bins int, seed uint64) series.Series {
	src := rand.New(rand.NewPCG(seed, 0x5eed))
	p := model.Logistic{K: k, T: t, N: plateau}
	var s series.Series
	prev := 0.0
	for i := 0; i < bins; i++ {
		a := p.Infected(float64(i+1) / 60)
		mean := a - prev
		prev = a
		var y float64
		if mean > 0 {
			y = distuv.Poisson{Lambda: mean, Src: src}.Rand()
		}
		s.Points = append(s.Points, series.Point{
			Minute: int64(i), UTC: t0.Add(time.Duration(i) * time.Minute),
			Probes: int64(y) * 3, Sources: int64(y), NewSources: int64(y),
		})
	}
	return s
}

func fitSynth(t *testing.T, s series.Series, coverage float64) (Result, error) {
	t.Helper()
	o, err := FromSeries(s, "synth.csv")
	if err != nil {
		t.Fatal(err)
	}
	return Logistic(o, coverage)
}

func TestLogisticRecoversParameters(t *testing.T) {
	// A large plateau (100,000 sources) makes the sampling noise small: the
	// Fisher information for K from ~1e5 timed events spread over a few
	// hours gives an sd near 0.01 per hour, so the estimate must be within
	// 0.05 (5 sd) and the interval narrower than 0.1.
	r, err := fitSynth(t, synthLogistic(1.8, 7, 1e5, 840, 1), 1.0/256)
	if err != nil {
		t.Fatal(err)
	}
	k := r.Params[0].Value
	if math.Abs(k.Est-1.8) > 0.05 || k.Hi-k.Lo > 0.1 || !(k.Lo < k.Est && k.Est < k.Hi) {
		t.Errorf("K = %+v, want 1.8 ± 0.05 with a tight interval around the estimate", k)
	}
	if tt := r.Params[1].Value; math.Abs(tt.Est-7) > 0.05 {
		t.Errorf("T = %+v, want 7 ± 0.05", tt)
	}
	// The plateau is observed almost entirely by hour 14 (a = 0.99993), so
	// its estimate is the total count, within a few sd (sqrt(1e5) ≈ 316).
	if p := r.Plateau; math.Abs(p.Est-1e5) > 1500 || !(p.Lo < 1e5+1500 && p.Hi > 1e5-1500) {
		t.Errorf("plateau = %+v, want 100000 ± 1500", p)
	}
	if got, want := r.Population.Est, r.Plateau.Est*256; math.Abs(got-want) > 1e-6*want {
		t.Errorf("population = %v, want plateau × 256 = %v", got, want)
	}
	if r.PeakUTC().Sub(t0.Add(7*time.Hour)).Abs() > 3*time.Minute {
		t.Errorf("peak at %v, want about %v", r.PeakUTC(), t0.Add(7*time.Hour))
	}
}

// TestLogisticIntervalCoverage is the test of issue 5: over 100 simulated
// series the 95% interval for K must cover the true K at least 90 times.
// The series are 14 hours of one-minute bins of Code Red v2's curve
// (K = 1.8 per hour, T = 7 h) seen by an observer that catches 1/256 of
// the 360,000 infected hosts: a plateau of 1,406 sources, a harder test
// than a /8 telescope, which sees nearly every host. They are drawn from
// the model's own Poisson version with seeds 1..100. If the intervals were
// exact, the count covered would be Binomial(100, 0.95): P(X < 90) = 0.011
// (summed exactly), so a correct fitter fails this about once in 87 seed
// sets; these seeds are fixed and were not chosen by looking.
func TestLogisticIntervalCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("100 fits")
	}
	const trueK, trueT, plateau = 1.8, 7.0, 360000.0 / 256
	coveredK, coveredT, coveredP := 0, 0, 0
	for seed := uint64(1); seed <= 100; seed++ {
		r, err := fitSynth(t, synthLogistic(trueK, trueT, plateau, 840, seed), 1.0/256)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if k := r.Params[0].Value; k.Lo <= trueK && trueK <= k.Hi {
			coveredK++
		}
		if tt := r.Params[1].Value; tt.Lo <= trueT && trueT <= tt.Hi {
			coveredT++
		}
		// The generator's plateau is the Poisson scale the fit estimates.
		if p := r.Plateau; p.Lo <= plateau && plateau <= p.Hi {
			coveredP++
		}
	}
	t.Logf("95%% intervals covered the truth: K %d/100, T %d/100, plateau %d/100", coveredK, coveredT, coveredP)
	if coveredK < 90 {
		t.Errorf("K interval covered the true K in %d of 100 series, want at least 90", coveredK)
	}
	if coveredT < 90 || coveredP < 90 {
		t.Errorf("T covered %d, plateau %d of 100, want at least 90 each", coveredT, coveredP)
	}
}

func TestLogisticRefusesUnsaturatedCurve(t *testing.T) {
	// 14 hours of a curve whose midpoint is at hour 30: only the
	// exponential phase is seen, a(14) ≈ 3e-13 of the plateau, so the data
	// say nothing about the plateau. The fit must refuse, not invent one.
	_, err := fitSynth(t, synthLogistic(1.8, 30, 1e15, 840, 7), 1)
	if err == nil || !errors.Is(err, ErrNoConverge) || !strings.Contains(err.Error(), "plateau") {
		t.Fatalf("err = %v, want a non-convergence error about the plateau", err)
	}
}

func TestFromSeriesErrors(t *testing.T) {
	short := synthLogistic(1.8, 7, 1000, 4, 1)
	if _, err := FromSeries(short, "s.csv"); err == nil || !strings.HasPrefix(err.Error(), "s.csv: 4 data rows, need at least 5") {
		t.Errorf("4 rows: err = %v", err)
	}
	empty := synthLogistic(1.8, 7, 1000, 10, 1)
	for i := range empty.Points {
		empty.Points[i].NewSources = 0
	}
	if _, err := FromSeries(empty, "e.csv"); err == nil || !strings.Contains(err.Error(), "e.csv: no new sources") {
		t.Errorf("no sources: err = %v", err)
	}
	// Gaps: 5-minute bins with one missing row. The width is 5 minutes and
	// the ends fall at bin start + 5 min.
	s := synthLogistic(1.8, 7, 1000, 6, 1)
	for i := range s.Points {
		s.Points[i].Minute = int64(5 * i)
		if i >= 3 {
			s.Points[i].Minute += 5
		}
		s.Points[i].NewSources = 1
	}
	o, err := FromSeries(s, "g.csv")
	if err != nil {
		t.Fatal(err)
	}
	if o.Width != 5.0/60 || o.Ends[0] != 5.0/60 || o.Ends[3] != 25.0/60 || o.Total != 6 {
		t.Errorf("Obs = %+v", o)
	}
}

func TestParseCoverage(t *testing.T) {
	for in, want := range map[string]float64{"1": 1, "1/256": 1.0 / 256, " 0.5 ": 0.5, "3 / 4": 0.75} {
		if got, err := ParseCoverage(in); err != nil || got != want {
			t.Errorf("ParseCoverage(%q) = %v, %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "2", "1/0", "-1/256", "abc", "1/2/3", "NaN", "Inf"} {
		if _, err := ParseCoverage(in); err == nil {
			t.Errorf("ParseCoverage(%q) = nil error", in)
		}
	}
}
