package observe

import (
	"math"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/worm"
)

func TestWilson(t *testing.T) {
	// The seed article's census: 1,230 unprotected of 20,000. Reference
	// from the closed form: p = 0.0615, interval [0.05826, 0.06489].
	lo, hi := Wilson(1230, 20000, 1.959964)
	if math.Abs(lo-0.05826) > 5e-5 || math.Abs(hi-0.06489) > 5e-5 {
		t.Errorf("Wilson(1230, 20000) = [%.5f, %.5f]", lo, hi)
	}
}

// TestCensusSeesPatching: with every susceptible host patched at 1/hour
// and no infection, the unprotected share after 2 hours is e^-2 = 0.135;
// a census of 2,000 of the 4,000 hosts must cover it with its 95% interval
// (half-width 0.015; the sample's own sd, with the finite-population
// correction, is 0.0054, so the interval holds it unless the draw is off by
// nearly 3 sd).
func TestCensusSeesPatching(t *testing.T) {
	c := neighbourhood(t, worm.Uniform{})
	c.Rates = make([]float64, len(c.Hosts)) // nobody scans
	c.Life.PatchRate = 1.0 / 3600
	c.Duration = 3 * time.Hour
	cen := NewCensus(c, []time.Time{t0.Add(2 * time.Hour)}, 2000, 0, 3)
	c.Observers = []sim.Observer{cen}
	if _, err := sim.RunEvent(c, 8); err != nil {
		t.Fatal(err)
	}
	pts := cen.Points()
	if len(pts) != 1 {
		t.Fatalf("%d censuses", len(pts))
	}
	want := math.Exp(-2)
	// 3 initially infected stay unprotected: 3/4000 shifts the share by
	// under 0.001.
	if p := pts[0]; want < p.Low-0.002 || want > p.High+0.002 {
		t.Errorf("census share %.4f [%.4f, %.4f], want %.4f inside", p.Share, p.Low, p.High, want)
	}
}

func TestFloodCountsFloodingHosts(t *testing.T) {
	c := neighbourhood(t, worm.Uniform{})
	c.Start = time.Date(2001, 7, 19, 23, 0, 0, 0, time.UTC)
	c.Calendar = worm.CodeRedI{}
	c.FloodRate = 10
	c.Initial = []int32{0, 1, 2, 3, 4}
	c.Rates = make([]float64, len(c.Hosts))
	f := NewFlood(c, "198.137.240.91")
	c.Observers = []sim.Observer{f}
	if _, err := sim.RunEvent(c, 1); err != nil {
		t.Fatal(err)
	}
	rows := f.Rows()
	// Before midnight nobody floods; after it, the 5 infected hosts send
	// 10 packets a second each.
	if rows[30].PacketsPerSecond != 0 || rows[30].Hosts != 0 {
		t.Errorf("flood before day 20: %+v", rows[30])
	}
	if rows[90].PacketsPerSecond != 50 || rows[90].Hosts != 5 {
		t.Errorf("flood on day 20: %+v, want 50 packets/s from 5 hosts", rows[90])
	}
}
