// Package simrun runs one scenario to its run record: the choice of engine
// and the run itself, shared by `wormlab simulate`, `wormlab forecast` and
// the lab in the browser (`wormlab serve`), so the three make the same
// bytes from the same scenario, seed and version.
package simrun

import (
	"fmt"

	"github.com/wormlab/wormlab/internal/runrec"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/sim"
)

// Engine resolves an engine request for a run of c whose worm has the
// named strategy: "" picks the event engine when it can run the strategy,
// else the probe engine; "event" and "probe" are checked.
func Engine(c *sim.Config, strategy, engine string) (string, error) {
	eventOK := sim.EventEngineRuns(c.Strategy)
	switch {
	case engine == "":
		if eventOK {
			return "event", nil
		}
		return "probe", nil
	case engine == "event" && !eventOK:
		return "", fmt.Errorf("the event engine cannot run strategy %q; use --engine probe", strategy)
	case engine != "event" && engine != "probe":
		return "", fmt.Errorf("--engine %q: want event or probe", engine)
	}
	return engine, nil
}

// Run builds s with seed, runs it in engine (resolved by Engine) and
// returns the run record with the built config and the raw result. A
// closed stop ends the run early with sim.ErrStopped.
func Run(s *scenario.Scenario, seed uint64, engine string, stop <-chan struct{}) (*runrec.Record, *sim.Config, *sim.Result, error) {
	c, err := s.Build(seed)
	if err != nil {
		return nil, nil, nil, err
	}
	if engine, err = Engine(c, s.Worm.Strategy, engine); err != nil {
		return nil, nil, nil, err
	}
	return RunBuilt(s, c, seed, engine, stop)
}

// RunBuilt is Run for a config already built from s with seed, to which
// the caller may have attached observers; engine must be resolved.
func RunBuilt(s *scenario.Scenario, c *sim.Config, seed uint64, engine string, stop <-chan struct{}) (*runrec.Record, *sim.Config, *sim.Result, error) {
	c.Stop = stop
	var res *sim.Result
	var err error
	if engine == "event" {
		res, err = sim.RunEvent(c, seed)
	} else {
		res, err = sim.RunProbe(c, seed)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return runrec.New(s, seed, c, res), c, res, nil
}
