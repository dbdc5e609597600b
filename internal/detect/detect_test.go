package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/geoip"
	"github.com/wormlab/wormlab/internal/logsynth"
	"github.com/wormlab/wormlab/internal/series"
	"github.com/wormlab/wormlab/internal/signature"
)

var update = flag.Bool("update", false, "rewrite the want.json golden files")

// A test case is a directory under testdata/ holding:
//
//	input*       the logs, read in name order (or the names listed in args)
//	args         optional: one input name a line, as given on the command line
//	rules.toml   optional: user signatures
//	geoip        optional: a tor-geoipdb range file for --country
//	bin          optional: the bin width (default 10m)
//	format       optional: the format to force (--format)
//	families     optional: the families to count, comma-separated (--family)
//	allow-unparsable  optional, empty: count what parses in a mostly unparsable file
//	counts.json  optional: cmd/genlogs' account of a generated input
//	want.json    the expected report and error
type caseResult struct {
	Error  string  `json:"error,omitempty"`
	Report *Report `json:"report"`
}

// caseConfig returns the configuration a case directory asks for.
func caseConfig(t *testing.T, dir string) Config {
	t.Helper()
	cfg := Config{Bin: 10 * time.Minute}
	if b, err := os.ReadFile(filepath.Join(dir, "bin")); err == nil {
		d, err := time.ParseDuration(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Bin = d
	}
	if b, err := os.ReadFile(filepath.Join(dir, "format")); err == nil {
		cfg.Format = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile(filepath.Join(dir, "families")); err == nil {
		cfg.Families = strings.Split(strings.TrimSpace(string(b)), ",")
	}
	if _, err := os.Stat(filepath.Join(dir, "allow-unparsable")); err == nil {
		cfg.AllowUnparsable = true
	}
	if _, err := os.Stat(filepath.Join(dir, "rules.toml")); err == nil {
		user, err := signature.Load(filepath.Join(dir, "rules.toml"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Rules = signature.Builtin().With(user)
	}
	if _, err := os.Stat(filepath.Join(dir, "geoip")); err == nil {
		db, err := geoip.Open(filepath.Join(dir, "geoip"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Country = db.Country
	}
	return cfg
}

func runCase(t *testing.T, dir string, inputs []string) caseResult {
	t.Helper()
	cfg := caseConfig(t, dir)
	var paths []string
	for _, in := range inputs {
		paths = append(paths, filepath.Join(dir, in))
	}
	rep, err := Run(context.Background(), paths, cfg)
	if rep == nil {
		t.Fatalf("Run: no report, error %v", err)
	}
	// Goldens must not depend on the build or the checkout's location.
	rep.Version, rep.Commit = "", ""
	var res caseResult
	if err != nil {
		res.Error = strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
	}
	for i := range rep.Inputs {
		rep.Inputs[i].Name = filepath.Base(rep.Inputs[i].Name)
		rep.Inputs[i].Error = strings.ReplaceAll(rep.Inputs[i].Error, dir+string(filepath.Separator), "")
	}
	for i := range rep.Unparsable {
		rep.Unparsable[i].File = filepath.Base(rep.Unparsable[i].File)
	}
	res.Report = rep
	return res
}

func caseInputs(t *testing.T, dir string) []string {
	if b, err := os.ReadFile(filepath.Join(dir, "args")); err == nil {
		return strings.Fields(string(b))
	}
	m, _ := filepath.Glob(filepath.Join(dir, "input*"))
	var names []string
	for _, p := range m {
		names = append(names, filepath.Base(p))
	}
	slices.Sort(names)
	if len(names) == 0 {
		t.Fatalf("%s: no input files", dir)
	}
	return names
}

func TestCases(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/*")
	n := 0
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() || filepath.Base(dir) == "fuzz" {
			continue
		}
		n++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			inputs := caseInputs(t, dir)
			got := runCase(t, dir, inputs)
			gotJSON, _ := json.MarshalIndent(got, "", "  ")
			gotJSON = append(gotJSON, '\n')
			wantPath := filepath.Join(dir, "want.json")
			if *update {
				if err := os.WriteFile(wantPath, gotJSON, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(gotJSON, want) {
				t.Errorf("report differs from %s (rerun with -update and review the diff):\n%s", wantPath, firstDiff(string(want), string(gotJSON)))
			}
			checkCounts(t, dir, got.Report)
			checkSeries(t, got.Report)
			// Order of inputs must not matter.
			if len(inputs) > 1 {
				rev := slices.Clone(inputs)
				slices.Reverse(rev)
				again := runCase(t, dir, rev)
				slices.Reverse(again.Report.Inputs)
				a, _ := json.Marshal(again.Report)
				b, _ := json.Marshal(got.Report)
				if !bytes.Equal(a, b) {
					t.Errorf("inputs in reverse order give another report:\n%s", firstDiff(string(b), string(a)))
				}
			}
		})
	}
	if n < 8 {
		t.Errorf("found %d cases under testdata, want at least 8", n)
	}
}

// checkCounts compares the report with the generator's own account: the
// exact probes and distinct sources per signature, first and last probe
// times, the request count and the junk lines.
func checkCounts(t *testing.T, dir string, rep *Report) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "counts.json"))
	if err != nil {
		return
	}
	var c logsynth.Counts
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Signatures {
		w := c.Signatures[s.Name]
		if s.Probes != int64(w.Probes) || s.Sources != w.Sources || s.First != w.First || s.Last != w.Last {
			t.Errorf("%s: %d probes from %d sources, %s to %s; generator wrote %d from %d, %s to %s",
				s.Name, s.Probes, s.Sources, s.First, s.Last, w.Probes, w.Sources, w.First, w.Last)
		}
	}
	in := rep.Inputs[0]
	wantFormat := c.Format
	switch wantFormat {
	case logsynth.IISStripped:
		wantFormat = logsynth.IIS
	case logsynth.Fallback:
		wantFormat = "syslog+fallback" // the generator wraps proxy lines in syslog
	}
	if in.Format != wantFormat {
		t.Errorf("format %q, generator wrote %q", in.Format, c.Format)
	}
	if in.Lines != int64(c.Lines) {
		t.Errorf("%d lines, generator wrote %d", in.Lines, c.Lines)
	}
	// Junk lines are unparsable; an over-long line may or may not be
	// (a cut IIS line loses its later columns), so it is allowed either way.
	if in.Unparsable < int64(c.Junk) || in.Unparsable > int64(c.Junk+c.Long) {
		t.Errorf("%d unparsable lines, generator wrote %d junk and %d long", in.Unparsable, c.Junk, c.Long)
	}
	if in.TooLong != int64(c.Long) {
		t.Errorf("%d lines cut, generator wrote %d over-long", in.TooLong, c.Long)
	}
	if in.Requests+in.Unparsable-int64(c.Junk) != int64(c.Requests+c.Long) {
		t.Errorf("%d requests, generator wrote %d and %d long", in.Requests, c.Requests, c.Long)
	}
}

// checkSeries checks the series against the table: probes add up to the
// timed probes, new sources to the distinct timed sources, and the CSV
// round-trips through package series.
func checkSeries(t *testing.T, rep *Report) {
	t.Helper()
	var probes, newSrc int64
	for i, p := range rep.Series {
		probes += p.Probes
		newSrc += p.NewSources
		if p.Sources > p.Probes || p.NewSources > p.Sources {
			t.Errorf("bin %d: %d probes, %d sources, %d new: impossible", i, p.Probes, p.Sources, p.NewSources)
		}
		if p.Minute != int64(i)*rep.BinSeconds/60 {
			t.Errorf("bin %d: minute %d, want %d", i, p.Minute, int64(i)*rep.BinSeconds/60)
		}
	}
	if want := rep.Totals.Probes - rep.Totals.UntimedProbes; probes != want {
		t.Errorf("series holds %d probes, want %d", probes, want)
	}
	if newSrc > int64(rep.Totals.Sources) {
		t.Errorf("series has %d new sources, more than the %d sources", newSrc, rep.Totals.Sources)
	}
	var buf bytes.Buffer
	if err := series.Write(&buf, rep.ObservedSeries()); err != nil {
		t.Fatal(err)
	}
	back, err := series.Read(&buf, "series.csv")
	if err != nil {
		t.Fatalf("series does not read back: %v", err)
	}
	if len(back.Points) != len(rep.Series) {
		t.Errorf("series reads back with %d points, want %d", len(back.Points), len(rep.Series))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\n  want: " + w + "\n   got: " + g
		}
	}
	return "(no difference)"
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestStdinAndErrors(t *testing.T) {
	line := `10.0.0.1 - - [19/Jul/2001:10:00:01 +0000] "GET /default.ida?XXXX HTTP/1.0" 404 1` + "\n"
	rep, err := Run(context.Background(), []string{"-", "testdata/no-such.log"}, Config{Stdin: strings.NewReader(line)})
	var fe *FileError
	if !errors.As(err, &fe) || fe.File != "testdata/no-such.log" || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v, want a FileError for the missing file", err)
	}
	if rep == nil || rep.Totals.Probes != 1 || rep.Signatures[1].Probes != 1 || rep.Totals.FailedFiles != 1 {
		t.Fatalf("stdin's probe not counted or failure not reported: %+v", rep)
	}
	if _, err := Run(context.Background(), []string{"-"}, Config{Bin: 90 * time.Second, Stdin: strings.NewReader(line)}); err == nil {
		t.Error("a bin of 90s was accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, []string{"-"}, Config{Stdin: strings.NewReader(line)}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
}

// TestHugeLines feeds lines of megabytes: one of junk, one a Code Red II
// request padded to 5 MB. Both are cut at the bound, the probe is still
// found from the start of its line, and the lines around them are intact.
func TestHugeLines(t *testing.T) {
	ok := `10.0.0.1 - - [19/Jul/2001:10:00:01 +0000] "GET / HTTP/1.0" 200 1` + "\n"
	var in bytes.Buffer
	in.WriteString(ok)
	in.Write(bytes.Repeat([]byte{0xff, 0x00, '"', '['}, 1<<20))
	in.WriteString("\r\n" + ok)
	in.WriteString(`10.0.0.2 - - [19/Jul/2001:10:00:02 +0000] "GET /default.ida?`)
	in.Write(bytes.Repeat([]byte{'X'}, 5<<20))
	in.WriteString(" HTTP/1.0\" 404 1\n" + ok)
	rep, err := Run(context.Background(), []string{"-"}, Config{Stdin: &in})
	if err != nil {
		t.Fatal(err)
	}
	got := rep.Inputs[0]
	if got.Lines != 5 || got.TooLong != 2 || got.Requests != 4 || got.Unparsable != 1 || got.Probes != 1 || rep.Signatures[1].Probes != 1 {
		t.Errorf("lines %d, cut %d, requests %d, unparsable %d, probes %d (codered2 %d); want 5, 2, 4, 1, 1 (1)",
			got.Lines, got.TooLong, got.Requests, got.Unparsable, got.Probes, rep.Signatures[1].Probes)
	}
}

// repeatReader yields data n times without allocating.
type repeatReader struct {
	data []byte
	n    int
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := copy(p, r.data[r.off:])
	r.off += k
	if r.off == len(r.data) {
		r.off, r.n = 0, r.n-1
	}
	return k, nil
}

// TestMemoryFlat reads a generated 10,000-line log 10 times over and then
// 100 times over, and wants the bytes allocated to be the same within
// 256 KiB: past the buffers and the sets of sources, reading a longer log
// allocates nothing. (The repeats reuse the same sources and time stamps, so
// the sets do not grow either.)
func TestMemoryFlat(t *testing.T) {
	var block bytes.Buffer
	if _, err := logsynth.Generate(&block, logsynth.Config{
		Format: logsynth.Combined, Seed: 9, Start: time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC), Duration: time.Hour,
		Lines: 10000, Probes: map[string]int{"codered1": 50, "codered2": 30, "nimda-cmd-exe": 20},
	}); err != nil {
		t.Fatal(err)
	}
	alloc := func(n int) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		rep, err := Run(context.Background(), []string{"-"}, Config{Stdin: &repeatReader{data: block.Bytes(), n: n}})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Totals.Requests != int64(10000*n) || rep.Totals.Probes != int64(100*n) {
			t.Fatalf("%d requests and %d probes, want %d and %d", rep.Totals.Requests, rep.Totals.Probes, 10000*n, 100*n)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := alloc(10), alloc(100)
	if large > small+256<<10 {
		t.Errorf("reading 1e6 lines allocates %d KiB, 1e5 lines %d KiB: memory grows with the log", large>>10, small>>10)
	}
	t.Logf("allocated %d KiB for 1e5 lines, %d KiB for 1e6", small>>10, large>>10)
}
