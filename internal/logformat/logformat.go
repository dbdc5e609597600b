// Package logformat parses the lines of web-server access logs: Apache and
// nginx common and combined formats, IIS W3C extended logs, and a fallback
// that finds a request line anywhere in a line. It tells the format of a
// file from its content and parses each line into a Record without
// allocating, so a detector can read gigabytes at memory speed.
package logformat

import (
	"bytes"
	"net/netip"
)

// Record is what a line says about one request. Byte slices point into the
// line and are valid only as long as it is.
type Record struct {
	Time    int64 // seconds since 1970-01-01 UTC; valid if HasTime
	HasTime bool

	Host []byte // the client as logged: an address or, with lookups on, a name
	V4   uint32 // Host as a big-endian IPv4 address (1.2.3.4 is 0x01020304); valid if IsV4
	IsV4 bool

	Path  []byte // URL path, when the format logs it apart (IIS cs-uri-stem)
	Query []byte // query without '?', when logged apart (IIS cs-uri-query); "-" becomes empty
	URI   []byte // the request line or target, when logged whole (Apache %r)
}

// Result says what a line was.
type Result uint8

const (
	OK   Result = iota // a request, in rec
	Skip               // not a request by design: blank, a comment or a directive
	Bad                // meant to be a request but does not parse; see Parser.Why
)

// A Parser parses the lines of one file in order. Parsers keep state (the
// IIS #Fields directive, a cache of the last time stamp), so each file needs
// its own, and a Parser is not safe for concurrent use.
type Parser interface {
	// Format returns the format's name, e.g. "combined" or "iis-w3c".
	Format() string
	// Parse parses line into rec, overwriting all of rec. On Bad, Why
	// tells the reason.
	Parse(line []byte, rec *Record) Result
	// Why returns the reason for the last Bad result, a short constant
	// phrase such as "no time stamp".
	Why() string
}

// Format names.
const (
	Common   = "common"         // Apache/nginx common log format
	Combined = "combined"       // common plus referer and user agent
	VHost    = "vhost_combined" // combined after a "vhost:port" field (Apache)
	IIS      = "iis-w3c"        // IIS W3C extended, #Fields directive
	Fallback = "fallback"       // a request line found anywhere in the line
)

// New returns a parser for the named format, or nil.
func New(format string) Parser {
	switch format {
	case Common, Combined:
		return &clfParser{format: format}
	case VHost:
		return &clfParser{format: format, vhost: true}
	case IIS:
		return &iisParser{}
	case Fallback:
		return &fallbackParser{}
	case IISComma:
		return &iisCommaParser{}
	case Auto:
		return newAuto()
	}
	return nil
}

// Names lists the formats New knows, Auto first.
var Names = []string{Auto, Common, Combined, VHost, IIS, IISComma, Fallback}

// Counter is implemented by the Auto parser: how many lines each format
// read, and which read the last one.
type Counter interface {
	Formats() map[string]int64
	Last() string
}

// Compile-time checks that each format implements Parser.
var (
	_ Parser = (*clfParser)(nil)
	_ Parser = (*iisParser)(nil)
	_ Parser = (*fallbackParser)(nil)
	_ Parser = (*iisCommaParser)(nil)
	_ Parser = (*iisBareParser)(nil)
	_ Parser = (*syslogParser)(nil)
	_ Parser = (*autoParser)(nil)
)

// SniffLines is how many non-blank lines Sniff wants to see.
const SniffLines = 32

// Sniff returns the format of a file from its first non-blank lines: IIS if
// a W3C directive opens it; combined or common if most lines parse as the
// common log format (combined when most of those carry the referer and user
// agent, vhost_combined when a "name:port" field comes before the client);
// the fallback otherwise.
func Sniff(lines [][]byte) string {
	var clf clfParser
	var rec Record
	n, ok, tail, vhost := 0, 0, 0, 0
	for _, l := range lines {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		n++
		if n == 1 || l[0] == '#' {
			for _, d := range [...]string{"#Software:", "#Version:", "#Fields:", "#Date:", "#Start-Date:"} {
				if bytes.HasPrefix(l, []byte(d)) {
					return IIS
				}
			}
		}
		if clf.Parse(l, &rec) == OK {
			ok++
			if clf.tail {
				tail++
			}
			if isVHostLine(l) {
				vhost++
			}
		}
	}
	if ok > 0 && 2*ok >= n {
		if 2*vhost > ok {
			return VHost
		}
		if 2*tail > ok {
			return Combined
		}
		return Common
	}
	return Fallback
}

// isVHostLine reports whether a line that parses as the common log format
// has a "name:port" first field followed by an address, which makes it
// vhost_combined. An IPv6 client also holds colons, but is followed by the
// ident field, "-", not by an address.
func isVHostLine(l []byte) bool {
	first, rest, ok := bytes.Cut(l, []byte{' '})
	if !ok {
		return false
	}
	i := bytes.LastIndexByte(first, ':')
	if i < 0 {
		return false
	}
	if _, ok := num(first[i+1:]); !ok {
		return false
	}
	second, _, _ := bytes.Cut(rest, []byte{' '})
	_, err := netip.ParseAddr(string(second))
	return err == nil
}

// parseV4 parses a dotted-quad IPv4 address as net/netip does (no leading
// zeros, each part at most 255).
func parseV4(b []byte) (uint32, bool) {
	a, n := scanV4(b)
	return a, n > 0 && n == len(b)
}

// scanV4 reads a dotted-quad IPv4 address at the start of b and returns
// it and its length, or a length of 0 if b does not start with one. The
// byte after it is not looked at: "1.2.3.4.5" starts with 1.2.3.4, and a
// caller that wants a whole field checks what follows. It runs for every
// line of a log, so the digits are read one by one without a loop, and
// from a line of 16 bytes or more (almost all) without bounds checks.
func scanV4(b []byte) (uint32, int) {
	if len(b) < 16 {
		var w [16]byte
		copy(w[:], b)
		// The zero bytes after b end the address as a space would.
		return scanV4At(&w)
	}
	return scanV4At((*[16]byte)(b))
}

// scanV4At is scanV4 on 16 bytes: an address is at most 15 long, so the
// index i, at most 15 wherever a byte is read, masked with 15 stays in
// bounds without a check.
func scanV4At(p *[16]byte) (uint32, int) {
	var a uint32
	i := 0
	for part := range 4 {
		if part > 0 {
			if p[i&15] != '.' {
				return 0, 0
			}
			i++
		}
		d := p[i&15] - '0'
		if d > 9 {
			return 0, 0
		}
		v := uint32(d)
		i++
		if d := p[i&15] - '0'; d <= 9 {
			if v == 0 {
				return 0, 0 // a leading zero
			}
			v = v*10 + uint32(d)
			i++
			if d := p[i&15] - '0'; d <= 9 {
				v = v*10 + uint32(d)
				i++
				if v > 255 {
					return 0, 0
				}
			}
		}
		a = a<<8 | v
	}
	return a, i
}

func setHost(rec *Record, host []byte) {
	rec.Host = host
	rec.V4, rec.IsV4 = parseV4(host)
}
