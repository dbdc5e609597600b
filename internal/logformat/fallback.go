package logformat

import "bytes"

// fallbackParser finds a request anywhere in a line, for logs in no format
// known here (proxy logs, custom Apache formats, syslog-wrapped lines):
//
//   - the request is an upper-case method followed by a space and a target
//     starting with '/' ("GET /default.ida?NNN") or, as proxies log it,
//     "http://" or "https://", the target ending at a space, a quote or the
//     end of the line;
//   - the client is the first dotted-quad IPv4 address in the line;
//   - the time is squid's Unix time opening the line ("996142801.123"), or
//     the first "[19/Jul/2001:10:00:01 -0700]" stamp, or else the first ISO
//     8601 "2001-07-19T10:00:01" (or with a space for T), in the zone it
//     names ("Z", "+02:00", "+0200") and in UTC when it names none.
//
// A line without a request is Bad; one without a client or time is still a
// request, reported without them.
type fallbackParser struct {
	why string
}

func (p *fallbackParser) Format() string { return Fallback }
func (p *fallbackParser) Why() string    { return p.why }

func (p *fallbackParser) Parse(line []byte, rec *Record) Result {
	*rec = Record{}
	if len(bytes.TrimSpace(line)) == 0 {
		return Skip
	}
	start, end := findRequest(line)
	if start < 0 {
		p.why = "no request line"
		return Bad
	}
	rec.URI = line[start:end]
	if host := findV4(line); host != nil {
		setHost(rec, host)
	}
	rec.Time, rec.HasTime = findTime(line)
	return OK
}

// findRequest returns the bounds of "METHOD /target" in line, with
// " HTTP/x.y" if it follows, or -1, -1.
func findRequest(line []byte) (int, int) {
	for off := 0; ; {
		i := bytes.IndexByte(line[off:], ' ')
		if i < 0 {
			return -1, -1
		}
		i += off
		off = i + 1
		// Origin form, or the absolute form proxies log.
		if t := line[i+1:]; !(len(t) > 0 && t[0] == '/') && !bytes.HasPrefix(t, []byte("http://")) && !bytes.HasPrefix(t, []byte("https://")) {
			continue
		}
		m := i
		for m > 0 && line[m-1] >= 'A' && line[m-1] <= 'Z' {
			m--
		}
		if n := i - m; n < 3 || n > 10 {
			continue
		}
		if m > 0 && line[m-1] != ' ' && line[m-1] != '"' && line[m-1] != '\t' {
			continue
		}
		end := i + 1
		for end < len(line) && line[end] != ' ' && line[end] != '"' && line[end] != '\t' {
			end++
		}
		if bytes.HasPrefix(line[end:], []byte(" HTTP/")) {
			end += len(" HTTP/")
			for end < len(line) && (line[end] == '.' || line[end] >= '0' && line[end] <= '9') {
				end++
			}
		}
		return m, end
	}
}

// findV4 returns the first dotted-quad IPv4 address standing alone in line
// (not inside a longer run of digits and dots), or nil.
func findV4(line []byte) []byte {
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c < '0' || c > '9' || (i > 0 && (isDigit(line[i-1]) || line[i-1] == '.')) {
			continue
		}
		j := i
		for j < len(line) && (isDigit(line[j]) || line[j] == '.') {
			j++
		}
		if _, ok := parseV4(line[i:j]); ok {
			return line[i:j]
		}
		i = j
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// findTime returns the first time stamp in line that fallbackParser knows.
func findTime(line []byte) (int64, bool) {
	// squid's native log opens with Unix seconds and milliseconds,
	// "996142801.123".
	if i := bytes.IndexByte(line, '.'); i >= 9 && i <= 10 && len(line) >= i+4 && (len(line) == i+4 || line[i+4] == ' ') {
		if secs, ok := num(line[:i]); ok {
			if _, ok := num(line[i+1 : i+4]); ok {
				return secs, true
			}
		}
	}
	for off := 0; off < len(line); {
		i := bytes.IndexByte(line[off:], '[')
		if i < 0 {
			break
		}
		i += off
		if i+1+clfTimeLen <= len(line) {
			if t, ok := parseCLFTime(line[i+1 : i+1+clfTimeLen]); ok {
				return t, true
			}
		}
		off = i + 1
	}
	return findISOTime(line)
}

// findISOTime returns the first ISO 8601 time in line,
// dddd-dd-dd[T ]hh:mm:ss[.fff][zone], in UTC when it names no zone.
func findISOTime(line []byte) (int64, bool) {
	for i := 0; i+19 <= len(line); i++ {
		if line[i+4] != '-' || line[i+7] != '-' || (line[i+10] != 'T' && line[i+10] != ' ') || !isDigit(line[i]) {
			continue
		}
		days, ok := parseISODate(line[i : i+10])
		if !ok {
			continue
		}
		secs, ok := clock(line[i+11 : i+19])
		if !ok {
			continue
		}
		j := i + 19
		if j < len(line) && line[j] == '.' {
			j++
			for j < len(line) && isDigit(line[j]) {
				j++
			}
		}
		var off int64
		rest := line[j:]
		switch {
		case len(rest) >= 1 && (rest[0] == 'Z' || rest[0] == 'z'):
		case len(rest) >= 6 && rest[3] == ':':
			off, _ = zone(rest[:6])
		case len(rest) >= 5:
			off, _ = zone(rest[:5])
		}
		return days*86400 + secs - off, true
	}
	return 0, false
}
