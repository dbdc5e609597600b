package sweep

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/version"
)

// Schemas name the sweep's two file formats.
const (
	Schema      = "wormlab.sweep/v1"
	ShardSchema = "wormlab.sweep-shard/v1"
)

// Header identifies a sweep: what a shard must share with the others.
type Header struct {
	Version      string `json:"version"`
	Commit       string `json:"commit"`
	Scenario     string `json:"scenario"`
	ScenarioFile string `json:"scenario_file"`
	ScenarioTOML string `json:"scenario_toml"`
	// Sets are the --set arguments, from which the grid is rebuilt.
	Sets     []string `json:"sets"`
	Keys     []string `json:"keys"`
	BaseSeed uint64   `json:"base_seed"`
	Runs     int      `json:"runs"`
}

// File is a sweep file (schema wormlab.sweep/v1).
type File struct {
	Schema string `json:"schema"`
	Header
	QuantileMethod string      `json:"quantile_method"`
	Percentiles    [3]int      `json:"percentiles"`
	Points         []FilePoint `json:"points"`
}

// FilePoint is one point of a sweep file: its figures and, for charts,
// the Percentiles of the infected count at every grid instant.
type FilePoint struct {
	Row
	Engine      string     `json:"engine"`
	StepSeconds float64    `json:"step_seconds"`
	Infected    [][3]int64 `json:"infected"`
}

func (r *Result) header() Header {
	h := Header{
		Version: version.Version, Commit: version.Commit(),
		Scenario: r.Spec.Base.Name, ScenarioFile: r.Spec.Base.File, ScenarioTOML: r.Spec.Base.Source,
		BaseSeed: r.Spec.BaseSeed, Runs: r.Spec.Runs,
	}
	for _, p := range r.Spec.Params {
		h.Sets = append(h.Sets, p.Arg)
		h.Keys = append(h.Keys, p.Key)
	}
	return h
}

// File returns a complete result as a sweep file.
func (r *Result) File() (*File, error) {
	f := &File{Schema: Schema, Header: r.header(), QuantileMethod: ensemble.QuantileMethod, Percentiles: ensemble.Percentiles}
	for i, row := range r.Rows() {
		set := r.Sets[i]
		if !set.Complete() {
			return nil, errors.New("sweep: a point lacks runs; merge the shards first")
		}
		p := FilePoint{Row: row, Engine: set.Engine, StepSeconds: set.StepSeconds}
		for _, b := range set.Bands() {
			p.Infected = append(p.Infected, b.Q[slices.Index(set.Columns, "infected")])
		}
		f.Points = append(f.Points, p)
	}
	return f, nil
}

// WriteJSON writes the sweep file: one point a line.
func (r *Result) WriteJSON(w io.Writer) error {
	f, err := r.File()
	if err != nil {
		return err
	}
	points := f.Points
	f.Points = nil
	head, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	head = bytes.TrimSuffix(head, []byte("\n}"))
	head = bytes.TrimSuffix(head, []byte(`,
  "points": null`))
	bw.Write(head)
	bw.WriteString(",\n  \"points\": [")
	for i := range points {
		line, err := json.Marshal(&points[i])
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n    ")
		bw.Write(line)
	}
	bw.WriteString("\n  ]\n}\n")
	return bw.Flush()
}

// WriteCSV writes the table, one point a line; a time to half that falls
// among runs that never reached half is left empty.
func (r *Result) WriteCSV(w io.Writer) error {
	for _, set := range r.Sets {
		if !set.Complete() {
			return errors.New("sweep: a point lacks runs; merge the shards first")
		}
	}
	cw := csv.NewWriter(w)
	head := slices.Clone(r.header().Keys)
	for _, name := range []string{"final_infected_share", "minutes_to_half", "peak_new_infections_per_minute"} {
		for _, p := range ensemble.Percentiles {
			head = append(head, name+"_p"+strconv.Itoa(p))
		}
		if name == "final_infected_share" {
			head = append(head, "runs", "reached_half")
		}
	}
	cw.Write(head)
	for _, row := range r.Rows() {
		rec := slices.Clone(row.Labels)
		for _, v := range row.FinalShare {
			rec = append(rec, strconv.FormatFloat(v, 'g', 6, 64))
		}
		rec = append(rec, strconv.Itoa(row.Runs), strconv.Itoa(row.ReachedHalf))
		for _, v := range row.MinutesToHalf {
			s := ""
			if v != nil {
				s = strconv.FormatFloat(*v, 'f', -1, 64)
			}
			rec = append(rec, s)
		}
		for _, v := range row.PeakPerMinute {
			rec = append(rec, strconv.FormatFloat(v, 'f', 2, 64))
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// ShardFile is a sweep shard (schema wormlab.sweep-shard/v1): the sweep's
// header and, per point, the ensemble shard of its runs
// (wormlab.ensemble-shard/v1).
type ShardFile struct {
	Schema string `json:"schema"`
	Header
	Shard  ensemble.Shard    `json:"shard"`
	Points []json.RawMessage `json:"points"`
}

// WriteShard writes the shard of a sweep run with Spec.Shard set.
func (r *Result) WriteShard(w io.Writer) error {
	f := ShardFile{Schema: ShardSchema, Header: r.header(), Shard: ensemble.Shard{Index: r.Spec.Shard.Index, Count: max(r.Spec.Shard.Count, 1)}}
	for _, set := range r.Sets {
		var buf bytes.Buffer
		if err := set.WriteShard(&buf); err != nil {
			return err
		}
		f.Points = append(f.Points, buf.Bytes())
	}
	enc := json.NewEncoder(w)
	return enc.Encode(&f)
}

// StartsShard reports whether head, the first bytes of a file, start a
// sweep shard as WriteShard writes it.
func StartsShard(head []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(head), []byte(`{"schema":"`+ShardSchema+`"`))
}

// Merge puts the shards of one sweep back together; names[i] names
// data[i] in errors. The result writes the bytes the unsharded sweep
// writes.
func Merge(data [][]byte, names []string) (*Result, error) {
	files := make([]ShardFile, len(data))
	for i, d := range data {
		if err := json.Unmarshal(d, &files[i]); err != nil {
			return nil, fmt.Errorf("%s: %w", names[i], err)
		}
		if files[i].Schema != ShardSchema {
			return nil, fmt.Errorf("%s: schema %q, want %q", names[i], files[i].Schema, ShardSchema)
		}
		a, b := files[0].Header, files[i].Header
		if a.Version != b.Version || a.Commit != b.Commit || a.ScenarioTOML != b.ScenarioTOML ||
			!slices.Equal(a.Sets, b.Sets) || a.BaseSeed != b.BaseSeed || a.Runs != b.Runs {
			return nil, fmt.Errorf("%s: not a shard of the sweep of %s (scenario, --set, seed, runs or build differ)", names[i], names[0])
		}
		if len(files[i].Points) != len(files[0].Points) {
			return nil, fmt.Errorf("%s: %d points, but %s has %d", names[i], len(files[i].Points), names[0], len(files[0].Points))
		}
	}
	h := files[0].Header
	base, err := scenario.Parse([]byte(h.ScenarioTOML), h.ScenarioFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", names[0], err)
	}
	sp := Spec{Base: base, BaseSeed: h.BaseSeed, Runs: h.Runs}
	for _, arg := range h.Sets {
		p, err := ParseSet(arg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", names[0], err)
		}
		sp.Params = append(sp.Params, p)
	}
	sets := make([]*ensemble.Set, len(files[0].Points))
	for k := range sets {
		parts := make([]*ensemble.Set, len(files))
		for i := range files {
			s, err := ensemble.ReadShard(bytes.NewReader(files[i].Points[k]), fmt.Sprintf("%s point %d", names[i], k+1))
			if err != nil {
				return nil, err
			}
			parts[i] = s
		}
		set, err := ensemble.Merge(parts, names)
		if err != nil {
			return nil, err
		}
		sets[k] = set
	}
	k := 0
	sp.Engine = func(*scenario.Scenario) (string, error) { k++; return sets[k-1].Engine, nil }
	points, err := sp.Points()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", names[0], err)
	}
	if len(points) != len(sets) {
		return nil, fmt.Errorf("%s: %d points, the grid has %d", names[0], len(sets), len(points))
	}
	for k, pt := range points {
		if pt.Scenario.Source != sets[k].ScenarioTOML {
			return nil, fmt.Errorf("%s: point %d is not the scenario of %s", names[0], k+1, describe(sp.Params, pt.Labels))
		}
	}
	return &Result{Spec: sp, Points: points, Sets: sets}, nil
}
