package logread

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

type got struct {
	lines   []string
	trunc   []bool
	tooLong int64
	err     error
}

func readAll(r *Reader) got {
	var g got
	for {
		line, ok := r.Next()
		if !ok {
			break
		}
		g.lines = append(g.lines, string(line))
		g.trunc = append(g.trunc, r.Truncated())
		if int64(len(g.lines)) != r.Line() {
			panic("line count")
		}
	}
	g.tooLong, g.err = r.TooLong(), r.Err()
	return g
}

func TestReader(t *testing.T) {
	long := strings.Repeat("x", 3<<20) // three times the buffer
	for _, c := range []struct {
		name    string
		in      string
		maxLine int
		want    []string
		trunc   []bool
	}{
		{"empty", "", 0, nil, nil},
		{"no final newline", "a\nb", 0, []string{"a", "b"}, nil},
		{"crlf", "a\r\nb\r\n\r\n", 0, []string{"a", "b", ""}, nil},
		{"lone cr kept inside", "a\rb\n", 0, []string{"a\rb"}, nil},
		{"cr only", "a\rb\r\rc", 0, []string{"a", "b", "", "c"}, nil},
		{"cr only, long", "abcdefgh\rxy\r", 4, []string{"abcd", "xy"}, []bool{true, false}},
		{"binary", "\x00\xff\x1f\x8b\n\x00", 0, []string{"\x00\xff\x1f\x8b", "\x00"}, nil},
		{"cut", "abcdefgh\nxy\n", 4, []string{"abcd", "xy"}, []bool{true, false}},
		{"cut at eof", "ab\nabcdefgh", 4, []string{"ab", "abcd"}, []bool{false, true}},
		{"exactly max", "abcd\nab\n", 4, []string{"abcd", "ab"}, []bool{false, false}},
		{"megabytes", "a\n" + long + "\nb\n", 0, []string{"a", long[:DefaultMaxLine], "b"}, []bool{false, true, false}},
		{"megabytes at eof", "a\n" + long, 0, []string{"a", long[:DefaultMaxLine]}, []bool{false, true}},
	} {
		for _, slow := range []bool{false, true} {
			var src io.Reader = strings.NewReader(c.in)
			if slow {
				src = iotest.HalfReader(src)
			}
			g := readAll(NewReader(src, c.maxLine))
			if g.err != nil {
				t.Errorf("%s: Err() = %v", c.name, g.err)
			}
			if len(g.lines) != len(c.want) {
				t.Errorf("%s (slow %v): %d lines, want %d", c.name, slow, len(g.lines), len(c.want))
				continue
			}
			var wantTooLong int64
			for i := range c.want {
				if g.lines[i] != c.want[i] {
					t.Errorf("%s (slow %v): line %d = %.20q (len %d), want %.20q (len %d)", c.name, slow, i+1, g.lines[i], len(g.lines[i]), c.want[i], len(c.want[i]))
				}
				wantTrunc := c.trunc != nil && c.trunc[i]
				if g.trunc[i] != wantTrunc {
					t.Errorf("%s: line %d truncated %v, want %v", c.name, i+1, g.trunc[i], wantTrunc)
				}
				if wantTrunc {
					wantTooLong++
				}
			}
			if g.tooLong != wantTooLong {
				t.Errorf("%s: TooLong() = %d, want %d", c.name, g.tooLong, wantTooLong)
			}
		}
	}
}

func gz(t *testing.T, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	var body strings.Builder
	for i := 0; i < 20000; i++ {
		body.WriteString("10.0.0.1 - - [19/Jul/2001:10:00:00 +0000] \"GET / HTTP/1.0\" 200 1\n")
	}
	z := gz(t, body.String())
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The name does not decide: a gzip file called .log and a plain one
	// called .gz both read right.
	plainGz := write("plain.gz", []byte("a\nb\n"))
	zipped := write("zipped.log", z)
	twoStreams := write("two.gz", append(gz(t, "a\n"), gz(t, "b\n")...))
	truncated := write("cut.gz", z[:len(z)/2])
	badHeader := write("bad.gz", []byte{0x1f, 0x8b, 0, 0, 0})

	for _, c := range []struct {
		name       string
		path       string
		lines      int
		compressed bool
		errIs      error
	}{
		{"plain named .gz", plainGz, 2, false, nil},
		{"gzip named .log", zipped, 20000, true, nil},
		{"concatenated gzip members", twoStreams, 2, true, nil},
		{"truncated gzip", truncated, -1, true, io.ErrUnexpectedEOF},
	} {
		f, err := Open(c.path, nil, 0)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		g := readAll(f.Reader)
		f.Close()
		if (f.Compression == Gzip) != c.compressed {
			t.Errorf("%s: Compression = %q", c.name, f.Compression)
		}
		if c.errIs != nil {
			if !errors.Is(g.err, c.errIs) {
				t.Errorf("%s: Err() = %v, want %v", c.name, g.err, c.errIs)
			}
			// What was read before the cut is returned, whole lines and
			// at most one partial line at the end.
			if len(g.lines) == 0 || len(g.lines) >= 20000 {
				t.Errorf("%s: %d lines before the error, want some but not all", c.name, len(g.lines))
			}
			continue
		}
		if g.err != nil || len(g.lines) != c.lines {
			t.Errorf("%s: %d lines, err %v; want %d lines", c.name, len(g.lines), g.err, c.lines)
		}
	}
	if _, err := Open(badHeader, nil, 0); err == nil || !strings.Contains(err.Error(), "bad.gz: unreadable gzip") {
		t.Errorf("bad gzip header: error %v, want one naming the file", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.log"), nil, 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error %v, want ErrNotExist", err)
	}
	f, err := Open("-", bytes.NewReader(z), 0)
	if err != nil {
		t.Fatal(err)
	}
	if g := readAll(f.Reader); len(g.lines) != 20000 || f.Compression != Gzip || f.Bytes() != int64(body.Len()) {
		t.Errorf("gzip on stdin: %d lines, compression %q, %d bytes", len(g.lines), f.Compression, f.Bytes())
	}
}

// FuzzReader checks that any input splits into the lines that
// strings.Split gives, each cut to the bound, whatever the read sizes.
func FuzzReader(f *testing.F) {
	f.Add("a\nb\r\nc", 3)
	f.Add("\n\n\r\n", 1)
	f.Add("abcdefgh\n", 2)
	f.Add("\x00\x1f\x8b\x08\xff", 4)
	f.Add("a\rb\r\rc", 2) // classic Mac line ends
	f.Fuzz(func(t *testing.T, in string, maxLine int) {
		if maxLine <= 0 || maxLine > 64 {
			maxLine = 8
		}
		// The line end is "\r" when the first buffer (of NewReader's size)
		// holds a "\r" and no "\n".
		sep, first := "\n", in[:min(len(in), max(min(16*maxLine, bufSize), 2*maxLine))]
		if !strings.Contains(first, "\n") && strings.Contains(first, "\r") {
			sep = "\r"
		}
		var want []string
		if in != "" {
			want = strings.Split(strings.TrimSuffix(in, sep), sep)
			if in == sep {
				want = []string{""}
			}
		}
		g := readAll(NewReader(iotest.OneByteReader(strings.NewReader(in)), maxLine))
		if len(g.lines) != len(want) {
			t.Fatalf("%q: %d lines, want %d", in, len(g.lines), len(want))
		}
		for i, w := range want {
			if len(w) > maxLine {
				w = w[:maxLine] // a cut line keeps a '\r' that falls inside the bound
			} else if sep == "\n" {
				w = strings.TrimSuffix(w, "\r")
			}
			if g.lines[i] != w {
				t.Fatalf("%q: line %d = %q, want %q", in, i+1, g.lines[i], w)
			}
		}
	})
}
