package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/observe"
	"github.com/wormlab/wormlab/internal/runrec"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/sim"
)

type forecastConfig struct {
	scenario, file string
	block          string
	seed           uint64
	csv, json      string
	quiet          bool
}

func newForecastCmd() *cobra.Command {
	var cfg forecastConfig
	cmd := &cobra.Command{
		Use:   "forecast --block PREFIX",
		Short: "Forecast the probe load a worm puts on one address block",
		Long: `Forecast runs a scenario in the event engine and reports, per bin, the
probes a second arriving at one block (expected, from the rates, and a
sampled count), the distinct infected sources sending them, and the states
of the block's own vulnerable hosts.

  wormlab forecast --scenario codered-ii-2001-08-04 --block 24.0.0.0/16 --csv load.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runForecast(cmd, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.scenario, "scenario", scenario.Default, "built-in scenario `NAME`")
	f.StringVarP(&cfg.file, "file", "f", "", "scenario `FILE.toml` (instead of --scenario)")
	f.StringVar(&cfg.block, "block", "", "the operator's block, an IPv4 `PREFIX` from /8 to /32 (required)")
	f.Uint64Var(&cfg.seed, "seed", defaultSeed, "random seed")
	outputFlag(f, &cfg.csv, "csv", "", "write minute,utc,probes_per_s,sources,... to `FILE` (- for standard output)")
	outputFlag(f, &cfg.json, "json", "", "write the run record, with the block's series, to `FILE` (- for standard output)")
	markInput(f, "file")
	f.BoolVarP(&cfg.quiet, "quiet", "q", false, "print nothing but errors")
	cmd.MarkFlagsMutuallyExclusive("scenario", "file")
	cmd.MarkFlagRequired("block")
	return cmd
}

func runForecast(cmd *cobra.Command, cfg forecastConfig) error {
	block, err := ipspace.ParsePrefix(cfg.block)
	if err != nil {
		return inputError(fmt.Errorf("--block: %s", strings.TrimPrefix(err.Error(), "ipspace: ")))
	}
	if block.Bits() < 8 {
		return inputError(fmt.Errorf("--block %v: want a /8 to /32", block))
	}
	s, err := loadScenario(cfg.scenario, cfg.file)
	if err != nil {
		return err
	}
	c, err := s.Build(cfg.seed)
	if err != nil {
		return inputError(err)
	}
	obs, err := observe.NewBlockLoad(c, block, cfg.seed)
	if err != nil {
		return inputError(err)
	}
	c.Observers = append(c.Observers, obs)
	began := time.Now()
	c.Stop = cmd.Context().Done()
	res, err := sim.RunEvent(c, cfg.seed)
	if err != nil {
		if errors.Is(err, sim.ErrStopped) {
			return err
		}
		return inputError(err)
	}
	rec := runrec.New(s, cfg.seed, c, res)
	rows := rec.Observers.BlockLoad.Rows
	wall := time.Since(began)
	if err := writeOutput(cmd, cfg.csv, func(w io.Writer) error { return writeBlockCSV(w, c.Start, rows) }); err != nil {
		return err
	}
	if err := writeOutput(cmd, cfg.json, rec.WriteJSON); err != nil {
		return err
	}
	if !cfg.quiet {
		printForecast(cmd.OutOrStdout(), rec, block, rows, wall)
	}
	return nil
}

// BlockCSVHeader is the forecast CSV's header: the four columns,
// then the sampled count and the block's own hosts.
const blockCSVHeader = "minute,utc,probes_per_s,sources,probes,senders,block_susceptible,block_infected,block_patched,block_removed"

func writeBlockCSV(w io.Writer, start time.Time, rows []observe.BlockRow) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(blockCSVHeader + "\n")
	var b []byte
	for _, r := range rows {
		b = b[:0]
		b = strconv.AppendFloat(b, r.Minute, 'f', -1, 64)
		b = append(b, ',')
		b = start.Add(time.Duration(r.Minute*float64(time.Minute))).UTC().AppendFormat(b, time.RFC3339)
		b = append(b, ',')
		b = strconv.AppendFloat(b, r.ProbesPerSecond, 'g', 6, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, r.Sources, 'f', 2, 64)
		for _, v := range []int64{r.Probes, int64(r.Senders), r.Susceptible, r.Infected, r.Patched, r.Removed} {
			b = append(b, ',')
			b = strconv.AppendInt(b, v, 10)
		}
		b = append(b, '\n')
		bw.Write(b)
	}
	return bw.Flush()
}

func printForecast(w io.Writer, rec *runrec.Record, block ipspace.Prefix, rows []observe.BlockRow, wall time.Duration) {
	const ts = "2006-01-02 15:04 UTC"
	start := rec.Scenario.Run.Start.UTC()
	var peak observe.BlockRow
	var total int64
	for _, r := range rows {
		if r.ProbesPerSecond > peak.ProbesPerSecond {
			peak = r
		}
		total += r.Probes
	}
	first, last := rows[0], rows[len(rows)-1]
	at := func(r observe.BlockRow) string {
		return start.Add(time.Duration(r.Minute * float64(time.Minute))).Format(ts)
	}
	fmt.Fprintf(w, "%s on %s (%s addresses; event engine, seed %d)\n", rec.Scenario.Name, block, thousands(int64(block.Size())), rec.Seed)
	fmt.Fprintf(w, "  peak load: %s probes a second, in the bin ending %s, from about %s distinct sources a bin (%s infected hosts able to reach the block)\n",
		sigfig(peak.ProbesPerSecond), at(peak), sigfig(peak.Sources), thousands(int64(peak.Senders)))
	fmt.Fprintf(w, "  probes over the run: %s (sampled)\n", thousands(total))
	fmt.Fprintf(w, "  the block's own vulnerable hosts: %s at the start; at the end %s infected, %s removed, %s still susceptible\n",
		thousands(first.Susceptible+first.Infected+first.Patched+first.Removed), thousands(last.Infected), thousands(last.Removed), thousands(last.Susceptible))
	fmt.Fprintf(w, "  wall time %v\n", wall.Round(100*time.Microsecond))
}

// sigfig formats x with three significant digits and separators.
func sigfig(x float64) string {
	if x >= 1000 {
		return thousands(int64(x + 0.5))
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}
