// Package ensemble runs many seeds of one scenario in parallel and reduces
// them to quantile bands per bin (docs/DESIGN.md §3). Runs are
// independent and keyed by seed, so an ensemble can also be split into
// shards that batch engines run apart; a shard keeps every run's per-bin
// values, because quantiles cannot be merged from quantiles, and Merge
// puts shards back into the set an unsharded run would have made.
package ensemble

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/wormlab/wormlab/internal/fit"
	"github.com/wormlab/wormlab/internal/observe"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/version"
)

// Columns are the series columns an ensemble keeps per bin for every
// run, named as in the run CSV.
var Columns = []string{"susceptible", "infected", "patched", "removed", "new_infections", "probes"}

// TelescopeColumns follow Columns when the scenario has a telescope and
// the event engine, which drives observers, runs it: per bin, the probes
// the telescope received, the distinct sources and the new ones among
// them, and the sources seen since the start.
var TelescopeColumns = []string{"telescope_probes", "telescope_sources", "telescope_new_sources", "telescope_seen"}

const colInfected = 1 // Columns[colInfected] == "infected"

// columnsFor returns the columns of an ensemble of sc run by engine.
func columnsFor(sc *scenario.Scenario, engine string) []string {
	if sc.Telescope != nil && engine == "event" {
		return append(slices.Clip(Columns), TelescopeColumns...)
	}
	return Columns
}

// Spec says which runs to make.
type Spec struct {
	Scenario *scenario.Scenario
	Engine   string // "event" or "probe"
	// Run j of the ensemble, 0 <= j < Runs, uses seed BaseSeed+j.
	BaseSeed uint64
	Runs     int
	Shard    Shard // the zero Shard runs them all
	// Workers is how many runs go at once; below 1 means 1.
	Workers int
	// Progress, if set, is called after each run finishes with the count
	// done so far. Calls come from one goroutine, in order.
	Progress func(done int)
}

// Header is what identifies an ensemble: runs with equal headers can be
// put together.
type Header struct {
	Version      string             `json:"version"`
	Commit       string             `json:"commit"`
	Scenario     *scenario.Scenario `json:"scenario"`
	ScenarioTOML string             `json:"scenario_toml"`
	BaseSeed     uint64             `json:"base_seed"`
	Runs         int                `json:"runs"`
	Engine       string             `json:"engine"`
	Start        time.Time          `json:"start"`
	StepSeconds  float64            `json:"step_seconds"`
	// Bins counts the grid instants of a run, the initial one included.
	Bins int `json:"bins"`
	// Columns name the per-bin values kept of each run.
	Columns []string `json:"columns"`
}

// Member is what an ensemble keeps of one run besides its series: the
// figures people compare across runs. Run j used seed BaseSeed+j.
type Member struct {
	Run           int    `json:"run"`
	Seed          uint64 `json:"seed"`
	FinalInfected int64  `json:"final_infected"`
	// MinutesToHalf is the first grid instant, in minutes from the start,
	// with at least half the population infected; nil if none has.
	MinutesToHalf *float64 `json:"minutes_to_half"`
	// KPerHour is the run's logistic fit, as in its run record
	// (runrec.Logistic); nil when the run has too little of the curve.
	KPerHour      *float64 `json:"k_per_hour"`
	PeakPerMinute float64  `json:"peak_new_infections_per_minute"`
	PeakMinute    float64  `json:"peak_minute"`
	Infections    int64    `json:"infections"`
	Probes        int64    `json:"probes"`
}

// Set is some or all runs of one ensemble: their figures and their per-bin
// values, stored per column as one flat array so that memory grows with
// runs times bins and no run record is kept.
type Set struct {
	Header
	Shard   Shard
	Members []Member // ascending Run
	// values[c][k*Bins+b] is Columns[c] at bin b of Members[k]; nil in
	// a set MergeFiles made, which holds its bands instead.
	values [][]int64
	bands  []Band
}

// Complete reports whether s holds every run of its ensemble.
func (s *Set) Complete() bool { return len(s.Members) == s.Runs }

// Value returns column c (an index into s.Columns) at bin b of Members[k].
// A set made by MergeFiles holds no values.
func (s *Set) Value(c, k, b int) int64 { return s.values[c][k*s.Bins+b] }

func newSet(h Header, sh Shard, runs []int) *Set {
	s := &Set{Header: h, Shard: sh, Members: make([]Member, len(runs)), values: make([][]int64, len(h.Columns))}
	for k, j := range runs {
		s.Members[k].Run = j
		s.Members[k].Seed = h.BaseSeed + uint64(j)
	}
	for c := range s.values {
		s.values[c] = make([]int64, len(runs)*h.Bins)
	}
	return s
}

// headerOf returns the header of an ensemble of sc made by this build.
func headerOf(sc *scenario.Scenario, engine string, base uint64, runs int) Header {
	step := sc.Run.Step.Duration
	return Header{
		Version:      version.Version,
		Commit:       version.Commit(),
		Scenario:     sc,
		ScenarioTOML: sc.Source,
		BaseSeed:     base,
		Runs:         runs,
		Engine:       engine,
		Start:        sc.Run.Start.UTC(),
		StepSeconds:  step.Seconds(),
		Bins:         int(sc.Run.End.Sub(sc.Run.Start)/step) + 1,
		Columns:      columnsFor(sc, engine),
	}
}

// checkCounts reports a problem with an ensemble's size and split.
func checkCounts(base uint64, runs int, sh Shard) error {
	switch {
	case runs < 1:
		return fmt.Errorf("%d runs: want at least 1", runs)
	case base > math.MaxUint64-uint64(runs-1):
		return fmt.Errorf("seeds %d and up: %d runs would pass the largest seed", base, runs)
	case sh.Count < 0 || sh.Index < 0 || sh.Index >= sh.count():
		return fmt.Errorf("shard %d/%d: want 0 <= i < n", sh.Index, sh.Count)
	case sh.count() > runs:
		return fmt.Errorf("%d shards of %d runs: some shards would hold no run", sh.count(), runs)
	}
	return nil
}

// Check reports the first problem with sp, if any: an unknown engine, no
// runs, seeds past the largest uint64, or more shards than runs.
func (sp Spec) Check() error {
	if sp.Scenario == nil {
		return errors.New("no scenario")
	}
	if sp.Engine != "event" && sp.Engine != "probe" {
		return fmt.Errorf("engine %q: want event or probe", sp.Engine)
	}
	return checkCounts(sp.BaseSeed, sp.Runs, sp.Shard)
}

// Run makes the runs of sp's shard, sp.Workers at a time. The result does
// not depend on the number of workers: run j always uses seed BaseSeed+j
// and lands in the same place. When ctx is cancelled, Run lets the runs
// under way finish and returns ctx's error.
func Run(ctx context.Context, sp Spec) (*Set, error) {
	if err := sp.Check(); err != nil {
		return nil, err
	}
	set := newSet(headerOf(sp.Scenario, sp.Engine, sp.BaseSeed, sp.Runs), sp.Shard, sp.Shard.Members(sp.Runs))

	stop := ctx.Done() // ends the runs under way too, within a second
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for k := range set.Members {
			select {
			case jobs <- k:
			case <-ctx.Done():
				return
			}
		}
	}()
	results := make(chan error)
	var wg sync.WaitGroup
	for range min(max(sp.Workers, 1), len(set.Members)) {
		wg.Go(func() {
			for k := range jobs {
				results <- set.runOne(sp.Scenario, k, stop)
			}
		})
	}
	go func() { wg.Wait(); close(results) }()

	var first error
	done := 0
	for err := range results {
		if err != nil && first == nil {
			first = err
			cancel()
		}
		done++
		if sp.Progress != nil && first == nil {
			sp.Progress(done)
		}
	}
	if first != nil && !errors.Is(first, sim.ErrStopped) {
		return nil, first
	}
	if first != nil || done < len(set.Members) {
		return nil, context.Cause(ctx)
	}
	return set, nil
}

// runOne makes run Members[k] and stores its figures and values; runs
// write disjoint parts of the set, so workers need no lock.
func (s *Set) runOne(sc *scenario.Scenario, k int, stop <-chan struct{}) error {
	m := &s.Members[k]
	c, err := sc.Build(m.Seed)
	if err != nil {
		return err
	}
	c.Stop = stop
	var res *sim.Result
	if s.Engine == "event" {
		res, err = sim.RunEvent(c, m.Seed)
	} else {
		res, err = sim.RunProbe(c, m.Seed)
	}
	if err != nil {
		return fmt.Errorf("run %d (seed %d): %w", m.Run, m.Seed, err)
	}
	if len(res.Rows) != s.Bins {
		return fmt.Errorf("run %d (seed %d): %d rows, want %d", m.Run, m.Seed, len(res.Rows), s.Bins)
	}
	// The figures are runrec's (TestMembersAreSingleRuns holds them
	// equal), computed here without the run record, whose per-prefix
	// counts cost an eighth of a Code Red run.
	base := k * s.Bins
	half := int64(len(c.Hosts)+1) / 2
	perMinute := 60 / s.StepSeconds
	hours := make([]float64, len(res.Rows))
	infected := make([]float64, len(res.Rows))
	for b, row := range res.Rows {
		for col, v := range [...]int64{row.Susceptible, row.Infected, row.Patched, row.Removed, row.NewInfections, row.Probes} {
			s.values[col][base+b] = v
		}
		offset := row.At.Sub(c.Start)
		if m.MinutesToHalf == nil && row.Infected >= half {
			minute := offset.Minutes()
			m.MinutesToHalf = &minute
		}
		if v := float64(row.NewInfections) * perMinute; v > m.PeakPerMinute {
			m.PeakPerMinute, m.PeakMinute = v, offset.Minutes()
		}
		m.Probes += row.Probes
		hours[b], infected[b] = offset.Hours(), float64(row.Infected)
	}
	if kh, _, err := fit.LogisticKT(hours, infected, float64(len(c.Hosts))); err == nil && !math.IsNaN(kh) {
		m.KPerHour = &kh
	}
	m.FinalInfected = res.Rows[len(res.Rows)-1].Infected
	m.Infections = int64(len(res.Infections))
	if len(s.Columns) > len(Columns) {
		return s.telescope(c, k)
	}
	return nil
}

// telescope stores what the run's telescope saw.
func (s *Set) telescope(c *sim.Config, k int) error {
	m := &s.Members[k]
	for _, o := range c.Observers {
		t, ok := o.(*observe.Telescope)
		if !ok {
			continue
		}
		rows := t.Rows()
		if len(rows) != s.Bins {
			return fmt.Errorf("run %d (seed %d): the telescope has %d rows, want %d", m.Run, m.Seed, len(rows), s.Bins)
		}
		base, col := k*s.Bins, len(Columns)
		for b, r := range rows {
			for i, v := range [...]int64{r.Probes, r.Sources, r.NewSources, r.Seen} {
				s.values[col+i][base+b] = v
			}
		}
		return nil
	}
	return fmt.Errorf("run %d (seed %d): the scenario has a telescope but the run has none", m.Run, m.Seed)
}

// errIncomplete is returned by outputs that need every run.
var errIncomplete = errors.New("ensemble: the set lacks runs; merge its shards first")
