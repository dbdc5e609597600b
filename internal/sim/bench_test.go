package sim_test

import (
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/sim"
)

// benchEvent runs the built-in scenario name in the event engine, a new
// seed (and so a new layout) each iteration.
func benchEvent(b *testing.B, name string) {
	s := builtin(b, name)
	b.ReportAllocs()
	for i := range b.N {
		c, err := s.Build(uint64(i))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sim.RunEvent(c, uint64(i)); err != nil {
			b.Fatal(err)
		}
	}
}

func builtin(b *testing.B, name string) *scenario.Scenario {
	b.Helper()
	s, err := scenario.Builtin(name)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkCodeRedDay is the full codered-v2-2001-07-19 day (360,000
// hosts, 2^32 addresses, 10:00 to 24:00 UTC) in the event engine,
// population layout included: what `wormlab simulate` does by default.
func BenchmarkCodeRedDay(b *testing.B) {
	benchEvent(b, scenario.Default)
}

// BenchmarkProbeEngineFullSpace measures the probe engine's probes per
// second on the full 2^32 space: the default scenario's 360,000 hosts,
// 20,000 of them infected from the start, for 60 simulated seconds
// (about 7 million probes a run).
func BenchmarkProbeEngineFullSpace(b *testing.B) {
	c := fullSpace(b, time.Minute)
	var probes int64
	b.ResetTimer()
	for i := range b.N {
		r, err := sim.RunProbe(c, uint64(i))
		if err != nil {
			b.Fatal(err)
		}
		probes += r.ProbesSent
	}
	b.ReportMetric(float64(probes)/b.Elapsed().Seconds(), "probes/s")
}

// fullSpace is the default scenario's population with 20,000 hosts
// infected from the start, run for dur.
func fullSpace(b *testing.B, dur time.Duration) *sim.Config {
	s := builtin(b, scenario.Default)
	c, err := s.Build(1)
	if err != nil {
		b.Fatal(err)
	}
	c.Duration = dur
	c.Initial = c.Initial[:0]
	for i := range 20000 {
		c.Initial = append(c.Initial, int32(i*18))
	}
	return c
}

// BenchmarkScaled runs codered-v2-scaled (1,406 hosts in 2^24 addresses,
// 14 hours) in each engine, for the ratio between them.
func BenchmarkScaled(b *testing.B) {
	s := builtin(b, "codered-v2-scaled")
	c, err := s.Build(1)
	if err != nil {
		b.Fatal(err)
	}
	for _, engine := range []struct {
		name string
		run  func(*sim.Config, uint64) (*sim.Result, error)
	}{{"event", sim.RunEvent}, {"probe", sim.RunProbe}} {
		b.Run(engine.name, func(b *testing.B) {
			for i := range b.N {
				if _, err := engine.run(c, uint64(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCodeRedIIWeek is the codered-ii-2001-08-04 week (369,000 hosts,
// clustered layout, NAT sites, local preference, lifetimes) in the event
// engine, layout included.
func BenchmarkCodeRedIIWeek(b *testing.B) {
	benchEvent(b, "codered-ii-2001-08-04")
}

// BenchmarkJulyAugust is codered-v2-july-august-2001: two weeks, both
// waves, patching, reboots, clean-up, per-host calendars with wake-up
// delays, in the event engine, layout included.
func BenchmarkJulyAugust(b *testing.B) {
	benchEvent(b, "codered-v2-july-august-2001")
}
