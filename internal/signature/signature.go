// Package signature recognises worm probes in HTTP requests. It is the one
// matcher that wormlab detect (reading server logs) and wormlab shield
// (serving live requests) share, so a probe is named the same way in both.
//
// Signatures are written in TOML (see Parse); the built-in Code Red I, Code
// Red II, unknown Code Red variant and Nimda rules ship in the same format,
// embedded in the binary.
package signature

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"slices"
	"sync"
	"unsafe"
)

// Request is what a matcher sees of one HTTP request. Fields are raw bytes
// as received or as logged; any may be empty.
type Request struct {
	Path  []byte // URL path (as in r.URL.Path or a log's path field; may be URL-decoded)
	Query []byte // query without the '?' (r.URL.RawQuery, or IIS cs-uri-query); may be empty or stripped
	URI   []byte // request URI or whole request line if known ("GET /x?y HTTP/1.0" or "/x?y"); may be empty

	// Time is when the request was made, in seconds since 1970 UTC, if
	// HasTime. Rules bounded in time (from, before) use it; a request
	// without a time is taken to be recent, as a live server's are.
	Time    int64
	HasTime bool
}

// StringRequest returns a Request that views path, query and uri without
// copying them, for callers that hold strings (such as net/http's
// r.URL.Path): converting with []byte(s) would allocate on every request,
// because a user rule's regular expression keeps the compiler from proving
// that the bytes stay local. It is safe because Match neither modifies nor
// keeps the bytes.
func StringRequest(path, query, uri string) Request {
	return Request{Path: view(path), Query: view(query), URI: view(uri)}
}

func view(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// Signature is one named kind of worm probe. A signature holds one or more
// rules; a request that matches any of them is a probe of this signature.
type Signature struct {
	Name        string // e.g. "codered1", "codered2", "codered-unknown", "nimda-root-exe"
	Family      string // "codered1" | "codered2" | "codered" (unknown variant) | "nimda" | user families
	Description string // one line for humans; may be empty
	Source      string // "file:line" where the signature is first defined

	rules   []*rule
	builtin bool
}

// Builtin reports whether s ships with wormlab.
func (s *Signature) Builtin() bool { return s.builtin }

// A field names the part of a request a matcher looks at.
type field uint8

const (
	fieldPath  field = iota // the URL path
	fieldQuery              // the query, without '?'
	fieldLine               // the request URI or whole request line
)

var fieldNames = [...]string{fieldPath: "path", fieldQuery: "query", fieldLine: "line"}

func (f field) String() string { return fieldNames[f] }

// An op is how a matcher compares its field with its pattern.
type op uint8

const (
	opEqual op = iota
	opPrefix
	opSuffix
	opContains
	opRegexp
)

// matcher tests one field of a request. Literal patterns with nocase are
// stored lower-cased and compared with ASCII case folding, which is what
// URLs need (IIS treats paths case-insensitively) and costs no allocation.
type matcher struct {
	field  field
	op     op
	nocase bool
	lit    []byte
	re     *regexp.Regexp
}

func (m *matcher) match(b []byte) bool {
	switch m.op {
	case opEqual:
		return len(b) == len(m.lit) && m.eq(b)
	case opPrefix:
		return len(b) >= len(m.lit) && m.eq(b[:len(m.lit)])
	case opSuffix:
		return len(b) >= len(m.lit) && m.eq(b[len(b)-len(m.lit):])
	case opContains:
		if !m.nocase {
			return bytes.Contains(b, m.lit)
		}
		return indexFold(b, m.lit) >= 0
	default:
		return m.re.Match(b)
	}
}

// eq reports whether b, of the pattern's length, equals the pattern.
func (m *matcher) eq(b []byte) bool {
	if !m.nocase {
		return bytes.Equal(b, m.lit)
	}
	return eqFold(b, m.lit)
}

// lower8 lowers the ASCII letters among the eight bytes of x: bit 7 of
// upper marks each byte from 'A' to 'Z' (the sums of its low seven bits
// never carry into the next byte), and shifted to bit 5 it adds 32.
func lower8(x uint64) uint64 {
	const ones = 0x0101010101010101
	low7 := x & (ones * 0x7f)
	atLeastA := low7 + ones*(0x80-'A')
	pastZ := low7 + ones*(0x80-'Z'-1)
	upper := atLeastA &^ pastZ &^ x & (ones * 0x80)
	return x | upper>>2
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// indexFold returns the index of the lower-case pattern lit in b under ASCII
// case folding, or -1.
func indexFold(b, lit []byte) int {
	if len(lit) == 0 {
		return 0
	}
	first := lit[0]
	if first < 'a' || first > 'z' {
		// A first byte that is not a letter has no other case: jump
		// from one to the next with a search ("%u9090" in a long query).
		for off := 0; ; {
			i := bytes.IndexByte(b[off:], first)
			if i < 0 || off+i+len(lit) > len(b) {
				return -1
			}
			i += off
			if eqFold(b[i+1:i+len(lit)], lit[1:]) {
				return i
			}
			off = i + 1
		}
	}
	for i := 0; i+len(lit) <= len(b); i++ {
		if lower(b[i]) == first && eqFold(b[i+1:i+len(lit)], lit[1:]) {
			return i
		}
	}
	return -1
}

// eqFold reports whether b equals the lower-case lit under ASCII case
// folding; they have the same length. It compares eight bytes at a time
// (a Nimda path's "/winnt/system32/cmd.exe" in three steps).
func eqFold(b, lit []byte) bool {
	le := binary.LittleEndian
	if n := len(lit); n >= 8 && len(b) == n {
		// Whole words, the last overlapping the one before.
		for i := 0; i < n-8; i += 8 {
			if lower8(le.Uint64(b[i:])) != le.Uint64(lit[i:]) {
				return false
			}
		}
		return lower8(le.Uint64(b[n-8:])) == le.Uint64(lit[n-8:])
	}
	for j, c := range b {
		if lower(c) != lit[j] {
			return false
		}
	}
	return true
}

// rule is one [[signature]] entry: all of its matchers must match, and the
// request's time must fall in [from, before) where those are set.
type rule struct {
	sig      *Signature
	matchers []matcher
	needLine bool // a matcher looks at the whole line

	from, before       int64 // seconds since 1970 UTC
	hasFrom, hasBefore bool
}

// inTime reports whether a request made at t (known if ok) falls within
// the rule's dates. An unknown time is taken to be recent: it is after any
// from, and before no before.
func (r *rule) inTime(t int64, ok bool) bool {
	if !ok {
		return !r.hasBefore
	}
	return (!r.hasFrom || t >= r.from) && (!r.hasBefore || t < r.before)
}

// Set is an ordered list of signatures. Rules are tried in order and the
// first one that matches names the probe. A Set is immutable once built and
// safe for concurrent use.
type Set struct {
	sigs  []*Signature
	rules []*rule

	// tails, when tailsOK, holds the last four bytes (ASCII-lowered, as a
	// uint32) of the path some rule requires, each with those rules in
	// order: every rule has a path matcher for a suffix or an exact path
	// of at least four bytes. A request whose path ends otherwise matches
	// no rule, which Match learns with one comparison per tail instead
	// of trying each rule: that is the fate of almost every request a
	// server logs. One that does end in a tail (a download of some
	// .exe) is tried against that tail's rules only.
	tails   []tailRules
	tailsOK bool
}

// tailRules are the rules that require a path ending in tail.
type tailRules struct {
	tail  uint32
	rules []*rule
}

// indexTails fills tails and tailsOK from the rules.
func (s *Set) indexTails() {
	s.tails, s.tailsOK = nil, len(s.rules) > 0
	for _, r := range s.rules {
		found := false
		for i := range r.matchers {
			m := &r.matchers[i]
			if m.field != fieldPath || (m.op != opSuffix && m.op != opEqual) || len(m.lit) < 4 {
				continue
			}
			t := tail4(m.lit)
			j := slices.IndexFunc(s.tails, func(tr tailRules) bool { return tr.tail == t })
			if j < 0 {
				j = len(s.tails)
				s.tails = append(s.tails, tailRules{tail: t})
			}
			s.tails[j].rules = append(s.tails[j].rules, r)
			found = true
			break
		}
		if !found {
			s.tails, s.tailsOK = nil, false
			return
		}
	}
}

// tail4 returns the last four bytes of b, ASCII-lowered, as a uint32.
func tail4(b []byte) uint32 {
	n := len(b)
	return uint32(lower(b[n-4]))<<24 | uint32(lower(b[n-3]))<<16 | uint32(lower(b[n-2]))<<8 | uint32(lower(b[n-1]))
}

// Signatures returns the set's signatures in the order they were defined.
// The caller must not modify them.
func (s *Set) Signatures() []*Signature { return s.sigs }

// Lookup returns the signature named name, or nil.
func (s *Set) Lookup(name string) *Signature {
	for _, sig := range s.sigs {
		if sig.Name == name {
			return sig
		}
	}
	return nil
}

// With returns a set holding the rules of s followed by those of more. A
// signature of more whose name is also in s replaces it and takes its place
// in the order, so a rules file can redefine a built-in signature without
// the built-ins after it shadowing the new definition. Neither s nor more is
// changed.
func (s *Set) With(more *Set) *Set {
	repl := map[string]*Signature{}
	for _, sig := range more.sigs {
		repl[sig.Name] = sig
	}
	out := &Set{}
	placed := map[string]bool{}
	for _, sig := range s.sigs {
		if r := repl[sig.Name]; r != nil {
			sig = r
			placed[sig.Name] = true
		}
		out.sigs = append(out.sigs, sig)
	}
	for _, sig := range more.sigs {
		if !placed[sig.Name] {
			out.sigs = append(out.sigs, sig)
		}
	}
	done := map[string]bool{}
	for _, r := range s.rules {
		n := r.sig.Name
		if repl[n] == nil {
			out.rules = append(out.rules, r)
			continue
		}
		if !done[n] {
			out.rules = append(out.rules, repl[n].rules...)
			done[n] = true
		}
	}
	for _, r := range more.rules {
		if !placed[r.sig.Name] {
			out.rules = append(out.rules, r)
		}
	}
	out.indexTails()
	return out
}

// linePool holds buffers for rebuilding a request line from path and query
// when a rule needs the line but the request came without one. Pooling
// keeps Match allocation-free.
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Match returns the first signature that req matches. It does not allocate.
//
// The request is first completed from what it carries: a missing path and
// query are taken from URI (a bare target or a whole request line, with or
// without the protocol, possibly truncated), and a path holding a '?' is
// split when the query is empty. A rule on the line sees URI when given and
// otherwise the path and query joined by '?'.
func (s *Set) Match(req Request) (*Signature, bool) {
	path, query, queryLater := req.Path, req.Query, false
	if len(path) == 0 || len(query) == 0 {
		path, query, queryLater = split(&req)
	}
	candidates := s.rules
	if s.tailsOK {
		if len(path) < 4 {
			return nil, false
		}
		// A byte and its lower case agree once bit 5 is set in both, so
		// a comparison with it set turns most paths away cheaply; the
		// exact one follows.
		n := len(path)
		raw := uint32(path[n-4])<<24 | uint32(path[n-3])<<16 | uint32(path[n-2])<<8 | uint32(path[n-1])
		candidates = nil
		for i := range s.tails {
			if s.tails[i].tail|0x20202020 == raw|0x20202020 && s.tails[i].tail == tail4(path) {
				candidates = s.tails[i].rules
				break
			}
		}
		if candidates == nil {
			return nil, false
		}
	}
	var lineBuf *[]byte
	var line []byte
	var sig *Signature
rules:
	for _, r := range candidates {
		// The dates first: they cost a comparison, and they rule out the
		// sadmind/IIS rules for every request a live server sees.
		if (r.hasFrom || r.hasBefore) && !r.inTime(req.Time, req.HasTime) {
			continue
		}
		for i := range r.matchers {
			m := &r.matchers[i]
			var b []byte
			switch m.field {
			case fieldPath:
				if m.op == opSuffix && m.nocase {
					// Most rules start so: m.match without the calls.
					if len(path) < len(m.lit) || !eqFold(path[len(path)-len(m.lit):], m.lit) {
						continue rules
					}
					continue
				}
				b = path
			case fieldQuery:
				if queryLater {
					_, query = splitTarget(target(req.URI))
					queryLater = false
				}
				b = query
			default:
				if line == nil {
					line, lineBuf = buildLine(req.URI, path, query)
				}
				b = line
			}
			if !m.match(b) {
				continue rules
			}
		}
		sig = r.sig
		break
	}
	if lineBuf != nil {
		linePool.Put(lineBuf)
	}
	return sig, sig != nil
}

func buildLine(uri, path, query []byte) ([]byte, *[]byte) {
	if len(uri) > 0 {
		return uri, nil
	}
	bp := linePool.Get().(*[]byte)
	b := append((*bp)[:0], path...)
	if len(query) > 0 {
		b = append(b, '?')
		b = append(b, query...)
	}
	*bp = b
	// A non-nil empty slice marks the line as built.
	if b == nil {
		b = []byte{}
	}
	return b, bp
}

// split returns the request's path and query, completing them from URI
// (and a path with a '?') where they are missing. When the query may be in
// URI but is not needed to know the path, it reports later instead of
// reading URI: most requests are turned away on their path alone.
func split(req *Request) (path, query []byte, later bool) {
	path, query = req.Path, req.Query
	if len(path) == 0 && len(req.URI) > 0 {
		p, q := splitTarget(target(req.URI))
		path = p
		if len(query) == 0 {
			query = q
		}
		return path, query, false
	}
	if len(query) == 0 {
		if i := bytes.IndexByte(path, '?'); i >= 0 {
			return path[:i], path[i+1:], false
		}
		return path, query, len(req.URI) > 0
	}
	return path, query, false
}

// PathQuery returns the path and query of a request URI or request line
// ("GET /x?y HTTP/1.0" and "/x?y" both give "/x" and "y") as Match takes
// them from Request.URI: the method and protocol are cut off, and an
// absolute-form target ("http://host/x", or the opaque "http:http://host/x"
// that net/http accepts) loses its scheme and host. A caller that matches
// one line more than once passes them to Match in Path and Query, so that
// the line is read once.
func PathQuery(uri []byte) (path, query []byte) {
	return splitTarget(target(uri))
}

// target returns the request target of a request line ("GET /x?y HTTP/1.0"
// gives "/x?y") or of a bare target. A line cut before the protocol keeps
// what is there; an absolute-form target loses its scheme and host.
func target(uri []byte) []byte {
	t := uri
	if len(t) > 0 && t[0] != '/' {
		// Most requests are GETs: skip their method without a search.
		i := 3
		if len(t) < 4 || string(t[:4]) != "GET " {
			i = bytes.IndexByte(t, ' ')
		}
		if i >= 0 {
			t = t[i+1:]
			// The protocol is the last word; a target may itself hold spaces
			// when a server logs it decoded. Most lines end in " HTTP/1.0"
			// or " HTTP/1.1", which is checked first.
			if n := len(t); n >= 9 && string(t[n-9:n-3]) == " HTTP/" {
				t = t[:n-9]
			} else if j := bytes.LastIndex(t, []byte(" HTTP/")); j >= 0 {
				t = t[:j]
			}
		}
	}
	if len(t) > 0 && t[0] != '/' {
		// Absolute form, http://host/path.
		if i := bytes.Index(t, []byte("://")); i >= 0 {
			rest := t[i+3:]
			if j := bytes.IndexByte(rest, '/'); j >= 0 {
				return rest[j:]
			}
			return nil
		}
	}
	return t
}

func splitTarget(t []byte) (path, query []byte) {
	if i := bytes.IndexByte(t, '?'); i >= 0 {
		return t[:i], t[i+1:]
	}
	return t, nil
}
