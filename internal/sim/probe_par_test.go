package sim

import (
	"bytes"
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/worm"
)

// pauseCalendar spreads except in [from, to).
type pauseCalendar struct{ from, to time.Time }

func (p pauseCalendar) At(t time.Time) (worm.Phase, time.Time) {
	switch {
	case t.Before(p.from):
		return worm.Spread, p.from
	case t.Before(p.to):
		return worm.Dormant, p.to
	}
	return worm.Spread, time.Time{}
}

// parallelConfigs are runs of the parallel probe engine large enough that
// their windows are drawn on several workers: a plain uniform outbreak,
// and one with what the parallel engine handles besides scanning (local
// preference, lifetimes that end within a window and make hosts
// susceptible again, blacklisting, a telescope, a pause of the calendar).
func parallelConfigs(t *testing.T) map[string]*Config {
	plain := scaled(t, 22, 30000, 20, 10*time.Second, time.Second, worm.Uniform{})
	plain.Initial = nil
	for i := range 1000 {
		plain.Initial = append(plain.Initial, int32(30*i))
	}
	mixed := clustered(t, 3000, 20, 20*time.Second)
	mixed.Initial = nil
	for i := range 600 {
		mixed.Initial = append(mixed.Initial, int32(5*i))
	}
	mixed.Lifetime = make([]float64, len(mixed.Hosts))
	for i := range mixed.Lifetime {
		// A few lifetimes, each a boundary between windows, about one
		// window long.
		if i%5 != 0 && i%97 == 0 {
			mixed.Lifetime[i] = 0.05 + float64(i%7)/10
		}
	}
	mixed.AfterLifetime = Susceptible
	mixed.Containment = &Containment{NetworkBits: 8, Deployed: networksWith(8, 0.5, 1), Blacklist: true, BlacklistDelay: 20}
	mixed.ProbeTelescope = ipspace.PrefixFrom(0x54<<12, 20)
	mixed.Calendar = pauseCalendar{t0.Add(5 * time.Second), t0.Add(8 * time.Second)}
	return map[string]*Config{"uniform": plain, "mixed": mixed}
}

// TestParallelProbeSameBytes runs the parallel probe engine with 1, 2 and
// 4 workers and two chunk sizes: the results must be the same bytes, and
// the runs with more than one worker must have drawn windows on several.
func TestParallelProbeSameBytes(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	defer func(n int) { parChunkHosts = n }(parChunkHosts)
	for name, c := range parallelConfigs(t) {
		var want []byte
		for _, procs := range []int{1, 2, 4} {
			for _, chunk := range []int{256, 37} {
				runtime.GOMAXPROCS(procs)
				parChunkHosts = chunk
				before := parallelWindows.Load()
				r, err := RunProbe(c, 7)
				if err != nil {
					t.Fatal(err)
				}
				got, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				drawn := parallelWindows.Load() - before
				if procs > 1 && drawn == 0 {
					t.Errorf("%s, %d workers: no window was drawn on more than one", name, procs)
				}
				if want == nil {
					want = got
					t.Logf("%s: %d probes, %d infections, %d bytes", name, r.ProbesSent, len(r.Infections), len(got))
					if len(r.Infections) < 100 {
						t.Errorf("%s: only %d infections: too few to show anything", name, len(r.Infections))
					}
					continue
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s: %d workers, chunks of %d copies: result differs from 1 worker's", name, procs, chunk)
				}
			}
		}
	}
}

// TestParallelProbeCovers checks which runs take the parallel engine, so
// that a change to parallelProbe cannot silently send the built-in
// scenarios' kind of run back to one core.
func TestParallelProbeCovers(t *testing.T) {
	for name, c := range parallelConfigs(t) {
		e := &probeEngine{cfg: c, perHost: c.perHostCalendar()}
		if !e.parallelProbe() {
			t.Errorf("%s: not run in parallel", name)
		}
	}
	c := scaled(t, 16, 100, 1, time.Minute, time.Second, worm.Uniform{})
	for name, change := range map[string]func(*Config){
		"congestion": func(c *Config) { c.Life.CongestionEta = 2 },
		"capacity":   func(c *Config) { c.ScanCapacity = 10 },
		"clean-up":   func(c *Config) { c.Life.CleanupRate = 1e-3 },
		"clocks":     func(c *Config) { c.ClockOffset = make([]float64, len(c.Hosts)) },
	} {
		d := *c
		change(&d)
		e := &probeEngine{cfg: &d, perHost: d.perHostCalendar()}
		if e.parallelProbe() {
			t.Errorf("%s: run in parallel, which would not be exact", name)
		}
	}
}

// TestEnginesAgreeContentFilterUniform is TestEnginesAgreeContentFilter's
// backbone deployment of content filtering, 300 s after the first
// infection, with uniform scanning, which the probe engine runs on all
// cores: the filters start within a window, and the parallel engine's
// landings must meet them in time order.
func TestEnginesAgreeContentFilterUniform(t *testing.T) {
	runs := sized(t, 10, 100, 200)
	c := scaled(t, 16, 1000, 1, 400*time.Second, 10*time.Second, worm.Uniform{})
	providers := networksWith(4, 0.25, 3)
	deployed := make([]bool, 1<<8)
	for n := range deployed {
		deployed[n] = providers[n>>4]
	}
	c.Containment = &Containment{NetworkBits: 8, Deployed: deployed, Content: true, ContentDelay: 300, ContentAfterFirst: true}
	if e := (&probeEngine{cfg: c}); !e.parallelProbe() {
		t.Fatal("not run on all cores")
	}
	compareEngines(t, c, runs, 40, inDeployed(c))
}

// TestEnginesAgreeShortLifetimes: copies that live 20 s and leave their
// host susceptible again (Code Red I's reboots), in one-minute bins, so
// that most copies infected in a window of the parallel probe engine also
// end in it. Each copy sends 100 probes in a 2^16 space of 1,000 hosts, so
// it infects about 1.5 others and the outbreak settles near 345 infected.
func TestEnginesAgreeShortLifetimes(t *testing.T) {
	runs := sized(t, 10, 100, 200)
	c := scaled(t, 16, 1000, 5, 600*time.Second, time.Minute, worm.Uniform{})
	c.Initial = []int32{0, 1, 2, 3, 4}
	c.Lifetime = make([]float64, len(c.Hosts))
	for i := range c.Lifetime {
		c.Lifetime[i] = 20
	}
	c.AfterLifetime = Susceptible
	if e := (&probeEngine{cfg: c}); !e.parallelProbe() {
		t.Fatal("not run on all cores")
	}
	compareEngines(t, c, runs, 5)
}
