package logformat

import (
	"bytes"
	"strings"
)

// iisParser reads the W3C extended log format as IIS writes it: directives
// start with '#', and #Fields names the space-separated columns of the lines
// after it, until the next #Fields (IIS writes a new one when the server
// restarts or its logging settings change, so the columns can change in the
// middle of a file):
//
//	#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status
//	2001-07-19 10:00:01 10.1.2.3 GET /default.ida NNNN...%u9090=a 404
//
// IIS writes W3C time stamps in UTC whatever the server's zone (unlike its
// older native format), so the times are taken as UTC. A log with a time
// column but no date column dates its lines by the #Date directive.
type iisParser struct {
	why    string
	fields bool // a #Fields directive has been seen
	// Column of each field we use, or -1.
	date, time, cip, stem, query, uri int
	need                              int // columns a line must have
	dirDate                           int64
	hasDirDate                        bool

	cols [][]byte // reused split of the current line

	lastDate    [10]byte // the last good date column, and its day number
	lastDays    int64
	hasLastDate bool
}

func (p *iisParser) Format() string { return IIS }
func (p *iisParser) Why() string    { return p.why }

func (p *iisParser) Parse(line []byte, rec *Record) Result {
	*rec = Record{}
	if len(line) == 0 {
		return Skip
	}
	if line[0] == '#' {
		p.directive(line)
		return Skip
	}
	if !p.fields {
		p.why = "data before any #Fields directive"
		return Bad
	}
	cols := p.cols[:0]
	for rest := line; len(cols) < p.need; {
		i := bytes.IndexByte(rest, ' ')
		if i < 0 {
			cols = append(cols, rest)
			break
		}
		cols = append(cols, rest[:i])
		rest = rest[i+1:]
	}
	p.cols = cols
	if len(cols) < p.need {
		p.why = "fewer columns than #Fields names"
		return Bad
	}
	if p.time >= 0 {
		secs, ok := parseISOClock(cols[p.time])
		if !ok {
			p.why = "bad time"
			return Bad
		}
		days, okd := p.dirDate, p.hasDirDate
		if p.date >= 0 {
			// A log's lines share a date for a day at a time.
			if d := cols[p.date]; p.hasLastDate && len(d) == len(p.lastDate) && string(d) == string(p.lastDate[:]) {
				days, okd = p.lastDays, true
			} else if days, okd = parseISODate(d); okd {
				copy(p.lastDate[:], d)
				p.lastDays, p.hasLastDate = days, true
			}
		}
		if !okd {
			p.why = "bad date"
			return Bad
		}
		rec.Time, rec.HasTime = days*86400+secs, true
	}
	if p.cip >= 0 {
		setHost(rec, cols[p.cip])
	}
	if p.stem >= 0 {
		rec.Path = dash(cols[p.stem])
	}
	if p.query >= 0 {
		rec.Query = dash(cols[p.query])
	}
	if p.uri >= 0 {
		rec.URI = dash(cols[p.uri])
	}
	if rec.Path == nil && rec.URI == nil {
		p.why = "no cs-uri-stem or cs-uri"
		return Bad
	}
	return OK
}

// dash returns nil for W3C's empty-field marker "-".
func dash(b []byte) []byte {
	if len(b) == 1 && b[0] == '-' {
		return nil
	}
	return b
}

func (p *iisParser) directive(line []byte) {
	name, val, _ := bytes.Cut(line, []byte{' '})
	switch string(name) {
	case "#Fields:":
		p.fields = true
		p.date, p.time, p.cip, p.stem, p.query, p.uri = -1, -1, -1, -1, -1, -1
		p.need = 0
		for i, f := range strings.Fields(string(val)) {
			var slot *int
			switch strings.ToLower(f) {
			case "date":
				slot = &p.date
			case "time":
				slot = &p.time
			case "c-ip":
				slot = &p.cip
			case "cs-uri-stem":
				slot = &p.stem
			case "cs-uri-query":
				slot = &p.query
			case "cs-uri":
				slot = &p.uri
			}
			if slot != nil {
				*slot = i
				if i+1 > p.need {
					p.need = i + 1
				}
			}
		}
	case "#Date:":
		// "#Date: 2001-07-19 00:00:00"
		d, _, _ := bytes.Cut(bytes.TrimSpace(val), []byte{' '})
		p.dirDate, p.hasDirDate = parseISODate(d)
	}
}
