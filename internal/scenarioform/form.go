// Package scenarioform is the lab's scenario editor: the fields of an HTML
// form, generated from the scenario types, and the way back from a
// submitted form to a checked scenario. Nothing in it is written per
// field: keys, kinds and help texts come from internal/scenario's structs,
// their toml tags and their doc comments, so a new scenario key appears in
// the form by itself.
//
// The API, in the order a page uses it:
//
//	fields := scenarioform.Fields(s)          // one Field per key, s's values as text
//	s2, errs := scenarioform.Apply(s, r.Form) // errs: dotted key -> message
//	src := scenarioform.TOML(s2)               // the file shown beside the form
//	s3, err := scenarioform.ParseTOML(src, "upload.toml") // err names file:line
//	link := scenarioform.Changes(builtin, s2) // the keys a permalink carries
//
// A form names each control by its dotted TOML key ("worm.scan_rate") and
// submits the text Field.Value holds. Apply changes only the keys the form
// carries, so a partial form (a permalink's query, one changed control)
// works as well as the whole one; keys it does not know, such as a seed,
// are left to the caller. Empty text unsets a key, so the scenario's
// default applies. A checkbox (Kind Bool or Table) sends nothing when
// cleared; the page puts a hidden input of the same name with value
// "false" before it, and Apply takes a key's last value.
//
// Apply checks values with the scenario package's own Parse, so a message
// is the one `wormlab scenarios check` prints, placed at the key it names.
// The lab reads nothing from the server's disk: a population layout file
// is refused.
package scenarioform

//go:generate go test -run TestHelpTable -update

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/wormlab/wormlab/internal/scenario"
)

// Kind is how a field's text is written and read.
type Kind string

// The kinds of field.
const (
	Int      Kind = "int"      // a decimal integer
	Float    Kind = "float"    // a number such as 5.9667 or 1e-3
	Duration Kind = "duration" // a Go duration such as "90m" or "1h30m"
	Time     Kind = "time"     // RFC 3339 ("2001-07-19T10:00:00Z") or a date ("2001-07-19")
	Bool     Kind = "bool"     // "true" or "false"
	String   Kind = "string"
	Enum     Kind = "enum"  // one of Field.Options
	List     Kind = "list"  // values of kind Field.Elem, separated by commas
	Rows     Kind = "rows"  // one row a line, cells (Field.Columns) separated by commas
	Table    Kind = "table" // an optional table: "true" when present; its keys follow it
)

// Field is one key of a scenario, as a form shows it.
type Field struct {
	Key     string // dotted TOML key, also the form control's name
	Section string // the top-level table ("run", "worm", ...), "" for name and description
	Parent  string // the optional table (Kind Table) the key belongs to, or ""
	Label   string // a short name for people ("Scan rate CV")
	Help    string // from the scenario type's doc comments; may be empty
	Kind    Kind
	Elem    Kind     // of a List's values
	Columns []Field  // of a Rows field: Key is the column's TOML key
	Options []string // of an Enum: the allowed values
	// Value is the key's current value as text, "" when unset (and for the
	// keys of an absent optional table).
	Value string
}

// Errors maps a dotted key to what is wrong with its value; the key ""
// holds a problem with the scenario as a whole.
type Errors map[string]string

func (e Errors) Error() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(e)) {
		if k == "" {
			parts = append(parts, e[k])
		} else {
			parts = append(parts, k+": "+e[k])
		}
	}
	return strings.Join(parts, "; ")
}

// Fields returns s's keys in the order of the scenario types, each with
// its current value.
func Fields(s *scenario.Scenario) []Field {
	specs := allSpecs()
	out := make([]Field, len(specs))
	for i, sp := range specs {
		out[i] = sp.field(s)
	}
	return out
}

// Values returns every field of s as a form submits it.
func Values(s *scenario.Scenario) url.Values {
	v := url.Values{}
	for _, sp := range allSpecs() {
		v.Set(sp.key, sp.text(s))
	}
	return v
}

// Changes returns the keys whose values differ between base and s, as
// form values: Apply(base, Changes(base, s)) is s again, which is what a
// permalink to an edited built-in needs.
func Changes(base, s *scenario.Scenario) url.Values {
	v := url.Values{}
	for _, sp := range allSpecs() {
		if t := sp.text(s); t != sp.text(base) {
			v.Set(sp.key, t)
		}
	}
	return v
}

// Apply returns base with the form's values set, parsed and checked as a
// scenario file is; its Source is the edited TOML (base's own, comments
// and all, when nothing changed). On failure it returns every value that
// does not read as its kind, or else the first key the scenario checks
// reject, with the message they give. base is not modified.
func Apply(base *scenario.Scenario, form url.Values) (*scenario.Scenario, Errors) {
	doc, err := document(base)
	if err != nil {
		return nil, Errors{"": err.Error()}
	}
	errs := Errors{}
	on := map[string]bool{} // optional tables, after the form's toggles
	changed := false
	for _, sp := range allSpecs() {
		if sp.parent != "" && !on[sp.parent] {
			continue
		}
		current := sp.text(base)
		if sp.kind == Table {
			on[sp.key] = current == "true"
		}
		vals, ok := form[sp.key]
		if !ok {
			continue
		}
		text := strings.TrimSpace(vals[len(vals)-1])
		v, norm, err := sp.parse(text)
		if err != nil {
			errs[sp.key] = err.Error()
			continue
		}
		if norm == current {
			continue
		}
		changed = true
		if sp.kind == Table {
			on[sp.key] = v == true
			if v == true {
				setKey(doc, sp.key, map[string]any{})
			} else {
				setKey(doc, sp.key, nil)
			}
			continue
		}
		setKey(doc, sp.key, v)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	src := []byte(base.Source)
	if changed || src == nil {
		src = encodeDoc(doc)
	}
	s, err := scenario.Parse(src, base.File)
	if err != nil {
		return nil, KeyErrors(err)
	}
	if err := servable(s); err != nil {
		return nil, KeyErrors(err)
	}
	return s, nil
}

// sectionErr matches the errors Build wraps without a key: "file: worm: ...".
// It is compiled on first use: package init stays cheap for every command
// of the binary (cmd/wormlab's TestStartupInitCost).
var sectionErr = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^.*?: (run|space|population|worm|defence|network|census|telescope): (.*)$`)
})

// KeyErrors returns err, from scenario.Parse, Build or Apply, as the
// message at the key it names: the key of a *scenario.Error, the table
// of an error Build wraps with one ("population"), else "".
func KeyErrors(err error) Errors {
	if err == nil {
		return nil
	}
	var fe Errors
	if errors.As(err, &fe) {
		return fe
	}
	var se *scenario.Error
	if errors.As(err, &se) {
		return Errors{se.Key: se.Msg}
	}
	if m := sectionErr().FindStringSubmatch(err.Error()); m != nil {
		return Errors{m[1]: m[2]}
	}
	return Errors{"": err.Error()}
}

// servable reports why the lab cannot run s: a layout file would be read
// from the server's disk, wherever the file names it.
func servable(s *scenario.Scenario) error {
	if s.Population.Layout == "file" {
		return &scenario.Error{File: s.File, Key: "population.layout", Msg: fmt.Sprintf("%q: the lab does not read layout files from the server; want one of %s", s.Population.Layout, strings.Join(enums["population.layout"], ", "))}
	}
	return nil
}
