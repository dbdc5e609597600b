package detect

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// TestBadInputs states, for each of issue 12's bad-input cases under
// testdata, the figure the case exists for; the goldens hold the rest.
func TestBadInputs(t *testing.T) {
	run := func(t *testing.T, dir string) (*Report, string) {
		t.Helper()
		res := runCase(t, "testdata/"+dir, caseInputs(t, "testdata/"+dir))
		return res.Report, res.Error
	}
	fam := func(r *Report, name string) FamStats {
		for _, f := range r.Families {
			if f.Family == name {
				return f
			}
		}
		return FamStats{}
	}
	sources := func(r *Report) []string {
		var s []string
		for _, x := range r.TopSources {
			s = append(s, x.Source)
		}
		return s
	}

	t.Run("mixed formats are all read", func(t *testing.T) {
		r, err := run(t, "mixed")
		in := r.Inputs[0]
		if err != "" || in.Probes != 26 || in.Unparsable != 0 || len(in.Formats) != 3 {
			t.Errorf("%d probes (want 26: 5 combined, 10 IIS, 11 squid), %d unparsable, formats %v, error %q", in.Probes, in.Unparsable, in.Formats, err)
		}
	})
	t.Run("the relay is never the client", func(t *testing.T) {
		r, _ := run(t, "syslog-relay")
		want := []string{"24.2.0.1", "24.2.0.2", "24.2.0.3", "24.2.0.4", "24.2.0.5"}
		if s := sources(r); !slices.Equal(s, want) || r.Totals.Probes != 5 {
			t.Errorf("sources %v, %d probes; want one probe from each of %v, never the relay 10.9.9.9 or the month", s, r.Totals.Probes, want)
		}
	})
	t.Run("IIS without #Fields: never the server's address", func(t *testing.T) {
		r, _ := run(t, "iis-no-fields")
		if s := sources(r); slices.Contains(s, "10.0.0.5") || r.Totals.Probes != 3 || r.Totals.NoClientProbes != 1 {
			t.Errorf("sources %v, %d probes, %d without client; want 3 probes, 1 without client, never 10.0.0.5", s, r.Totals.Probes, r.Totals.NoClientProbes)
		}
	})
	t.Run("old IIS comma format", func(t *testing.T) {
		r, _ := run(t, "iis-comma")
		if f := fam(r, "codered1"); f.Probes != 6 || f.Sources != 6 || r.Inputs[0].Format != "iis-comma" {
			t.Errorf("codered1 %+v, format %q; want 6 probes from 6 sources", f, r.Inputs[0].Format)
		}
	})
	t.Run("byte-order mark before #Fields", func(t *testing.T) {
		r, _ := run(t, "iis-bom")
		if f := fam(r, "nimda"); f.Probes != 5 || r.Totals.Unparsable != 0 {
			t.Errorf("nimda %+v, %d unparsable; want 5 probes, none unparsable", f, r.Totals.Unparsable)
		}
	})
	t.Run("CR-only line ends", func(t *testing.T) {
		r, _ := run(t, "cr-only")
		if r.Totals.Lines != 6 || r.Totals.Probes != 3 {
			t.Errorf("%d lines, %d probes; want 6 and 3", r.Totals.Lines, r.Totals.Probes)
		}
	})
	for _, dir := range []string{"random-bytes", "wrong-format"} {
		t.Run(dir+" is an error, not a silent zero", func(t *testing.T) {
			_, err := Run(t.Context(), []string{"testdata/" + dir + "/input.log"}, caseConfig(t, "testdata/"+dir))
			var ue *UnparsableError
			if !errors.As(err, &ue) || ue.First != 1 {
				t.Errorf("error %v, want an UnparsableError naming line 1", err)
			}
		})
	}
	t.Run("--allow-unparsable counts what parses", func(t *testing.T) {
		r, err := run(t, "random-bytes-allowed")
		if err != "" || r.Totals.Probes != 1 {
			t.Errorf("%d probes, error %q", r.Totals.Probes, err)
		}
	})
	t.Run("control characters are escaped", func(t *testing.T) {
		r, _ := run(t, "control-chars")
		var text bytes.Buffer
		r.WriteText(&text)
		var js bytes.Buffer
		r.WriteJSON(&js)
		for _, out := range [][]byte{text.Bytes(), js.Bytes()} {
			for _, c := range out {
				if c < 0x20 && c != '\n' {
					t.Fatalf("control byte %#x in the output", c)
				}
			}
			if bytes.Contains(out, []byte("\u009b")) {
				t.Fatal("C1 control U+009B in the output")
			}
		}
		if r.Totals.Sources != 3 {
			t.Errorf("%d sources, want 3", r.Totals.Sources)
		}
	})
	t.Run("sadmind/IIS before 18 September 2001, Nimda after", func(t *testing.T) {
		r, _ := run(t, "sadmind")
		// 24.7.0.1 (May) and 24.7.0.2 (17 September) are sadmind; 24.7.0.3
		// sent only root.exe and 24.7.0.4 only cmd.exe: two Nimda sources.
		if s, n := fam(r, "sadmind-iis"), fam(r, "nimda"); s.Probes != 3 || s.Sources != 2 || n.Probes != 3 || n.Sources != 2 {
			t.Errorf("sadmind-iis %+v, nimda %+v; want 3 probes from 2 sources each", s, n)
		}
	})
	t.Run("--family restricts tables and series", func(t *testing.T) {
		r, _ := run(t, "family-filter")
		var names []string
		for _, f := range r.Families {
			names = append(names, f.Family)
		}
		var series []string
		for _, fs := range r.FamilySeries {
			series = append(series, fs.Family)
		}
		if !slices.Equal(names, []string{"codered2", "sadmind-iis"}) || !slices.Equal(series, names) || r.Totals.Probes != 60 || r.Totals.OtherProbes != 50 {
			t.Errorf("families %v, series %v, %d probes, %d left out; want codered2 and sadmind-iis, 60 and 50", names, series, r.Totals.Probes, r.Totals.OtherProbes)
		}
	})
	t.Run("junk after gzip is trailing data, every line read", func(t *testing.T) {
		r, err := run(t, "gzip-trailing")
		if r.Totals.Lines != 5 || !bytes.Contains([]byte(err), []byte("trailing data after byte 295")) {
			t.Errorf("%d lines, error %q", r.Totals.Lines, err)
		}
	})
	t.Run("a gzip failing its checksum: nothing counted from it", func(t *testing.T) {
		r, err := run(t, "gzip-crc")
		if r.Totals.Lines != 0 || !bytes.Contains([]byte(err), []byte("fails its checksum")) {
			t.Errorf("%d lines, error %q", r.Totals.Lines, err)
		}
	})
}
