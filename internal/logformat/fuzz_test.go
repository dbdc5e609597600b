package logformat

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// FuzzParsers feeds one line to every parser, after an IIS header, and checks
// that none panics, that what they return lies inside the line, and that an
// IPv4 client agrees with net/netip.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{
		`10.1.2.3 - - [19/Jul/2001:10:00:01 +0000] "GET /default.ida?NNNN HTTP/1.0" 404 205 "-" "-"`,
		`10.1.2.3 - - [19/Jul/2001:10:00:01 +0000] "GET /a\"b\\" 1 1 "`, // escaped quotes, odd backslashes
		`1.2.3. - - [31/Dec/1999:23:59:60 -2359] "`,                     // bad address, leap second, extreme zone
		`2001-07-19 10:00:01 10.1.2.3 GET /scripts/root.exe /c+dir 404`,
		`#Fields: date time c-ip cs-uri`, // a directive as data
		`#Date: 2001-07-19`,
		`2001-07-19T10:00:01+05:30 256.0.0.1 01.2.3.4 "GET /x HTTP/1.1"`,
		"\x00\xff[\x00/Jul/2001:10:00:01 +0000]",
		"GET /",
		"[",
		"\xef\xbb\xbf#Fields: date time c-ip cs-uri-stem",
		"192.0.2.7, -, 7/19/01, 10:00:04, W3SVC1, WEB1, 10.0.0.5, 15, 400, 250, 404, 2, GET, /scripts/root.exe, /c+dir,",
		`Jul 19 10:00:06 10.9.9.9 httpd[812]: 10.1.2.6 - - [19/Jul/2001:10:00:06 +0000] "GET / HTTP/1.0" 404 205`,
		`<134>1 2001-07-19T10:00:09Z 10.9.9.9 httpd 812 - [origin ip="10.9.9.9"] 10.1.2.9 - - [19/Jul/2001:10:00:09 +0000] "GET /"`,
		"<1>1 a b c d e [x=\"]\\\"",
		"2001-09-19 10:00:01 10.0.0.5 GET /scripts/root.exe /c+dir 80 - 192.0.2.9 Mozilla/4.0 404 0 2 15",
		"10:00:04 192.0.2.11 GET /default.ida 404",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		b := []byte(line)
		iis := New(IIS)
		var rec Record
		iis.Parse([]byte("#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status"), &rec)
		// The auto parser sees the line after a combined line and after
		// the IIS header, so that each format gets to be the current one.
		auto := New(Auto)
		auto.Parse([]byte(`10.1.2.3 - - [19/Jul/2001:10:00:01 +0000] "GET / HTTP/1.0" 200 1`), &rec)
		autoIIS := New(Auto)
		autoIIS.Parse([]byte("#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status"), &rec)
		for _, p := range []Parser{New(Combined), New(VHost), iis, New(Fallback), New(IISComma), &iisBareParser{}, &syslogParser{inner: newInner()}, auto, autoIIS} {
			res := p.Parse(b, &rec)
			if res == Bad && p.Why() == "" {
				t.Fatalf("%s: Bad without a reason for %q", p.Format(), line)
			}
			if res != OK {
				continue
			}
			for _, s := range [][]byte{rec.Host, rec.Path, rec.Query, rec.URI} {
				if len(s) > 0 && !within(b, s) {
					t.Fatalf("%s: field %q is not inside the line %q", p.Format(), s, line)
				}
			}
			if rec.IsV4 {
				a, err := netip.ParseAddr(string(rec.Host))
				if err != nil || !a.Is4() || a.As4() != [4]byte{byte(rec.V4 >> 24), byte(rec.V4 >> 16), byte(rec.V4 >> 8), byte(rec.V4)} {
					t.Fatalf("%s: host %q parsed as %08x; netip says %v, %v", p.Format(), rec.Host, rec.V4, a, err)
				}
			}
		}
	})
}

func within(line, s []byte) bool {
	for i := range line {
		if &line[i] == &s[0] {
			return i+len(s) <= len(line)
		}
	}
	return false
}

// FuzzCLFTime checks the hand-written time parser against time.Parse.
func FuzzCLFTime(f *testing.F) {
	for _, s := range []string{
		"19/Jul/2001:10:00:01 +0000", "29/Feb/2000:00:00:00 -0700", "29/Feb/1900:00:00:00 +0000", // leap rules
		"31/Apr/2001:00:00:00 +0000", "01/jan/0001:00:00:00 +2359", "19/Jul/2001:24:00:00 +0000",
		"19/Jul/2001:10:00:01 +00:0", "1/Jul/2001:10:00:01 +00000",
	} {
		f.Add(s)
	}
	f.Add("01/FEB/0000:00:00:00 +0060") // time.Parse reads zone minute 60 as an hour
	f.Add("01/JAN/0000:00:00:00 +2400") // and zone hour 24 as a day
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseCLFTime([]byte(s))
		want, err := time.Parse("02/Jan/2006:15:04:05 -0700", s)
		if err == nil && len(s) == clfTimeLen && (s[22:24] > "23" || s[24:26] > "59") {
			// time.Parse takes zone hours up to 24 and minutes up to 60
			// ("+0060" is an hour east, "+2400" a day); no zone is that
			// far out, so the reference is wrong there and the parser's
			// refusal is right.
			err = errors.New("zone out of range")
		}
		if ok && err == nil && got != want.Unix() {
			t.Fatalf("parseCLFTime(%q) = %d, time.Parse gives %d", s, got, want.Unix())
		}
		// time.Parse accepts a few things the fixed layout does not
		// (one-digit days and hours, a second space before the zone) and
		// refuses second 60; require agreement only where the string has
		// the layout's shape.
		if err == nil && !ok && strictCLFShape(s) {
			t.Fatalf("parseCLFTime(%q) refused what time.Parse reads as %v", s, want)
		}
	})
}

// strictCLFShape reports whether s has digits, separators and a three-letter
// month exactly where "19/Jul/2001:10:00:01 +0000" has them.
func strictCLFShape(s string) bool {
	const shape = "dd/MMM/dddd:dd:dd:dd Sdddd"
	if len(s) != len(shape) {
		return false
	}
	for i := range len(shape) {
		c := s[i]
		switch shape[i] {
		case 'd':
			if c < '0' || c > '9' {
				return false
			}
		case 'M':
			if c|0x20 < 'a' || c|0x20 > 'z' {
				return false
			}
		case 'S':
			if c != '+' && c != '-' {
				return false
			}
		default:
			if c != shape[i] {
				return false
			}
		}
	}
	return true
}

// FuzzScanV4 checks the address scan that every format's client field
// goes through (parseV4 is the scan of a whole field) against net/netip:
// what it reads is an IPv4 address netip reads the same, and a field that
// netip reads as one is read to its end.
func FuzzScanV4(f *testing.F) {
	for _, s := range []string{"10.1.2.3 -", "0.0.0.0", "255.255.255.255 x", "256.1.1.1 ", "01.2.3.4 ", "1.2.3.4.5 ",
		"1.2.3.4x ", "1.2.3 ", "1..2.3 ", "1.2.3.0004 ", "::1 ", "a.b.c.d ", "1.2.3.255", "1.2.3.256", "9.99.199.249"} {
		f.Add(s)
	}
	asV4 := func(a netip.Addr) uint32 {
		b := a.As4()
		return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		v, n := scanV4(b)
		if n > len(b) {
			t.Fatalf("scanV4(%q) read %d bytes", s, n)
		}
		if n > 0 {
			a, err := netip.ParseAddr(s[:n])
			if err != nil || !a.Is4() || asV4(a) != v {
				t.Fatalf("scanV4(%q) = %08x, %d; netip says %v, %v", s, v, n, a, err)
			}
		}
		if a, err := netip.ParseAddr(s); err == nil && a.Is4() && (n != len(b) || v != asV4(a)) {
			t.Fatalf("scanV4(%q) = %08x, %d; netip says %v", s, v, n, a)
		}
		if w, ok := parseV4(b); ok != (n == len(b) && n > 0) || (ok && w != v) {
			t.Fatalf("parseV4(%q) = %08x, %v; scanV4 read %d of %d bytes", s, w, ok, n, len(b))
		}
	})
}
