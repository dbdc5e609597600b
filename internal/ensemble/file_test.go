package ensemble

import (
	"bytes"
	"strings"
	"testing"
)

// TestFileRoundTrip checks that File is the whole ensemble file: read back
// and written again, it gives the same bytes, telescope columns included.
func TestFileRoundTrip(t *testing.T) {
	js, _ := outputs(t, run(t, Spec{BaseSeed: 1, Runs: 3}))
	f, err := ReadFile(bytes.NewReader(js), "e.json")
	if err != nil {
		t.Fatal(err)
	}
	if f.Runs != 3 || len(f.Members) != 3 || len(f.Bands) != f.Bins || f.Bands[0].TelescopeSeen != nil {
		t.Fatalf("read %d runs, %d members, %d bands of %d bins", f.Runs, len(f.Members), len(f.Bands), f.Bins)
	}
	var again bytes.Buffer
	if err := f.WriteJSON(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), js) {
		t.Error("an ensemble file read and written again differs")
	}
}

func TestReadFileRefuses(t *testing.T) {
	js, _ := outputs(t, run(t, Spec{BaseSeed: 1, Runs: 3}))
	for _, c := range []struct{ name, from, to, want string }{
		{"shard", `"wormlab.ensemble/v1"`, `"wormlab.ensemble-shard/v1"`, `e.json: schema "wormlab.ensemble-shard/v1", this wormlab reads "wormlab.ensemble/v1"`},
		{"telescope column", `"infected":[2,2,2],`, `"infected":[2,2,2],"telescope_seen":[1,1,1],`, "e.json: bands row 0: column telescope_seen present where the columns say otherwise"},
		{"order", `"infected":[2,2,2],`, `"infected":[2,3,2],`, "e.json: bands row 0: infected quantiles [2 3 2] are not in increasing order"},
		{"type", `"runs": 3,`, `"runs": "3",`, "e.json: line "},
	} {
		bad := strings.Replace(string(js), c.from, c.to, 1)
		if bad == string(js) {
			t.Fatalf("%s: %q not in the file", c.name, c.from)
		}
		_, err := ReadFile(strings.NewReader(bad), "e.json")
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: err %v, want prefix %q", c.name, err, c.want)
		}
	}
}

// FuzzReadFile checks that no input crashes the reader and that what it
// accepts writes back to bytes it reads and writes the same way.
func FuzzReadFile(f *testing.F) {
	js, _ := outputs(f, run(f, Spec{BaseSeed: 1, Runs: 2}))
	f.Add(js)
	f.Add([]byte(`{"schema":"wormlab.ensemble/v1","columns":["susceptible","infected","patched","removed","new_infections","probes"],"bands":[{"utc":"2001-07-19T10:00:00Z","infected":[1,2,3]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := ReadFile(bytes.NewReader(b), "fuzz.json")
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := file.WriteJSON(&out); err != nil {
			t.Fatal(err)
		}
		again, err := ReadFile(bytes.NewReader(out.Bytes()), "again.json")
		if err != nil {
			t.Fatalf("a file it read does not read back: %v", err)
		}
		var out2 bytes.Buffer
		again.WriteJSON(&out2)
		if !bytes.Equal(out.Bytes(), out2.Bytes()) {
			t.Fatal("write, read, write is not stable")
		}
	})
}
