package logformat

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// show renders a record for comparison: time in UTC, host, and the request
// fields that are set.
func show(r Record) string {
	var b strings.Builder
	if r.HasTime {
		b.WriteString(time.Unix(r.Time, 0).UTC().Format(time.RFC3339))
	} else {
		b.WriteString("notime")
	}
	fmt.Fprintf(&b, " host=%s", r.Host)
	if r.IsV4 {
		fmt.Fprintf(&b, "(%08x)", r.V4)
	}
	if r.Path != nil {
		fmt.Fprintf(&b, " path=%s", r.Path)
	}
	if r.Query != nil {
		fmt.Fprintf(&b, " query=%s", r.Query)
	}
	if r.URI != nil {
		fmt.Fprintf(&b, " uri=%s", r.URI)
	}
	return b.String()
}

type lineCase struct {
	line string
	res  Result
	want string // show(rec) for OK, Why() for Bad
}

func runLines(t *testing.T, p Parser, cases []lineCase) {
	t.Helper()
	var rec Record
	for _, c := range cases {
		res := p.Parse([]byte(c.line), &rec)
		if res != c.res {
			t.Errorf("%s: Parse(%q) = %d (why %q), want %d", p.Format(), c.line, res, p.Why(), c.res)
			continue
		}
		got := ""
		switch res {
		case OK:
			got = show(rec)
		case Bad:
			got = p.Why()
		}
		if got != c.want {
			t.Errorf("%s: Parse(%q)\n got %s\nwant %s", p.Format(), c.line, got, c.want)
		}
	}
}

func TestCLF(t *testing.T) {
	runLines(t, New(Combined), []lineCase{
		{`10.1.2.3 - - [19/Jul/2001:10:00:01 +0000] "GET /default.ida?NNNN%u9090=a HTTP/1.0" 404 205 "-" "-"`, OK,
			"2001-07-19T10:00:01Z host=10.1.2.3(0a010203) uri=GET /default.ida?NNNN%u9090=a HTTP/1.0"},
		// The zone is the line's own: 03:00:01 at -0700 is 10:00:01 UTC.
		{`192.0.2.1 - frank [19/Jul/2001:03:00:01 -0700] "GET / HTTP/1.1" 200 2326`, OK,
			"2001-07-19T10:00:01Z host=192.0.2.1(c0000201) uri=GET / HTTP/1.1"},
		{`192.0.2.1 - - [20/Jul/2001:01:30:00 +0530] "GET / HTTP/1.1" 200 1`, OK,
			"2001-07-19T20:00:00Z host=192.0.2.1(c0000201) uri=GET / HTTP/1.1"},
		// nginx and Apache escape quotes inside the request.
		{`10.0.0.1 - - [19/Jul/2001:10:00:01 +0000] "GET /a\"b HTTP/1.0" 400 0 "-" "x"`, OK,
			`2001-07-19T10:00:01Z host=10.0.0.1(0a000001) uri=GET /a\"b HTTP/1.0`},
		{`10.0.0.1 - - [19/Jul/2001:10:00:01 +0000] "\x16\x03\x01\x00" 400 0 "-" "-"`, OK,
			`2001-07-19T10:00:01Z host=10.0.0.1(0a000001) uri=\x16\x03\x01\x00`},
		{`2001:db8::1 - - [19/Jul/2001:10:00:01 +0000] "GET / HTTP/1.1" 200 1`, OK,
			"2001-07-19T10:00:01Z host=2001:db8::1 uri=GET / HTTP/1.1"},
		{`crawler.example.org - - [19/Jul/2001:10:00:01 +0000] "-" 408 0`, OK,
			"2001-07-19T10:00:01Z host=crawler.example.org uri=-"},
		// Cut by the reader's bound: the request is kept as far as it goes.
		{`10.0.0.1 - - [19/Jul/2001:10:00:01 +0000] "GET /default.ida?XXXXXXX`, OK,
			"2001-07-19T10:00:01Z host=10.0.0.1(0a000001) uri=GET /default.ida?XXXXXXX"},
		{`29/Feb/2001 junk`, Bad, "no [time]"},
		{`10.0.0.1 - - [29/Feb/2001:10:00:01 +0000] "GET / HTTP/1.0" 200 1`, Bad, "bad [time]"},
		{`10.0.0.1 - - [19/Jul/2001:10:00:01] "GET / HTTP/1.0" 200 1`, Bad, "bad [time]"},
		{`10.0.0.1 - - [19/Jul/2001:10:00:01 +0000]`, Bad, `no "request"`},
		{` leading space`, Bad, "not common log format (no client field)"},
		{``, Skip, ""},
	})
}

func TestIIS(t *testing.T) {
	runLines(t, New(IIS), []lineCase{
		{`10.0.0.1 data before fields`, Bad, "data before any #Fields directive"},
		{`#Software: Microsoft Internet Information Services 5.0`, Skip, ""},
		{`#Fields: date time c-ip cs-username s-ip s-port cs-method cs-uri-stem cs-uri-query sc-status cs(User-Agent)`, Skip, ""},
		{`2001-07-19 10:00:01 10.1.2.3 - 192.0.2.80 80 GET /default.ida NNNN%u9090=a 404 -`, OK,
			"2001-07-19T10:00:01Z host=10.1.2.3(0a010203) path=/default.ida query=NNNN%u9090=a"},
		// A query stripped by the server's settings is logged as "-".
		{`2001-07-19 10:00:02 10.1.2.4 - 192.0.2.80 80 GET /default.ida - 404 -`, OK,
			"2001-07-19T10:00:02Z host=10.1.2.4(0a010204) path=/default.ida"},
		{`2001-07-19 10:00:02 10.1.2.4 - 192.0.2.80 80 GET`, Bad, "fewer columns than #Fields names"},
		{`2001-07-19 10:0:02 10.1.2.4 - 192.0.2.80 80 GET / - 200 -`, Bad, "bad time"},
		// The columns change mid-file; here without a date, so #Date dates
		// the lines, and with fractional seconds.
		{`#Date: 2001-08-04 00:00:00`, Skip, ""},
		{`#Fields: time c-ip cs-method cs-uri-stem cs-uri-query`, Skip, ""},
		{`23:59:59.250 10.9.8.7 GET /scripts/root.exe /c+dir`, OK,
			"2001-08-04T23:59:59Z host=10.9.8.7(0a090807) path=/scripts/root.exe query=/c+dir"},
		{`#Fields: date time cs-uri c-ip`, Skip, ""},
		{`2001-08-05 00:00:00 /default.ida?XXXX ::1`, OK,
			"2001-08-05T00:00:00Z host=::1 uri=/default.ida?XXXX"},
		{`2001-13-05 00:00:00 /default.ida?XXXX ::1`, Bad, "bad date"},
		{"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00 00:00:00 /x ::1", Bad, "bad date"},
		// The cached date is used only for the same date.
		{`2001-08-05 00:00:01 /a 10.0.0.1`, OK, "2001-08-05T00:00:01Z host=10.0.0.1(0a000001) uri=/a"},
		{`2001-08-06 00:00:01 /a 10.0.0.1`, OK, "2001-08-06T00:00:01Z host=10.0.0.1(0a000001) uri=/a"},
	})
}

func TestVHost(t *testing.T) {
	runLines(t, New(VHost), []lineCase{
		{`www.example.com:80 10.1.2.3 - - [19/Jul/2001:10:00:01 +0000] "GET /default.ida?XXXX HTTP/1.0" 404 205 "-" "-"`, OK,
			"2001-07-19T10:00:01Z host=10.1.2.3(0a010203) uri=GET /default.ida?XXXX HTTP/1.0"},
		{`www.example.com:80 10.1.2.3`, Bad, "not vhost_combined (no client field)"},
	})
}

func TestFallback(t *testing.T) {
	runLines(t, New(Fallback), []lineCase{
		{`Jul 19 10:00:01 gw proxy[123]: 10.1.2.3 TCP_MISS/404 "GET /default.ida?NNNN%u9090=a HTTP/1.0" 2001-07-19T10:00:01-07:00`, OK,
			"2001-07-19T17:00:01Z host=10.1.2.3(0a010203) uri=GET /default.ida?NNNN%u9090=a HTTP/1.0"},
		{`2001-07-19 10:00:01.5 client 010.1.2.3 then 10.1.2.3 asked GET /scripts/root.exe?/c+dir`, OK,
			"2001-07-19T10:00:01Z host=10.1.2.3(0a010203) uri=GET /scripts/root.exe?/c+dir"},
		{`vhost:80 10.0.0.9 - - [19/Jul/2001:10:00:01 +0200] "HEAD /x HTTP/1.1" 200 0`, OK,
			"2001-07-19T08:00:01Z host=10.0.0.9(0a000009) uri=HEAD /x HTTP/1.1"},
		{`no request in sight: GE /a, get /b, aGET /c, GET/d, GET  /e`, Bad, "no request line"},
		{`POST /cgi-bin/a`, OK, "notime host= uri=POST /cgi-bin/a"},
		// squid's native log: the absolute URL a proxy was asked for.
		{`996142801.123 12 10.1.2.3 TCP_MISS/404 205 GET http://192.0.2.80/default.ida?XXXX - DIRECT/192.0.2.80 text/html`, OK,
			"2001-07-26T10:20:01Z host=10.1.2.3(0a010203) uri=GET http://192.0.2.80/default.ida?XXXX"},
		{`99614280.123 12 10.1.2.3 GET /x`, OK, "notime host=10.1.2.3(0a010203) uri=GET /x"},
		{"   \t", Skip, ""},
	})
}

func TestSniff(t *testing.T) {
	lines := func(s ...string) [][]byte {
		var out [][]byte
		for _, l := range s {
			out = append(out, []byte(l))
		}
		return out
	}
	const (
		combined = `10.0.0.1 - - [19/Jul/2001:10:00:01 +0000] "GET / HTTP/1.0" 200 1 "-" "Mozilla/4.0"`
		common   = `10.0.0.1 - - [19/Jul/2001:10:00:01 +0000] "GET / HTTP/1.0" 200 1`
	)
	for _, c := range []struct {
		lines [][]byte
		want  string
	}{
		{lines("#Software: Microsoft Internet Information Services 5.0", "#Version: 1.0"), IIS},
		{lines("", "#Fields: date time c-ip cs-uri-stem"), IIS},
		{lines(combined, combined, "junk"), Combined},
		{lines(common, common, combined), Common},
		{lines(common, "junk", "junk", "junk"), Fallback},
		{lines("www.example.com:80 "+combined, "example.org:443 "+combined), VHost},
		{lines(`2001:db8::1 - - [19/Jul/2001:10:00:01 +0000] "GET / HTTP/1.0" 200 1 "-" "x"`), Combined},
		{lines("\x00\x01\x02", "GET /default.ida?NNNN"), Fallback},
		{nil, Fallback},
	} {
		if got := Sniff(c.lines); got != c.want {
			t.Errorf("Sniff(%q) = %s, want %s", c.lines, got, c.want)
		}
	}
}

func TestParseV4(t *testing.T) {
	for _, s := range []string{"1.2.3.4", "0.0.0.0", "255.255.255.255", "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1..2.3", "", "1.2.3.", ".1.2.3", "1.2.3.4 ", "::1"} {
		got, ok := parseV4([]byte(s))
		want, err := netip.ParseAddr(s)
		wantOK := err == nil && want.Is4()
		if ok != wantOK || (ok && want.As4() != [4]byte{byte(got >> 24), byte(got >> 16), byte(got >> 8), byte(got)}) {
			t.Errorf("parseV4(%q) = %08x, %v; netip says %v, %v", s, got, ok, want, err)
		}
	}
}

var sinkRes Result

func TestNoAllocs(t *testing.T) {
	iis := New(IIS)
	var rec Record
	iis.Parse([]byte("#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status"), &rec)
	for _, c := range []struct {
		p    Parser
		line string
	}{
		{New(Combined), `10.1.2.3 - - [19/Jul/2001:10:00:01 +0000] "GET /index.html HTTP/1.0" 200 205 "-" "Mozilla/4.0"`},
		{iis, `2001-07-19 10:00:01 10.1.2.3 GET /default.ida NNNN 404`},
		{New(Fallback), `x 10.1.2.3 2001-07-19T10:00:01Z "GET /a HTTP/1.0"`},
	} {
		line := []byte(c.line)
		if n := testing.AllocsPerRun(1000, func() { sinkRes = c.p.Parse(line, &rec) }); n != 0 || sinkRes != OK {
			t.Errorf("%s: Parse allocates %.1f times (result %d), want 0", c.p.Format(), n, sinkRes)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	iis := New(IIS)
	var rec Record
	iis.Parse([]byte("#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status"), &rec)
	for _, c := range []struct {
		name string
		p    Parser
		line string
	}{
		{"combined", New(Combined), `203.0.113.77 - - [19/Jul/2001:10:00:01 +0000] "GET /images/2001/07/logo-header.gif HTTP/1.1" 200 5120 "http://www.example.com/index.html" "Mozilla/4.0 (compatible; MSIE 5.5; Windows NT 5.0)"`},
		{"iis", iis, `2001-07-19 10:00:01 192.0.2.80 GET /images/logo.gif - 80 - 203.0.113.77 Mozilla/4.0+(compatible;+MSIE+5.5) 200`},
	} {
		line := []byte(c.line)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				sinkRes = c.p.Parse(line, &rec)
			}
		})
	}
}
