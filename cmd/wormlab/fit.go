package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wormlab/wormlab/internal/fit"
	"github.com/wormlab/wormlab/internal/series"
	"github.com/wormlab/wormlab/internal/simfit"
)

// fitConfig is what `wormlab fit` is asked to do.
type fitConfig struct {
	path     string
	model    string
	coverage string
	forecast float64
	csv      string
	fixed    fit.TwoFactorFixed
	sim      simfit.Options
	changed  map[string]bool // flags given on the command line
	stderr   io.Writer       // for warnings
}

func newFitCmd() *cobra.Command {
	cfg := fitConfig{model: "logistic", coverage: "1", fixed: fit.DefaultTwoFactorFixed(),
		sim: simfit.Options{SpaceBits: 32, Boot: 40, Seed: defaultSeed}}
	cmd := &cobra.Command{
		Use:   "fit SERIES.csv",
		Short: "Fit a worm model to an observed series, with 95% intervals",
		Long: `fit fits a model to the cumulative count of distinct sources in an observed
series (columns minute,utc,probes,sources,new_sources): the observer's
view of the infected population. It prints the fitted parameters with 95%
profile-likelihood intervals, the estimated infected population and the
peak time of new infections, and with --csv writes the fitted curve next
to the observations, extended by --forecast hours.

--coverage is the share of infected hosts the observer sees as sources
(for example 1/256). Without it the population printed is what this
observer sees, not a global estimate.

Models: logistic (K, T and the plateau fitted); two-factor (N, beta0 and
the infected count at the series start fitted; gamma, mu-n and eta fixed
by flags, because one curve cannot separate them); sim (a uniform
scanning worm's vulnerable population N and scan rate r, estimated from
the logistic fit and given 95% intervals by simulating --boot outbreaks
with the event engine: a parametric bootstrap, seeded by --seed).`,
		Args: badArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.path = args[0]
			cfg.changed = map[string]bool{}
			cmd.Flags().Visit(func(f *pflag.Flag) { cfg.changed[f.Name] = true })
			if quiet, _ := cmd.Flags().GetBool("quiet"); cfg.model == "sim" && !quiet {
				// The bootstrap takes seconds: show it on a terminal.
				if bar := newProgressBar(cmd.ErrOrStderr(), cfg.sim.Boot); bar != nil {
					cfg.sim.Progress = func(done, _ int) { bar.Set(done) }
					defer bar.Finish()
				}
			}
			cfg.stderr = cmd.ErrOrStderr()
			cfg.sim.Stop = cmd.Context().Done()
			return runFit(cmd, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.model, "model", cfg.model, "model to fit: logistic, two-factor or sim")
	f.StringVar(&cfg.coverage, "coverage", cfg.coverage, "share of infected hosts the observer sees, e.g. 1/256")
	f.Float64Var(&cfg.forecast, "forecast", 0, "extend the fitted curve this many `HOURS` past the series")
	outputFlag(f, &cfg.csv, "csv", "", "write the fitted curve as CSV to `FILE` (- for standard output)")
	inputArgs(cmd)
	f.Float64Var(&cfg.fixed.Gamma, "gamma", cfg.fixed.Gamma, "two-factor: fixed removal rate per hour")
	f.Float64Var(&cfg.fixed.MuN, "mu-n", cfg.fixed.MuN, "two-factor: fixed patching rate mu times N, per hour")
	f.Float64Var(&cfg.fixed.Eta, "eta", cfg.fixed.Eta, "two-factor: fixed congestion exponent")
	f.IntVar(&cfg.sim.Boot, "boot", cfg.sim.Boot, "sim: bootstrap runs")
	f.IntVar(&cfg.sim.SpaceBits, "space-bits", cfg.sim.SpaceBits, "sim: the scanned space is 2^`BITS` addresses")
	f.Uint64Var(&cfg.sim.Seed, "seed", cfg.sim.Seed, "sim: random seed of the bootstrap runs")
	return cmd
}

func runFit(cmd *cobra.Command, cfg fitConfig) error {
	switch cfg.model {
	case "logistic", "two-factor", "sim":
	default:
		return inputError(fmt.Errorf("fit: unknown --model %q (want logistic, two-factor or sim)", cfg.model))
	}
	if cfg.model != "two-factor" {
		for _, name := range []string{"gamma", "mu-n", "eta"} {
			if cfg.changed[name] {
				return inputError(fmt.Errorf("fit: --%s applies only to --model two-factor", name))
			}
		}
	}
	if cfg.model != "sim" {
		for _, name := range []string{"boot", "space-bits", "seed"} {
			if cfg.changed[name] {
				return inputError(fmt.Errorf("fit: --%s applies only to --model sim", name))
			}
		}
	} else if cfg.sim.Boot < 20 || cfg.sim.SpaceBits < 8 || cfg.sim.SpaceBits > 32 {
		return inputError(fmt.Errorf("fit: --boot %d, --space-bits %d: want at least 20 runs and 8 to 32 bits", cfg.sim.Boot, cfg.sim.SpaceBits))
	}
	coverage, err := fit.ParseCoverage(cfg.coverage)
	if err != nil {
		return inputError(fmt.Errorf("fit: --%w", err))
	}
	if !(cfg.forecast >= 0) || math.IsInf(cfg.forecast, 0) {
		return inputError(fmt.Errorf("fit: --forecast %v, want hours >= 0", cfg.forecast))
	}
	obs, families, err := readObs(cfg.path)
	if err != nil {
		return inputError(err)
	}
	if len(families) > 1 && cfg.stderr != nil {
		fmt.Fprintf(cfg.stderr, "wormlab: warning: %s counts probes of %d families (%s) together: the fit mixes worms (wormlab detect --series writes one series per family)\n",
			cfg.path, len(families), strings.Join(families, ", "))
	}
	var r fit.Result
	switch cfg.model {
	case "logistic":
		r, err = fit.Logistic(obs, coverage)
	case "sim":
		r, err = simfit.Fit(obs, coverage, cfg.sim)
	default:
		r, err = fit.TwoFactor(obs, coverage, cfg.fixed)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.path, err)
	}
	if err := writeOutput(cmd, cfg.csv, func(w io.Writer) error { return r.WriteCurve(w, obs, cfg.forecast) }); err != nil {
		return err
	}
	printFit(cmd.OutOrStdout(), cfg, obs, r)
	return nil
}

// readObs reads a series and the worm families it says it counts.
func readObs(path string) (fit.Obs, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return fit.Obs{}, nil, err
	}
	defer f.Close()
	s, err := series.Read(f, path)
	if err != nil {
		return fit.Obs{}, nil, err
	}
	obs, err := fit.FromSeries(s, path)
	return obs, s.Families, err
}

func printFit(out io.Writer, cfg fitConfig, o fit.Obs, r fit.Result) {
	n := len(o.Ends)
	fmt.Fprintf(out, "%s fit to %s: %s of %s from %s, %s new sources\n",
		r.Model, cfg.path, plural(n, "bin"), time.Duration(o.Width*float64(time.Hour)).Round(time.Second), o.Start.Format(time.RFC3339), num(o.Total))
	for _, p := range r.Params {
		v := p.Value
		switch {
		case p.Fixed:
			fmt.Fprintf(out, "  %-8s %s (fixed)\n", p.Name, strings.TrimSpace(num(v.Est)+" "+p.Unit))
		case math.IsNaN(v.Lo):
			fmt.Fprintf(out, "  %-8s %s %s\n", p.Name, num(v.Est), p.Unit)
		default:
			fmt.Fprintf(out, "  %-8s %s %s, 95%% interval %s\n", p.Name, num(v.Est), p.Unit, span(v))
		}
	}
	if r.Intervals != "" {
		fmt.Fprintf(out, "  (95%% intervals: %s)\n", r.Intervals)
	}
	if !math.IsNaN(r.Plateau.Lo) {
		fmt.Fprintf(out, "  plateau  %s sources, 95%% interval %s\n", num(r.Plateau.Est), span(r.Plateau))
	}
	if r.CoverageGiven {
		fmt.Fprintf(out, "global infected population by the end of the outbreak: %s", num(r.Population.Est))
	} else {
		fmt.Fprintf(out, "infected population as seen by this observer: %s", num(r.Population.Est))
	}
	if !math.IsNaN(r.Population.Lo) {
		fmt.Fprintf(out, ", 95%% interval %s", span(r.Population))
	}
	if r.CoverageGiven {
		fmt.Fprintf(out, "\n  (fitted plateau of %s sources / coverage %s)\n", num(r.Plateau.Est), cfg.coverage)
	} else {
		fmt.Fprintf(out, "\n  (no --coverage given: this is the plateau of the sources this observer saw, not a global estimate)\n")
	}
	peak := r.PeakUTC().Format(time.RFC3339)
	if math.IsNaN(r.PeakHour.Lo) {
		fmt.Fprintf(out, "peak of new infections: %s (%.2f h after the series start; no interval for this model)\n", peak, r.PeakHour.Est)
	} else {
		fmt.Fprintf(out, "peak of new infections: %s, 95%% interval %s to %s\n", peak,
			r.Start.Add(hoursDur(r.PeakHour.Lo)).Format(time.RFC3339), r.Start.Add(hoursDur(r.PeakHour.Hi)).Format(time.RFC3339))
	}
	if cfg.forecast > 0 {
		end := o.Ends[n-1] + cfg.forecast
		cum, err := r.At(end)
		if err == nil {
			fmt.Fprintf(out, "forecast at %s (+%.4g h): %s sources seen, %s infected\n",
				r.Start.Add(hoursDur(end)).Format(time.RFC3339), cfg.forecast, num(cum), num(cum/r.Coverage))
		}
	}
	if cfg.csv != "" && cfg.csv != "-" {
		fmt.Fprintf(out, "wrote %s\n", cfg.csv)
	}
}

func hoursDur(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

// num formats a count or rate with four significant digits, without an
// exponent for ordinary sizes.
func num(v float64) string {
	a := math.Abs(v)
	if a != 0 && (a < 1e-3 || a >= 1e9) {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	if a >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func span(v fit.Interval) string { return "[" + num(v.Lo) + ", " + num(v.Hi) + "]" }
