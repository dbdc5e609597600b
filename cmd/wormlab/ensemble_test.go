package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wormlab runs the CLI and returns its exit code and outputs.
func wormlab(args ...string) (code int, stdout, stderr string) {
	var so, se bytes.Buffer
	code = run(context.Background(), args, &so, &se)
	return code, so.String(), se.String()
}

func ensembleDir(t *testing.T) (dir, scen string) {
	t.Helper()
	dir = t.TempDir()
	scen = filepath.Join(dir, "tiny.toml")
	if err := os.WriteFile(scen, []byte(tinyScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, scen
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEnsembleWorkersAndShards checks the two promises of issue 5: one or
// two workers write the same bytes, and shards merged write the bytes of
// the unsharded ensemble.
func TestEnsembleWorkersAndShards(t *testing.T) {
	dir, scen := ensembleDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	for _, w := range []string{"1", "2"} {
		code, so, se := wormlab("simulate", "-f", scen, "--runs", "7", "--seed", "11", "--workers", w,
			"--json", p("w"+w+".json"), "--csv", p("w"+w+".csv"))
		if code != 0 {
			t.Fatalf("workers %s: exit %d: %s", w, code, se)
		}
		if se != "" {
			t.Errorf("workers %s: stderr %q: no progress bar when stderr is not a terminal", w, se)
		}
		want := "tiny: 7 runs, seeds 11 to 17 (event engine)\n  median (5% to 95% of runs, nearest rank)\n"
		if !strings.HasPrefix(so, want) || !strings.Contains(so, ", "+map[string]string{"1": "1 worker", "2": "2 workers"}[w]+"\n") {
			t.Errorf("workers %s: summary\n%s", w, so)
		}
	}
	if !bytes.Equal(mustRead(t, p("w1.json")), mustRead(t, p("w2.json"))) || !bytes.Equal(mustRead(t, p("w1.csv")), mustRead(t, p("w2.csv"))) {
		t.Error("1 and 2 workers wrote different files")
	}

	var shards []string
	for _, sh := range []string{"2/3", "0/3", "1/3"} {
		name := p("shard" + sh[:1] + ".json")
		if sh == "0/3" {
			name += ".gz" // written compressed, and merge reads it so
		}
		if code, _, se := wormlab("simulate", "-f", scen, "--runs", "7", "--seed", "11", "--shard", sh, "--json", name, "-q"); code != 0 {
			t.Fatalf("shard %s: exit %d: %s", sh, code, se)
		}
		shards = append(shards, name)
	}
	code, so, se := wormlab(append([]string{"merge", "-o", p("merged.json"), "--csv", p("merged.csv")}, shards...)...)
	if code != 0 {
		t.Fatalf("merge: exit %d: %s", code, se)
	}
	if z := mustRead(t, shards[1]); len(z) < 2 || z[0] != 0x1f || z[1] != 0x8b {
		t.Errorf("%s is not gzip", shards[1])
	}
	if !strings.HasSuffix(so, "merged from 3 shards\n") {
		t.Errorf("merge summary\n%s", so)
	}
	if !bytes.Equal(mustRead(t, p("merged.json")), mustRead(t, p("w1.json"))) {
		t.Error("merged JSON differs from the unsharded run's")
	}
	if !bytes.Equal(mustRead(t, p("merged.csv")), mustRead(t, p("w1.csv"))) {
		t.Error("merged CSV differs from the unsharded run's")
	}

	// Bad shard sets exit 2, name the file, and write nothing.
	other := p("other.json")
	if code, _, se := wormlab("simulate", "-f", scen, "--runs", "7", "--seed", "12", "--shard", "1/3", "--json", other, "-q"); code != 0 {
		t.Fatal(se)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{shards[1], shards[2]}, "wormlab: shard 2/3 missing: a merge needs all 3 shards of " + shards[1] + "\n"},
		{[]string{shards[0], shards[1], shards[2], shards[0]}, "wormlab: " + shards[0] + ": shard 2/3 again: " + shards[0] + " holds the same runs\n"},
		{[]string{shards[0], other, shards[1]}, "wormlab: " + other + ": 7 runs from seed 12 but " + shards[0] + " has 7 runs from seed 11\n"},
		{[]string{shards[0], p("w1.json")}, "wormlab: " + p("w1.json") + ": an ensemble, not a shard: only shards written with --shard can be merged\n"},
		{[]string{p("none.json")}, "wormlab: " + p("none.json") + ": no such file or directory\n"},
	} {
		out := p("bad.json")
		code, _, se := wormlab(append([]string{"merge", "-o", out}, tc.args...)...)
		if code != 2 || se != tc.want {
			t.Errorf("merge %v: exit %d, stderr\n%s\nwant exit 2, stderr\n%s", tc.args, code, se, tc.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("merge %v left an output file", tc.args)
		}
	}
}

func TestEnsembleBadFlags(t *testing.T) {
	dir, scen := ensembleDir(t)
	out := filepath.Join(dir, "out.json")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--runs", "0"}, "wormlab: --runs 0: want at least 1\n"},
		{[]string{"--runs", "4", "--workers", "-1"}, "wormlab: --workers -1: want 0 (one per core) or more\n"},
		{[]string{"--runs", "4", "--shard", "4/4", "--json", out}, `wormlab: --shard: shard "4/4": the index counts from 0 to 3` + "\n"},
		{[]string{"--runs", "4", "--shard", "1/4"}, "wormlab: --shard writes its runs with --json FILE, for 'wormlab merge'; give one\n"},
		{[]string{"--runs", "4", "--shard", "1/4", "--json", out, "--csv", out + ".csv"}, "wormlab: --csv needs every run: give it to 'wormlab merge' instead of a shard\n"},
		{[]string{"--runs", "4", "--json", out, "--csv", out}, "wormlab: --csv and --json both write " + out + "; give each its own file\n"},
		{[]string{"--runs", "3", "--shard", "0/4", "--json", out}, "wormlab: 4 shards of 3 runs: some shards would hold no run\n"},
		{[]string{"--runs", "3", "--engine", "fast"}, `wormlab: --engine "fast": want event or probe` + "\n"},
		{[]string{"--runs", "3", "--telescope", "auto", "--telescope-csv", out}, "wormlab: --telescope-csv writes one run's series; an ensemble puts the telescope's bands in --csv and --json\n"},
	} {
		code, _, se := wormlab(append([]string{"simulate", "-f", scen}, tc.args...)...)
		if code != 2 || se != tc.want {
			t.Errorf("%v: exit %d, stderr %q, want exit 2, %q", tc.args, code, se, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a refused ensemble left files: %v", entries)
	}
}

func TestOffset(t *testing.T) {
	for m, want := range map[float64]string{0: "0m", 60: "1h", 401: "6h41m", 41: "41m", 41.5: "41m30s", 840: "14h"} {
		if got := minutes(m); got != want {
			t.Errorf("minutes(%v) = %q, want %q", m, got, want)
		}
	}
}
