package signature

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
)

//go:embed builtin.toml
var builtinTOML []byte

// builtinFile names the embedded rules in Source fields and errors.
const builtinFile = "builtin.toml"

var builtin = sync.OnceValue(func() *Set {
	s, err := Parse(builtinTOML, builtinFile)
	if err != nil {
		panic("signature: embedded rules: " + err.Error())
	}
	for _, sig := range s.sigs {
		sig.builtin = true
	}
	return s
})

// Builtin returns the embedded rules: Code Red I, Code Red II, Code Red of
// unknown variant and the Nimda family. Every call returns the same Set.
func Builtin() *Set { return builtin() }

// BuiltinTOML returns the text of the embedded rules, as an example of the
// format.
func BuiltinTOML() []byte { return append([]byte(nil), builtinTOML...) }

// Error is a problem in a rules file.
type Error struct {
	File string
	Line int    // 1-based; 0 if unknown
	Key  string // dotted TOML key, e.g. "signature.path.regexp"; may be empty
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// The TOML shapes. Pointers tell "absent" from "empty".
type fileTOML struct {
	Signature []ruleTOML `toml:"signature"`
}

type ruleTOML struct {
	Name        string     `toml:"name"`
	Family      string     `toml:"family"`
	Description string     `toml:"description"`
	Path        *matchTOML `toml:"path"`
	Query       *matchTOML `toml:"query"`
	Line        *matchTOML `toml:"line"`
	From        *time.Time `toml:"from"`
	Before      *time.Time `toml:"before"`
}

type matchTOML struct {
	Equal    *string `toml:"equal"`
	Prefix   *string `toml:"prefix"`
	Suffix   *string `toml:"suffix"`
	Contains *string `toml:"contains"`
	Regexp   *string `toml:"regexp"`
	Nocase   bool    `toml:"nocase"`
}

var knownKeys = map[string]bool{
	"signature": true, "signature.name": true, "signature.family": true, "signature.description": true,
	"signature.from": true, "signature.before": true,
}

func init() {
	for _, f := range fieldNames {
		knownKeys["signature."+f] = true
		for _, k := range []string{"equal", "prefix", "suffix", "contains", "regexp", "nocase"} {
			knownKeys["signature."+f+"."+k] = true
		}
	}
}

// The expressions below compile on first use: start-up stays cheap for
// commands that never read signatures.
var decodeErrRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)
})

var validName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`) })

// Parse reads rules in TOML; file names the source in errors and in each
// signature's Source. The format is an array of tables:
//
//	[[signature]]
//	name = "codered2"                   # required: letters, digits, '.', '_', '-'
//	family = "codered2"                 # required
//	description = "Code Red II"         # optional
//	path  = { suffix = "/default.ida", nocase = true }
//	query = { prefix = "XXXX" }
//	line  = { regexp = '^GET /x' }      # the request line or URI
//	from   = 2001-09-18T00:00:00Z       # optional: requests at or after this time
//	before = 2001-09-18T00:00:00Z       # optional: requests before this time
//
// A rule needs at least one of path, query and line, and all it names must
// match. Each takes exactly one of equal, prefix, suffix, contains (literal
// bytes) or regexp (Go syntax, unanchored unless anchored), and nocase for
// ASCII case folding. Entries with the same name are alternatives of one
// signature and must agree on its family. Rules are tried in file order.
//
// from and before bound a rule in time, so that the same request can be
// named after the worm that sent it then: a TOML date-time (a local one is
// taken as UTC) or a date. A request without a time stamp is taken to be
// recent: it passes from and fails before.
//
// Errors name the file, line and key: unknown keys, missing or conflicting
// fields, and regular expressions that do not compile.
func Parse(data []byte, file string) (*Set, error) {
	var ft fileTOML
	md, err := toml.Decode(string(data), &ft)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{File: file, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}
		}
		// Type mismatches come as "toml: line N (last key "k"): msg".
		if m := decodeErrRE().FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &Error{File: file, Line: line, Key: m[2], Msg: m[3]}
		}
		return nil, &Error{File: file, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	}
	loc := newLocator(data)
	// Keys come in document order, with a bare "signature" for each
	// [[signature]] header, which tells which entry a key belongs to.
	entry := -1
	for _, k := range md.Keys() {
		ks := k.String()
		if ks == "signature" {
			entry++
		}
		if !knownKeys[ks] {
			return nil, &Error{File: file, Line: loc.keyLine(entry, k), Key: ks, Msg: "unknown key"}
		}
	}
	if md.Type("signature") != "" && md.Type("signature") != "ArrayHash" {
		return nil, &Error{File: file, Line: loc.keyLine(-1, toml.Key{"signature"}), Key: "signature", Msg: "must be an array of tables, [[signature]]"}
	}

	s := &Set{}
	byName := map[string]*Signature{}
	for i, rt := range ft.Signature {
		errAt := func(key, msg string, args ...any) error {
			key = strings.TrimSuffix(key, ".")
			ks := strings.Split(key, ".")
			return &Error{File: file, Line: loc.keyLine(i, append(toml.Key{"signature"}, ks...)), Key: "signature." + key, Msg: fmt.Sprintf(msg, args...)}
		}
		head := loc.header(i)
		if rt.Name == "" {
			return nil, &Error{File: file, Line: head, Key: "signature.name", Msg: "missing (every signature needs a name)"}
		}
		if !validName().MatchString(rt.Name) {
			return nil, errAt("name", "%q: use letters, digits, '.', '_' and '-', starting with a letter or digit", rt.Name)
		}
		if rt.Family == "" {
			return nil, &Error{File: file, Line: head, Key: "signature.family", Msg: fmt.Sprintf("missing for signature %q", rt.Name)}
		}
		if !validName().MatchString(rt.Family) {
			return nil, errAt("family", "%q: use letters, digits, '.', '_' and '-', starting with a letter or digit", rt.Family)
		}
		r := &rule{}
		for _, fm := range []struct {
			f field
			m *matchTOML
		}{{fieldPath, rt.Path}, {fieldQuery, rt.Query}, {fieldLine, rt.Line}} {
			if fm.m == nil {
				continue
			}
			m, err := compile(fm.f, fm.m)
			if err != nil {
				return nil, errAt(fm.f.String()+"."+err.key, "%s", err.msg)
			}
			r.matchers = append(r.matchers, m)
			if fm.f == fieldLine {
				r.needLine = true
			}
		}
		if rt.From != nil {
			r.from, r.hasFrom = rt.From.Unix(), true
		}
		if rt.Before != nil {
			r.before, r.hasBefore = rt.Before.Unix(), true
		}
		if r.hasFrom && r.hasBefore && r.before <= r.from {
			return nil, errAt("before", "%s is not after from = %s", rt.Before.UTC().Format(time.RFC3339), rt.From.UTC().Format(time.RFC3339))
		}
		if len(r.matchers) == 0 {
			return nil, &Error{File: file, Line: head, Key: "signature", Msg: fmt.Sprintf("signature %q matches nothing: give path, query or line", rt.Name)}
		}
		sig := byName[rt.Name]
		if sig == nil {
			sig = &Signature{Name: rt.Name, Family: rt.Family, Description: rt.Description, Source: fmt.Sprintf("%s:%d", file, head)}
			byName[rt.Name] = sig
			s.sigs = append(s.sigs, sig)
		} else if sig.Family != rt.Family {
			return nil, errAt("family", "%q differs from %q given for signature %q at %s", rt.Family, sig.Family, rt.Name, sig.Source)
		} else if sig.Description == "" {
			sig.Description = rt.Description
		}
		r.sig = sig
		sig.rules = append(sig.rules, r)
		s.rules = append(s.rules, r)
	}
	s.indexTails()
	return s, nil
}

type compileError struct{ key, msg string }

func compile(f field, mt *matchTOML) (matcher, *compileError) {
	m := matcher{field: f, nocase: mt.Nocase}
	n := 0
	var key, pat string
	for _, c := range []struct {
		key string
		op  op
		v   *string
	}{{"equal", opEqual, mt.Equal}, {"prefix", opPrefix, mt.Prefix}, {"suffix", opSuffix, mt.Suffix}, {"contains", opContains, mt.Contains}, {"regexp", opRegexp, mt.Regexp}} {
		if c.v != nil {
			n++
			key, pat, m.op = c.key, *c.v, c.op
		}
	}
	switch {
	case n == 0:
		return m, &compileError{"", "give one of equal, prefix, suffix, contains or regexp"}
	case n > 1:
		return m, &compileError{key, "give only one of equal, prefix, suffix, contains or regexp"}
	}
	if m.op == opRegexp {
		expr := pat
		if m.nocase {
			expr = "(?i)" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return m, &compileError{key, fmt.Sprintf("%q does not compile: %v", pat, strings.TrimPrefix(err.Error(), "error parsing regexp: "))}
		}
		m.re = re
		return m, nil
	}
	if pat == "" && m.op != opEqual {
		return m, &compileError{key, "empty pattern would match every request"}
	}
	m.lit = []byte(pat)
	if m.nocase {
		m.lit = []byte(strings.Map(func(r rune) rune {
			if 'A' <= r && r <= 'Z' {
				return r + ('a' - 'A')
			}
			return r
		}, pat))
	}
	return m, nil
}

// Load reads the rules file at path.
func Load(path string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// locator finds the line of a key for error messages. The TOML decoder
// keeps no position for keys inside an array of tables, so the locator
// finds each [[signature]] header and then the key's name within that
// entry's lines.
type locator struct {
	lines   []string
	headers []int // 0-based line index of each [[signature]] header
}

var headerRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*\[\[\s*"?signature"?\s*\]\]`) })

func newLocator(data []byte) *locator {
	l := &locator{lines: strings.Split(string(data), "\n")}
	for i, line := range l.lines {
		if headerRE().MatchString(line) {
			l.headers = append(l.headers, i)
		}
	}
	return l
}

// header returns the 1-based line of entry i's header, or 0.
func (l *locator) header(i int) int {
	if i < 0 || i >= len(l.headers) {
		return 0
	}
	return l.headers[i] + 1
}

// keyLine returns the 1-based line where the last element of k is set
// within entry i (or outside any entry for i < 0), falling back to the
// entry's header.
func (l *locator) keyLine(i int, k toml.Key) int {
	from, to := 0, len(l.lines)
	if len(l.headers) > 0 {
		to = l.headers[0]
	}
	if i >= 0 && i < len(l.headers) {
		from = l.headers[i] + 1
		to = len(l.lines)
		if i+1 < len(l.headers) {
			to = l.headers[i+1]
		}
	}
	if len(k) == 0 {
		return l.header(i)
	}
	name := regexp.QuoteMeta(k[len(k)-1])
	re := regexp.MustCompile(`(^|[\s{,.])"?` + name + `"?\s*=`)
	for j := from; j < to; j++ {
		line := l.lines[j]
		if h := strings.IndexByte(line, '#'); h >= 0 {
			line = line[:h]
		}
		if re.MatchString(line) {
			return j + 1
		}
	}
	return l.header(i)
}
