package ensemble

import (
	"context"
	"testing"

	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/sim"
)

// BenchmarkCodeRedRuns times ensembles of the default scenario, per run:
// layout, engine and reduction together, at 1 and 2 workers. On 2 cores
// the speed-up is ns/op at workers=1 over ns/op at workers=2.
func BenchmarkCodeRedRuns(b *testing.B) {
	sc, err := scenario.Builtin(scenario.Default)
	if err != nil {
		b.Fatal(err)
	}
	for _, w := range []int{1, 2} {
		b.Run("workers="+string(rune('0'+w)), func(b *testing.B) {
			const runs = 8
			for b.Loop() {
				if _, err := Run(context.Background(), Spec{Scenario: sc, Engine: "event", BaseSeed: 1, Runs: runs, Workers: w}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*runs)/1e9, "s/run")
		})
	}
}

// BenchmarkCodeRedBuild times the layout of one run's hosts alone.
func BenchmarkCodeRedBuild(b *testing.B) {
	sc, err := scenario.Builtin(scenario.Default)
	if err != nil {
		b.Fatal(err)
	}
	seed := uint64(0)
	for b.Loop() {
		seed++
		if _, err := sc.Build(seed); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCodeRedObserved times one run (layout and event engine) bare
// and watched by issue 5's telescope on the first empty /8, which is what
// `simulate --telescope auto` attaches.
func BenchmarkCodeRedObserved(b *testing.B) {
	sc, err := scenario.Builtin(scenario.Default)
	if err != nil {
		b.Fatal(err)
	}
	for _, observed := range []bool{false, true} {
		name := "bare"
		if observed {
			name = "telescope"
		}
		b.Run(name, func(b *testing.B) {
			seed := uint64(0)
			for b.Loop() {
				seed++
				c, err := sc.Build(seed)
				if err != nil {
					b.Fatal(err)
				}
				if observed {
					if _, err := scenario.AttachTelescope(c, "auto", seed); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := sim.RunEvent(c, seed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
