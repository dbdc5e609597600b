package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wormlab/wormlab/internal/sweep"
)

func TestSweepReport(t *testing.T) {
	half := 300.0
	f := &sweep.File{Schema: sweep.Schema, Header: sweep.Header{Scenario: "s", Keys: []string{"defence.content_filter.reaction", "worm.scan_rate"}, Sets: []string{"a", "b"}, Runs: 10, BaseSeed: 1}}
	for _, r := range []string{"1h", "2h", "4h"} {
		for _, k := range []string{"3", "6"} {
			p := sweep.FilePoint{StepSeconds: 60, Infected: [][3]int64{{1, 1, 1}, {1, 2, 3}, {2, 5, 9}}}
			p.Values = map[string]string{"defence.content_filter.reaction": r, "worm.scan_rate": k}
			p.FinalShare = [3]float64{0.001, 0.01, 0.1}
			p.MinutesToHalf = [3]*float64{&half, nil, nil}
			f.Points = append(f.Points, p)
		}
	}
	r := Sweep(f)
	if len(r.Sections) != 1 || len(r.Charts()) != 2 || len(r.Sections[0].Tables[0].Rows) != 6 {
		t.Fatalf("%d sections, %d charts, want 1 and 2 with a table of 6 points", len(r.Sections), len(r.Charts()))
	}
	if x, unit := sweptAxis(f, "defence.content_filter.reaction"); x[2] != 120 || x[4] != 240 || unit != " (minutes)" {
		t.Errorf("swept axis %v%s, want durations in minutes", x, unit)
	}
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"worm.scan_rate = 6", "never (300 to never)", "<svg"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
