package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/report"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/sweep"
)

type sweepConfig struct {
	scenario string
	file     string
	sets     []string
	seed     uint64
	engine   string
	runs     int
	workers  int
	shard    string
	csv      string
	json     string
	report   string
	quiet    bool
}

func newSweepCmd() *cobra.Command {
	var cfg sweepConfig
	cmd := &cobra.Command{
		Use:   "sweep --set KEY=V1,V2,... [--set KEY2=...]",
		Short: "Run an ensemble at each value of one or two scenario keys and tabulate the outcomes",
		Long: `Sweep varies one or two keys of a scenario (--scenario or -f) and runs an
ensemble of --runs seeds at every point of the grid; every point runs the
same seeds. Per point it reports the 5%, 50% and 95% quantiles of the final
infected share, of the time to half infected (runs that never got there
count as never) and of the peak new infections a minute: --csv writes the
table, --json the table and every point's infected bands.

A --set names a key as the scenario file does, with its values:
  --set defence.content_filter.reaction=10m,30m,1h,2h,4h
  --set worm.scan_rate=2..10/5      (5 evenly spaced values from 2 to 10)
  --set defence.content_filter.reaction=10m..4h/10
Numbers, whole numbers, durations, words, true/false and times can be
swept; a key the scenario lacks is added (its table too).

--shard i/n runs part i of every point's runs (as simulate --shard) and
writes it with --json for 'wormlab merge', which writes what the
unsharded sweep writes, byte for byte.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSweep(cmd, cfg) },
	}
	f := cmd.Flags()
	f.StringVar(&cfg.scenario, "scenario", scenario.Default, "built-in scenario `NAME`")
	f.StringVarP(&cfg.file, "file", "f", "", "scenario `FILE.toml` (instead of --scenario)")
	f.StringArrayVar(&cfg.sets, "set", nil, "vary `KEY=V1,V2,...` or KEY=LO..HI/N (once or twice)")
	f.Uint64Var(&cfg.seed, "seed", defaultSeed, "first seed; every point runs --seed to --seed+N-1")
	f.StringVar(&cfg.engine, "engine", "", "event or probe (default: event when the worm's strategy allows it)")
	f.IntVar(&cfg.runs, "runs", 100, "runs (`N`) per point")
	f.IntVar(&cfg.workers, "workers", 0, "runs at once (`N`; 0: one per core)")
	f.StringVar(&cfg.shard, "shard", "", "run only shard `i/n` of every point's runs and write it with --json for 'wormlab merge'")
	outputFlag(f, &cfg.csv, "csv", "", "write the table to `FILE` (- for standard output)")
	outputFlag(f, &cfg.json, "json", "", "write the sweep (JSON) to `FILE` (- for standard output)")
	outputFlag(f, &cfg.report, "report", "", "write an HTML report of the sweep to `FILE`")
	f.BoolVarP(&cfg.quiet, "quiet", "q", false, "print nothing but errors")
	markInput(f, "file")
	cmd.MarkFlagsMutuallyExclusive("scenario", "file")
	return cmd
}

func runSweep(cmd *cobra.Command, cfg sweepConfig) error {
	var sh ensemble.Shard
	if cfg.shard != "" {
		var err error
		if sh, err = ensemble.ParseShard(cfg.shard); err != nil {
			return inputError(fmt.Errorf("--shard: %w", err))
		}
		if cfg.json == "" || cfg.csv != "" || cfg.report != "" {
			return inputError(errors.New("--shard writes its runs with --json FILE alone, for 'wormlab merge'"))
		}
	}
	switch {
	case len(cfg.sets) == 0:
		return inputError(errors.New("--set: nothing to vary: give --set KEY=V1,V2,... (or KEY=LO..HI/N)"))
	case len(cfg.sets) > 2:
		return inputError(fmt.Errorf("--set given %d times: a sweep varies one or two keys", len(cfg.sets)))
	case cfg.runs < 1:
		return inputError(fmt.Errorf("--runs %d: want at least 1", cfg.runs))
	case cfg.workers < 0:
		return inputError(fmt.Errorf("--workers %d: want 0 (one per core) or more", cfg.workers))
	}
	s, err := loadScenario(cfg.scenario, cfg.file)
	if err != nil {
		return err
	}
	workers := cfg.workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	sp := sweep.Spec{Base: s, BaseSeed: cfg.seed, Runs: cfg.runs, Shard: sh, Workers: workers,
		Engine: func(sc *scenario.Scenario) (string, error) { return ensembleEngine(sc, cfg.seed, cfg.engine) }}
	for _, arg := range cfg.sets {
		p, err := sweep.ParseSet(arg)
		if err != nil {
			return inputError(fmt.Errorf("--set %w", err))
		}
		sp.Params = append(sp.Params, p)
	}
	points, err := sp.Points()
	if err != nil {
		return inputError(fmt.Errorf("--set: %w", err))
	}
	for _, pt := range points {
		if err := (ensemble.Spec{Scenario: pt.Scenario, Engine: pt.Engine, BaseSeed: cfg.seed, Runs: cfg.runs, Shard: sh}).Check(); err != nil {
			return inputError(err)
		}
		if err := checkEnsembleMemory(pt.Scenario, pt.Engine, shardSize(sh, cfg.runs)); err != nil {
			return inputError(err)
		}
	}
	var bar *progressbar.ProgressBar
	if !cfg.quiet {
		if bar = newProgressBar(cmd.ErrOrStderr(), len(points)*len(sh.Members(cfg.runs))); bar != nil {
			sp.Progress = func(done int) { bar.Set(done) }
		}
	}
	began := time.Now()
	res, err := sweep.Run(cmd.Context(), sp)
	if bar != nil {
		bar.Clear()
	}
	if err != nil {
		return err
	}
	wall := time.Since(began)
	if cfg.shard != "" {
		if err := writeOutput(cmd, cfg.json, res.WriteShard); err != nil {
			return err
		}
	} else if err := writeSweep(cmd, res, cfg.json, cfg.csv, cfg.report); err != nil {
		return err
	}
	if !cfg.quiet {
		printSweepSummary(cmd.OutOrStdout(), res)
		fmt.Fprintf(cmd.OutOrStdout(), "  wall time %v, %s\n", wall.Round(time.Millisecond), plural(workers, "worker"))
	}
	return nil
}

// writeSweep writes a complete sweep where asked.
func writeSweep(cmd *cobra.Command, res *sweep.Result, jsonFile, csvFile, reportFile string) error {
	if err := writeOutput(cmd, csvFile, res.WriteCSV); err != nil {
		return err
	}
	if err := writeOutput(cmd, jsonFile, res.WriteJSON); err != nil {
		return err
	}
	return writeOutput(cmd, reportFile, func(w io.Writer) error {
		f, err := res.File()
		if err != nil {
			return err
		}
		return report.Sweep(f).WriteHTML(w)
	})
}

// printSweepSummary prints the median and 5% to 95% range of each point.
func printSweepSummary(w io.Writer, res *sweep.Result) {
	h := res.Spec
	shard := ""
	if h.Shard.Count > 1 {
		shard = fmt.Sprintf(", shard %v", h.Shard)
	}
	fmt.Fprintf(w, "%s: %s, %s a point from seed %d%s\n", h.Base.Name, plural(len(res.Points), "point"), plural(h.Runs, "run"), h.BaseSeed, shard)
	fmt.Fprintf(w, "  median (5%% to 95%% of runs, nearest rank)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var keys []string
	for _, p := range h.Params {
		keys = append(keys, p.Key)
	}
	fmt.Fprintf(tw, "  %s\tinfected share at the end\thalf infected after\tpeak new infections a minute\n", strings.Join(keys, "\t"))
	for _, row := range res.Rows() {
		share := fmt.Sprintf("%s (%s to %s)", pct(row.FinalShare[1]), pct(row.FinalShare[0]), pct(row.FinalShare[2]))
		half := fmt.Sprintf("%s (%s to %s)", halfText(row.MinutesToHalf[1]), halfText(row.MinutesToHalf[0]), halfText(row.MinutesToHalf[2]))
		p := row.PeakPerMinute
		peak := fmt.Sprintf("%.0f (%.0f to %.0f)", p[1], p[0], p[2])
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", strings.Join(row.Labels, "\t"), share, half, peak)
	}
	tw.Flush()
}

func pct(share float64) string {
	switch {
	case share == 0:
		return "0%"
	case share < 0.001:
		return fmt.Sprintf("%.4f%%", 100*share)
	}
	return fmt.Sprintf("%.1f%%", 100*share)
}

func halfText(m *float64) string {
	if m == nil {
		return "never"
	}
	return minutes(*m)
}

// isSweepShard reports whether the file name starts as a sweep shard
// does (gzip-compressed or not); it reads only the first bytes, since
// ensemble shards can be large.
func isSweepShard(name string) (bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var r io.Reader = f
	br := bufio.NewReader(f)
	if head, _ := br.Peek(2); bytes.Equal(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return false, fmt.Errorf("%s: %w", name, err)
		}
		r = zr
	} else {
		r = br
	}
	head := make([]byte, 256)
	n, _ := io.ReadFull(r, head)
	return sweep.StartsShard(head[:n]), nil
}

// readSweepShards returns the files' bytes, decompressed when gzip.
func readSweepShards(names []string) ([][]byte, error) {
	var out [][]byte
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		out = append(out, data)
	}
	return out, nil
}
