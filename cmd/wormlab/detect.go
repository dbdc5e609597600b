package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wormlab/wormlab/internal/detect"
	"github.com/wormlab/wormlab/internal/geoip"
	"github.com/wormlab/wormlab/internal/series"
	"github.com/wormlab/wormlab/internal/signature"
)

type detectConfig struct {
	bin             time.Duration
	series          string
	json            string
	sources         string
	rules           string
	country         string
	families        []string
	top             int
	format          string
	maxLine         int
	show            int
	allowUnparsable bool
	follow          bool
	poll            time.Duration
}

func newDetectCmd() *cobra.Command {
	var c detectConfig
	cmd := &cobra.Command{
		Use:   "detect FILE...",
		Short: "Find worm probes in web-server access logs",
		Long: `detect reads access logs (plain, gzip, bzip2, xz or zstd, told by their
content; - for standard input) and finds Code Red I, Code Red II, Code Red
of unknown variant, the sadmind/IIS worm and Nimda probes, plus any
signatures given with --rules. The format is told line by line:
Apache/nginx common, combined and vhost_combined, IIS W3C extended (with or
without its #Fields header), the comma-separated IIS format of 2001,
syslog-relayed lines, and any line holding a request line.

It prints a summary per family and per signature, the top sources and /16
blocks, and writes the observed series, one per family (--series), every
source (--sources) and a full JSON report (--json).

Files that cannot be read, or whose lines are mostly unparsable, are
reported and the others still processed; the exit status is then 2.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if c.follow {
				return runFollow(cmd, args, c)
			}
			return runDetect(cmd, args, c)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&c.bin, "bin", detect.DefaultBin, "bin width of the observed series (whole minutes)")
	outputFlag(f, &c.series, "series", "", "write the observed series (minute,utc,probes,sources,new_sources,family) to `file`, one per family: file itself when --family names one, else file with the family before its extension (s.csv gives s.codered2.csv, ...)")
	outputFlag(f, &c.json, "json", "", "write the full report as JSON to this `file` (- for standard output)")
	outputFlag(f, &c.sources, "sources", "", "write every source as CSV (source,families,signatures,probes,first_seen,last_seen[,country]) to this `file`, e.g. for a blocklist")
	f.StringSliceVar(&c.families, "family", nil, "count only these `families` (comma-separated, e.g. codered2,nimda); the others are left out of the tables and series")
	f.StringVar(&c.rules, "rules", "", "TOML `file` of extra signatures, tried after the built-in ones (a same-named one replaces a built-in)")
	f.StringVar(&c.country, "country", "", "map sources to countries with this `file`: tor-geoipdb ranges (FROM,TO,CC; e.g. /usr/share/tor/geoip) or a MaxMind DB (.mmdb)")
	f.IntVar(&c.top, "top", 10, "length of the top-sources and top-/16 lists")
	f.StringVar(&c.format, "format", "", "read every line in this format (common, combined, vhost_combined, iis-w3c, iis-comma, fallback) instead of telling it line by line")
	f.IntVar(&c.maxLine, "max-line", 0, "longest line kept whole, in bytes; longer ones are cut and counted (default 64 KiB)")
	f.IntVar(&c.show, "show", 5, "unparsable lines to quote")
	f.BoolVar(&c.allowUnparsable, "allow-unparsable", false, "count what parses in a file whose lines are mostly unparsable, instead of failing it")
	f.BoolVar(&c.follow, "follow", false, "follow one growing plain log (rotation-aware, like tail -F) and print a line per bin as each bin ends")
	f.DurationVar(&c.poll, "poll", 250*time.Millisecond, "with --follow: how often to look for new lines and rotation")
	markInput(f, "rules", "country")
	mustBePositive(f, "bin", "a width of at least 1m, in whole minutes")
	mustBePositive(f, "max-line", "a length of at least 1 byte (without the flag: 64 KiB)")
	mustBePositive(f, "top", "at least 1")
	inputArgs(cmd)
	return cmd
}

// detectRunConfig turns the flags into the detector's configuration.
func detectRunConfig(cmd *cobra.Command, c detectConfig) (detect.Config, error) {
	cfg := detect.Config{
		Bin:             c.bin,
		Top:             c.top,
		Format:          c.format,
		MaxLine:         c.maxLine,
		Show:            c.show,
		Stdin:           cmd.InOrStdin(),
		Rules:           signature.Builtin(),
		Families:        c.families,
		AllowUnparsable: c.allowUnparsable,
	}
	if c.show == 0 {
		cfg.Show = -1
	}
	if c.top <= 0 {
		return cfg, fmt.Errorf("--top %d: want at least 1", c.top)
	}
	if c.rules != "" {
		user, err := signature.Load(c.rules)
		if err != nil {
			return cfg, err
		}
		cfg.Rules = cfg.Rules.With(user)
	}
	if c.country != "" {
		db, err := geoip.OpenAny(c.country)
		if err != nil {
			return cfg, err
		}
		cfg.Country = db.Country
	}
	if c.series == "-" && len(c.families) != 1 {
		return cfg, errors.New("--series -: standard output holds one series; name one --family")
	}
	return cfg, nil
}

func runDetect(cmd *cobra.Command, files []string, c detectConfig) error {
	cfg, err := detectRunConfig(cmd, c)
	if err != nil {
		return inputError(err)
	}
	rep, runErr := stoppable(cmd.Context(), func() (*detect.Report, error) { return detect.Run(cmd.Context(), files, cfg) })
	if rep == nil {
		if cmd.Context().Err() != nil {
			return runErr
		}
		return inputError(runErr)
	}
	if c.series != "" {
		if err := writeFamilySeries(cmd, c.series, c.families, rep); err != nil {
			return err
		}
	}
	if err := writeOutput(cmd, c.sources, rep.WriteSources); err != nil {
		return err
	}
	if err := writeOutput(cmd, c.json, rep.WriteJSON); err != nil {
		return err
	}
	// The summary goes last, so that a closed terminal pipe cannot cost
	// the files.
	if err := rep.WriteText(cmd.OutOrStdout()); err != nil {
		return err
	}
	var fe *detect.FileError
	if errors.As(runErr, &fe) {
		return inputError(runErr)
	}
	return runErr
}

// writeFamilySeries writes one series per family: to path itself when
// --family names one family, else to path with the family's name before
// its extension, for each family with timed probes. A series file never
// holds two worms, so `wormlab fit` cannot mix them unknowingly.
func writeFamilySeries(cmd *cobra.Command, path string, families []string, rep *detect.Report) error {
	for _, fs := range rep.FamilySeries {
		name := path
		if len(families) != 1 {
			ext := filepath.Ext(path)
			name = strings.TrimSuffix(path, ext) + "." + fs.Family + ext
		}
		s, _ := rep.FamilyObserved(fs.Family)
		if err := writeOutput(cmd, name, func(w io.Writer) error { return series.Write(w, s) }); err != nil {
			return err
		}
	}
	return nil
}

func runFollow(cmd *cobra.Command, files []string, c detectConfig) error {
	if len(files) != 1 || files[0] == "-" {
		return inputError(errors.New("--follow reads one named file"))
	}
	if c.series != "" || c.json != "" || c.sources != "" {
		return inputError(errors.New("--follow prints a line per bin; --series, --json and --sources are for whole files"))
	}
	cfg, err := detectRunConfig(cmd, c)
	if err != nil {
		return inputError(err)
	}
	err = detect.Follow(cmd.Context(), files[0], cfg, detect.FollowOptions{Poll: c.poll}, cmd.OutOrStdout())
	if cmd.Context().Err() != nil {
		return nil // Ctrl-C is how a follow ends
	}
	var fe *detect.FileError
	if errors.As(err, &fe) {
		return inputError(err)
	}
	return err
}
