package report

import (
	"io"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse and, when they are accepted, to
// Build and WriteHTML: nothing may panic, and an accepted input must give a
// page. The seeds are the test files and the shapes of the bad inputs
// (testdata/fuzz/FuzzParse holds more: a detect report with odd bins, an
// ensemble with NaN-like gaps, observers as an object).
func FuzzParse(f *testing.F) {
	f.Add(readTestdata(f, "scaled-run.json"))
	f.Add(fullRun(f))
	f.Add(ensembleJSON(5, 12))
	f.Add(sweepJSON(f, scaledWith(f, "[defence.content_filter]\nreaction = \"1h\"\n"), 2, "defence.content_filter.reaction=1h,2h", "worm.scan_rate=4,8"))
	f.Add([]byte(`{"schema":"wormlab.sweep/v1","keys":["worm.scan_rate"],"points":[{"values":{"worm.scan_rate":"x"},"step_seconds":60,"infected":[[1,2,3]]}]}`))
	f.Add([]byte(`{"schema":"wormlab.ensemble/v1","percentiles":[5,50,95],"bands":[{"utc":"2001-07-19T10:00:00Z","infected":[1,2,3]}]}`))
	f.Add([]byte(`{"schema":"wormlab.run/v1","series":[{"utc":"2001-07-19T10:00:00Z","infected":1}],"scenario":{"name":"x"}}`))
	f.Add([]byte(`{"schema":"wormlab.detect/v1","series":[{"minute":0,"utc":"2001-07-19T10:00:00Z","probes":3}]}`))
	f.Add([]byte(`{"schema":"wormlab.run/v2"}`))
	f.Add([]byte(`{"schema":`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := Parse("fuzz.json", data)
		if err != nil {
			if in != nil {
				t.Fatal("an error and an input")
			}
			return
		}
		r, err := Build([]*Input{in})
		if err != nil {
			t.Fatalf("accepted input does not build: %v", err)
		}
		if err := r.WriteHTML(io.Discard); err != nil {
			t.Fatalf("accepted input does not render: %v", err)
		}
		// The input beside itself: the compare section.
		r, err = Build([]*Input{in, in})
		if err != nil {
			t.Fatalf("accepted input twice does not build: %v", err)
		}
		if err := r.WriteHTML(io.Discard); err != nil {
			t.Fatalf("accepted input twice does not render: %v", err)
		}
	})
}
