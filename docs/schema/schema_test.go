// Package schema holds the published JSON Schemas of wormlab's records
// (docs/DESIGN.md §5) and the test that keeps them true: real outputs,
// made here by the writers the commands use, must validate, and every
// field of the Go types the writers and readers share must appear in its
// schema and nowhere else.
package schema

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/wormlab/wormlab/internal/detect"
	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/observe"
	"github.com/wormlab/wormlab/internal/runrec"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/series"
	"github.com/wormlab/wormlab/internal/shield"
	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/sweep"
)

// records are the published formats: the Go constant naming each version,
// and the Go type its writer and reader share (nil for the series, which
// is CSV).
var records = []struct {
	schema string
	typ    reflect.Type
}{
	{runrec.Schema, reflect.TypeFor[runrec.Record]()},
	{ensemble.Schema, reflect.TypeFor[ensemble.File]()},
	{ensemble.ShardSchema, reflect.TypeFor[ensemble.ShardFile]()},
	{detect.Schema, reflect.TypeFor[detect.Report]()},
	{sweep.Schema, reflect.TypeFor[sweep.File]()},
	{sweep.ShardSchema, reflect.TypeFor[sweep.ShardFile]()},
	{series.Schema, nil},
}

// fileOf returns the schema file of a format: wormlab.run/v1 is
// run.v1.schema.json.
func fileOf(schema string) string {
	family, version, _ := strings.Cut(strings.TrimPrefix(schema, "wormlab."), "/")
	return family + "." + version + ".schema.json"
}

// schemas reads every schema file of this directory, keyed by file name.
func schemas(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, err := filepath.Glob("*.schema.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schema files: %v", err)
	}
	out := map[string]map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[f] = doc
	}
	return out
}

// compile returns the compiled schema of each record, by its version name.
func compile(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	docs := schemas(t)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for f, doc := range docs {
		id, _ := doc["$id"].(string)
		if !strings.HasSuffix(id, "/"+f) {
			t.Errorf("%s: $id %q does not end in its file name", f, id)
		}
		// The documents are read from this directory, never fetched.
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, r := range records {
		f := fileOf(r.schema)
		doc, ok := docs[f]
		if !ok {
			t.Fatalf("%s has no schema file %s", r.schema, f)
		}
		if r.typ != nil {
			prop, _ := doc["properties"].(map[string]any)["schema"].(map[string]any)
			if prop["const"] != r.schema {
				t.Errorf("%s: property schema is %v, want the const %q", f, prop, r.schema)
			}
		}
		s, err := c.Compile(doc["$id"].(string))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[r.schema] = s
	}
	return out
}

// validate checks the JSON document data against the schema of format.
func validate(t *testing.T, schemas map[string]*jsonschema.Schema, format, name string, data []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := schemas[format].Validate(v); err != nil {
		t.Errorf("%s does not match %s:\n%v", name, fileOf(format), err)
	}
}

// csvRows reads a series CSV as the JSON array of row objects its schema
// describes: each row keyed by the header, numbers as numbers.
func csvRows(t *testing.T, data []byte) []byte {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows := []map[string]any{}
	for _, rec := range recs[1:] {
		row := map[string]any{}
		for i, h := range recs[0] {
			if _, err := strconv.ParseFloat(rec[i], 64); err == nil {
				row[h] = json.Number(rec[i])
			} else {
				row[h] = rec[i]
			}
		}
		rows = append(rows, row)
	}
	b, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func builtin(t *testing.T, name string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestOutputsMatchSchemas makes each record the way the commands do and
// validates it: a run record with every observer (flood, census,
// telescope and the load on a block),
// an ensemble and a shard with the telescope's columns, a sweep over two
// keys and a shard of it, a detection
// report with countries and a missing file, and the observed series of a
// telescope with 10-second bins, of detect and of the shield.
func TestOutputsMatchSchemas(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Code Red day")
	}
	sch := compile(t)
	const seed = 1

	// The Code Red day run on into the flood of the 20th, with a census.
	sc := builtin(t, "codered-v2-2001-07-19")
	sc.Run.End = sc.Run.End.Add(2 * time.Hour)
	sc.Worm.FloodRate, sc.Worm.FloodTarget = 100, "198.137.240.91"
	sc.Census = &scenario.Census{At: []time.Time{sc.Run.Start.Add(6 * time.Hour)}, Sample: 20000, Servers: 6_000_000}
	c, err := sc.Build(seed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scenario.AttachTelescope(c, "auto", seed); err != nil {
		t.Fatal(err)
	}
	bl, err := observe.NewBlockLoad(c, ipspace.PrefixFrom(ipspace.Addr(24<<24), 16), seed)
	if err != nil {
		t.Fatal(err)
	}
	c.Observers = append(c.Observers, bl)
	res, err := sim.RunEvent(c, seed)
	if err != nil {
		t.Fatal(err)
	}
	rec := runrec.New(sc, seed, c, res)
	o := rec.Observers
	if o == nil || o.BlockLoad == nil || o.Flood == nil || len(o.Census) == 0 || o.Telescope == nil || rec.Summary.Logistic == nil || len(rec.Summary.PerSlash8) == 0 {
		t.Fatalf("the run record lacks a part the test means to check: %+v", o)
	}
	var buf bytes.Buffer
	if err := rec.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	validate(t, sch, runrec.Schema, "run record", buf.Bytes())

	slammer := builtin(t, "slammer-2003-01-25")
	slammer.Telescope = &scenario.Telescope{Block: "auto"}
	set, err := ensemble.Run(context.Background(), ensemble.Spec{Scenario: slammer, Engine: "event", BaseSeed: seed, Runs: 3, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := set.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	validate(t, sch, ensemble.Schema, "ensemble", buf.Bytes())
	shard, err := ensemble.Run(context.Background(), ensemble.Spec{Scenario: slammer, Engine: "event", BaseSeed: seed, Runs: 3, Shard: ensemble.Shard{Index: 1, Count: 2}})
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := shard.WriteShard(&buf); err != nil {
		t.Fatal(err)
	}
	validate(t, sch, ensemble.ShardSchema, "ensemble shard", buf.Bytes())

	// A sweep of the scaled day over two keys, whole and one shard: a
	// late reaction lets some runs reach half (a time to half), an early
	// one none (null quantiles).
	sp := sweep.Spec{Base: builtin(t, "codered-v2-scaled"), BaseSeed: seed, Runs: 4, Workers: 2,
		Engine: func(*scenario.Scenario) (string, error) { return "event", nil }}
	for _, arg := range []string{"defence.content_filter.reaction=1h,12h", "worm.scan_rate=4..8/2"} {
		p, err := sweep.ParseSet(arg)
		if err != nil {
			t.Fatal(err)
		}
		sp.Params = append(sp.Params, p)
	}
	sw, err := sweep.Run(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := sw.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"minutes_to_half":[null,null,null]`)) || !bytes.Contains(buf.Bytes(), []byte(`"reached_half":4`)) {
		t.Fatalf("the sweep lacks a point that never reaches half or one whose runs all do:\n%s", buf.Bytes())
	}
	validate(t, sch, sweep.Schema, "sweep", buf.Bytes())
	sp.Shard = ensemble.Shard{Index: 1, Count: 3}
	if sw, err = sweep.Run(context.Background(), sp); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := sw.WriteShard(&buf); err != nil {
		t.Fatal(err)
	}
	validate(t, sch, sweep.ShardSchema, "sweep shard", buf.Bytes())

	// The slammer runs' telescope writes 10-second bins.
	c, err = slammer.Build(seed)
	if err != nil {
		t.Fatal(err)
	}
	if res, err = sim.RunEvent(c, seed); err != nil {
		t.Fatal(err)
	}
	for _, ob := range c.Observers {
		if tel, ok := ob.(*observe.Telescope); ok {
			buf.Reset()
			if err := series.Write(&buf, tel.Series(c.Start)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !strings.HasPrefix(buf.String(), "minute,second,") {
		t.Fatalf("the telescope's series has no second column:\n%.200s", buf.String())
	}
	validate(t, sch, series.Schema, "telescope series", csvRows(t, buf.Bytes()))

	logs := []string{"../../internal/detect/testdata/combined/input.log", "../../internal/detect/testdata/fallback/input.log", "no-such-file.log"}
	rep, err := detect.Run(context.Background(), logs, detect.Config{Country: func(netip.Addr) string { return "NL" }})
	if rep == nil {
		t.Fatalf("detect: %v", err)
	}
	if !rep.HasCountry || len(rep.Unparsable) == 0 || rep.Inputs[2].Error == "" {
		t.Fatalf("the detection report lacks a part the test means to check: countries %v, %d unparsable, error %q", rep.HasCountry, len(rep.Unparsable), rep.Inputs[2].Error)
	}
	buf.Reset()
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	validate(t, sch, detect.Schema, "detection report", buf.Bytes())
	buf.Reset()
	if err := series.Write(&buf, rep.ObservedSeries()); err != nil {
		t.Fatal(err)
	}
	validate(t, sch, series.Schema, "detect series", csvRows(t, buf.Bytes()))

	// The shield's series: probes from a few sources over three minutes.
	clock := &fixedClock{now: time.Date(2001, 8, 4, 12, 0, 0, 0, time.UTC)}
	sh, err := shield.New(shield.Options{Actions: map[string]shield.Action{"*": shield.NotFound}, Series: true, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	h := sh.Wrap(http.NotFoundHandler())
	for i := range 12 {
		req := httptest.NewRequest("GET", "/scripts/root.exe?/c+dir", nil)
		req.RemoteAddr = fmt.Sprintf("192.0.2.%d:1234", 1+i%5)
		h.ServeHTTP(httptest.NewRecorder(), req)
		clock.now = clock.now.Add(15 * time.Second)
	}
	ss, capped := sh.Series()
	if capped || len(ss.Points) != 3 {
		t.Fatalf("the shield recorded %d bins", len(ss.Points))
	}
	buf.Reset()
	if err := series.Write(&buf, ss); err != nil {
		t.Fatal(err)
	}
	validate(t, sch, series.Schema, "shield series", csvRows(t, buf.Bytes()))
}

// fixedClock is a shield.Clock that stands still until the test moves it.
type fixedClock struct{ now time.Time }

func (c *fixedClock) Now() time.Time { return c.now }

func (c *fixedClock) AfterFunc(time.Duration, func()) func() bool {
	return func() bool { return false }
}

// TestBuiltinScenariosMatchSchema validates every built-in scenario as
// records embed it, which exercises more of the scenario's fields than
// one run does.
func TestBuiltinScenariosMatchSchema(t *testing.T) {
	docs := schemas(t)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	doc := docs["scenario.v1.schema.json"]
	if err := c.AddResource(doc["$id"].(string), doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(doc["$id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range scenario.Names() {
		b, err := json.Marshal(builtin(t, name))
		if err != nil {
			t.Fatal(err)
		}
		v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err := s.Validate(v); err != nil {
			t.Errorf("scenario %s does not match scenario.v1.schema.json:\n%v", name, err)
		}
	}
}

// TestSchemasNameEveryField walks each record's Go type beside its schema:
// every JSON field of the type must be a property of the schema at the same
// place, every property a field, and the fields without omitempty exactly
// the required ones. A writer that gains, loses or renames a field fails
// here until its schema follows, even when no output above holds the
// field.
func TestSchemasNameEveryField(t *testing.T) {
	docs := schemas(t)
	for _, r := range records {
		if r.typ == nil {
			continue
		}
		f := fileOf(r.schema)
		for _, p := range mismatches(docs, f, docs[f], r.typ) {
			t.Errorf("%s: %s", r.schema, p)
		}
	}
	if t.Failed() {
		t.Log("whoever changes a record updates its schema in the same commit: see docs/schema/README.md")
	}
}

// TestSchemaCheckCanFail shows that both checks catch a field the schema
// lacks: a record type with one more field, and an output holding it.
func TestSchemaCheckCanFail(t *testing.T) {
	docs := schemas(t)
	type grown struct {
		runrec.Record
		Extra int `json:"extra"`
	}
	got := mismatches(docs, "run.v1.schema.json", docs["run.v1.schema.json"], reflect.TypeFor[grown]())
	if len(got) != 2 || !strings.Contains(got[0]+got[1], `"extra"`) {
		t.Errorf("a type with a field its schema lacks: %q, want that field unknown and unrequired", got)
	}
	sch := compile(t)
	var buf bytes.Buffer
	rec := &runrec.Record{Schema: runrec.Schema, Scenario: builtin(t, "codered-v2-scaled"), Engine: "event"}
	if err := rec.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	withExtra := bytes.Replace(buf.Bytes(), []byte(`"engine"`), []byte(`"extra": 1, "engine"`), 1)
	v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(withExtra))
	if err := sch[runrec.Schema].Validate(v); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Errorf("a record with a field its schema lacks validated: %v", err)
	}
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[scenario.Duration]()
	// rawType holds a whole record of its own (a sweep shard's points are
	// ensemble shards), whose schema the $ref names.
	rawType = reflect.TypeFor[json.RawMessage]()
)

// mismatches compares type t with schema node s of file f, following $ref
// within f and to the other files, and returns what differs.
func mismatches(docs map[string]map[string]any, f string, s map[string]any, t reflect.Type) []string {
	return walk(docs, f, s, t, "", map[string]bool{})
}

func walk(docs map[string]map[string]any, f string, s map[string]any, t reflect.Type, at string, seen map[string]bool) []string {
	orTop := func(at string) string { return f + " at " + orTop(at) }
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if ref, ok := s["$ref"].(string); ok {
		if def, ok := strings.CutPrefix(ref, "#/$defs/"); ok {
			s, _ = docs[f]["$defs"].(map[string]any)[def].(map[string]any)
		} else {
			f, s = ref, docs[ref]
		}
		if s == nil {
			return []string{fmt.Sprintf("%s: $ref %q leads nowhere", orTop(at), ref)}
		}
		orTop = func(at string) string { return f + " at " + at }
	}
	if anyOf, ok := s["anyOf"].([]any); ok { // a value or null
		s = anyOf[0].(map[string]any)
		return walk(docs, f, s, t, at, seen)
	}
	switch {
	case t == timeType || t == durationType || t == rawType:
		return nil
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		items, ok := s["items"].(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: a list in Go, no items in the schema", orTop(at))}
		}
		return walk(docs, f, items, t.Elem(), at+"[]", seen)
	case t.Kind() != reflect.Struct:
		return nil
	}
	key := f + " " + t.String()
	if seen[key] {
		return nil
	}
	seen[key] = true
	props, _ := s["properties"].(map[string]any)
	var required []string
	list, _ := s["required"].([]any)
	for _, r := range list {
		required = append(required, r.(string))
	}
	var out []string
	if s["additionalProperties"] != false {
		out = append(out, fmt.Sprintf("%s: the object allows fields the schema does not name (want additionalProperties false)", orTop(at)))
	}
	fields := map[string]bool{}
	var mustHave []string
	for name, field := range jsonFields(t) {
		fields[name] = true
		if !field.omit {
			mustHave = append(mustHave, name)
		}
		p, ok := props[name].(map[string]any)
		if !ok {
			out = append(out, fmt.Sprintf("%s: field %q of %s is not in the schema", orTop(at), name, t))
			continue
		}
		out = append(out, walk(docs, f, p, field.typ, at+"."+name, seen)...)
	}
	for name := range props {
		if !fields[name] {
			out = append(out, fmt.Sprintf("%s: property %q is no field of %s", orTop(at), name, t))
		}
	}
	slices.Sort(mustHave)
	slices.Sort(required)
	if !slices.Equal(mustHave, required) {
		out = append(out, fmt.Sprintf("%s: required %q, but the fields %s always writes are %q", orTop(at), required, t, mustHave))
	}
	slices.Sort(out)
	return out
}

func orTop(at string) string {
	if at == "" {
		return "(top)"
	}
	return at
}

type jsonField struct {
	typ  reflect.Type
	omit bool // omitempty or omitzero
}

// jsonFields returns the fields encoding/json writes for struct type t,
// embedded structs flattened.
func jsonFields(t reflect.Type) map[string]jsonField {
	out := map[string]jsonField{}
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if !sf.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			for k, v := range jsonFields(sf.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out[name] = jsonField{sf.Type, strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")}
	}
	return out
}
