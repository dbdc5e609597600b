package scenarioform

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/wormlab/wormlab/internal/scenario"
)

// enums are the values a string key allows, as Validate states them (a
// test checks that its messages still list exactly these). The lab leaves
// out population layout "file": it would read the server's disk.
var enums = map[string][]string{
	"population.layout":            {"uniform", "allocated", "clustered"},
	"worm.strategy":                {"uniform", "local-preference", "sequential", "hit-list", "permutation", "witty", "static-seed"},
	"worm.after_lifetime":          {"removed", "susceptible"},
	"worm.calendar":                {"none", "codered1", "codered2", "monthly"},
	"worm.after_hit_list":          {"uniform", "permutation", "witty"},
	"defence.content_filter.after": {"start", "first-infection"},
	"defence.deployment.where":     {"everywhere", "customer", "backbone"},
}

// spec is one key of the scenario types: where it sits in the struct and
// how its text reads.
type spec struct {
	key     string
	section string
	parent  string
	goName  string // "Worm.ScanRate", the key of the help tables
	kind    Kind
	elem    Kind
	path    []int // field indexes from Scenario, through pointers
	typ     reflect.Type
	columns []spec // of Rows, with paths into the element struct
}

var (
	durationType = reflect.TypeFor[scenario.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
)

// allSpecs returns the keys of scenario.Scenario in struct order; an
// optional table's key comes before its own keys.
var allSpecs = sync.OnceValue(func() []spec {
	var out []spec
	walk(reflect.TypeFor[scenario.Scenario](), "", "", "", nil, &out)
	return out
})

func walk(t reflect.Type, prefix, section, parent string, path []int, out *[]spec) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if !f.IsExported() || tag == "" || tag == "-" {
			continue
		}
		key, sec := tag, section
		if prefix != "" {
			key = prefix + "." + tag
		}
		p := append(slices.Clip(path), i)
		sp := spec{key: key, section: sec, parent: parent, goName: t.Name() + "." + f.Name, path: p, typ: f.Type}
		switch ft := f.Type; {
		case ft.Kind() == reflect.Struct && ft != durationType && ft != timeType:
			if prefix == "" {
				sec = tag
			}
			walk(ft, key, sec, parent, p, out)
			continue
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
			if prefix == "" {
				sp.section, sec = tag, tag
			}
			sp.kind = Table
			*out = append(*out, sp)
			walk(ft.Elem(), key, sec, key, p, out)
			continue
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && ft.Elem() != timeType && ft.Elem() != durationType:
			sp.kind = Rows
			walk(ft.Elem(), "", "", "", nil, &sp.columns)
		case ft.Kind() == reflect.Slice:
			sp.kind, sp.elem = List, scalarKind(ft.Elem())
		default:
			sp.kind = scalarKind(ft)
			if _, ok := enums[key]; ok {
				sp.kind = Enum
			}
		}
		*out = append(*out, sp)
	}
}

func scalarKind(t reflect.Type) Kind {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return Duration
	case t == timeType:
		return Time
	}
	switch t.Kind() {
	case reflect.Bool:
		return Bool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Int
	case reflect.Float32, reflect.Float64:
		return Float
	case reflect.String:
		return String
	}
	panic("scenarioform: no form kind for " + t.String())
}

func (sp spec) field(s *scenario.Scenario) Field {
	f := Field{Key: sp.key, Section: sp.section, Parent: sp.parent, Label: label(sp.key), Help: sp.help(), Kind: sp.kind, Elem: sp.elem, Options: enums[sp.key], Value: sp.text(s)}
	for _, c := range sp.columns {
		f.Columns = append(f.Columns, Field{Key: c.key, Label: label(c.key), Help: c.help(), Kind: c.kind})
	}
	return f
}

func (sp spec) help() string {
	if sp.kind == Table {
		if h := typeHelp[sp.typ.Elem().Name()]; h != "" {
			return h
		}
	}
	return fieldHelp[sp.goName]
}

// SectionHelp returns the doc comment of a top-level table's type ("run":
// the simulated time span and the output grid), for a fieldset's legend.
func SectionHelp(section string) string {
	t := reflect.TypeFor[scenario.Scenario]()
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("toml"), ","); tag == section {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			return typeHelp[ft.Name()]
		}
	}
	return ""
}

// labelWords spell the words of TOML keys that people write otherwise.
var labelWords = map[string]string{"cv": "CV", "nat": "NAT", "mbps": "Mbit/s", "zipf": "Zipf", "slash8": "/8", "slash16": "/16"}

// label makes a key's last part readable: "scan_rate_cv" is "Scan rate CV".
func label(key string) string {
	words := strings.Split(key[strings.LastIndexByte(key, '.')+1:], "_")
	for i, w := range words {
		if l, ok := labelWords[w]; ok {
			words[i] = l
		}
	}
	out := strings.Join(words, " ")
	return strings.ToUpper(out[:1]) + out[1:]
}

// value returns the key's value in s; ok is false when an optional table
// on the way is absent.
func (sp spec) value(s *scenario.Scenario) (v reflect.Value, ok bool) {
	v = reflect.ValueOf(s).Elem()
	for _, i := range sp.path {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return v, false
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, true
}

// text returns the key's value in s as the form writes it.
func (sp spec) text(s *scenario.Scenario) string {
	v, ok := sp.value(s)
	if sp.kind == Table {
		return strconv.FormatBool(ok && !v.IsNil())
	}
	if !ok {
		return ""
	}
	return sp.format(v)
}

func (sp spec) format(v reflect.Value) string {
	switch sp.kind {
	case List:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = formatScalar(v.Index(i))
		}
		return strings.Join(parts, ", ")
	case Rows:
		rows := make([]string, v.Len())
		for i := range rows {
			cells := make([]string, len(sp.columns))
			for j, c := range sp.columns {
				cells[j] = c.format(v.Index(i).FieldByIndex(c.path))
			}
			rows[i] = strings.Join(cells, ", ")
		}
		return strings.Join(rows, "\n")
	}
	return formatScalar(v)
}

func formatScalar(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case scenario.Duration:
		return formatDuration(x.Duration)
	case time.Time:
		return formatTime(x)
	}
	switch v.Kind() {
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	}
	return v.String()
}

// formatDuration drops the zero minutes and seconds Go writes: "1h", not
// "1h0m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// The locations the TOML decoder gives a local date (2001-07-19) and a
// local date-time; the encoder tells them apart by pointer.
var localDate, localDatetime = func() (*time.Location, *time.Location) {
	var v map[string]any // into a time.Time field they would be UTC
	if _, err := toml.Decode("d = 2001-07-19\nt = 2001-07-19T10:00:00", &v); err != nil {
		panic(err)
	}
	return v["d"].(time.Time).Location(), v["t"].(time.Time).Location()
}()

func formatTime(t time.Time) string {
	switch {
	case t.IsZero():
		return ""
	case t.Location() == localDate, t.Location() == time.UTC && t.Equal(t.Truncate(24*time.Hour)):
		// The decoder gives a date (allocated_by = 2001-07-19) to a
		// time.Time as midnight UTC.
		return t.Format(time.DateOnly)
	case t.Location() == localDatetime:
		return t.Format("2006-01-02T15:04:05.999999999")
	}
	return t.Format(time.RFC3339Nano)
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, localDate); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, localDatetime); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: want a time such as 2001-07-19T10:00:00Z or a date such as 2001-07-19", s)
}

// parse reads a form's text as the key's TOML value; norm is the text
// the value formats as, to compare with the current one. Empty text is a
// nil value: the key unset.
func (sp spec) parse(text string) (v any, norm string, err error) {
	if sp.kind == Table {
		if text == "" {
			return false, "false", nil
		}
		b, err := parseBool(text)
		return b, strconv.FormatBool(b), err
	}
	if text == "" {
		return nil, "", nil
	}
	switch sp.kind {
	case List:
		var vals []any
		var norms []string
		for i, part := range strings.Split(text, ",") {
			x, n, err := parseScalar(sp.elem, sp.typ.Elem(), strings.TrimSpace(part))
			if err != nil {
				return nil, "", fmt.Errorf("value %d: %v", i+1, err)
			}
			vals, norms = append(vals, x), append(norms, n)
		}
		return vals, strings.Join(norms, ", "), nil
	case Rows:
		var rows []map[string]any
		var norms []string
		for line := range strings.Lines(text) {
			if strings.TrimSpace(line) == "" {
				continue
			}
			cells := strings.Split(line, ",")
			if len(cells) != len(sp.columns) {
				return nil, "", fmt.Errorf("row %d: want %d values a row (%s)", len(rows)+1, len(sp.columns), columnNames(sp.columns))
			}
			row := map[string]any{}
			cellNorms := make([]string, len(cells))
			for j, c := range sp.columns {
				cell := strings.TrimSpace(cells[j])
				if cell == "" {
					continue // the column's default
				}
				x, n, err := parseScalar(c.kind, c.typ, cell)
				if err != nil {
					return nil, "", fmt.Errorf("row %d: %s: %v", len(rows)+1, c.key, err)
				}
				if x != nil {
					row[c.key] = x
				}
				cellNorms[j] = n
			}
			rows, norms = append(rows, row), append(norms, strings.Join(cellNorms, ", "))
		}
		if rows == nil {
			return nil, "", nil
		}
		return rows, strings.Join(norms, "\n"), nil
	}
	return parseScalar(sp.kind, sp.typ, text)
}

func columnNames(cols []spec) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.key
	}
	return strings.Join(names, ", ")
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "on", "1", "yes":
		return true, nil
	case "false", "off", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q: want true or false", s)
}

func parseScalar(kind Kind, t reflect.Type, s string) (v any, norm string, err error) {
	if s == "" {
		return nil, "", fmt.Errorf("empty: want a value")
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch kind {
	case Int:
		if t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64 {
			u, err := strconv.ParseUint(s, 10, 64)
			if err != nil || u > math.MaxInt64 { // TOML integers are int64
				return nil, "", fmt.Errorf("%q: want a whole number from 0 to %d", s, int64(math.MaxInt64))
			}
			return int64(u), strconv.FormatUint(u, 10), nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("%q: want a whole number", s)
		}
		return n, strconv.FormatInt(n, 10), nil
	case Float:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, "", fmt.Errorf("%q: want a number such as 0.5 or 1e-3", s)
		}
		return f, strconv.FormatFloat(f, 'g', -1, 64), nil
	case Bool:
		b, err := parseBool(s)
		return b, strconv.FormatBool(b), err
	case Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, "", fmt.Errorf("%q: want a duration such as 90s, 10m or 1h30m", s)
		}
		n := formatDuration(d)
		return n, n, nil
	case Time:
		tm, err := parseTime(s)
		if err != nil {
			return nil, "", err
		}
		return tm, formatTime(tm), nil
	}
	return s, s, nil
}
