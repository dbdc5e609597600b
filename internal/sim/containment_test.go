package sim

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/worm"
)

// networksWith returns a per-network flag, each set with probability p.
func networksWith(bits int, p float64, seed uint64) []bool {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]bool, 1<<bits)
	for i := range out {
		out[i] = rng.Float64() < p
	}
	return out
}

// The containment tests run each engine over 200 seeds and compare the
// laws of the time to 50%, the infected count at a fixed time and, where
// it matters, the share of infections in filtered networks, by a
// two-sample KS test at alpha = 0.01 (power: ksPower in
// permutation_test.go: a CDF gap of 0.163 is caught half the time, 0.24
// about 95% of the time). Each layout is the clustered Code Red II-like one
// of localpref_test.go (a 2^20 space whose "/8" and "/16" are its top 4
// and 8 bits), with networks of 8 bits: the Code Red II mix's /16-level
// channel stays within a network, the others cross filters.

// TestEnginesAgreeBlacklist: address blacklisting 120 s after each
// infection, filters on half the networks (customer deployment), and a
// fifth of the networks filtering their own hosts' outbound probes.
func TestEnginesAgreeBlacklist(t *testing.T) {
	runs := sized(t, 10, 100, 200)
	c := clustered(t, 2000, 0.3, 600*time.Second)
	c.Initial = []int32{0, 500, 1000, 1500}
	c.Containment = &Containment{
		NetworkBits: 8, Deployed: networksWith(8, 0.5, 1), Egress: networksWith(8, 0.2, 2),
		Blacklist: true, BlacklistDelay: 120,
	}
	compareEngines(t, c, runs, 40, inDeployed(c))
}

// TestEnginesAgreeContentFilter: content filtering 300 s after the first
// infection, on the networks behind a quarter of the "providers" (the
// top 4 bits: a backbone deployment), with permutation scanning after a
// hit-list of 50, so that walkers and hit-list probes meet the filters.
func TestEnginesAgreeContentFilter(t *testing.T) {
	runs := sized(t, 10, 100, 200)
	c := scaled(t, 16, 1000, 1, 400*time.Second, 10*time.Second, nil)
	c.Initial = []int32{0}
	c.Strategy = worm.HitList{List: listHosts(c, 50, 17), Then: worm.Permutation{Key: 9}}
	providers := networksWith(4, 0.25, 3)
	deployed := make([]bool, 1<<8)
	for n := range deployed {
		deployed[n] = providers[n>>4]
	}
	c.Containment = &Containment{NetworkBits: 8, Deployed: deployed, Content: true, ContentDelay: 300, ContentAfterFirst: true}
	compareEngines(t, c, runs, 40, inDeployed(c))
}

// TestEnginesAgreeUniversalBlacklist: the paper's idealised deployment
// (every probe of a blacklisted host dropped) with uniform scanning and
// half the hosts throttled to a tenth of the rate: a copy sends about
// 0.55 * 600 probes before its blacklisting, each finding a host with
// probability 2,000/2^18, so each infects about 2.5 others on average:
// the outbreak dies out in some runs and grows to a fraction in others.
func TestEnginesAgreeUniversalBlacklist(t *testing.T) {
	runs := sized(t, 10, 100, 200)
	c := scaled(t, 18, 2000, 1, 1500*time.Second, 10*time.Second, worm.Uniform{})
	c.Initial = []int32{0, 1}
	for i := range c.Rates {
		if i%2 == 1 {
			c.Rates[i] = 0.1
		}
	}
	c.Containment = &Containment{NetworkBits: 8, Blacklist: true, BlacklistDelay: 600}
	compareEngines(t, c, runs, 100)
}

// inDeployed counts the infections of hosts in networks with a filter.
func inDeployed(c *Config) statistic {
	return statistic{"infections in filtered networks", func(c *Config, r *Result) float64 {
		k := c.Containment
		n := 0
		for _, inf := range r.Infections {
			if k.Deployed[k.network(uint32(c.Hosts[inf.Host]), c.SpaceBits)] {
				n++
			}
		}
		return float64(n)
	}}
}

// TestContainmentRules checks what each filter lets through, in both
// engines, by consequences that hold in every run: with content filtering
// from the start, no host in a network with a filter is ever infected
// unless an initial host sits in its network; with egress filtering on
// every network, infections stay in the initial hosts' networks; with
// filters everywhere from the start, nothing spreads at all.
func TestContainmentRules(t *testing.T) {
	k := &Containment{NetworkBits: 4}
	k.Deployed = make([]bool, 16)
	k.Deployed[3] = true
	for _, tc := range []struct {
		net      int32
		blocked  bool
		egress   bool
		want     sourceClass
		reach3   bool // reaches network 3 (filtered)
		reach5   bool // reaches network 5 (open)
		reachOwn bool
	}{
		{net: 5, want: classFree, reach3: true, reach5: true, reachOwn: true},
		{net: 5, blocked: true, want: classOpen, reach3: false, reach5: true, reachOwn: true},
		{net: 3, blocked: true, want: classConfined, reach3: true, reach5: false, reachOwn: true},
		{net: 5, egress: true, want: classConfined, reach3: false, reach5: true, reachOwn: true},
		{net: 6, egress: true, want: classConfined, reach3: false, reach5: false, reachOwn: true},
	} {
		k.Egress = nil
		if tc.egress {
			k.Egress = make([]bool, 16)
			k.Egress[tc.net] = true
		}
		cl := k.class(tc.net, tc.blocked)
		if cl != tc.want || k.reaches(cl, tc.net, 3) != tc.reach3 || k.reaches(cl, tc.net, 5) != tc.reach5 || k.reaches(cl, tc.net, tc.net) != tc.reachOwn {
			t.Errorf("%+v: class %v, reaches 3/5/own %v %v %v", tc, cl, k.reaches(cl, tc.net, 3), k.reaches(cl, tc.net, 5), k.reaches(cl, tc.net, tc.net))
		}
	}
	if everywhere := (&Containment{NetworkBits: 4}); everywhere.class(5, true) != classSilenced || everywhere.reaches(classSilenced, 5, 5) {
		t.Error("filters everywhere must silence a blocked source, within its network too")
	}

	c := scaled(t, 16, 2000, 2, 1500*time.Second, 10*time.Second, worm.Uniform{})
	netOf := func(h int32) int32 { return int32(c.Hosts[h] >> 12) }
	c.Initial = []int32{0, 1, 2}
	seeded := map[int32]bool{}
	for _, h := range c.Initial {
		seeded[netOf(h)] = true
	}
	deployed := make([]bool, 16)
	for n := range deployed {
		deployed[n] = n%2 == 0 && !seeded[int32(n)]
	}
	cases := []struct {
		name string
		k    Containment
		ok   func(h int32) bool // may host h be infected?
	}{
		{"content filter on filtered networks", Containment{NetworkBits: 4, Deployed: deployed, Content: true}, func(h int32) bool { return !deployed[netOf(h)] }},
		{"egress everywhere", Containment{NetworkBits: 4, Egress: networksWith(4, 1, 0)}, func(h int32) bool { return seeded[netOf(h)] }},
		{"content filter everywhere", Containment{NetworkBits: 4, Content: true}, func(int32) bool { return false }},
		// From the first infection on, with no delay: that infection is
		// the only one.
		{"content filter at the first infection", Containment{NetworkBits: 4, Content: true, ContentAfterFirst: true}, nil},
	}
	for _, tc := range cases {
		c.Containment = &tc.k
		for _, run := range []func(*Config, uint64) (*Result, error){RunEvent, RunProbe} {
			r, err := run(c, 5)
			if err != nil {
				t.Fatal(err)
			}
			if tc.ok == nil {
				if len(r.Infections) != 1 {
					t.Errorf("%s, %s engine: %d infections, want exactly the first", tc.name, r.Engine, len(r.Infections))
				}
				continue
			}
			for _, inf := range r.Infections {
				if !tc.ok(inf.Host) {
					t.Fatalf("%s, %s engine: host %v in network %d infected", tc.name, r.Engine, c.Hosts[inf.Host], netOf(inf.Host))
				}
			}
			if tc.name != "content filter everywhere" && len(r.Infections) < 50 {
				t.Errorf("%s, %s engine: only %d infections: the rule is not exercised", tc.name, r.Engine, len(r.Infections))
			}
		}
	}
}
