// Package runrec is the run record (docs/DESIGN.md §5): what one
// simulation produced, in the JSON form every later command reads
// (schema wormlab.run/v1), and its per-bin series as CSV.
package runrec

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/wormlab/wormlab/internal/fit"
	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/observe"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/version"
)

// Schema names the record format; readers refuse other values.
const Schema = "wormlab.run/v1"

// Record is one run.
type Record struct {
	Schema   string             `json:"schema"`
	Version  string             `json:"version"`
	Commit   string             `json:"commit"`
	Scenario *scenario.Scenario `json:"scenario"`
	// ScenarioTOML is the scenario file as read, so that the run can be
	// repeated exactly with `wormlab simulate -f`.
	ScenarioTOML string  `json:"scenario_toml"`
	Seed         uint64  `json:"seed"`
	Engine       string  `json:"engine"`
	StepSeconds  float64 `json:"step_seconds"`
	Series       []Row   `json:"series"`
	Summary      Summary `json:"summary"`
	// Observers holds what the run's observers saw, when any were on.
	Observers *Observers `json:"observers,omitempty"`
}

// Observers are the instruments' outputs.
type Observers struct {
	BlockLoad *BlockLoad            `json:"block_load,omitempty"`
	Flood     *Flood                `json:"flood,omitempty"`
	Census    []observe.CensusPoint `json:"census,omitempty"`
	Telescope *Telescope            `json:"telescope,omitempty"`
}

// Telescope is what a dark block saw (observe.Telescope).
type Telescope struct {
	Block string                 `json:"block"`
	Rows  []observe.TelescopeRow `json:"series"`
}

// Flood is the load on the flood target (observe.Flood).
type Flood struct {
	Target string             `json:"target"`
	Rows   []observe.FloodRow `json:"series"`
}

// observersOf collects the outputs of the observers attached to c, which
// only the event engine runs.
func observersOf(c *sim.Config, r *sim.Result) *Observers {
	if r.Engine != "event" || len(c.Observers) == 0 {
		return nil
	}
	out := &Observers{}
	for _, o := range c.Observers {
		switch o := o.(type) {
		case *observe.BlockLoad:
			out.BlockLoad = &BlockLoad{Block: o.Block.String(), Rows: o.Rows()}
		case *observe.Flood:
			out.Flood = &Flood{Target: o.Target, Rows: o.Rows()}
		case *observe.Census:
			out.Census = o.Points()
		case *observe.Telescope:
			out.Telescope = &Telescope{Block: o.Block.String(), Rows: o.Rows()}
		}
	}
	return out
}

// BlockLoad is the load on one block over the run (observe.BlockLoad).
type BlockLoad struct {
	Block string             `json:"block"`
	Rows  []observe.BlockRow `json:"series"`
}

// Row is one point of the output grid (see sim.Row for what the counts
// cover).
type Row struct {
	Minute        float64   `json:"minute"` // since the run's start
	UTC           time.Time `json:"utc"`
	Susceptible   int64     `json:"susceptible"`
	Infected      int64     `json:"infected"`
	Patched       int64     `json:"patched"`
	Removed       int64     `json:"removed"`
	NewInfections int64     `json:"new_infections"`
	Probes        int64     `json:"probes"`
}

// Summary holds the figures people compare with published ones.
type Summary struct {
	Population  int          `json:"population"`
	Checkpoints []Checkpoint `json:"checkpoints"`
	Final       Checkpoint   `json:"final"`
	// PeakPerMinute is the largest count of new infections in one bin,
	// scaled to a minute, and PeakAt the end of that bin.
	PeakPerMinute float64   `json:"peak_new_infections_per_minute"`
	PeakAt        time.Time `json:"peak_at"`
	Infections    int64     `json:"infections"`
	Probes        int64     `json:"probes"`
	// Logistic is the logistic curve fitted to the infected series, absent
	// when the run has too few points between 1% and 99% of the population.
	Logistic *Logistic `json:"logistic,omitempty"`
	// PerSlash8 counts, for each /8 of IPv4, the public hosts infected at
	// some time in the run (the initial ones included); TopSlash16 lists the
	// /16s with the most. Only for runs over the full IPv4 space.
	PerSlash8  []int64       `json:"per_slash8,omitempty"`
	TopSlash16 []PrefixCount `json:"top_slash16,omitempty"`
}

// PrefixCount is a block and a count of hosts.
type PrefixCount struct {
	Prefix   string `json:"prefix"`
	Infected int64  `json:"infected"`
}

// topSlash16 is how many /16s the summary lists.
const topSlash16 = 10

// Checkpoint is the infected count at one instant.
type Checkpoint struct {
	After    string    `json:"after"` // offset from the start, as "9h0m0s"
	UTC      time.Time `json:"utc"`
	Infected int64     `json:"infected"`
}

// Logistic is a fitted a(t) = 1/(1+exp(-K(t-T))).
type Logistic struct {
	KPerHour float64   `json:"k_per_hour"`
	T        time.Time `json:"t"`
	Method   string    `json:"method"`
}

// New builds the record of one run.
func New(s *scenario.Scenario, seed uint64, c *sim.Config, r *sim.Result) *Record {
	rec := &Record{
		Schema:       Schema,
		Version:      version.Version,
		Commit:       version.Commit(),
		Scenario:     s,
		ScenarioTOML: s.Source,
		Seed:         seed,
		Engine:       r.Engine,
		StepSeconds:  c.Step.Seconds(),
	}
	for _, row := range r.Rows {
		rec.Series = append(rec.Series, Row{
			Minute:        row.At.Sub(c.Start).Minutes(),
			UTC:           row.At,
			Susceptible:   row.Susceptible,
			Infected:      row.Infected,
			Patched:       row.Patched,
			Removed:       row.Removed,
			NewInfections: row.NewInfections,
			Probes:        row.Probes,
		})
	}
	rec.Summary = summarize(s, c, r)
	rec.Observers = observersOf(c, r)
	return rec
}

func summarize(s *scenario.Scenario, c *sim.Config, r *sim.Result) Summary {
	sum := Summary{Population: len(c.Hosts), Infections: int64(len(r.Infections))}
	at := func(d time.Duration) Checkpoint {
		i := min(int(d/c.Step), len(r.Rows)-1)
		return Checkpoint{After: d.String(), UTC: r.Rows[i].At, Infected: r.Rows[i].Infected}
	}
	for _, cp := range s.Run.Checkpoints {
		sum.Checkpoints = append(sum.Checkpoints, at(cp.Duration))
	}
	sum.Final = at(c.Duration)
	perMinute := time.Minute.Seconds() / c.Step.Seconds()
	hours := make([]float64, len(r.Rows))
	infected := make([]float64, len(r.Rows))
	for i, row := range r.Rows {
		sum.Probes += row.Probes
		if v := float64(row.NewInfections) * perMinute; v > sum.PeakPerMinute {
			sum.PeakPerMinute, sum.PeakAt = v, row.At
		}
		hours[i] = row.At.Sub(c.Start).Hours()
		infected[i] = float64(row.Infected)
	}
	if c.SpaceBits == 32 {
		sum.PerSlash8, sum.TopSlash16 = perPrefix(c, r)
	}
	if k, t, err := fit.LogisticKT(hours, infected, float64(len(c.Hosts))); err == nil && !math.IsNaN(k) {
		sum.Logistic = &Logistic{
			KPerHour: k,
			T:        c.Start.Add(time.Duration(t * float64(time.Hour))).Round(time.Second),
			Method:   "weighted least squares on the logit of infected/population, points between 1% and 99%",
		}
	}
	return sum
}

// perPrefix counts the public hosts ever infected per /8 and per /16.
func perPrefix(c *sim.Config, r *sim.Result) ([]int64, []PrefixCount) {
	per8 := make([]int64, 256)
	// An array rather than a map: hashing each of a Code Red day's
	// 360,000 infections into a map was a tenth of `wormlab simulate`.
	per16 := make([]int64, 1<<16)
	count := func(h int32) {
		if c.Site != nil && c.Site[h] != 0 {
			return
		}
		a := uint32(c.Hosts[h])
		per8[a>>24]++
		per16[a>>16]++
	}
	for _, h := range c.Initial {
		count(h)
	}
	for _, inf := range r.Infections {
		count(inf.Host)
	}
	var keys []uint32
	for k, n := range per16 {
		if n > 0 {
			keys = append(keys, uint32(k))
		}
	}
	top := make([]PrefixCount, 0, min(topSlash16, len(keys)))
	// Most infected first; ties by address, so the order is fixed.
	slices.SortFunc(keys, func(a, b uint32) int {
		if per16[a] != per16[b] {
			return cmp.Compare(per16[b], per16[a])
		}
		return cmp.Compare(a, b)
	})
	for _, k := range keys[:min(topSlash16, len(keys))] {
		top = append(top, PrefixCount{ipspace.PrefixFrom(ipspace.Addr(k<<16), 16).String(), per16[k]})
	}
	return per8, top
}

// WriteJSON writes r as indented JSON.
func (r *Record) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// CSVHeader is the run CSV's header.
const CSVHeader = "minute,utc,susceptible,infected,patched,removed,new_infections,probes"

// WriteCSV writes the series: one line per grid instant, utc as RFC 3339.
func (r *Record) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(CSVHeader + "\n")
	var b []byte
	for _, row := range r.Series {
		b = b[:0]
		b = strconv.AppendFloat(b, row.Minute, 'f', -1, 64)
		b = append(b, ',')
		b = row.UTC.UTC().AppendFormat(b, time.RFC3339)
		for _, v := range []int64{row.Susceptible, row.Infected, row.Patched, row.Removed, row.NewInfections, row.Probes} {
			b = append(b, ',')
			b = strconv.AppendInt(b, v, 10)
		}
		b = append(b, '\n')
		bw.Write(b)
	}
	return bw.Flush()
}

// Read parses a run record; name is used in errors. It refuses files that
// are not wormlab run records or that come from a newer schema.
func Read(rd io.Reader, name string) (*Record, error) {
	var probe struct {
		Schema string `json:"schema"`
	}
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%s: not a wormlab run record: %w", name, err)
	}
	if probe.Schema != Schema {
		return nil, fmt.Errorf("%s: schema %q, this wormlab reads %q", name, probe.Schema, Schema)
	}
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &rec, nil
}
