package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/worm"
)

// ksPower is the KS power statement shared by the agreement tests of
// this file, with 200 runs an engine (the long mode; the default runs 100
// and detects sqrt 2 times less) at alpha = 0.01: the critical
// distance is 1.628 * sqrt(2/200) = 0.163, so a difference between the
// engines' laws whose largest CDF gap is 0.163 is detected half the time,
// and one of 0.24 (for a roughly normal statistic, a mean shift of 0.6
// run-to-run sd) about 95% of the time. compareEngines adds a test of
// the means and logs, per statistic, the smallest scan-rate error it
// detects with 80% power.

// timeToShare returns when the infected-so-far count first reaches the
// given share of the hosts.
func timeToShare(share float64) statistic {
	return statistic{"time to share of hosts", func(c *Config, r *Result) float64 {
		need := int(share*float64(len(c.Hosts))) - len(c.Initial)
		if need <= 0 || need > len(r.Infections) {
			return 1e18
		}
		return r.Infections[need-1].T
	}}
}

// TestEnginesAgreePermutation: permutation scanning (Warhol) over 1,000
// hosts in 2^16 addresses from 10 copies at 1 probe a second (K =
// 1,000/2^16 = 0.015/s). A new copy starts just after its own place, where
// its parent walks too, so the two race for the next host and the loser
// jumps: growth runs at about half the random-scanning rate until copies
// have spread out. Jumps matter most late, so the test adds the time to
// 90%. Power: ksPower.
func TestEnginesAgreePermutation(t *testing.T) {
	runs := sized(t, 10, 100, 200)
	c := scaled(t, 16, 1000, 1, 700*time.Second, 10*time.Second, worm.Permutation{Key: 7})
	c.Initial = []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	compareEngines(t, c, runs, 40, timeToShare(0.9))
}

// TestEnginesAgreeWarhol: a hit-list of 100 hosts handed down by halves,
// then permutation scanning, from one copy. Power: ksPower.
func TestEnginesAgreeWarhol(t *testing.T) {
	runs := sized(t, 10, 100, 200)
	c := scaled(t, 16, 1000, 1, 400*time.Second, 10*time.Second, nil)
	c.Initial = []int32{0}
	c.Strategy = worm.HitList{List: listHosts(c, 100, 7), Then: worm.Permutation{Key: 3}}
	compareEngines(t, c, runs, 20, timeToShare(0.9))
}

// listHosts puts n hosts on c's hit-list, every stride-th from host 1 on,
// and returns their addresses for the strategy.
func listHosts(c *Config, n, stride int) []ipspace.Addr {
	var list []ipspace.Addr
	for i := range n {
		h := int32(1 + i*stride)
		c.HitList = append(c.HitList, h)
		list = append(list, c.Hosts[h])
	}
	return list
}

// TestWittyHoles: the probe engine with Witty's generator after a
// hit-list never infects a host Witty cannot reach. 20,000 hosts in 2^32,
// half of them on unreachable addresses; the run infects a few hundred
// hosts beyond the list. Were the generator uniform, half of those would
// be unreachable ones: the chance of none among even 50 would be 2^-50.
// The event engine must refuse the strategy.
func TestWittyHoles(t *testing.T) {
	heavy(t)
	rng := rand.New(rand.NewPCG(6, 6))
	var hosts []ipspace.Addr
	seen := map[ipspace.Addr]bool{}
	for len(hosts) < 20000 {
		a := ipspace.Addr(rng.Uint32())
		if seen[a] || worm.WittyReachable(a) != (len(hosts)%2 == 0) {
			continue
		}
		seen[a] = true
		hosts = append(hosts, a)
	}
	slices.Sort(hosts)
	rates := make([]float64, len(hosts))
	for i := range rates {
		rates[i] = 20000
	}
	c := &Config{
		Start: t0, Duration: 30 * time.Second, Step: time.Second, SpaceBits: 32,
		Hosts: hosts, Rates: rates, Calendar: worm.Always{},
	}
	var list []ipspace.Addr
	for h := int32(1); len(list) < 40; h++ {
		if worm.WittyReachable(hosts[h]) { // the list must not be the reason
			c.HitList = append(c.HitList, h)
			list = append(list, hosts[h])
		}
	}
	c.Initial = []int32{0}
	c.Strategy = worm.HitList{List: list, Then: worm.Witty{Reseed: 0.2}}
	if _, err := RunEvent(c, 1); err == nil {
		t.Error("the event engine ran Witty's generator")
	}
	r, err := RunProbe(c, 1)
	if err != nil {
		t.Fatal(err)
	}
	reached := 0
	for _, inf := range r.Infections {
		if !worm.WittyReachable(hosts[inf.Host]) {
			t.Fatalf("host %v infected at %.1f s: Witty cannot reach it", hosts[inf.Host], inf.T)
		}
		reached++
	}
	t.Logf("%d infections, %d probes, none unreachable", reached, r.ProbesSent)
	if reached < 40+50 {
		t.Errorf("only %d infections: too few to tell", reached)
	}
}

// TestWalkersRefusePerHostCalendars: copies that walk a path cannot stop
// and resume on their own in the event engine, so such runs are refused.
func TestWalkersRefusePerHostCalendars(t *testing.T) {
	for _, st := range []worm.Strategy{worm.Sequential{}, worm.Permutation{}, worm.HitList{Then: worm.Permutation{}}} {
		c := scaled(t, 16, 100, 1, 100*time.Second, 10*time.Second, st)
		c.WakeDelayMax = 60
		if err := c.Validate(); err == nil {
			t.Errorf("%s with wake-up delays: no error", st.Name())
		}
	}
}
