package main

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSlammerTelescopeFit runs the pipeline of issue 11 item 6 end to end:
// the Slammer day's telescope writes 10-second bins, and fit reads them
// back as 10-second bins and finds the worm's growth rate.
//
// The scenario's mean scan rate is 4,564 probes a second over 75,000 hosts
// in 2^32 addresses, so early growth has K = 4564 * 75000 / 2^32 = 0.0797
// a second, 286.9 an hour (a doubling in 8.7 s; Moore et al., IEEE S&P
// 2003, measured 8.5 s). Every host is equally likely to be hit whatever
// its uplink, so the infected hosts' mean rate stays the population's and
// the logistic holds. The fit's own 95% interval on one seed is about
// ±0.6% (its printed interval), and path randomness widens that by about
// 15% (fit's coverage test), so a K more than 5% from 286.9 means the
// pipeline is wrong, not unlucky: that is the smallest error the test
// detects. A series read with the wrong bin width (a minute for 10 s)
// would be off by a factor of 6.
func TestSlammerTelescopeFit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Slammer scenario")
	}
	csv := filepath.Join(t.TempDir(), "s.csv")
	var so, se bytes.Buffer
	if code := run(context.Background(), []string{"simulate", "--scenario", "slammer-2003-01-25", "--telescope", "auto", "--telescope-csv", csv, "-q"}, &so, &se); code != 0 {
		t.Fatalf("simulate: exit %d: %s", code, se.String())
	}
	lines := strings.Split(string(mustRead(t, csv)), "\n")
	if lines[0] != "minute,second,utc,probes,sources,new_sources" || !strings.HasPrefix(lines[2], "0,10,2003-01-25T05:29:10Z,") {
		t.Fatalf("telescope CSV starts\n%s\n%s\n%s", lines[0], lines[1], lines[2])
	}
	so.Reset()
	se.Reset()
	curve := filepath.Join(filepath.Dir(csv), "curve.csv")
	if code := run(context.Background(), []string{"fit", csv, "--csv", curve}, &so, &se); code != 0 {
		t.Fatalf("fit: exit %d: %s", code, se.String())
	}
	out := so.String()
	if !strings.Contains(out, "90 bins of 10s from 2003-01-25T05:29:00Z") {
		t.Errorf("fit did not read 90 bins of 10 s:\n%s", out)
	}
	// The fitted curve keeps the series' 10-second bins.
	if lines := strings.Split(string(mustRead(t, curve)), "\n"); lines[0] != "minute,second,utc,observed_sources,fitted_sources,global_infected,new_per_hour" ||
		!strings.HasPrefix(lines[8], "1,10,2003-01-25T05:30:10Z,") {
		t.Errorf("fitted curve starts\n%s\n...\n%s", lines[0], lines[8])
	}
	m := regexp.MustCompile(`K\s+([0-9.,]+) per hour`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no K in fit's output:\n%s", out)
	}
	k, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
	if err != nil {
		t.Fatal(err)
	}
	want := 4564.0 * 75000 / math.Exp2(32) * 3600
	if math.Abs(k-want)/want > 0.05 {
		t.Errorf("K = %.1f per hour, want within 5%% of %.1f", k, want)
	}
}
