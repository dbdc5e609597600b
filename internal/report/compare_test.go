package report

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/runrec"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/sweep"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// scaledWith is the built-in codered-v2-scaled (1,406 hosts in 2^24
// addresses, quick to run) with extra TOML appended.
func scaledWith(t testing.TB, extra string) *scenario.Scenario {
	t.Helper()
	base, err := scenario.Builtin("codered-v2-scaled")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Parse([]byte(base.Source+"\n"+extra), "scaled")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func builtin(t testing.TB, name string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// edited is sc with one line of its file replaced.
func edited(t testing.TB, sc *scenario.Scenario, old, new string) *scenario.Scenario {
	t.Helper()
	if !strings.Contains(sc.Source, old) {
		t.Fatalf("%s lacks %q", sc.Name, old)
	}
	out, err := scenario.Parse([]byte(strings.Replace(sc.Source, old, new, 1)), sc.File)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runInput runs sc once with the event engine and reads the run record
// back as `wormlab report` reads a saved file.
func runInput(t testing.TB, name string, sc *scenario.Scenario, seed uint64) *Input {
	t.Helper()
	c, err := sc.Build(seed)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.RunEvent(c, seed)
	if err != nil {
		t.Fatal(err)
	}
	in, err := FromRecord(name, runrec.New(sc, seed, c, res))
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// ensembleInput runs an ensemble of sc and reads its file back.
func ensembleInput(t testing.TB, name string, sc *scenario.Scenario, seed uint64, runs int) *Input {
	t.Helper()
	set, err := ensemble.Run(context.Background(), ensemble.Spec{Scenario: sc, Engine: "event", BaseSeed: seed, Runs: runs, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := set.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	return mustParse(t, name, buf.Bytes())
}

// sweepInput runs a sweep of sc over the --set arguments and reads its
// file back.
func sweepInput(t testing.TB, name string, sc *scenario.Scenario, runs int, sets ...string) *Input {
	t.Helper()
	return mustParse(t, name, sweepJSON(t, sc, runs, sets...))
}

// sweepJSON is the sweep file of sc over the --set arguments.
func sweepJSON(t testing.TB, sc *scenario.Scenario, runs int, sets ...string) []byte {
	t.Helper()
	sp := sweep.Spec{Base: sc, BaseSeed: 1, Runs: runs, Workers: 2, Engine: func(*scenario.Scenario) (string, error) { return "event", nil }}
	for _, s := range sets {
		p, err := sweep.ParseSet(s)
		if err != nil {
			t.Fatal(err)
		}
		sp.Params = append(sp.Params, p)
	}
	res, err := sweep.Run(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCompareLabels labels real records, ensembles and sweeps by what
// differs between their scenarios and checks the labels against
// testdata/compare-labels.golden (go test -run CompareLabels -update
// rewrites it).
func TestCompareLabels(t *testing.T) {
	filter := func(r string) string { return fmt.Sprintf("[defence.content_filter]\nreaction = %q\n", r) }
	plain := scaledWith(t, "")
	cases := []struct {
		name   string
		inputs []*Input
	}{
		{"content filtering reacting after 1h and after 4h", []*Input{
			runInput(t, "cf-1h.json", scaledWith(t, filter("1h")), 1),
			runInput(t, "cf-4h.json", scaledWith(t, filter("4h")), 1),
		}},
		{"one scenario, two seeds", []*Input{
			runInput(t, "seed1.json", plain, 1),
			runInput(t, "seed2.json", plain, 2),
		}},
		{"no defence against blacklisting", []*Input{
			runInput(t, "plain.json", plain, 1),
			runInput(t, "blacklist.json", scaledWith(t, "[defence.blacklist]\nreaction = \"20m\"\n"), 1),
		}},
		{"ensembles at two scan rates", []*Input{
			ensembleInput(t, "slow.json", plain, 1, 3),
			ensembleInput(t, "fast.json", edited(t, plain, "scan_rate = 5.9667", "scan_rate = 12"), 1, 3),
		}},
		{"sweeps of the reaction time under two deployments", []*Input{
			sweepInput(t, "everywhere.json", scaledWith(t, filter("1h")), 3, "defence.content_filter.reaction=1h,3h"),
			sweepInput(t, "customer.json", scaledWith(t, filter("1h")+"[defence.deployment]\nwhere = \"customer\"\nshare = 0.5\n"), 3, "defence.content_filter.reaction=1h,3h"),
		}},
		{"a run beside an ensemble of its scenario", []*Input{
			runInput(t, "run.json", plain, 1),
			ensembleInput(t, "ens.json", plain, 1, 3),
		}},
		{"two built-in scenarios", []*Input{
			runInput(t, "scaled.json", plain, 1),
			runInput(t, "day.json", builtin(t, "codered-v2-2001-07-19"), 1),
		}},
		{"the same run twice", []*Input{
			runInput(t, "a.json", plain, 1),
			runInput(t, "b.json", plain, 1),
		}},
	}
	var out strings.Builder
	for _, c := range cases {
		var subs []subject
		for _, in := range c.inputs {
			s, ok := subjectOf(in)
			if !ok {
				t.Fatalf("%s: %s is not compared", c.name, in.Name)
			}
			subs = append(subs, s)
		}
		labels, note, _ := compareLabels(subs)
		fmt.Fprintf(&out, "%s\n  %s\n", c.name, note)
		for i, s := range subs {
			fmt.Fprintf(&out, "  %s: %s\n", s.name, labels[i])
		}
	}
	golden := filepath.Join("testdata", "compare-labels.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("labels differ from %s:\n%s", golden, out.String())
	}
}

// TestCompareSection builds the report of two runs, an ensemble and two
// sweeps and checks what the compare section draws: one chart over time
// and one over the swept key, each input under its label, and the
// plotted shares computed from the inputs' own numbers.
func TestCompareSection(t *testing.T) {
	filter := "[defence.content_filter]\nreaction = \"3h\"\n"
	cf := scaledWith(t, filter)
	run1 := runInput(t, "cf.json", cf, 1)
	run2 := runInput(t, "plain.json", scaledWith(t, ""), 1)
	ens := ensembleInput(t, "ens.json", cf, 1, 5)
	sw1 := sweepInput(t, "everywhere.json", cf, 3, "defence.content_filter.reaction=1h,2h,3h")
	sw2 := sweepInput(t, "fast.json", edited(t, cf, "scan_rate = 5.9667", "scan_rate = 12"), 3, "defence.content_filter.reaction=1h,2h,3h")
	r, err := Build([]*Input{run1, run2, ens, sw1, sw2})
	if err != nil {
		t.Fatal(err)
	}
	s := r.Sections[0]
	if s.ID != "compare" {
		t.Fatalf("first section %q, want compare", s.ID)
	}
	var ids []string
	for _, c := range s.Charts {
		ids = append(ids, c.File)
	}
	if got := strings.Join(ids, " "); got != "compare-infected compare-sweep-1" {
		t.Errorf("compare charts %q", got)
	}
	rows := s.Tables[0].Rows
	got := make([]string, len(rows))
	for i, row := range rows {
		got[i] = strings.Join(row, " | ")
	}
	want := []string{
		"cf.json | run, seed 1 | defence.content_filter.reaction=3h, seed 1",
		"plain.json | run, seed 1 | defence.content_filter=none",
		"ens.json | ensemble of 5 runs from seed 1 | defence.content_filter.reaction=3h, seeds 1 to 5",
		"everywhere.json | sweep over defence.content_filter.reaction, 3 runs a point from seed 1 | worm.scan_rate=5.9667",
		"fast.json | sweep over defence.content_filter.reaction, 3 runs a point from seed 1 | worm.scan_rate=12",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("labels:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, c := range s.Charts {
		svg, err := c.SVG()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range want {
			label := l[strings.LastIndex(l, " | ")+3:]
			inTime := !strings.Contains(l, "sweep over")
			if inTime == (c.File == "compare-infected") && !bytes.Contains(svg, []byte(label)) {
				t.Errorf("%s lacks the key entry %q", c.File, label)
			}
		}
	}

	// The plotted numbers: a run's last share is its final infected count
	// over its population; an ensemble's median at its last bin likewise.
	xs, ys := runShare(run2.Run)
	last := run2.Run.Series[len(run2.Run.Series)-1]
	if wantY := 100 * float64(last.Infected) / 1406; ys[len(ys)-1] != wantY || xs[len(xs)-1] != 14 {
		t.Errorf("run share ends at (%v h, %v%%), want (14 h, %v%%)", xs[len(xs)-1], ys[len(ys)-1], wantY)
	}
	exs, lo, mid, hi := ensembleShare(ens.Ensemble)
	var inf Band
	for _, b := range ens.Ensemble.Bands {
		if b.Name == "infected" {
			inf = b
		}
	}
	n := len(exs) - 1
	if exs[0] != 0 || exs[n] != 14 || mid[n] != 100*inf.Mid[n]/1406 || lo[n] != 100*inf.Lo[n]/1406 || hi[n] != 100*inf.Hi[n]/1406 {
		t.Errorf("ensemble share: hours %v to %v, last bin %v/%v/%v%%; want 0 to 14 and the band over 1,406 hosts", exs[0], exs[n], lo[n], mid[n], hi[n])
	}

	// Contained outbreaks: the axis follows the largest share drawn rather
	// than 0 to 100%.
	a, b := runInput(t, "a.json", scaledWith(t, filter), 1), runInput(t, "b.json", scaledWith(t, filter), 2)
	small, err := Build([]*Input{a, b})
	if err != nil {
		t.Fatal(err)
	}
	_, ya := runShare(a.Run)
	_, yb := runShare(b.Run)
	top := max(slices.Max(ya), slices.Max(yb))
	if got := small.Sections[0].Charts[0].plot.Y.Max; top >= 50 || math.Abs(got-top*1.14) > 1e-9 {
		t.Errorf("two contained runs peaking at %.3g%%: the axis ends at %.3g%%, want %.3g%%", top, got, top*1.14)
	}
}
