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
)

// Append appends the IIS 5 form of the raw path p (a request target's path,
// without the query) to dst and returns the extended slice. The result
// always starts with '/' and is at most len(p)+1 bytes long, so a dst with
// that much spare capacity makes Append allocation-free. p must not share
// memory with dst's spare capacity.
func Append(dst, p []byte) []byte {
	return appendForm(dst, p, true)
}

// appendForm is Append; with oneScan false it always decodes in two
// passes, which the tests compare the one-scan path with.
func appendForm(dst, p []byte, oneScan bool) []byte {
	start := len(dst)
	// A leading '/' lets every later step work in place: the reader is
	// always at least one separator ahead of the writer.
	dst = append(dst, '/')
	dst = append(dst, p...)
	b := dst[start+1:]
	if esc, high := needsDecoding(b); esc || high {
		done := false
		if oneScan && !high {
			if b, done = decodeTwice(b); !done {
				b = dst[start+1:]
				copy(b, p) // undo the partial scan
			}
		}
		if !done {
			// The first pass may leave bytes that lead an overlong
			// sequence for the second to finish, so the second looks for
			// them if the first saw or made any; with neither those nor
			// a '%' left, the second pass would change nothing.
			var pct bool
			b, high, pct = decode(b, high)
			if pct || high {
				b, _, _ = decode(b, high)
			}
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
	}
	b = resolve(dst[start : start+1+len(b)])
	return dst[:start+len(b)]
}

// decodeTwice does both decoding passes (steps 1 to 3) in one scan, in
// place, for the paths worms sent: escapes of ASCII bytes, "%25" and two
// hex digits, which the second pass decodes, and a two-byte overlong
// sequence whose lead is an escape ("%c0%af", "%c1%1c"), and escapes of
// other bytes, which neither pass changes ("%C3%A9"). It gives up,
// reporting false with b partly overwritten, on anything else the second
// pass or the overlong step would see: a 0xE0 lead, a '%' left by the
// first pass other than as "%25XX" (a lone '%', "%u0025", "%%35%63",
// "%25%35%63"), and, from "%25XX", an overlong lead. b must hold no byte
// of 0x80 or more.
func decodeTwice(b []byte) ([]byte, bool) {
	w, r := 0, 0
	for {
		i := bytes.IndexByte(b[r:], '%')
		if i < 0 {
			w += copy(b[w:], b[r:])
			return b[:w], true
		}
		if w == r {
			w += i
		} else {
			w += copy(b[w:], b[r:r+i])
		}
		r += i
		if r+2 >= len(b) {
			return nil, false
		}
		h1, h2 := hexVal[b[r+1]], hexVal[b[r+2]]
		if h1|h2 >= 16 {
			return nil, false // %u, or a '%' the first pass keeps
		}
		c := h1<<4 | h2
		r += 3
		switch c {
		case '%':
			// "%25XX": the first pass leaves "%XX" for the second.
			if r+1 >= len(b) {
				return nil, false
			}
			h1, h2 = hexVal[b[r]], hexVal[b[r+1]]
			if h1|h2 >= 16 {
				return nil, false
			}
			c = h1<<4 | h2
			r += 2
			if c == 0xc0 || c == 0xc1 || c == 0xe0 {
				return nil, false // the second pass's overlong step would join it to what follows
			}
		case 0xc0, 0xc1:
			// Overlong UTF-8 ("%c0%af"): the first pass joins it to the
			// next byte it writes, whatever that byte's top bits.
			var d byte
			switch {
			case r < len(b) && b[r] != '%':
				d = b[r]
				r++
			case r+2 < len(b) && hexVal[b[r+1]]|hexVal[b[r+2]] < 16:
				d = hexVal[b[r+1]]<<4 | hexVal[b[r+2]]
				r += 3
			default:
				return nil, false
			}
			if c = (c&0x1f)<<6 | d&0x3f; c == '%' {
				return nil, false // the second pass would decode it
			}
		case 0xe0:
			return nil, false // a three-byte overlong sequence may follow
		}
		// Any other byte of 0x80 or more (real UTF-8, "%C3%A9") is left
		// alone by both passes.
		b[w] = c
		w++
	}
}

// needsDecoding reports whether b holds an escape or a NUL, and whether it
// holds a byte that may start an overlong sequence: most paths hold
// neither and skip steps 1 to 4. It looks at eight bytes at a time.
func needsDecoding(b []byte) (esc, high bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// zero has the high bit set in each byte of x that is 0 (and maybe
	// in higher ones, which is enough to say whether there is one).
	zero := func(x uint64) uint64 { return (x - ones) &^ x & highs }
	var acc, hi uint64
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		acc |= zero(x) | zero(x^(ones*'%'))
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
	case "asp", "asa", "cdx", "cer", "htr", "idc", "shtm", "shtml", "stm", "printer",
		"ida", "idq", "htw", "exe", "dll", "com", "bat", "cmd":
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
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(x uint64) uint64 { return (x - ones) &^ x & highs }
	for len(p) >= 8 {
		x := binary.LittleEndian.Uint64(p)
		if zero(x)|zero(x^(ones*'%'))|zero(x^(ones*'\\'))|zero(x^(ones*';'))|zero(x^(ones*' '))|x&highs != 0 {
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
