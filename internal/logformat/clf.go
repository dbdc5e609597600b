package logformat

import (
	"bytes"
	"encoding/binary"
)

// clfParser reads the common log format and its combined extension,
// written by Apache (%h %l %u %t "%r" %>s %b ["%{Referer}i" "%{User-agent}i"])
// and by nginx's default log_format:
//
//	10.1.2.3 - - [19/Jul/2001:10:00:01 -0700] "GET /default.ida?NNN... HTTP/1.0" 404 205 "-" "-"
//
// Apache's vhost_combined (Debian's other_vhosts_access.log) puts the
// virtual host and port first: "www.example.com:80 10.1.2.3 - - [...".
//
// The time is in the zone the line gives. Apache escapes a '"' inside the
// request as \" and nginx as \x22, so a quote preceded by a backslash does
// not end the request.
type clfParser struct {
	format string
	vhost  bool // a "host:port" field comes first, as in Apache's vhost_combined
	why    string
	tail   bool // the last line had a quoted field after status and size

	// The last time stamp and its value: a busy log repeats each second's
	// stamp many times, so comparing 26 bytes saves most parses.
	lastStamp [clfTimeLen]byte
	lastTime  int64
}

// clfBadTime is the reason for a line that is the common log format up to
// a time stamp that is not one.
const clfBadTime = "bad [time]"

func (p *clfParser) Format() string { return p.format }
func (p *clfParser) Why() string    { return p.why }

func (p *clfParser) Parse(line []byte, rec *Record) Result {
	*rec = Record{}
	p.tail = false
	if len(line) == 0 {
		return Skip
	}
	// Most lines start "a.b.c.d - - [": read the address as the field is
	// scanned, and find the bracket without a search.
	var sp int
	if p.vhost {
		// "%v:%p %h ...": the client is the second field.
		if sp = bytes.IndexByte(line, ' '); sp <= 0 {
			p.why = "not common log format (no client field)"
			return Bad
		}
		line = line[sp+1:]
	}
	v4, n := scanV4(line)
	if n > 0 && n < len(line) && line[n] == ' ' {
		sp = n
		rec.Host, rec.V4, rec.IsV4 = line[:sp], v4, true
	} else {
		if sp = bytes.IndexByte(line, ' '); sp <= 0 {
			if p.vhost {
				p.why = "not vhost_combined (no client field)"
			} else {
				p.why = "not common log format (no client field)"
			}
			return Bad
		}
		setHost(rec, line[:sp])
	}
	// ident and user come before the '[' of the time; a user name could hold
	// a space, so search for the bracket rather than counting fields.
	var lb int
	if len(line) > sp+5 && string(line[sp:sp+5]) == " - - " && line[sp+5] == '[' {
		lb = sp + 5
	} else {
		if lb = bytes.IndexByte(line[sp:], '['); lb < 0 {
			p.why = "no [time]"
			return Bad
		}
		lb += sp
	}
	if len(line) < lb+1+clfTimeLen+1 || line[lb+1+clfTimeLen] != ']' {
		p.why = clfBadTime
		return Bad
	}
	stamp := line[lb+1 : lb+1+clfTimeLen]
	if sameStamp(stamp, &p.lastStamp) {
		rec.Time = p.lastTime
	} else {
		t, ok := parseCLFTime(stamp)
		if !ok {
			p.why = clfBadTime
			return Bad
		}
		copy(p.lastStamp[:], stamp)
		p.lastTime, rec.Time = t, t
	}
	rec.HasTime = true
	rest := line[lb+1+clfTimeLen+1:]
	if len(rest) < 2 || rest[0] != ' ' || rest[1] != '"' {
		p.why = "no \"request\""
		return Bad
	}
	rest = rest[2:]
	end := closingQuote(rest)
	if end < 0 {
		// A line cut short (by the reader's bound or a crash) keeps what
		// there is of its request: a probe's start is enough to name it.
		rec.URI = rest
		return OK
	}
	rec.URI = rest[:end]
	rest = rest[end+1:]
	// status and size, then an optional quoted referer.
	if i := bytes.IndexByte(rest, '"'); i >= 0 {
		p.tail = true
	}
	return OK
}

// sameStamp reports whether the time stamp a equals b, in four loads a
// side: the seconds, which change most often, first.
func sameStamp(a []byte, b *[clfTimeLen]byte) bool {
	_ = a[clfTimeLen-1]
	le := binary.LittleEndian
	return le.Uint64(a[16:]) == le.Uint64(b[16:]) && le.Uint64(a[8:]) == le.Uint64(b[8:]) &&
		le.Uint64(a) == le.Uint64(b[:]) && le.Uint16(a[24:]) == le.Uint16(b[24:])
}

// closingQuote returns the index of the first '"' in b not escaped by a
// backslash, or -1.
func closingQuote(b []byte) int {
	off := 0
	for {
		i := bytes.IndexByte(b[off:], '"')
		if i < 0 {
			return -1
		}
		i += off
		// Count the backslashes before it: an even number escape each other.
		n := 0
		for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return i
		}
		off = i + 1
	}
}
