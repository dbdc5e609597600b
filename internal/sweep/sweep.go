package sweep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/scenario"
)

// Spec says which sweep to run. Every point runs the same seeds, BaseSeed
// to BaseSeed+Runs-1 (common random numbers), so that a difference between
// neighbouring points is the parameter's and not the seeds'.
type Spec struct {
	Base   *scenario.Scenario
	Params []Param // one or two
	// Engine chooses the engine of a point's scenario ("event" or "probe").
	Engine   func(*scenario.Scenario) (string, error)
	BaseSeed uint64
	Runs     int
	Shard    ensemble.Shard // of each point's runs; the zero Shard runs them all
	Workers  int
	// Progress, if set, is called after each run with the runs done so
	// far over all points, from one goroutine, in order.
	Progress func(done int)
}

// Point is one point of the grid: a value per swept key.
type Point struct {
	Labels   []string           // per Param
	Scenario *scenario.Scenario // the base with the point's values
	Engine   string
}

// Points returns the grid of sp, the first key varying slowest, each
// point's scenario built and checked. An error names the key and value
// that make a scenario invalid.
func (sp Spec) Points() ([]Point, error) {
	if len(sp.Params) < 1 || len(sp.Params) > 2 {
		return nil, fmt.Errorf("%d keys: a sweep varies one or two", len(sp.Params))
	}
	if len(sp.Params) == 2 && sp.Params[0].Key == sp.Params[1].Key {
		return nil, fmt.Errorf("%s: set twice", sp.Params[0].Key)
	}
	var base map[string]any
	if _, err := toml.Decode(sp.Base.Source, &base); err != nil {
		return nil, fmt.Errorf("%s: %w", sp.Base.File, err)
	}
	var out []Point
	var walk func(i int, labels []string, values []any) error
	walk = func(i int, labels []string, values []any) error {
		if i == len(sp.Params) {
			sc, err := apply(sp.Base, base, sp.Params, values)
			if err != nil {
				return err
			}
			engine, err := sp.Engine(sc)
			if err != nil {
				return fmt.Errorf("%s: %w", describe(sp.Params, labels), err)
			}
			out = append(out, Point{Labels: slices.Clone(labels), Scenario: sc, Engine: engine})
			return nil
		}
		for j, v := range sp.Params[i].Values {
			if err := walk(i+1, append(labels, sp.Params[i].Labels[j]), append(values, v)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(0, nil, nil); err != nil {
		return nil, err
	}
	return out, nil
}

// describe names a point as "key=value key2=value2".
func describe(params []Param, labels []string) string {
	var parts []string
	for i, p := range params {
		parts = append(parts, p.Key+"="+labels[i])
	}
	return strings.Join(parts, " ")
}

// apply returns base with the point's values set, parsed and checked as
// a scenario file is. The result's Source is the TOML it was parsed from.
func apply(sc *scenario.Scenario, base map[string]any, params []Param, values []any) (*scenario.Scenario, error) {
	doc := deepCopy(base).(map[string]any)
	for i, p := range params {
		parts := strings.Split(p.Key, ".")
		table := doc
		for _, part := range parts[:len(parts)-1] {
			next, ok := table[part].(map[string]any)
			if !ok {
				next = map[string]any{}
				table[part] = next
			}
			table = next
		}
		table[parts[len(parts)-1]] = values[i]
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(doc); err != nil {
		return nil, err
	}
	labels := make([]string, len(params))
	for i, p := range params {
		labels[i] = fmt.Sprint(values[i])
		if j := slices.Index(p.Values, values[i]); j >= 0 {
			labels[i] = p.Labels[j]
		}
	}
	name := sc.File
	out, err := scenario.Parse(buf.Bytes(), name)
	if err != nil {
		var se *scenario.Error
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s: with %s: %s: %s", name, describe(params, labels), se.Key, se.Msg)
		}
		return nil, fmt.Errorf("with %s: %w", describe(params, labels), err)
	}
	return out, nil
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x)
		}
		return out
	case []map[string]any:
		out := make([]map[string]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x).(map[string]any)
		}
		return out
	}
	return v
}

// Result is a sweep's points and, for each, the runs made there.
type Result struct {
	Spec   Spec
	Points []Point
	Sets   []*ensemble.Set // per point
}

// Run makes every point's ensemble (or the shard of it sp names), one
// point after another, each with sp.Workers runs at once.
func Run(ctx context.Context, sp Spec) (*Result, error) {
	points, err := sp.Points()
	if err != nil {
		return nil, err
	}
	res := &Result{Spec: sp, Points: points}
	done := 0
	for _, pt := range points {
		es := ensemble.Spec{Scenario: pt.Scenario, Engine: pt.Engine, BaseSeed: sp.BaseSeed, Runs: sp.Runs, Shard: sp.Shard, Workers: sp.Workers}
		if sp.Progress != nil {
			before := done
			es.Progress = func(d int) { sp.Progress(before + d) }
		}
		set, err := ensemble.Run(ctx, es)
		if err != nil {
			return nil, err
		}
		done += len(set.Members)
		res.Sets = append(res.Sets, set)
	}
	return res, nil
}

// Row is one point's figures: Percentiles over its runs.
type Row struct {
	Labels []string `json:"-"`
	Runs   int      `json:"runs"`
	// FinalShare is the infected share of the population at the end.
	FinalShare [3]float64 `json:"final_infected_share"`
	// ReachedHalf runs had half the population infected by the end;
	// MinutesToHalf counts the others as never (nil when a quantile falls
	// among them).
	ReachedHalf   int               `json:"reached_half"`
	MinutesToHalf [3]*float64       `json:"minutes_to_half"`
	PeakPerMinute [3]float64        `json:"peak_new_infections_per_minute"`
	Values        map[string]string `json:"values"`
}

// Rows returns the table of a complete result.
func (r *Result) Rows() []Row {
	rows := make([]Row, len(r.Points))
	for i, set := range r.Sets {
		pt := r.Points[i]
		st := set.Stats()
		n := float64(pt.Scenario.Population.Size)
		row := Row{Labels: pt.Labels, Runs: len(set.Members), PeakPerMinute: st.PeakPerMinute, Values: map[string]string{}}
		for j, p := range r.Spec.Params {
			row.Values[p.Key] = pt.Labels[j]
		}
		for q := range row.FinalShare {
			row.FinalShare[q] = float64(st.FinalInfected[q]) / n
		}
		half := make([]float64, len(set.Members))
		for k, m := range set.Members {
			half[k] = math.Inf(1)
			if m.MinutesToHalf != nil {
				half[k] = *m.MinutesToHalf
				row.ReachedHalf++
			}
		}
		slices.Sort(half)
		for q, p := range ensemble.Percentiles {
			if v := ensemble.NearestRank(half, p); !math.IsInf(v, 1) {
				row.MinutesToHalf[q] = &v
			}
		}
		rows[i] = row
	}
	return rows
}
