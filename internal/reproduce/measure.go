package reproduce

import (
	"math"
	"time"

	"github.com/wormlab/wormlab/internal/fit"
	"github.com/wormlab/wormlab/internal/sim"
)

// The measures figures are made of. Each reads one run; times are seconds
// since the run's start unless a name says otherwise.

// infectedAt returns the infected count at offset d from the start (the
// grid instant at or before it).
func infectedAt(d time.Duration) func(*Outcome) float64 {
	return func(o *Outcome) float64 {
		rows := o.Result.Rows
		b := min(int(d/o.Config.Step), len(rows)-1)
		return float64(rows[b].Infected)
	}
}

// everAt returns the hosts infected at any time up to offset d, the
// initial ones included: what a telescope counts as distinct sources.
func everAt(d time.Duration) func(*Outcome) float64 {
	return func(o *Outcome) float64 {
		n := len(o.Config.Initial)
		for _, inf := range o.Result.Infections {
			if inf.T > d.Seconds() {
				break
			}
			n++
		}
		return float64(n)
	}
}

// timeToShare returns the seconds until share of the vulnerable hosts have
// been infected (ever), NaN if that never happens.
func timeToShare(share float64) func(*Outcome) float64 {
	return func(o *Outcome) float64 { return timeToCount(o, share*float64(len(o.Config.Hosts))) }
}

// timeToCount returns the seconds until want hosts have been infected
// (ever), the initial ones included; NaN if that never happens.
func timeToCount(o *Outcome, want float64) float64 {
	n := len(o.Config.Initial)
	if float64(n) >= math.Ceil(want) {
		return 0
	}
	for _, inf := range o.Result.Infections {
		n++
		if float64(n) >= math.Ceil(want) {
			return inf.T
		}
	}
	return math.NaN()
}

// minutes and hours convert a measure in seconds.
func minutes(m func(*Outcome) float64) func(*Outcome) float64 {
	return func(o *Outcome) float64 { return m(o) / 60 }
}

func hours(m func(*Outcome) float64) func(*Outcome) float64 {
	return func(o *Outcome) float64 { return m(o) / 3600 }
}

// peakPerMinute returns the most new infections in one minute, counted in
// sliding one-minute windows over the infection events (independent of
// the output grid).
func peakPerMinute(o *Outcome) float64 {
	return peakInWindow(0, time.Duration(math.MaxInt64))(o)
}

// peakInWindow returns the most new infections in one sliding minute
// within [from, to).
func peakInWindow(from, to time.Duration) func(*Outcome) float64 {
	return func(o *Outcome) float64 {
		var in []float64
		for _, inf := range o.Result.Infections {
			if inf.T >= from.Seconds() && inf.T < to.Seconds() {
				in = append(in, inf.T)
			}
		}
		best, lo := 0, 0
		for hi := range in {
			for in[hi]-in[lo] >= 60 {
				lo++
			}
			best = max(best, hi-lo+1)
		}
		return float64(best)
	}
}

// newBetween counts the infections in [from, to).
func newBetween(from, to time.Duration) func(*Outcome) float64 {
	return func(o *Outcome) float64 {
		n := 0
		for _, inf := range o.Result.Infections {
			if inf.T >= from.Seconds() && inf.T < to.Seconds() {
				n++
			}
		}
		return float64(n)
	}
}

// ratio returns a/b, NaN when b is zero.
func ratio(a, b func(*Outcome) float64) func(*Outcome) float64 {
	return func(o *Outcome) float64 {
		d := b(o)
		if d == 0 {
			return math.NaN()
		}
		return a(o) / d
	}
}

// fittedK returns the logistic growth rate per hour fitted to the run's
// infected curve (fit.LogisticKT, as run records report it), NaN when the
// run has too little of the curve.
func fittedK(o *Outcome) float64 {
	k, _ := fitKT(o)
	return k
}

// fittedT returns the fitted logistic's half time in hours from the start.
func fittedT(o *Outcome) float64 {
	_, t := fitKT(o)
	return t
}

func fitKT(o *Outcome) (k, t float64) {
	rows := o.Result.Rows
	hs := make([]float64, len(rows))
	inf := make([]float64, len(rows))
	for i, r := range rows {
		hs[i] = r.At.Sub(o.Config.Start).Hours()
		inf[i] = float64(r.Infected)
	}
	k, t, err := fit.LogisticKT(hs, inf, float64(len(o.Config.Hosts)))
	if err != nil {
		return math.NaN(), math.NaN()
	}
	return k, t
}

// doublingTime returns ln 2 over the slope of ln J(t), J the hosts
// infected so far, fitted by least squares to the infection events while
// J runs from 100 hosts to 5% of the population: past the first tens of
// hosts, whose timing is chance (which copies, on which uplinks, came
// first), and before saturation bends the curve. NaN without such events.
func doublingTime(o *Outcome) float64 {
	n := float64(len(o.Config.Hosts))
	i0 := len(o.Config.Initial)
	var xs, ys []float64
	for k, inf := range o.Result.Infections {
		j := float64(i0 + k + 1)
		if j >= 100 && j < 0.05*n {
			xs = append(xs, inf.T)
			ys = append(ys, math.Log(j))
		}
	}
	if len(xs) < 3 {
		return math.NaN()
	}
	return math.Ln2 / slope(xs, ys)
}

func slope(xs, ys []float64) float64 {
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(ys))
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	return sxy / sxx
}

// peakScanRate returns the largest aggregate probes a second in one bin.
func peakScanRate(o *Outcome) float64 {
	best := 0.0
	for _, r := range o.Result.Rows {
		best = max(best, float64(r.Probes))
	}
	return best / o.Config.Step.Seconds()
}

// timeToPeakScanRate returns the seconds until the first bin whose
// aggregate scan rate reaches 95% of the run's peak: the rate's knee,
// which is where a measured curve is said to peak when it then levels off.
func timeToPeakScanRate(o *Outcome) float64 {
	peak := peakScanRate(o) * o.Config.Step.Seconds()
	for _, r := range o.Result.Rows {
		if float64(r.Probes) >= 0.95*peak {
			return r.At.Sub(o.Config.Start).Seconds()
		}
	}
	return math.NaN()
}

// neverInfected returns the share of vulnerable hosts never infected by
// the end of the run.
func neverInfected(o *Outcome) float64 {
	n := float64(len(o.Config.Hosts))
	return 1 - float64(len(o.Config.Initial)+len(o.Result.Infections))/n
}

// timeToShareOfFinal returns the seconds until share of the hosts infected
// by the end have been: where the curve of hosts infected so far levels
// off, whatever share of the population it levels off at.
func timeToShareOfFinal(share float64) func(*Outcome) float64 {
	return func(o *Outcome) float64 {
		return timeToCount(o, share*float64(len(o.Config.Initial)+len(o.Result.Infections)))
	}
}

// activeSince is an observer that keeps, per host, the first time after
// From that it starts to scan: when a source first shows up in others'
// logs, whether it woke from dormancy or was just infected. Hosts set
// scanning at From itself (a run's initial copies, before they are put to
// sleep) are not counted.
type activeSince struct {
	From  float64
	First map[int32]float64
}

func (a *activeSince) Spreading(t float64, h int32, on bool) {
	if !on || t <= a.From {
		return
	}
	if _, seen := a.First[h]; !seen {
		a.First[h] = t
	}
}

func (a *activeSince) Changed(float64, int32, sim.State, sim.State) {}
func (a *activeSince) Advance(sim.Stretch)                          {}

// watchActive returns a Prepare that attaches an activeSince from d.
func watchActive(d time.Duration) func(*sim.Config) {
	return func(c *sim.Config) {
		c.Observers = append(c.Observers, &activeSince{From: d.Seconds(), First: map[int32]float64{}})
	}
}

// activeBetween counts the hosts first active (since the watch began) in
// [from, to), per hour.
func activeBetween(from, to time.Duration) func(*Outcome) float64 {
	return func(o *Outcome) float64 {
		for _, obs := range o.Config.Observers {
			a, ok := obs.(*activeSince)
			if !ok {
				continue
			}
			n := 0
			for _, t := range a.First {
				if t >= from.Seconds() && t < to.Seconds() {
					n++
				}
			}
			return float64(n) / (to - from).Hours()
		}
		return math.NaN()
	}
}
