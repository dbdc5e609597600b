package iisnorm

import (
	"bytes"
	"testing"
)

// normCases are raw request paths and the file path IIS 5 resolved them to.
// The Nimda paths are the worm's own (docs/DESIGN.md §6); the rest are the
// evasions of issue 18 and one case per step of the package comment.
var normCases = []struct{ raw, want string }{
	{"/", "/"},
	{"", "/"},
	{"/index.html", "/index.html"},
	{"/a/b/c.html", "/a/b/c.html"},
	{"/default.ida", "/default.ida"},
	// Step 1: single escapes and %u.
	{"/winnt/system32/cmd%2eexe", "/winnt/system32/cmd.exe"},
	{"/winnt/system32/cm%u0064.exe", "/winnt/system32/cmd.exe"},
	{"/caf%u00e9.html", "/caf\u00e9.html"},
	{"/%zz/x", "/%zz/x"},
	{"/a%2", "/a%2"},
	// Step 2: overlong UTF-8 (MS00-078).
	{"/scripts/..%c0%af../winnt/system32/cmd.exe", "/winnt/system32/cmd.exe"},
	{"/scripts/..%c0%2f../winnt/system32/cmd.exe", "/winnt/system32/cmd.exe"},
	{"/scripts/..%c1%1c../winnt/system32/cmd.exe", "/winnt/system32/cmd.exe"},
	{"/scripts/..%c1%9c../winnt/system32/cmd.exe", "/winnt/system32/cmd.exe"},
	{"/scripts/..%e0%80%af../winnt/system32/cmd.exe", "/winnt/system32/cmd.exe"},
	{"/scripts%c0%afroot.exe", "/scripts/root.exe"},
	{"/\u00e9t\u00e9.html", "/\u00e9t\u00e9.html"}, // real UTF-8 is left alone
	// Step 3: the second decoding (MS01-026).
	{"/scripts/..%255c../winnt/system32/cmd.exe", "/winnt/system32/cmd.exe"},
	{"/scripts/..%%35%63../winnt/system32/cmd.exe", "/winnt/system32/cmd.exe"},
	{"/scripts/..%%35c../winnt/system32/cmd.exe", "/winnt/system32/cmd.exe"},
	{"/scripts/..%25%35%63../winnt/system32/cmd.exe", "/winnt/system32/cmd.exe"},
	{"/scripts/..%252f../winnt/system32/cmd.exe", "/winnt/system32/cmd.exe"},
	{"/_vti_bin/..%255c../..%255c../..%255c../winnt/system32/cmd.exe", "/winnt/system32/cmd.exe"},
	{"/msadc/..%255c../..%255c../..%255c/..%c1%1c../..%c1%1c../..%c1%1c../winnt/system32/cmd.exe", "/winnt/system32/cmd.exe"},
	{"/x%25252e", "/x%2e"}, // a third level of escaping is not decoded: IIS decoded twice
	{"/x%c0%a535", "/x5"},  // the first pass's overlong form makes the '%' the second decodes
	{"/x%u002535", "/x5"},  // and so does its %u form
	{"/x%2535", "/x5"},
	{"/a%25c0%25afb", "/a/b"},              // an overlong sequence made by the second pass
	{"/caf%C3%A9.html", "/caf\u00e9.html"}, // real UTF-8, escaped, is left alone
	// Step 4: NUL.
	{"/winnt/system32/cmd.exe%00.html", "/winnt/system32/cmd.exe"},
	// Step 5: backslash.
	{"/scripts\\..\\..\\winnt\\system32\\cmd.exe", "/winnt/system32/cmd.exe"},
	{"/winnt%5csystem32%5ccmd.exe", "/winnt/system32/cmd.exe"},
	// Step 6: empty, dot and dot-dot segments, trailing dots and spaces.
	{"/winnt/system32//cmd.exe", "/winnt/system32/cmd.exe"},
	{"//winnt/system32/cmd.exe", "/winnt/system32/cmd.exe"},
	{"/winnt/system32/./cmd.exe", "/winnt/system32/cmd.exe"},
	{"/winnt/./system32/../system32/cmd.exe", "/winnt/system32/cmd.exe"},
	{"/../../../winnt/system32/cmd.exe", "/winnt/system32/cmd.exe"},
	{"/winnt/system32/cmd.exe.", "/winnt/system32/cmd.exe"},
	{"/winnt/system32/cmd.exe%20%20", "/winnt/system32/cmd.exe"},
	{"/a/.../b", "/a/b"},
	{"/x/a./y", "/x/a/y"}, // a name of two bytes ending in a dot is not ".."
	{"/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/../../../x", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/x"}, // deeper than resolve's stack
	{"/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/../x", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/x"},
	{"/a/..", "/"},
	{"/a/b/", "/a/b"},
	// Step 7: PATH_INFO and ';'.
	{"/default.ida/x", "/default.ida"},
	{"/default.ida/x/y.html", "/default.ida"},
	{"/default.ida;x", "/default.ida"},
	{"/default.ida;x;y", "/default.ida"}, // the first ';' ends the name
	{"/DEFAULT.IDA;.jpg", "/DEFAULT.IDA"},
	{"/scripts/root.exe/c+dir", "/scripts/root.exe"},
	{"/a;b.html", "/a;b.html"}, // ';' in a name that is not run stays
	{"/x.idq", "/x.idq"},
	{"/a.exe.html", "/a.exe.html"},
	{"/cgi-bin/x.pl/more", "/cgi-bin/x.pl/more"},
}

func TestAppend(t *testing.T) {
	for _, c := range normCases {
		got := Append(nil, []byte(c.raw))
		if string(got) != c.want {
			t.Errorf("Append(%q) = %q, want %q", c.raw, got, c.want)
		}
		if got := appendForm(nil, []byte(c.raw), false); string(got) != c.want {
			t.Errorf("Append(%q) in two passes = %q, want %q", c.raw, got, c.want)
		}
		// Appending to a prefix leaves the prefix alone.
		got = Append([]byte("prefix"), []byte(c.raw))
		if string(got) != "prefix"+c.want {
			t.Errorf("Append(prefix, %q) = %q", c.raw, got)
		}
	}
}

func TestAppendNoAllocs(t *testing.T) {
	buf := make([]byte, 0, 512)
	for _, c := range normCases {
		p := []byte(c.raw)
		if n := testing.AllocsPerRun(100, func() { sink = Append(buf[:0], p) }); n != 0 {
			t.Errorf("%q: %v allocations", c.raw, n)
		}
	}
}

var sink []byte

func BenchmarkAppend(b *testing.B) {
	buf := make([]byte, 0, 512)
	for _, c := range []struct{ name, raw string }{
		{"plain", "/index.html"},
		{"codered", "/default.ida"},
		{"nimda-double", "/scripts/..%255c../winnt/system32/cmd.exe"},
		{"nimda-long", "/msadc/..%255c../..%255c../..%255c/..%c1%1c../..%c1%1c../..%c1%1c../winnt/system32/cmd.exe"},
	} {
		p := []byte(c.raw)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sink = Append(buf[:0], p)
			}
		})
	}
}

// FuzzAppend checks the promises of Append's doc comment and of the steps:
// the result starts with '/', is at most one byte longer than the input,
// and holds no backslash, NUL, empty, "." or ".." segment, Append never
// writes outside what it returns, and its one-scan decoding gives what the
// two passes give.
func FuzzAppend(f *testing.F) {
	for _, c := range normCases {
		f.Add(c.raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		dst := make([]byte, 3, 3+len(raw)+1)
		copy(dst, "abc")
		got := Append(dst, []byte(raw))
		if string(got[:3]) != "abc" {
			t.Fatalf("prefix overwritten: %q", got[:3])
		}
		n := got[3:]
		if len(n) == 0 || n[0] != '/' || len(n) > len(raw)+1 {
			t.Fatalf("Append(%q) = %q", raw, n)
		}
		// The one-scan decoding is the two passes' shortcut: the same.
		if two := appendForm(nil, []byte(raw), false); string(two) != string(n) {
			t.Fatalf("Append(%q) = %q in one scan, %q in two passes", raw, n, two)
		}
		// With room to spare the one scan copies eight bytes at a time
		// to the end: the same again.
		if roomy := Append(make([]byte, 0, len(raw)+16), []byte(raw)); string(roomy) != string(n) {
			t.Fatalf("Append(%q) = %q with room to spare, %q without", raw, roomy, n)
		}
		if Canonical([]byte(raw)) && string(n) != raw {
			t.Fatalf("Canonical(%q) but Append gives %q", raw, n)
		}
		if bytes.ContainsAny(n, "\\\x00") {
			t.Fatalf("Append(%q) = %q holds a backslash or NUL", raw, n)
		}
		if len(n) > 1 {
			for seg := range bytes.SplitSeq(n[1:], []byte("/")) {
				if len(seg) == 0 || string(seg) == "." || string(seg) == ".." {
					t.Fatalf("Append(%q) = %q has segment %q", raw, n, seg)
				}
			}
		}
	})
}

// TestCanonical checks that Canonical never says true for a path that
// Append changes.
func TestCanonical(t *testing.T) {
	for _, c := range normCases {
		if Canonical([]byte(c.raw)) && c.raw != c.want {
			t.Errorf("Canonical(%q) = true, but Append gives %q", c.raw, c.want)
		}
	}
	for _, p := range []string{"/", "/index.html", "/a/b/c.html", "/default.ida", "/cgi-bin/search"} {
		if !Canonical([]byte(p)) {
			t.Errorf("Canonical(%q) = false", p)
		}
	}
}

// TestOneScanTakesWormPaths keeps the worms' paths and the evasions of
// issue 18 on the one scan, so that what FuzzAppend compares with the two
// passes is the code those requests run.
func TestOneScanTakesWormPaths(t *testing.T) {
	for _, raw := range []string{
		"/index.html",
		"/default.ida;x",
		"/scripts/..%255c../winnt/system32/cmd.exe",
		"/scripts%c0%af..%c0%af..%c0%afwinnt%c0%afsystem32%c0%afcmd.exe",
		"/scripts%255c..%255c..%255cwinnt%255csystem32%255ccmd.exe",
		"/scripts/..%5c../winnt%5csystem32%5ccmd.exe",
		"/scripts/..%%35%63../winnt/system32/cmd.exe",
		"/scripts/..%%35c../winnt/system32/cmd.exe",
		"/scripts/..%25%35%63..%25%35%63winnt/system32/cmd.exe",
		"/msadc/..%255c../..%255c../..%255c/..%c1%1c../..%c1%1c../..%c1%1c../winnt/system32/cmd.exe",
		"/winnt/system32/cmd%2eexe",
		"/caf%C3%A9/menu.html",
	} {
		if _, ok := normalize(make([]byte, len(raw)+1), []byte(raw)); !ok {
			t.Errorf("normalize(%q) leaves it to the two passes", raw)
		}
	}
}
