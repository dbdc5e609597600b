package scenario

import (
	"fmt"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/worm"
)

// streamLayout is the random stream that lays out the population, apart
// from the engines' streams so that both engines see the same hosts for
// the same seed.
const streamLayout = 0x6c61796f7574 // "layout"

// Build returns the simulation input for one run with the given seed: the
// hosts, their scan rates and the initially infected ones are drawn from
// the seed, so each run of an ensemble has its own layout.
func (s *Scenario) Build(seed uint64) (*sim.Config, error) {
	rng := rand.New(rand.NewPCG(seed, streamLayout))
	var blocks []ipspace.Prefix
	switch s.Population.Layout {
	case "allocated":
		var err error
		if blocks, err = ipspace.AllocatedBy(s.Population.AllocatedBy); err != nil {
			return nil, err
		}
	default:
		// A 2^bits space is the offsets 0 .. 2^bits-1, the IPv4 block
		// 0.0.0.0/(32-bits).
		blocks = []ipspace.Prefix{ipspace.PrefixFrom(0, 32-s.Space.Bits)}
	}
	hosts, err := ipspace.PlaceUniform(s.Population.Size, blocks, rng)
	if err != nil {
		return nil, fmt.Errorf("%s: population: %w", s.File, err)
	}
	rates := make([]float64, len(hosts))
	w := s.Worm
	if w.ScanRateCV == 0 {
		for i := range rates {
			rates[i] = w.ScanRate
		}
	} else {
		// Gamma with shape 1/cv^2 has the given mean and coefficient of
		// variation; Beta is gonum's rate parameter.
		shape := 1 / (w.ScanRateCV * w.ScanRateCV)
		g := distuv.Gamma{Alpha: shape, Beta: shape / w.ScanRate, Src: rng}
		for i := range rates {
			rates[i] = g.Rand()
		}
	}
	var strat worm.Strategy = worm.Uniform{}
	if w.Strategy == "static-seed" {
		strat = worm.StaticSeed{Seed: w.StaticSeed}
	}
	var cal worm.Calendar = worm.Always{}
	if w.Calendar == "codered1" {
		cal = worm.CodeRedI{}
	}
	c := &sim.Config{
		Start:     s.Run.Start.UTC(),
		Duration:  s.Run.End.Sub(s.Run.Start),
		Step:      s.Run.Step.Duration,
		SpaceBits: s.Space.Bits,
		Hosts:     hosts,
		Rates:     rates,
		Initial:   pickDistinct(rng, len(hosts), w.InitialInfected),
		Strategy:  strat,
		Calendar:  cal,
	}
	return c, c.Validate()
}

// pickDistinct returns k distinct indexes below n, uniformly, by Floyd's
// algorithm (Bentley, "Programming Pearls: a sample of brilliance", CACM
// 30(9), 1987), in the order drawn.
func pickDistinct(rng *rand.Rand, n, k int) []int32 {
	seen := make(map[int32]bool, k)
	out := make([]int32, 0, k)
	for j := n - k; j < n; j++ {
		t := int32(rng.IntN(j + 1))
		if seen[t] {
			t = int32(j)
		}
		seen[t] = true
		out = append(out, t)
	}
	return out
}

// allocatedAddresses returns how many addresses the /8s allocated by t hold.
func allocatedAddresses(t time.Time) (uint64, error) {
	blocks, err := ipspace.AllocatedBy(t)
	if err != nil {
		return 0, err
	}
	return uint64(len(blocks)) << 24, nil
}
