package logformat

// Time stamps are parsed by hand into seconds since the epoch: time.Parse
// costs about 200 ns a call, most of a line's budget at 500 MB/s, and every
// format here has a fixed layout.

// daysFromCivil returns the days from 1970-01-01 to y-m-d in the proleptic
// Gregorian calendar (H. Hinnant, "chrono-Compatible Low-Level Date
// Algorithms", days_from_civil).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

var monthDays = [13]int64{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func validDate(y, m, d int64) bool {
	if m < 1 || m > 12 || d < 1 || d > monthDays[m] {
		return false
	}
	if m == 2 && d == 29 {
		return y%4 == 0 && (y%100 != 0 || y%400 == 0)
	}
	return true
}

// num parses b as an unsigned decimal of exactly len(b) digits.
func num(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// month returns 1-12 for an English three-letter month name, any case.
func month(b []byte) int64 {
	if len(b) != 3 {
		return 0
	}
	k := uint32(b[0]|0x20)<<16 | uint32(b[1]|0x20)<<8 | uint32(b[2]|0x20)
	switch k {
	case 'j'<<16 | 'a'<<8 | 'n':
		return 1
	case 'f'<<16 | 'e'<<8 | 'b':
		return 2
	case 'm'<<16 | 'a'<<8 | 'r':
		return 3
	case 'a'<<16 | 'p'<<8 | 'r':
		return 4
	case 'm'<<16 | 'a'<<8 | 'y':
		return 5
	case 'j'<<16 | 'u'<<8 | 'n':
		return 6
	case 'j'<<16 | 'u'<<8 | 'l':
		return 7
	case 'a'<<16 | 'u'<<8 | 'g':
		return 8
	case 's'<<16 | 'e'<<8 | 'p':
		return 9
	case 'o'<<16 | 'c'<<8 | 't':
		return 10
	case 'n'<<16 | 'o'<<8 | 'v':
		return 11
	case 'd'<<16 | 'e'<<8 | 'c':
		return 12
	}
	return 0
}

// clock parses "hh:mm:ss" and returns seconds into the day.
func clock(b []byte) (int64, bool) {
	if len(b) != 8 || b[2] != ':' || b[5] != ':' {
		return 0, false
	}
	h, ok1 := num(b[0:2])
	m, ok2 := num(b[3:5])
	s, ok3 := num(b[6:8])
	// 60 allows a leap second, which a log may record.
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || s > 60 {
		return 0, false
	}
	return h*3600 + m*60 + s, true
}

// zone parses "+hhmm", "-hhmm", "+hh:mm" or "Z" and returns the offset east
// of UTC in seconds.
func zone(b []byte) (int64, bool) {
	if len(b) == 1 && (b[0] == 'Z' || b[0] == 'z') {
		return 0, true
	}
	if len(b) == 6 && b[3] == ':' {
		b = []byte{b[0], b[1], b[2], b[4], b[5]}
	}
	if len(b) != 5 || (b[0] != '+' && b[0] != '-') {
		return 0, false
	}
	h, ok1 := num(b[1:3])
	m, ok2 := num(b[3:5])
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	if b[0] == '-' {
		off = -off
	}
	return off, true
}

// clfTimeLen is len("19/Jul/2001:10:00:01 +0000").
const clfTimeLen = 26

// parseCLFTime parses the common log format's "19/Jul/2001:10:00:01 -0700"
// in the zone it names.
func parseCLFTime(b []byte) (int64, bool) {
	if len(b) != clfTimeLen || b[2] != '/' || b[6] != '/' || b[11] != ':' || b[20] != ' ' {
		return 0, false
	}
	d, ok1 := num(b[0:2])
	m := month(b[3:6])
	y, ok2 := num(b[7:11])
	secs, ok3 := clock(b[12:20])
	off, ok4 := zone(b[21:26])
	if !ok1 || !ok2 || !ok3 || !ok4 || !validDate(y, m, d) {
		return 0, false
	}
	return daysFromCivil(y, m, d)*86400 + secs - off, true
}

// parseISODate parses "2001-07-19" and returns days since the epoch.
func parseISODate(b []byte) (int64, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	y, ok1 := num(b[0:4])
	m, ok2 := num(b[5:7])
	d, ok3 := num(b[8:10])
	if !ok1 || !ok2 || !ok3 || !validDate(y, m, d) {
		return 0, false
	}
	return daysFromCivil(y, m, d), true
}

// parseISOClock parses "10:00:01" with an optional fraction, which is
// dropped.
func parseISOClock(b []byte) (int64, bool) {
	if len(b) > 8 && b[8] == '.' {
		if _, ok := num(b[9:]); !ok {
			return 0, false
		}
		b = b[:8]
	}
	return clock(b)
}
