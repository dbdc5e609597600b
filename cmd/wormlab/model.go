package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/spf13/cobra"

	"github.com/wormlab/wormlab/internal/model"
)

// modelGrid is the time grid shared by both model subcommands.
type modelGrid struct {
	hours float64
	step  time.Duration
	csv   string
}

func (g *modelGrid) flags(cmd *cobra.Command) {
	cmd.Flags().Float64Var(&g.hours, "hours", 24, "hours to model from the start")
	cmd.Flags().DurationVar(&g.step, "step", time.Minute, "sampling step of the curve (e.g. 1m, 30s, 1h)")
	outputFlag(cmd.Flags(), &g.csv, "csv", "", "write the curve as CSV to `FILE` (- for standard output)")
	mustBePositive(cmd.Flags(), "step", "a step above 0, such as 1m")
}

func (g *modelGrid) grid() ([]float64, error) {
	if !(g.hours >= 0) || math.IsInf(g.hours, 0) {
		return nil, inputError(fmt.Errorf("--hours %v: want 0 or more hours", g.hours))
	}
	hs, err := model.Grid(g.hours, g.step.Hours())
	return hs, inputError(err)
}

func newModelCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "model",
		Short: "Analytic worm models: logistic and two-factor curves",
		Long: `model computes the curves of the analytic worm models for given parameters:
the logistic "random constant spread" model (Staniford et al. 2002) and the
two-factor model of Zou, Gong and Towsley (CCS 2002). Time is in hours from
the start; rates are per hour. It prints a short summary, and with --csv
writes the sampled curve.`,
		Args: badArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return inputError(errors.New("model: name a model: logistic or two-factor"))
		},
	}
	cmd.AddCommand(newModelLogisticCmd(), newModelTwoFactorCmd())
	return cmd
}

func newModelLogisticCmd() *cobra.Command {
	p := model.Logistic{K: 1.8, T: 7, N: model.CodeRedN}
	var g modelGrid
	cmd := &cobra.Command{
		Use:   "logistic",
		Short: "The logistic curve N e^{K(t-T)}/(1+e^{K(t-T)})",
		Args:  badArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := p.Validate(); err != nil {
				return inputError(err)
			}
			hs, err := g.grid()
			if err != nil {
				return err
			}
			c := p.Curve(hs)
			out := cmd.OutOrStdout()
			if err := writeCurve(cmd, g.csv, c); err != nil {
				return err
			}
			s := c.Summarize(p.N)
			fmt.Fprintf(out, "logistic: K = %.4g per hour, T = %.4g h, N = %.0f\n", p.K, p.T, p.N)
			printCeiling(out, p.Ceiling)
			printHalf(out, "half of N infected", s, g.hours)
			fmt.Fprintf(out, "peak of new infections: %.0f per hour (%.0f per minute) at %.2f h\n", s.PeakRate, s.PeakRate/60, s.PeakRateHour)
			last := len(hs) - 1
			fmt.Fprintf(out, "at %.4g h: %.0f infected (%.1f%%)\n", hs[last], c.Infected[last], 100*c.Infected[last]/p.N)
			return wrote(out, g.csv, len(hs))
		},
	}
	f := cmd.Flags()
	f.Float64Var(&p.K, "k", p.K, "growth rate per hour (Staniford 2002: about 1.8 for Code Red v2)")
	f.Float64Var(&p.T, "t", p.T, "hour at which half of N is infected (7: one host at hour 0, ln(359,999)/1.8 = 7.1)")
	f.Float64Var(&p.N, "n", p.N, "population at saturation (hosts)")
	f.Float64Var(&p.Ceiling, "ceiling", 0, ceilingUsage)
	g.flags(cmd)
	return cmd
}

func newModelTwoFactorCmd() *cobra.Command {
	p := model.CodeRedTwoFactor()
	var g modelGrid
	muN, mu := p.Mu*p.N, p.Mu
	scanRate, space := float64(model.CodeRedScanPerMn), float64(model.IPv4Space)
	cmd := &cobra.Command{
		Use:   "two-factor",
		Short: "The two-factor model of Zou, Gong and Towsley (2002)",
		Long: `two-factor solves dI/dt = beta(t) S I - dR/dt, dR/dt = gamma I,
dQ/dt = mu S J with J = I + R, S = N - I - R - Q and
beta(t) = beta0 (1 - I/N)^eta, from I(0) = I0, R(0) = Q(0) = 0, by RK4.

beta0 is the scan rate over the address space (--scan-rate per minute and
--space) unless given directly with --beta0 (per hour). The defaults are
Code Red's (N = 360,000, 358 probes a minute over 2^32 addresses, so
beta0 N = 1.80 per hour) with gamma, mu and eta from the paper's numerical
example rescaled to that growth rate (gamma = 0.1125/h, mu N = 0.135/h,
eta = 3): an illustration, not a calibration. Set --gamma 0 --mu-n 0
--eta 0 for the plain logistic.`,
		Args: badArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			if fl.Changed("beta0") && (fl.Changed("scan-rate") || fl.Changed("space")) {
				return inputError(errors.New("two-factor: give --beta0 or --scan-rate/--space, not both"))
			}
			if !fl.Changed("beta0") {
				if !(scanRate > 0) || !(space >= 1) {
					return inputError(fmt.Errorf("two-factor: --scan-rate %v and --space %v must be positive", scanRate, space))
				}
				p.Beta0 = scanRate * 60 / space
			}
			switch {
			case fl.Changed("mu") && fl.Changed("mu-n"):
				return inputError(errors.New("two-factor: give --mu or --mu-n, not both"))
			case fl.Changed("mu"):
				p.Mu, muN = mu, mu*p.N
			default:
				p.Mu = muN / p.N
			}
			if !(muN >= 0) || math.IsInf(muN, 0) {
				return inputError(fmt.Errorf("two-factor: mu N = %v, want a rate per hour >= 0", muN))
			}
			if err := p.Validate(); err != nil {
				return inputError(err)
			}
			hs, err := g.grid()
			if err != nil {
				return err
			}
			c, err := p.Solve(hs)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if err := writeCurve(cmd, g.csv, c); err != nil {
				return err
			}
			s := c.Summarize(p.N)
			fmt.Fprintf(out, "two-factor: N = %.0f, beta0 = %.4g per hour (beta0 N = %.4g per hour), gamma = %.4g per hour, mu N = %.4g per hour, eta = %.4g, I0 = %.4g\n",
				p.N, p.Beta0, p.Beta0*p.N, p.Gamma, muN, p.Eta, p.I0)
			printCeiling(out, p.Ceiling)
			printHalf(out, "half of N infected so far (J = I + R)", s, g.hours)
			fmt.Fprintf(out, "peak of new infections: %.0f per hour at %.2f h\n", s.PeakRate, s.PeakRateHour)
			fmt.Fprintf(out, "peak of infected hosts (I): %.0f at %.2f h\n", s.PeakInfected, s.PeakInfectedHour)
			last := len(hs) - 1
			fmt.Fprintf(out, "at %.4g h: infected so far J = %.0f (%.1f%%), infectious I = %.0f, removed R = %.0f, patched before infection Q = %.0f\n",
				hs[last], c.Ever[last], 100*c.Ever[last]/p.N, c.Infected[last], c.Removed[last], c.Patched[last])
			return wrote(out, g.csv, len(hs))
		},
	}
	f := cmd.Flags()
	f.Float64Var(&p.N, "n", p.N, "vulnerable hosts")
	f.Float64Var(&scanRate, "scan-rate", scanRate, "probes a minute per infected host (sets beta0 = scan-rate*60/space)")
	f.Float64Var(&space, "space", space, "addresses the worm scans (2^32 for IPv4)")
	f.Float64Var(&p.Beta0, "beta0", p.Beta0, "pairwise infection rate per hour (overrides --scan-rate/--space)")
	f.Float64Var(&p.Gamma, "gamma", p.Gamma, "removal rate of infectious hosts per hour")
	f.Float64Var(&muN, "mu-n", muN, "patching rate mu times N, per hour (the paper's mu = 0.06/N is --mu-n 0.06 in its time unit)")
	f.Float64Var(&mu, "mu", mu, "patching rate per susceptible host per host infected so far, per hour (instead of --mu-n)")
	f.Float64Var(&p.Eta, "eta", p.Eta, "congestion exponent (0: no slowdown)")
	f.Float64Var(&p.I0, "i0", p.I0, "infected hosts at hour 0")
	f.Float64Var(&p.Ceiling, "ceiling", 0, ceilingUsage)
	g.flags(cmd)
	return cmd
}

// ceilingUsage explains --ceiling, the network's capacity in hosts.
const ceilingUsage = "the network's capacity, in hosts: the aggregate scan rate it carries over one host's scan rate; 0: none"

// printCeiling says where the network fills, when it has a capacity.
func printCeiling(out io.Writer, ceiling float64) {
	if ceiling > 0 {
		fmt.Fprintf(out, "network capacity: the scanning of %.0f hosts; above it new infections grow with the susceptible hosts only\n", ceiling)
	}
}

func printHalf(out io.Writer, what string, s model.Summary, hours float64) {
	if math.IsNaN(s.HalfHour) {
		fmt.Fprintf(out, "%s: not within %.4g h\n", what, hours)
		return
	}
	fmt.Fprintf(out, "%s at %.2f h\n", what, s.HalfHour)
}

// writeCurve writes c as CSV to the output path; nothing when path is
// empty.
func writeCurve(cmd *cobra.Command, path string, c model.Curve) error {
	return writeOutput(cmd, path, func(w io.Writer) error { return model.WriteCSV(w, c) })
}

func wrote(out io.Writer, path string, rows int) error {
	if path != "" && path != "-" {
		fmt.Fprintf(out, "wrote %s (%s)\n", path, plural(rows, "row"))
	}
	return nil
}

// badArgs marks cobra's positional-argument errors as bad input (exit 2).
func badArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		return inputError(check(cmd, args))
	}
}
