package signature

import (
	"strings"
	"testing"
)

// FuzzMatch checks that Match never panics, that a bare target and the same
// target split into path and query get the same verdict (the built-ins look
// only at path and query), and that the verdict agrees with a plain
// restatement of the built-in rules.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{
		codeRed1, codeRed2, // the worms themselves
		"GET " + codeRed1 + " HTTP/1.0",                      // a whole request line
		"/default.ida", "/DEFAULT.IDA?NNNN", "/default.ida?", // stripped, folded, empty query
		"/x.ida?%U9090", "/query.ida?CiRestriction=a", // overflow elsewhere; a real Index Server query
		nimdaURIs[0], nimdaURIs[7], nimdaURIs[12], // root.exe and two traversals
		"", "?", "/", "GET", "GET ", "GET  HTTP/1.0", "http://", "http://h", "GET http://h/default.ida?XXXX HTTP/1.1", // degenerate lines
		"/a\x00b?\xff\xfe", // bytes no URL should hold
	} {
		f.Add(s)
	}
	set := Builtin()
	unfiltered := *set
	unfiltered.tailsOK = false
	f.Fuzz(func(t *testing.T, uri string) {
		sig1, ok1 := set.Match(Request{URI: []byte(uri)})
		// The path-tail filter only saves work: without it, the same verdict.
		if sig0, ok0 := unfiltered.Match(Request{URI: []byte(uri)}); ok0 != ok1 || sig0 != sig1 {
			t.Fatalf("%q: %v with the path-tail filter, %v without", uri, sig1, sig0)
		}
		if !strings.HasPrefix(uri, "/") {
			return
		}
		p, q, _ := strings.Cut(uri, "?")
		sig2, ok2 := set.Match(Request{Path: []byte(p), Query: []byte(q)})
		if ok1 != ok2 || sig1 != sig2 {
			t.Fatalf("target %q gives %v, path %q and query %q give %v", uri, sig1, p, q, sig2)
		}
		// A path given with the target: the query is the target's.
		if sig3, ok3 := set.Match(Request{Path: []byte(p), URI: []byte(uri)}); ok1 != ok3 || sig1 != sig3 {
			t.Fatalf("target %q gives %v, path %q with it %v", uri, sig1, p, sig3)
		}
		want := reference(p, q)
		got := ""
		if ok1 {
			got = sig1.Name
		}
		if got != want {
			t.Fatalf("%q: Match gives %q, reference %q", uri, got, want)
		}
	})
}

// reference restates builtin.toml with the standard library.
func reference(path, query string) string {
	lp, lq := strings.ToLower(path), strings.ToLower(query)
	switch {
	case strings.HasSuffix(lp, "/default.ida") && strings.HasPrefix(query, "NNNN"):
		return "codered1"
	case strings.HasSuffix(lp, "/default.ida") && strings.HasPrefix(query, "XXXX"):
		return "codered2"
	case strings.HasSuffix(lp, "/default.ida"), strings.HasSuffix(lp, ".ida") && strings.Contains(lq, "%u9090"):
		return "codered-unknown"
	case strings.HasSuffix(lp, "/root.exe"):
		return "nimda-root-exe"
	case strings.HasSuffix(lp, "/winnt/system32/cmd.exe"):
		return "nimda-cmd-exe"
	}
	return ""
}

// FuzzParse checks that Parse never panics on any rules file and that what
// it accepts can match without panicking.
func FuzzParse(f *testing.F) {
	f.Add(string(builtinTOML))
	f.Add("[[signature]]\nname = \"a\"\nfamily = \"f\"\nline = { regexp = '(?i)x+', nocase = true }\n")
	f.Add("[[signature]]\nname = \"a\"\nfamily = \"f\"\nquery = { equal = \"\" }\n")
	f.Add("[[signature]]\n[[signature]]\n")
	f.Add("signature = []\n")
	f.Add("[signature]\nname = 1\n")
	f.Fuzz(func(t *testing.T, data string) {
		set, err := Parse([]byte(data), "f.toml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.toml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, req := range []Request{{}, request(codeRed1), {URI: []byte("GET /a?b HTTP/1.0")}, {Path: []byte("/x")}} {
			set.Match(req)
		}
	})
}

func TestIndexFold(t *testing.T) {
	for _, c := range []struct {
		b, lit string
		want   int
	}{
		{"abc", "", 0}, {"ABC", "bc", 1}, {"ab", "abc", -1}, {"xxAbAbC", "abc", 4}, {"%U9090", "%u9090", 0},
		{"a%%u9090", "%u9090", 2}, {"%u909%u9090", "%u9090", 5}, {"x%u909", "%u9090", -1}, {"%", "%u", -1},
	} {
		if got := indexFold([]byte(c.b), []byte(c.lit)); got != c.want {
			t.Errorf("indexFold(%q, %q) = %d, want %d", c.b, c.lit, got, c.want)
		}
	}
}

// FuzzIndexFold checks indexFold against a search in the ASCII-lowered
// text, for a pattern led by a letter and one led by another byte.
func FuzzIndexFold(f *testing.F) {
	f.Add("xx%U9090%u9090", "%u9090")
	f.Add("/Default.IDA", "default.ida")
	f.Fuzz(func(t *testing.T, b, lit string) {
		lit = asciiLower(lit)
		if got, want := indexFold([]byte(b), []byte(lit)), strings.Index(asciiLower(b), lit); got != want {
			t.Fatalf("indexFold(%q, %q) = %d, want %d", b, lit, got, want)
		}
	})
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lower(c)
	}
	return string(b)
}

// TestLower8 checks the eight-byte lowering against lower for every pair
// of neighbouring byte values at three places in the word (a carry would
// show in the neighbour), the other bytes being letters either case.
func TestLower8(t *testing.T) {
	for a := range 256 {
		for b := range 256 {
			for _, at := range []int{0, 3, 6} {
				x := uint64(0x5a615a615a615a61) // "aZaZaZaZ"
				x &^= 0xffff << (8 * at)
				x |= uint64(a)<<(8*at) | uint64(b)<<(8*(at+1))
				got := lower8(x)
				for i := range 8 {
					if c, l := byte(x>>(8*i)), byte(got>>(8*i)); l != lower(c) {
						t.Fatalf("lower8(%#016x) byte %d: %#x, want %#x", x, i, l, lower(c))
					}
				}
			}
		}
	}
}
