package scenarioform

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/scenario"
)

func builtin(t testing.TB, name string) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sameScenario fails unless a and b encode to the same canonical TOML.
func sameScenario(t testing.TB, what string, a, b *scenario.Scenario) {
	t.Helper()
	ca, cb := Canonical(a), Canonical(b)
	if !bytes.Equal(ca, cb) {
		t.Errorf("%s: scenarios differ:\n%s", what, lineDiff(string(ca), string(cb)))
	}
}

func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := range max(len(al), len(bl)) {
		x, y := "", ""
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, "- "+x, "+ "+y)
		}
	}
	return strings.Join(out, "\n")
}

// TestRoundTripBuiltins: every built-in, through its fields' text and
// back, is the same scenario: applied to itself, to another built-in (so
// the fields alone carry every value) and, as a permalink carries it, as
// its changes from another built-in.
func TestRoundTripBuiltins(t *testing.T) {
	names := scenario.Names()
	for i, name := range names {
		s := builtin(t, name)
		other := builtin(t, names[(i+1)%len(names)])
		got, errs := Apply(s, Values(s))
		if errs != nil {
			t.Fatalf("%s onto itself: %v", name, errs)
		}
		sameScenario(t, name+" onto itself", s, got)
		if got.Source != s.Source {
			t.Errorf("%s: an unchanged form rewrote the file", name)
		}
		got, errs = Apply(other, Values(s))
		if errs != nil {
			t.Fatalf("%s onto %s: %v", name, other.Name, errs)
		}
		sameScenario(t, name+" onto "+other.Name, s, got)
		again, err := ParseTOML(TOML(got), "edited.toml")
		if err != nil {
			t.Fatalf("%s onto %s: the TOML does not read back: %v\n%s", name, other.Name, err, TOML(got))
		}
		sameScenario(t, name+" onto "+other.Name+", TOML read back", s, again)
		got, errs = Apply(other, Changes(other, s))
		if errs != nil {
			t.Fatalf("%s as changes to %s: %v", name, other.Name, errs)
		}
		sameScenario(t, name+" as changes to "+other.Name, s, got)
	}
}

func TestFields(t *testing.T) {
	crv2, crii := builtin(t, "codered-v2-2001-07-19"), builtin(t, "codered-ii-2001-08-04")
	tests := []struct {
		s       *scenario.Scenario
		key     string
		kind    Kind
		value   string
		label   string
		section string
		parent  string
	}{
		{crv2, "name", String, "codered-v2-2001-07-19", "Name", "", ""},
		{crv2, "run.start", Time, "2001-07-19T10:00:00Z", "Start", "run", ""},
		{crv2, "run.step", Duration, "1m", "Step", "run", ""},
		{crv2, "run.checkpoints", List, "9h, 14h", "Checkpoints", "run", ""},
		{crv2, "space.bits", Int, "32", "Bits", "space", ""},
		{crv2, "population.size", Int, "360000", "Size", "population", ""},
		{crv2, "population.allocated_by", Time, "2001-07-19", "Allocated by", "population", ""},
		{crv2, "population.slash8_zipf", Float, "1", "/8 Zipf", "population", ""}, // the default
		{crv2, "population.layout", Enum, "allocated", "Layout", "population", ""},
		{crv2, "worm.scan_rate", Float, "5.9667", "Scan rate", "worm", ""},
		{crv2, "worm.scan_rate_cv", Float, "0", "Scan rate CV", "worm", ""},
		{crv2, "worm.skip_zero_255", Bool, "false", "Skip zero 255", "worm", ""},
		{crv2, "worm.permutation_key", Int, "", "Permutation key", "worm", ""},
		{crv2, "worm.variant", Table, "false", "Variant", "worm", ""},
		{crv2, "worm.variant.share", Float, "", "Share", "worm", "worm.variant"},
		{crv2, "defence.blacklist", Table, "false", "Blacklist", "defence", ""},
		{crv2, "defence.blacklist.reaction", Duration, "", "Reaction", "defence", "defence.blacklist"},
		{crv2, "census", Table, "false", "Census", "census", ""},
		{crv2, "census.at", List, "", "At", "census", "census"},
		{crii, "worm.mix", Rows, "0.125, 0\n0.5, 8\n0.375, 16", "Mix", "worm", ""},
		{crii, "worm.exclude", List, "127.0.0.0/8, 224.0.0.0/3", "Exclude", "worm", ""},
		{crii, "worm.lifetime", Duration, "24h", "Lifetime", "worm", ""},
		{crii, "worm.variant", Table, "true", "Variant", "worm", ""},
		{crii, "worm.variant.lifetime", Duration, "48h", "Lifetime", "worm", "worm.variant"},
		{crii, "worm.variant.rate_factor", Float, "2", "Rate factor", "worm", "worm.variant"},
	}
	for _, tt := range tests {
		fields := Fields(tt.s)
		i := slices.IndexFunc(fields, func(f Field) bool { return f.Key == tt.key })
		if i < 0 {
			t.Errorf("%s: no field %s", tt.s.Name, tt.key)
			continue
		}
		f := fields[i]
		if f.Kind != tt.kind || f.Value != tt.value || f.Label != tt.label || f.Section != tt.section || f.Parent != tt.parent {
			t.Errorf("%s: %s = {kind %s, value %q, label %q, section %q, parent %q}, want {%s, %q, %q, %q, %q}",
				tt.s.Name, tt.key, f.Kind, f.Value, f.Label, f.Section, f.Parent, tt.kind, tt.value, tt.label, tt.section, tt.parent)
		}
	}
	fields := Fields(crii)
	byKey := map[string]Field{}
	for _, f := range fields {
		byKey[f.Key] = f
	}
	if f := byKey["worm.strategy"]; !slices.Equal(f.Options, enums["worm.strategy"]) || !slices.Contains(f.Options, "local-preference") {
		t.Errorf("worm.strategy options %v", f.Options)
	}
	if f := byKey["worm.mix"]; len(f.Columns) != 2 || f.Columns[0].Key != "share" || f.Columns[0].Kind != Float || f.Columns[1].Key != "prefix" || f.Columns[1].Kind != Int {
		t.Errorf("worm.mix columns %+v", f.Columns)
	}
	if f := byKey["run.checkpoints"]; f.Elem != Duration {
		t.Errorf("run.checkpoints elements are %s, want duration", f.Elem)
	}
	// Help comes from the doc comments, with keys for Go names.
	for key, want := range map[string]string{
		"worm.scan_rate":          "scan_rate is the mean probes a second of one infected host.",
		"population.slash16_zipf": "Clustered layout: Zipf exponents", // shared with slash8_zipf above it
		"defence.blacklist":       "from reaction after its infection on",
		"run.start":               "UTC; when the initial hosts are infected", // a line comment
	} {
		if !strings.Contains(byKey[key].Help, want) {
			t.Errorf("%s help %q lacks %q", key, byKey[key].Help, want)
		}
	}
	if h := SectionHelp("run"); h != "Run sets the simulated time span and the output grid." {
		t.Errorf("SectionHelp(run) = %q", h)
	}
	// The order is the types': name first, then run's keys; an optional
	// table's key right before its own.
	if fields[0].Key != "name" || fields[2].Key != "run.start" {
		t.Errorf("fields start %s, %s, %s", fields[0].Key, fields[1].Key, fields[2].Key)
	}
	for i, f := range fields {
		if f.Parent != "" && !slices.ContainsFunc(fields[:i], func(g Field) bool { return g.Key == f.Parent && g.Kind == Table }) {
			t.Errorf("%s comes before its table %s", f.Key, f.Parent)
		}
	}
}

func TestApply(t *testing.T) {
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name  string
		base  string
		form  url.Values
		check func(*scenario.Scenario) bool
		errs  map[string]string // key -> part of the message
	}{
		{name: "scan rate", form: form("worm.scan_rate", "7"),
			check: func(s *scenario.Scenario) bool { return s.Worm.ScanRate == 7 }},
		{name: "not a number", form: form("worm.scan_rate", "fast"),
			errs: map[string]string{"worm.scan_rate": `"fast": want a number`}},
		{name: "validate's message", form: form("worm.scan_rate", "-1"),
			errs: map[string]string{"worm.scan_rate": "-1: want a positive number of probes a second"}},
		{name: "every bad value at once", form: form("worm.scan_rate", "x", "run.step", "soon", "space.bits", "1.5"),
			errs: map[string]string{"worm.scan_rate": "want a number", "run.step": "want a duration", "space.bits": "want a whole number"}},
		{name: "step must divide the run", form: form("run.step", "11m"),
			errs: map[string]string{"run.step": "11m0s does not divide the run (14h0m0s)"}},
		{name: "step 10m", form: form("run.step", "10m"),
			check: func(s *scenario.Scenario) bool { return s.Run.Step.Duration == 10*time.Minute }},
		{name: "enum", form: form("worm.strategy", "zigzag"),
			errs: map[string]string{"worm.strategy": `"zigzag": want one of uniform, local-preference`}},
		{name: "start later", form: form("run.start", "2001-07-19T09:00:00Z"),
			check: func(s *scenario.Scenario) bool { return s.Run.Start.Hour() == 9 }},
		{name: "not a time", form: form("run.start", "10 o'clock"),
			errs: map[string]string{"run.start": "want a time such as 2001-07-19T10:00:00Z"}},
		{name: "date", form: form("population.allocated_by", "2001-06-01"),
			check: func(s *scenario.Scenario) bool { return s.Population.AllocatedBy.Month() == time.June }},
		{name: "list", form: form("run.checkpoints", "1h, 2h,3h"),
			check: func(s *scenario.Scenario) bool {
				return len(s.Run.Checkpoints) == 3 && s.Run.Checkpoints[2].Duration == 3*time.Hour
			}},
		{name: "bad list value", form: form("run.checkpoints", "1h, soon"),
			errs: map[string]string{"run.checkpoints": `value 2: "soon": want a duration`}},
		{name: "list outside the run", form: form("run.checkpoints", "1h, 15h"),
			errs: map[string]string{"run.checkpoints": "checkpoint 2 (15h0m0s) is outside the run"}},
		{name: "empty unsets", form: form("run.checkpoints", ""),
			check: func(s *scenario.Scenario) bool { return s.Run.Checkpoints == nil }},
		{name: "empty step takes the default", form: form("run.step", " "),
			check: func(s *scenario.Scenario) bool { return s.Run.Step.Duration == time.Minute }},
		{name: "empty name", form: form("name", ""),
			errs: map[string]string{"name": "missing"}},
		{name: "checkbox: the last value counts", form: form("worm.skip_zero_255", "false", "worm.skip_zero_255", "true"),
			check: func(s *scenario.Scenario) bool { return s.Worm.SkipZero255 }},
		{name: "table on", form: form("defence.blacklist", "true", "defence.blacklist.reaction", "1h"),
			check: func(s *scenario.Scenario) bool {
				return s.Defence.Blacklist != nil && s.Defence.Blacklist.Reaction.Duration == time.Hour && s.Network.CustomerBits == 16
			}},
		{name: "table on, keys to their defaults", form: form("defence.throttle", "on", "defence.throttle.share", "0.5"),
			check: func(s *scenario.Scenario) bool { return s.Defence.Throttle != nil && s.Defence.Throttle.PerSecond == 1 }},
		{name: "keys of an absent table are ignored", form: form("defence.blacklist", "false", "defence.blacklist.reaction", "1h"),
			check: func(s *scenario.Scenario) bool { return s.Defence.Blacklist == nil }},
		{name: "table off", base: "codered-ii-2001-08-04", form: form("worm.variant", "false", "worm.variant.share", "0.5"),
			check: func(s *scenario.Scenario) bool { return s.Worm.Variant == nil }},
		{name: "bad table toggle", form: form("census", "maybe"),
			errs: map[string]string{"census": `"maybe": want true or false`}},
		{name: "rows", base: "codered-ii-2001-08-04", form: form("worm.mix", "0.5, 8\r\n\n0.5, 16\n"),
			check: func(s *scenario.Scenario) bool { return len(s.Worm.Mix) == 2 && s.Worm.Mix[1].Prefix == 16 }},
		{name: "rows: a short row", base: "codered-ii-2001-08-04", form: form("worm.mix", "0.5, 8\n0.5"),
			errs: map[string]string{"worm.mix": "row 2: want 2 values a row (share, prefix)"}},
		{name: "rows: a bad cell", base: "codered-ii-2001-08-04", form: form("worm.mix", "half, 8"),
			errs: map[string]string{"worm.mix": `row 1: share: "half": want a number`}},
		{name: "rows: shares not summing to one", base: "codered-ii-2001-08-04", form: form("worm.mix", "0.5, 8\n0.4, 16"),
			errs: map[string]string{"worm.mix": "sum"}},
		{name: "uint64 beyond TOML", form: form("worm.static_seed", "18446744073709551615"),
			errs: map[string]string{"worm.static_seed": "want a whole number from 0 to 9223372036854775807"}},
		{name: "no layout files from the server", form: form("population.layout", "file", "population.file", "/etc/passwd"),
			errs: map[string]string{"population.layout": "the lab does not read layout files"}},
		{name: "keys it does not know are the caller's", form: form("seed", "3", "engine", "probe"),
			check: func(s *scenario.Scenario) bool { return strings.HasPrefix(s.Source, "# Code Red I v2 on 19 July 2001") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := tt.base
			if name == "" {
				name = "codered-v2-2001-07-19"
			}
			base := builtin(t, name)
			before := Canonical(base)
			s, errs := Apply(base, tt.form)
			if !bytes.Equal(Canonical(base), before) {
				t.Errorf("Apply changed its base")
			}
			if tt.errs != nil {
				if s != nil || len(errs) != len(tt.errs) {
					t.Fatalf("errors %v, want %v", errs, tt.errs)
				}
				for k, want := range tt.errs {
					if !strings.Contains(errs[k], want) {
						t.Errorf("error at %s: %q, want %q", k, errs[k], want)
					}
				}
				return
			}
			if errs != nil {
				t.Fatalf("errors %v", errs)
			}
			if !tt.check(s) {
				t.Errorf("wrong scenario:\n%s", TOML(s))
			}
			again, err := ParseTOML(TOML(s), "edited.toml")
			if err != nil {
				t.Fatalf("TOML does not read back: %v\n%s", err, TOML(s))
			}
			sameScenario(t, "TOML read back", s, again)
		})
	}
}

// TestEditedTOML: a changed form writes the keys the base's file set and
// the changed one, in the types' order, each table's keys before its
// subtables. The golden is testdata/edited-codered-ii.toml (-update).
func TestEditedTOML(t *testing.T) {
	base := builtin(t, "codered-ii-2001-08-04")
	s, errs := Apply(base, url.Values{"worm.scan_rate": {"12"}, "population.nat_share": {"0"}, "defence.blacklist": {"true"}, "defence.blacklist.reaction": {"30m"}, "census": {"true"}, "census.sample": {"1000"}, "census.at": {"2001-08-05T00:00:00Z, 2001-08-06T00:00:00Z"}})
	if errs != nil {
		t.Fatal(errs)
	}
	golden := filepath.Join("testdata", "edited-codered-ii.toml")
	if *update {
		if err := os.WriteFile(golden, TOML(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := TOML(s); !bytes.Equal(got, want) {
		t.Errorf("edited TOML:\n%s", lineDiff(string(want), string(got)))
	}
}

// TestTOMLOfGoScenario: a scenario made in Go has no file; TOML writes
// every key, and it reads back as the same scenario.
func TestTOMLOfGoScenario(t *testing.T) {
	s := *builtin(t, "codered-v2-throttle")
	s.Source = ""
	src := TOML(&s)
	if !bytes.Contains(src, []byte("[defence.throttle]\nshare = ")) || bytes.Contains(src, []byte("[census]")) {
		t.Errorf("TOML of a Go scenario:\n%s", src)
	}
	again, err := ParseTOML(src, "go.toml")
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	sameScenario(t, "Go scenario through TOML", &s, again)
}

func TestParseTOMLErrors(t *testing.T) {
	tests := []struct {
		src string
		err string // the whole message: file:line: key: msg
		key string // KeyErrors' key
	}{
		{"name = \"x\"\n[run]\nstart = 2001-07-19T10:00:00Z\nend = 2001-07-19T11:00:00Z\nstep = \"7q\"\n",
			`up.toml:5: run.step: "7q" is not a duration such as "1m" or "10s"`, "run.step"},
		{"name = \"x\"\ncolour = \"red\"\n", "up.toml:2: colour: unknown key", "colour"},
		{"name = \"x\"\n[run]\nstart = 2001-07-19T10:00:00Z\nend = 2001-07-19T09:00:00Z\n",
			"up.toml:4: run.end: 2001-07-19T09:00:00Z is not after run.start 2001-07-19T10:00:00Z", "run.end"},
		{"name = \"x\n", "up.toml:1: name: strings cannot contain newlines", "name"},
	}
	for _, tt := range tests {
		_, err := ParseTOML([]byte(tt.src), "up.toml")
		if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
			t.Errorf("ParseTOML(%q) = %v, want %s", tt.src, err, tt.err)
			continue
		}
		var se *scenario.Error
		if !errors.As(err, &se) || se.Line == 0 {
			t.Errorf("%v: not a *scenario.Error with a line", err)
		}
		if errs := KeyErrors(err); len(errs) != 1 || errs[tt.key] == "" {
			t.Errorf("KeyErrors(%v) = %v, want one at %q", err, errs, tt.key)
		}
	}
	// Build's errors without a key land at their table.
	if errs := KeyErrors(errors.New("builtin:x: population: too many hosts")); errs["population"] != "too many hosts" {
		t.Errorf("KeyErrors of a Build error: %v", errs)
	}
	if errs := (Errors{"b": "two", "a": "one", "": "all"}); errs.Error() != "all; a: one; b: two" {
		t.Errorf("Errors.Error() = %q", errs.Error())
	}
}

// TestEnumsMatchValidate: each enum's options are the values the
// scenario checks name when they reject one; a new strategy or calendar
// in internal/scenario fails here until enums lists it.
func TestEnumsMatchValidate(t *testing.T) {
	tests := []struct {
		key   string
		extra url.Values // what makes the key checked at all
		also  []string   // values Validate allows that the lab does not
	}{
		{key: "population.layout", also: []string{"file"}},
		{key: "worm.strategy"},
		{key: "worm.after_lifetime"},
		{key: "worm.calendar"},
		{key: "worm.after_hit_list", extra: url.Values{"worm.strategy": {"hit-list"}, "worm.hit_list_size": {"10"}}},
		{key: "defence.content_filter.after", extra: url.Values{"defence.content_filter": {"true"}}},
		{key: "defence.deployment.where", extra: url.Values{"defence.deployment": {"true"}, "defence.blacklist": {"true"}}},
	}
	base := builtin(t, "codered-v2-2001-07-19")
	for _, tt := range tests {
		form := url.Values{tt.key: {"no-such-value"}}
		for k, v := range tt.extra {
			form[k] = v
		}
		_, errs := Apply(base, form)
		msg := errs[tt.key]
		if msg == "" {
			t.Errorf("%s: a bad value gives %v", tt.key, errs)
			continue
		}
		want := append(slices.Clone(enums[tt.key]), tt.also...)
		named := 0
		for _, o := range want {
			if strings.Contains(msg, o) {
				named++
			}
		}
		// Every option named, and no more options than those: the message
		// lists them separated by ", " or " or ".
		listed := len(strings.FieldsFunc(strings.SplitN(msg, "want", 2)[1], func(r rune) bool { return r == ',' })) + strings.Count(msg, " or ")
		if named != len(want) || listed != len(want) {
			t.Errorf("%s: checks say %q; enums has %v", tt.key, msg, enums[tt.key])
		}
	}
}
