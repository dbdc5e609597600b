// Package logread reads log files line by line with a bound on line length,
// so that binary junk or a line of megabytes costs a count, not memory. It
// opens plain files and standard input, decompressing gzip, bzip2, xz and
// zstd told by their magic bytes, not their name. Lines end in "\n" (an
// optional "\r" before it is dropped) or, in a file with no "\n" at all in
// its first buffer, in a lone "\r", as classic Mac OS wrote them.
package logread

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// DefaultMaxLine is the longest line kept whole. Code Red's request line is
// about 380 bytes and a combined-format line with a long user agent rarely
// passes 2 KiB; 64 KiB leaves room for the longest real requests.
const DefaultMaxLine = 64 << 10

// bufSize is the read buffer for the default bound. Lines are returned as
// slices of it, so it must hold two of the longest kept line. 256 KiB
// stays in a core's L2 cache while the kernel copies into it and the
// parser reads it back: 1 MiB cost about 11% more CPU on a 1 GiB log
// (docs/PERFORMANCE.md, Detect), and shorter reads only add system calls.
const bufSize = 256 << 10

// Reader returns the lines of a stream one at a time. Each line has its
// trailing "\n" and "\r" removed. A line longer than MaxLine is cut to
// MaxLine bytes, the rest of it is skipped, and Truncated says so.
type Reader struct {
	src     io.Reader
	buf     []byte
	start   int   // first unread byte in buf
	end     int   // end of valid data in buf
	eof     bool  // src is exhausted
	err     error // first read error other than io.EOF
	line    int64
	maxLine int

	truncated bool  // the current line was cut
	nTooLong  int64 // lines cut so far
	nBytes    int64 // bytes consumed from src (decompressed)

	sep      byte // line end: '\n', or '\r' for CR-only files; 0 until known
	holdBack int  // bytes kept back from the end of buf until more arrive (see SetHoldBack)
	maxBuf   int  // the size buf may grow to while holding back
}

// holdBack is how much decompressed output the Reader keeps back from a
// compressed stream of each kind, so that it can drop what a damaged
// stream decoded before the decoder noticed: damage can decode to
// plausible garbage, and the garbage to false probes. A gzip member is
// checked only by its CRC-32 at its end, and random bits can decode
// without error to the end of the member (a deflate code is complete, so
// every bit pattern is some symbol), so gzip output is held back until
// its member checks out, up to 16 MiB (a longer member is held back by
// its last 16 MiB only: more would cost memory for every
// gzip read). zstd checks each block of at most 128 KiB, xz its
// blocks, and bzip2 each block of up to 900 kB at its end.
var holdBack = map[string]int{Gzip: 16 << 20, Zstd: 256 << 10, XZ: 256 << 10, Bzip2: 1 << 20}

// NewReader returns a Reader on r that keeps lines up to maxLine bytes
// (DefaultMaxLine if maxLine <= 0).
func NewReader(r io.Reader, maxLine int) *Reader {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	// Sixteen lines' worth, at most bufSize, and never less than two
	// lines, which Next needs; a small bound (as in fuzzing) gets a small
	// buffer.
	size := max(min(16*maxLine, bufSize), 2*maxLine)
	return &Reader{src: r, buf: make([]byte, size), maxLine: maxLine}
}

// SetHoldBack makes the Reader return a line only once n more bytes have
// been read after it, or the stream has ended cleanly; when the stream
// ends with a *CorruptError, the bytes held back are dropped and counted
// in it. Call it before the first Next.
func (r *Reader) SetHoldBack(n int) {
	r.holdBack = n
	// The buffer grows to hold what is held back only when a stream
	// needs it: a short gzip file never allocates 16 MiB.
	r.maxBuf = 2*n + len(r.buf)
}

// decideSep chooses the line end from the first buffer: '\n' if it holds
// one, else '\r' if it holds one, else '\n'. It reads until it can tell.
func (r *Reader) decideSep() {
	for {
		data := r.buf[r.start:r.end]
		switch {
		case bytes.IndexByte(data, '\n') >= 0:
			r.sep = '\n'
		case !r.eof && r.end < len(r.buf):
			r.read()
			continue
		case bytes.IndexByte(data, '\r') >= 0:
			r.sep = '\r'
		default:
			r.sep = '\n'
		}
		return
	}
}

// Next returns the next line and true, or nil and false at the end of the
// stream or on a read error (see Err). The line is valid only until the
// following call to Next.
func (r *Reader) Next() ([]byte, bool) {
	r.truncated = false
	if r.sep == 0 {
		r.decideSep()
	}
	for {
		avail := r.limit()
		if i := bytes.IndexByte(r.buf[r.start:avail], r.sep); i >= 0 {
			line := r.buf[r.start : r.start+i]
			r.start += i + 1
			if i > r.maxLine {
				r.truncated = true
				r.nTooLong++
				line = line[:r.maxLine]
			}
			return r.finish(line), true
		}
		if avail-r.start > r.maxLine {
			return r.finish(r.skipLong()), true
		}
		if r.eof {
			var ce *CorruptError
			if r.holdBack > 0 && errors.As(r.err, &ce) {
				// What is left is suspect: drop it.
				ce.Dropped += int64(r.end - r.start)
				r.start = r.end
				return nil, false
			}
			if r.start < r.end {
				line := r.buf[r.start:r.end]
				r.start = r.end
				return r.finish(line), true
			}
			return nil, false
		}
		r.makeRoom()
		r.read()
	}
}

// makeRoom leaves room at the end of buf to read into. Without hold-back
// it moves the partial line left (at most maxLine long, and buf holds two
// of those) to the front. With hold-back the bytes left can be megabytes,
// so the buffer first grows, to twice the hold-back, and they are moved
// only once the front half of the buffer is consumed: each byte is moved
// about once, not once per read.
func (r *Reader) makeRoom() {
	if r.holdBack == 0 {
		if r.start > 0 {
			r.end = copy(r.buf, r.buf[r.start:r.end])
			r.start = 0
		}
		return
	}
	if r.end < len(r.buf) {
		return
	}
	if len(r.buf) < r.maxBuf && r.start < len(r.buf)/2 {
		r.buf = append(r.buf, make([]byte, min(len(r.buf), r.maxBuf-len(r.buf)))...)
		return
	}
	r.end = copy(r.buf, r.buf[r.start:r.end])
	r.start = 0
}

// verifier is a decoder that knows how much of its output has passed a
// checksum: gzip, at the end of each member.
type verifier interface{ Verified() int64 }

// corruptWindow is what the Reader drops before a decoding error (not a
// checksum failure): deflate fails within a few kilobytes of compressed
// data after damage (TestGzipMessages overwrites 4 KiB and sees the error
// within 1.5 KB of its start, a few kilobytes of output).
const corruptWindow = 64 << 10

// limit returns the end of the bytes in buf that may be returned as lines:
// all of them from a plain stream or one that ended cleanly; otherwise
// those that are holdBack behind the end or checked by the decoder's
// checksum, and after a decoding error those not within corruptWindow of
// it, or, after a checksum failure, only those checked.
func (r *Reader) limit() int {
	if r.holdBack == 0 || (r.eof && r.err == nil) {
		return r.end
	}
	checked := -1
	if v, ok := r.src.(verifier); ok {
		checked = r.end - int(r.nBytes-v.Verified())
	}
	var ce *CorruptError
	switch {
	case !r.eof:
		return max(r.start, r.end-r.holdBack, checked)
	case errors.As(r.err, &ce) && ce.Checksum:
		return max(r.start, checked)
	case ce != nil:
		return max(r.start, r.end-corruptWindow, checked)
	}
	return r.end
}

func (r *Reader) finish(line []byte) []byte {
	r.line++
	if n := len(line); n > 0 && line[n-1] == '\r' && !r.truncated && r.sep == '\n' {
		line = line[:n-1]
	}
	return line
}

// skipLong returns the first maxLine bytes of an over-long line after
// consuming the rest of it up to its newline. The kept bytes go to the front
// of buf and whatever follows them is searched and discarded behind them.
func (r *Reader) skipLong() []byte {
	r.truncated = true
	r.nTooLong++
	keep := r.maxLine
	rest := r.end - r.start - keep
	copy(r.buf, r.buf[r.start:r.start+keep])
	copy(r.buf[keep:], r.buf[r.start+keep:r.end])
	r.start, r.end = keep, keep+rest
	for {
		if i := bytes.IndexByte(r.buf[r.start:r.end], r.sep); i >= 0 {
			r.start += i + 1
			break
		}
		if r.eof {
			r.start = r.end
			break
		}
		r.start, r.end = keep, keep
		r.read()
	}
	return r.buf[:keep:keep]
}

// read appends what the source gives to buf[end:], which is never empty.
func (r *Reader) read() {
	n, err := r.src.Read(r.buf[r.end:])
	r.end += n
	r.nBytes += int64(n)
	if err != nil {
		r.eof = true
		if err != io.EOF {
			r.err = err
		}
	}
}

// Line returns the 1-based number of the line last returned by Next.
func (r *Reader) Line() int64 { return r.line }

// Truncated reports whether the line last returned by Next was cut.
func (r *Reader) Truncated() bool { return r.truncated }

// TooLong returns how many lines have been cut so far.
func (r *Reader) TooLong() int64 { return r.nTooLong }

// Bytes returns how many bytes have been read from the stream so far,
// after decompression.
func (r *Reader) Bytes() int64 { return r.nBytes }

// Err returns the read error that ended the stream, or nil at a clean end.
// A compressed stream cut short gives a *TruncatedError (which wraps
// io.ErrUnexpectedEOF), and the lines before the cut have been returned;
// corrupt data gives a *CorruptError and junk after the last member a
// *TrailingDataError.
func (r *Reader) Err() error { return r.err }

// File is an opened input: a Reader plus what is needed to close it.
type File struct {
	*Reader
	Name        string // as given; "-" is standard input
	Compression string // Gzip, Bzip2, XZ, Zstd, or "" for plain text
	closers     []io.Closer
}

// Close closes the decoder and the underlying file (not standard input).
func (f *File) Close() error {
	var errs []error
	for i := len(f.closers) - 1; i >= 0; i-- {
		errs = append(errs, f.closers[i].Close())
	}
	return errors.Join(errs...)
}

// Open opens name ("-" for stdin) and returns a File reading its lines,
// decompressing what its magic bytes say is compressed (see Sniff). An
// empty file is not an error. A file that starts like a compressed one but
// whose header is unreadable is.
func Open(name string, stdin io.Reader, maxLine int) (*File, error) {
	f := &File{Name: name}
	var src io.Reader
	if name == "-" {
		src = stdin
	} else {
		fh, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		f.closers = append(f.closers, fh)
		src = fh
	}
	below := &byteCounter{r: src}
	br := bufio.NewReaderSize(below, 64<<10)
	magic, _ := br.Peek(6)
	if c := Sniff(magic); c != "" {
		zr, err := decoder(c, &countingReader{r: br, below: below})
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: unreadable %s: %w", name, c, err)
		}
		f.closers = append(f.closers, zr)
		f.Compression = c
		f.Reader = NewReader(zr, maxLine)
		f.Reader.SetHoldBack(holdBack[c])
		return f, nil
	}
	f.Reader = NewReader(br, maxLine)
	return f, nil
}
