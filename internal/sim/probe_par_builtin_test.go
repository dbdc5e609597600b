package sim_test

import (
	"testing"

	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/sim"
)

// TestParallelProbeBuiltins checks that the probe engine runs the
// built-in scenarios it can on all cores, so that a change to what the
// parallel engine accepts cannot silently send them back to one core, and
// that a scenario with a life cycle (patching, clean-up, reboots) stays on
// the sequential engine.
func TestParallelProbeBuiltins(t *testing.T) {
	for name, want := range map[string]bool{
		"codered-v1-2001-07-13":              true,
		"codered-v2-2001-07-19":              true,
		"codered-v2-blacklist":               true,
		"codered-v2-content-filter":          true,
		"codered-v2-content-filter-backbone": true,
		"codered-v2-content-filter-customer": true,
		"codered-v2-egress":                  true,
		"codered-v2-scaled":                  true,
		"codered-v2-throttle":                true,
		"slammer-2003-01-25":                 true,
		"codered-v2-july-august-2001":        false,
	} {
		s, err := scenario.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.Build(1)
		if err != nil {
			t.Fatal(err)
		}
		if got := sim.ParallelProbe(c); got != want {
			t.Errorf("%s: on all cores %v, want %v", name, got, want)
		}
	}
}
