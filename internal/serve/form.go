package serve

import (
	"html/template"
	"net/url"
	"strings"
	"sync"

	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/scenarioform"
)

// formSection is one top-level table of the editor's form.
type formSection struct {
	Name   string // "run", "worm", ... ("" for name and description)
	Title  string
	Help   string
	Open   bool // shown unfolded
	Fields []formField
}

// formField is a scenarioform.Field with the ids the page gives it.
type formField struct {
	scenarioform.Field
	ID      string
	Rows    bool   // a textarea (Rows, several lines)
	Check   bool   // a checkbox (Bool, Table)
	Checked bool   // its value is "true"
	Columns string // of Rows, for the placeholder
}

// openSections are unfolded when the editor opens: what most edits touch.
var openSections = map[string]bool{"": true, "run": true, "population": true, "worm": true}

var formTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.ParseFS(templateFS, "templates/form.html"))
})

// editorForm is the editor's form for sc, generated from the scenario
// types by scenarioform: one control per key, named by its dotted key.
func editorForm(sc *scenario.Scenario) template.HTML {
	var sections []formSection
	idx := map[string]int{}
	for _, f := range scenarioform.Fields(sc) {
		i, ok := idx[f.Section]
		if !ok {
			title := "Scenario"
			if f.Section != "" {
				title = strings.ToUpper(f.Section[:1]) + f.Section[1:]
			}
			sections = append(sections, formSection{Name: f.Section, Title: title, Help: scenarioform.SectionHelp(f.Section), Open: openSections[f.Section]})
			i = len(sections) - 1
			idx[f.Section] = i
		}
		ff := formField{Field: f, ID: fieldID(f.Key)}
		switch f.Kind {
		case scenarioform.Rows:
			ff.Rows = true
			var cols []string
			for _, c := range f.Columns {
				cols = append(cols, c.Key)
			}
			ff.Columns = strings.Join(cols, ", ")
		case scenarioform.Bool, scenarioform.Table:
			ff.Check, ff.Checked = true, f.Value == "true"
		}
		sections[i].Fields = append(sections[i].Fields, ff)
	}
	var b strings.Builder
	if err := formTemplate().Execute(&b, sections); err != nil {
		return template.HTML(template.HTMLEscapeString("the form could not be drawn: " + err.Error()))
	}
	return template.HTML(b.String())
}

// fieldID is the element id of a key's control: "f-worm-scan_rate".
func fieldID(key string) string { return "f-" + strings.ReplaceAll(key, ".", "-") }

// scenarioKeys is the set of dotted keys the form has.
var scenarioKeys = sync.OnceValue(func() map[string]bool {
	sc, err := scenario.Builtin(scenario.Default)
	if err != nil {
		panic(err)
	}
	out := map[string]bool{}
	for _, f := range scenarioform.Fields(sc) {
		out[f.Key] = true
	}
	return out
})

// formChanges returns the values of q that are scenario keys.
func formChanges(q url.Values) url.Values {
	out := url.Values{}
	keys := scenarioKeys()
	for k, v := range q {
		if keys[k] {
			out[k] = v
		}
	}
	return out
}
