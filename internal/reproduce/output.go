package reproduce

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/wormlab/wormlab/internal/report"
	"github.com/wormlab/wormlab/internal/version"
)

// Verdict is a figure's outcome in words: "holds", "miss" or "not yet".
func (f *FigureResult) Verdict() string {
	switch {
	case f.Figure.Input:
		return "input"
	case f.Figure.NotYet != "":
		return "not yet"
	case f.Holds:
		return "holds"
	}
	return "miss"
}

// WriteText writes res for a person: per figure, the published value and
// its source, wormlab's median and 5-95% range, the tolerance and the
// verdict, with what the model leaves out under a miss.
func (res *Result) WriteText(w io.Writer) error {
	e := res.Experiment
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", e.Name, e.Title)
	if res.Scenario != "" {
		fmt.Fprintf(&b, "  scenario %s, %d runs (seeds %d to %d), %s engine\n", res.Scenario, res.Runs, res.BaseSeed, res.BaseSeed+uint64(res.Runs)-1, res.Engine)
	} else {
		b.WriteString("  no scenario yet\n")
	}
	for i := range res.Figures {
		f := &res.Figures[i]
		fig := f.Figure
		fmt.Fprintf(&b, "  %s (%s)\n", fig.What, fig.Unit)
		fmt.Fprintf(&b, "    published  %s: %s\n", fig.Text, fig.Source)
		switch {
		case fig.NotYet != "":
			fmt.Fprintf(&b, "    wormlab    not yet: needs %s\n", fig.NotYet)
		case math.IsNaN(f.Q[1]):
			fmt.Fprintf(&b, "    wormlab    not reached (in %d of %d runs)\n", f.Reached, res.Runs)
		default:
			fmt.Fprintf(&b, "    wormlab    %s (5-95%%: %s to %s)\n", Number(f.Q[1]), Number(f.Q[0]), Number(f.Q[2]))
		}
		fmt.Fprintf(&b, "    tolerance  %s to %s (%s)\n", Number(f.Lo), Number(f.Hi), kindRule(fig.Kind))
		fmt.Fprintf(&b, "    %s\n", strings.ToUpper(f.Verdict()))
		if fig.Input {
			b.WriteString("    (the scenario takes this figure as an input, so it is not counted)\n")
		}
		if !f.Holds && fig.Omits != "" {
			fmt.Fprintf(&b, "    the model leaves out: %s\n", fig.Omits)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func kindRule(k Kind) string {
	switch k {
	case About:
		return "\"about\": within 25%"
	case AtLeast:
		return "a lower bound: 0.9 to 2 times it"
	case AtMost:
		return "an upper bound: half to 1.1 times it"
	case Range:
		return "the stated range"
	}
	return "a measured value: within 10%"
}

// Number formats v with three significant digits and thousands separators,
// or in scientific notation past a billion.
func Number(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case math.IsInf(v, 1):
		return "inf"
	case math.Abs(v) >= 1e9:
		return strconv.FormatFloat(v, 'e', 2, 64)
	case math.Abs(v) >= 1000:
		return thousands(int64(math.Round(v)))
	case v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case math.Abs(v) >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// jsonFigure is one figure in the JSON output.
type jsonFigure struct {
	ID        string   `json:"id"`
	What      string   `json:"what"`
	Unit      string   `json:"unit"`
	Published float64  `json:"published"`
	Text      string   `json:"published_text"`
	Source    string   `json:"source"`
	Median    *float64 `json:"median"`
	P5        *float64 `json:"p5"`
	P95       *float64 `json:"p95"`
	Reached   int      `json:"runs_reached"`
	TolLo     float64  `json:"tolerance_lo"`
	TolHi     float64  `json:"tolerance_hi"`
	Verdict   string   `json:"verdict"`
	Omits     string   `json:"model_leaves_out,omitempty"`
	NotYet    string   `json:"needs,omitempty"`
}

type jsonExperiment struct {
	Name     string       `json:"name"`
	Title    string       `json:"title"`
	Scenario string       `json:"scenario,omitempty"`
	Engine   string       `json:"engine,omitempty"`
	Runs     int          `json:"runs"`
	BaseSeed uint64       `json:"base_seed"`
	Figures  []jsonFigure `json:"figures"`
}

// Schema names the JSON output's format.
const Schema = "wormlab.reproduce/v1"

// WriteJSON writes the results as one JSON document.
func WriteJSON(w io.Writer, results []*Result) error {
	doc := struct {
		Schema      string           `json:"schema"`
		Version     string           `json:"version"`
		Commit      string           `json:"commit"`
		Experiments []jsonExperiment `json:"experiments"`
	}{Schema: Schema, Version: version.Version, Commit: version.Commit()}
	for _, res := range results {
		je := jsonExperiment{Name: res.Experiment.Name, Title: res.Experiment.Title, Scenario: res.Scenario, Engine: res.Engine, Runs: res.Runs, BaseSeed: res.BaseSeed}
		for i := range res.Figures {
			f := &res.Figures[i]
			jf := jsonFigure{
				ID: f.Figure.ID, What: f.Figure.What, Unit: f.Figure.Unit, Published: f.Figure.Published, Text: f.Figure.Text,
				Source: f.Figure.Source.String(), Reached: f.Reached, TolLo: f.Lo, TolHi: f.Hi, Verdict: f.Verdict(), NotYet: f.Figure.NotYet,
			}
			if !f.Holds {
				jf.Omits = f.Figure.Omits
			}
			if !math.IsNaN(f.Q[1]) {
				jf.P5, jf.Median, jf.P95 = &f.Q[0], &f.Q[1], &f.Q[2]
			}
			je.Figures = append(je.Figures, jf)
		}
		doc.Experiments = append(doc.Experiments, je)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// Report returns the HTML report of the results: per experiment, its
// table of figures and a chart of the ensemble with the published values
// drawn on it.
func Report(results []*Result) *report.Report {
	r := &report.Report{Title: "wormlab reproduce: published results beside the model", Version: version.Version, Commit: version.Commit()}
	held, total := 0, 0
	for _, res := range results {
		held += res.Held()
		total += res.Counted()
	}
	r.Sections = append(r.Sections, &report.Section{
		ID: "summary", Title: "How close to the record",
		Intro:  fmt.Sprintf("%d of %d published figures within tolerance. A figure holds when the median of the runs falls in its tolerance, which follows from how the figure was stated (docs/DESIGN.md §7).", held, total),
		Tables: []report.TextTable{Table(results)},
	})
	for _, res := range results {
		r.Sections = append(r.Sections, res.section())
		r.Footer = append(r.Footer, fmt.Sprintf("%s: %d runs of %s from seed %d", res.Experiment.Name, res.Runs, orDash(res.Scenario), res.BaseSeed))
	}
	return r
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Table returns every figure of the results as one table, the README's
// "How close to the record".
func Table(results []*Result) report.TextTable {
	t := report.TextTable{
		Caption: "Published figures beside wormlab's median (5-95% of runs)",
		Head:    []string{"Experiment", "Figure", "Published", "Source", "wormlab", "Tolerance", "Verdict"},
		Numeric: []bool{false, false, false, false, true, true, false},
	}
	for _, res := range results {
		for i := range res.Figures {
			f := &res.Figures[i]
			got := "not yet: needs " + f.Figure.NotYet
			if f.Figure.NotYet == "" {
				got = "not reached"
				if !math.IsNaN(f.Q[1]) {
					got = fmt.Sprintf("%s (%s to %s)", Number(f.Q[1]), Number(f.Q[0]), Number(f.Q[2]))
				}
			}
			t.Rows = append(t.Rows, []string{res.Experiment.Name, f.Figure.What + " (" + f.Figure.Unit + ")", f.Figure.Text,
				f.Figure.Source.String(), got, Number(f.Lo) + " to " + Number(f.Hi), f.Verdict()})
		}
	}
	return t
}

func (res *Result) section() *report.Section {
	e := res.Experiment
	s := &report.Section{ID: e.Name, Title: e.Title}
	s.Facts = append(s.Facts, report.Fact{Name: "Figures within tolerance", Value: fmt.Sprintf("%d of %d", res.Held(), res.Counted())})
	if res.Scenario == "" {
		s.Intro = "Not run yet: the experiment needs a feature wormlab lacks."
	} else {
		s.Facts = append(s.Facts,
			report.Fact{Name: "Scenario", Value: res.Scenario},
			report.Fact{Name: "Runs", Value: fmt.Sprintf("%d, seeds %d to %d, %s engine", res.Runs, res.BaseSeed, res.BaseSeed+uint64(res.Runs)-1, res.Engine)})
	}
	for i := range res.Figures {
		f := &res.Figures[i]
		line := f.Verdict()
		if !f.Holds && f.Figure.Omits != "" {
			line += ": " + f.Figure.Omits
		}
		s.Facts = append(s.Facts, report.Fact{Name: f.Figure.What, Value: line})
	}
	s.Tables = append(s.Tables, Table([]*Result{res}))
	if len(res.Times) > 1 {
		s.Charts = append(s.Charts, report.OverlayChart(res.overlay()))
	}
	return s
}

func (res *Result) overlay() report.Overlay {
	e := res.Experiment
	o := report.Overlay{
		File: e.Name, Title: e.Name, Times: res.Times, Lo: res.Lo, Mid: res.Mid, Hi: res.Hi,
		Model: res.Model, ModelName: e.ModelName,
	}
	switch e.Series {
	case "scan-rate":
		o.YLabel, o.BandName = "probes a second, all hosts", "aggregate scan rate, wormlab"
	case "ever":
		o.YLabel, o.BandName = "hosts", "hosts infected so far, wormlab"
	default:
		o.YLabel, o.BandName = "hosts", "infected hosts, wormlab"
	}
	o.Caption = o.BandName + ": median (line) and 5-95% of runs (shaded); published values as points with their tolerance"
	for i := range res.Figures {
		f := &res.Figures[i]
		if f.Figure.At == 0 {
			continue
		}
		o.Points = append(o.Points, report.Published{At: res.Start.Add(f.Figure.At), Value: f.Figure.Published, Lo: f.Lo, Hi: f.Hi, Holds: f.Holds})
	}
	return o
}

// WriteMarkdown writes the results' table as Markdown, for README.md's
// "How close to the record" (scripts/record-table keeps it current).
func WriteMarkdown(w io.Writer, results []*Result) error {
	t := Table(results)
	var b strings.Builder
	held, total := 0, 0
	for _, res := range results {
		held, total = held+res.Held(), total+res.Counted()
	}
	fmt.Fprintf(&b, "%d of %d published figures within tolerance (inputs not counted).\n\n", held, total)
	cell := func(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
	b.WriteString("| " + strings.Join(t.Head, " | ") + " |\n|")
	for _, num := range t.Numeric {
		if num {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, row := range t.Rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = cell(c)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
