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
		{Minute: 0, UTC: t0, Probes: 12, Sources: 3, NewSources: 3},
		{Minute: 1, UTC: t0.Add(time.Minute), Probes: 40, Sources: 9, NewSources: 6},
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

// TestSubMinute checks the second column: written only when a bin starts
// between whole minutes, read back to the same points, and ordering the
// rows whose minutes repeat.
func TestSubMinute(t *testing.T) {
	t0 := time.Date(2003, 1, 25, 5, 29, 0, 0, time.UTC)
	var in Series
	for i := range 8 {
		p := PointAt(time.Duration(i) * 10 * time.Second)
		p.UTC, p.Probes, p.Sources, p.NewSources = t0.Add(p.Offset()), int64(10*i), int64(i), 1
		in.Points = append(in.Points, p)
	}
	if p := in.Points[7]; p.Minute != 1 || p.Second != 10 || p.Offset() != 70*time.Second {
		t.Fatalf("PointAt(70s) = minute %d second %v", p.Minute, p.Second)
	}
	if p := PointAt(90500 * time.Millisecond); p.Minute != 1 || p.Second != 30.5 || p.Offset() != 90500*time.Millisecond {
		t.Errorf("PointAt(1m30.5s) = minute %d second %v, offset %v", p.Minute, p.Second, p.Offset())
	}
	var buf bytes.Buffer
	if err := Write(&buf, in); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	if lines[0] != "minute,second,utc,probes,sources,new_sources" || lines[2] != "0,10,2003-01-25T05:29:10Z,10,1,1" || lines[8] != "1,10,2003-01-25T05:30:10Z,70,7,1" {
		t.Fatalf("Write =\n%s", buf.String())
	}
	out, err := Read(&buf, "s.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Points) != len(in.Points) {
		t.Fatalf("read %d points, wrote %d", len(out.Points), len(in.Points))
	}
	for i := range in.Points {
		if out.Points[i] != in.Points[i] {
			t.Errorf("point %d: read %+v, wrote %+v", i, out.Points[i], in.Points[i])
		}
	}
	// A file with the column but whole-minute bins reads like one without.
	old, err := Read(strings.NewReader("minute,second,utc,probes,sources,new_sources\n0,0,2001-07-19T10:00:00Z,1,1,1\n1,0,2001-07-19T10:01:00Z,1,1,0\n"), "w.csv")
	if err != nil || old.Points[1].Offset() != time.Minute {
		t.Errorf("whole minutes with a second column: %+v, %v", old.Points, err)
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
		{"second out of range", "minute,second,utc,probes,sources,new_sources\n0,60,2001-07-19T10:00:00Z,1,1,1\n", "x.csv:2: second \"60\" is not a number of seconds in [0, 60)"},
		{"second repeats", "minute,second,utc,probes,sources,new_sources\n0,10,2001-07-19T10:00:10Z,1,1,1\n0,10,2001-07-19T10:00:20Z,1,1,1\n", "x.csv:3: time does not increase (minute 0 second 10"},
		{"minute repeats without second", "minute,utc,probes,sources,new_sources\n0,2001-07-19T10:00:00Z,1,1,1\n0,2001-07-19T10:00:10Z,1,1,1\n", "x.csv:3: time does not increase (minute 0, utc"},
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
	f.Add("minute,second,utc,probes,sources,new_sources\n0,0,2003-01-25T05:29:00Z,1,1,1\n0,10.5,2003-01-25T05:29:10.5Z,2,1,0\n")
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
		for i := range s.Points {
			if again.Points[i] != s.Points[i] {
				t.Fatalf("round trip changed point %d: %+v -> %+v", i, s.Points[i], again.Points[i])
			}
		}
	})
}
