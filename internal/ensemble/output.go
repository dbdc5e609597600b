package ensemble

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// Schemas name the two file formats; readers refuse other values.
const (
	Schema      = "wormlab.ensemble/v1"
	ShardSchema = "wormlab.ensemble-shard/v1"
)

// objectWriter writes a JSON object whose small fields are indented as
// usual and whose long arrays hold one compact element per line, so that
// a thousand runs stay readable and a few megabytes at most.
type objectWriter struct {
	w      *bufio.Writer
	fields int
	err    error
}

func newObjectWriter(w io.Writer) *objectWriter {
	o := &objectWriter{w: bufio.NewWriter(w)}
	o.w.WriteString("{")
	return o
}

func marshal(v any, indent bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("  ", "  ")
	}
	err := enc.Encode(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

func (o *objectWriter) key(k string) {
	if o.fields > 0 {
		o.w.WriteString(",")
	}
	o.fields++
	o.w.WriteString("\n  " + strconv.Quote(k) + ": ")
}

// field writes one field, indented.
func (o *objectWriter) field(k string, v any) {
	if o.err != nil {
		return
	}
	b, err := marshal(v, true)
	if err != nil {
		o.err = err
		return
	}
	o.key(k)
	o.w.Write(b)
}

// lines writes an array of n elements, elem(i) each, one to a line.
func (o *objectWriter) lines(k string, n int, elem func(i int) any) {
	if o.err != nil {
		return
	}
	o.key(k)
	o.w.WriteString("[")
	for i := range n {
		b, err := marshal(elem(i), false)
		if err != nil {
			o.err = err
			return
		}
		if i > 0 {
			o.w.WriteString(",")
		}
		o.w.WriteString("\n    ")
		o.w.Write(b)
	}
	if n > 0 {
		o.w.WriteString("\n  ")
	}
	o.w.WriteString("]")
}

func (o *objectWriter) close() error {
	if o.err != nil {
		return o.err
	}
	o.w.WriteString("\n}\n")
	return o.w.Flush()
}

func (o *objectWriter) header(h *Header) {
	o.field("version", h.Version)
	o.field("commit", h.Commit)
	o.field("scenario", h.Scenario)
	o.field("scenario_toml", h.ScenarioTOML)
	o.field("engine", h.Engine)
	o.field("base_seed", h.BaseSeed)
	o.field("runs", h.Runs)
	o.field("start", h.Start)
	o.field("step_seconds", h.StepSeconds)
	o.field("bins", h.Bins)
}

// WriteJSON writes the ensemble (schema wormlab.ensemble/v1, type File):
// the header, the quantile method, the Stats, the bands per grid instant
// and each run's figures. s must be complete.
func (s *Set) WriteJSON(w io.Writer) error {
	f, err := s.File()
	if err != nil {
		return err
	}
	return f.WriteJSON(w)
}

// CSVHeader returns the bands CSV's header: minute, utc, then for each
// of the set's columns its Percentiles, as infected_p5.
func (s *Set) CSVHeader() string {
	var b []byte
	b = append(b, "minute,utc"...)
	for _, c := range s.Columns {
		for _, p := range Percentiles {
			b = append(b, ","+c+"_p"...)
			b = strconv.AppendInt(b, int64(p), 10)
		}
	}
	return string(b)
}

// WriteCSV writes the bands, one line per grid instant, utc as RFC 3339.
// s must be complete.
func (s *Set) WriteCSV(w io.Writer) error {
	if !s.Complete() {
		return errIncomplete
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(s.CSVHeader() + "\n")
	var line []byte
	for _, band := range s.Bands() {
		line = strconv.AppendFloat(line[:0], band.Minute, 'f', -1, 64)
		line = append(line, ',')
		line = band.UTC.AppendFormat(line, time.RFC3339)
		for c := range band.Q {
			for _, v := range band.Q[c] {
				line = append(line, ',')
				line = strconv.AppendInt(line, v, 10)
			}
		}
		bw.Write(append(line, '\n'))
	}
	return bw.Flush()
}

// ShardFile is a shard file (schema wormlab.ensemble-shard/v1) as
// WriteShard writes it and ReadShard reads it: the header, which shard it
// is, and every run's figures and per-bin values, so that Merge can
// rebuild the ensemble exactly. Its published form is
// docs/schema/ensemble-shard.schema.json.
type ShardFile struct {
	Schema string `json:"schema"`
	Header
	Shard   Shard         `json:"shard"`
	Members []ShardMember `json:"members"`
}

// ShardMember is one run in a shard file: its figures and, per column, its
// value at every grid instant.
type ShardMember struct {
	Member
	Series [][]int64 `json:"series"`
}

// WriteShard writes s as a shard file.
func (s *Set) WriteShard(w io.Writer) error {
	f := ShardFile{Schema: ShardSchema, Header: s.Header, Shard: Shard{Index: s.Shard.Index, Count: s.Shard.count()}}
	for k := range s.Members {
		sm := ShardMember{Member: s.Members[k], Series: make([][]int64, len(s.Columns))}
		for c := range sm.Series {
			sm.Series[c] = s.values[c][k*s.Bins : (k+1)*s.Bins]
		}
		f.Members = append(f.Members, sm)
	}
	return f.WriteJSON(w)
}

// WriteJSON writes f in the layout of File.WriteJSON.
func (f *ShardFile) WriteJSON(w io.Writer) error {
	o := newObjectWriter(w)
	o.field("schema", f.Schema)
	o.header(&f.Header)
	o.field("shard", f.Shard)
	o.field("columns", f.Columns)
	o.lines("members", len(f.Members), func(k int) any { return &f.Members[k] })
	return o.close()
}
