package logread

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compression names, as File.Compression gives them.
const (
	Gzip  = "gzip"
	Bzip2 = "bzip2"
	XZ    = "xz"
	Zstd  = "zstd"
)

// magics are the signatures that open each compressed format: gzip (RFC
// 1952 section 2.3.1), bzip2 ("BZh" and the block size digit), xz (the
// stream header magic of the .xz file format 1.1.0, section 2.1.1.1) and
// zstd (RFC 8878 section 3.1.1). A plain log never starts with any of
// them: each holds a byte that is not printable text.
var magics = []struct {
	name  string
	magic []byte
}{
	{Gzip, []byte{0x1f, 0x8b}},
	{Bzip2, []byte("BZh")},
	{XZ, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}},
	{Zstd, []byte{0x28, 0xb5, 0x2f, 0xfd}},
}

// Sniff returns the compression whose magic bytes open head, or "".
// "BZh" must be followed by a block size digit 1-9 to count, so that a
// text file starting with "BZh" is read as text.
func Sniff(head []byte) string {
	for _, m := range magics {
		if !bytes.HasPrefix(head, m.magic) {
			continue
		}
		if m.name == Bzip2 && (len(head) < 4 || head[3] < '1' || head[3] > '9') {
			continue
		}
		return m.name
	}
	return ""
}

// byteCounter counts the bytes read from the file, under its bufio.Reader.
type byteCounter struct {
	r io.Reader
	n int64
}

func (c *byteCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// countingReader is the buffered compressed input and where in the file
// the decoder is, for errors: the bytes read from the file less those
// still buffered. The decoders read the bufio.Reader itself, an
// io.ByteReader, so compress/flate takes its bytes without another layer.
type countingReader struct {
	r     *bufio.Reader
	below *byteCounter
}

func (c *countingReader) offset() int64 { return c.below.n - int64(c.r.Buffered()) }

// CorruptError is compressed data that does not decode. The decompressed
// bytes just before it are suspect (a damaged stream can decode to
// garbage for a while before the decoder notices), so the Reader drops
// what it holds back (see holdBack) rather than return it as lines.
type CorruptError struct {
	Compression string
	Offset      int64 // compressed bytes taken by the decoder when it failed
	Dropped     int64 // decompressed bytes held back and dropped
	Err         error

	// Checksum is set when the data decoded but the member's CRC-32 did
	// not match: the damage is somewhere in the member that starts at
	// byte Member; the lines decoded from it have been returned but for
	// the held-back end.
	Checksum bool
	Member   int64
}

func (e *CorruptError) Error() string {
	if e.Checksum {
		return fmt.Sprintf("corrupt %s member (bytes %d to %d): it decoded but fails its checksum, so the %d decompressed bytes held back from it were dropped (a member longer than that may hold damage in the lines before)", e.Compression, e.Member, e.Offset, e.Dropped)
	}
	msg := fmt.Sprintf("corrupt %s data near byte %d: %v", e.Compression, e.Offset, e.Err)
	if e.Dropped > 0 {
		msg += fmt.Sprintf(" (the %d decompressed bytes before it were dropped as suspect)", e.Dropped)
	}
	return msg
}
func (e *CorruptError) Unwrap() error { return e.Err }

// TruncatedError is a compressed stream that ends in the middle. Everything
// decoded before the cut is good and has been returned.
type TruncatedError struct {
	Compression string
	Offset      int64 // the file's length: where the cut is
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("truncated %s: the file ends in the middle of a compressed stream at byte %d", e.Compression, e.Offset)
}
func (e *TruncatedError) Unwrap() error { return io.ErrUnexpectedEOF }

// TrailingDataError is data after the last complete compressed member that
// is not another member. Everything before it decoded and checked out.
type TrailingDataError struct {
	Compression string
	Offset      int64 // where the trailing data starts
}

func (e *TrailingDataError) Error() string {
	return fmt.Sprintf("trailing data after byte %d (the end of the last complete %s member) is not %s", e.Offset, e.Compression, e.Compression)
}

// gzipStream reads gzip members one after another (gzip(1) writes one per
// input and `cat a.gz b.gz` makes a valid file of two) and tells apart the
// three ways a stream can go wrong: junk after a complete member, a
// member cut short, and corrupt data.
type gzipStream struct {
	src      *countingReader
	zr       *gzip.Reader
	members  int
	start    int64 // where the current member starts
	out      int64 // decompressed bytes returned
	verified int64 // of which those of members whose CRC-32 matched
	err      error
}

// Verified returns how many of the decompressed bytes returned belong to
// members that have passed their checksum.
func (g *gzipStream) Verified() int64 { return g.verified }

func newGzipStream(src *countingReader) (*gzipStream, error) {
	g := &gzipStream{src: src}
	zr, err := gzip.NewReader(g.src.r)
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	g.zr = zr
	return g, nil
}

func (g *gzipStream) Read(p []byte) (int, error) {
	for g.err == nil {
		n, err := g.zr.Read(p)
		g.out += int64(n)
		if err == nil || (n > 0 && err == io.EOF) {
			if err == io.EOF {
				g.next()
			}
			return n, nil
		}
		if err == io.EOF {
			g.next()
			continue
		}
		g.err = g.classify(err)
		return n, g.err
	}
	return 0, g.err
}

// next moves to the following member, or ends the stream: cleanly at the
// end of the file or before trailing zeros (tape and some archivers pad
// with them, and gzip(1) ignores them), with a TrailingDataError before
// anything else.
func (g *gzipStream) next() {
	// gzip.Reader returns io.EOF only after the member's CRC-32 and
	// length have matched.
	g.verified = g.out
	g.members++
	start := g.src.offset()
	head, _ := g.src.r.Peek(2)
	switch {
	case len(head) == 0:
		g.err = io.EOF
		return
	case len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b:
	default:
		if allZero(g.src.r) {
			g.err = io.EOF
			return
		}
		g.err = &TrailingDataError{Compression: Gzip, Offset: start}
		return
	}
	g.start = start
	if err := g.zr.Reset(g.src.r); err != nil {
		g.err = g.classify(err)
		return
	}
	g.zr.Multistream(false)
}

// allZero reports whether the rest of r is zero bytes, consuming it.
func allZero(r *bufio.Reader) bool {
	var buf [4096]byte
	for {
		n, err := r.Read(buf[:])
		for _, b := range buf[:n] {
			if b != 0 {
				return false
			}
		}
		if err != nil {
			return true
		}
	}
}

func (g *gzipStream) classify(err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &TruncatedError{Compression: Gzip, Offset: g.src.offset()}
	}
	if errors.Is(err, gzip.ErrChecksum) {
		return &CorruptError{Compression: Gzip, Offset: g.src.offset(), Err: err, Checksum: true, Member: g.start}
	}
	var ce flate.CorruptInputError
	if errors.As(err, &ce) || errors.Is(err, gzip.ErrHeader) {
		return &CorruptError{Compression: Gzip, Offset: g.src.offset(), Err: err}
	}
	return err
}

func (g *gzipStream) Close() error { return g.zr.Close() }

// decodeStream wraps the bzip2, xz and zstd decoders, which read
// concatenated streams themselves, so that their errors say where they
// are and whether the file was cut or corrupt.
type decodeStream struct {
	name string
	src  *countingReader
	r    io.Reader
	done func()
	err  error
}

func (d *decodeStream) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		if _, peekErr := d.src.r.Peek(1); peekErr == io.EOF && isCut(err) {
			err = &TruncatedError{Compression: d.name, Offset: d.src.offset()}
		} else {
			err = &CorruptError{Compression: d.name, Offset: d.src.offset(), Err: err}
		}
	}
	d.err = err
	return n, err
}

// isCut reports whether a decoder's error means its input ran out: each
// decoder says so in its own words.
func isCut(err error) bool {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"unexpected EOF", "unexpected end", "no magic value", "truncated"} {
		if bytes.Contains([]byte(msg), []byte(s)) {
			return true
		}
	}
	return false
}

func (d *decodeStream) Close() error {
	if d.done != nil {
		d.done()
	}
	return nil
}

// decoder returns a reader of the decompressed content of br, whose
// compression is name.
func decoder(name string, src *countingReader) (io.ReadCloser, error) {
	if name == Gzip {
		return newGzipStream(src)
	}
	d := &decodeStream{name: name, src: src}
	switch name {
	case Bzip2:
		d.r = bzip2.NewReader(d.src.r)
	case XZ:
		r, err := xz.NewReader(d.src.r)
		if err != nil {
			return nil, err
		}
		d.r = r
	case Zstd:
		// One goroutine: a log is read once, front to back, and the
		// machine's other cores may be reading other logs.
		r, err := zstd.NewReader(d.src.r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, err
		}
		d.r, d.done = r, r.Close
	default:
		return nil, fmt.Errorf("unknown compression %q", name)
	}
	return d, nil
}
