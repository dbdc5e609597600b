package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The observer and ensemble formats are defined by other packages and are
// still settling, so they are read loosely: by the fields a file holds, not
// by a fixed struct. What is not understood is left out of the report, never
// guessed at.

// Observer is one instrument's view of a run (a telescope, a census, the
// load on a block, the flood at a target), as one or more time series.
type Observer struct {
	Kind   string // as the record names it: "telescope", "census", ...
	Label  string // the prefix, target or name, when the record gives one
	Tables []Table
}

// Table is a time series of numeric columns.
type Table struct {
	Name    string // the field of the observer that held it
	Times   []time.Time
	Minutes []float64 // the rows' "minute" when they carry no "utc"
	Columns []Column
}

// Column is one numeric field of a Table; NaN where a row lacks it.
type Column struct {
	Name   string
	Values []float64
}

// parseObservers reads the observers field: an object keyed by kind (as
// package runrec writes it: {"block_load": {"block": .., "series": [..]},
// "census": [..]}) whose values are objects or tables, or an array of
// objects. Each object's string fields
// "kind" (or "type", else its key) and "name", "prefix", "target" or
// "block" label it; every array of objects with a "utc" or "minute" field
// becomes a table.
func parseObservers(raw json.RawMessage) ([]Observer, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	type named struct {
		key string
		obj map[string]json.RawMessage
	}
	var list []named
	var arr []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &arr); err == nil {
		for _, o := range arr {
			list = append(list, named{"", o})
		}
	} else {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, errors.New("want an object of observers keyed by kind, or an array of observers")
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			// An observer is an object holding tables, or a table itself
			// (an array of rows, as the census is written).
			var o map[string]json.RawMessage
			if json.Unmarshal(obj[k], &o) != nil {
				o = map[string]json.RawMessage{k: obj[k]}
			}
			list = append(list, named{k, o})
		}
	}
	var out []Observer
	for i, n := range list {
		o := Observer{Kind: firstString(n.obj, "kind", "type")}
		if o.Kind == "" {
			o.Kind = n.key
		}
		o.Label = firstString(n.obj, "name", "prefix", "target", "block")
		keys := make([]string, 0, len(n.obj))
		for k := range n.obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			t, ok, err := parseTable(k, n.obj[k])
			if err != nil {
				return nil, fmt.Errorf("observer %d (%s) field %q: %w", i, o.Kind, k, err)
			}
			if ok {
				o.Tables = append(o.Tables, t)
			}
		}
		if len(o.Tables) > 0 {
			out = append(out, o)
		}
	}
	return out, nil
}

func firstString(obj map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		var s string
		if raw, ok := obj[k]; ok && json.Unmarshal(raw, &s) == nil && s != "" {
			return s
		}
	}
	return ""
}

// parseTable reads raw as a table when it is an array of objects with a
// "utc" or a "minute" field (utc preferred); ok is false for anything else.
func parseTable(name string, raw json.RawMessage) (t Table, ok bool, err error) {
	var rows []map[string]json.RawMessage
	if json.Unmarshal(raw, &rows) != nil || len(rows) == 0 {
		return t, false, nil
	}
	_, hasUTC := rows[0]["utc"]
	_, hasMinute := rows[0]["minute"]
	if !hasUTC && !hasMinute {
		return t, false, nil
	}
	t.Name = name
	index := map[string]int{}
	for i, row := range rows {
		if hasUTC {
			var s string
			if err := json.Unmarshal(row["utc"], &s); err != nil {
				return t, false, fmt.Errorf("row %d: utc is not a string", i)
			}
			at, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return t, false, fmt.Errorf("row %d: utc %q is not RFC 3339", i, s)
			}
			if i > 0 && !at.After(t.Times[i-1]) {
				return t, false, fmt.Errorf("row %d: utc %s does not follow the row before", i, s)
			}
			t.Times = append(t.Times, at)
		} else {
			var m float64
			if err := json.Unmarshal(row["minute"], &m); err != nil || math.IsNaN(m) || math.Abs(m) > 1e9 {
				return t, false, fmt.Errorf("row %d: minute is not a number of minutes", i)
			}
			if i > 0 && !(m > t.Minutes[i-1]) {
				return t, false, fmt.Errorf("row %d: minute %v does not follow the row before", i, m)
			}
			t.Minutes = append(t.Minutes, m)
		}
		for k, v := range row {
			if k == "utc" || k == "minute" {
				continue
			}
			var x float64
			if json.Unmarshal(v, &x) != nil {
				continue
			}
			j, seen := index[k]
			if !seen {
				j = len(t.Columns)
				index[k] = j
				t.Columns = append(t.Columns, Column{Name: k, Values: nanSlice(len(rows))})
			}
			t.Columns[j].Values[i] = x
		}
	}
	slices.SortFunc(t.Columns, func(a, b Column) int { return strings.Compare(a.Name, b.Name) })
	return t, len(t.Columns) > 0, nil
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

// Ensemble holds the quantile bands of many runs of one scenario, and what
// each run's figures were when the file lists them.
type Ensemble struct {
	Scenario string
	Seed     uint64 // the first run's seed
	Runs     int
	Version  string
	Commit   string
	Times    []time.Time
	Bands    []Band  // in name order
	Step     float64 // seconds between bins, from "step_seconds"; 0 if absent
	// Stats are the quantiles over the runs of the figures in the file's
	// "summary" whose value is a [p5, p50, p95] array, by field name;
	// Counts its whole-number fields (reached_half, fitted).
	Stats  map[string][3]float64
	Counts map[string]int
	// Per run, the figures of its "members" entry, by field name
	// (minutes_to_half, k_per_hour, final_infected, ...); runs lacking a
	// figure are left out of its list.
	Figures map[string][]float64
}

// Band is one quantity's 5%, 50% and 95% quantiles per bin; NaN where a bin
// lacks one.
type Band struct {
	Name        string
	Lo, Mid, Hi []float64
}

// parseEnsemble reads an ensemble file (package ensemble writes them). It
// takes the scenario's name from "scenario" (a string, or an object with a
// "name"), the run count from "runs", the first seed from "base_seed" or
// "seed", and the bands from the first of "bands", "quantiles" or "series"
// that is an array of objects with a "utc" field. A row gives a quantity's
// quantiles as an array in the order of the top-level "percentiles"
// ("infected": [p5, p50, p95], as package ensemble writes), nested
// ("infected": {"p5": .., "p50": .., "p95": ..}) or flat ("infected_p5",
// ...; q05, q50, q95 and median are read too). The numeric fields of each
// entry of "members" become Figures.
func parseEnsemble(data []byte) (*Ensemble, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, err
	}
	e := &Ensemble{}
	var s string
	if json.Unmarshal(top["scenario"], &s) == nil {
		e.Scenario = s
	} else {
		var sc map[string]json.RawMessage
		if json.Unmarshal(top["scenario"], &sc) == nil {
			e.Scenario = firstString(sc, "name")
		}
	}
	for _, k := range []string{"runs", "n", "count"} {
		if json.Unmarshal(top[k], &e.Runs) == nil && e.Runs > 0 {
			break
		}
	}
	for _, k := range []string{"base_seed", "seed", "first_seed"} {
		if json.Unmarshal(top[k], &e.Seed) == nil && e.Seed > 0 {
			break
		}
	}
	json.Unmarshal(top["step_seconds"], &e.Step)
	e.Version = firstString(top, "version")
	e.Commit = firstString(top, "commit")
	var rows []map[string]json.RawMessage
	for _, k := range []string{"bands", "quantiles", "series"} {
		if json.Unmarshal(top[k], &rows) == nil && len(rows) > 0 {
			if _, ok := rows[0]["utc"]; ok {
				break
			}
		}
		rows = nil
	}
	if rows == nil {
		return nil, errors.New(`no quantile bands: want an array "bands" of rows with "utc"`)
	}
	var pct []float64
	json.Unmarshal(top["percentiles"], &pct)
	index := map[string]int{}
	band := func(name string) *Band {
		j, ok := index[name]
		if !ok {
			j = len(e.Bands)
			index[name] = j
			e.Bands = append(e.Bands, Band{Name: name, Lo: nanSlice(len(rows)), Mid: nanSlice(len(rows)), Hi: nanSlice(len(rows))})
		}
		return &e.Bands[j]
	}
	for i, row := range rows {
		var u string
		if err := json.Unmarshal(row["utc"], &u); err != nil {
			return nil, fmt.Errorf("bands row %d: utc is not a string", i)
		}
		at, err := time.Parse(time.RFC3339, u)
		if err != nil {
			return nil, fmt.Errorf("bands row %d: utc %q is not RFC 3339", i, u)
		}
		if i > 0 && !at.After(e.Times[i-1]) {
			return nil, fmt.Errorf("bands row %d: utc %s does not follow the row before", i, u)
		}
		e.Times = append(e.Times, at)
		for k, v := range row {
			var arr []float64
			if json.Unmarshal(v, &arr) == nil {
				if len(arr) != len(pct) {
					return nil, fmt.Errorf("bands row %d: %s has %d quantiles, the file's percentiles %d", i, k, len(arr), len(pct))
				}
				for j, x := range arr {
					if p := quantileOf(strconv.FormatFloat(pct[j], 'f', -1, 64)); p != 0 {
						band(k).set(p, i, x)
					}
				}
				continue
			}
			var nested map[string]float64
			if json.Unmarshal(v, &nested) == nil {
				for q, x := range nested {
					if p := quantileOf(q); p != 0 {
						band(k).set(p, i, x)
					}
				}
				continue
			}
			var x float64
			if json.Unmarshal(v, &x) != nil {
				continue
			}
			if cut := strings.LastIndexByte(k, '_'); cut > 0 {
				if p := quantileOf(k[cut+1:]); p != 0 {
					band(k[:cut]).set(p, i, x)
				}
			}
		}
	}
	slices.SortFunc(e.Bands, func(a, b Band) int { return strings.Compare(a.Name, b.Name) })
	if len(e.Bands) == 0 {
		return nil, errors.New("the bands rows hold no 5%/50%/95% quantiles")
	}
	var summary map[string]json.RawMessage
	if json.Unmarshal(top["summary"], &summary) == nil {
		e.Stats, e.Counts = map[string][3]float64{}, map[string]int{}
		for k, v := range summary {
			var q []float64
			var n int
			switch {
			case json.Unmarshal(v, &q) == nil && len(q) == 3 && len(pct) == 3:
				e.Stats[k] = [3]float64{q[0], q[1], q[2]}
			case json.Unmarshal(v, &n) == nil:
				e.Counts[k] = n
			}
		}
	}
	var members []map[string]json.RawMessage
	if json.Unmarshal(top["members"], &members) == nil && len(members) > 0 {
		e.Figures = map[string][]float64{}
		for _, m := range members {
			for k, v := range m {
				var x float64
				if k != "run" && k != "seed" && string(v) != "null" && json.Unmarshal(v, &x) == nil {
					e.Figures[k] = append(e.Figures[k], x)
				}
			}
		}
	}
	return e, nil
}

func (b *Band) set(p, i int, x float64) {
	switch p {
	case 5:
		b.Lo[i] = x
	case 50:
		b.Mid[i] = x
	case 95:
		b.Hi[i] = x
	}
}

// quantileOf returns 5, 50 or 95 for the names of those quantiles (p5, p05,
// q05, 5, 0.05, median, ...) and 0 for anything else.
func quantileOf(name string) int {
	name = strings.ToLower(name)
	if name == "median" {
		return 50
	}
	name = strings.TrimLeft(name, "pq")
	v, err := strconv.ParseFloat(name, 64)
	if err != nil {
		return 0
	}
	if v < 1 && strings.Contains(name, ".") {
		v *= 100
	}
	switch math.Round(v * 1000) {
	case 5000:
		return 5
	case 50000:
		return 50
	case 95000:
		return 95
	}
	return 0
}
