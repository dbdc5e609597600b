package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/wormlab/wormlab/internal/report"
)

type reportConfig struct {
	out   string
	png   string
	quiet bool
}

func newReportCmd() *cobra.Command {
	var cfg reportConfig
	cmd := &cobra.Command{
		Use:   "report FILE.json...",
		Short: "Draw run records, ensembles, sweeps and detect reports as an HTML page and PNGs",
		Long: `report reads wormlab JSON outputs (run records from 'simulate --json',
ensembles, sweeps from 'sweep --json', and 'detect --json' reports) and
writes one self-contained HTML page (-o) with a chart for each thing they
hold: hosts by state, new infections a minute, the logistic fit with K and
T, ensemble bands, a sweep's outcome against its key, the observers, the
per-/8 map of the IPv4 space, the probes found in logs. The page loads
nothing from the network. --png writes the same charts as PNG files for
slides and papers.

Given two or more runs, ensembles or sweeps, report first overlays them
on the same axes (the infected share against hours since each start;
sweeps of one key against that key) and labels each by what differs
between their scenarios, such as defence.content_filter.reaction=1h
against =4h, or by its seeds when only the seed differs:

  wormlab report -o compare.html fast.json slow.json

Every input is read before anything is written: a file that is not a
wormlab output, comes from another version or is truncated is an error
naming it, exit status 2, and no output.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(cmd, args, cfg)
		},
	}
	f := cmd.Flags()
	outputFlag(f, &cfg.out, "output", "o", "write the HTML report to `FILE` (- for standard output)")
	inputArgs(cmd)
	f.StringVar(&cfg.png, "png", "", "write each chart as a PNG into `DIR` (created if missing)")
	f.BoolVarP(&cfg.quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}

func runReport(cmd *cobra.Command, args []string, cfg reportConfig) error {
	out := cmd.OutOrStdout()
	if cfg.out == "" && cfg.png == "" {
		return inputError(fmt.Errorf("nothing to write: give -o FILE.html, --png DIR, or both"))
	}
	if err := checkPNGDir(cfg.png); err != nil {
		return inputError(err)
	}
	rep, err := stoppable(cmd.Context(), func() (*report.Report, error) {
		var inputs []*report.Input
		for _, name := range args {
			in, err := report.ReadFile(name)
			if err != nil {
				return nil, inputError(err)
			}
			inputs = append(inputs, in)
		}
		rep, err := report.Build(inputs)
		return rep, inputError(err)
	})
	if err != nil {
		return err
	}
	if cfg.out != "" {
		if err := writeOutput(cmd, cfg.out, rep.WriteHTML); err != nil {
			return err
		}
		if !cfg.quiet {
			fmt.Fprintf(out, "wrote %s: %s\n", cfg.out, plural(len(rep.Charts()), "chart"))
		}
	}
	if cfg.png != "" {
		if err := cmd.Context().Err(); err != nil {
			return err
		}
		paths, err := rep.WritePNGs(cfg.png)
		if err != nil {
			return err
		}
		if !cfg.quiet {
			fmt.Fprintf(out, "wrote %d PNG files to %s\n", len(paths), cfg.png)
		}
	}
	return nil
}

// checkPNGDir reports whether --png DIR can be written: an existing
// directory, or a new one whose parent exists.
func checkPNGDir(dir string) error {
	switch dir {
	case "":
		return nil
	case "-":
		return errors.New("--png -: PNG files go into a directory, not standard output")
	}
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("--png %s: not a directory", dir)
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--png %s: %v", dir, errors.Unwrap(err))
	}
	if parent, err := os.Stat(filepath.Dir(dir)); err != nil || !parent.IsDir() {
		return fmt.Errorf("--png %s: directory %s does not exist", dir, filepath.Dir(dir))
	}
	return nil
}
