package ensemble

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/version"
)

// shardBytes runs shard sh of the ensemble and returns its shard file.
func shardBytes(t *testing.T, sp Spec, sh Shard) []byte {
	t.Helper()
	sp.Shard = sh
	var b bytes.Buffer
	if err := run(t, sp).WriteShard(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readShards(t *testing.T, files map[string][]byte, names ...string) ([]*Set, error) {
	t.Helper()
	var sets []*Set
	for _, n := range names {
		s, err := ReadShard(bytes.NewReader(files[n]), n)
		if err != nil {
			return nil, err
		}
		sets = append(sets, s)
	}
	return sets, nil
}

func TestShardsMergeToTheUnshardedBytes(t *testing.T) {
	sp := Spec{BaseSeed: 100, Runs: 8, Workers: 2}
	wantJSON, wantCSV := outputs(t, run(t, sp))
	for _, n := range []int{1, 3, 8} {
		files := map[string][]byte{}
		var names []string
		// Given in reverse order: the merge must not depend on it.
		for i := n - 1; i >= 0; i-- {
			name := filepath.Join("dir", "shard"+Shard{Index: i, Count: n}.String()+".json")
			files[name] = shardBytes(t, sp, Shard{Index: i, Count: n})
			names = append(names, name)
		}
		sets, err := readShards(t, files, names...)
		if err != nil {
			t.Fatal(err)
		}
		merged, err := Merge(sets, names)
		if err != nil {
			t.Fatal(err)
		}
		gotJSON, gotCSV := outputs(t, merged)
		if !bytes.Equal(gotJSON, wantJSON) {
			os.WriteFile(filepath.Join(t.TempDir(), "merged.json"), gotJSON, 0o644)
			t.Errorf("%d shards: merged JSON differs from the unsharded run", n)
		}
		if !bytes.Equal(gotCSV, wantCSV) {
			t.Errorf("%d shards: merged CSV differs from the unsharded run", n)
		}
	}
	if len(wantJSON) > 200_000 {
		t.Errorf("8 runs of 61 bins take %d bytes of JSON", len(wantJSON))
	}
}

// TestEnsembleJSON checks the parts of the ensemble file people read.
func TestEnsembleJSON(t *testing.T) {
	js, _ := outputs(t, run(t, Spec{BaseSeed: 1, Runs: 3}))
	for _, want := range []string{
		"{\n  \"schema\": \"wormlab.ensemble/v1\",\n",
		`"base_seed": 1,`,
		`"runs": 3,`,
		`"engine": "event",`,
		`"percentiles": [` + "\n    5,\n    50,\n    95\n  ],",
		"\"bands\": [\n    {\"minute\":0,\"utc\":\"2001-07-19T10:00:00Z\",\"susceptible\":[298,298,298],\"infected\":[2,2,2],",
		`{"run":2,"seed":3,"final_infected":`,
		`"scenario_toml": "name = \"tiny\"\n`,
	} {
		if !bytes.Contains(js, []byte(want)) {
			t.Errorf("ensemble JSON lacks %q", want)
		}
	}
	var b bytes.Buffer
	if err := run(t, Spec{Runs: 3, Shard: Shard{Index: 1, Count: 2}}).WriteJSON(&b); err != errIncomplete {
		t.Errorf("a shard wrote an ensemble: %v", err)
	}
}

func TestBadShardSets(t *testing.T) {
	sp := Spec{BaseSeed: 5, Runs: 5, Workers: 2}
	files := map[string][]byte{
		"a0.json": shardBytes(t, sp, Shard{0, 3}),
		"a1.json": shardBytes(t, sp, Shard{1, 3}),
		"a2.json": shardBytes(t, sp, Shard{2, 3}),
		"b1.json": shardBytes(t, sp, Shard{1, 2}),
	}
	other := sp
	other.BaseSeed = 6
	files["seed6.json"] = shardBytes(t, other, Shard{1, 3})
	other = sp
	other.Runs = 6
	files["runs6.json"] = shardBytes(t, other, Shard{1, 3})
	other = sp
	other.Scenario = tinyScenario(t, "scan_rate = 0.5", "scan_rate = 0.6")
	files["rate.json"] = shardBytes(t, other, Shard{1, 3})
	other = sp
	other.Engine = "probe"
	files["probe.json"] = shardBytes(t, other, Shard{1, 3})
	old := func(name string) []byte {
		return bytes.Replace(files[name], []byte(`"version": "`), []byte(`"version": "old-`), 1)
	}
	files["build.json"] = old("a1.json")
	files["old0.json"], files["old1.json"], files["old2.json"] = old("a0.json"), old("a1.json"), old("a2.json")

	v, c := version.Version, version.Commit()
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{[]string{"a0.json", "a1.json"}, "shard 2/3 missing: a merge needs all 3 shards of a0.json"},
		{[]string{"a1.json"}, "shard 0/3, 2/3 missing: a merge needs all 3 shards of a1.json"},
		{[]string{"a0.json", "a1.json", "a2.json", "a1.json"}, "a1.json: shard 1/3 again: a1.json holds the same runs"},
		{[]string{"a0.json", "a1.json", "a2.json", "b1.json"}, "b1.json: shard 1/2 of a split in 2, but a0.json is shard 0/3 of a split in 3"},
		{[]string{"a0.json", "seed6.json", "a2.json"}, "seed6.json: 5 runs from seed 6 but a0.json has 5 runs from seed 5"},
		{[]string{"a0.json", "runs6.json", "a2.json"}, "runs6.json: 6 runs from seed 5 but a0.json has 5 runs from seed 5"},
		{[]string{"a0.json", "rate.json", "a2.json"}, `rate.json: scenario "tiny" is not the scenario of a0.json ("tiny", compared as TOML text)`},
		{[]string{"a0.json", "probe.json", "a2.json"}, "probe.json: probe engine but a0.json used the event engine"},
		{[]string{"a0.json", "build.json", "a2.json"}, "build.json: made by wormlab old-" + v + " (commit " + c + ") but a0.json by wormlab " + v + " (commit " + c + "): merge only shards of one build"},
		{[]string{"old0.json", "old1.json", "old2.json"}, "old0.json: made by wormlab old-" + v + ", but this is wormlab " + v + ": merge with the release that ran the shards"},
		{nil, "no shards to merge"},
	} {
		sets, err := readShards(t, files, tc.names...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Merge(sets, tc.names)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v: error\n%v\nwant\n%s", tc.names, err, tc.want)
		}
	}
}

func TestBadShardFiles(t *testing.T) {
	sp := Spec{BaseSeed: 5, Runs: 3}
	good := string(shardBytes(t, sp, Shard{1, 2}))
	ens, _ := outputs(t, run(t, sp))
	edit := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("the shard file lacks %q", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	// The line of a key, counted here because the scenario object above it
	// grows with the scenario format.
	line := func(src, key string) string {
		return strconv.Itoa(1 + strings.Count(src[:strings.Index(src, key)], "\n"))
	}
	cut := good[:len(good)/2]
	for _, tc := range []struct {
		name, src, want string
	}{
		{"ens.json", string(ens), "ens.json: an ensemble, not a shard: only shards written with --shard can be merged"},
		{"run.json", `{"schema": "wormlab.run/v1"}`, `run.json: schema "wormlab.run/v1", this wormlab merges "wormlab.ensemble-shard/v1"`},
		{"cut.json", cut, "cut.json: not a wormlab ensemble shard: line " + line(cut+"$", "$") + ": unexpected end of JSON input"},
		{"syntax.json", edit(`"runs": 3,`, `"runs": 3,,`), "syntax.json: not a wormlab ensemble shard: line " + line(good, `"runs"`) + ": invalid character ',' looking for beginning of object key string"},
		{"type.json", edit(`"runs": 3,`, `"runs": "3",`), "type.json: line " + line(good, `"runs"`) + ": json: cannot unmarshal string into Go struct field ShardFile.Header.runs of type int"},
		{"shard.json", edit(`"index": 1,`, `"index": 2,`), "shard.json: shard 2/2: want 0 <= i < n"},
		{"member.json", edit(`{"run":1,"seed":6,`, `{"run":0,"seed":6,`), "member.json: member 0 is run 0 with seed 6, want run 1 with seed 6 (shard 1/2)"},
		{"short.json", edit(`"series":[[`, `"series":[[1,`), "short.json: run 1: susceptible has 62 values, want 61"},
		{"toml.json", edit(`scan_rate = 0.5`, `scan_rate = -1`), "toml.json: scenario_toml:13: worm.scan_rate: -1: want a positive number of probes a second (at most 1e7)"},
		{"grid.json", edit(`"bins": 61`, `"bins": 60`), "grid.json: grid of 60 bins of 60s from 2001-07-19 10:00:00 +0000 UTC does not match the scenario's (61 of 60s from 2001-07-19 10:00:00 +0000 UTC)"},
	} {
		_, err := ReadShard(strings.NewReader(tc.src), tc.name)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error\n%v\nwant\n%s", tc.name, err, tc.want)
		}
	}
}

// FuzzReadShard checks that no input crashes the reader and that what it
// accepts writes back to a file it reads the same way.
func FuzzReadShard(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ReadShard(bytes.NewReader(b), "fuzz.json")
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := s.WriteShard(&out); err != nil {
			t.Fatal(err)
		}
		again, err := ReadShard(bytes.NewReader(out.Bytes()), "again.json")
		if err != nil {
			t.Fatalf("a shard it read does not read back: %v", err)
		}
		var out2 bytes.Buffer
		again.WriteShard(&out2)
		if !bytes.Equal(out.Bytes(), out2.Bytes()) {
			t.Fatal("write, read, write is not stable")
		}
	})
}

// TestTelescopeColumns checks that a scenario's telescope adds its
// columns, that they merge like the others, and that the probe engine,
// which drives no observers, leaves them out.
func TestTelescopeColumns(t *testing.T) {
	sc, err := scenario.Parse([]byte(tiny+"[telescope]\nblock = \"auto\"\n"), "tele.toml")
	if err != nil {
		t.Fatal(err)
	}
	sp := Spec{Scenario: sc, BaseSeed: 9, Runs: 5, Workers: 2}
	all := run(t, sp)
	if got := strings.Join(all.Columns, ","); got != "susceptible,infected,patched,removed,new_infections,probes,telescope_probes,telescope_sources,telescope_new_sources,telescope_seen" {
		t.Fatalf("columns %s", got)
	}
	if !strings.HasSuffix(all.CSVHeader(), ",telescope_seen_p5,telescope_seen_p50,telescope_seen_p95") {
		t.Errorf("CSV header %s", all.CSVHeader())
	}
	seen, infected := len(Columns)+3, colInfected
	for k := range all.Members {
		last := all.Bins - 1
		// A telescope sees only infected hosts, and keeps seeing them.
		if all.Value(seen, k, last) > all.Members[k].Infections+2 || all.Value(seen, k, last) < all.Value(seen, k, last/2) {
			t.Errorf("run %d: %d seen by the end, %d at half time, %d ever infected",
				k, all.Value(seen, k, last), all.Value(seen, k, last/2), all.Value(infected, k, last))
		}
	}
	if q := all.Stats().TelescopeSeen; q == nil || q[0] > q[1] || q[1] > q[2] || q[2] == 0 {
		t.Errorf("stats: telescope seen %v", q)
	}
	if all.Value(seen, 0, all.Bins-1) == 0 {
		t.Error("the telescope saw nothing in an hour of 300 hosts at 0.5 probes a second")
	}
	wantJSON, wantCSV := outputs(t, all)
	var sets []*Set
	var names []string
	for i := range 2 {
		name := "tele" + strconv.Itoa(i) + ".json"
		s, err := ReadShard(bytes.NewReader(shardBytes(t, sp, Shard{i, 2})), name)
		if err != nil {
			t.Fatal(err)
		}
		sets, names = append(sets, s), append(names, name)
	}
	merged, err := Merge(sets, names)
	if err != nil {
		t.Fatal(err)
	}
	gotJSON, gotCSV := outputs(t, merged)
	if !bytes.Equal(gotJSON, wantJSON) || !bytes.Equal(gotCSV, wantCSV) {
		t.Error("merged telescope ensemble differs from the unsharded one")
	}
	sp.Engine = "probe"
	if cols := run(t, sp).Columns; len(cols) != len(Columns) {
		t.Errorf("probe engine columns %v", cols)
	}
}
