package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportCompares runs two runs, an ensemble and two sweeps through
// the CLI and reports them together: the page overlays the runs and the
// ensemble over time and the sweeps over their key, labelled by what
// differs (the seeds of one scenario; the sweeps' initial copies), and a
// sweep shard is refused with the way to merge it.
func TestReportCompares(t *testing.T) {
	dir, scen := ensembleDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	five := p("five.toml")
	if err := os.WriteFile(five, []byte(strings.Replace(tinyScenario, "initial_infected = 2", "initial_infected = 5", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"simulate", "-f", scen, "--seed", "1", "--json", p("s1.json")},
		{"simulate", "-f", scen, "--seed", "2", "--json", p("s2.json")},
		{"simulate", "-f", scen, "--runs", "4", "--json", p("ens.json")},
		{"sweep", "-f", scen, "--set", "worm.scan_rate=4,8", "--runs", "3", "--json", p("sw2.json")},
		{"sweep", "-f", five, "--set", "worm.scan_rate=4,8", "--runs", "3", "--json", p("sw5.json")},
		{"sweep", "-f", scen, "--set", "worm.scan_rate=4,8", "--runs", "3", "--shard", "0/2", "--json", p("shard.json")},
	} {
		if code, _, se := wormlab(args...); code != 0 {
			t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, se)
		}
	}
	code, so, se := wormlab("report", "-o", p("c.html"), p("s1.json"), p("s2.json"), p("ens.json"), p("sw2.json"), p("sw5.json"))
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, se)
	}
	if !strings.HasPrefix(so, "wrote "+p("c.html")) {
		t.Errorf("report printed %q", so)
	}
	page := string(mustRead(t, p("c.html")))
	for _, want := range []string{
		"The scenarios are the same; only the seed differs.",
		">seed 1<", ">seed 2<", ">seeds 1 to 4<",
		">worm.initial_infected=2<", ">worm.initial_infected=5<",
		"compare-infected", "compare-sweep-1",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	code, _, se = wormlab("report", "-o", p("bad.html"), p("s1.json"), p("shard.json"))
	if code != 2 || !strings.Contains(se, "a sweep shard: combine the shards with 'wormlab merge'") {
		t.Errorf("a sweep shard: exit %d, %q", code, se)
	}
}
