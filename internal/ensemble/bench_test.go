package ensemble

import (
	"context"
	"testing"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/observe"
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
// and watched by a block-load observer of 1.0.0.0/8, which holds no host
// in 2001's layout: a stand-in for the dark /8 of issue 5's telescope,
// which is not written yet, to show what an observer adds to a run.
func BenchmarkCodeRedObserved(b *testing.B) {
	sc, err := scenario.Builtin(scenario.Default)
	if err != nil {
		b.Fatal(err)
	}
	dark := ipspace.MustParsePrefix("1.0.0.0/8")
	for _, observed := range []bool{false, true} {
		name := "bare"
		if observed {
			name = "blockload-dark-8"
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
					o, err := observe.NewBlockLoad(c, dark, seed)
					if err != nil {
						b.Fatal(err)
					}
					c.Observers = append(c.Observers, o)
				}
				if _, err := sim.RunEvent(c, seed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
