package reproduce

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/sim"
)

// Result is an experiment's ensemble set beside the published figures.
type Result struct {
	Experiment *Experiment
	Scenario   string // the scenario's name
	Runs       int
	BaseSeed   uint64
	Engine     string
	Figures    []FigureResult
	// The chart's series: per grid instant, the 5%, 50% and 95% quantiles
	// over the runs, and the analytic model's curve when there is one.
	Times       []time.Time
	Lo, Mid, Hi []float64
	Model       []float64
	Start       time.Time
	Wall        time.Duration // how long the runs took
}

// FigureResult is one figure's verdict.
type FigureResult struct {
	Figure *Figure
	// Q are the 5%, 50% and 95% quantiles of the measured values over the
	// runs that reached the figure (Reached of them); NaN when none did.
	Q       [3]float64
	Reached int
	Lo, Hi  float64 // the tolerance
	Holds   bool
}

// Run runs e as an ensemble of runs seeds from base on workers goroutines
// (below 1: one) and judges every figure. Runs are independent, so the
// result does not depend on workers.
func Run(ctx context.Context, e *Experiment, runs int, base uint64, workers int) (*Result, error) {
	res := &Result{Experiment: e, Runs: runs, BaseSeed: base, Engine: e.Engine}
	if e.Scenario == "" {
		res.Runs = 0
		res.judge(nil)
		return res, nil
	}
	if runs < 1 || runs > MaxRuns {
		return nil, fmt.Errorf("%d runs: want 1 to %d", runs, MaxRuns)
	}
	sc, err := e.scenarioOf()
	if err != nil {
		return nil, fmt.Errorf("experiment %s: %w", e.Name, err)
	}
	res.Scenario = sc.Name
	if e.Extra != "" {
		res.Scenario += " with the experiment's additions"
	}
	res.Start = sc.Run.Start.UTC()
	values := make([][]float64, len(e.Figures)) // [figure][run]
	for i := range values {
		values[i] = make([]float64, runs)
	}
	series := make([][]float64, runs)
	began := time.Now()

	jobs := make(chan int)
	errs := make(chan error, runs)
	var wg sync.WaitGroup
	for range min(max(workers, 1), runs) {
		wg.Go(func() {
			for j := range jobs {
				errs <- runOne(e, sc.Build, base+uint64(j), j, values, series)
			}
		})
	}
feed:
	for j := range runs {
		select {
		case jobs <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Wall = time.Since(began)
	res.bands(series, sc.Run.Step.Duration)
	if e.Model != nil {
		hours := make([]float64, len(res.Times))
		for i, t := range res.Times {
			hours[i] = t.Sub(res.Start).Hours()
		}
		if res.Model, err = e.Model(hours); err != nil {
			return nil, fmt.Errorf("experiment %s: model: %w", e.Name, err)
		}
	}
	res.judge(values)
	return res, nil
}

// runOne makes run j and stores its figures and chart series.
func runOne(e *Experiment, build buildFunc, seed uint64, j int, values [][]float64, series [][]float64) error {
	c, err := build(seed)
	if err != nil {
		return err
	}
	if e.Prepare != nil {
		e.Prepare(c)
	}
	var r *sim.Result
	if e.Engine == "probe" {
		r, err = sim.RunProbe(c, seed)
	} else {
		r, err = sim.RunEvent(c, seed)
	}
	if err != nil {
		return fmt.Errorf("experiment %s, seed %d: %w", e.Name, seed, err)
	}
	o := &Outcome{Config: c, Result: r}
	for i := range e.Figures {
		f := &e.Figures[i]
		if f.NotYet != "" || f.Measure == nil {
			values[i][j] = math.NaN()
			continue
		}
		values[i][j] = f.Measure(o)
	}
	series[j] = seriesOf(e.Series, o)
	return nil
}

type buildFunc = func(seed uint64) (*sim.Config, error)

// seriesOf returns the chart's per-bin values of one run.
func seriesOf(kind string, o *Outcome) []float64 {
	rows := o.Result.Rows
	out := make([]float64, len(rows))
	switch kind {
	case "scan-rate":
		step := o.Config.Step.Seconds()
		for i, r := range rows {
			out[i] = float64(r.Probes) / step
		}
	case "ever":
		ever := float64(len(o.Config.Initial))
		for i, r := range rows {
			ever += float64(r.NewInfections)
			out[i] = ever
		}
	default:
		for i, r := range rows {
			out[i] = float64(r.Infected)
		}
	}
	return out
}

// bands reduces the runs' series to quantiles per bin.
func (res *Result) bands(series [][]float64, step time.Duration) {
	n := len(series[0])
	res.Times = make([]time.Time, n)
	res.Lo, res.Mid, res.Hi = make([]float64, n), make([]float64, n), make([]float64, n)
	col := make([]float64, len(series))
	for b := range n {
		res.Times[b] = res.Start.Add(time.Duration(b) * step)
		for j := range series {
			col[j] = series[j][b]
		}
		slices.Sort(col)
		q := quantiles(col)
		res.Lo[b], res.Mid[b], res.Hi[b] = q[0], q[1], q[2]
	}
}

// quantiles returns the 5%, 50% and 95% nearest-rank quantiles of sorted,
// as ensembles report them (ensemble.NearestRank).
func quantiles(sorted []float64) [3]float64 {
	var q [3]float64
	for i, p := range ensemble.Percentiles {
		q[i] = ensemble.NearestRank(sorted, p)
	}
	return q
}

// judge computes each figure's quantiles over the runs that reached it and
// whether its median is within tolerance.
func (res *Result) judge(values [][]float64) {
	e := res.Experiment
	for i := range e.Figures {
		f := &e.Figures[i]
		fr := FigureResult{Figure: f, Q: [3]float64{math.NaN(), math.NaN(), math.NaN()}}
		fr.Lo, fr.Hi = f.Tolerance()
		if values != nil && f.NotYet == "" {
			var got []float64
			for _, v := range values[i] {
				if !math.IsNaN(v) {
					got = append(got, v)
				}
			}
			fr.Reached = len(got)
			// A figure counts only when most runs reach it: a median over
			// the lucky few would flatter the model.
			if 2*len(got) > len(values[i]) {
				slices.Sort(got)
				fr.Q = quantiles(got)
				fr.Holds = fr.Q[1] >= fr.Lo && fr.Q[1] <= fr.Hi
			}
		}
		res.Figures = append(res.Figures, fr)
	}
}

// Held counts the figures within tolerance, inputs left out.
func (res *Result) Held() int {
	n := 0
	for _, f := range res.Figures {
		if f.Holds && !f.Figure.Input {
			n++
		}
	}
	return n
}

// Counted counts the figures that test the model: all but inputs.
func (res *Result) Counted() int {
	n := 0
	for _, f := range res.Figures {
		if !f.Figure.Input {
			n++
		}
	}
	return n
}
