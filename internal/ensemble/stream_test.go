package ensemble

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRankSelectorIsNearestRank checks the streaming selection against
// sorting on samples chosen to be hard for it: ties, a few outliers that
// stretch the range so that most values share one bucket, the ends of
// int64, and sizes around the percentiles' rank boundaries.
func TestRankSelectorIsNearestRank(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gens := map[string]func(i int) int64{
		"constant":  func(int) int64 { return 7 },
		"counts":    func(int) int64 { return rng.Int64N(360_000) },
		"outlier":   func(i int) int64 { return map[bool]int64{true: 1 << 40, false: rng.Int64N(5000)}[i == 3] },
		"extremes":  func(i int) int64 { return []int64{math.MinInt64, math.MaxInt64, 0, -1, 1}[i%5] },
		"wide":      func(int) int64 { return int64(rng.Uint64()) },
		"two-value": func(int) int64 { return 1_000_000_007 * rng.Int64N(2) },
	}
	for name, gen := range gens {
		for _, n := range []int{1, 2, 19, 20, 21, 100, 1001, 5000} {
			const slots = 3
			vals := make([][]int64, slots)
			for sl := range vals {
				for i := range n {
					vals[sl] = append(vals[sl], gen(i))
				}
			}
			sel := newRankSelector(slots, n)
			for sl, vs := range vals {
				for _, v := range vs {
					sel.observeRange(sl, v)
				}
			}
			passes := 0
			for sel.startPass() {
				passes++
				for sl, vs := range vals {
					for _, v := range vs {
						sel.count(sl, v)
					}
				}
				if err := sel.endPass(); err != nil {
					t.Fatal(err)
				}
			}
			// A range of 2^64 narrows by 2^10 a pass.
			if passes > 7 {
				t.Errorf("%s, n=%d: %d passes", name, n, passes)
			}
			for sl, vs := range vals {
				sorted := slices.Sorted(slices.Values(vs))
				for p, pct := range Percentiles {
					if got, want := sel.value(sl, p), NearestRank(sorted, pct); got != want {
						t.Errorf("%s, n=%d, slot %d, p%d: %d, want %d", name, n, sl, pct, got, want)
					}
				}
			}
		}
	}
}

// writeShards writes the n shards of sp into dir, gzip-compressing the
// odd ones, and returns their names in reverse order.
func writeShards(t *testing.T, dir string, sp Spec, n int) []string {
	t.Helper()
	var names []string
	for i := n - 1; i >= 0; i-- {
		b := shardBytes(t, sp, Shard{Index: i, Count: n})
		name := filepath.Join(dir, fmt.Sprintf("shard%dof%d.json", i, n))
		if i%2 == 1 {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(b)
			zw.Close()
			b, name = z.Bytes(), name+".gz"
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}

func TestMergeFilesIsTheUnshardedBytes(t *testing.T) {
	sc := tinyScenario(t)
	for _, sp := range []Spec{
		{Scenario: sc, BaseSeed: 100, Runs: 23, Workers: 2},
		{Scenario: sc, BaseSeed: 7, Runs: 4, Workers: 2, Engine: "probe"},
	} {
		wantJSON, wantCSV := outputs(t, run(t, sp))
		for _, n := range []int{1, 3, 4} {
			names := writeShards(t, t.TempDir(), sp, n)
			merged, err := MergeFiles(names)
			if err != nil {
				t.Fatal(err)
			}
			gotJSON, gotCSV := outputs(t, merged)
			if !bytes.Equal(gotJSON, wantJSON) {
				t.Errorf("%s engine, %d shards: streamed merge JSON differs from the unsharded run", sp.Engine, n)
			}
			if !bytes.Equal(gotCSV, wantCSV) {
				t.Errorf("%s engine, %d shards: streamed merge CSV differs from the unsharded run", sp.Engine, n)
			}
		}
	}
}

func TestMergeFilesRefuses(t *testing.T) {
	dir := t.TempDir()
	sp := Spec{BaseSeed: 5, Runs: 5, Workers: 2}
	names := writeShards(t, dir, sp, 2) // 1of2.json.gz, 0of2.json
	gz, plain := names[0], names[1]
	zipped, _ := os.ReadFile(gz)
	raw, _ := os.ReadFile(plain)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cutGz := write("cut.json.gz", zipped[:len(zipped)/2])
	cutPlain := write("cut.json", raw[:len(raw)/2])
	badGz := write("bad.json.gz", append([]byte{0x1f, 0x8b}, "not gzip at all"...))
	other := write("other.json", bytes.Replace(raw, []byte(`"commit": "`), []byte(`"commit": "x`), 1))
	short := write("short.json", bytes.Replace(raw, []byte(`"series":[[`), []byte(`"series":[[1,`), 1))
	for _, tc := range []struct {
		names []string
		want  string // the error's start
	}{
		{[]string{plain, cutGz}, cutGz + ": line "},
		{[]string{cutPlain, gz}, cutPlain + ": line "},
		{[]string{plain, badGz}, badGz + ": not a wormlab ensemble shard: "},
		{[]string{plain, other}, other + ": made by wormlab "},
		{[]string{short, gz}, short + ": run 0: susceptible has 62 values, want 61"},
		{[]string{plain}, "shard 1/2 missing"},
		{[]string{plain, filepath.Join(dir, "absent.json")}, "open " + filepath.Join(dir, "absent.json")},
	} {
		_, err := MergeFiles(tc.names)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to start %q", tc.names, err, tc.want)
		}
	}
}
