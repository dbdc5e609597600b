package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/wormlab/wormlab/internal/atomicfile"
	"github.com/wormlab/wormlab/internal/detect"
	"github.com/wormlab/wormlab/internal/geoip"
	"github.com/wormlab/wormlab/internal/series"
	"github.com/wormlab/wormlab/internal/signature"
)

type detectConfig struct {
	bin     time.Duration
	series  string
	json    string
	rules   string
	country string
	top     int
	format  string
	maxLine int
	show    int
}

func newDetectCmd() *cobra.Command {
	var c detectConfig
	cmd := &cobra.Command{
		Use:   "detect FILE...",
		Short: "Find worm probes in web-server access logs",
		Long: `detect reads access logs (plain, gzip, or - for standard input; formats
told from the content: Apache/nginx common and combined, IIS W3C extended,
or any line holding a request line) and finds Code Red I, Code Red II,
Code Red of unknown variant and Nimda probes, plus any signatures given with
--rules. It prints a summary per signature, the top sources and /16 blocks,
and writes the observed series (--series) and a full JSON report (--json).

Files that cannot be read are reported and the others still processed; the
exit status is then 2.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDetect(cmd, args, c)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&c.bin, "bin", detect.DefaultBin, "bin width of the observed series (whole minutes)")
	f.StringVar(&c.series, "series", "", "write the observed series (minute,utc,probes,sources,new_sources) to this CSV `file`")
	f.StringVar(&c.json, "json", "", "write the full report as JSON to this `file`")
	f.StringVar(&c.rules, "rules", "", "TOML `file` of extra signatures, tried after the built-in ones (a same-named one replaces a built-in)")
	f.StringVar(&c.country, "country", "", "map sources to countries with this `file`: tor-geoipdb ranges (FROM,TO,CC; e.g. /usr/share/tor/geoip) or a MaxMind DB (.mmdb)")
	f.IntVar(&c.top, "top", 10, "length of the top-sources and top-/16 lists")
	f.StringVar(&c.format, "format", "", "force the log format (common, combined, vhost_combined, iis-w3c, fallback) instead of telling it from the content")
	f.IntVar(&c.maxLine, "max-line", 0, "longest line kept whole, in bytes; longer ones are cut and counted (default 64 KiB)")
	f.IntVar(&c.show, "show", 5, "unparsable lines to quote")
	return cmd
}

func runDetect(cmd *cobra.Command, files []string, c detectConfig) error {
	cfg := detect.Config{
		Bin:     c.bin,
		Top:     c.top,
		Format:  c.format,
		MaxLine: c.maxLine,
		Show:    c.show,
		Stdin:   cmd.InOrStdin(),
		Rules:   signature.Builtin(),
	}
	if c.show == 0 {
		cfg.Show = -1
	}
	if c.top <= 0 {
		return inputError(fmt.Errorf("--top %d: want at least 1", c.top))
	}
	if c.rules != "" {
		user, err := signature.Load(c.rules)
		if err != nil {
			return inputError(err)
		}
		cfg.Rules = cfg.Rules.With(user)
	}
	if c.country != "" {
		db, err := geoip.OpenAny(c.country)
		if err != nil {
			return inputError(err)
		}
		cfg.Country = db.Country
	}
	rep, runErr := detect.Run(cmd.Context(), files, cfg)
	if rep == nil {
		if cmd.Context().Err() != nil {
			return runErr
		}
		return inputError(runErr)
	}
	if c.series != "" {
		if err := atomicfile.Write(c.series, func(w io.Writer) error { return series.Write(w, rep.ObservedSeries()) }); err != nil {
			return err
		}
	}
	if c.json != "" {
		if err := atomicfile.Write(c.json, rep.WriteJSON); err != nil {
			return err
		}
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
