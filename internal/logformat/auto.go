package logformat

import "bytes"

// Auto is the name of the parser that tells the format line by line.
const Auto = "auto"

// autoParser reads files whose format is not known, or changes in the
// middle (a combined log with IIS or squid lines appended, a syslog relay
// mixing servers). It keeps the format that read the last line and tries
// it first, so a file in one format costs one parse a line; only a line
// that format calls Bad is offered to the others, in a fixed order, and
// the first that reads it becomes the current one.
//
// Two checks run when the common log format accepts a line whose client
// is not an IPv4 address (rare in real logs, so they cost nothing on the
// common path): a syslog prefix ("Jul 19 10:00:01 relay httpd: ...")
// would otherwise make the month the client, and a vhost_combined line
// would make "host:port" the client.
type autoParser struct {
	clf      clfParser
	vhost    clfParser
	iis      iisParser
	comma    iisCommaParser
	bare     iisBareParser
	syslog   syslogParser
	fallback fallbackParser

	cur    Parser
	last   int // format of the last line read, by countedFormats index; -1 before the first
	why    string
	counts [nCounted]int64 // lines per format, by countedFormats index
}

// countedFormats are the formats the auto parser counts lines of; an
// array of counters costs nothing per line, where a map would cost a
// string hash.
var countedFormats = [...]string{Combined, Common, VHost, IIS, IISComma, IISBare, Fallback,
	"syslog+" + Combined, "syslog+" + Common, "syslog+" + VHost, "syslog+" + IISComma, "syslog+" + Fallback}

const nCounted = len(countedFormats)

func newAuto() *autoParser {
	p := &autoParser{last: -1}
	p.clf.format = Combined
	p.vhost.format, p.vhost.vhost = VHost, true
	p.syslog.inner = newInner()
	p.cur = &p.clf
	return p
}

func (p *autoParser) Format() string { return Auto }
func (p *autoParser) Why() string    { return p.why }

// Last returns the format that read the last line: a format name, or
// "syslog+" one.
func (p *autoParser) Last() string {
	if p.last < 0 {
		return ""
	}
	return countedFormats[p.last]
}

// Formats returns how many lines each format has read so far.
func (p *autoParser) Formats() map[string]int64 {
	m := map[string]int64{}
	for i, n := range p.counts {
		if n > 0 {
			m[countedFormats[i]] = n
		}
	}
	return m
}

// bom is the UTF-8 byte-order mark some Windows tools write before the
// first line (IIS logs saved by Notepad, exports from Log Parser).
var bom = []byte{0xef, 0xbb, 0xbf}

func (p *autoParser) Parse(line []byte, rec *Record) Result {
	if len(line) > 0 && line[0] == 0xef {
		line = bytes.TrimPrefix(line, bom)
	}
	if len(line) == 0 {
		*rec = Record{}
		return Skip
	}
	if line[0] == '#' && isW3CDirective(line) {
		p.iis.Parse(line, rec)
		p.cur = &p.iis
		return Skip
	}
	// The fallback reads almost any line with a request in it, so it is
	// never trusted as the current format: while it is, every line is
	// offered to the strict formats first.
	var why string
	if p.cur != &p.fallback {
		var res Result
		if p.cur == &p.clf {
			res = p.clf.Parse(line, rec) // most lines, without the dynamic call
		} else {
			res = p.cur.Parse(line, rec)
		}
		if res != Bad {
			if res == OK && p.cur == &p.clf && !rec.IsV4 {
				return p.checkCLF(line, rec)
			}
			if res == OK {
				p.count(p.cur)
			}
			return res
		}
		why = p.cur.Why()
	}
	clfTimeBad := p.cur == &p.clf && why == clfBadTime
	for _, q := range p.order() {
		if q == p.cur && q != &p.fallback {
			continue
		}
		if q == &p.fallback && clfTimeBad {
			// A common-log-format line but for its time stays
			// unparsable: the fallback would count it without a time
			// and hide the fault.
			continue
		}
		res := q.Parse(line, rec)
		if res == Bad {
			if q == &p.clf {
				clfTimeBad = p.clf.why == clfBadTime
				if why == "" {
					why = p.clf.why
				}
			}
			continue
		}
		p.cur = q
		if res == OK && q == &p.clf && !rec.IsV4 {
			return p.checkCLF(line, rec)
		}
		if res == OK {
			p.count(q)
		}
		return res
	}
	// Say why the format the file was in refused it: that is the reason a
	// reader can act on.
	p.why = why
	*rec = Record{}
	return Bad
}

// order is the sequence of formats tried for a line the current one
// refused: the strict formats first, the fallback last.
func (p *autoParser) order() []Parser {
	ps := []Parser{&p.clf}
	if p.iis.fields {
		ps = append(ps, &p.iis)
	}
	return append(ps, &p.comma, &p.bare, &p.syslog, &p.fallback)
}

// checkCLF rereads a common-log-format line whose client is not an IPv4
// address as syslog or vhost_combined when it is one of those.
func (p *autoParser) checkCLF(line []byte, rec *Record) Result {
	if syslogPrefix(line) > 0 {
		if res := p.syslog.Parse(line, rec); res == OK {
			p.cur = &p.syslog
			p.count(&p.syslog)
			return OK
		}
		p.clf.Parse(line, rec)
	}
	if isVHostLine(line) {
		if res := p.vhost.Parse(line, rec); res == OK {
			p.cur = &p.vhost
			p.count(&p.vhost)
			return OK
		}
		p.clf.Parse(line, rec)
	}
	p.count(&p.clf)
	return OK
}

func (p *autoParser) count(q Parser) {
	var i int
	switch q {
	case &p.clf:
		i = 1 // common
		if p.clf.tail {
			i = 0
		}
	case &p.vhost:
		i = 2
	case &p.iis:
		i = 3
	case &p.comma:
		i = 4
	case &p.bare:
		i = 5
	case &p.fallback:
		i = 6
	case &p.syslog:
		switch p.syslog.innerFormat {
		case Combined:
			i = 7
		case Common:
			i = 8
		case VHost:
			i = 9
		case IISComma:
			i = 10
		default:
			i = 11
		}
	}
	p.last = i
	p.counts[i]++
}

// isW3CDirective reports whether a line is one of the directives of the
// W3C extended log format.
func isW3CDirective(l []byte) bool {
	for _, d := range [...]string{"#Fields:", "#Software:", "#Version:", "#Date:", "#Start-Date:", "#End-Date:", "#Remark:"} {
		if bytes.HasPrefix(l, []byte(d)) {
			return true
		}
	}
	return false
}

// innerParser reads the access-log line inside a syslog message, in one of
// the formats a relay carries: common, combined or vhost_combined, the
// comma-separated IIS format, or any request line (the fallback, which
// then sees only the message, never the relay's address).
type innerParser struct {
	clf      clfParser
	vhost    clfParser
	comma    iisCommaParser
	fallback fallbackParser
}

func newInner() *innerParser {
	p := &innerParser{}
	p.clf.format = Combined
	p.vhost.format, p.vhost.vhost = VHost, true
	return p
}

func (p *innerParser) parse(msg []byte, rec *Record) (Result, string) {
	if res := p.clf.Parse(msg, rec); res == OK {
		if !rec.IsV4 && isVHostLine(msg) && p.vhost.Parse(msg, rec) == OK {
			return OK, VHost
		}
		if p.clf.tail {
			return OK, Combined
		}
		return OK, Common
	}
	if res := p.comma.Parse(msg, rec); res == OK {
		return OK, IISComma
	}
	if res := p.fallback.Parse(msg, rec); res != Bad {
		return res, Fallback
	}
	return Bad, ""
}
