package report

import (
	"slices"
	"strings"
	"time"

	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/observe"
	"github.com/wormlab/wormlab/internal/runrec"
)

// The report reads the records through their own types (runrec.Record,
// ensemble.File, detect.Report) and lays out the parts it charts as the
// views below, which its sections draw without knowing each record.

// Observer is one instrument's view of a run (a telescope, a census, the
// load on a block, the flood at a target), as one or more time series.
type Observer struct {
	Kind   string // as the record names it: "telescope", "census", ...
	Label  string // the block or target it watched, when it has one
	Tables []Table
}

// Table is a time series of numeric columns.
type Table struct {
	Name    string // the field of the observer that held it
	Times   []time.Time
	Columns []Column // in name order
}

// Column is one numeric field of a Table.
type Column struct {
	Name   string
	Values []float64
}

// column is a named field of a row type R.
type column[R any] struct {
	name string
	get  func(*R) float64
}

// tableOf lays out rows as a table, each row at at(row), with the named
// columns in name order.
func tableOf[R any](name string, rows []R, at func(*R) time.Time, cols ...column[R]) Table {
	t := Table{Name: name, Times: make([]time.Time, len(rows))}
	slices.SortFunc(cols, func(a, b column[R]) int { return strings.Compare(a.name, b.name) })
	for _, c := range cols {
		t.Columns = append(t.Columns, Column{Name: c.name, Values: make([]float64, len(rows))})
	}
	for i := range rows {
		t.Times[i] = at(&rows[i])
		for j, c := range cols {
			t.Columns[j].Values[i] = c.get(&rows[i])
		}
	}
	return t
}

// observersOf lays out a run's observers in the order of their names
// (block_load, census, flood, telescope). Rows that give only a minute
// are placed from the run's start.
func observersOf(o *runrec.Observers, start time.Time) []Observer {
	if o == nil {
		return nil
	}
	atMinute := func(m float64) time.Time { return start.Add(time.Duration(m * float64(time.Minute))) }
	var out []Observer
	if b := o.BlockLoad; b != nil && len(b.Rows) > 0 {
		type R = observe.BlockRow
		at := func(r *R) time.Time { return atMinute(r.Minute) }
		out = append(out, Observer{Kind: "block_load", Label: b.Block, Tables: []Table{tableOf("series", b.Rows, at,
			column[R]{"probes_per_s", func(r *R) float64 { return r.ProbesPerSecond }},
			column[R]{"sources", func(r *R) float64 { return r.Sources }},
			column[R]{"probes", func(r *R) float64 { return float64(r.Probes) }},
			column[R]{"senders", func(r *R) float64 { return float64(r.Senders) }},
			column[R]{"block_susceptible", func(r *R) float64 { return float64(r.Susceptible) }},
			column[R]{"block_infected", func(r *R) float64 { return float64(r.Infected) }},
			column[R]{"block_patched", func(r *R) float64 { return float64(r.Patched) }},
			column[R]{"block_removed", func(r *R) float64 { return float64(r.Removed) }},
		)}})
	}
	if len(o.Census) > 0 {
		type R = observe.CensusPoint
		at := func(r *R) time.Time { return r.UTC }
		out = append(out, Observer{Kind: "census", Tables: []Table{tableOf("census", o.Census, at,
			column[R]{"sample", func(r *R) float64 { return float64(r.Sample) }},
			column[R]{"unprotected", func(r *R) float64 { return float64(r.Unprotected) }},
			column[R]{"infected", func(r *R) float64 { return float64(r.Infected) }},
			column[R]{"share_unprotected", func(r *R) float64 { return r.Share }},
			column[R]{"low", func(r *R) float64 { return r.Low }},
			column[R]{"high", func(r *R) float64 { return r.High }},
		)}})
	}
	if f := o.Flood; f != nil && len(f.Rows) > 0 {
		type R = observe.FloodRow
		at := func(r *R) time.Time { return atMinute(r.Minute) }
		out = append(out, Observer{Kind: "flood", Label: f.Target, Tables: []Table{tableOf("series", f.Rows, at,
			column[R]{"packets_per_s", func(r *R) float64 { return r.PacketsPerSecond }},
			column[R]{"hosts", func(r *R) float64 { return float64(r.Hosts) }},
		)}})
	}
	if t := o.Telescope; t != nil && len(t.Rows) > 0 {
		type R = observe.TelescopeRow
		at := func(r *R) time.Time { return atMinute(r.Minute) }
		out = append(out, Observer{Kind: "telescope", Label: t.Block, Tables: []Table{tableOf("series", t.Rows, at,
			column[R]{"probes", func(r *R) float64 { return float64(r.Probes) }},
			column[R]{"sources", func(r *R) float64 { return float64(r.Sources) }},
			column[R]{"new_sources", func(r *R) float64 { return float64(r.NewSources) }},
			column[R]{"seen", func(r *R) float64 { return float64(r.Seen) }},
			column[R]{"infected", func(r *R) float64 { return float64(r.Infected) }},
		)}})
	}
	return out
}

// Ensemble holds the quantile bands of many runs of one scenario, and what
// each run's figures were.
type Ensemble struct {
	Scenario string
	// ScenarioTOML is the scenario file the runs ran, and Population its
	// vulnerable hosts.
	ScenarioTOML string
	Population   int
	Seed         uint64 // the first run's seed
	Runs         int
	Version      string
	Commit       string
	Times        []time.Time
	Bands        []Band  // in name order
	Step         float64 // seconds between bins
	// Stats are the quantiles over the runs of the summary's figures, by
	// field name; Counts its whole-number fields (reached_half, fitted).
	Stats  map[string][3]float64
	Counts map[string]int
	// Per run, its figures by field name (minutes_to_half, k_per_hour,
	// final_infected, ...); runs lacking a figure are left out of its list.
	Figures map[string][]float64
}

// Band is one quantity's 5%, 50% and 95% quantiles per bin.
type Band struct {
	Name        string
	Lo, Mid, Hi []float64
}

// ensembleOf lays out an ensemble file, which f.Check has passed.
func ensembleOf(f *ensemble.File) *Ensemble {
	e := &Ensemble{
		Seed: f.BaseSeed, Runs: f.Runs, Version: f.Version, Commit: f.Commit, Step: f.StepSeconds,
		Stats: map[string][3]float64{}, Counts: map[string]int{}, Figures: map[string][]float64{},
	}
	if f.Scenario != nil {
		e.Scenario = f.Scenario.Name
		e.Population = f.Scenario.Population.Size
	}
	e.ScenarioTOML = f.ScenarioTOML
	n := len(f.Bands)
	for _, row := range f.Bands {
		e.Times = append(e.Times, row.UTC)
	}
	for _, name := range f.Columns {
		b := Band{Name: name, Lo: make([]float64, n), Mid: make([]float64, n), Hi: make([]float64, n)}
		for i := range f.Bands {
			q, _ := f.Bands[i].Column(name)
			b.Lo[i], b.Mid[i], b.Hi[i] = float64(q[0]), float64(q[1]), float64(q[2])
		}
		e.Bands = append(e.Bands, b)
	}
	slices.SortFunc(e.Bands, func(a, b Band) int { return strings.Compare(a.Name, b.Name) })

	sum := &f.Summary
	ints := func(q [3]int64) [3]float64 { return [3]float64{float64(q[0]), float64(q[1]), float64(q[2])} }
	e.Stats["final_infected"] = ints(sum.FinalInfected)
	e.Stats["peak_new_infections_per_minute"] = sum.PeakPerMinute
	if sum.MinutesToHalf != nil {
		e.Stats["minutes_to_half"] = *sum.MinutesToHalf
	}
	if sum.KPerHour != nil {
		e.Stats["k_per_hour"] = *sum.KPerHour
	}
	if sum.TelescopeSeen != nil {
		e.Stats["telescope_seen"] = ints(*sum.TelescopeSeen)
	}
	e.Counts["reached_half"], e.Counts["fitted"] = sum.ReachedHalf, sum.Fitted

	add := func(name string, v float64) { e.Figures[name] = append(e.Figures[name], v) }
	for _, m := range f.Members {
		add("final_infected", float64(m.FinalInfected))
		if m.MinutesToHalf != nil {
			add("minutes_to_half", *m.MinutesToHalf)
		}
		if m.KPerHour != nil {
			add("k_per_hour", *m.KPerHour)
		}
		add("peak_new_infections_per_minute", m.PeakPerMinute)
		add("peak_minute", m.PeakMinute)
		add("infections", float64(m.Infections))
		add("probes", float64(m.Probes))
	}
	return e
}
