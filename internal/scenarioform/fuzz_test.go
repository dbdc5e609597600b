package scenarioform

import (
	"net/url"
	"testing"
)

// FuzzApply submits any form to the Code Red II built-in (the one with
// rows, lists and an optional table). Apply must not panic; what it
// accepts must be a valid scenario whose TOML reads back as the same
// scenario and whose fields, submitted again, change nothing. The seed
// corpus is testdata/fuzz/FuzzApply.
func FuzzApply(f *testing.F) {
	base, err := ParseTOML(TOML(builtin(f, "codered-ii-2001-08-04")), "base.toml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add("worm.scan_rate=7&run.step=1h")
	f.Fuzz(func(t *testing.T, query string) {
		form, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		s, errs := Apply(base, form)
		if errs != nil {
			if s != nil || len(errs) == 0 {
				t.Fatalf("Apply returned a scenario and errors %v", errs)
			}
			return
		}
		again, err := ParseTOML(TOML(s), "again.toml")
		if err != nil {
			t.Fatalf("accepted %q, but its TOML does not read back: %v\n%s", query, err, TOML(s))
		}
		sameScenario(t, "TOML read back", s, again)
		same, errs := Apply(s, Values(s))
		if errs != nil {
			t.Fatalf("its own fields: %v", errs)
		}
		sameScenario(t, "its own fields", s, same)
	})
}
