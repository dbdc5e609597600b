package logread

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The testdata bodies are one log of 1,000 lines compressed by the
// reference tools: gzip -9n, bzip2 -9, xz (default) and zstd -19.
var compressed = []struct{ file, compression string }{
	{"testdata/body.log.gz", Gzip},
	{"testdata/body.log.bz2", Bzip2},
	{"testdata/body.log.xz", XZ},
	{"testdata/body.log.zst", Zstd},
}

const bodyLines = 1000

func openBytes(t *testing.T, b []byte) (*File, got) {
	t.Helper()
	f, err := Open("-", bytes.NewReader(b), 0)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer f.Close()
	return f, readAll(f.Reader)
}

// TestDecoders reads each compression whole, on standard input (no name
// to go by), and with junk after it, and cut in the middle.
func TestDecoders(t *testing.T) {
	want, _ := openBytes(t, mustRead(t, "testdata/body.log.gz"))
	_, plain := want, want
	for _, c := range compressed {
		data := mustRead(t, c.file)
		f, g := openBytes(t, data)
		if f.Compression != c.compression || g.err != nil || len(g.lines) != bodyLines {
			t.Errorf("%s: compression %q, %d lines, err %v; want %q, %d lines", c.file, f.Compression, len(g.lines), g.err, c.compression, bodyLines)
			continue
		}
		if strings.Join(g.lines, "\n") != strings.Join(readPlain(t).lines, "\n") {
			t.Errorf("%s: lines differ from the gzip's", c.file)
		}

		// Cut: every whole line before the cut comes back, then an error
		// saying the file is truncated at its own length.
		cut := data[:len(data)*2/3]
		_, g = openBytes(t, cut)
		var te *TruncatedError
		if !errors.As(g.err, &te) || te.Offset > int64(len(cut)) {
			t.Errorf("%s cut at %d: err %v, want a TruncatedError at most there", c.file, len(cut), g.err)
		}
		if len(g.lines) >= bodyLines {
			t.Errorf("%s cut: %d lines", c.file, len(g.lines))
		}
	}
	_ = plain
}

func readPlain(t *testing.T) got {
	t.Helper()
	_, g := openBytes(t, mustRead(t, "testdata/body.log.gz"))
	return g
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bigGzip returns a gzip member of n log lines, each naming its number.
func bigGzip(n int) ([]byte, int) {
	var body bytes.Buffer
	for i := range n {
		fmt.Fprintf(&body, "10.0.%d.%d - - [19/Jul/2001:10:00:00 +0000] \"GET /page/%08d.html HTTP/1.0\" 200 1\n", i>>8&255, i&255, i)
	}
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, 6)
	w.Write(body.Bytes())
	w.Close()
	return z.Bytes(), body.Len()
}

// TestGzipMessages checks the three ways a gzip goes wrong: junk after a
// complete member is "trailing data after byte N" with every line read;
// zero padding is no error; a corrupt member stops with a CorruptError
// and returns no line decoded from the damage.
func TestGzipMessages(t *testing.T) {
	z, _ := bigGzip(100_000) // about 8 MB of text, several hold-backs long
	two := append(append([]byte(nil), z...), z...)

	_, g := openBytes(t, append(append([]byte(nil), two...), "this is not gzip\n"...))
	var td *TrailingDataError
	if !errors.As(g.err, &td) || td.Offset != int64(len(two)) || len(g.lines) != 200_000 {
		t.Errorf("junk after two members: %d lines, err %v; want 200000 lines and trailing data after byte %d", len(g.lines), g.err, len(two))
	} else if !strings.Contains(g.err.Error(), fmt.Sprintf("trailing data after byte %d", len(two))) {
		t.Errorf("message %q", g.err)
	}

	_, g = openBytes(t, append(append([]byte(nil), z...), make([]byte, 1000)...))
	if g.err != nil || len(g.lines) != 100_000 {
		t.Errorf("zero padding: %d lines, err %v", len(g.lines), g.err)
	}

	// Overwrite 4 KiB in the second member with random bytes, as a bad
	// disk block would: the decoder fails within a few KiB, and no line
	// decoded from the damage comes back.
	r := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		bad := append([]byte(nil), two...)
		at := len(z) + len(z)/4 + r.IntN(len(z)/2)
		for i := range 4096 {
			bad[at+i] = byte(r.Uint32())
		}
		_, g = openBytes(t, bad)
		var ce *CorruptError
		if !errors.As(g.err, &ce) || ce.Checksum {
			t.Errorf("4 KiB overwritten at byte %d: err %v, want a decoding error", at, g.err)
			continue
		}
		if len(g.lines) < 100_000 {
			t.Errorf("damage at byte %d: only %d lines, want the first member's 100000 at least", at, len(g.lines))
		}
		for i, l := range g.lines {
			if want := fmt.Sprintf("/page/%08d.html", i%100_000); !strings.Contains(l, want) {
				t.Errorf("damage at byte %d: line %d = %q, decoded from the damage", at, i+1, l)
				break
			}
		}
		if ce.Offset < int64(at) || ce.Offset > int64(at)+64<<10 {
			t.Errorf("damage at byte %d: error placed at byte %d", at, ce.Offset)
		}
	}

	// One byte flipped can decode to a few wrong bytes and leave the
	// stream in step (a Huffman code for another symbol of the same
	// length), so only the member's checksum tells: the error names the
	// member, whose lines were held back and are dropped.
	bad := append([]byte(nil), two...)
	bad[len(z)+len(z)/2] ^= 0x55
	_, g = openBytes(t, bad)
	var ce *CorruptError
	if len(g.lines) != 100_000 {
		t.Errorf("one byte flipped: %d lines, want the first member's 100000 and nothing of the damaged one", len(g.lines))
	}
	if !errors.As(g.err, &ce) || !ce.Checksum || ce.Member != int64(len(z)) || ce.Offset != int64(len(two)) {
		t.Errorf("one byte flipped: err %v, want a checksum error for the member at byte %d", g.err, len(z))
	} else if !strings.Contains(g.err.Error(), fmt.Sprintf("member (bytes %d to %d)", len(z), len(two))) {
		t.Errorf("message %q", g.err)
	}
}

// TestSniff checks the magic bytes, and that text is never taken for a
// compressed file.
func TestSniff(t *testing.T) {
	for _, c := range []struct {
		head, want string
	}{
		{"\x1f\x8b\x08", Gzip},
		{"BZh91AY&SY", Bzip2},
		{"BZh is not bzip2", ""},
		{"\xfd7zXZ\x00\x00", XZ},
		{"\x28\xb5\x2f\xfd", Zstd},
		{"10.0.0.1 - -", ""},
		{"", ""},
		{"\x1f", ""},
	} {
		if got := Sniff([]byte(c.head)); got != c.want {
			t.Errorf("Sniff(%q) = %q, want %q", c.head, got, c.want)
		}
	}
}

// TestOpenByContent: a name says nothing; bz2 content in a .log file and
// a .xz file holding text both read right.
func TestOpenByContent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "really-bzip2.log")
	os.WriteFile(p, mustRead(t, "testdata/body.log.bz2"), 0o644)
	q := filepath.Join(dir, "text.xz")
	os.WriteFile(q, []byte("a\nb\n"), 0o644)
	for _, c := range []struct {
		path, compression string
		lines             int
	}{{p, Bzip2, bodyLines}, {q, "", 2}} {
		f, err := Open(c.path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		g := readAll(f.Reader)
		f.Close()
		if f.Compression != c.compression || len(g.lines) != c.lines || g.err != nil {
			t.Errorf("%s: %q, %d lines, %v", c.path, f.Compression, len(g.lines), g.err)
		}
	}
	_ = io.EOF
}

// FuzzDecode opens any bytes as a file: whatever the magic says, the
// reader must not panic or hang, must return only lines within the bound,
// and must end with no error or one of the documented kinds.
func FuzzDecode(f *testing.F) {
	for _, c := range compressed {
		b, err := os.ReadFile(c.file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 600)]) // the headers and the first blocks
		f.Add(b)
	}
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00junk")) // empty member, trailing junk
	f.Add([]byte("BZh9"))
	f.Add([]byte("\xfd7zXZ\x00"))
	f.Add([]byte("\x28\xb5\x2f\xfd"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Open("-", bytes.NewReader(data), 256)
		if err != nil {
			return // an unreadable header is refused up front
		}
		defer file.Close()
		n := 0
		for {
			line, ok := file.Next()
			if !ok {
				break
			}
			if len(line) > 256 {
				t.Fatalf("line of %d bytes past the bound", len(line))
			}
			if n++; n > 1<<22 {
				t.Fatal("more lines than a fuzz input can decode to")
			}
		}
		err = file.Err()
		var ce *CorruptError
		var te *TruncatedError
		var td *TrailingDataError
		if err != nil && !errors.As(err, &ce) && !errors.As(err, &te) && !errors.As(err, &td) {
			t.Fatalf("%s: error of an undocumented kind: %v (%T)", file.Compression, err, err)
		}
	})
}
