package sweep

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/scenario"
)

func TestParseSet(t *testing.T) {
	good := []struct {
		arg    string
		labels string
	}{
		{"defence.content_filter.reaction=10m,30m,1h,2h,4h", "10m 30m 1h 2h 4h"},
		{"defence.content_filter.reaction=10m..4h/3", "10m 2h5m 4h"},
		{"worm.scan_rate=2..10/5", "2 4 6 8 10"},
		{"worm.scan_rate=0.5, 1", "0.5 1"},
		{"population.size=1000..3000/3", "1000 2000 3000"},
		{"worm.strategy=uniform,hit-list", "uniform hit-list"},
		{"worm.skip_zero_255=true,false", "true false"},
		{"defence.deployment.where=customer,backbone", "customer backbone"},
	}
	for _, c := range good {
		p, err := ParseSet(c.arg)
		if err != nil {
			t.Errorf("%s: %v", c.arg, err)
			continue
		}
		if got := strings.Join(p.Labels, " "); got != c.labels {
			t.Errorf("%s: values %q, want %q", c.arg, got, c.labels)
		}
	}
	bad := []struct{ arg, want string }{
		{"worm.scan_rte=1,2", "worm.scan_rte: unknown scenario key"},
		{"worm.scan_rate=a,b", `worm.scan_rate: "a": want numbers`},
		{"worm.scan_rate=", "worm.scan_rate: no values: want numbers"},
		{"worm.scan_rate=1,,2", `worm.scan_rate: "": want numbers`},
		{"worm.scan_rate=1,1.0", "worm.scan_rate: 1 twice"},
		{"worm.scan_rate=3..3/4", "worm.scan_rate: empty range 3..3"},
		{"worm.scan_rate=1..5/1", "worm.scan_rate: range \"1..5/1\": the count after / must be 2 to 1000"},
		{"worm.scan_rate=1..5", "lacks its count /n"},
		{"population.size=1.5", `population.size: "1.5": want whole numbers`},
		{"population.size=1..2/3", "does not fall on whole numbers"},
		{"defence.content_filter.reaction=1,2", `defence.content_filter.reaction: "1": want durations`},
		{"defence.content_filter.reaction=1h..1h/2", "empty range 1h..1h"},
		{"worm.strategy=a..b/2", "a range of a key that is not a number or a duration"},
		{"worm.mix=1", "worm.mix: a list"},
		{"worm=1", "worm: a table: want one of its keys"},
		{"worm.scan_rate.x=1", "worm.scan_rate is not a table"},
		{"scan_rate", "want key=v1,v2,..."},
		{"worm.skip_zero_255=maybe", `worm.skip_zero_255: "maybe": want true,false`},
		{"run.start=yesterday", `run.start: "yesterday": want UTC times`},
		{"defence.deployment.share=", "defence.deployment.share: no values: want numbers"},
	}
	for _, c := range bad {
		_, err := ParseSet(c.arg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.arg, err, c.want)
			continue
		}
		// Every error names the key first, and says what it wants.
		if key, _, ok := strings.Cut(c.arg, "="); ok && (!strings.HasPrefix(err.Error(), key+": ") || !strings.Contains(err.Error(), ": want ")) {
			t.Errorf("%s: error %q does not start with the key and say what it wants", c.arg, err)
		}
	}
}

// small is the scaled Code Red day (1,406 hosts in 2^24 addresses, the
// same K = 1.8 an hour), cheap enough for many runs.
func small(t *testing.T) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Builtin("codered-v2-scaled")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func spec(t *testing.T, base *scenario.Scenario, runs int, sets ...string) Spec {
	t.Helper()
	sp := Spec{Base: base, BaseSeed: 7, Runs: runs, Workers: 2,
		Engine: func(*scenario.Scenario) (string, error) { return "event", nil }}
	for _, a := range sets {
		p, err := ParseSet(a)
		if err != nil {
			t.Fatal(err)
		}
		sp.Params = append(sp.Params, p)
	}
	return sp
}

// TestShardsMerge checks that a sweep run in shards and merged writes the
// bytes the unsharded sweep writes, for splits in 2 and in 3 (which
// leaves the shards unequal).
func TestShardsMerge(t *testing.T) {
	sp := spec(t, small(t), 5, "defence.content_filter.reaction=2h,4h", "worm.scan_rate=4,6")
	whole, err := Run(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	var wantJSON, wantCSV bytes.Buffer
	if err := whole.WriteJSON(&wantJSON); err != nil {
		t.Fatal(err)
	}
	if err := whole.WriteCSV(&wantCSV); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 3} {
		var data [][]byte
		var names []string
		for i := range n {
			s := sp
			s.Shard = ensemble.Shard{Index: i, Count: n}
			res, err := Run(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := res.WriteShard(&buf); err != nil {
				t.Fatal(err)
			}
			if !StartsShard(buf.Bytes()) {
				t.Fatalf("shard %d/%d: StartsShard false", i, n)
			}
			data = append(data, buf.Bytes())
			names = append(names, "shard"+string(rune('0'+i)))
		}
		// Given in reverse order: the merge must not depend on it.
		for i, j := 0, len(data)-1; i < j; i, j = i+1, j-1 {
			data[i], data[j] = data[j], data[i]
			names[i], names[j] = names[j], names[i]
		}
		merged, err := Merge(data, names)
		if err != nil {
			t.Fatalf("%d shards: %v", n, err)
		}
		var gotJSON, gotCSV bytes.Buffer
		if err := merged.WriteJSON(&gotJSON); err != nil {
			t.Fatal(err)
		}
		if err := merged.WriteCSV(&gotCSV); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gotJSON.Bytes(), wantJSON.Bytes()) || !bytes.Equal(gotCSV.Bytes(), wantCSV.Bytes()) {
			t.Errorf("%d shards merged differ from the unsharded sweep", n)
		}
		if _, err := Merge(data[1:], names[1:]); err == nil || !strings.Contains(err.Error(), "missing") {
			t.Errorf("%d shards, one left out: error %v, want one saying a shard is missing", n, err)
		}
	}
}

// TestContentFilterReaction checks what a sweep must show for content
// filtering from the start: every point runs the same seeds, a run is the
// same as the unfiltered run until its filter goes up and has no
// infection after, so for each seed the final infected count can only grow
// with the reaction time. It is exact, not statistical: a single seed out
// of order fails it. It also checks the quantiles the table reports
// against the runs themselves.
func TestContentFilterReaction(t *testing.T) {
	sp := spec(t, small(t), 20, "defence.content_filter.reaction=1h,3h,5h,14h")
	res, err := Run(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	for k := range res.Sets[0].Members {
		for i := 1; i < len(res.Sets); i++ {
			a, b := res.Sets[i-1].Members[k], res.Sets[i].Members[k]
			if a.Seed != b.Seed {
				t.Fatalf("point %d run %d has seed %d, point %d seed %d: points must share seeds", i-1, k, a.Seed, i, b.Seed)
			}
			if b.FinalInfected < a.FinalInfected {
				t.Errorf("seed %d: %d infected at the end with reaction %s, %d with %s: want no fewer with the later filter",
					a.Seed, a.FinalInfected, res.Points[i-1].Labels[0], b.FinalInfected, res.Points[i].Labels[0])
			}
		}
	}
	rows := res.Rows()
	// A filter after the run's 14 hours changes nothing: the unfiltered
	// day of K = 1.8 an hour from one copy saturates (ln(1,406)/1.8 = 4
	// hours to spread, plus the first copy's random start) in nearly
	// every run.
	last := rows[len(rows)-1]
	if last.FinalShare[1] < 0.99 || last.ReachedHalf < 18 {
		t.Errorf("reaction 14h: median final share %.3f, %d of 20 reached half; want the day saturated", last.FinalShare[1], last.ReachedHalf)
	}
	// With a one-hour reaction at most e^1.8 = 6 copies are expected when
	// the filter goes up; 5% of 1,406 hosts (70) would be an error of ten
	// times that in the 95% quantile.
	if rows[0].FinalShare[2] > 0.05 || rows[0].ReachedHalf != 0 {
		t.Errorf("reaction 1h: 95%% final share %.3f, %d reached half; want under 5%% and none", rows[0].FinalShare[2], rows[0].ReachedHalf)
	}
	for i, row := range rows {
		n := float64(res.Points[i].Scenario.Population.Size)
		var finals []int64
		for _, m := range res.Sets[i].Members {
			finals = append(finals, m.FinalInfected)
		}
		slices.Sort(finals)
		for q, p := range ensemble.Percentiles {
			if want := float64(ensemble.NearestRank(finals, p)) / n; row.FinalShare[q] != want {
				t.Errorf("point %d: final share p%d %v, want %v", i, p, row.FinalShare[q], want)
			}
		}
	}
}

func TestPointsRefuseInvalidScenario(t *testing.T) {
	sp := spec(t, small(t), 2, "worm.scan_rate=1,-1")
	_, err := sp.Points()
	if err == nil || !strings.Contains(err.Error(), "with worm.scan_rate=-1: worm.scan_rate:") {
		t.Errorf("error %v, want one naming the point and the key", err)
	}
	sp = spec(t, small(t), 2, "worm.scan_rate=1,2", "worm.scan_rate=3")
	if _, err := sp.Points(); err == nil || !strings.Contains(err.Error(), "set twice") {
		t.Errorf("error %v, want one saying the key is set twice", err)
	}
}
