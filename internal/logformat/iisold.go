package logformat

import "bytes"

// Names of the two IIS layouts that come without a #Fields directive.
const (
	IISComma = "iis-comma" // "Microsoft IIS Log Format", comma-separated (IIS 4-6)
	IISBare  = "iis-bare"  // W3C extended lines whose #Fields header is missing
)

// iisCommaParser reads the comma-separated "Microsoft IIS Log Format" that
// IIS 4 to 6 offered beside W3C (and that many servers of 2001 used):
//
//	192.0.2.7, -, 7/19/01, 10:00:01, W3SVC1, WEB1, 10.0.0.5, 15, 400, 250, 404, 2, GET, /default.ida, NNNN%u9090=a,
//
// Fields: client, user, date (month/day/year), time, service, server
// name, server address, time taken, bytes in, bytes out, status, Windows
// status, method, target, parameters ("-" for none). IIS writes this
// format in the server's local time, which the line does not give; the
// times are taken as UTC, so a log from a server east or west of Greenwich
// is shifted by its zone.
type iisCommaParser struct {
	why  string
	cols [15][]byte
}

func (p *iisCommaParser) Format() string { return IISComma }
func (p *iisCommaParser) Why() string    { return p.why }

func (p *iisCommaParser) Parse(line []byte, rec *Record) Result {
	*rec = Record{}
	rest := line
	for i := range p.cols {
		j := bytes.Index(rest, []byte(", "))
		if j < 0 {
			// The last field ends with a bare ',' (or the line).
			if i != len(p.cols)-1 {
				p.why = "not the IIS comma format (fewer than 15 fields)"
				return Bad
			}
			j = len(rest)
			if j > 0 && rest[j-1] == ',' {
				j--
			}
			p.cols[i] = rest[:j]
			break
		}
		p.cols[i] = rest[:j]
		rest = rest[j+2:]
	}
	c := &p.cols
	days, ok := parseMDY(c[2])
	if !ok {
		p.why = "not the IIS comma format (bad date)"
		return Bad
	}
	secs, ok := parseHMS(c[3])
	if !ok {
		p.why = "not the IIS comma format (bad time)"
		return Bad
	}
	if !isMethod(c[12]) || len(c[13]) == 0 || c[13][0] != '/' {
		p.why = "not the IIS comma format (no method and target)"
		return Bad
	}
	rec.Time, rec.HasTime = days*86400+secs, true
	setHost(rec, c[0])
	rec.Path = c[13]
	rec.Query = dash(c[14])
	return OK
}

// parseMDY parses month/day/year with one- or two-digit month and day
// and a two- or four-digit year (two digits below 70 are 20xx).
func parseMDY(b []byte) (int64, bool) {
	m, rest, ok1 := bytes.Cut(b, []byte{'/'})
	d, y, ok2 := bytes.Cut(rest, []byte{'/'})
	if !ok1 || !ok2 || len(m) > 2 || len(d) > 2 || (len(y) != 2 && len(y) != 4) {
		return 0, false
	}
	mm, ok1 := num(m)
	dd, ok2 := num(d)
	yy, ok3 := num(y)
	if !ok1 || !ok2 || !ok3 {
		return 0, false
	}
	if len(y) == 2 {
		yy += 1900
		if yy < 1970 {
			yy += 100
		}
	}
	if !validDate(yy, mm, dd) {
		return 0, false
	}
	return daysFromCivil(yy, mm, dd), true
}

// parseHMS parses h:mm:ss or hh:mm:ss.
func parseHMS(b []byte) (int64, bool) {
	if len(b) == 7 {
		b = append([]byte{'0'}, b...)
	}
	return clock(b)
}

// isMethod reports whether b looks like an HTTP method: 3 to 10
// upper-case letters.
func isMethod(b []byte) bool {
	if len(b) < 3 || len(b) > 10 {
		return false
	}
	for _, c := range b {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// iisBareParser reads W3C extended lines that arrive without their
// #Fields directive (a log cut at a day boundary, lines pasted from a
// ticket). The columns cannot be named for certain, and IIS's defaults
// put the server's own address (s-ip) before the client's, so the client
// is taken only where the method's column places the line in one of IIS's
// default layouts:
//
//	IIS 5:    time c-ip cs-method cs-uri-stem sc-status                        (method 3rd)
//	IIS 6:    date time s-sitename s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip ... (method 5th)
//	IIS 7-10: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip ...             (method 4th)
//
// Elsewhere the line counts as a request with no client: never the
// server's address. Times are UTC, as W3C logs are.
type iisBareParser struct {
	why  string
	cols [16][]byte
}

func (p *iisBareParser) Format() string { return IISBare }
func (p *iisBareParser) Why() string    { return p.why }

func (p *iisBareParser) Parse(line []byte, rec *Record) Result {
	*rec = Record{}
	n := 0
	for rest := line; n < len(p.cols); {
		i := bytes.IndexByte(rest, ' ')
		if i < 0 {
			p.cols[n] = rest
			n++
			break
		}
		p.cols[n] = rest[:i]
		n++
		rest = rest[i+1:]
	}
	cols := p.cols[:n]
	dated := len(cols) > 1 && len(cols[0]) == 10
	var first int // column of the time
	if dated {
		days, ok := parseISODate(cols[0])
		if !ok {
			p.why = "not W3C (no date)"
			return Bad
		}
		secs, ok := parseISOClock(cols[1])
		if !ok {
			p.why = "not W3C (no time)"
			return Bad
		}
		rec.Time, rec.HasTime = days*86400+secs, true
		first = 1
	} else if _, ok := parseISOClock(cols[0]); !ok {
		p.why = "not W3C (no date or time)"
		return Bad
	}
	m := -1
	for i := first + 1; i+1 < len(cols); i++ {
		if isMethod(cols[i]) && len(cols[i+1]) > 0 && cols[i+1][0] == '/' {
			m = i
			break
		}
	}
	if m < 0 {
		p.why = "not W3C (no method and path)"
		return Bad
	}
	cip := -1
	switch {
	case !dated && m == 2:
		cip = 1
	case dated && m == 3:
		cip = 8
	case dated && m == 4:
		cip = 9
	}
	if cip >= 0 && cip < len(cols) {
		if _, ok := parseV4(cols[cip]); ok || bytes.IndexByte(cols[cip], ':') >= 0 {
			setHost(rec, cols[cip])
		}
	}
	rec.Path = cols[m+1]
	if (dated || m != 2) && m+2 < len(cols) {
		rec.Query = dash(cols[m+2])
	}
	return OK
}
