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
package series

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Header is the canonical column list, in the order Write emits it.
var Header = []string{"minute", "utc", "probes", "sources", "new_sources"}

// Point is one bin of an observed series.
type Point struct {
	Minute     int64     // bin start, minutes since the series start
	UTC        time.Time // bin start
	Probes     int64     // probes seen in the bin
	Sources    int64     // distinct sources seen in the bin
	NewSources int64     // sources first seen in the bin
}

// Series is an observed series: bins in increasing time.
type Series struct {
	Points []Point
}

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
		if n := len(s.Points); n > 0 {
			prev := s.Points[n-1]
			if !p.UTC.After(prev.UTC) || p.Minute <= prev.Minute {
				return Series{}, &Error{name, line, fmt.Sprintf("time does not increase (minute %d, utc %s after minute %d, utc %s)",
					p.Minute, p.UTC.Format(time.RFC3339), prev.Minute, prev.UTC.Format(time.RFC3339))}
			}
		}
		s.Points = append(s.Points, p)
	}
	return s, nil
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{name, pe.Line, pe.Err.Error()}
	}
	return &Error{name, 0, err.Error()}
}

// Write writes s with the canonical header.
func Write(w io.Writer, s Series) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(strings.Join(Header, ",") + "\n")
	var buf []byte
	for _, p := range s.Points {
		buf = buf[:0]
		buf = strconv.AppendInt(buf, p.Minute, 10)
		buf = append(buf, ',')
		buf = p.UTC.UTC().AppendFormat(buf, time.RFC3339Nano)
		for _, v := range []int64{p.Probes, p.Sources, p.NewSources} {
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, v, 10)
		}
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	return bw.Flush()
}
