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
	"github.com/wormlab/wormlab/internal/runrec"
)

// The schema families the report reads. A file whose schema has one of
// these prefixes but another version is refused as newer (or older) than
// this build, rather than read as something it may not be.
const (
	runFamily      = "wormlab.run/"
	detectFamily   = "wormlab.detect/"
	ensembleFamily = "wormlab.ensemble/"

	// EnsembleSchema is the ensemble format this package expects; see
	// Ensemble for the fields it looks for.
	EnsembleSchema = "wormlab.ensemble/v1"
)

// Input is one file given to the report: exactly one of Run, Detect and
// Ensemble is set.
type Input struct {
	Name     string
	Run      *Run
	Detect   *detect.Report
	Ensemble *Ensemble
}

// Run is a run record together with the parts of it that later versions of
// the record add (observers, per-/8 counts); each is nil or empty when the
// record does not hold it, and its section is left out of the report.
type Run struct {
	*runrec.Record
	PerSlash8  []int64    // hosts ever infected per /8, 256 entries, or nil
	TopSlash16 []Slash16  // the most infected /16s, or nil
	Observers  []Observer // in the order the record lists them
}

// Slash16 is one /16 of the top list.
type Slash16 struct {
	Prefix   string `json:"prefix"`
	Infected int64  `json:"infected"`
}

// runExtras holds the optional parts of a run record that package runrec
// does not (yet) declare. They are read by name so that a record gaining
// them needs no change here.
type runExtras struct {
	Summary struct {
		PerSlash8  []int64   `json:"per_slash8"`
		TopSlash16 []Slash16 `json:"top_slash16"`
	} `json:"summary"`
	Observers json.RawMessage `json:"observers"`
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
// detection report (wormlab.detect/v1) or an ensemble (wormlab.ensemble/v1).
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
	switch {
	case schema == runrec.Schema:
		// Decoded here rather than by runrec.Read so that a field of the
		// wrong type is reported with its line.
		var ex runExtras
		if err := json.Unmarshal(data, &ex); err != nil {
			return nil, jsonError(name, data, err)
		}
		run := &Run{Record: &runrec.Record{}, PerSlash8: ex.Summary.PerSlash8, TopSlash16: ex.Summary.TopSlash16}
		var err error
		if run.Observers, err = parseObservers(ex.Observers); err != nil {
			return nil, fmt.Errorf("%s: observers: %w", name, err)
		}
		if err := json.Unmarshal(data, run.Record); err != nil {
			return nil, jsonError(name, data, err)
		}
		if err := run.check(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		run.placeObservers()
		in.Run = run
	case schema == detect.Schema:
		var d detect.Report
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, jsonError(name, data, err)
		}
		in.Detect = &d
	case schema == EnsembleSchema:
		e, err := parseEnsemble(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		in.Ensemble = e
	case strings.HasPrefix(schema, "wormlab.ensemble-shard/"):
		return nil, fmt.Errorf("%s: an ensemble shard: combine the shards with 'wormlab merge' and report the merged ensemble", name)
	default:
		for _, want := range []string{runrec.Schema, detect.Schema, EnsembleSchema} {
			family := want[:strings.IndexByte(want, '/')+1]
			if strings.HasPrefix(schema, family) {
				return nil, fmt.Errorf("%s: schema %q is not one this wormlab reads (it reads %q): written by another version", name, schema, want)
			}
		}
		return nil, fmt.Errorf("%s: schema %q is not a wormlab output this report reads (%s, %s or %s)",
			name, schema, runrec.Schema, detect.Schema, EnsembleSchema)
	}
	return in, nil
}

// placeObservers gives the rows of observer tables that carry only a
// minute (as the block-load observer writes them) their UTC time, from the
// run's start.
func (r *Run) placeObservers() {
	start := r.Series[0].UTC.Add(-time.Duration(r.Series[0].Minute * float64(time.Minute)))
	for i := range r.Observers {
		for j := range r.Observers[i].Tables {
			t := &r.Observers[i].Tables[j]
			if t.Times != nil {
				continue
			}
			t.Times = make([]time.Time, len(t.Minutes))
			for k, m := range t.Minutes {
				t.Times[k] = start.Add(time.Duration(m * float64(time.Minute)))
			}
		}
	}
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
	if r.PerSlash8 != nil && len(r.PerSlash8) != 256 {
		return fmt.Errorf("summary.per_slash8 has %d entries, want 256", len(r.PerSlash8))
	}
	for i, n := range r.PerSlash8 {
		if n < 0 {
			return fmt.Errorf("summary.per_slash8[%d] = %d is negative", i, n)
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
