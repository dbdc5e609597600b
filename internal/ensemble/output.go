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

func (o *objectWriter) header(schema string, h *Header) {
	o.field("schema", schema)
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

// bandRow is one line of the JSON bands: a grid instant and, per column,
// its Percentiles.
func bandRow(b *Band, columns []string) any {
	type kv = struct {
		k string
		v any
	}
	// A map would sort the keys; an ordered list keeps the CSV's order.
	fields := []kv{{"minute", b.Minute}, {"utc", b.UTC}}
	for c, name := range columns {
		fields = append(fields, kv{name, b.Q[c]})
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		v, _ := marshal(f.v, false) // numbers, times and int arrays always marshal
		buf.WriteString(strconv.Quote(f.k) + ":")
		buf.Write(v)
	}
	buf.WriteByte('}')
	return json.RawMessage(buf.Bytes())
}

// WriteJSON writes the ensemble (schema wormlab.ensemble/v1): the header,
// the quantile method, the Stats, the bands per grid instant and each
// run's figures. s must be complete.
func (s *Set) WriteJSON(w io.Writer) error {
	if !s.Complete() {
		return errIncomplete
	}
	bands := s.Bands()
	o := newObjectWriter(w)
	o.header(Schema, &s.Header)
	o.field("quantile_method", QuantileMethod)
	o.field("percentiles", Percentiles)
	o.field("columns", s.Columns)
	o.field("summary", s.Stats())
	o.lines("bands", len(bands), func(i int) any { return bandRow(&bands[i], s.Columns) })
	o.lines("members", len(s.Members), func(i int) any { return &s.Members[i] })
	return o.close()
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

// shardMember is one run in a shard file: its figures and, per column, its
// value at every grid instant.
type shardMember struct {
	Member
	Series [][]int64 `json:"series"`
}

// WriteShard writes s as a shard file (schema wormlab.ensemble-shard/v1),
// which keeps every run's values so that Merge can rebuild the ensemble
// exactly.
func (s *Set) WriteShard(w io.Writer) error {
	o := newObjectWriter(w)
	o.header(ShardSchema, &s.Header)
	o.field("shard", Shard{Index: s.Shard.Index, Count: s.Shard.count()})
	o.field("columns", s.Columns)
	o.lines("members", len(s.Members), func(k int) any {
		sm := shardMember{Member: s.Members[k], Series: make([][]int64, len(s.Columns))}
		for c := range sm.Series {
			sm.Series[c] = s.values[c][k*s.Bins : (k+1)*s.Bins]
		}
		return &sm
	})
	return o.close()
}
