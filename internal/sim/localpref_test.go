package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/worm"
)

// clustered returns a scaled-down Code Red II-like scenario in a 2^20
// space whose "/8" and "/16" are its top 4 and 8 bits: n hosts packed into
// a few neighbourhoods, so that local preference matters, and scanning
// with the Code Red II mix at those levels, skipping .0 and .255.
func clustered(t testing.TB, n int, rate float64, dur time.Duration) *Config {
	t.Helper()
	rng := rand.New(rand.NewPCG(8, 8))
	// Six /8-level blocks (2^12 addresses each) in three /4-level blocks.
	var blocks []ipspace.Prefix
	for _, top := range []uint32{0x11, 0x12, 0x13, 0x54, 0x55, 0x9a} {
		blocks = append(blocks, ipspace.PrefixFrom(ipspace.Addr(top<<12), 20))
	}
	filter := worm.AddressFilter{SkipZero255: true}
	var hosts []ipspace.Addr
	for len(hosts) < n {
		more, err := ipspace.PlaceUniform(n+n/50, blocks, rng)
		if err != nil {
			t.Fatal(err)
		}
		hosts = hosts[:0]
		for _, h := range more {
			if filter.Allowed(h) && len(hosts) < n {
				hosts = append(hosts, h)
			}
		}
	}
	rates := make([]float64, n)
	for i := range rates {
		rates[i] = rate
	}
	mix := []worm.Channel{{Share: 1.0 / 8, PrefixBits: 0}, {Share: 4.0 / 8, PrefixBits: 4}, {Share: 3.0 / 8, PrefixBits: 8}}
	return &Config{
		Start: t0, Duration: dur, Step: 10 * time.Second,
		SpaceBits: 20, Hosts: hosts, Rates: rates, Initial: []int32{0, 500, 1000, 1500, 2000},
		Strategy: worm.LocalPreference{Mix: mix, Skip: filter}, Calendar: worm.Always{},
	}
}

// TestEnginesAgreeLocalPreference: the Code Red II mix over a clustered
// layout, with half the hosts at double rate and every copy stopping (and
// its host removed) after a lifetime, as Code Red II's 24 h / 48 h
// reboots. Same test and threshold as TestEnginesAgree. Twenty copies
// start it, so that the early phase's randomness does not swamp the
// statistics.
//
// Power: 200 seeds detect a 1.8% scan-rate error (80% power, alpha 0.01),
// the long mode's 800 about 0.9%. Two long runs put the event engine's
// mean time to 50% 0.65% and 0.36% after the probe engine's (z = 2.3 with
// 700 seeds, 1.4 with 800; the limit is 2.58): within the noise, but the
// sign has held, so it is worth a run with a few thousand seeds.
func TestEnginesAgreeLocalPreference(t *testing.T) {
	runs := sized(t, 10, 200, 800)
	c := clustered(t, 4000, 0.1, 1500*time.Second)
	c.Lifetime = make([]float64, len(c.Hosts))
	for i := range c.Hosts {
		c.Lifetime[i] = 600
		if i%2 == 1 {
			c.Rates[i] *= 2
			c.Lifetime[i] = 1200
		}
	}
	c.AfterLifetime = Removed
	c.Initial = c.Initial[:0]
	for i := range 20 {
		c.Initial = append(c.Initial, int32(i*200))
	}
	requirePower(t, compareEngines(t, c, runs, 100))
}

// TestEnginesAgreeNAT adds NATed sites: 20 sites of 50 hosts each in the
// space's "private" blocks, with addresses reused across sites. A NATed
// host reaches only its own site's private hosts and the public ones.
//
// Site-internal spread must carry a real share of the infections, or a
// fault in the site lanes could not show: each site packs its hosts into
// one /24-like block, its copies scan at 3 probes a second (ten times the
// public hosts' rate), and 8 of the 20 sites start with one infected
// host. A copy then reaches a site-mate at about 3 * 3/8 * 49/4094 =
// 0.013 a second through the /16-level channel, so the seeded sites fill
// within the run: about 390 NATed infections a run (2.2 before this
// layout) against about 2,800 public ones. Unseeded sites must stay clean:
// nobody outside a site reaches it.
func TestEnginesAgreeNAT(t *testing.T) {
	runs := sized(t, 10, 100, 200)
	c := clustered(t, 3000, 0.3, 800*time.Second)
	// "10/8" and "192.168/16" of this space: a /4-level and a /8-level block.
	c.Private = []ipspace.Prefix{ipspace.PrefixFrom(0xa0000, 16), ipspace.PrefixFrom(0xc0000, 20)}
	c.Site = make([]int32, len(c.Hosts))
	rng := rand.New(rand.NewPCG(9, 9))
	type natHost struct {
		site int32
		addr ipspace.Addr
	}
	const sites, perSite, seeded = 20, 50, 8
	var nat []natHost
	for site := int32(1); site <= sites; site++ {
		// Each site numbers its hosts inside one private /24-like block.
		base := c.Private[site%2].Addr() + ipspace.Addr(rng.IntN(4))<<8
		seen := map[ipspace.Addr]bool{}
		for len(seen) < perSite {
			a := base + ipspace.Addr(1+rng.IntN(254))
			if !seen[a] {
				seen[a] = true
				nat = append(nat, natHost{site, a})
			}
		}
	}
	slices.SortFunc(nat, func(a, b natHost) int {
		if a.site != b.site {
			return int(a.site - b.site)
		}
		return int(a.addr) - int(b.addr)
	})
	for _, h := range nat {
		c.Hosts = append(c.Hosts, h.addr)
		c.Site = append(c.Site, h.site)
		c.Rates = append(c.Rates, 3)
	}
	for s := range seeded {
		c.Initial = append(c.Initial, int32(3000+s*perSite))
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// The NATed count is compared at 250 s, while the seeded sites are
	// still filling, where it is most sensitive to the site lanes' rate.
	natInfected := statistic{"NATed hosts infected by 250 s", func(c *Config, r *Result) float64 {
		n := 0
		for _, inf := range r.Infections {
			if c.Site[inf.Host] > seeded {
				t.Fatalf("host %d of unseeded site %d infected: nobody outside a site reaches it", inf.Host, c.Site[inf.Host])
			}
			if c.Site[inf.Host] > 0 && inf.T <= 250 {
				n++
			}
		}
		return float64(n)
	}}
	compareEngines(t, c, runs, 60, natInfected)
}

// TestNATIsolation: a NATed host reaches only its own site. Site 1's
// infected host and site 2's host share a private address; a public
// infected host scans too. Nothing else may ever be infected, whatever
// the rates.
func TestNATIsolation(t *testing.T) {
	heavy(t)
	c := &Config{
		Start: t0, Duration: time.Hour, Step: time.Minute, SpaceBits: 12,
		Hosts:    []ipspace.Addr{0x100, 0xa01, 0xa02, 0xa01},
		Site:     []int32{0, 1, 1, 2},
		Private:  []ipspace.Prefix{ipspace.PrefixFrom(0xa00, 24)},
		Rates:    []float64{1000, 1000, 1000, 1000},
		Initial:  []int32{0, 1},
		Strategy: worm.LocalPreference{Mix: []worm.Channel{{Share: 0.5, PrefixBits: 0}, {Share: 0.5, PrefixBits: 4}}},
		Calendar: worm.Always{},
	}
	for _, run := range []func(*Config, uint64) (*Result, error){RunEvent, RunProbe} {
		r, err := run(c, 1)
		if err != nil {
			t.Fatal(err)
		}
		// Host 2 (site 1) must fall; host 3 (site 2) never.
		if len(r.Infections) != 1 || r.Infections[0].Host != 2 {
			t.Errorf("%s: infections %v, want only host 2", r.Engine, r.Infections)
		}
	}
}

// TestEnginesAgreeSequential: Blaster-style sequential scanning (40% of
// copies start in their own /24) over the clustered layout. The event
// engine jumps between the vulnerable hosts on each copy's path with
// Gamma-distributed times; the probe engine sends every probe.
func TestEnginesAgreeSequential(t *testing.T) {
	runs := sized(t, 10, 100, 200)
	// Copies walk through dense blocks (4,000 hosts in 24,576 addresses),
	// so the run is kept short: 1 probe a second for 800 s.
	c := clustered(t, 4000, 1, 800*time.Second)
	c.Strategy = worm.Sequential{LocalShare: 0.4}
	c.Initial = c.Initial[:0]
	for i := range 20 {
		c.Initial = append(c.Initial, int32(i*200))
	}
	compareEngines(t, c, runs, 60)
}

// TestEnginesAgreeHitList: a hit-list of 300 hosts handed down by halves,
// then uniform scanning, from one initial copy.
func TestEnginesAgreeHitList(t *testing.T) {
	runs := sized(t, 10, 100, 200)
	c := clustered(t, 4000, 0.5, 1500*time.Second)
	c.Initial = []int32{0}
	var list []ipspace.Addr
	for i := range 300 {
		h := int32(1 + i*13)
		c.HitList = append(c.HitList, h)
		list = append(list, c.Hosts[h])
	}
	c.Strategy = worm.HitList{List: list}
	// The list phase itself: how many of the listed hosts fall within the
	// first 60 s, when only the list is at work.
	listed := statistic{"hit-list hosts infected by 60 s", func(c *Config, r *Result) float64 {
		n := 0
		for _, inf := range r.Infections {
			if inf.T <= 60 {
				n++
			}
		}
		return float64(n)
	}}
	compareEngines(t, c, runs, 100, listed)
}
