// Package iisnorm rewrites a request path into the file path an unpatched
// IIS 5 would have resolved it to, so that a matcher written for the plain
// form ("/winnt/system32/cmd.exe") also sees through the encodings worms
// used to get past IIS's own checks and past filters in front of it.
//
// The steps, in order, and where each comes from:
//
//  1. Percent-decoding, including IIS's own %uXXXX form (a UTF-16 code unit,
//     written out here as UTF-8). Invalid escapes are kept as they are.
//  2. Lenient UTF-8: a two-byte sequence led by 0xC0 or 0xC1, or a
//     three-byte one led by 0xE0, that encodes an ASCII character
//     ("overlong" UTF-8) becomes that character, and the continuation
//     bytes' top bits are ignored, so %c0%af and %c0%2f are '/' and %c1%1c
//     and %c1%9c are '\'. This is the "Web Server Folder Traversal"
//     canonicalisation error (Microsoft MS00-078, CVE-2000-0884, October
//     2000), which Nimda used.
//  3. Steps 1 and 2 a second time: IIS checked the once-decoded path and
//     then decoded it again before opening the file, so %255c, %%35%63 and
//     %25%35%63 became '\' (the "superfluous decoding" flaw, Microsoft
//     MS01-026, CERT CA-2001-12 and VU#789543, May 2001). IIS decoded
//     twice, not until nothing changed, and so does this package.
//  4. A NUL ends the path, as it ends a string for the Win32 file API.
//  5. '\' is a separator like '/'.
//  6. Empty and "." segments are removed, ".." removes the segment before
//     it and never climbs above the root (a path that did climb on IIS left
//     the web root for the drive, which a matcher anchored on the file's
//     own path still recognises), and trailing dots and spaces are removed
//     from each name, as Win32 does ("cmd.exe." opens cmd.exe).
//  7. The path ends after the first segment naming a file with a
//     script-mapped or executable extension (.ida, .idq, .exe, ...): IIS
//     runs that file and hands it the rest as PATH_INFO (Microsoft KB
//     Q186803: "/foo.cgi/default.htm" runs foo.cgi). A ';' inside such a
//     segment ends its name there, so "/default.ida;x" is default.ida.
//
// Case is left alone: NTFS names are case-insensitive and the signature
// matchers fold ASCII case themselves. The query is not touched either; IIS
// passed it to the extension undecoded.
package iisnorm

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"
)

// Append appends the IIS 5 form of the raw path p (a request target's path,
// without the query) to dst and returns the extended slice. The result
// always starts with '/' and is at most len(p)+1 bytes long, so a dst with
// that much spare capacity makes Append allocation-free. p must not share
// memory with dst's spare capacity.
func Append(dst, p []byte) []byte {
	return appendForm(dst, p, true)
}

// appendForm is Append. With oneScan it first tries normalize, which does
// every step in one scan for the paths worms sent; with oneScan false, and
// for the paths normalize leaves to it, it takes the steps one after the
// other over the whole path: the plain reading of the package comment,
// which the tests compare the one scan with.
func appendForm(dst, p []byte, oneScan bool) []byte {
	start := len(dst)
	if oneScan {
		dst = slices.Grow(dst, len(p)+1)
		if n, ok := normalize(dst[start:cap(dst)], p); ok {
			return dst[:start+n]
		}
	}
	// A leading '/' lets every later step work in place: the reader is
	// always at least one separator ahead of the writer.
	dst = append(dst, '/')
	dst = append(dst, p...)
	b := dst[start+1:]
	if esc, high := needsDecoding(b); esc || high {
		// The first pass may leave bytes that lead an overlong sequence
		// for the second to finish, so the second looks for them if the
		// first saw or made any; with neither those nor a '%' left, the
		// second pass would change nothing.
		var pct bool
		b, high, pct = decode(b, high)
		if pct || high {
			b, _, _ = decode(b, high)
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
	}
	b = resolve(dst[start : start+1+len(b)])
	return dst[:start+len(b)]
}

// The bytes of a raw path that normalize tells apart, by class; the
// others it copies as they are.
const (
	rawDot     = 1 + iota // '.', which only a file's name holds
	rawSpecial            // a separator, ';' or NUL: resolving looks at it
	rawEscape             // '%'
	rawLead               // a byte that may lead an overlong sequence
)

var rawClass = [256]uint8{
	'.': rawDot, '/': rawSpecial, '\\': rawSpecial, ';': rawSpecial, 0: rawSpecial,
	'%': rawEscape, 0xc0: rawLead, 0xc1: rawLead, 0xe0: rawLead,
}

// normalize writes the IIS 5 form of p to out, which holds at least
// len(p)+1 bytes, and returns its length: steps 1 to 7 in one scan, each
// byte decoded twice as it is read and each name resolved as it ends. It
// may write anywhere in out. It reports false, having written garbage, for
// what it leaves to the two passes (see decodeByte): the worms' paths and
// almost every other get through.
func normalize(out, p []byte) (int, bool) {
	le := binary.LittleEndian
	out[0] = '/'
	w := 1       // out[:w] is the resolved path and then the name being read
	slash := 0   // where the '/' before that name is
	dot := false // the name holds a '.'
	semi := -1   // where its first ';' is
	for r := 0; r < len(p); {
		c := p[r]
		if k := rawClass[c]; k <= rawDot {
			// Up to eight bytes at once, to the next that is neither
			// plain nor a dot. w is at most r+1, so out has room for
			// eight unless the end of p is near.
			if len(p) >= 8 && w+8 <= len(out) {
				var x uint64
				if r+8 <= len(p) {
					x = le.Uint64(p[r:])
				} else {
					// The last bytes of p, and zeros, which end the run.
					x = le.Uint64(p[len(p)-8:]) >> (8 * (r + 8 - len(p)))
				}
				le.PutUint64(out[w:], x)
				n, before := 8, ^uint64(0)
				if m := notPlain(x); m != 0 {
					n, before = bits.TrailingZeros64(m)/8, m&-m-1
				}
				if n > 0 {
					// A dot marked after the run's first is after a
					// real one in it too.
					dot = dot || hasDot(x)&before != 0
					w, r = w+n, r+n
					continue
				}
			}
			out[w] = c
			w, r = w+1, r+1
			dot = dot || k == rawDot
			continue
		}
		r++
		switch rawClass[c] {
		case rawEscape:
			// The escapes worms sent are seen to here: a byte that
			// neither pass does more with ("%2e"), "%25" and two hex
			// digits ("%255c"), and an overlong lead joined to the
			// next byte ("%c0%af"). decodeByte sees to the others.
			ok := false
			if r+1 < len(p) && hexVal[p[r]]|hexVal[p[r+1]] < 16 {
				switch d := hexVal[p[r]]<<4 | hexVal[p[r+1]]; {
				case d == '%':
					// The second pass decodes the two bytes the first
					// makes next: most often two hex digits ("%255c"),
					// and then escaped ones ("%25%35%63").
					a, b, n := byte(0), byte(0), 0
					if r+3 < len(p) && hexVal[p[r+2]]|hexVal[p[r+3]] < 16 {
						a, b, n = p[r+2], p[r+3], 2
					} else if a1, na := firstByte(p, r+2); na > 0 {
						if b1, nb := firstByte(p, r+2+na); nb > 0 {
							a, b, n = a1, b1, na+nb
						}
					}
					if n > 0 && hexVal[a]|hexVal[b] < 16 {
						if e := hexVal[a]<<4 | hexVal[b]; rawClass[e] != rawLead {
							c, r, ok = e, r+2+n, true
						}
					}
				case d == 0xc0 || d == 0xc1:
					e, n := byte('%'), 0
					if r+2 < len(p) && p[r+2] != '%' {
						e, n = p[r+2], 3
					} else if r+4 < len(p) && hexVal[p[r+3]]|hexVal[p[r+4]] < 16 {
						e, n = hexVal[p[r+3]]<<4|hexVal[p[r+4]], 5
					}
					// A '%' made here is for the second pass to decode.
					if e = (d&0x1f)<<6 | e&0x3f; n > 0 && e != '%' {
						c, r, ok = e, r+n, true
					}
				case rawClass[d] != rawLead:
					c, r, ok = d, r+2, true
				}
			}
			if !ok {
				if c, r, ok = decodeByte(p, r-1); !ok {
					return 0, false
				}
			}
		case rawLead:
			return 0, false // rare: left to the two passes
		}
		switch c {
		case '/', '\\':
			// A name without a dot that does not end in a space is
			// kept as it is: most are.
			if dot || w == slash+1 || out[w-1] == ' ' {
				var script bool
				if w, script = endName(out, slash, w, dot, semi); script {
					return w, true
				}
			}
			slash, dot, semi = w, false, -1
			out[w] = '/'
			w++
			continue
		case 0:
			r = len(p) // step 4
			continue
		case '.':
			dot = true
		case ';':
			if semi < 0 {
				semi = w - slash - 1
			}
		}
		out[w] = c
		w++
	}
	if w, _ = endName(out, slash, w, dot, semi); w == 0 {
		w = 1 // out[0] is still the root's '/'
	}
	return w, true
}

// endName does steps 6 and 7 for the name b[slash+1:w], which holds a '.'
// if dot and its first ';' at semi (or none if -1), after the resolved
// path b[:slash]. It drops the name, or drops it and the one before it
// (".."), or keeps it, and returns where the resolved path now ends and
// whether the name is a script's, which ends the path.
func endName(b []byte, slash, w int, dot bool, semi int) (int, bool) {
	name := b[slash+1 : w]
	if dot && len(name) <= 2 {
		switch {
		case len(name) == 1:
			return slash, false // "."
		case name[0] == '.' && name[1] == '.':
			// The last name kept starts at the last '/'; at the root
			// there is none to drop.
			return max(bytes.LastIndexByte(b[:slash], '/'), 0), false
		}
	}
	e := len(name)
	for e > 0 && (name[e-1] == '.' || name[e-1] == ' ') {
		e--
	}
	if e == 0 {
		return slash, false
	}
	script := false
	if dot {
		if semi >= 0 && semi < e && scriptMapped(name[:semi]) {
			e, script = semi, true
		} else {
			script = scriptMapped(name[:e])
		}
	}
	return slash + 1 + e, script
}

// notPlain has the top bit set in the first byte of x (in memory order)
// that rawClass puts in a class other than rawDot, if there is one, and no
// bit in a byte before it; it also marks every byte of 0x80 or more, which
// normalize then looks at alone.
func notPlain(x uint64) uint64 {
	return zeroByte(x) | zeroByte(x^(ones*'/')) | zeroByte(x^(ones*'\\')) |
		zeroByte(x^(ones*';')) | zeroByte(x^(ones*'%')) | x&highs
}

// hasDot marks the bytes of x that are '.' as zeroByte marks zeros.
func hasDot(x uint64) uint64 { return zeroByte(x ^ (ones * '.')) }

const ones, highs = 0x0101010101010101, 0x8080808080808080

// zeroByte has the top bit set in each byte of y that is 0, and maybe in
// bytes after one that is (in memory order), which the first mark does not
// depend on.
func zeroByte(y uint64) uint64 { return (y - ones) &^ y & highs }

// firstByte returns the byte the first pass makes of p at i and how many
// bytes of p it takes, if it is a byte that is not '%' ("5") or a %XX escape
// of a byte below 0xC0 ("%35"), and 0 bytes otherwise.
func firstByte(p []byte, i int) (byte, int) {
	if i >= len(p) {
		return 0, 0
	}
	if c := p[i]; c != '%' {
		return c, 1
	}
	if i+2 < len(p) && hexVal[p[i+1]]|hexVal[p[i+2]] < 16 && hexVal[p[i+1]] < 0xc {
		return hexVal[p[i+1]]<<4 | hexVal[p[i+2]], 3
	}
	return 0, 0
}

// decodeByte decodes both passes' escapes (steps 1 to 3) at p[r], which is
// '%', and returns the byte they make and where the next begins. It reports
// false where one byte at a time cannot follow the two passes: a %uXXXX of
// 0x80 or more (several bytes), a literal byte that may lead an overlong
// sequence, an escaped 0xE0 (a three-byte one), an escaped 0xC0 or 0xC1
// with nothing after it, a '%' from the first pass followed by 'u', and a
// byte from the second pass that may lead an overlong sequence.
func decodeByte(p []byte, r int) (byte, int, bool) {
	c, r, ok := firstPass(p, r)
	if !ok || c != '%' {
		return c, r, ok
	}
	// The second pass reads what the first made of the bytes that follow.
	if r >= len(p) {
		return '%', r, true
	}
	a, ra, ok := firstPass(p, r)
	if !ok || a == 'u' || a == 'U' {
		return 0, 0, false
	}
	if ra >= len(p) {
		return '%', r, true
	}
	b, rb, ok := firstPass(p, ra)
	if !ok {
		return 0, 0, false
	}
	if hexVal[a]|hexVal[b] >= 16 {
		return '%', r, true // the second pass keeps it, and goes on after it
	}
	c = hexVal[a]<<4 | hexVal[b]
	if c == 0xc0 || c == 0xc1 || c == 0xe0 {
		return 0, 0, false
	}
	return c, rb, true
}

// firstPass returns the byte the first pass (steps 1 and 2) makes of p at
// r and where the next begins, or false as decodeByte says.
func firstPass(p []byte, r int) (byte, int, bool) {
	c, r, ok := firstDecode(p, r)
	switch {
	case !ok || c < 0xc0:
		return c, r, ok
	case (c == 0xc0 || c == 0xc1) && r < len(p):
		// Overlong UTF-8 ("%c0%af"): joined to the next byte, whatever
		// its top bits.
		d, next, ok := firstDecode(p, r)
		return (c&0x1f)<<6 | d&0x3f, next, ok
	case c == 0xc0 || c == 0xc1 || c == 0xe0:
		return 0, 0, false
	}
	return c, r, true
}

// firstDecode returns the byte step 1 makes of p at r and where the next
// begins, or false for a %uXXXX of 0x80 or more and a literal overlong
// lead.
func firstDecode(p []byte, r int) (byte, int, bool) {
	c := p[r]
	if c != '%' {
		return c, r + 1, rawClass[c] != rawLead
	}
	if r+5 < len(p) && (p[r+1] == 'u' || p[r+1] == 'U') {
		h1, h2, h3, h4 := hexVal[p[r+2]], hexVal[p[r+3]], hexVal[p[r+4]], hexVal[p[r+5]]
		if h1|h2|h3|h4 < 16 {
			if h1|h2 != 0 || h3 >= 8 {
				return 0, 0, false
			}
			return h3<<4 | h4, r + 6, true
		}
	}
	if r+2 < len(p) {
		if h1, h2 := hexVal[p[r+1]], hexVal[p[r+2]]; h1|h2 < 16 {
			return h1<<4 | h2, r + 3, true
		}
	}
	return '%', r + 1, true
}

// needsDecoding reports whether b holds an escape or a NUL, and whether it
// holds a byte that may start an overlong sequence: most paths hold
// neither and skip steps 1 to 4. It looks at eight bytes at a time.
func needsDecoding(b []byte) (esc, high bool) {
	var acc, hi uint64
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		acc |= zeroByte(x) | zeroByte(x^(ones*'%'))
		hi |= x
		b = b[8:]
	}
	for _, c := range b {
		if c == '%' || c == 0 {
			esc = true
		}
		hi |= uint64(c)
	}
	// A byte of 0x80 or more says "maybe": overlong leaves the others
	// alone, so a false yes costs only a pass.
	return esc || acc != 0, hi&highs != 0
}

// decode does steps 1 and 2 once, in place: neither step ever writes more
// bytes than it reads. high says whether b's literal bytes may include one
// that starts an overlong sequence; decode reports whether its result may,
// and whether it holds a '%' from an escape or a literal one (which a
// second pass might decode).
func decode(b []byte, high bool) (_ []byte, _, pct bool) {
	w, r := 0, 0
	for {
		i := bytes.IndexByte(b[r:], '%')
		if i < 0 {
			w += copy(b[w:], b[r:])
			break
		}
		if w == r {
			w += i // nothing has moved yet
		} else {
			w += copy(b[w:], b[r:r+i])
		}
		r += i
		if r+5 < len(b) && (b[r+1] == 'u' || b[r+1] == 'U') {
			h1, h2, h3, h4 := hexVal[b[r+2]], hexVal[b[r+3]], hexVal[b[r+4]], hexVal[b[r+5]]
			if h1|h2|h3|h4 < 16 {
				cp := rune(h1)<<12 | rune(h2)<<8 | rune(h3)<<4 | rune(h4)
				n := putUTF8(b[w:], cp)
				high = high || b[w] >= 0xc0
				pct = pct || cp == '%'
				w += n
				r += 6
				continue
			}
		}
		if r+2 < len(b) {
			if h1, h2 := hexVal[b[r+1]], hexVal[b[r+2]]; h1|h2 < 16 {
				c := h1<<4 | h2
				high = high || c >= 0xc0
				pct = pct || c == '%'
				b[w] = c
				w++
				r += 3
				continue
			}
		}
		b[w] = '%'
		w++
		r++
		pct = true
	}
	if !high {
		return b[:w], false, pct
	}
	// Collapsing an overlong sequence can make a '%' (%c0%a5): the
	// caller runs the second pass whenever this one saw a high byte.
	return overlong(b[:w]), true, pct
}

// hexVal is the value of each hexadecimal digit, and 0xff for the bytes
// that are not one.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c], t[c-'a'+'A'] = c-'a'+10, c-'a'+10
	}
	return t
}()

// overlong replaces overlong UTF-8 encodings of ASCII characters with the
// characters, ignoring the continuation bytes' top two bits as IIS did.
func overlong(b []byte) []byte {
	w := 0
	for r := 0; r < len(b); {
		c := b[r]
		switch {
		case (c == 0xc0 || c == 0xc1) && r+1 < len(b):
			b[w] = (c&0x1f)<<6 | b[r+1]&0x3f
			w++
			r += 2
			continue
		case c == 0xe0 && r+2 < len(b) && b[r+1]&0x3f < 2:
			// 0xE0 with a continuation of 0x80 or 0x81 (top bits ignored)
			// encodes a code point below 0x80.
			b[w] = (b[r+1]&0x3f)<<6 | b[r+2]&0x3f
			w++
			r += 3
			continue
		}
		b[w] = c
		w++
		r++
	}
	return b[:w]
}

// putUTF8 writes cp (below 0x10000) as UTF-8 into b, which has room for the
// six bytes of the %uXXXX it came from, and returns the bytes written.
func putUTF8(b []byte, cp rune) int {
	switch {
	case cp < 0x80:
		b[0] = byte(cp)
		return 1
	case cp < 0x800:
		b[0] = 0xc0 | byte(cp>>6)
		b[1] = 0x80 | byte(cp)&0x3f
		return 2
	default:
		b[0] = 0xe0 | byte(cp>>12)
		b[1] = 0x80 | byte(cp>>6)&0x3f
		b[2] = 0x80 | byte(cp)&0x3f
		return 3
	}
}

// The bytes resolve tells apart, by class.
const (
	classSep  = 1 << iota // '/' or '\\'
	classDot              // '.'
	classSemi             // ';'
)

var byteClass = [256]uint8{'/': classSep, '\\': classSep, '.': classDot, ';': classSemi}

// resolve does steps 5 to 7 in place on b, which starts with '/'.
func resolve(b []byte) []byte {
	w := 0 // b[:w] is the resolved path so far, without a trailing '/'
	// starts holds where the names kept so far begin in b[:w] (their
	// '/'), for ".." to drop the last one without a search back; a path
	// deeper than it holds searches.
	var starts [16]int
	depth := 0
	for r := 0; r < len(b); {
		if byteClass[b[r]] == classSep {
			r++
			continue
		}
		// One look at each byte of the name finds its end and whether
		// it holds a dot or a ';', which only the names of files do.
		s := r
		var seen uint8
		semi := -1
		for ; r < len(b); r++ {
			c := byteClass[b[r]]
			if c == 0 {
				continue
			}
			if c == classSep {
				break
			}
			if c == classSemi && semi < 0 {
				semi = r - s
			}
			seen |= c
		}
		seg := b[s:r]
		if seen&classDot != 0 {
			switch {
			case len(seg) == 1:
				continue // "."
			case len(seg) == 2 && seg[0] == '.' && seg[1] == '.':
				// "..": drop the last name kept, never above the root.
				switch {
				case depth > 0 && depth <= len(starts):
					depth--
					w = starts[depth]
				case depth > len(starts):
					depth--
					for w > 0 && b[w-1] != '/' {
						w--
					}
					if w > 0 {
						w-- // the '/' before the removed name
					}
				}
				continue
			}
		}
		// Trailing dots and spaces go; a name of nothing but those is gone.
		e := len(seg)
		for e > 0 && (seg[e-1] == '.' || seg[e-1] == ' ') {
			e--
		}
		if e == 0 {
			continue
		}
		name := seg[:e]
		script := false
		if seen&classDot != 0 {
			if semi >= 0 && semi < e && scriptMapped(name[:semi]) {
				name, script = name[:semi], true
			} else {
				script = scriptMapped(name)
			}
		}
		if depth < len(starts) {
			starts[depth] = w
		}
		depth++
		b[w] = '/'
		w++
		if w != s {
			w += copy(b[w:], name) // w <= s, so this never overtakes the reader
		} else {
			w += len(name) // already in place
		}
		if script {
			return b[:w]
		}
	}
	if w == 0 {
		b[0] = '/'
		w = 1
	}
	return b[:w]
}

// scriptMapped reports whether name's extension is one IIS 5 ran rather
// than served, ignoring ASCII case: its default script maps (ASP, Index
// Server's .ida, .idq and .htw, .htr, .idc, server-side includes, .printer)
// and the executables it ran as CGI or ISAPI.
func scriptMapped(name []byte) bool {
	dot := -1
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '.' {
			dot = i
			break
		}
	}
	if dot < 0 {
		return false
	}
	ext := name[dot+1:]
	if len(ext) == 3 {
		// Setting bit 5 lowers a letter and makes no letter of a byte
		// that is not one.
		switch uint32(ext[0])<<16 | uint32(ext[1])<<8 | uint32(ext[2]) | 0x202020 {
		case 'a'<<16 | 's'<<8 | 'p', 'a'<<16 | 's'<<8 | 'a', 'c'<<16 | 'd'<<8 | 'x', 'c'<<16 | 'e'<<8 | 'r', 'h'<<16 | 't'<<8 | 'r', 'i'<<16 | 'd'<<8 | 'c', 's'<<16 | 't'<<8 | 'm',
			'i'<<16 | 'd'<<8 | 'a', 'i'<<16 | 'd'<<8 | 'q', 'h'<<16 | 't'<<8 | 'w', 'e'<<16 | 'x'<<8 | 'e', 'd'<<16 | 'l'<<8 | 'l', 'c'<<16 | 'o'<<8 | 'm', 'b'<<16 | 'a'<<8 | 't', 'c'<<16 | 'm'<<8 | 'd':
			return true
		}
		return false
	}
	if len(ext) < 3 || len(ext) > 7 {
		return false
	}
	var low [7]byte
	for i, c := range ext {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	// The compiler turns a switch on a converted byte slice into
	// comparisons without a conversion.
	switch string(low[:len(ext)]) {
	case "shtm", "shtml", "printer":
		return true
	}
	return false
}

// Canonical reports whether p is already in the form Append gives for the
// purpose of matching: it starts with '/', holds no escape, backslash, NUL,
// ';', space or byte of 0x80 or more, no empty, "." or ".." segment, no
// name ending in a dot, and no dot before the last segment (where
// PATH_INFO might follow a script). It is a fast check so callers can skip
// Append for most paths; it may say false for a path that Append would
// leave alone.
func Canonical(p []byte) bool {
	n := len(p)
	if n == 0 || p[0] != '/' || n > 1 && (p[n-1] == '.' || p[n-1] == '/') || special(p) {
		return false
	}
	// A dot before the last '/' is a dot segment, a name ending in a dot
	// or a script with PATH_INFO after it; "//" is an empty segment.
	last := bytes.LastIndexByte(p, '/')
	return bytes.IndexByte(p[:last], '.') < 0 && bytes.Index(p[:last+1], []byte("//")) < 0
}

// special reports whether p holds a byte Canonical refuses: '%', '\\',
// ';', ' ', NUL, or one of 0x80 or more (a superset of those that may lead
// an overlong sequence). It looks at eight bytes at a time.
func special(p []byte) bool {
	for len(p) >= 8 {
		x := binary.LittleEndian.Uint64(p)
		if zeroByte(x)|zeroByte(x^(ones*'%'))|zeroByte(x^(ones*'\\'))|zeroByte(x^(ones*';'))|zeroByte(x^(ones*' '))|x&highs != 0 {
			return true // an evasion says so early
		}
		p = p[8:]
	}
	for _, c := range p {
		switch c {
		case '%', '\\', ';', ' ', 0:
			return true
		}
		if c >= 0x80 {
			return true
		}
	}
	return false
}
