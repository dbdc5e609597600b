package serve

// The lab under the load of a classroom: twenty browsers at once, each
// opening the lab and running the Code Red day with its own seed.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	rtmetrics "runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/simrun"
)

// loadScenario is the run each simulated browser asks for: the Code Red
// day, the lab's showcase and the figure issue 16 names.
const loadScenario = "codered-v2-2001-07-19"

// TestLoadTwentyBrowsers has 20 clients, at once, do what a browser does
// when a class opens the lab: load the gallery and its assets, open the
// Code Red day with the client's own seed, fetch its chart data and
// download its CSV. Each answer must be the CLI's for that seed (the CSV
// byte for byte, and the chart's infected series), no request may fail,
// and the server's heap must stay bounded while twenty runs queue for two
// cores. The clients are HTTP clients, not Chromium tabs: twenty tabs
// would measure Chromium on a 2-core machine, not the lab; the browser
// test times a real tab. The quick version makes 20 runs and checks 4 of
// them against the CLI (the others against their own chart data); with
// WORMLAB_LONG=1 each client makes 2 rounds, 40 runs, every one checked
// against the CLI. The test stops by itself: every request runs under
// one deadline.
func TestLoadTwentyBrowsers(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	const clients = 20
	rounds, checkEvery := 1, 5
	if os.Getenv("WORMLAB_LONG") == "1" {
		rounds, checkEvery = 2, 1
	}
	sc, err := scenario.Builtin(loadScenario)
	if err != nil {
		t.Fatal(err)
	}
	// The CLI's answer for the seeds checked, computed first (as many at
	// a time as the machine has cores) and kept as the CSV the CLI writes.
	seeds := clients * rounds
	want := make([][]byte, seeds+1)
	cliBegan := time.Now()
	{
		var wg sync.WaitGroup
		sem := make(chan struct{}, runtime.GOMAXPROCS(0))
		for seed := 1; seed <= seeds; seed += checkEvery {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				rec, _, _, err := simrun.Run(sc, uint64(seed), "", nil)
				if err != nil {
					t.Error(err)
					return
				}
				var b bytes.Buffer
				rec.WriteCSV(&b)
				want[seed] = b.Bytes()
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
	}
	cliWall := time.Since(cliBegan)

	srv, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv) // loopback
	defer hs.Close()
	workers := runtime.GOMAXPROCS(0)

	// One run alone: how far the live heap climbs above the idle lab's,
	// the highest of three runs.
	var onePeak int64
	base := liveHeap()
	for i := range 3 {
		watch := sampleHeapPeak()
		if _, err := loadGet(context.Background(), fmt.Sprintf("%s/api/run?scenario=%s&seed=%d", hs.URL, loadScenario, 1_000_000+i)); err != nil {
			t.Fatal(err)
		}
		onePeak = max(onePeak, watch()-base)
	}
	cached := (liveHeap() - base) / 3 // a result kept in the cache

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base = liveHeap()
	watch := sampleHeapPeak()
	began := time.Now()
	var (
		mu        sync.Mutex
		latencies []time.Duration // of the chart data, the run itself
		pageBytes atomic.Int64
		checked   atomic.Int64 // answers compared with the CLI's
	)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for r := range rounds {
				seed := 1 + c + clients*r
				n, lat, err := loadBrowse(ctx, hs.URL, seed, want[seed])
				if err != nil {
					t.Errorf("client %d, seed %d: %v", c, seed, err)
					return
				}
				pageBytes.Add(n)
				if want[seed] != nil {
					checked.Add(1)
				}
				mu.Lock()
				latencies = append(latencies, lat)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	wall := time.Since(began)
	peak := watch() - base
	if len(latencies) != clients*rounds {
		return // the failures are reported
	}
	if n := checked.Load(); n != int64((seeds+checkEvery-1)/checkEvery) {
		t.Errorf("%d answers compared with the CLI's, want %d", n, (seeds+checkEvery-1)/checkEvery)
	}
	slices.Sort(latencies)
	var rss string
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		rss = strings.Join(regexp.MustCompile(`(?m)^Vm(HWM|RSS):\s+\d+ kB`).FindAllString(string(b), -1), ", ")
	}
	// The peer: the same kind of runs made by the CLI's code path, as
	// many at a time as there are cores, with no server in between.
	cliRuns := (seeds + checkEvery - 1) / checkEvery
	t.Logf("peer: %d runs through the CLI's code path (simrun.Run), %d at a time: %v, %v a run; the lab: %v a run (ratio %.2f)",
		cliRuns, workers, cliWall.Round(time.Millisecond), (cliWall / time.Duration(cliRuns)).Round(time.Millisecond),
		(wall / time.Duration(len(latencies))).Round(time.Millisecond), float64(wall)/float64(len(latencies))/(float64(cliWall)/float64(cliRuns)))
	t.Logf("%d clients x %d rounds = %d runs of %s (%d checked against the CLI) in %v on %d workers: run latency median %v, max %v; %d bytes transferred; live heap above the idle lab: %.0f MB peak (one run alone: %.0f MB; a cached result: %.1f MB); process %s",
		clients, rounds, len(latencies), loadScenario, checked.Load(), wall.Round(time.Millisecond), workers,
		latencies[len(latencies)/2].Round(time.Millisecond), latencies[len(latencies)-1].Round(time.Millisecond),
		pageBytes.Load(), mib(peak), mib(onePeak), mib(cached), rss)

	// Bounded: the queue lets `workers` runs hold memory at once, and
	// the cache keeps at most its 32 results; the others wait holding
	// nothing but a request. So the live heap peaks at most at workers
	// runs' peaks plus the results kept, plus one run's worth for the
	// moment a run ends (its result being encoded) while the next one is
	// building its hosts. A lab that ran all 20 at once would hold about
	// 20 runs' peaks; this bound fails once more than workers+1 runs
	// hold memory together.
	limit := int64(workers+1)*onePeak + 32*cached
	if peak > limit {
		t.Errorf("live heap climbed %.0f MB above the idle lab under load, over the bound of %.0f MB (%d workers + 1 runs of %.0f MB, 32 cached results of %.1f MB)",
			mib(peak), mib(limit), workers, mib(onePeak), mib(cached))
	}
	if ctx.Err() != nil {
		t.Errorf("the load did not finish within its deadline")
	}
}

// loadBrowse does what one browser does to run the Code Red day with seed
// and checks the answers: the CSV download against the CLI's, when
// wantCSV is not nil, and the chart data against the CSV. It returns the bytes
// transferred and how long the chart data (the run) took.
func loadBrowse(ctx context.Context, base string, seed int, wantCSV []byte) (int64, time.Duration, error) {
	var total int64
	fetch := func(path string) ([]byte, error) {
		body, err := loadGet(ctx, base+path)
		total += int64(len(body))
		return body, err
	}
	gallery, err := fetch("/")
	if err != nil {
		return total, 0, err
	}
	for _, m := range regexp.MustCompile(`(?:href|src)="(/assets/[^"]+)"`).FindAllSubmatch(gallery, -1) {
		if _, err := fetch(string(m[1])); err != nil {
			return total, 0, err
		}
	}
	q := fmt.Sprintf("scenario=%s&seed=%d", loadScenario, seed)
	if _, err := fetch("/run?" + q); err != nil {
		return total, 0, err
	}
	start := time.Now()
	data, err := fetch("/api/run?" + q)
	lat := time.Since(start)
	if err != nil {
		return total, lat, err
	}
	csv, err := fetch("/download/run.csv?" + q)
	if err != nil {
		return total, lat, err
	}
	if wantCSV != nil && !bytes.Equal(csv, wantCSV) {
		return total, lat, fmt.Errorf("the CSV download differs from the CLI's (%d bytes, want %d)", len(csv), len(wantCSV))
	}
	if err := sameAsCSV(data, csv); err != nil {
		return total, lat, fmt.Errorf("chart data: %v", err)
	}
	return total, lat, nil
}

// sameAsCSV checks the chart data's infected series against the CLI's CSV.
func sameAsCSV(data, csv []byte) error {
	var c struct {
		Infected []int64 `json:"infected"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	header := strings.Split(lines[0], ",")
	col := slices.Index(header, "infected")
	if col < 0 {
		return fmt.Errorf("the CSV has no infected column: %s", lines[0])
	}
	if len(c.Infected) != len(lines)-1 {
		return fmt.Errorf("%d points, the CLI %d", len(c.Infected), len(lines)-1)
	}
	for i, l := range lines[1:] {
		v, err := strconv.ParseInt(strings.Split(l, ",")[col], 10, 64)
		if err != nil {
			return err
		}
		if v != c.Infected[i] {
			return fmt.Errorf("point %d: %d infected, the CLI %d", i, c.Infected[i], v)
		}
	}
	return nil
}

func loadGet(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("GET %s: %s: %.200s", url, resp.Status, body)
	}
	return body, nil
}

// liveHeap returns the live heap after a collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// sampleHeapPeak samples the live heap (as the last collection marked
// it, runtime/metrics /gc/heap/live:bytes) every 10 ms until the returned
// func is called, which returns the highest value seen. The live heap,
// not the allocated one: how far garbage piles up between collections
// depends on when the collector happened to run, which made a sampled
// HeapAlloc vary by a factor of two between identical runs.
func sampleHeapPeak() func() int64 {
	var peak atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		sample := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			rtmetrics.Read(sample)
			if h := int64(sample[0].Value.Uint64()); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
