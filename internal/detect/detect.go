// Package detect finds worm probes in web-server access logs and turns them
// into a report: counts per signature and per family, the sources and /16
// blocks they came from, and the observed series that wormlab fit reads,
// one per family. It ties together reading (logread), line formats
// (logformat) and the shared matcher (signature); each input streams
// through in constant memory apart from the sets of sources seen.
package detect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"strings"
	"time"

	"github.com/wormlab/wormlab/internal/logformat"
	"github.com/wormlab/wormlab/internal/logread"
	"github.com/wormlab/wormlab/internal/signature"
)

// Config says how to run a detection. The zero value is usable: built-in
// signatures, every family, 10-minute bins, top 10 lists, no countries,
// the format told line by line.
type Config struct {
	Rules    *signature.Set            // nil means signature.Builtin()
	Families []string                  // families to count; nil for all
	Bin      time.Duration             // series bin width; a whole number of minutes; 0 means DefaultBin
	Top      int                       // length of the top-sources and top-/16 lists; 0 means 10
	Country  func(a netip.Addr) string // country of a source; nil for no country column
	MaxLine  int                       // longest line kept whole; 0 means logread.DefaultMaxLine
	Show     int                       // unparsable lines quoted in the report; 0 means 5, negative none
	Stdin    io.Reader                 // read for the file name "-"
	Format   string                    // force a format (logformat names); "" or "auto" tells it line by line

	// AllowUnparsable accepts an input whose lines are mostly unparsable;
	// without it such an input is an error (see UnparsableError).
	AllowUnparsable bool
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
		return printable([]byte(msg))
	}
	return printable([]byte(e.File + ": " + e.Err.Error()))
}
func (e *FileError) Unwrap() error { return e.Err }

// UnparsableError is an input most of whose lines no format reads: random
// bytes, a binary file, a forced --format that is wrong. Counting the few
// lines that do parse would report a silent near-zero, so the input is an
// error unless Config.AllowUnparsable is set.
type UnparsableError struct {
	Unparsable, Lines int64
	First             int64 // line number of the first unparsable line
	Why               string
}

func (e *UnparsableError) Error() string {
	return fmt.Sprintf("%d of %d lines are unparsable (first at line %d: %s); is this an access log? (--allow-unparsable counts what parses)", e.Unparsable, e.Lines, e.First, e.Why)
}

// mostlyUnparsable reports whether an input's unparsable lines are more
// than half of those that are not blank or directives.
func (in *Input) mostlyUnparsable() bool {
	return in.Unparsable > 0 && 2*in.Unparsable > in.Requests+in.Unparsable
}

// Run reads each named input ("-" is Config.Stdin) in turn and returns the
// report over all of them. Inputs may come in any order: every figure is a
// count, a set or a minimum/maximum over time stamps, so the order of files
// changes only the order of Report.Inputs and which unparsable lines are
// quoted first. A missing file, an unreadable, truncated or corrupt
// compressed file, a mostly unparsable one, or a read error is returned as
// a *FileError (joined with errors.Join when there are several) alongside
// a report of everything that was read. Run stops early, with ctx's error,
// if ctx is cancelled.
func Run(ctx context.Context, names []string, cfg Config) (*Report, error) {
	a, err := newRun(cfg)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		in, err := a.file(ctx, name)
		a.inputs = append(a.inputs, in)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			errs = append(errs, &FileError{name, err})
		}
	}
	return a.report(), errors.Join(errs...)
}

// newRun checks cfg, fills in its defaults and returns an empty aggregate.
func newRun(cfg Config) (*aggregate, error) {
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
	if cfg.Format == "" {
		cfg.Format = logformat.Auto
	}
	if logformat.New(cfg.Format) == nil {
		return nil, fmt.Errorf("unknown format %q (want one of %s)", cfg.Format, strings.Join(logformat.Names, ", "))
	}
	return newAggregate(cfg)
}

// ctxCheckLines is how often the line loop looks at the context: often
// enough to stop within a few milliseconds, rarely enough to cost nothing.
const ctxCheckLines = 1 << 16

// scanner runs the lines of one input through the aggregate.
type scanner struct {
	a      *aggregate
	name   string
	in     *Input
	p      logformat.Parser
	rec    logformat.Record
	lineNo int64
	first  int64 // first unparsable line
	why    string

	// onProbe, if set, is called for each probe counted, with its
	// signature index and its source's record, nil if none (follow
	// mode's per-bin figures). The record is valid until the next line.
	onProbe func(sig int, src *srcRec, rec *logformat.Record)
	// onTime, if set, is called with each request's time before it is
	// counted (follow mode closes bins on it).
	onTime func(t int64)
}

func (a *aggregate) newScanner(name string, in *Input) *scanner {
	return &scanner{a: a, name: name, in: in, p: logformat.New(a.cfg.Format)}
}

// line handles one line.
func (s *scanner) line(line []byte) {
	s.lineNo++
	in := s.in
	in.Lines++
	switch s.p.Parse(line, &s.rec) {
	case logformat.Skip:
		return
	case logformat.Bad:
		in.Unparsable++
		if in.Unparsable == 1 {
			s.first, s.why = s.lineNo, s.p.Why()
		}
		s.a.bad(s.name, s.lineNo, s.p.Why(), line)
		return
	}
	rec := &s.rec
	in.Requests++
	if rec.HasTime {
		if !in.hasTime || rec.Time < in.first {
			in.first = rec.Time
		}
		if !in.hasTime || rec.Time > in.last {
			in.last = rec.Time
		}
		in.hasTime = true
		if s.onTime != nil {
			s.onTime(rec.Time)
		}
	}
	sig, ok := s.a.rules.Match(signature.Request{Path: rec.Path, Query: rec.Query, URI: rec.URI, Time: rec.Time, HasTime: rec.HasTime})
	if !ok {
		return
	}
	i := s.a.sigIndex[sig]
	if !s.a.keep[i] {
		s.a.excluded++
		return
	}
	in.Probes++
	src := s.a.probe(i, rec)
	if s.onProbe != nil {
		s.onProbe(i, src, rec)
	}
}

// finish records the format counts and checks the share of unparsable
// lines.
func (s *scanner) finish() error {
	in := s.in
	if c, ok := s.p.(logformat.Counter); ok {
		in.Formats = map[string]int64{}
		for f, n := range c.Formats() {
			in.Formats[f] = n
		}
		// A combined log's lines cut before the referer read as common:
		// one format, not two.
		if n, ok := in.Formats[logformat.Common]; ok && in.Formats[logformat.Combined] > 0 {
			in.Formats[logformat.Combined] += n
			delete(in.Formats, logformat.Common)
		}
		var best int64
		for f, n := range in.Formats {
			if n > best || (n == best && f < in.Format) {
				in.Format, best = f, n
			}
		}
		if len(in.Formats) < 2 {
			in.Formats = nil
		}
	} else {
		in.Format = s.p.Format()
	}
	in.finish()
	if !s.a.cfg.AllowUnparsable && in.mostlyUnparsable() {
		return &UnparsableError{Unparsable: in.Unparsable, Lines: in.Requests + in.Unparsable, First: s.first, Why: s.why}
	}
	return nil
}

// file runs one input through the aggregate and returns its summary.
func (a *aggregate) file(ctx context.Context, name string) (Input, error) {
	in := Input{Name: printable([]byte(name))}
	f, err := logread.Open(name, a.cfg.Stdin, a.cfg.MaxLine)
	if err != nil {
		// The table's row already names the file: say only why it failed,
		// not the operation and path the library puts in front.
		reason := err
		var pe *fs.PathError
		if errors.As(err, &pe) {
			reason = pe.Err
		}
		in.Error = printable([]byte(reason.Error()))
		return in, err
	}
	defer f.Close()
	in.Compression = f.Compression
	s := a.newScanner(name, &in)
	for {
		line, ok := f.Next()
		if !ok {
			break
		}
		s.line(line)
		if s.lineNo%ctxCheckLines == 0 && ctx.Err() != nil {
			return in, ctx.Err()
		}
	}
	in.TooLong = f.TooLong()
	in.Bytes = f.Bytes()
	checkErr := s.finish()
	if err := f.Err(); err != nil {
		// Say which line was the last good one: the decoders know
		// bytes, the reader lines.
		err = fmt.Errorf("%w; %d lines counted before it", err, in.Lines)
		in.Error = printable([]byte(err.Error()))
		return in, err
	}
	if checkErr != nil {
		in.Error = checkErr.Error()
		return in, checkErr
	}
	return in, nil
}
