// Package detect finds worm probes in web-server access logs and turns them
// into a report: counts per signature, the sources and /16 blocks they came
// from, and the observed series that wormlab fit reads. It ties together
// reading (logread), line formats (logformat) and the shared matcher
// (signature); each input streams through in constant memory apart from the
// sets of sources seen.
package detect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/wormlab/wormlab/internal/logformat"
	"github.com/wormlab/wormlab/internal/logread"
	"github.com/wormlab/wormlab/internal/signature"
)

// Config says how to run a detection. The zero value is usable: built-in
// signatures, 10-minute bins, top 10 lists, no countries.
type Config struct {
	Rules   *signature.Set            // nil means signature.Builtin()
	Bin     time.Duration             // series bin width; a whole number of minutes; 0 means DefaultBin
	Top     int                       // length of the top-sources and top-/16 lists; 0 means 10
	Country func(a netip.Addr) string // country of a source; nil for no country column
	MaxLine int                       // longest line kept whole; 0 means logread.DefaultMaxLine
	Show    int                       // unparsable lines quoted in the report; 0 means 5, negative none
	Stdin   io.Reader                 // read for the file name "-"
	Format  string                    // force a format (logformat names); "" sniffs each file
}

// DefaultBin is the series bin width when Config.Bin is zero: fine enough
// for a growth rate of about 1.8 an hour (Code Red v2 on 19 July 2001) to
// show over several bins per e-folding, coarse enough that a small site's
// log has probes in most bins.
const DefaultBin = 10 * time.Minute

// FileError is a problem with one input. Detection goes on with the other
// inputs, and the report keeps what was read before the problem.
type FileError struct {
	File string
	Err  error
}

func (e *FileError) Error() string {
	// os.Open's errors already name the file.
	if msg := e.Err.Error(); strings.Contains(msg, e.File) {
		return msg
	}
	return e.File + ": " + e.Err.Error()
}
func (e *FileError) Unwrap() error { return e.Err }

// Run reads each named input ("-" is Config.Stdin) in turn and returns the
// report over all of them. Inputs may come in any order: every figure is a
// count, a set or a minimum/maximum over time stamps, so the order of files
// changes only the order of Report.Inputs and which unparsable lines are
// quoted first. A missing file, an unreadable or truncated
// gzip, or a read error is returned as a *FileError (joined with errors.Join
// when there are several) alongside a report of everything that was read.
// Run stops early, with ctx's error, if ctx is cancelled.
func Run(ctx context.Context, names []string, cfg Config) (*Report, error) {
	if cfg.Rules == nil {
		cfg.Rules = signature.Builtin()
	}
	if cfg.Bin == 0 {
		cfg.Bin = DefaultBin
	}
	if cfg.Bin < time.Minute || cfg.Bin%time.Minute != 0 {
		return nil, fmt.Errorf("bin width %v: want a whole number of minutes", cfg.Bin)
	}
	if cfg.Top == 0 {
		cfg.Top = 10
	}
	if cfg.Show == 0 {
		cfg.Show = 5
	}
	if cfg.Format != "" && logformat.New(cfg.Format) == nil {
		return nil, fmt.Errorf("unknown format %q", cfg.Format)
	}
	agg := newAggregate(cfg)
	var errs []error
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		in, err := agg.file(ctx, name)
		agg.inputs = append(agg.inputs, in)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			errs = append(errs, &FileError{name, err})
		}
	}
	return agg.report(), errors.Join(errs...)
}

// ctxCheckLines is how often the line loop looks at the context: often
// enough to stop within a few milliseconds, rarely enough to cost nothing.
const ctxCheckLines = 1 << 16

// file runs one input through the aggregate and returns its summary.
func (a *aggregate) file(ctx context.Context, name string) (Input, error) {
	in := Input{Name: name}
	f, err := logread.Open(name, a.cfg.Stdin, a.cfg.MaxLine)
	if err != nil {
		in.Error = err.Error()
		return in, err
	}
	defer f.Close()
	in.Compression = f.Compression

	// Sniff the format from the first lines, which are kept and replayed.
	format := a.cfg.Format
	var head [][]byte
	if format == "" {
		for len(head) < logformat.SniffLines {
			line, ok := f.Next()
			if !ok {
				break
			}
			head = append(head, append([]byte(nil), line...))
		}
		format = logformat.Sniff(head)
	}
	in.Format = format
	p := logformat.New(format)

	var rec logformat.Record
	lineNo := int64(0)
	handle := func(line []byte) {
		lineNo++
		in.Lines++
		switch p.Parse(line, &rec) {
		case logformat.Skip:
			return
		case logformat.Bad:
			in.Unparsable++
			a.bad(name, lineNo, p.Why(), line)
			return
		}
		in.Requests++
		if rec.HasTime {
			if !in.hasTime || rec.Time < in.first {
				in.first = rec.Time
			}
			if !in.hasTime || rec.Time > in.last {
				in.last = rec.Time
			}
			in.hasTime = true
		}
		sig, ok := a.rules.Match(signature.Request{Path: rec.Path, Query: rec.Query, URI: rec.URI})
		if !ok {
			return
		}
		in.Probes++
		a.probe(sig, &rec)
	}
	for _, line := range head {
		handle(line)
	}
	for {
		line, ok := f.Next()
		if !ok {
			break
		}
		handle(line)
		if lineNo%ctxCheckLines == 0 && ctx.Err() != nil {
			return in, ctx.Err()
		}
	}
	in.TooLong = f.TooLong()
	in.Bytes = f.Bytes()
	in.finish()
	if err := f.Err(); err != nil {
		// Say which line was the last good one: the decoders know
		// bytes, the reader lines.
		err = fmt.Errorf("%w; %d lines (%d bytes) read before it", err, in.Lines, in.Bytes)
		in.Error = err.Error()
		return in, err
	}
	return in, nil
}
