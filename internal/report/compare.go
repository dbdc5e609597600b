package report

import (
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/sweep"
)

// A subject is one input of the comparison: the scenario it ran and the
// seeds, from which its label is made.
type subject struct {
	name     string // the input file
	kind     string // "run", "ensemble" or "sweep"
	scenario *scenario.Scenario
	written  map[string]bool // the keys its file sets
	seed     uint64
	runs     int      // 1 for a run
	swept    []string // a sweep's keys, which vary along its own axis
}

// maxLabelKeys bounds the keys a label names; the table under the
// charts lists them all.
const maxLabelKeys = 4

// compareLabels names each subject by what sets it apart from the others:
// the scenario keys whose values differ ("defence.content_filter.reaction=1h"),
// the seeds when the scenarios are the same, the file when nothing
// differs. It also returns a sentence saying which of these it was, and
// every differing key.
func compareLabels(subs []subject) (labels []string, note string, keys []string) {
	flats := make([]map[string]string, len(subs))
	var order []string
	seen := map[string]bool{}
	for i, s := range subs {
		if s.scenario == nil {
			continue
		}
		var ks []string
		flats[i], ks = flatten(s.scenario)
		for _, k := range ks {
			if !seen[k] {
				seen[k] = true
				order = append(order, k)
			}
		}
	}
	// Only keys some file sets are compared: a default the reader fills
	// in differently because of another key (the networks a defence
	// needs) is that key's consequence, not a difference of its own.
	swept := map[string]bool{}
	written := map[string]bool{}
	for _, s := range subs {
		for _, k := range s.swept {
			swept[k] = true
		}
		for k := range s.written {
			written[k] = true
		}
	}
	for _, k := range order {
		if swept[k] || !written[k] || k == "name" || k == "description" {
			continue
		}
		first := valueOf(flats[0], k)
		for _, f := range flats[1:] {
			if valueOf(f, k) != first {
				keys = append(keys, k)
				break
			}
		}
	}
	labels = make([]string, len(subs))
	switch {
	case len(keys) > 0:
		for i := range subs {
			labels[i] = keyLabel(flats[i], keys)
		}
		note = "Each input is labelled by the scenario keys whose values differ between the inputs."
	default:
		names := map[string]bool{}
		for _, s := range subs {
			if s.scenario != nil {
				names[s.scenario.Name] = true
			}
		}
		if len(names) > 1 {
			for i, s := range subs {
				labels[i] = orText(scenarioName(s), filepath.Base(s.name))
			}
			note = "The scenarios differ only in their names."
			break
		}
		for i, s := range subs {
			labels[i] = seedText(s)
		}
		note = "The scenarios are the same; only the seed differs."
	}
	if !unique(labels) {
		// Inputs the keys do not tell apart are told apart by their seeds,
		// then by their files.
		same := slices.Clone(labels)
		for i, s := range subs {
			if count(same, same[i]) > 1 && len(keys) > 0 {
				labels[i] += ", " + seedText(s)
			}
		}
		if !unique(labels) {
			same = slices.Clone(labels)
			for i, s := range subs {
				if count(same, same[i]) > 1 {
					labels[i] += " (" + filepath.Base(s.name) + ")"
				}
			}
			if len(keys) == 0 {
				note = "The scenarios and seeds are the same: each input is labelled by its file."
			}
		}
	}
	return labels, note, keys
}

func scenarioName(s subject) string {
	if s.scenario == nil {
		return ""
	}
	return s.scenario.Name
}

// seedText says which seeds a subject ran.
func seedText(s subject) string {
	if s.kind == "run" {
		return "seed " + strconv.FormatUint(s.seed, 10)
	}
	return fmt.Sprintf("seeds %d to %d", s.seed, s.seed+uint64(max(s.runs, 1))-1)
}

func unique(labels []string) bool {
	for _, l := range labels {
		if count(labels, l) > 1 {
			return false
		}
	}
	return true
}

func count(labels []string, l string) int {
	n := 0
	for _, x := range labels {
		if x == l {
			n++
		}
	}
	return n
}

// keyLabel writes "key=value" for each differing key; a key under a table
// the scenario lacks is written once as "table=none".
func keyLabel(flat map[string]string, keys []string) string {
	var parts []string
	for _, k := range keys {
		part := k + "=" + valueOf(flat, k)
		if t := absentTable(flat, k); t != "" {
			part = t + "=none"
		}
		if !slices.Contains(parts, part) {
			parts = append(parts, part)
		}
	}
	if len(parts) > maxLabelKeys {
		rest := len(parts) - maxLabelKeys
		parts = append(parts[:maxLabelKeys], "and "+plural(rest, "more key"))
	}
	return strings.Join(parts, ", ")
}

// absentTable returns the table above key that flat marks as absent, or
// "".
func absentTable(flat map[string]string, key string) string {
	for i := len(key) - 1; i > 0; i-- {
		if key[i] == '.' {
			if flat[key[:i]] == none {
				return key[:i]
			}
		}
	}
	if flat[key] == none {
		return key
	}
	return ""
}

// none marks a table the scenario does not have (a defence it lacks).
const none = "none"

// valueOf returns key's value in flat; a key under an absent table is
// "none", a key the scenario cannot have "unset".
func valueOf(flat map[string]string, key string) string {
	if flat == nil {
		return "unknown"
	}
	if v, ok := flat[key]; ok {
		return v
	}
	if absentTable(flat, key) != "" {
		return none
	}
	return "unset"
}

var (
	scDuration = reflect.TypeFor[scenario.Duration]()
	scTime     = reflect.TypeFor[time.Time]()
)

// flatten writes every key of sc as the scenario file names it (dotted,
// by the toml tags) with its value as text, and returns the keys in the
// order of the scenario's fields. A table the scenario lacks (a nil
// pointer) is one key with the value "none".
func flatten(sc *scenario.Scenario) (map[string]string, []string) {
	flat := map[string]string{}
	var order []string
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if tag == "" || tag == "-" || !f.IsExported() {
				continue
			}
			key := tag
			if prefix != "" {
				key = prefix + "." + tag
			}
			fv := v.Field(i)
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					if fv.Type().Elem().Kind() == reflect.Struct && fv.Type().Elem() != scTime && fv.Type().Elem() != scDuration {
						flat[key] = none
					} else {
						flat[key] = "unset"
					}
					order = append(order, key)
					continue
				}
				fv = fv.Elem()
			}
			if fv.Kind() == reflect.Struct && fv.Type() != scTime && fv.Type() != scDuration {
				walk(key, fv)
				continue
			}
			flat[key] = valueText(fv)
			order = append(order, key)
		}
	}
	walk("", reflect.ValueOf(sc).Elem())
	return flat, order
}

// valueText writes one value as a scenario file would hold it.
func valueText(v reflect.Value) string {
	switch v.Type() {
	case scDuration:
		return shortDuration(v.Interface().(scenario.Duration).String())
	case scTime:
		t := v.Interface().(time.Time)
		if t.IsZero() {
			return "unset"
		}
		t = t.UTC()
		if t.Equal(t.Truncate(24 * time.Hour)) {
			return t.Format(time.DateOnly)
		}
		return t.Format(time.RFC3339)
	}
	switch v.Kind() {
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.String:
		return v.String()
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			e := v.Index(i)
			if e.Kind() == reflect.Struct && e.Type() != scTime && e.Type() != scDuration {
				var fields []string
				for j := range e.NumField() {
					tag, _, _ := strings.Cut(e.Type().Field(j).Tag.Get("toml"), ",")
					if tag != "" && tag != "-" {
						fields = append(fields, tag+"="+valueText(e.Field(j)))
					}
				}
				parts[i] = "{" + strings.Join(fields, " ") + "}"
				continue
			}
			parts[i] = valueText(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v.Interface())
}

// compareSection overlays the runs, ensembles and sweeps given on shared
// axes: the infected share against hours since each one's start (runs as
// lines, ensembles as bands around their medians), and each swept key's
// outcome against its values. Every input is labelled by what differs
// between its scenario and the others'.
func compareSection(inputs []*Input) *Section {
	var subs []subject
	var which []*Input
	for _, in := range inputs {
		s, ok := subjectOf(in)
		if ok {
			subs = append(subs, s)
			which = append(which, in)
		}
	}
	// Labels are made among the inputs that share a chart: the runs and
	// ensembles, and the sweeps of each key. An input alone on its chart
	// is labelled among all the inputs.
	labels, note, keys := compareLabels(subs)
	groups := map[string][]int{}
	var groupOrder []string
	for i, in := range which {
		g := "time"
		if in.Sweep != nil {
			g = "sweep " + in.Sweep.Keys[0]
		}
		if _, ok := groups[g]; !ok {
			groupOrder = append(groupOrder, g)
		}
		groups[g] = append(groups[g], i)
	}
	if len(groupOrder) > 1 {
		var notes []string
		for _, g := range groupOrder {
			members := groups[g]
			if len(members) < 2 {
				continue
			}
			part := make([]subject, len(members))
			for j, i := range members {
				part[j] = subs[i]
			}
			ls, n, _ := compareLabels(part)
			for j, i := range members {
				labels[i] = ls[j]
			}
			if !slices.Contains(notes, n) {
				notes = append(notes, n)
			}
		}
		note = "Each input is labelled by what sets it apart from the others on its chart: " + strings.Join(notes, " ")
	}
	s := &Section{ID: "compare", Title: "Compared"}
	s.Intro = note + " Shares are of each scenario's own vulnerable population, times in hours since each input's start, so inputs of different dates line up."
	t := TextTable{Caption: "What sets each input apart", Head: []string{"input", "kind", "label"}}
	for i, sub := range subs {
		t.Rows = append(t.Rows, []string{sub.name, describeSubject(sub), labels[i]})
	}
	s.Tables = append(s.Tables, t)
	if len(keys) > maxLabelKeys {
		s.Facts = append(s.Facts, Fact{"Keys that differ", strings.Join(keys, ", ")})
	}

	var timed []int
	for i, in := range which {
		if in.Run != nil || in.Ensemble != nil {
			timed = append(timed, i)
		}
	}
	if len(timed) > 0 {
		p := newPlot("Infected, all inputs", "hours since the start", "infected (% of the vulnerable hosts)")
		top := 0.0
		for n, i := range timed {
			c := colOther[n%len(colOther)]
			switch in := which[i]; {
			case in.Run != nil:
				xs, ys := runShare(in.Run)
				addLine(p, labels[i], xs, ys, c, 2, n%2 == 1)
				top = max(top, maxOf(ys))
			case in.Ensemble != nil:
				xs, lo, mid, hi := ensembleShare(in.Ensemble)
				addBand(p, "", xs, lo, hi, c)
				addLine(p, "", xs, mid, c, 1.5, n%2 == 1)
				addBandLegend(p, labels[i], c)
				top = max(top, maxOf(hi))
			}
		}
		p.Y.Min = 0
		if top >= 50 {
			// Head room above 100% for the key, one line per input, so
			// that it never hides a curve that reaches the top.
			p.Y.Max = 100 + 7*float64(len(timed))
			p.Y.Tick.Marker = percentTicks{}
		} else {
			// Contained outbreaks stay near zero: the axis follows them,
			// with the same head room in proportion.
			p.Y.Max = max(top, 1e-3) * (1 + 0.07*float64(len(timed)))
		}
		s.Charts = append(s.Charts, newChart("compare-infected", "The infected share of every run (line) and ensemble (median line, 5-95% of runs shaded), in hours since its start", p))
	}

	// Sweeps share an axis when they sweep the same first key.
	var axes []string
	byKey := map[string][]int{}
	for i, in := range which {
		if in.Sweep != nil {
			k := in.Sweep.Keys[0]
			if _, ok := byKey[k]; !ok {
				axes = append(axes, k)
			}
			byKey[k] = append(byKey[k], i)
		}
	}
	for a, key := range axes {
		var unit string
		p := newPlot("Infected share at the end against "+key, key, "% of the population")
		p.Y.Min = 0
		n := 0
		for _, i := range byKey[key] {
			f := which[i].Sweep
			xs, u := sweptAxis(f, key)
			unit = u
			for _, g := range sweepGroups(f) {
				addOutcome(p, f, xs, g, colOther[n%len(colOther)], n%2 == 1, labels[i]+prefixed(", ", g.name))
				n++
			}
		}
		p.X.Label.Text = key + unit
		s.Charts = append(s.Charts, newChart(fmt.Sprintf("compare-sweep-%d", a+1), "Infected share of the population at the end, against "+key+", for every sweep over it: median (line) and 5-95% of runs (shaded)", p))
	}
	return s
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// sweepGroup is the points of a sweep that share the second key's value.
type sweepGroup struct {
	name   string // "worm.scan_rate = 6", or "" for a one-key sweep
	points []int
}

func sweepGroups(f *sweep.File) []sweepGroup {
	var out []sweepGroup
	at := map[string]int{}
	for i, p := range f.Points {
		g := ""
		if len(f.Keys) > 1 {
			g = f.Keys[1] + " = " + p.Values[f.Keys[1]]
		}
		j, ok := at[g]
		if !ok {
			j = len(out)
			at[g] = j
			out = append(out, sweepGroup{name: g})
		}
		out[j].points = append(out[j].points, i)
	}
	return out
}

func describeSubject(s subject) string {
	switch s.kind {
	case "run":
		return "run, seed " + strconv.FormatUint(s.seed, 10)
	case "ensemble":
		return fmt.Sprintf("ensemble of %d runs from seed %d", s.runs, s.seed)
	}
	return fmt.Sprintf("sweep over %s, %d runs a point from seed %d", strings.Join(s.swept, " and "), s.runs, s.seed)
}

// subjectOf returns what the labels need of an input; detection reports
// have no scenario and are not compared.
func subjectOf(in *Input) (subject, bool) {
	s := subject{name: in.Name}
	var toml string
	switch {
	case in.Run != nil:
		s.kind, s.seed, s.runs, toml = "run", in.Run.Seed, 1, in.Run.ScenarioTOML
		s.scenario = in.Run.Scenario
	case in.Ensemble != nil:
		e := in.Ensemble
		s.kind, s.seed, s.runs, toml = "ensemble", e.Seed, e.Runs, e.ScenarioTOML
	case in.Sweep != nil:
		f := in.Sweep
		s.kind, s.seed, s.runs, toml = "sweep", f.BaseSeed, f.Runs, f.ScenarioTOML
		s.swept = f.Keys
	default:
		return s, false
	}
	// The file as written is what the labels compare: its keys with the
	// defaults the reader fills in.
	if sc, err := scenario.Parse([]byte(toml), in.Name); err == nil {
		s.scenario = sc
	}
	s.written = writtenKeys(toml)
	return s, true
}

// writtenKeys returns the dotted keys a scenario file sets; a list of
// tables counts as its own key.
func writtenKeys(src string) map[string]bool {
	var doc map[string]any
	if _, err := toml.Decode(src, &doc); err != nil {
		return nil
	}
	out := map[string]bool{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			key := prefix + k
			if sub, ok := v.(map[string]any); ok {
				walk(key+".", sub)
				continue
			}
			out[key] = true
		}
	}
	walk("", doc)
	return out
}

// runShare returns a run's infected share in percent against hours since
// its start.
func runShare(run *Run) (xs, ys []float64) {
	n := float64(max(run.Summary.Population, 1))
	for _, row := range run.Series {
		xs = append(xs, row.Minute/60)
		ys = append(ys, 100*float64(row.Infected)/n)
	}
	return xs, ys
}

// ensembleShare returns an ensemble's infected band in percent of its
// population against hours since its start.
func ensembleShare(e *Ensemble) (xs, lo, mid, hi []float64) {
	var inf Band
	for _, b := range e.Bands {
		if b.Name == "infected" {
			inf = b
		}
	}
	n := float64(max(e.Population, 1))
	pct := func(v []float64) []float64 {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = 100 * x / n
		}
		return out
	}
	// The first grid instant is the start (ensemble.Band 0).
	for _, t := range e.Times {
		xs = append(xs, t.Sub(e.Times[0]).Hours())
	}
	if inf.Mid == nil {
		nan := make([]float64, len(xs))
		for i := range nan {
			nan[i] = math.NaN()
		}
		return xs, nan, nan, nan
	}
	return xs, pct(inf.Lo), pct(inf.Mid), pct(inf.Hi)
}
