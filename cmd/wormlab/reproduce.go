package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wormlab/wormlab/internal/reproduce"
)

type reproduceConfig struct {
	all      bool
	runs     int
	seed     uint64
	workers  int
	report   string
	json     string
	markdown string
	quiet    bool
}

func newReproduceCmd() *cobra.Command {
	var cfg reproduceConfig
	cmd := &cobra.Command{
		Use:   "reproduce [NAME | --all]",
		Short: "Set the model beside published measurements of real outbreaks",
		Long: `reproduce runs the built-in experiments: each is a scenario whose inputs
are a paper's stated inputs, run as an ensemble, and the figures the paper
published. For every figure it prints the published value and its source,
wormlab's median with the 5-95% range of the runs, the tolerance (which
follows from how the figure was stated: a value, "about", "over", "within")
and whether the median is within it. A miss is shown as a miss, with what
the model leaves out. Without a name it lists the experiments.

--all runs every experiment; --report writes an HTML page with every
experiment's chart, the published values drawn over the runs.`,
		Args: badArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReproduce(cmd, args, cfg)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&cfg.all, "all", false, "run every experiment")
	f.IntVar(&cfg.runs, "runs", 0, fmt.Sprintf("runs per experiment (`N`, 1 to %d; 0: each experiment's own)", reproduce.MaxRuns))
	f.Uint64Var(&cfg.seed, "seed", 1, "first seed of each ensemble")
	f.IntVar(&cfg.workers, "workers", 0, "runs at once (`N`; 0: one per core)")
	outputFlag(f, &cfg.report, "report", "", "write the HTML report to `FILE`")
	outputFlag(f, &cfg.json, "json", "", "write the results as JSON to `FILE` (- for standard output)")
	outputFlag(f, &cfg.markdown, "markdown", "", "write the table of figures as Markdown to `FILE` (- for standard output), as README.md shows it")
	f.BoolVarP(&cfg.quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}

func runReproduce(cmd *cobra.Command, args []string, cfg reproduceConfig) error {
	out := cmd.OutOrStdout()
	switch {
	case cfg.all && len(args) > 0:
		return inputError(errors.New("give an experiment's name or --all, not both"))
	case cfg.runs < 0 || cfg.runs > reproduce.MaxRuns:
		return inputError(fmt.Errorf("--runs %d: want 1 to %d (0: each experiment's own)", cfg.runs, reproduce.MaxRuns))
	case cfg.workers < 0:
		return inputError(fmt.Errorf("--workers %d: want 0 (one per core) or more", cfg.workers))
	}
	if !cfg.all && len(args) == 0 {
		if cfg.report != "" || cfg.json != "" || cfg.markdown != "" {
			return inputError(errors.New("--report, --json and --markdown need an experiment's name or --all"))
		}
		return listExperiments(out)
	}
	var exps []*reproduce.Experiment
	if cfg.all {
		exps = reproduce.Experiments()
	} else {
		e, err := reproduce.Lookup(args[0])
		if err != nil {
			return inputError(err)
		}
		exps = []*reproduce.Experiment{e}
	}
	if cfg.json == "-" && cfg.markdown == "-" {
		return inputError(errors.New("--json and --markdown cannot both go to standard output"))
	}
	toStdout := cfg.json == "-" || cfg.markdown == "-"
	workers := cfg.workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var results []*reproduce.Result
	for _, e := range exps {
		runs := cfg.runs
		if runs == 0 {
			runs = e.Runs
		}
		res, err := reproduce.Run(cmd.Context(), e, runs, cfg.seed, workers)
		if err != nil {
			return err
		}
		results = append(results, res)
		if !cfg.quiet && !toStdout {
			if err := res.WriteText(out); err != nil {
				return err
			}
		}
	}
	if err := writeOutput(cmd, cfg.json, func(w io.Writer) error { return reproduce.WriteJSON(w, results) }); err != nil {
		return err
	}
	if err := writeOutput(cmd, cfg.markdown, func(w io.Writer) error { return reproduce.WriteMarkdown(w, results) }); err != nil {
		return err
	}
	if cfg.report != "" {
		if err := writeOutput(cmd, cfg.report, reproduce.Report(results).WriteHTML); err != nil {
			return err
		}
	}
	if !cfg.quiet && !toStdout {
		held, total := 0, 0
		for _, r := range results {
			held, total = held+r.Held(), total+r.Counted()
		}
		fmt.Fprintf(out, "%d of %d published figures within tolerance\n", held, total)
		for _, p := range []string{cfg.report, cfg.json, cfg.markdown} {
			if p != "" {
				fmt.Fprintf(out, "wrote %s\n", p)
			}
		}
	}
	return nil
}

func listExperiments(w io.Writer) error {
	var b strings.Builder
	b.WriteString("experiments (wormlab reproduce NAME runs one, --all runs them all):\n")
	for _, e := range reproduce.Experiments() {
		fmt.Fprintf(&b, "  %-24s %s\n", e.Name, e.Title)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
