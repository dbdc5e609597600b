package logformat

import "bytes"

// syslogParser reads access-log lines relayed through syslog: rsyslog's
// and syslog-ng's traditional files (RFC 3164 style, "Jul 19 10:00:01
// relay httpd[123]: MSG"), journalctl's short and short-iso output (the
// same with an ISO 8601 time), and RFC 5424 ("<134>1 2001-07-19T10:00:01Z
// relay httpd 123 - - MSG"). The prefix is skipped and MSG parsed as an
// access-log line, so the client is the one the web server logged, never
// the relay, and the time is the access log's own (the relay's only when
// the message has none).
type syslogParser struct {
	inner       *innerParser
	innerFormat string
	why         string
}

// Syslog names the format of a syslog-relayed line.
const Syslog = "syslog"

func (p *syslogParser) Format() string { return Syslog }
func (p *syslogParser) Why() string    { return p.why }

func (p *syslogParser) Parse(line []byte, rec *Record) Result {
	n := syslogPrefix(line)
	if n <= 0 {
		*rec = Record{}
		p.why = "no syslog prefix"
		return Bad
	}
	res, f := p.inner.parse(line[n:], rec)
	if res == Bad {
		p.why = "syslog message holds no request"
		return Bad
	}
	p.innerFormat = f
	if res == OK && !rec.HasTime {
		// A message without its own time (a proxy's line, say) takes the
		// relay's, when that names its year: ISO 8601 and RFC 5424 do,
		// the traditional "Jul 19 10:00:01" does not.
		rec.Time, rec.HasTime = findISOTime(line[:n])
	}
	return res
}

// syslogPrefix returns the length of a syslog prefix that opens line (up
// to and including the space after the tag's colon), or 0.
func syslogPrefix(line []byte) int {
	i := 0
	// <PRI>
	if len(line) > 0 && line[0] == '<' {
		j := bytes.IndexByte(line[:min(len(line), 6)], '>')
		if j < 2 {
			return 0
		}
		if _, ok := num(line[1:j]); !ok {
			return 0
		}
		i = j + 1
		// RFC 5424: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP
		// PROCID SP MSGID SP STRUCTURED-DATA [SP MSG].
		if i+2 <= len(line) && isDigit(line[i]) && line[i+1] == ' ' {
			j := i + 2
			for range 5 {
				sp := bytes.IndexByte(line[j:], ' ')
				if sp <= 0 {
					return 0
				}
				j += sp + 1
			}
			// Structured data: "-" or one or more [id param="v" ...].
			if j < len(line) && line[j] == '-' {
				j++
			} else {
				for j < len(line) && line[j] == '[' {
					end := closingBracket(line[j:])
					if end < 0 {
						return 0
					}
					j += end + 1
				}
			}
			if j < len(line) && line[j] == ' ' {
				j++
			}
			if j < len(line) && bytes.HasPrefix(line[j:], bom) {
				j += len(bom)
			}
			return j
		}
	}
	rest := line[i:]
	var ts int
	switch {
	case len(rest) >= 16 && month(rest[0:3]) > 0 && rest[3] == ' ' && rest[6] == ' ' && rest[9] == ':' && rest[12] == ':' && rest[15] == ' ':
		// "Jul 19 10:00:01 " or "Jul  9 10:00:01 "
		ts = 16
	case len(rest) >= 20 && rest[4] == '-' && rest[7] == '-' && rest[10] == 'T' && rest[13] == ':':
		// ISO 8601 with a zone, up to the next space.
		sp := bytes.IndexByte(rest, ' ')
		if sp < 19 {
			return 0
		}
		ts = sp + 1
	default:
		return 0
	}
	// HOSTNAME SP TAG[PID]: SP
	rest = rest[ts:]
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return 0
	}
	tag := rest[sp+1:]
	colon := bytes.Index(tag, []byte(": "))
	if colon <= 0 || colon > 64 || bytes.IndexByte(tag[:colon], ' ') >= 0 {
		return 0
	}
	return i + ts + sp + 1 + colon + 2
}

// closingBracket returns the index of the ']' that closes the structured
// data element opening b, skipping quoted values with \" and \] escapes.
func closingBracket(b []byte) int {
	inQuote := false
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			inQuote = !inQuote
		case ']':
			if !inQuote {
				return i
			}
		}
	}
	return -1
}
