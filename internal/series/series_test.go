package series

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	t0 := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	in := Series{Points: []Point{
		{0, t0, 12, 3, 3},
		{1, t0.Add(time.Minute), 40, 9, 6},
	}}
	var buf bytes.Buffer
	if err := Write(&buf, in); err != nil {
		t.Fatal(err)
	}
	want := "minute,utc,probes,sources,new_sources\n0,2001-07-19T10:00:00Z,12,3,3\n1,2001-07-19T10:01:00Z,40,9,6\n"
	if buf.String() != want {
		t.Fatalf("Write =\n%s\nwant\n%s", buf.String(), want)
	}
	out, err := Read(&buf, "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Points) != 2 || out.Points[1] != in.Points[1] {
		t.Errorf("Read(Write(s)) = %+v, want %+v", out.Points, in.Points)
	}
}

func TestReadExtraColumnsAnyOrder(t *testing.T) {
	src := "utc,new_sources,probes,minute,note,sources\n2001-07-19T10:00:00Z,1,5,0,hello,1\n"
	s, err := Read(strings.NewReader(src), "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Points[0]; p.Probes != 5 || p.NewSources != 1 || p.Sources != 1 {
		t.Errorf("got %+v", p)
	}
}

func TestReadErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"missing column", "minute,utc,probes,sources\n", "x.csv:1: missing column \"new_sources\""},
		{"negative", "minute,utc,probes,sources,new_sources\n0,2001-07-19T10:00:00Z,-1,0,0\n", "x.csv:2: probes is negative"},
		{"not monotonic", "minute,utc,probes,sources,new_sources\n1,2001-07-19T10:01:00Z,1,1,1\n0,2001-07-19T10:00:00Z,1,1,1\n", "x.csv:3: time does not increase"},
		{"bad time", "minute,utc,probes,sources,new_sources\n0,yesterday,1,1,1\n", "x.csv:2: utc \"yesterday\""},
		{"short row", "minute,utc,probes,sources,new_sources\n0,2001-07-19T10:00:00Z,1\n", "x.csv:2: missing field \"sources\""},
		{"empty", "", "x.csv: empty file"},
	} {
		_, err := Read(strings.NewReader(tc.src), "x.csv")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want prefix %q", tc.name, err, tc.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add("minute,utc,probes,sources,new_sources\n0,2001-07-19T10:00:00Z,1,1,1\n")
	f.Add("minute,utc,probes,sources,new_sources\n0,2001-07-19T10:00:00Z,1\n")
	f.Add("\ufeffminute,utc,probes,sources,new_sources\n\"0\",\"x\n")
	f.Add("minute,utc,probes,sources,new_sources\n0,2001-07-19T10:00:00+02:00,99999999999999999999,1,1\n")
	f.Fuzz(func(t *testing.T, src string) {
		s, err := Read(strings.NewReader(src), "fuzz.csv")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Write(&buf, s); err != nil {
			t.Fatal(err)
		}
		again, err := Read(&buf, "again.csv")
		if err != nil {
			t.Fatalf("re-reading written series: %v", err)
		}
		if len(again.Points) != len(s.Points) {
			t.Fatalf("round trip changed length %d -> %d", len(s.Points), len(again.Points))
		}
	})
}
