package ensemble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wormlab/wormlab/internal/runrec"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/sim"
)

// tiny is a scenario that runs in about a millisecond: 300 hosts in a
// 16-bit space, half a probe a second each, so K = 0.5*300/65536 per
// second, 8.2 an hour; from 2 hosts half are infected after about
// ln(149)/8.2 h, 37 minutes, and the hour covers most of the curve.
const tiny = `name = "tiny"
description = "a small uniform worm"
[run]
start = 2001-07-19T10:00:00Z
end = 2001-07-19T11:00:00Z
step = "1m"
checkpoints = ["30m"]
[space]
bits = 16
[population]
size = 300
[worm]
scan_rate = 0.5
initial_infected = 2
`

func tinyScenario(t testing.TB, edit ...string) *scenario.Scenario {
	t.Helper()
	src := tiny
	for i := 0; i+1 < len(edit); i += 2 {
		src = strings.Replace(src, edit[i], edit[i+1], 1)
	}
	s, err := scenario.Parse([]byte(src), "tiny.toml")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(t testing.TB, sp Spec) *Set {
	t.Helper()
	if sp.Scenario == nil {
		sp.Scenario = tinyScenario(t)
	}
	if sp.Engine == "" {
		sp.Engine = "event"
	}
	s, err := Run(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func outputs(t testing.TB, s *Set) (js, csv []byte) {
	t.Helper()
	var j, c bytes.Buffer
	if err := s.WriteJSON(&j); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteCSV(&c); err != nil {
		t.Fatal(err)
	}
	return j.Bytes(), c.Bytes()
}

func TestNearestRank(t *testing.T) {
	// Hand-computed: rank = ceil(p*n/100), at least 1.
	for _, tc := range []struct {
		n, p, want int // xs = 1..n, so the value is the rank
	}{
		{1, 5, 1}, {1, 50, 1}, {1, 95, 1},
		{3, 5, 1}, {3, 50, 2}, {3, 95, 3}, // 0.15 -> 1, 1.5 -> 2, 2.85 -> 3
		{10, 5, 1}, {10, 50, 5}, {10, 95, 10}, // 0.5 -> 1, 5 exactly, 9.5 -> 10
		{20, 5, 1}, {20, 50, 10}, {20, 95, 19}, // 1, 10, 19 exactly
		{21, 5, 2}, {21, 50, 11}, {21, 95, 20}, // 1.05 -> 2, 10.5 -> 11, 19.95 -> 20
		{1000, 5, 50}, {1000, 50, 500}, {1000, 95, 950},
		{1000, 0, 1}, {1000, 100, 1000},
	} {
		xs := make([]int64, tc.n)
		for i := range xs {
			xs[i] = int64(i + 1)
		}
		if got := NearestRank(xs, tc.p); got != int64(tc.want) {
			t.Errorf("n=%d p=%d: %d, want %d", tc.n, tc.p, got, tc.want)
		}
	}
	// Ties and floats: the value at the rank, not an interpolation.
	xs := []float64{0.5, 1.5, 1.5, 1.5, 9}
	if got := NearestRank(xs, 50); got != 1.5 { // rank ceil(2.5) = 3
		t.Errorf("median %v, want 1.5", got)
	}
	if got := NearestRank(xs, 95); got != 9 { // rank ceil(4.75) = 5
		t.Errorf("p95 %v, want 9", got)
	}
}

// TestBands checks the bands and stats of a set with known values: run k
// holds 10*k+b at bin b in every column, given in shuffled order.
func TestBands(t *testing.T) {
	sc := tinyScenario(t)
	h := headerOf(sc, "event", 1, 21)
	runs := make([]int, 21)
	for j := range runs {
		runs[j] = j
	}
	s := newSet(h, Shard{}, runs)
	for k := range s.Members {
		v := int64((k * 8) % 21) // a permutation of 0..20, as 8 and 21 are coprime
		for c := range s.values {
			for b := range s.Bins {
				s.values[c][k*s.Bins+b] = 10*v + int64(b)
			}
		}
		s.Members[k].FinalInfected = v
		s.Members[k].PeakPerMinute = float64(v) / 4
		if v%2 == 0 { // 11 runs reached half: v = 0, 2, ..., 20
			minute := float64(v)
			s.Members[k].MinutesToHalf = &minute
		}
	}
	// n = 21: ranks 2, 11, 20, values 1, 10, 19 (see TestNearestRank).
	bands := s.Bands()
	if len(bands) != 61 {
		t.Fatalf("%d bands, want 61", len(bands))
	}
	b := bands[30]
	if b.Minute != 30 || b.UTC != sc.Run.Start.Add(30*60e9) {
		t.Errorf("band 30 at minute %v, %v", b.Minute, b.UTC)
	}
	for c := range b.Q {
		if b.Q[c] != [3]int64{40, 130, 220} {
			t.Errorf("band 30, %s: %v, want [40 130 220]", Columns[c], b.Q[c])
		}
	}
	st := s.Stats()
	if st.FinalInfected != [3]int64{1, 10, 19} || st.PeakPerMinute != [3]float64{0.25, 2.5, 4.75} {
		t.Errorf("final %v, peak %v", st.FinalInfected, st.PeakPerMinute)
	}
	// 11 values 0, 2, ..., 20: ranks 1, 6, 11 (0.55, 5.5, 10.45 rounded up).
	if st.ReachedHalf != 11 || st.MinutesToHalf == nil || *st.MinutesToHalf != [3]float64{0, 10, 20} {
		t.Errorf("reached half %d, minutes %v", st.ReachedHalf, st.MinutesToHalf)
	}
	if st.Fitted != 0 || st.KPerHour != nil {
		t.Errorf("fitted %d, K %v, want none", st.Fitted, st.KPerHour)
	}
	if len(st.Checkpoints) != 1 || st.Checkpoints[0].Infected != [3]int64{40, 130, 220} {
		t.Errorf("checkpoints %+v", st.Checkpoints)
	}
}

// TestMembersAreSingleRuns checks each member against the same seed run
// alone, as `wormlab simulate --seed` would.
func TestMembersAreSingleRuns(t *testing.T) {
	sc := tinyScenario(t)
	s := run(t, Spec{Scenario: sc, BaseSeed: 40, Runs: 3, Workers: 2})
	for k, m := range s.Members {
		c, err := sc.Build(40 + uint64(k))
		if err != nil {
			t.Fatal(err)
		}
		res, err := sim.RunEvent(c, 40+uint64(k))
		if err != nil {
			t.Fatal(err)
		}
		rec := runrec.New(sc, 40+uint64(k), c, res)
		if m.Run != k || m.Seed != 40+uint64(k) || m.FinalInfected != rec.Summary.Final.Infected || m.Probes != rec.Summary.Probes {
			t.Errorf("member %d: %+v, single run final %d probes %d", k, m, rec.Summary.Final.Infected, rec.Summary.Probes)
		}
		for b, row := range rec.Series {
			if s.Value(colInfected, k, b) != row.Infected {
				t.Fatalf("member %d bin %d: infected %d, single run %d", k, b, s.Value(colInfected, k, b), row.Infected)
			}
		}
		if m.MinutesToHalf == nil || m.KPerHour == nil {
			t.Fatalf("member %d: the tiny worm should reach half and fit: %+v", k, m)
		}
		sum := rec.Summary
		if *m.KPerHour != sum.Logistic.KPerHour || m.PeakPerMinute != sum.PeakPerMinute ||
			m.PeakMinute != sum.PeakAt.Sub(sc.Run.Start).Minutes() || m.Infections != sum.Infections {
			t.Errorf("member %d: K %v, peak %v at minute %v, %d infections; run record: K %v, peak %v at %v, %d infections",
				k, *m.KPerHour, m.PeakPerMinute, m.PeakMinute, m.Infections,
				sum.Logistic.KPerHour, sum.PeakPerMinute, sum.PeakAt, sum.Infections)
		}
		h := int(*m.MinutesToHalf)
		if rec.Series[h].Infected < 150 || rec.Series[h-1].Infected >= 150 {
			t.Errorf("member %d: half at minute %d, but infected is %d there and %d before",
				k, h, rec.Series[h].Infected, rec.Series[h-1].Infected)
		}
	}
}

func TestWorkersDoNotChangeTheResult(t *testing.T) {
	var js, csv [][]byte
	var header string
	for _, w := range []int{1, 2, 5} {
		s := run(t, Spec{BaseSeed: 7, Runs: 9, Workers: w})
		j, c := outputs(t, s)
		js, csv, header = append(js, j), append(csv, c), s.CSVHeader()
	}
	for i := 1; i < len(js); i++ {
		if !bytes.Equal(js[0], js[i]) || !bytes.Equal(csv[0], csv[i]) {
			t.Errorf("outputs with 1 worker and with %d differ", []int{1, 2, 5}[i])
		}
	}
	if !bytes.HasPrefix(csv[0], []byte(header+"\n0,2001-07-19T10:00:00Z,298,298,298,2,2,2,0,0,0,0,0,0,0,0,0,0,0,0\n")) {
		t.Errorf("CSV starts %q", csv[0][:200])
	}
}

func TestProgressAndProbeEngine(t *testing.T) {
	var seen []int
	s := run(t, Spec{Engine: "probe", Runs: 4, Workers: 2, Progress: func(d int) { seen = append(seen, d) }})
	if fmt.Sprint(seen) != "[1 2 3 4]" {
		t.Errorf("progress %v, want [1 2 3 4]", seen)
	}
	if s.Engine != "probe" || s.Members[3].Probes == 0 {
		t.Errorf("engine %s, probes %d", s.Engine, s.Members[3].Probes)
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Spec{Scenario: tinyScenario(t), Engine: "event", Runs: 50, Workers: 2})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

func TestBadSpecs(t *testing.T) {
	sc := tinyScenario(t)
	for _, tc := range []struct {
		sp   Spec
		want string
	}{
		{Spec{Engine: "fast", Runs: 2}, `engine "fast": want event or probe`},
		{Spec{Engine: "event", Runs: 0}, "0 runs: want at least 1"},
		{Spec{Engine: "event", Runs: 3, Shard: Shard{Index: 0, Count: 4}}, "4 shards of 3 runs: some shards would hold no run"},
		{Spec{Engine: "event", Runs: 3, BaseSeed: 1<<64 - 2}, "seeds 18446744073709551614 and up: 3 runs would pass the largest seed"},
	} {
		tc.sp.Scenario = sc
		_, err := Run(context.Background(), tc.sp)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%+v: error %v, want %q", tc.sp, err, tc.want)
		}
	}
}

func TestParseShard(t *testing.T) {
	for in, want := range map[string]string{
		"0/4":  "0/4",
		"3/4":  "3/4",
		"0/1":  "0/1",
		"4/4":  `shard "4/4": the index counts from 0 to 3`,
		"-1/4": `shard "-1/4": the index counts from 0 to 3`,
		"1/0":  `shard "1/0": want at least one shard`,
		"1":    `shard "1": want i/n, such as 0/4 (i counts from 0)`,
		"a/4":  `shard "a/4": want two whole numbers i/n, such as 0/4`,
		"1/4/": `shard "1/4/": want two whole numbers i/n, such as 0/4`,
	} {
		sh, err := ParseShard(in)
		got := sh.String()
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("ParseShard(%q) = %s, want %s", in, got, want)
		}
	}
	// Round robin: 10 runs in 4 shards.
	for i, want := range []string{"[0 4 8]", "[1 5 9]", "[2 6]", "[3 7]"} {
		if got := fmt.Sprint(Shard{Index: i, Count: 4}.Members(10)); got != want {
			t.Errorf("shard %d/4 of 10: %s, want %s", i, got, want)
		}
	}
	if got := fmt.Sprint(Shard{}.Members(3)); got != "[0 1 2]" {
		t.Errorf("the zero shard holds %s", got)
	}
}

func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"0/1", "3/4", "4/4", "-0/1", "+1/2", "1/", "/", "99999999999999999999/1", "0/1\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseShard(s)
		if err != nil {
			return
		}
		if sh.Index < 0 || sh.Index >= sh.Count {
			t.Fatalf("%q parsed to %v", s, sh)
		}
		back, err := ParseShard(sh.String())
		if err != nil || back != sh {
			t.Fatalf("%q -> %v -> %v, %v", s, sh, back, err)
		}
	})
}
