package main

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/scenario"
)

// runEnsemble is `simulate --runs N` and `simulate --shard i/n`.
func runEnsemble(cmd *cobra.Command, cfg simulateConfig) error {
	ctx, out, errOut := cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr()
	var sh ensemble.Shard
	if cfg.shard != "" {
		var err error
		if sh, err = ensemble.ParseShard(cfg.shard); err != nil {
			return inputError(fmt.Errorf("--shard: %w", err))
		}
		switch {
		case cfg.json == "":
			return inputError(errors.New("--shard writes its runs with --json FILE, for 'wormlab merge'; give one"))
		case cfg.csv != "":
			return inputError(errors.New("--csv needs every run: give it to 'wormlab merge' instead of a shard"))
		}
	}
	if cfg.telescopeCSV != "" {
		return inputError(errors.New("--telescope-csv writes one run's series; an ensemble puts the telescope's bands in --csv and --json"))
	}
	if cfg.runs < 1 {
		return inputError(fmt.Errorf("--runs %d: want at least 1", cfg.runs))
	}
	if cfg.workers < 0 {
		return inputError(fmt.Errorf("--workers %d: want 0 (one per core) or more", cfg.workers))
	}
	s, err := cfg.loadScenario()
	if err != nil {
		return err
	}
	engine, err := ensembleEngine(s, cfg.seed, cfg.engine)
	if err != nil {
		return err
	}
	if err := checkEnsembleMemory(s, engine, shardSize(sh, cfg.runs)); err != nil {
		return inputError(err)
	}
	workers := cfg.workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	sp := ensemble.Spec{Scenario: s, Engine: engine, BaseSeed: cfg.seed, Runs: cfg.runs, Shard: sh, Workers: workers}
	if err := sp.Check(); err != nil {
		return inputError(err)
	}
	var bar *progressbar.ProgressBar
	if !cfg.quiet {
		if bar = newProgressBar(errOut, len(sh.Members(cfg.runs))); bar != nil {
			sp.Progress = func(done int) { bar.Set(done) }
		}
	}
	began := time.Now()
	set, err := ensemble.Run(ctx, sp)
	if bar != nil {
		bar.Clear() // a finished bar has cleared itself; an interrupted one has not
	}
	if err != nil {
		return err
	}
	wall := time.Since(began)
	if cfg.shard != "" {
		if err := writeOutput(cmd, cfg.json, shardWriter(set, cfg.json)); err != nil {
			return err
		}
	} else if err := writeEnsemble(cmd, set, cfg.json, cfg.csv); err != nil {
		return err
	}
	if !cfg.quiet {
		printEnsembleSummary(out, set)
		fmt.Fprintf(out, "  wall time %v, %s\n", wall.Round(time.Millisecond), plural(min(workers, len(set.Members)), "worker"))
	}
	return nil
}

// shardWriter writes set as a shard, gzip-compressed when name ends in
// ".gz": shards of large ensembles compress about fivefold.
func shardWriter(set *ensemble.Set, name string) func(io.Writer) error {
	if !strings.HasSuffix(name, ".gz") {
		return set.WriteShard
	}
	return func(w io.Writer) error {
		zw := gzip.NewWriter(w)
		if err := set.WriteShard(zw); err != nil {
			return err
		}
		return zw.Close()
	}
}

// ensembleEngine resolves --engine as runSimulate does, from the run of
// the base seed's configuration: the strategy is the same for every seed.
func ensembleEngine(s *scenario.Scenario, seed uint64, engine string) (string, error) {
	c, err := s.Build(seed)
	if err != nil {
		return "", inputError(err)
	}
	return chooseEngine(c, s.Worm.Strategy, engine)
}

// writeEnsemble writes a complete set's bands where asked.
func writeEnsemble(cmd *cobra.Command, set *ensemble.Set, jsonFile, csvFile string) error {
	if err := writeOutput(cmd, csvFile, set.WriteCSV); err != nil {
		return err
	}
	return writeOutput(cmd, jsonFile, set.WriteJSON)
}

// printEnsembleSummary prints the median and the 5% to 95% range of the
// figures of the runs set holds.
func printEnsembleSummary(w io.Writer, set *ensemble.Set) {
	const ts = "2006-01-02 15:04 UTC"
	s, st := set.Scenario, set.Stats()
	n := len(set.Members)
	first, last := set.Members[0].Seed, set.Members[n-1].Seed
	if set.Complete() {
		fmt.Fprintf(w, "%s: %s runs, seeds %d to %d (%s engine)\n", s.Name, thousands(int64(n)), first, last, set.Engine)
	} else {
		fmt.Fprintf(w, "%s: shard %v, %s of %s runs (run j with j mod %d = %d, seed %d+j; %s engine)\n",
			s.Name, set.Shard, thousands(int64(n)), thousands(int64(set.Runs)), set.Shard.Count, set.Shard.Index, set.BaseSeed, set.Engine)
	}
	fmt.Fprintf(w, "  median (5%% to 95%% of runs, nearest rank)\n")
	span := func(q [3]int64) string {
		return fmt.Sprintf("%s (%s to %s)", thousands(q[1]), thousands(q[0]), thousands(q[2]))
	}
	end := set.Start.Add(time.Duration(set.Bins-1) * time.Duration(set.StepSeconds*float64(time.Second)))
	for _, cp := range st.Checkpoints {
		if d, _ := time.ParseDuration(cp.After); !cp.UTC.Equal(end) {
			fmt.Fprintf(w, "  infected at %s (+%s): %s\n", cp.UTC.Format(ts), offset(d), span(cp.Infected))
		}
	}
	fmt.Fprintf(w, "  infected at %s (+%s, end): %s\n", end.Format(ts), offset(end.Sub(set.Start)), span(st.FinalInfected))
	if q := st.MinutesToHalf; q != nil {
		fmt.Fprintf(w, "  half infected after %s (%s to %s), in %s of %s runs\n",
			minutes(q[1]), minutes(q[0]), minutes(q[2]), thousands(int64(st.ReachedHalf)), thousands(int64(n)))
	} else {
		fmt.Fprintf(w, "  half infected: in no run\n")
	}
	if q := st.KPerHour; q != nil {
		fmt.Fprintf(w, "  logistic fit: K = %.2f per hour (%.2f to %.2f), fitted in %s of %s runs\n",
			q[1], q[0], q[2], thousands(int64(st.Fitted)), thousands(int64(n)))
	}
	if q := st.TelescopeSeen; q != nil {
		fmt.Fprintf(w, "  telescope %s: sources seen by the end: %s\n", set.Scenario.Telescope.Block, span(*q))
	}
	p := st.PeakPerMinute
	if p[2] >= 10 {
		fmt.Fprintf(w, "  peak new infections a minute: %s (%s to %s)\n",
			thousands(int64(p[1]+0.5)), thousands(int64(p[0]+0.5)), thousands(int64(p[2]+0.5)))
	} else {
		fmt.Fprintf(w, "  peak new infections a minute: %.2f (%.2f to %.2f)\n", p[1], p[0], p[2])
	}
}

// minutes formats a time offset given in minutes, as "6h41m".
func minutes(m float64) string {
	return offset(time.Duration(m * float64(time.Minute)))
}

// offset formats d as "6h", "6h41m", "41m", "0m" or, off the minute, as
// time.Duration does.
func offset(d time.Duration) string {
	d = d.Round(time.Second)
	h, m := d/time.Hour, d%time.Hour
	switch {
	case m%time.Minute != 0:
		return d.String()
	case d == 0:
		return "0m"
	case m == 0:
		return fmt.Sprintf("%dh", h)
	case h == 0:
		return fmt.Sprintf("%dm", m/time.Minute)
	}
	return fmt.Sprintf("%dh%02dm", h, m/time.Minute)
}
