package observe

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/worm"
)

var t0 = time.Date(2001, 8, 4, 0, 0, 0, 0, time.UTC)

// neighbourhood returns a full-IPv4 run: 3,000 hosts in four /16s of 24/8
// and 1,000 in 61/8, scanning at 10 probes a second for two hours.
func neighbourhood(t *testing.T, strat worm.Strategy) *sim.Config {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var blocks []ipspace.Prefix
	for _, s := range []string{"24.1.0.0/16", "24.2.0.0/16", "24.3.0.0/16", "24.4.0.0/16"} {
		blocks = append(blocks, ipspace.MustParsePrefix(s))
	}
	a, err := ipspace.Place(3000, blocks, nil, ipspace.PublicHost, rng)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ipspace.Place(1000, []ipspace.Prefix{ipspace.MustParsePrefix("61.0.0.0/8")}, nil, ipspace.PublicHost, rng)
	hosts := append(a, b...)
	rates := make([]float64, len(hosts))
	for i := range rates {
		rates[i] = 10
	}
	return &sim.Config{
		Start: t0, Duration: 2 * time.Hour, Step: time.Minute, SpaceBits: 32,
		Hosts: hosts, Rates: rates, Initial: []int32{0, 1, 2},
		Strategy: strat, Calendar: worm.Always{},
	}
}

func load(t *testing.T, c *sim.Config, blocks ...string) [][]BlockRow {
	t.Helper()
	var obs []*BlockLoad
	c.Observers = nil
	for _, b := range blocks {
		o, err := NewBlockLoad(c, ipspace.MustParsePrefix(b), 1)
		if err != nil {
			t.Fatal(err)
		}
		obs = append(obs, o)
		c.Observers = append(c.Observers, o)
	}
	if _, err := sim.RunEvent(c, 5); err != nil {
		t.Fatal(err)
	}
	var out [][]BlockRow
	for _, o := range obs {
		out = append(out, o.Rows())
	}
	return out
}

// TestNeighboursTakeTheLoad is the seed article in numbers: under Code Red
// II a /16 that shares its /8 with the infected hosts (24.200/16, empty
// itself) takes orders of magnitude more probes than one far away
// (99.200/16); under Code Red v2's uniform scanning they take the same.
func TestNeighboursTakeTheLoad(t *testing.T) {
	near, far := "24.200.0.0/16", "99.200.0.0/16"
	crii := worm.LocalPreference{Mix: worm.CodeRedIIMix, Skip: worm.AddressFilter{Exclude: worm.CodeRedIIExclude}}
	rows := load(t, neighbourhood(t, crii), near, far)
	m := 60 // an hour in
	ratio := rows[0][m].ProbesPerSecond / rows[1][m].ProbesPerSecond
	// Per host in 24/8: 4/8 * 2^16/2^24 + 1/8 * 2^-16 of its probes reach
	// the near /16 against 1/8 * 2^-16 for the far one (the 61/8 hosts
	// reach both alike), a ratio near 1,000 (exactly, 1 + 256 * 3/4 of
	// the senders' share); at least 100 is "orders of magnitude".
	if ratio < 100 {
		t.Errorf("Code Red II: near/far load ratio %.1f, want over 100 (near %.3g/s, far %.3g/s)",
			ratio, rows[0][m].ProbesPerSecond, rows[1][m].ProbesPerSecond)
	}
	t.Logf("Code Red II an hour in: near %.3g probes/s from %.0f sources, far %.3g probes/s, ratio %.0f",
		rows[0][m].ProbesPerSecond, rows[0][m].Sources, rows[1][m].ProbesPerSecond, ratio)

	rows = load(t, neighbourhood(t, worm.Uniform{}), near, far)
	for _, m := range []int{10, 60, 120} {
		if a, b := rows[0][m].ProbesPerSecond, rows[1][m].ProbesPerSecond; a != b {
			t.Errorf("uniform worm, minute %d: near %v/s, far %v/s; want equal", m, a, b)
		}
	}
}

// TestBlockLoadExact: when every host is infected from the start (nothing
// left to infect) the load is constant and known: 4,000 hosts at 10
// probes a second, uniform over 2^32 - 1 other addresses, into a /16:
// 4e4 * 65536 / (2^32 - 1) = 0.6104 probes a second.
func TestBlockLoadExact(t *testing.T) {
	c := neighbourhood(t, worm.Uniform{})
	c.Initial = nil
	for i := range c.Hosts {
		c.Initial = append(c.Initial, int32(i))
	}
	rows := load(t, c, "99.200.0.0/16")[0]
	want := 4e4 * 65536 / (math.Exp2(32) - 1)
	var sampled float64
	for m, r := range rows[1:] {
		if math.Abs(r.ProbesPerSecond-want) > 1e-9*want {
			t.Fatalf("minute %d: %v probes/s, want %v", m+1, r.ProbesPerSecond, want)
		}
		if r.Senders != 4000 {
			t.Fatalf("minute %d: %d senders, want 4000", m+1, r.Senders)
		}
		sampled += float64(r.Probes)
	}
	// The sampled counts over 120 minutes: Poisson with mean 120*60*want =
	// 4,395, sd 66; 5 sd.
	if mean := 120 * 60 * want; math.Abs(sampled-mean) > 5*math.Sqrt(mean) {
		t.Errorf("sampled %v probes over two hours, want %v +- %v", sampled, mean, 5*math.Sqrt(mean))
	}
	// Expected distinct sources a minute: each host reaches the block at
	// 10 * 65536/(2^32-1) = 1.53e-4 a second, so is seen in a minute with
	// probability 1 - exp(-0.00916) = 0.00912: 36.5 of 4,000.
	if s := rows[60].Sources; math.Abs(s-4000*(1-math.Exp(-60*10*65536/(math.Exp2(32)-1)))) > 1e-6 {
		t.Errorf("distinct sources %v", s)
	}
}

func TestBlockLoadOwnHosts(t *testing.T) {
	c := neighbourhood(t, worm.LocalPreference{Mix: worm.CodeRedIIMix})
	rows := load(t, c, "24.1.0.0/16")[0]
	first, last := rows[0], rows[len(rows)-1]
	if first.Susceptible+first.Infected < 500 {
		t.Fatalf("block holds %d hosts", first.Susceptible+first.Infected)
	}
	if last.Infected <= first.Infected {
		t.Errorf("the block's own hosts were not infected: %+v -> %+v", first, last)
	}
}

func TestBlockLoadRefusesPrivate(t *testing.T) {
	c := neighbourhood(t, worm.Uniform{})
	if _, err := NewBlockLoad(c, ipspace.MustParsePrefix("10.1.0.0/16"), 1); err == nil {
		t.Error("a private block was accepted")
	}
}
