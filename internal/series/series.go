// Package series is the observed-series format that ties wormlab together:
// the telescope observer, `wormlab detect` and the shield write it, and
// `wormlab fit` reads it, as does any series a user brings.
//
// The format is CSV with a required header naming at least the columns
// minute,utc,probes,sources,new_sources (in any order; extra columns are
// allowed and ignored). minute is the bin's start in whole minutes since the
// first bin, utc the bin's start as RFC 3339, probes the probes seen in the
// bin, sources the distinct sources seen in the bin, and new_sources the
// sources seen for the first time in that bin.
//
// Bins shorter than a minute add an optional column, second: the seconds
// past minute at which the bin starts, in [0, 60), so that minute:second
// reads as a clock from the first bin. A file without it has second 0 on
// every row, which is the format before sub-minute bins; Write adds the
// column only when some bin needs it, so whole-minute series stay
// byte-identical and older readers refuse a sub-minute file (its minutes
// repeat) rather than misread it. See docs/DESIGN.md §5.
package series

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Schema names this version of the format, as its published schema
// (docs/schema/series.v1.schema.json) does. A CSV file carries no such
// field: its header is what identifies it.
const Schema = "wormlab.series/v1"

// Header is the canonical column list, in the order Write emits it.
var Header = []string{"minute", "utc", "probes", "sources", "new_sources"}

// SecondColumn is the optional column of sub-minute bins; Write puts it
// after minute.
const SecondColumn = "second"

// Point is one bin of an observed series. Its start, from the series
// start, is Minute minutes and Second seconds.
type Point struct {
	Minute     int64     // bin start, whole minutes since the series start
	Second     float64   // and seconds past that minute, in [0, 60)
	UTC        time.Time // bin start
	Probes     int64     // probes seen in the bin
	Sources    int64     // distinct sources seen in the bin
	NewSources int64     // sources first seen in the bin
}

// PointAt returns a Point whose bin starts offset after the series start,
// split into Minute and Second.
func PointAt(offset time.Duration) Point {
	return Point{Minute: int64(offset / time.Minute), Second: (offset % time.Minute).Seconds()}
}

// Offset returns the bin's start since the series start.
func (p Point) Offset() time.Duration {
	return time.Duration(p.Minute)*time.Minute + time.Duration(math.Round(p.Second*1e9))
}

// Series is an observed series: bins in increasing time.
type Series struct {
	Points []Point

	// Families names the worm families whose probes the series counts,
	// when known: wormlab detect writes them in the optional column
	// family (joined by '+' when a series holds several), so that a fit
	// can warn that it would mix worms.
	Families []string
}

// FamilyColumn is the optional column naming the families counted.
const FamilyColumn = "family"

// Error is a problem at one line of a series file.
type Error struct {
	File string
	Line int // 1-based; 0 when the problem is the file as a whole
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Read parses a series from r; name is used in error messages. It rejects a
// missing header or column, unparsable or negative numbers, and times that
// do not strictly increase, naming the line.
func Read(r io.Reader, name string) (Series, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return Series{}, &Error{name, 0, "empty file: want a header " + strings.Join(Header, ",")}
	}
	if err != nil {
		return Series{}, csvError(name, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	idx := make([]int, len(Header))
	for i, h := range Header {
		j, ok := col[h]
		if !ok {
			return Series{}, &Error{name, 1, fmt.Sprintf("missing column %q (header must name %s)", h, strings.Join(Header, ","))}
		}
		idx[i] = j
	}
	secondAt, hasSecond := col[SecondColumn]
	familyAt, hasFamily := col[FamilyColumn]
	var s Series
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Series{}, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		field := func(i int) (string, error) {
			if idx[i] >= len(rec) {
				return "", &Error{name, line, fmt.Sprintf("missing field %q", Header[i])}
			}
			return strings.TrimSpace(rec[idx[i]]), nil
		}
		var p Point
		var nums [5]int64
		for i, h := range Header {
			f, err := field(i)
			if err != nil {
				return Series{}, err
			}
			if h == "utc" {
				p.UTC, err = time.Parse(time.RFC3339, f)
				if err != nil {
					return Series{}, &Error{name, line, fmt.Sprintf("utc %q is not an RFC 3339 time", f)}
				}
				p.UTC = p.UTC.UTC()
				continue
			}
			v, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return Series{}, &Error{name, line, fmt.Sprintf("%s %q is not a whole number", h, f)}
			}
			if v < 0 {
				return Series{}, &Error{name, line, fmt.Sprintf("%s is negative (%d)", h, v)}
			}
			nums[i] = v
		}
		p.Minute, p.Probes, p.Sources, p.NewSources = nums[0], nums[2], nums[3], nums[4]
		if hasSecond {
			if secondAt >= len(rec) {
				return Series{}, &Error{name, line, fmt.Sprintf("missing field %q", SecondColumn)}
			}
			f := strings.TrimSpace(rec[secondAt])
			v, err := strconv.ParseFloat(f, 64)
			if err != nil || !(v >= 0 && v < 60) {
				return Series{}, &Error{name, line, fmt.Sprintf("second %q is not a number of seconds in [0, 60)", f)}
			}
			p.Second = v
		}
		if n := len(s.Points); n > 0 {
			prev := s.Points[n-1]
			if !p.UTC.After(prev.UTC) || p.Offset() <= prev.Offset() {
				return Series{}, &Error{name, line, fmt.Sprintf("time does not increase (%s, utc %s after %s, utc %s)",
					p.at(hasSecond), p.UTC.Format(time.RFC3339Nano), prev.at(hasSecond), prev.UTC.Format(time.RFC3339Nano))}
			}
		}
		if hasFamily && familyAt < len(rec) {
			for _, f := range strings.Split(strings.TrimSpace(rec[familyAt]), "+") {
				if f != "" && !slices.Contains(s.Families, f) {
					s.Families = append(s.Families, f)
				}
			}
		}
		s.Points = append(s.Points, p)
	}
	return s, nil
}

// at names the bin's start as the file gives it.
func (p Point) at(withSecond bool) string {
	if withSecond {
		return fmt.Sprintf("minute %d second %s", p.Minute, strconv.FormatFloat(p.Second, 'f', -1, 64))
	}
	return fmt.Sprintf("minute %d", p.Minute)
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{name, pe.Line, pe.Err.Error()}
	}
	return &Error{name, 0, err.Error()}
}

// Write writes s with the canonical header, the column second after
// minute when some bin starts between whole minutes, and the column
// family last when s.Families is set.
func Write(w io.Writer, s Series) error {
	subMinute := false
	for _, p := range s.Points {
		subMinute = subMinute || p.Second != 0
	}
	head := Header
	if subMinute {
		head = slices.Insert(slices.Clone(Header), 1, SecondColumn)
	}
	family := strings.Join(s.Families, "+")
	if family != "" {
		head = append(slices.Clone(head), FamilyColumn)
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(strings.Join(head, ",") + "\n")
	var buf []byte
	for _, p := range s.Points {
		buf = buf[:0]
		buf = strconv.AppendInt(buf, p.Minute, 10)
		buf = append(buf, ',')
		if subMinute {
			buf = strconv.AppendFloat(buf, p.Second, 'f', -1, 64)
			buf = append(buf, ',')
		}
		buf = p.UTC.UTC().AppendFormat(buf, time.RFC3339Nano)
		for _, v := range []int64{p.Probes, p.Sources, p.NewSources} {
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, v, 10)
		}
		if family != "" {
			buf = append(buf, ',')
			buf = append(buf, family...)
		}
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	return bw.Flush()
}
