package serve

import (
	"encoding/json"
	"time"

	"github.com/wormlab/wormlab/internal/runrec"
	"github.com/wormlab/wormlab/internal/scenarioform"
	"github.com/wormlab/wormlab/internal/version"
)

// chart is the JSON the run view draws: the record's series by column
// (about a third the size of the record's rows), its summary and what the
// observers saw. Times are minutes from the start; start is Unix seconds.
type chart struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Seed        uint64            `json:"seed"`
	Engine      string            `json:"engine"`
	Version     string            `json:"version"`
	Start       int64             `json:"start"`
	StepSeconds float64           `json:"step_seconds"`
	Population  int               `json:"population"`
	Minutes     []float64         `json:"minutes"`
	Susceptible []int64           `json:"susceptible"`
	Infected    []int64           `json:"infected"`
	Patched     []int64           `json:"patched"`
	Removed     []int64           `json:"removed"`
	NewPerMin   []float64         `json:"new_per_minute"`
	Summary     runrec.Summary    `json:"summary"`
	Observers   *observerCharts   `json:"observers,omitempty"`
	TOML        string            `json:"toml"`
	Fields      map[string]string `json:"fields"` // the form's values, by dotted key
	Query       string            `json:"query"`  // the permalink's query
	WallMillis  float64           `json:"wall_ms"`
}

// observerCharts holds each observer's series by column.
type observerCharts struct {
	Telescope *struct {
		Block      string    `json:"block"`
		Minutes    []float64 `json:"minutes"`
		Probes     []int64   `json:"probes"`
		NewSources []int64   `json:"new_sources"`
		Seen       []int64   `json:"seen"`
	} `json:"telescope,omitempty"`
	Flood *struct {
		Target  string    `json:"target"`
		Minutes []float64 `json:"minutes"`
		PPS     []float64 `json:"packets_per_s"`
	} `json:"flood,omitempty"`
	BlockLoad *struct {
		Block   string    `json:"block"`
		Minutes []float64 `json:"minutes"`
		PPS     []float64 `json:"probes_per_s"`
	} `json:"block_load,omitempty"`
	Census any `json:"census,omitempty"`
}

func chartOf(rec *runrec.Record, sp runSpec, wall time.Duration) *chart {
	c := &chart{
		Name: rec.Scenario.Name, Description: rec.Scenario.Description, Seed: rec.Seed,
		Engine: rec.Engine, Version: version.Version, Start: rec.Scenario.Run.Start.Unix(),
		StepSeconds: rec.StepSeconds, Population: rec.Summary.Population, Summary: rec.Summary,
		TOML: rec.ScenarioTOML, WallMillis: float64(wall.Microseconds()) / 1000,
	}
	c.Fields = map[string]string{}
	for k, v := range scenarioform.Values(rec.Scenario) {
		c.Fields[k] = v[0]
	}
	if sp.Name != "" || sp.TOML != "" {
		c.Query = sp.query().Encode()
	}
	perMinute := 60 / rec.StepSeconds
	n := len(rec.Series)
	c.Minutes = make([]float64, n)
	c.Susceptible, c.Infected, c.Patched, c.Removed = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	c.NewPerMin = make([]float64, n)
	for i, r := range rec.Series {
		c.Minutes[i] = r.Minute
		c.Susceptible[i], c.Infected[i], c.Patched[i], c.Removed[i] = r.Susceptible, r.Infected, r.Patched, r.Removed
		c.NewPerMin[i] = float64(r.NewInfections) * perMinute
	}
	if o := rec.Observers; o != nil {
		oc := &observerCharts{}
		if t := o.Telescope; t != nil {
			oc.Telescope = &struct {
				Block      string    `json:"block"`
				Minutes    []float64 `json:"minutes"`
				Probes     []int64   `json:"probes"`
				NewSources []int64   `json:"new_sources"`
				Seen       []int64   `json:"seen"`
			}{Block: t.Block}
			for _, r := range t.Rows {
				oc.Telescope.Minutes = append(oc.Telescope.Minutes, r.Minute)
				oc.Telescope.Probes = append(oc.Telescope.Probes, r.Probes)
				oc.Telescope.NewSources = append(oc.Telescope.NewSources, r.NewSources)
				oc.Telescope.Seen = append(oc.Telescope.Seen, r.Seen)
			}
		}
		if f := o.Flood; f != nil {
			oc.Flood = &struct {
				Target  string    `json:"target"`
				Minutes []float64 `json:"minutes"`
				PPS     []float64 `json:"packets_per_s"`
			}{Target: f.Target}
			for _, r := range f.Rows {
				oc.Flood.Minutes = append(oc.Flood.Minutes, r.Minute)
				oc.Flood.PPS = append(oc.Flood.PPS, r.PacketsPerSecond)
			}
		}
		if bl := o.BlockLoad; bl != nil {
			oc.BlockLoad = &struct {
				Block   string    `json:"block"`
				Minutes []float64 `json:"minutes"`
				PPS     []float64 `json:"probes_per_s"`
			}{Block: bl.Block}
			for _, r := range bl.Rows {
				oc.BlockLoad.Minutes = append(oc.BlockLoad.Minutes, r.Minute)
				oc.BlockLoad.PPS = append(oc.BlockLoad.PPS, r.ProbesPerSecond)
			}
		}
		if len(o.Census) > 0 {
			oc.Census = o.Census
		}
		c.Observers = oc
	}
	return c
}

func chartJSON(rec *runrec.Record, sp runSpec, wall time.Duration) ([]byte, error) {
	return json.Marshal(chartOf(rec, sp, wall))
}
