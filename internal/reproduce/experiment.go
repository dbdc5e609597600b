// Package reproduce sets wormlab's simulations beside what was published
// about real outbreaks. An experiment is a scenario whose inputs are a
// paper's stated inputs, run as an ensemble, and a list of published
// figures, each measured on every run and judged against a tolerance that
// follows from how the figure was stated (docs/DESIGN.md §7). A
// figure the model misses is reported as a miss with what the model leaves
// out; nothing is tuned per experiment.
package reproduce

import (
	"fmt"
	"strings"
	"time"

	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/sim"
)

// Source is where a published figure comes from.
type Source struct {
	Authors string // "Moore, Shannon, Brown"
	Venue   string // "ACM SIGCOMM Internet Measurement Workshop"
	Year    int
	Where   string // "abstract", "figure 6", "section 5"
}

func (s Source) String() string {
	out := fmt.Sprintf("%s, %s %d", s.Authors, s.Venue, s.Year)
	if s.Where != "" {
		out += ", " + s.Where
	}
	return out
}

// Kind says how a figure was stated, which sets its tolerance
// (docs/DESIGN.md §7): a measured value carries about 10% of measurement
// error (telescope counts, rates read off a curve); "about" a round number means
// within a quarter of it; a bound ("over", "within") holds from 10% short
// of it to twice it, the next round figure the authors would have used.
type Kind int

const (
	Point   Kind = iota // a value: within 10%
	About               // "about", "roughly": within 25%
	AtLeast             // "over", "at least": from 0.9 X to 2 X
	AtMost              // "within", "under": up to 1.1 X (and above X/2)
	Range               // an explicit interval, Lo to Hi, with its reason
)

// Figure is one published figure and how to measure it on a run.
type Figure struct {
	ID   string // short name, unique within the experiment
	What string // "infected at 00:00 UTC on 20 July"
	Unit string // "hosts", "per hour", "s"
	// Published is the value as stated; Text the words it was stated in
	// ("over 359,000").
	Published float64
	Text      string
	Kind      Kind
	// Lo and Hi bound a Range figure; other kinds derive them.
	Lo, Hi float64
	Source Source
	// Measure returns the figure's value on one run; NaN when the run
	// never reaches it (a share of hosts never infected, say).
	Measure func(o *Outcome) float64
	// At, for a figure that is the infected count at a time offset from
	// the start, places the published point on the experiment's chart.
	At time.Duration
	// Omits says what the model leaves out that bears on this figure; it
	// is printed when the figure misses.
	Omits string
	// Input marks a figure the scenario takes as an input (Slammer's
	// measured peak is its network's capacity): it is shown, but it holds
	// by construction and is not counted.
	Input bool
	// NotYet, when set, says which missing feature keeps wormlab from
	// computing the figure at all; the figure is reported as a miss.
	NotYet string
}

// Tolerance returns the interval the median must fall in.
func (f *Figure) Tolerance() (lo, hi float64) {
	v := f.Published
	switch f.Kind {
	case About:
		return 0.75 * v, 1.25 * v
	case AtLeast:
		return 0.9 * v, 2 * v
	case AtMost:
		return 0.5 * v, 1.1 * v
	case Range:
		return f.Lo, f.Hi
	}
	return 0.9 * v, 1.1 * v
}

// Experiment is one paper's result set beside a scenario.
type Experiment struct {
	Name  string
	Title string
	// Scenario is a built-in scenario's name, or the name of a file in
	// this package's scenarios directory ("staniford-2002-fig6").
	Scenario string
	// Extra is TOML appended to a built-in scenario's file: tables the
	// experiment adds, with comments saying where their values come from.
	Extra  string
	Engine string // "event" or "probe"
	// Runs is the ensemble size of a full run; Small the size CI checks.
	Runs, Small int
	Figures     []Figure
	// Model, if set, returns an analytic curve of infected hosts (or of
	// hosts ever infected, as the chart says) at the given hours from the
	// start, drawn over the band.
	Model     func(hours []float64) ([]float64, error)
	ModelName string
	// Prepare, if set, adjusts each run's built configuration before it
	// runs (Witty's unreachable addresses made immune, say).
	Prepare func(c *sim.Config)
	// Series is what the chart draws per bin: "infected" (default),
	// "ever" (hosts infected so far) or "scan-rate" (probes a second).
	Series string
}

// Outcome is one run of an experiment.
type Outcome struct {
	Config *sim.Config
	Result *sim.Result
}

// scenarioOf returns the experiment's scenario.
func (e *Experiment) scenarioOf() (*scenario.Scenario, error) {
	if src, err := scenarioFS.ReadFile("scenarios/" + e.Scenario + ".toml"); err == nil {
		return scenario.Parse(src, "reproduce:"+e.Scenario)
	}
	sc, err := scenario.Builtin(e.Scenario)
	if err != nil || e.Extra == "" {
		return sc, err
	}
	return scenario.Parse([]byte(sc.Source+"\n"+e.Extra), "reproduce:"+e.Name)
}

// Experiments returns every experiment, in the order `reproduce` lists
// them.
func Experiments() []*Experiment { return catalogue }

// Lookup returns the experiment called name, or an error that lists the
// known ones.
func Lookup(name string) (*Experiment, error) {
	for _, e := range catalogue {
		if e.Name == name {
			return e, nil
		}
	}
	names := make([]string, len(catalogue))
	for i, e := range catalogue {
		names[i] = e.Name
	}
	return nil, fmt.Errorf("no experiment %q; the experiments are: %s", name, strings.Join(names, ", "))
}

// MaxRuns bounds --runs, as simulate's ensembles are bounded by memory:
// an experiment keeps one series per run.
const MaxRuns = 1000
