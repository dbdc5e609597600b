package runrec

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/sim"
)

// TestReadWriteRoundTrip checks that Record is the whole run record: a
// record with a telescope, read back and written again, gives the same
// bytes, so no field is written that the reader drops.
func TestReadWriteRoundTrip(t *testing.T) {
	sc, err := scenario.Builtin("slammer-2003-01-25")
	if err != nil {
		t.Fatal(err)
	}
	sc.Telescope = &scenario.Telescope{Block: "auto"}
	c, err := sc.Build(1)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.RunEvent(c, 1)
	if err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	if err := New(sc, 1, c, res).WriteJSON(&first); err != nil {
		t.Fatal(err)
	}
	rec, err := Read(bytes.NewReader(first.Bytes()), "run.json")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Observers == nil || rec.Observers.Telescope == nil || len(rec.Observers.Telescope.Rows) != len(rec.Series) {
		t.Fatalf("the telescope did not read back: %+v", rec.Observers)
	}
	var again bytes.Buffer
	if err := rec.WriteJSON(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), again.Bytes()) {
		t.Error("a run record read and written again differs")
	}
	for _, c := range []struct{ from, to, want string }{
		{`"wormlab.run/v1"`, `"wormlab.run/v2"`, `run.json: schema "wormlab.run/v2", this wormlab reads "wormlab.run/v1"`},
		{`"seed": 1,`, `"seed": "one",`, "run.json: json: cannot unmarshal"},
	} {
		bad := strings.Replace(first.String(), c.from, c.to, 1)
		if _, err := Read(strings.NewReader(bad), "run.json"); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: err %v, want prefix %q", c.to, err, c.want)
		}
	}
}
