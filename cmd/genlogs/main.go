// Command genlogs writes a synthetic access log with known worm probes for
// wormlab's detector tests and benchmarks, and a JSON manifest of what it
// holds. A name ending in .gz is gzip-compressed.
//
//	go run ./cmd/genlogs -format combined -lines 100000 -probes codered1=500,codered2=300 -o access.log -manifest counts.json
package main

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wormlab/wormlab/internal/atomicfile"
	"github.com/wormlab/wormlab/internal/logsynth"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "genlogs:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("genlogs", flag.ContinueOnError)
	var (
		cfg      logsynth.Config
		start    = fs.String("start", "2001-07-19T10:00:00Z", "time of the first line (RFC 3339)")
		probes   = fs.String("probes", "", "probes per kind, e.g. codered1=100,nimda-cmd-exe=20 (kinds: "+strings.Join(logsynth.Kinds, ", ")+")")
		share    = fs.Float64("share", 0, "instead of -probes: this fraction of the lines are probes, split evenly over the kinds")
		sources  = fs.String("sources", "", "pool size per kind, e.g. codered1=500 (default 50 each)")
		out      = fs.String("o", "-", "output file; .gz compresses")
		manifest = fs.String("manifest", "", "write the counts as JSON to this file")
	)
	fs.StringVar(&cfg.Format, "format", logsynth.Combined, "combined, common, iis-w3c, iis-stripped or fallback")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "random seed")
	fs.DurationVar(&cfg.Duration, "duration", 14*time.Hour, "time from the first line to the last")
	fs.IntVar(&cfg.Lines, "lines", 10000, "request lines, probes included")
	fs.IntVar(&cfg.Zone, "zone", 0, "minutes east of UTC for common and combined time stamps")
	fs.IntVar(&cfg.Junk, "junk", 0, "extra lines of binary junk")
	fs.IntVar(&cfg.Long, "long", 0, "extra over-long lines")
	fs.IntVar(&cfg.LongLen, "long-len", 100<<10, "length of each over-long line's query")
	fs.Float64Var(&cfg.Growth, "growth", 0, "logistic growth rate per hour of the outbreak (e.g. 1.8); 0 spreads probes evenly")
	fs.DurationVar(&cfg.Midpoint, "midpoint", 0, "with -growth: time from -start at which half the pool is infected (default half of -duration)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if cfg.Start, err = time.Parse(time.RFC3339, *start); err != nil {
		return fmt.Errorf("-start: %w", err)
	}
	if cfg.Probes, err = kindCounts(*probes); err != nil {
		return fmt.Errorf("-probes: %w", err)
	}
	if *share > 0 {
		n := int(*share * float64(cfg.Lines))
		cfg.Probes = map[string]int{}
		for i, k := range logsynth.Kinds {
			cfg.Probes[k] = n / len(logsynth.Kinds)
			if i < n%len(logsynth.Kinds) {
				cfg.Probes[k]++
			}
		}
	}
	if cfg.Sources, err = kindCounts(*sources); err != nil {
		return fmt.Errorf("-sources: %w", err)
	}
	var counts logsynth.Counts
	write := func(w io.Writer) error {
		if strings.HasSuffix(*out, ".gz") {
			zw := gzip.NewWriter(w)
			if counts, err = logsynth.Generate(zw, cfg); err != nil {
				return err
			}
			return zw.Close()
		}
		counts, err = logsynth.Generate(w, cfg)
		return err
	}
	if *out == "-" {
		err = write(os.Stdout)
	} else {
		err = atomicfile.Write(*out, write)
	}
	if err != nil {
		return err
	}
	if *manifest != "" {
		return atomicfile.Write(*manifest, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(counts)
		})
	}
	return nil
}

func kindCounts(s string) (map[string]int, error) {
	m := map[string]int{}
	if s == "" {
		return m, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("%q: want kind=count", kv)
		}
		m[strings.TrimSpace(k)] = n
	}
	return m, nil
}
