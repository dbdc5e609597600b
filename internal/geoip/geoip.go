// Package geoip maps IPv4 addresses to countries from a range file in the
// format of Debian's tor-geoipdb (/usr/share/tor/geoip): one range a line,
// "FROM,TO,CC" with FROM and TO as decimal 32-bit integers, inclusive, and
// '#' comments. It exists so that wormlab detect can say where probes come
// from without a network service.
package geoip

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
)

// DB is a sorted table of address ranges. The zero DB knows no country.
type DB struct {
	from, to []uint32
	cc       []string
}

// Open reads the range file at path.
func Open(path string) (*DB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// Read parses a range file from r; name is used in errors, which give the
// line. Ranges may come in any order but must not overlap.
func Read(r io.Reader, name string) (*DB, error) {
	type rng struct {
		from, to uint32
		cc       string
	}
	var rs []rng
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	ccs := map[string]string{} // interned country codes
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		parts := strings.Split(line, ",")
		if len(parts) != 3 {
			return nil, fmt.Errorf("%s:%d: want FROM,TO,CC, got %q", name, n, line)
		}
		from, err1 := strconv.ParseUint(parts[0], 10, 32)
		to, err2 := strconv.ParseUint(parts[1], 10, 32)
		if err1 != nil || err2 != nil || from > to {
			return nil, fmt.Errorf("%s:%d: bad range %q (want two 32-bit integers, FROM <= TO)", name, n, parts[0]+","+parts[1])
		}
		cc := strings.ToUpper(strings.TrimSpace(parts[2]))
		if len(cc) != 2 && cc != "??" {
			return nil, fmt.Errorf("%s:%d: country %q is not a two-letter code", name, n, parts[2])
		}
		if c, ok := ccs[cc]; ok {
			cc = c
		} else {
			ccs[cc] = cc
		}
		rs = append(rs, rng{uint32(from), uint32(to), cc})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("%s: no ranges", name)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].from < rs[j].from })
	db := &DB{}
	for i, x := range rs {
		if i > 0 && x.from <= rs[i-1].to {
			return nil, fmt.Errorf("%s: ranges %d-%d and %d-%d overlap", name, rs[i-1].from, rs[i-1].to, x.from, x.to)
		}
		db.from = append(db.from, x.from)
		db.to = append(db.to, x.to)
		db.cc = append(db.cc, x.cc)
	}
	return db, nil
}

// Country returns the two-letter code of a's range, or "" if a is not IPv4
// or in no range.
func (db *DB) Country(a netip.Addr) string {
	a = a.Unmap()
	if db == nil || !a.Is4() {
		return ""
	}
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	// The last range starting at or before v.
	i := sort.Search(len(db.from), func(i int) bool { return db.from[i] > v }) - 1
	if i < 0 || v > db.to[i] {
		return ""
	}
	return db.cc[i]
}

// Len returns the number of ranges.
func (db *DB) Len() int { return len(db.from) }
