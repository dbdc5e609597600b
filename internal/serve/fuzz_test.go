package serve

import (
	"net/url"
	"testing"
)

// FuzzSpec feeds arbitrary query strings to the permalink parser: it must
// not panic, and a query it accepts must name the same run when written
// back and read again. load, which parses a scenario, runs only on short
// inputs so the fuzzer spends its time in the parser.
func FuzzSpec(f *testing.F) {
	for _, q := range []string{
		"scenario=codered-v2-scaled&seed=3&v=v0.1.0-dev",
		"scenario=codered-v2-scaled&seed=3&worm.scan_rate=2",
		"scenario=nope",
		"seed=-1",
		"seed=18446744073709551616",
		"toml=" + encodeTOML(`name = "x"`),
		"toml=%21%21",
		"toml=" + encodeTOML("name = \"x\"\n[run]\nstart = 2001-07-19T10:00:00Z\nend = 2001-07-19T11:00:00Z\n[population]\nsize = 10\n[worm]\nscan_rate = 1\n"),
		"scenario=codered-v2-scaled&toml=x",
		"source=name%20%3D%201",
		"scenario=codered-v2-scaled&worm.scan_rate=abc&run.step=0s",
		"scenario=../../etc/passwd",
		"%zz",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		sp, err := specFrom(q)
		if err != nil {
			return
		}
		again, err := specFrom(sp.query())
		if err != nil {
			t.Fatalf("%q: its own query %q is refused: %v", raw, sp.query().Encode(), err)
		}
		if again.key() != sp.key() {
			t.Fatalf("%q: written back and read again names another run", raw)
		}
		if len(raw) < 2000 {
			sp.load()
		}
	})
}
