package sim_test

import (
	"errors"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/sim"
)

// TestStopEndsRun closes Config.Stop before a long run of each engine and
// checks that the run ends at once with ErrStopped.
func TestStopEndsRun(t *testing.T) {
	s, err := scenario.Builtin(scenario.Default)
	if err != nil {
		t.Fatal(err)
	}
	for _, engine := range []struct {
		name string
		run  func(*sim.Config, uint64) (*sim.Result, error)
	}{{"event", sim.RunEvent}, {"probe", sim.RunProbe}} {
		c, err := s.Build(1)
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		close(stop)
		c.Stop = stop
		began := time.Now()
		res, err := engine.run(c, 1)
		// The probe engine would take minutes, so a check that never comes
		// fails here; the bound is loose enough for a machine shared many
		// times over (a 2 s bound once missed by 35 ms at load 20), since
		// how soon the check comes is the signal test's to measure.
		if took := time.Since(began); !errors.Is(err, sim.ErrStopped) || res != nil || took > 20*time.Second {
			t.Errorf("%s: err %v, result %v after %v; want ErrStopped at once", engine.name, err, res != nil, took)
		}
	}
}

// BenchmarkStopCheck measures what looking at Config.Stop costs the
// engines' loops: compare nil (never looked at) with an open channel.
func BenchmarkStopCheck(b *testing.B) {
	s := builtin(b, scenario.Default)
	for _, withStop := range []bool{false, true} {
		name := map[bool]string{false: "nil", true: "open"}[withStop]
		b.Run("event/"+name, func(b *testing.B) {
			c, err := s.Build(1)
			if err != nil {
				b.Fatal(err)
			}
			if withStop {
				c.Stop = make(chan struct{})
			}
			for i := range b.N {
				if _, err := sim.RunEvent(c, uint64(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("probe/"+name, func(b *testing.B) {
			c, err := s.Build(1)
			if err != nil {
				b.Fatal(err)
			}
			c.Duration = time.Minute
			c.Initial = c.Initial[:0]
			for i := range 20000 {
				c.Initial = append(c.Initial, int32(i*18))
			}
			if withStop {
				c.Stop = make(chan struct{})
			}
			for i := range b.N {
				if _, err := sim.RunProbe(c, uint64(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
