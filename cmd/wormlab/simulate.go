package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/wormlab/wormlab/internal/observe"
	"github.com/wormlab/wormlab/internal/report"
	"github.com/wormlab/wormlab/internal/runrec"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/series"
	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/simrun"
)

// defaultSeed is the seed of a run that names none; it is printed so the
// run can be repeated.
const defaultSeed = 1

type simulateConfig struct {
	scenario string
	file     string
	seed     uint64
	engine   string
	csv      string
	json     string
	quiet    bool
	// Ensembles (ensemble.go): more than one run, or a shard of them.
	runs    int
	workers int
	shard   string
	// A telescope to put on the run: a dark prefix or "auto".
	telescope    string
	telescopeCSV string
	report       string // HTML report of the run (package report)
}

// loadScenario returns the scenario to simulate, with the telescope the
// flags ask for. The flag's telescope is written into the scenario's
// source too, so that the run record's scenario_toml repeats the run.
func (cfg simulateConfig) loadScenario() (*scenario.Scenario, error) {
	s, err := loadScenario(cfg.scenario, cfg.file)
	if err != nil || cfg.telescope == "" {
		return s, err
	}
	if s.Telescope != nil {
		return nil, inputError(fmt.Errorf("--telescope: scenario %s has a [telescope] already", s.Name))
	}
	s.Telescope = &scenario.Telescope{Block: cfg.telescope}
	s.Source += fmt.Sprintf("\n# Added by --telescope.\n[telescope]\nblock = %q\n", cfg.telescope)
	if err := s.Validate(); err != nil {
		return nil, inputError(err)
	}
	return s, nil
}

func newSimulateCmd() *cobra.Command {
	var cfg simulateConfig
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Simulate an outbreak (default: Code Red v2 on 19 July 2001)",
		Long: `Simulate runs one scenario, a built-in one (--scenario, see 'wormlab
scenarios') or a TOML file (-f), and prints a summary. --csv writes the
per-bin series and --json the run record that later commands read.

With --runs N it runs seeds --seed to --seed+N-1 on all cores and writes
the 5%, 50% and 95% quantiles per bin instead (--csv, --json); --shard i/n
runs one part of them for 'wormlab merge'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.runs != 1 || cfg.shard != "" {
				return runEnsemble(cmd, cfg)
			}
			return runSimulate(cmd, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.scenario, "scenario", scenario.Default, "built-in scenario `NAME`")
	f.StringVarP(&cfg.file, "file", "f", "", "scenario `FILE.toml` (instead of --scenario)")
	f.Uint64Var(&cfg.seed, "seed", defaultSeed, "random seed; the same seed, scenario and version give the same run")
	f.StringVar(&cfg.engine, "engine", "", "event or probe (default: event when the worm's strategy allows it)")
	outputFlag(f, &cfg.csv, "csv", "", "write the per-bin series to `FILE` (- for standard output)")
	outputFlag(f, &cfg.json, "json", "", "write the run record (JSON) to `FILE` (- for standard output)")
	f.BoolVarP(&cfg.quiet, "quiet", "q", false, "print nothing but errors")
	f.IntVar(&cfg.runs, "runs", 1, "run `N` seeds, --seed to --seed+N-1, and write quantile bands (--csv, --json)")
	f.IntVar(&cfg.workers, "workers", 0, "runs at once (`N`; 0: one per core)")
	f.StringVar(&cfg.shard, "shard", "", "run only shard `i/n` of the --runs (runs j with j mod n = i) and write it with --json for 'wormlab merge'")
	f.StringVar(&cfg.telescope, "telescope", "", "watch the run with a telescope on a dark `PREFIX` (or auto: the first /8 with no host); its series goes into the run record")
	outputFlag(f, &cfg.telescopeCSV, "telescope-csv", "", "write what the telescope saw as an observed series (minute,utc,probes,sources,new_sources) to `FILE`")
	outputFlag(f, &cfg.report, "report", "", "write the run's HTML report (charts, as 'wormlab report' draws them) to `FILE`; single runs only")
	markInput(f, "file")
	cmd.MarkFlagsMutuallyExclusive("report", "runs")
	cmd.MarkFlagsMutuallyExclusive("report", "shard")
	cmd.MarkFlagsMutuallyExclusive("scenario", "file")
	return cmd
}

// loadScenario returns the scenario named by --scenario or -f.
func loadScenario(name, file string) (*scenario.Scenario, error) {
	if file != "" {
		s, err := scenario.Load(file)
		return s, inputError(err)
	}
	s, err := scenario.Builtin(name)
	return s, inputError(err)
}

func runSimulate(cmd *cobra.Command, cfg simulateConfig) error {
	s, err := cfg.loadScenario()
	if err != nil {
		return err
	}
	c, err := s.Build(cfg.seed)
	if err != nil {
		return inputError(err)
	}
	engine, err := chooseEngine(c, s.Worm.Strategy, cfg.engine)
	if err != nil {
		return err
	}
	began := time.Now()
	rec, _, res, err := simrun.RunBuilt(s, c, cfg.seed, engine, cmd.Context().Done())
	if err != nil {
		return err
	}
	wall := time.Since(began)
	if err := writeOutput(cmd, cfg.csv, rec.WriteCSV); err != nil {
		return err
	}
	if err := writeOutput(cmd, cfg.json, rec.WriteJSON); err != nil {
		return err
	}
	if cfg.report != "" {
		page, err := recordReport(rec)
		if err != nil {
			return err
		}
		if err := writeOutput(cmd, cfg.report, page.WriteHTML); err != nil {
			return err
		}
	}
	if cfg.telescopeCSV != "" {
		if err := writeTelescope(cmd, cfg.telescopeCSV, c); err != nil {
			return err
		}
	}
	if cfg.quiet {
		return nil
	}
	out := cmd.OutOrStdout()
	printSummary(out, rec, res, wall)
	printObservers(out, rec)
	return nil
}

// chooseEngine resolves --engine for a run of c (simrun.Engine), as bad
// input when refused.
func chooseEngine(c *sim.Config, strategy, engine string) (string, error) {
	e, err := simrun.Engine(c, strategy, engine)
	return e, inputError(err)
}

// recordReport is the HTML report of one run, as 'wormlab report' draws
// its run record.
func recordReport(rec *runrec.Record) (*report.Report, error) {
	in, err := report.FromRecord("this run", rec)
	if err != nil {
		return nil, err
	}
	return report.Build([]*report.Input{in})
}

// writeTelescope writes the series of the run's telescope.
func writeTelescope(cmd *cobra.Command, file string, c *sim.Config) error {
	for _, o := range c.Observers {
		if t, ok := o.(*observe.Telescope); ok {
			return writeOutput(cmd, file, func(w io.Writer) error { return series.Write(w, t.Series(c.Start)) })
		}
	}
	return inputError(errors.New("--telescope-csv: the run has no telescope (give --telescope, or use the event engine)"))
}

// printObservers summarizes what the run's observers saw.
func printObservers(w io.Writer, rec *runrec.Record) {
	o := rec.Observers
	if o == nil {
		return
	}
	const ts = "2006-01-02 15:04 UTC"
	start := rec.Scenario.Run.Start.UTC()
	if t := o.Telescope; t != nil && len(t.Rows) > 0 {
		last := t.Rows[len(t.Rows)-1]
		var peak observe.TelescopeRow
		for _, r := range t.Rows {
			if r.NewSources > peak.NewSources {
				peak = r
			}
		}
		fmt.Fprintf(w, "  telescope %s: %s sources seen by the end (%s infected then); most new sources, %s, in the bin ending %s\n",
			t.Block, thousands(last.Seen), thousands(last.Infected), thousands(peak.NewSources),
			start.Add(time.Duration(peak.Minute*float64(time.Minute))).Format(ts))
	}
	for _, p := range o.Census {
		fmt.Fprintf(w, "  census at %s: %s of %s sampled unprotected (%.2f%%, 95%% interval %.2f%% to %.2f%%)\n",
			p.UTC.Format(ts), thousands(int64(p.Unprotected)), thousands(int64(p.Sample)), 100*p.Share, 100*p.Low, 100*p.High)
	}
	if f := o.Flood; f != nil {
		var peak observe.FloodRow
		for _, r := range f.Rows {
			if r.PacketsPerSecond > peak.PacketsPerSecond {
				peak = r
			}
		}
		if peak.PacketsPerSecond > 0 {
			fmt.Fprintf(w, "  flood at %s: peak %s packets a second from %s hosts, in the bin ending %s\n",
				f.Target, thousands(int64(peak.PacketsPerSecond+0.5)), thousands(peak.Hosts),
				start.Add(time.Duration(peak.Minute*float64(time.Minute))).Format(ts))
		}
	}
}

func printSummary(w io.Writer, rec *runrec.Record, res *sim.Result, wall time.Duration) {
	s, sum := rec.Scenario, rec.Summary
	const ts = "2006-01-02 15:04 UTC"
	fmt.Fprintf(w, "%s (%s engine, seed %d)\n", s.Name, rec.Engine, rec.Seed)
	fmt.Fprintf(w, "  %s\n", s.Description)
	fmt.Fprintf(w, "  population %s vulnerable hosts, %s to %s\n",
		thousands(int64(sum.Population)), s.Run.Start.UTC().Format(ts), s.Run.End.UTC().Format(ts))
	for _, cp := range sum.Checkpoints {
		if !cp.UTC.Equal(sum.Final.UTC) {
			fmt.Fprintf(w, "  infected at %s (+%s): %s\n", cp.UTC.Format(ts), shortDur(cp.After), thousands(cp.Infected))
		}
	}
	fmt.Fprintf(w, "  infected at %s (+%s, end): %s (%.1f%%)\n", sum.Final.UTC.Format(ts), shortDur(sum.Final.After),
		thousands(sum.Final.Infected), 100*float64(sum.Final.Infected)/float64(sum.Population))
	switch p := sum.PeakPerMinute; {
	case p >= 10:
		fmt.Fprintf(w, "  peak new infections: %s a minute, in the bin ending %s\n", thousands(int64(p+0.5)), sum.PeakAt.Format(ts))
	case p > 0:
		fmt.Fprintf(w, "  peak new infections: %.2f a minute, in the bin ending %s\n", p, sum.PeakAt.Format(ts))
	}
	if l := sum.Logistic; l != nil {
		fmt.Fprintf(w, "  logistic fit: K = %.2f per hour, midpoint %s\n", l.KPerHour, l.T.Format(ts))
	} else {
		fmt.Fprintf(w, "  logistic fit: not enough of the curve between 1%% and 99%%\n")
	}
	fmt.Fprintf(w, "  %s infections, %s probes", thousands(sum.Infections), thousands(sum.Probes))
	if res.ProbesSent > 0 {
		fmt.Fprintf(w, " (sent one by one)")
	}
	fmt.Fprintf(w, "\n  wall time %v\n", wall.Round(100*time.Microsecond))
}

// shortDur prints a time.Duration string without zero minutes and seconds.
func shortDur(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil {
		return s
	}
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

// thousands formats n with comma separators.
func thousands(n int64) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
