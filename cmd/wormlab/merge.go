package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/sweep"
)

type mergeConfig struct {
	shards []string
	json   string
	csv    string
	quiet  bool
}

func newMergeCmd() *cobra.Command {
	var cfg mergeConfig
	cmd := &cobra.Command{
		Use:   "merge SHARD.json...",
		Short: "Merge the shards of an ensemble (simulate --shard) or a sweep (sweep --shard)",
		Long: `Merge reads every shard of one ensemble, written by 'wormlab simulate
--runs N --shard i/n --json FILE' for i = 0 to n-1, and writes what
'wormlab simulate --runs N' would have written: -o the ensemble JSON, --csv
the quantile bands, byte for byte the same. It refuses a missing or repeated
shard and shards of different scenarios, seeds, engines or builds.

The shards of a sweep, written by 'wormlab sweep --set ... --runs N
--shard i/n --json FILE', merge the same way into what the whole sweep
writes: -o the sweep JSON (every point's figures and infected bands), --csv
the table of points. Merge tells the two kinds apart by the first shard's
schema; shards of different sweeps (scenario, --set, seed, runs or build)
are refused.

Shards may be gzip-compressed (simulate --shard writes gzip when --json
ends in .gz); merge recognises them by their first bytes. It streams: it
holds every run's figures but never all runs' per-bin values, reading the
shards a few times instead, so 100,000 runs merge in well under 1 GiB.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.shards = args
			return runMerge(cmd, cfg)
		},
	}
	f := cmd.Flags()
	outputFlag(f, &cfg.json, "output", "o", "write the ensemble or sweep JSON to `FILE` (- for standard output)")
	outputFlag(f, &cfg.csv, "csv", "", "write the quantile bands, or a sweep's table, to `FILE` (- for standard output)")
	inputArgs(cmd)
	f.BoolVarP(&cfg.quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}

func runMerge(cmd *cobra.Command, cfg mergeConfig) error {
	if cfg.json == "" && cfg.csv == "" {
		return inputError(errors.New("nothing to write: give -o FILE.json, --csv FILE.csv, or both"))
	}
	isSweep, err := stoppable(cmd.Context(), func() (bool, error) { return isSweepShard(cfg.shards[0]) })
	if cmd.Context().Err() != nil {
		return err
	}
	if err != nil {
		return inputError(err)
	}
	if isSweep {
		return runSweepMerge(cmd, cfg)
	}
	set, err := stoppable(cmd.Context(), func() (*ensemble.Set, error) { return ensemble.MergeFiles(cfg.shards) })
	if cmd.Context().Err() != nil {
		return err
	}
	if err != nil {
		return inputError(err)
	}
	if err := writeEnsemble(cmd, set, cfg.json, cfg.csv); err != nil {
		return err
	}
	if out := cmd.OutOrStdout(); !cfg.quiet {
		printEnsembleSummary(out, set)
		fmt.Fprintf(out, "  merged from %s\n", plural(len(cfg.shards), "shard"))
	}
	return nil
}

// runSweepMerge merges the shards of a sweep (sweep --shard).
func runSweepMerge(cmd *cobra.Command, cfg mergeConfig) error {
	res, err := stoppable(cmd.Context(), func() (*sweep.Result, error) {
		data, err := readSweepShards(cfg.shards)
		if err != nil {
			return nil, err
		}
		return sweep.Merge(data, cfg.shards)
	})
	if cmd.Context().Err() != nil {
		return err
	}
	if err != nil {
		return inputError(err)
	}
	if err := writeSweep(cmd, res, cfg.json, cfg.csv, ""); err != nil {
		return err
	}
	if out := cmd.OutOrStdout(); !cfg.quiet {
		printSweepSummary(out, res)
		fmt.Fprintf(out, "  merged from %s\n", plural(len(cfg.shards), "shard"))
	}
	return nil
}
