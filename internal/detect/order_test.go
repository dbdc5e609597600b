package detect

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// orderEvent is one probe of orderLog: a source, a time and a family.
type orderEvent struct {
	src uint32
	t   int64
	fam string
}

// orderPaths are request targets of each family on 20 September 2001
// (after Nimda's start, so root.exe is Nimda).
var orderPaths = map[string]string{
	"codered1": "/default.ida?NNNNNNNN",
	"codered2": "/default.ida?XXXXXXXX",
	"codered":  "/default.ida",
	"nimda":    "/scripts/root.exe?/c+dir",
}

// orderLog draws n probes from sources sources over a day, each of a
// random family, and returns them sorted by time.
func orderLog(seed uint64, n, sources int) []orderEvent {
	rng := rand.New(rand.NewPCG(seed, 1))
	fams := []string{"codered1", "codered2", "codered", "nimda"}
	start := time.Date(2001, 9, 20, 0, 0, 0, 0, time.UTC).Unix()
	ev := make([]orderEvent, n)
	for i := range ev {
		ev[i] = orderEvent{
			src: 0x0a000000 + uint32(rng.IntN(sources)),
			t:   start + rng.Int64N(86400),
			fam: fams[rng.IntN(len(fams))],
		}
	}
	slices.SortFunc(ev, func(x, y orderEvent) int { return int(x.t - y.t) })
	return ev
}

func writeOrderLog(ev []orderEvent) []byte {
	var b bytes.Buffer
	for _, e := range ev {
		fmt.Fprintf(&b, "%d.%d.%d.%d - - [%s] \"GET %s HTTP/1.0\" 404 205\n",
			e.src>>24, e.src>>16&255, e.src>>8&255, e.src&255,
			time.Unix(e.t, 0).UTC().Format("02/Jan/2006:15:04:05 -0700"), orderPaths[e.fam])
	}
	return b.Bytes()
}

// wantSeries counts, from the events alone, the distinct sources and the
// sources new to the family (fam "" for all of them) in each bin.
func wantSeries(ev []orderEvent, fam string, binSecs int64) (sources, newSrc map[int64]int64) {
	sources, newSrc = map[int64]int64{}, map[int64]int64{}
	pairs := map[[2]int64]bool{}
	first := map[uint32]int64{}
	for _, e := range ev {
		if fam != "" && e.fam != fam {
			continue
		}
		bin := e.t / binSecs
		if !pairs[[2]int64{bin, int64(e.src)}] {
			pairs[[2]int64{bin, int64(e.src)}] = true
			sources[bin]++
		}
		if b, ok := first[e.src]; !ok || bin < b {
			first[e.src] = bin
		}
	}
	for _, b := range first {
		newSrc[b]++
	}
	return sources, newSrc
}

// TestSeriesAnyLineOrder checks the series' sources and new sources, all
// families together and each alone, against counts made from the events
// themselves, for a log in time order and for the same lines shuffled.
// The shuffled log sends each source back to earlier bins (the pair log's
// unordered case) and is long enough, 200,000 probes from 3,000 sources,
// for the pair log to be compacted on the way.
func TestSeriesAnyLineOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("200,000 lines")
	}
	ev := orderLog(7, 200_000, 3_000)
	shuffled := slices.Clone(ev)
	rand.New(rand.NewPCG(8, 1)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	want := map[string][2]map[int64]int64{} // by family: sources and new sources by bin
	for _, c := range []struct {
		name string
		ev   []orderEvent
	}{{"in time order", ev}, {"shuffled", shuffled}} {
		rep, err := Run(context.Background(), []string{"-"}, Config{Stdin: bytes.NewReader(writeOrderLog(c.ev))})
		if err != nil {
			t.Fatal(err)
		}
		check := func(fam string, pts []BinPoint) {
			if _, ok := want[fam]; !ok {
				s, n := wantSeries(ev, fam, rep.BinSeconds)
				want[fam] = [2]map[int64]int64{s, n}
			}
			sources, newSrc := want[fam][0], want[fam][1]
			bad := 0
			for _, p := range pts {
				ts, _ := time.Parse(time.RFC3339, p.UTC)
				bin := ts.Unix() / rep.BinSeconds
				if p.Sources != sources[bin] || p.NewSources != newSrc[bin] {
					if bad++; bad <= 3 {
						t.Errorf("%s, family %q, bin %s: %d sources, %d new; the events have %d, %d",
							c.name, fam, p.UTC, p.Sources, p.NewSources, sources[bin], newSrc[bin])
					}
				}
			}
		}
		checkSources(t, c.name, ev, rep)
		check("", rep.Series)
		if len(rep.FamilySeries) != len(orderPaths) {
			t.Fatalf("%s: %d family series, want %d", c.name, len(rep.FamilySeries), len(orderPaths))
		}
		for _, fs := range rep.FamilySeries {
			check(fs.Family, fs.Series)
		}
	}
}

// checkSources compares every source's probes and first and last probe
// (WriteSources) with the events.
func checkSources(t *testing.T, name string, ev []orderEvent, rep *Report) {
	t.Helper()
	type figures struct {
		probes      int
		first, last string
	}
	want := map[string]*figures{}
	for _, e := range ev {
		a := fmt.Sprintf("%d.%d.%d.%d", e.src>>24, e.src>>16&255, e.src>>8&255, e.src&255)
		at := stamp(e.t)
		f := want[a]
		if f == nil {
			f = &figures{first: at, last: at}
			want[a] = f
		}
		f.probes++
		f.first, f.last = min(f.first, at), max(f.last, at)
	}
	var buf bytes.Buffer
	if err := rep.WriteSources(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows)-1 != len(want) {
		t.Errorf("%s: %d sources, the events have %d", name, len(rows)-1, len(want))
	}
	bad := 0
	for _, r := range rows[1:] { // source, families, signatures, probes, first, last
		f := want[r[0]]
		if f == nil || r[3] != fmt.Sprint(f.probes) || r[4] != f.first || r[5] != f.last {
			if bad++; bad <= 3 {
				t.Errorf("%s: source %v; the events have %+v", name, r, f)
			}
		}
	}
}
