package scenarioform

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/wormlab/wormlab/internal/scenario"
)

// TOML returns the scenario file the editor shows beside the form: the
// file s was read from, comments and all, or for a scenario made in Go,
// every key in the order of the scenario types.
func TOML(s *scenario.Scenario) []byte {
	if s.Source != "" {
		return []byte(s.Source)
	}
	doc, err := document(s)
	if err != nil {
		return Canonical(s)
	}
	return encodeDoc(doc)
}

// Canonical returns every key of s, encoded by the TOML library from the
// struct itself: two scenarios are the same when their canonical texts
// are.
func Canonical(s *scenario.Scenario) []byte {
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(s); err != nil {
		// Every field of a scenario has a TOML form; this is a bug.
		panic("scenarioform: " + err.Error())
	}
	return b.Bytes()
}

// ParseTOML reads a scenario file sent to the lab, as scenario.Parse does;
// an error is a *scenario.Error naming file:line and key. KeyErrors turns
// it into the message at the form's field.
func ParseTOML(src []byte, file string) (*scenario.Scenario, error) {
	s, err := scenario.Parse(src, file)
	if err != nil {
		return nil, err
	}
	if err := servable(s); err != nil {
		return nil, err
	}
	return s, nil
}

// document returns the keys s's file sets, as the TOML library decodes
// them: Apply changes these and leaves the unset ones to their defaults.
func document(s *scenario.Scenario) (map[string]any, error) {
	src := s.Source
	if src == "" {
		src = string(Canonical(s))
	}
	doc := map[string]any{}
	if _, err := toml.Decode(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", s.File, err)
	}
	return doc, nil
}

// setKey sets a dotted key of doc to v, making the tables on the way;
// a nil v deletes the key.
func setKey(doc map[string]any, key string, v any) {
	parts := strings.Split(key, ".")
	t := doc
	for _, p := range parts[:len(parts)-1] {
		next, ok := t[p].(map[string]any)
		if !ok {
			if v == nil {
				return
			}
			next = map[string]any{}
			t[p] = next
		}
		t = next
	}
	if v == nil {
		delete(t, parts[len(parts)-1])
		return
	}
	t[parts[len(parts)-1]] = v
}

func lookupTable(doc map[string]any, key string) (map[string]any, bool) {
	t := doc
	if key == "" {
		return t, true
	}
	for p := range strings.SplitSeq(key, ".") {
		next, ok := t[p].(map[string]any)
		if !ok {
			return nil, false
		}
		t = next
	}
	return t, true
}

// encodeDoc writes doc as a scenario file, its keys in the order of the
// scenario types, each table's keys before its subtables.
func encodeDoc(doc map[string]any) []byte {
	var tables []string // in order of first appearance
	byTable := map[string][]spec{}
	optional := map[string]bool{}
	for _, sp := range allSpecs() {
		if sp.kind == Table {
			optional[sp.key] = true
			if !slices.Contains(tables, sp.key) {
				tables = append(tables, sp.key)
			}
			continue
		}
		dot := strings.LastIndexByte(sp.key, '.')
		tb := ""
		if dot > 0 {
			tb = sp.key[:dot]
		}
		if !slices.Contains(tables, tb) {
			tables = append(tables, tb)
		}
		byTable[tb] = append(byTable[tb], sp)
	}
	var b strings.Builder
	for _, tb := range tables {
		t, ok := lookupTable(doc, tb)
		if !ok {
			continue
		}
		var lines []string
		for _, sp := range byTable[tb] {
			name := sp.key[strings.LastIndexByte(sp.key, '.')+1:]
			if v, ok := t[name]; ok {
				lines = append(lines, name+" = "+tomlValue(v, sp.columns))
			}
		}
		if len(lines) == 0 && !optional[tb] {
			continue
		}
		if tb != "" {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString("[" + tb + "]\n")
		}
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	return []byte(b.String())
}

// tomlValue writes v as TOML; columns order a row's keys.
func tomlValue(v any, columns []spec) string {
	switch x := v.(type) {
	case string:
		return tomlString(x)
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		switch {
		case math.IsNaN(x):
			return "nan"
		case math.IsInf(x, 1):
			return "inf"
		case math.IsInf(x, -1):
			return "-inf"
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0" // a float, not an integer
		}
		return s
	case time.Time:
		switch x.Location() {
		case localDate:
			return x.Format(time.DateOnly)
		case localDatetime:
			return x.Format("2006-01-02T15:04:05.999999999")
		}
		return x.Format(time.RFC3339Nano)
	case []map[string]any:
		rows := make([]any, len(x))
		for i, r := range x {
			rows[i] = r
		}
		return tomlValue(rows, columns)
	case []any:
		if len(x) > 0 {
			if _, ok := x[0].(map[string]any); ok {
				// Rows, one a line, as the built-ins write them.
				var b strings.Builder
				b.WriteString("[\n")
				for _, row := range x {
					b.WriteString("  " + tomlValue(row, columns) + ",\n")
				}
				b.WriteString("]")
				return b.String()
			}
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = tomlValue(e, nil)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		var keys []string
		for _, c := range columns {
			if _, ok := x[c.key]; ok {
				keys = append(keys, c.key)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		cells := make([]string, len(keys))
		for i, k := range keys {
			cells[i] = k + " = " + tomlValue(x[k], nil)
		}
		return "{ " + strings.Join(cells, ", ") + " }"
	}
	panic(fmt.Sprintf("scenarioform: no TOML form for %T", v))
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
