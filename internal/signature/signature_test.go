package signature

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/raceflag"
)

// The worms' requests, from docs/DESIGN.md §6.
var (
	crShell   = "%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u9090%u8190%u00c3%u0003%u8b00%u531b%u53ff%u0078%u0000%u00=a"
	codeRed1  = "/default.ida?" + strings.Repeat("N", 224) + crShell
	codeRed2  = "/default.ida?" + strings.Repeat("X", 224) + crShell
	nimdaURIs = []string{
		"/scripts/root.exe?/c+dir",
		"/MSADC/root.exe?/c+dir",
		"/c/winnt/system32/cmd.exe?/c+dir",
		"/d/winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%255c../winnt/system32/cmd.exe?/c+dir",
		"/_vti_bin/..%255c../..%255c../..%255c../winnt/system32/cmd.exe?/c+dir",
		"/_mem_bin/..%255c../..%255c../..%255c../winnt/system32/cmd.exe?/c+dir",
		"/msadc/..%255c../..%255c../..%255c/..%c1%1c../..%c1%1c../..%c1%1c../winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%c1%1c../winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%c0%2f../winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%c1%9c../winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%%35%63../winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%%35c../winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%25%35%63../winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%252f../winnt/system32/cmd.exe?/c+dir",
	}
)

// legit is ordinary traffic that no built-in signature may claim.
var legit = []string{
	"/",
	"/index.html",
	"/images/logo.gif",
	"/cgi-bin/search?q=default.ida",
	"/query.ida?CiRestriction=worm&CiMaxRecordsPerPage=10", // a real Index Server query
	"/default.idx",
	"/default.ida.html",
	"/docs/root.exe.txt",
	"/winnt/system32/cmd.exe.bak",
	"/search?q=NNNN",
	"/blog/2001/07/19/code-red?ref=XXXX",
}

func request(target string) Request {
	p, q, _ := strings.Cut(target, "?")
	return Request{Path: []byte(p), Query: []byte(q)}
}

func TestBuiltin(t *testing.T) {
	set := Builtin()
	type tc struct {
		name string
		req  Request
		want string // "" for no match
	}
	var cases []tc
	add := func(name string, req Request, want string) { cases = append(cases, tc{name, req, want}) }

	for _, w := range []struct{ uri, sig string }{{codeRed1, "codered1"}, {codeRed2, "codered2"}} {
		add(w.sig+" request line", Request{URI: []byte("GET " + w.uri + " HTTP/1.0")}, w.sig)
		add(w.sig+" bare target", Request{URI: []byte(w.uri)}, w.sig)
		add(w.sig+" path and query", request(w.uri), w.sig)
		add(w.sig+" path holding query", Request{Path: []byte(w.uri)}, w.sig)
		add(w.sig+" upper-case path", request(strings.Replace(w.uri, "default.ida", "DEFAULT.IDA", 1)), w.sig)
		// Servers that cap a logged line keep the padding's start.
		add(w.sig+" line truncated in padding", Request{URI: []byte("GET " + w.uri[:40])}, w.sig)
		add(w.sig+" query truncated", Request{Path: []byte("/default.ida"), Query: []byte(w.uri[13:30])}, w.sig)
		// A log that decodes the query turns %u9090 into junk but keeps the padding.
		add(w.sig+" decoded", Request{URI: []byte("GET " + strings.ReplaceAll(w.uri, "%u", "\x90") + " HTTP/1.0")}, w.sig)
		add(w.sig+" absolute form", Request{URI: []byte("GET http://10.0.0.1" + w.uri + " HTTP/1.0")}, w.sig)
		// A path without a query: the query is the line's.
		add(w.sig+" path and line", Request{Path: []byte("/default.ida"), URI: []byte("GET " + w.uri + " HTTP/1.0")}, w.sig)
	}
	// IIS logs the query apart; one that strips it leaves only the path,
	// which is Code Red for certain but of unknown variant.
	add("query stripped", Request{Path: []byte("/default.ida")}, "codered-unknown")
	add("line cut before query", Request{URI: []byte("GET /default.ida")}, "codered-unknown")
	add("line cut in query", Request{URI: []byte("GET /default.ida?NN")}, "codered-unknown")
	add("other padding", request("/default.ida?"+strings.Repeat("A", 224)+crShell), "codered-unknown")
	add("shell code on another .ida", request("/iisadmin/foo.ida?"+strings.Repeat("Z", 200)+crShell), "codered-unknown")

	for _, u := range nimdaURIs {
		want := "nimda-cmd-exe"
		if strings.Contains(u, "root.exe") {
			want = "nimda-root-exe"
		}
		add("nimda line "+u, Request{URI: []byte("GET " + u + " HTTP/1.0")}, want)
		add("nimda fields "+u, request(u), want)
		add("nimda query stripped "+u, Request{Path: []byte(strings.Split(u, "?")[0])}, want)
		// What Go's server puts in r.URL: the path decoded once.
		if pu, err := url.ParseRequestURI(u); err == nil {
			add("nimda decoded once "+u, Request{Path: []byte(pu.Path), Query: []byte(pu.RawQuery)}, want)
			if p2, err := url.PathUnescape(pu.Path); err == nil {
				add("nimda decoded twice "+u, Request{Path: []byte(p2)}, want)
			}
		}
	}
	for _, u := range legit {
		add("legit "+u, request(u), "")
		add("legit line "+u, Request{URI: []byte("GET " + u + " HTTP/1.1")}, "")
	}
	add("empty request", Request{}, "")

	// root.exe and cmd.exe are named by date: the sadmind/IIS worm before
	// 18 September 2001, Nimda from then on, Nimda when the time is unknown.
	sep18 := time.Date(2001, 9, 18, 0, 0, 0, 0, time.UTC).Unix()
	for _, u := range []string{"/scripts/root.exe?/c+dir", "/scripts/..%255c../winnt/system32/cmd.exe?/c+dir"} {
		kind := "cmd-exe"
		if strings.Contains(u, "root.exe") {
			kind = "root-exe"
		}
		at := func(t int64) Request { r := request(u); r.Time, r.HasTime = t, true; return r }
		add("sadmind in May 2001 "+u, at(time.Date(2001, 5, 8, 12, 0, 0, 0, time.UTC).Unix()), "sadmind-"+kind)
		add("sadmind a second before "+u, at(sep18-1), "sadmind-"+kind)
		add("nimda at the boundary "+u, at(sep18), "nimda-"+kind)
		add("nimda in 2002 "+u, at(sep18+200*86400), "nimda-"+kind)
	}

	for _, c := range cases {
		sig, ok := set.Match(c.req)
		got := ""
		if ok {
			got = sig.Name
		}
		if got != c.want {
			t.Errorf("%s: Match(path=%.40q query=%.40q uri=%.40q) = %q, want %q", c.name, c.req.Path, c.req.Query, c.req.URI, got, c.want)
		}
	}
}

func TestBuiltinSignatures(t *testing.T) {
	want := map[string]string{
		"codered1": "codered1", "codered2": "codered2", "codered-unknown": "codered",
		"nimda-root-exe": "nimda", "nimda-cmd-exe": "nimda",
		"sadmind-root-exe": "sadmind-iis", "sadmind-cmd-exe": "sadmind-iis",
	}
	sigs := Builtin().Signatures()
	if len(sigs) != len(want) {
		t.Fatalf("%d built-in signatures, want %d", len(sigs), len(want))
	}
	for _, s := range sigs {
		if want[s.Name] != s.Family {
			t.Errorf("signature %q has family %q, want %q", s.Name, s.Family, want[s.Name])
		}
		if !s.Builtin() || s.Description == "" || !strings.HasPrefix(s.Source, "builtin.toml:") {
			t.Errorf("signature %q: builtin=%v description=%q source=%q", s.Name, s.Builtin(), s.Description, s.Source)
		}
	}
	if got := len(Builtin().Lookup("codered-unknown").rules); got != 2 {
		t.Errorf("codered-unknown has %d rules, want 2", got)
	}
}

func TestUserRules(t *testing.T) {
	user, err := Parse([]byte(`
[[signature]]
name = "phpmyadmin-scan"
family = "scanners"
path = { regexp = '(?i)^/(phpmyadmin|pma)/' }

[[signature]]
name = "shellshock"
family = "scanners"
line = { contains = "() {" }

# Redefine a built-in: only the exact Code Red II request counts.
[[signature]]
name = "codered2"
family = "codered2"
query = { prefix = "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX" }
path = { equal = "/default.ida" }
`), "user.toml")
	if err != nil {
		t.Fatal(err)
	}
	set := Builtin().With(user)
	for _, c := range []struct {
		req  Request
		want string
	}{
		{request("/PMA/index.php"), "phpmyadmin-scan"},
		{request("/pma"), ""},
		// The line is rebuilt from path and query when no URI is given.
		{request("/cgi-bin/x?() { :; }"), "shellshock"},
		{Request{URI: []byte("GET /cgi-bin/x?() { :; }; HTTP/1.1")}, "shellshock"},
		{request(codeRed2), "codered2"},
		// The redefinition wants 40 X: the short padding falls to the
		// unknown variant, which still follows the built-ins.
		{request("/default.ida?XXXXXXXX"), "codered-unknown"},
		{request(codeRed1), "codered1"},
		{request("/index.html"), ""},
	} {
		sig, ok := set.Match(c.req)
		got := ""
		if ok {
			got = sig.Name
		}
		if got != c.want {
			t.Errorf("Match(%q?%q uri %q) = %q, want %q", c.req.Path, c.req.Query, c.req.URI, got, c.want)
		}
	}
	var names []string
	for _, s := range set.Signatures() {
		names = append(names, s.Name)
	}
	if got, want := strings.Join(names, ","), "codered1,codered2,codered-unknown,sadmind-root-exe,sadmind-cmd-exe,nimda-root-exe,nimda-cmd-exe,phpmyadmin-scan,shellshock"; got != want {
		t.Errorf("signatures %s, want %s", got, want)
	}
	if s := set.Lookup("codered2"); s.Source != "user.toml:13" || s.Builtin() {
		t.Errorf("redefined codered2: source %q builtin %v, want user.toml:13 and false", s.Source, s.Builtin())
	}
	// With must leave the built-in set alone.
	if sig, _ := Builtin().Match(request("/default.ida?XXXXXXXX")); sig.Name != "codered2" {
		t.Errorf("Builtin changed by With: short X padding gives %q", sig.Name)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ toml, want string }{
		{"[[signature]]\nname = \"a\"\nfamily = \"f\"\npath = { sufix = \"/x\" }\n", `r.toml:4: signature.path.sufix: unknown key`},
		{"[[signature]]\nname = \"a\"\nfamily = \"f\"\npath = { suffix = \"/x\" }\n\n[[signature]]\nname = \"b\"\nfamliy = \"f\"\n", `r.toml:8: signature.famliy: unknown key`},
		{"top = 1\n[[signature]]\nname = \"a\"\n", `r.toml:1: top: unknown key`},
		{"[[signature]]\nname = \"a\"\nfamily = \"f\"\nquery = { regexp = \"(x\" }\n", "r.toml:4: signature.query.regexp: \"(x\" does not compile: missing closing ): `(x`"},
		{"[[signature]]\nfamily = \"f\"\npath = { suffix = \"/x\" }\n", `r.toml:1: signature.name: missing`},
		{"[[signature]]\nname = \"a\"\npath = { suffix = \"/x\" }\n", `r.toml:1: signature.family: missing for signature "a"`},
		{"[[signature]]\nname = \"a b\"\nfamily = \"f\"\npath = { suffix = \"/x\" }\n", `r.toml:2: signature.name: "a b": use letters`},
		{"[[signature]]\nname = \"a\"\nfamily = \"f\"\n", `r.toml:1: signature: signature "a" matches nothing`},
		{"[[signature]]\nname = \"a\"\nfamily = \"f\"\npath = { suffix = \"/x\", prefix = \"/y\" }\n", `r.toml:4: signature.path.`},
		{"[[signature]]\nname = \"a\"\nfamily = \"f\"\npath = { nocase = true }\n", `r.toml:4: signature.path: give one of`},
		{"[[signature]]\nname = \"a\"\nfamily = \"f\"\nline = { contains = \"\" }\n", `r.toml:4: signature.line.contains: empty pattern`},
		{"[[signature]]\nname = \"a\"\nfamily = \"f\"\npath = { suffix = \"/x\" }\n[[signature]]\nname = \"a\"\nfamily = \"g\"\npath = { suffix = \"/y\" }\n", `r.toml:7: signature.family: "g" differs from "f" given for signature "a" at r.toml:1`},
		{"[[signature]]\nname = \"a\"\nfamily = 3\n", `r.toml:3: signature.family: incompatible types`},
		{"[[signature]]\nname = \"a\n", `r.toml:2: `},
		{"signature = 1\n", `r.toml:1: signature: `},
	} {
		_, err := Parse([]byte(c.toml), "r.toml")
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want error %q", c.toml, c.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Parse(%q) error\n  %s\nwant prefix\n  %s", c.toml, err, c.want)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	if _, err := Load("testdata/no-such-file.toml"); err == nil || !strings.Contains(err.Error(), "no-such-file.toml") {
		t.Errorf("Load of a missing file: %v, want an error naming it", err)
	}
}

func TestBuiltinTOMLParses(t *testing.T) {
	if _, err := Parse(BuiltinTOML(), "copy.toml"); err != nil {
		t.Fatal(err)
	}
}

// Sinks keep the compiler from proving the calls dead.
var (
	sinkSig *Signature
	sinkOK  bool
)

func TestNoAllocs(t *testing.T) {
	if raceflag.Enabled {
		t.Skip("allocation counts mean nothing under the race detector, which allocates itself")
	}
	user, err := Parse([]byte("[[signature]]\nname = \"l\"\nfamily = \"f\"\nline = { regexp = 'x=\\d+$' }\n"), "u.toml")
	if err != nil {
		t.Fatal(err)
	}
	withLine := Builtin().With(user)
	for _, c := range []struct {
		name string
		set  *Set
		req  Request
	}{
		{"legit", Builtin(), request("/index.html")},
		{"codered1 line", Builtin(), Request{URI: []byte("GET " + codeRed1 + " HTTP/1.0")}},
		{"codered2 fields", Builtin(), request(codeRed2)},
		{"nimda", Builtin(), request(nimdaURIs[7])},
		{"rebuilt line", withLine, request("/a?x=12")},
	} {
		if n := testing.AllocsPerRun(1000, func() { sinkSig, sinkOK = c.set.Match(c.req) }); n != 0 {
			t.Errorf("%s: Match allocates %.1f times per call, want 0", c.name, n)
		}
	}
}

func TestStringRequestNoAllocs(t *testing.T) {
	user, _ := Parse([]byte("[[signature]]\nname = \"l\"\nfamily = \"f\"\npath = { regexp = 'x' }\n"), "u.toml")
	set := Builtin().With(user)
	path, query, uri := "/default.ida", strings.Repeat("X", 224)+crShell, "/default.ida?XXXX"
	if n := testing.AllocsPerRun(1000, func() { sinkSig, sinkOK = set.Match(StringRequest(path, query, uri)) }); n != 0 {
		t.Errorf("Match(StringRequest(...)) allocates %.1f times, want 0", n)
	}
	if sinkSig == nil || sinkSig.Name != "codered2" {
		t.Errorf("StringRequest: matched %v, want codered2", sinkSig)
	}
	if r := StringRequest("", "", ""); r.Path != nil || r.Query != nil || r.URI != nil {
		t.Errorf("empty strings give %+v", r)
	}
}

func BenchmarkMatch(b *testing.B) {
	for _, c := range []struct {
		name string
		req  Request
	}{
		{"legit-fields", request("/images/2001/07/logo-header.gif")},
		{"legit-line", Request{URI: []byte("GET /images/2001/07/logo-header.gif HTTP/1.1")}},
		{"codered1-line", Request{URI: []byte("GET " + codeRed1 + " HTTP/1.0")}},
		{"codered2-fields", request(codeRed2)},
		{"iis-stripped", Request{Path: []byte("/default.ida")}},
		{"nimda-traversal", request(nimdaURIs[7])},
	} {
		b.Run(c.name, func(b *testing.B) {
			set := Builtin()
			for b.Loop() {
				sinkSig, sinkOK = set.Match(c.req)
			}
		})
	}
}

func TestPathQuery(t *testing.T) {
	for _, c := range []struct{ uri, path, query string }{
		{"GET /x?y HTTP/1.0", "/x", "y"},
		{"/x?y", "/x", "y"},
		{"/x", "/x", ""},
		{"GET /a b?c HTTP/1.1", "/a b", "c"}, // a target logged decoded
		{"GET /default.ida?NN", "/default.ida", "NN"},
		{"GET http://host/x?y HTTP/1.1", "/x", "y"},
		{"GET http:http://host/x?y HTTP/1.1", "/x", "y"}, // the opaque form net/http accepts
		{"http://host", "", ""},
		{"", "", ""},
	} {
		path, query := PathQuery([]byte(c.uri))
		if string(path) != c.path || string(query) != c.query {
			t.Errorf("PathQuery(%q) = %q, %q, want %q, %q", c.uri, path, query, c.path, c.query)
		}
	}
}
