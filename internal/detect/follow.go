package detect

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wormlab/wormlab/internal/logformat"
	"github.com/wormlab/wormlab/internal/logread"
)

// FollowOptions says how Follow watches its file.
type FollowOptions struct {
	// Poll is how often to look for new lines and for rotation; 0 means
	// 250 ms.
	Poll time.Duration
	// Tick, if set, replaces the poll timer: Follow reads what is new
	// each time a value arrives. Tests drive it by hand.
	Tick <-chan time.Time
}

// Follow reads the plain log at path from its start, then keeps reading
// it as it grows, until ctx is done. It writes a line to out for each bin
// of log time as the bin ends, that is when a request of a later bin is
// read (a bin's figures are final only then), and the open bin, marked
// partial, when ctx ends:
//
//	2001-07-19T10:10:00Z requests=5210 probes=84 sources=61 new=12 codered1=20 codered2=64 nimda=0
//
// sources counts the distinct sources of the bin's probes and new those
// never seen before in the run; the family columns are the families
// counted (Config.Families). Bins without requests are not written. A line
// whose time falls in a bin already written counts in the open bin.
//
// Rotation is followed as tail -F does: when path names another file
// (logrotate's rename and create), the old file is read to its end and
// the new one from its start; when the file shrinks (copytruncate), it is
// read again from its start; while path is missing, the old file is kept.
// Compressed files cannot grow line by line and are refused.
func Follow(ctx context.Context, path string, cfg Config, opt FollowOptions, out io.Writer) error {
	a, err := newRun(cfg)
	if err != nil {
		return err
	}
	if opt.Poll <= 0 {
		opt.Poll = 250 * time.Millisecond
	}
	fw := &follower{a: a, path: path, out: out, opt: opt, maxLine: cfg.MaxLine}
	if fw.maxLine <= 0 {
		fw.maxLine = logread.DefaultMaxLine
	}
	fw.in = Input{Name: printable([]byte(path))}
	fw.s = a.newScanner(path, &fw.in)
	fw.s.onTime = fw.onTime
	fw.s.onProbe = fw.onProbe
	fw.famProbes = make([]int64, len(a.fams))
	fw.binSrc = map[uint64]struct{}{}
	if err := fw.open(); err != nil {
		return &FileError{path, err}
	}
	defer func() { fw.f.Close() }()
	var timer *time.Ticker
	tick := opt.Tick
	if tick == nil {
		timer = time.NewTicker(opt.Poll)
		defer timer.Stop()
		tick = timer.C
	}
	for {
		if err := fw.poll(); err != nil {
			fw.flush(true)
			return &FileError{path, err}
		}
		select {
		case <-ctx.Done():
			fw.flush(true)
			return ctx.Err()
		case <-tick:
		}
	}
}

// follower is Follow's state.
type follower struct {
	a       *aggregate
	s       *scanner
	in      Input
	path    string
	out     io.Writer
	opt     FollowOptions
	maxLine int

	f       *os.File
	info    os.FileInfo
	offset  int64
	buf     []byte // the partial last line, awaiting its newline
	skip    bool   // the partial line is over-long: drop until newline
	readBuf []byte

	// The open bin.
	bin       int64
	hasBin    bool
	requests  int64
	probes    int64
	famProbes []int64
	binSrc    map[uint64]struct{}
	newSrc    int64
}

func (fw *follower) open() error {
	f, err := os.Open(fw.path)
	if err != nil {
		return err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	var head [6]byte
	n, _ := io.ReadFull(f, head[:])
	if c := logread.Sniff(head[:n]); c != "" {
		f.Close()
		return fmt.Errorf("%s content: --follow reads plain logs, which grow line by line", c)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	if fw.f != nil {
		fw.f.Close()
	}
	fw.f, fw.info, fw.offset = f, info, 0
	fw.buf, fw.skip = fw.buf[:0], false
	return nil
}

// poll reads what the file holds past the last read, then looks for
// rotation.
func (fw *follower) poll() error {
	if err := fw.drain(); err != nil {
		return err
	}
	now, err := os.Stat(fw.path)
	switch {
	case err != nil:
		// Rotated away and not yet recreated: keep the old file.
		return nil
	case !os.SameFile(now, fw.info):
		if err := fw.drain(); err != nil {
			return err
		}
		fw.finishLine()
		if err := fw.open(); err != nil {
			return nil // try again at the next poll
		}
		return fw.drain()
	case now.Size() < fw.offset:
		// Truncated in place: start again.
		if _, err := fw.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		fw.offset = 0
		fw.buf, fw.skip = fw.buf[:0], false
		return fw.drain()
	}
	return nil
}

// drain reads to the current end of the file, handing each whole line to
// the scanner and keeping a partial last line for the next read.
func (fw *follower) drain() error {
	if fw.readBuf == nil {
		fw.readBuf = make([]byte, 256<<10)
	}
	for {
		n, err := fw.f.Read(fw.readBuf)
		fw.offset += int64(n)
		data := fw.readBuf[:n]
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				fw.keep(data)
				break
			}
			fw.keep(data[:i])
			fw.finishLine()
			data = data[i+1:]
		}
		if err == io.EOF || n == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// keep adds b to the partial line, up to the length bound.
func (fw *follower) keep(b []byte) {
	if fw.skip {
		return
	}
	if room := fw.maxLine - len(fw.buf); len(b) > room {
		fw.buf = append(fw.buf, b[:room]...)
		fw.skip = true
		fw.in.TooLong++
		return
	}
	fw.buf = append(fw.buf, b...)
}

// finishLine hands the partial line, now whole, to the scanner.
func (fw *follower) finishLine() {
	if len(fw.buf) == 0 && !fw.skip {
		return
	}
	line := bytes.TrimSuffix(fw.buf, []byte{'\r'})
	fw.s.line(line)
	fw.buf, fw.skip = fw.buf[:0], false
}

// onTime closes the open bin when a request of a later bin arrives.
func (fw *follower) onTime(t int64) {
	bin := floorDiv(t, fw.a.binSecs)
	if !fw.hasBin {
		fw.bin, fw.hasBin = bin, true
	}
	if bin > fw.bin {
		fw.flush(false)
		fw.bin = bin
	}
	fw.requests++
}

func (fw *follower) onProbe(sig int, src *srcRec, rec *logformat.Record) {
	fw.probes++
	fw.famProbes[fw.a.sigs[sig].fam]++
	if src != nil {
		fw.binSrc[src.id()] = struct{}{}
		if src.probes == 1 {
			fw.newSrc++
		}
	}
}

// flush writes the open bin's line and empties it.
func (fw *follower) flush(partial bool) {
	if !fw.hasBin || fw.requests == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s requests=%d probes=%d sources=%d new=%d", stamp(fw.bin*fw.a.binSecs), fw.requests, fw.probes, len(fw.binSrc), fw.newSrc)
	for j, f := range fw.a.fams {
		if fw.a.famKept(j) {
			fmt.Fprintf(&b, " %s=%d", f.name, fw.famProbes[j])
		}
	}
	if partial {
		b.WriteString(" (partial)")
	}
	b.WriteByte('\n')
	io.WriteString(fw.out, b.String())
	fw.requests, fw.probes, fw.newSrc = 0, 0, 0
	clear(fw.famProbes)
	clear(fw.binSrc)
}

// famKept reports whether family j was asked for.
func (a *aggregate) famKept(j int) bool {
	for i, sa := range a.sigs {
		if sa.fam == j && a.keep[i] {
			return true
		}
	}
	return false
}
