package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/wormlab/wormlab/internal/detect"
	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/runrec"
	"github.com/wormlab/wormlab/internal/sweep"
)

// Input is one file given to the report: exactly one of Run, Detect,
// Ensemble and Sweep is set.
type Input struct {
	Name     string
	Run      *Run
	Detect   *detect.Report
	Ensemble *Ensemble
	Sweep    *sweep.File
}

// Run is a run record together with its observers laid out as tables.
type Run struct {
	*runrec.Record
	Observers []Observer // in the order of their names
}

// ReadFile reads one input file; see Parse.
func ReadFile(path string) (*Input, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse reads a wormlab JSON output: a run record (wormlab.run/v1), a
// detection report (wormlab.detect/v1), an ensemble (wormlab.ensemble/v1)
// or a sweep (wormlab.sweep/v1).
// name is used in errors, which say where a malformed file goes wrong.
func Parse(name string, data []byte) (*Input, error) {
	var head struct {
		Schema *string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, jsonError(name, data, err)
	}
	if head.Schema == nil {
		return nil, fmt.Errorf("%s: not a wormlab output: no \"schema\" field", name)
	}
	schema := *head.Schema
	in := &Input{Name: name}
	switch schema {
	case runrec.Schema:
		// Decoded here rather than by runrec.Read so that a field of the
		// wrong type is reported with its line.
		run := &Run{Record: &runrec.Record{}}
		if err := json.Unmarshal(data, run.Record); err != nil {
			return nil, jsonError(name, data, err)
		}
		if err := run.check(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		start := run.Series[0].UTC.Add(-time.Duration(run.Series[0].Minute * float64(time.Minute)))
		run.Observers = observersOf(run.Record.Observers, start)
		in.Run = run
	case detect.Schema:
		var d detect.Report
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, jsonError(name, data, err)
		}
		in.Detect = &d
	case ensemble.Schema:
		var f ensemble.File
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, jsonError(name, data, err)
		}
		if err := f.Check(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		in.Ensemble = ensembleOf(&f)
	case sweep.Schema:
		var f sweep.File
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, jsonError(name, data, err)
		}
		if err := checkSweep(&f); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		in.Sweep = &f
	case ensemble.ShardSchema:
		return nil, fmt.Errorf("%s: an ensemble shard: combine the shards with 'wormlab merge' and report the merged ensemble", name)
	case sweep.ShardSchema:
		return nil, fmt.Errorf("%s: a sweep shard: combine the shards with 'wormlab merge' and report the merged sweep", name)
	default:
		for _, want := range []string{runrec.Schema, detect.Schema, ensemble.Schema, ensemble.ShardSchema, sweep.Schema, sweep.ShardSchema} {
			family := want[:strings.IndexByte(want, '/')+1]
			if strings.HasPrefix(schema, family) {
				return nil, fmt.Errorf("%s: schema %q is not one this wormlab reads (it reads %q): written by another version", name, schema, want)
			}
		}
		return nil, fmt.Errorf("%s: schema %q is not a wormlab output this report reads (%s, %s, %s or %s)",
			name, schema, runrec.Schema, detect.Schema, ensemble.Schema, sweep.Schema)
	}
	return in, nil
}

// check refuses records whose charts would be empty or wrong.
func (r *Run) check() error {
	if r.Scenario == nil {
		return errors.New("the run record has no scenario")
	}
	if len(r.Series) == 0 {
		return errors.New("the run record has no series rows")
	}
	for i := 1; i < len(r.Series); i++ {
		if !r.Series[i].UTC.After(r.Series[i-1].UTC) {
			return fmt.Errorf("series row %d: utc %s does not follow %s", i, r.Series[i].UTC.Format("2006-01-02T15:04:05Z07:00"), r.Series[i-1].UTC.Format("2006-01-02T15:04:05Z07:00"))
		}
	}
	per8 := r.Summary.PerSlash8
	if per8 != nil && len(per8) != 256 {
		return fmt.Errorf("summary.per_slash8 has %d entries, want 256", len(per8))
	}
	for i, n := range per8 {
		if n < 0 {
			return fmt.Errorf("summary.per_slash8[%d] = %d is negative", i, n)
		}
	}
	return nil
}

// checkSweep refuses sweep files whose charts would be empty or wrong.
func checkSweep(f *sweep.File) error {
	switch {
	case len(f.Keys) < 1 || len(f.Keys) > 2:
		return fmt.Errorf("the sweep varies %d keys, want 1 or 2", len(f.Keys))
	case len(f.Points) == 0:
		return errors.New("the sweep has no points")
	}
	for i, p := range f.Points {
		for _, k := range f.Keys {
			if _, ok := p.Values[k]; !ok {
				return fmt.Errorf("point %d has no value of %s", i+1, k)
			}
		}
		if !(p.StepSeconds > 0) {
			return fmt.Errorf("point %d: step_seconds %v, want a positive step", i+1, p.StepSeconds)
		}
	}
	return nil
}

// jsonError turns a decoding error into one naming the file, line and
// column, and says plainly when the file stops in the middle of a value.
func jsonError(name string, data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		if syn.Offset >= int64(len(bytes.TrimRight(data, " \t\r\n"))) {
			return fmt.Errorf("%s:%d:%d: truncated: the JSON ends in the middle of a value", name, line, col)
		}
		return fmt.Errorf("%s:%d:%d: not a wormlab output (not JSON: %v)", name, line, col, syn)
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset)
		field := typ.Field
		if field == "" {
			field = "the top level"
		}
		return fmt.Errorf("%s:%d:%d: %s holds a JSON %s, want %s", name, line, col, field, typ.Value, typ.Type)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// position returns the 1-based line and column of byte offset off.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col == 0 {
		col = 1
	}
	return line, col
}
