// Package report turns wormlab's JSON outputs (run records, ensembles,
// sweeps, detection reports) into pictures: one self-contained HTML page with inline
// SVG charts, and the same charts as PNG files. It reads each record through
// the type its writer uses (runrec.Record, ensemble.File, detect.Report;
// docs/DESIGN.md §5), and a section appears only for what its inputs hold:
// a run without observers or per-/8 counts gets no charts of them.
package report

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strconv"

	"github.com/wormlab/wormlab/internal/atomicfile"
	"github.com/wormlab/wormlab/internal/runrec"
	"github.com/wormlab/wormlab/internal/version"
)

var whiteBG = color.White

// Report is a built report: sections of facts, charts and tables.
type Report struct {
	Title    string
	Sections []*Section
	Footer   []string // one line per input: what made it
	Version  string   // of the wormlab that built the report
	Commit   string
}

// Section is one heading's worth of the report.
type Section struct {
	ID     string
	Title  string
	Intro  string
	Facts  []Fact
	Charts []*Chart
	Tables []TextTable
}

// Fact is one line of a section's key figures.
type Fact struct{ Name, Value string }

// TextTable is a table of text cells shown in the HTML only.
type TextTable struct {
	Caption string
	Head    []string
	Rows    [][]string
	Numeric []bool // per column: right-aligned
}

// Charts returns every chart of the report in page order.
func (r *Report) Charts() []*Chart {
	var cs []*Chart
	for _, s := range r.Sections {
		cs = append(cs, s.Charts...)
	}
	return cs
}

// Build makes the report of the inputs, in the order given. It fails only
// when there is nothing to show.
func Build(inputs []*Input) (*Report, error) {
	if len(inputs) == 0 {
		return nil, errors.New("no inputs")
	}
	r := &Report{Version: version.Version, Commit: version.Commit()}
	var runs []*Run
	compared := 0
	for _, in := range inputs {
		if in.Run != nil {
			runs = append(runs, in.Run)
		}
		if in.Run != nil || in.Ensemble != nil || in.Sweep != nil {
			compared++
		}
	}
	prefix := func(i int) string {
		if len(inputs) == 1 {
			return ""
		}
		return strconv.Itoa(i+1) + "-"
	}
	if compared > 1 {
		r.Sections = append(r.Sections, compareSection(inputs))
	}
	for i, in := range inputs {
		p := prefix(i)
		switch {
		case in.Run != nil:
			r.Sections = append(r.Sections, runSections(p, in.Name, in.Run)...)
			r.Footer = append(r.Footer, fmt.Sprintf("%s: run record of scenario %s, seed %d, %s engine, wormlab %s (commit %s)",
				in.Name, in.Run.Scenario.Name, in.Run.Seed, in.Run.Engine, in.Run.Version, in.Run.Commit))
		case in.Ensemble != nil:
			r.Sections = append(r.Sections, ensembleSection(p, in.Name, in.Ensemble, runs))
			e := in.Ensemble
			r.Footer = append(r.Footer, fmt.Sprintf("%s: ensemble of %d runs of scenario %s from seed %d, wormlab %s (commit %s)",
				in.Name, e.Runs, orDash(e.Scenario), e.Seed, orDash(e.Version), orDash(e.Commit)))
		case in.Sweep != nil:
			r.Sections = append(r.Sections, sweepSection(p, in.Sweep))
			r.Footer = append(r.Footer, in.Name+": "+sweepFooter(in.Sweep))
		case in.Detect != nil:
			r.Sections = append(r.Sections, detectSection(p, in.Name, in.Detect))
			r.Footer = append(r.Footer, fmt.Sprintf("%s: detection report over %d log files, wormlab %s (commit %s)",
				in.Name, in.Detect.Totals.Files, in.Detect.Version, in.Detect.Commit))
		}
	}
	switch {
	case len(runs) == 1:
		r.Title = "wormlab report: " + runs[0].Scenario.Name
	case len(inputs) == 1 && inputs[0].Detect != nil:
		r.Title = "wormlab report: worm probes in " + plural(inputs[0].Detect.Totals.Files, "log file")
	case len(inputs) == 1 && inputs[0].Ensemble != nil:
		r.Title = "wormlab report: ensemble of " + orDash(inputs[0].Ensemble.Scenario)
	case len(inputs) == 1 && inputs[0].Sweep != nil:
		r.Title = sweepTitle(inputs[0].Sweep)
	default:
		r.Title = "wormlab report: " + plural(len(inputs), "input")
	}
	return r, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// WritePNGs writes every chart to dir as FILE.png, each atomically, and
// returns the paths written.
func (r *Report) WritePNGs(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, c := range r.Charts() {
		path := filepath.Join(dir, c.File+".png")
		if err := atomicfile.Write(path, c.WritePNG); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// WriteHTMLFile writes the HTML page to path atomically.
func (r *Report) WriteHTMLFile(path string) error {
	return atomicfile.Write(path, r.WriteHTML)
}

// WriteRecordHTML writes the HTML report of one run record held in memory
// to path, atomically: what `wormlab simulate --report` writes.
func WriteRecordHTML(path string, rec *runrec.Record) error {
	in, err := FromRecord("this run", rec)
	if err != nil {
		return err
	}
	r, err := Build([]*Input{in})
	if err != nil {
		return err
	}
	return r.WriteHTMLFile(path)
}

// FromRecord returns the input for a run record held in memory, read back
// through its JSON form so that it is seen exactly as a saved file would be.
func FromRecord(name string, rec *runrec.Record) (*Input, error) {
	var buf bytes.Buffer
	if err := rec.WriteJSON(&buf); err != nil {
		return nil, err
	}
	return Parse(name, buf.Bytes())
}
