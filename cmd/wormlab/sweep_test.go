package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestSweepShardsMerge runs a sweep whole and in two shards merged by
// 'wormlab merge', and wants the same bytes in both outputs.
func TestSweepShardsMerge(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	common := []string{"sweep", "-q", "-f", "testdata/scenarios/tiny.toml", "--set", "worm.scan_rate=1..3/3", "--set", "worm.initial_infected=1,2", "--runs", "5", "--workers", "2"}
	runOK := func(args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 0 {
			t.Fatalf("wormlab %v: exit %d: %s", args, code, errOut.String())
		}
	}
	runOK(append(common, "--json", at("whole.json"), "--csv", at("whole.csv"))...)
	runOK(append(common, "--shard", "1/2", "--json", at("s1.json"))...)
	runOK(append(common, "--shard", "0/2", "--json", at("s0.json"))...)
	runOK("merge", "-q", at("s1.json"), at("s0.json"), "-o", at("merged.json"), "--csv", at("merged.csv"))
	for _, pair := range [][2]string{{"whole.json", "merged.json"}, {"whole.csv", "merged.csv"}} {
		a, err := os.ReadFile(at(pair[0]))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(at(pair[1]))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s and %s differ", pair[0], pair[1])
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"merge", at("s0.json"), "-o", at("half.json")}, &out, &errOut); code != 2 {
		t.Errorf("merge of one shard of two: exit %d, want 2 (%s)", code, errOut.String())
	}
	if _, err := os.Stat(at("half.json")); err == nil {
		t.Error("merge of one shard of two wrote its output")
	}
}
