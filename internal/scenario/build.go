package scenario

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/observe"
	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/worm"
)

// streamLayout is the random stream that lays out the population, apart
// from the engines' streams so that both engines see the same hosts for
// the same seed.
const streamLayout = 0x6c61796f7574 // "layout"

// streamDefence draws where filters sit and which hosts are throttled,
// apart from the layout so that adding a defence leaves the hosts as
// they were.
const streamDefence = 0x646566656e6365 // "defence"

// streamDiurnal draws the hosts' time zones and which hosts are switched
// off at night, apart from the layout for the same reason.
const streamDiurnal = 0x646975726e616c // "diurnal"

// Build returns the simulation input for one run with the given seed: the
// hosts, their scan rates and the initially infected ones are drawn from
// the seed, so each run of an ensemble has its own layout.
func (s *Scenario) Build(seed uint64) (*sim.Config, error) {
	rng := rand.New(rand.NewPCG(seed, streamLayout))
	p, w := s.Population, s.Worm
	nat := int(math.Round(p.NATShare * float64(p.Size)))
	hosts, err := s.placePublic(p.Size-nat, rng)
	if err != nil {
		return nil, err
	}
	c := &sim.Config{
		Start:     s.Run.Start.UTC(),
		Duration:  s.Run.End.Sub(s.Run.Start),
		Step:      s.Run.Step.Duration,
		SpaceBits: s.Space.Bits,
		Hosts:     hosts,
		Calendar:  worm.Always{},
	}
	if nat > 0 {
		natHosts, sites := placeNAT(nat, p.NATSiteSize, rng)
		c.Site = make([]int32, len(hosts), p.Size)
		c.Hosts = append(c.Hosts, natHosts...)
		c.Site = append(c.Site, sites...)
	}
	n := len(c.Hosts)
	c.Rates = make([]float64, n)
	if w.ScanRateCV == 0 {
		for i := range c.Rates {
			c.Rates[i] = w.ScanRate
		}
	} else {
		// Gamma with shape 1/cv^2 has the given mean and coefficient of
		// variation; Beta is gonum's rate parameter.
		shape := 1 / (w.ScanRateCV * w.ScanRateCV)
		g := distuv.Gamma{Alpha: shape, Beta: shape / w.ScanRate, Src: rng}
		for i := range c.Rates {
			c.Rates[i] = g.Rand()
		}
	}
	if w.Lifetime.Duration > 0 || (w.Variant != nil && w.Variant.Lifetime.Duration > 0) {
		c.Lifetime = make([]float64, n)
		for i := range c.Lifetime {
			c.Lifetime[i] = w.Lifetime.Seconds()
		}
	}
	if v := w.Variant; v != nil {
		// Each host is of the variant with probability Share, independently.
		for i := range n {
			if rng.Float64() < v.Share {
				c.Rates[i] *= v.RateFactor
				if c.Lifetime != nil {
					c.Lifetime[i] = v.Lifetime.Seconds()
				}
			}
		}
	}
	s.applyDefence(c, rng)
	c.AfterLifetime = sim.Removed
	if w.AfterLifetime == "susceptible" {
		c.AfterLifetime = sim.Susceptible
	}
	if c.Strategy, err = s.strategy(); err != nil {
		return nil, fmt.Errorf("%s: worm: %w", s.File, err)
	}
	switch w.Calendar {
	case "codered1":
		c.Calendar = worm.CodeRedI{}
	case "codered2":
		c.Calendar = worm.Until{Stop: worm.CodeRedIIStop}
	case "monthly":
		c.Calendar = worm.Monthly{SpreadUntil: w.SpreadUntil, FloodUntil: w.FloodUntil}
	}
	// The hosts that start infected, patched or removed, all distinct.
	p0 := s.Population
	start := pickDistinct(rng, n, w.InitialInfected+p0.InitialPatched+p0.InitialRemoved)
	c.Initial = start[:w.InitialInfected]
	c.InitialPatched = start[w.InitialInfected : w.InitialInfected+p0.InitialPatched]
	c.InitialRemoved = start[w.InitialInfected+p0.InitialPatched:]
	if err := s.attachObservers(c, seed); err != nil {
		return nil, err
	}
	c.ScanCapacity = s.Network.ScanCapacity
	s.applyContainment(c, seed)
	s.applyDiurnal(c, seed)
	// The permutation all copies share: the scenario's, or one per run
	// (drawn only when needed, so that other strategies' layouts stay as
	// they were).
	var permKey uint64
	if w.Strategy == "permutation" || w.AfterHitList == "permutation" {
		permKey = rng.Uint64()
		if w.PermutationKey != nil {
			permKey = *w.PermutationKey
		}
	}
	if w.Strategy == "permutation" {
		c.Strategy = worm.Permutation{Key: permKey}
	}
	if w.Strategy == "hit-list" {
		// K hosts other than the initial ones, in random order.
		initial := make(map[int32]bool, len(c.Initial))
		for _, h := range c.Initial {
			initial[h] = true
		}
		var list []ipspace.Addr
		for _, h := range pickDistinct(rng, n, w.HitListSize+len(c.Initial)) {
			if !initial[h] && len(c.HitList) < w.HitListSize {
				c.HitList = append(c.HitList, h)
				list = append(list, c.Hosts[h])
			}
		}
		var then worm.Strategy
		switch w.AfterHitList {
		case "permutation":
			then = worm.Permutation{Key: permKey}
		case "witty":
			then = worm.Witty{Reseed: w.WittyReseed}
		}
		c.Strategy = worm.HitList{List: list, Then: then}
	}
	return c, nil
}

// applyDefence sets the life cycle, clocks, wake-up delays and uplink caps.
func (s *Scenario) applyDefence(c *sim.Config, rng *rand.Rand) {
	const day = 86400.0
	d, w := s.Defence, s.Worm
	c.Life = sim.Life{
		PatchRate:     d.PatchPerDay / day,
		PatchAware:    d.PatchAwarePerDay / day,
		CleanupRate:   d.CleanupPerDay / day,
		RebootRate:    d.RebootPerDay / day,
		CongestionEta: d.CongestionEta,
	}
	for _, st := range d.Schedule {
		c.Life.PatchSchedule = append(c.Life.PatchSchedule, sim.RateStep{From: st.From.UTC(), PerSecond: st.PatchesPerDay / d.Servers / day})
	}
	c.WakeDelayMax = w.WakeDelayMax.Seconds()
	c.InitialAsleep = w.InitialAsleep
	c.FloodRate = w.FloodRate
	n := len(c.Hosts)
	if k := w.Clock; k != nil && k.Share > 0 {
		c.ClockOffset = make([]float64, n)
		for i := range n {
			if rng.Float64() < k.Share {
				c.ClockOffset[i] = k.Offset.Seconds()
			}
		}
	}
	if len(w.Uplinks) > 0 {
		// Each host's uplink class is drawn by share; its scan rate is
		// capped at the uplink's bits a second over a probe's bits.
		for i := range n {
			u, k := rng.Float64(), 0
			for k < len(w.Uplinks)-1 && u >= w.Uplinks[k].Share {
				u -= w.Uplinks[k].Share
				k++
			}
			limit := w.Uplinks[k].Mbps * 1e6 / float64(8*w.ProbeBytes)
			c.Rates[i] = min(c.Rates[i], limit)
		}
	}
}

// attachObservers adds the scenario's census, flood and telescope
// observers.
func (s *Scenario) attachObservers(c *sim.Config, seed uint64) error {
	if s.Worm.FloodRate > 0 {
		c.Observers = append(c.Observers, observe.NewFlood(c, s.Worm.FloodTarget))
	}
	if cen := s.Census; cen != nil && len(cen.At) > 0 {
		c.Observers = append(c.Observers, observe.NewCensus(c, cen.At, cen.Sample, cen.Servers, seed))
	}
	if tel := s.Telescope; tel != nil {
		if _, err := AttachTelescope(c, tel.Block, seed); err != nil {
			return s.errAt("telescope.block", "%v", err)
		}
	}
	return nil
}

// AttachTelescope adds a telescope on block ("auto": the first empty /8 of
// the space) to c and returns it.
func AttachTelescope(c *sim.Config, block string, seed uint64) (*observe.Telescope, error) {
	var p ipspace.Prefix
	var err error
	if block == "auto" || block == "" {
		p, err = observe.DarkBlock(c)
	} else {
		p, err = ipspace.ParsePrefix(block)
	}
	if err != nil {
		return nil, err
	}
	t, err := observe.NewTelescope(c, p, seed)
	if err != nil {
		return nil, err
	}
	c.Observers = append(c.Observers, t)
	return t, nil
}

// applyDiurnal draws each host's time zone by the zones' shares and
// whether it is switched off at night; the initial copies' hosts stay on.
func (s *Scenario) applyDiurnal(c *sim.Config, seed uint64) {
	d := s.Population.Diurnal
	if d == nil {
		return
	}
	rng := rand.New(rand.NewPCG(seed, streamDiurnal))
	n := len(c.Hosts)
	k := &sim.Diurnal{Zone: make([]float64, n), Cycles: make([]bool, n), On: d.On.Seconds(), Off: d.Off.Seconds(), AfterOff: sim.Susceptible}
	if d.AfterOff == "removed" {
		k.AfterOff = sim.Removed
	}
	for i := range n {
		u, z := rng.Float64(), 0
		for z < len(d.Zones)-1 && u >= d.Zones[z].Share {
			u -= d.Zones[z].Share
			z++
		}
		k.Zone[i] = d.Zones[z].UTCOffset.Seconds()
		k.Cycles[i] = rng.Float64() < d.Share
	}
	for _, h := range c.Initial {
		k.Cycles[h] = false
	}
	c.Diurnal = k
}

// placePublic lays out n public hosts by the population's layout.
func (s *Scenario) placePublic(n int, rng *rand.Rand) ([]ipspace.Addr, error) {
	p := s.Population
	var hosts []ipspace.Addr
	var err error
	switch p.Layout {
	case "allocated", "clustered":
		var blocks []ipspace.Prefix
		if blocks, err = ipspace.AllocatedBy(p.AllocatedBy); err != nil {
			return nil, err
		}
		if p.Layout == "clustered" {
			hosts, err = ipspace.Clustered(n, blocks, p.Slash8Zipf, p.Slash16Zipf, p.Slash16Occupied, rng)
		} else {
			hosts, err = ipspace.Place(n, blocks, nil, ipspace.PublicHost, rng)
		}
	case "file":
		var lines []ipspace.LayoutLine
		if lines, err = s.layoutFile(); err != nil {
			return nil, err
		}
		total := 0
		for _, l := range lines {
			total += l.Hosts
		}
		if total != n {
			return nil, s.errAt("population.size", "%d public hosts, but %s lays out %d", n, p.File, total)
		}
		hosts, err = ipspace.FromLayout(lines, rng)
	default:
		// A 2^bits space is the offsets 0 .. 2^bits-1, the IPv4 block
		// 0.0.0.0/(32-bits).
		hosts, err = ipspace.PlaceUniform(n, []ipspace.Prefix{ipspace.PrefixFrom(0, 32-s.Space.Bits)}, rng)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: population: %w", s.File, err)
	}
	return hosts, nil
}

// layoutFile reads the population's layout file, relative to the scenario.
func (s *Scenario) layoutFile() ([]ipspace.LayoutLine, error) {
	path := s.Population.File
	if !filepath.IsAbs(path) && !strings.HasPrefix(s.File, "builtin:") {
		path = filepath.Join(filepath.Dir(s.File), path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, s.errAt("population.file", "%v", err)
	}
	defer f.Close()
	return ipspace.ReadLayout(f, path)
}

// placeNAT lays out n NATed hosts in sites of siteSize hosts on average:
// each host joins one of ceil(n/siteSize) sites at random; each site
// numbers its hosts in one /24 of 10/8 or of 192.168/16 (half the sites
// each), or in a /16 when it has more than 254 hosts. The result is
// sorted by site, then address, as sim.Config asks.
func placeNAT(n int, siteSize float64, rng *rand.Rand) ([]ipspace.Addr, []int32) {
	nSites := int(math.Ceil(float64(n) / siteSize))
	count := make([]int, nSites)
	for range n {
		count[rng.IntN(nSites)]++
	}
	var hosts []ipspace.Addr
	var sites []int32
	for k, m := range count {
		if m == 0 {
			continue
		}
		var block ipspace.Prefix
		if rng.IntN(2) == 0 {
			block = ipspace.PrefixFrom(ipspace.Addr(10<<24|rng.Uint32N(1<<16)<<8), 24)
		} else {
			block = ipspace.PrefixFrom(ipspace.Addr(192<<24|168<<16|rng.Uint32N(256)<<8), 24)
		}
		if m > 127 {
			block = ipspace.PrefixFrom(block.Addr(), 16)
		}
		addrs, _ := ipspace.Place(m, []ipspace.Prefix{block}, nil, ipspace.HostAddress, rng)
		for _, a := range addrs {
			hosts = append(hosts, a)
			sites = append(sites, int32(k+1))
		}
	}
	return hosts, sites
}

// strategy returns the worm's target strategy.
func (s *Scenario) strategy() (worm.Strategy, error) {
	w := s.Worm
	switch w.Strategy {
	case "static-seed":
		return worm.StaticSeed{Seed: w.StaticSeed}, nil
	case "sequential":
		return worm.Sequential{LocalShare: w.LocalShare}, nil
	case "hit-list":
		return worm.HitList{}, nil // the list is drawn in Build
	case "local-preference":
		l := worm.LocalPreference{Mix: worm.CodeRedIIMix, Skip: worm.AddressFilter{SkipZero255: w.SkipZero255}}
		if len(w.Mix) > 0 {
			l.Mix = nil
			for _, m := range w.Mix {
				l.Mix = append(l.Mix, worm.Channel{Share: m.Share, PrefixBits: m.Prefix})
			}
		}
		for _, e := range w.Exclude {
			p, err := ipspace.ParsePrefix(e)
			if err != nil {
				return nil, fmt.Errorf("exclude: %w", err)
			}
			l.Skip.Exclude = append(l.Skip.Exclude, p)
		}
		if err := l.Check(s.Space.Bits); err != nil {
			return nil, err
		}
		return l, nil
	}
	return worm.Uniform{}, nil
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

// applyContainment sets the containment defences and throttles. Filtering
// customer networks, egress-filtering networks and throttled hosts are
// each drawn independently with their share's probability, from the run's
// seed; a backbone deployment filters at the borders of the providers
// with the most vulnerable hosts, a share of the providers that hold any,
// and the networks are then the providers.
func (s *Scenario) applyContainment(c *sim.Config, seed uint64) {
	d := s.Defence
	rng := rand.New(rand.NewPCG(seed, streamDefence))
	if t := d.Throttle; t != nil {
		for i := range c.Rates {
			if rng.Float64() < t.Share {
				c.Rates[i] = min(c.Rates[i], t.PerSecond)
			}
		}
	}
	if !s.contained() {
		return
	}
	bits := s.Network.CustomerBits
	if dep := d.Deployment; dep != nil && dep.Where == "backbone" {
		bits = s.Network.ProviderBits
	}
	k := &sim.Containment{NetworkBits: bits}
	draw := func(n int, p float64) []bool {
		out := make([]bool, n)
		for i := range out {
			out[i] = rng.Float64() < p
		}
		return out
	}
	if dep := d.Deployment; dep != nil && dep.Where == "customer" {
		k.Deployed = draw(1<<bits, dep.Share)
	}
	if dep := d.Deployment; dep != nil && dep.Where == "backbone" {
		// The providers with the most vulnerable hosts filter first, as
		// the paper deploys at the ASes of highest degree; ties go to the
		// lower block.
		hosts := make([]int, 1<<bits)
		for _, a := range c.Hosts {
			hosts[uint32(a)>>uint(s.Space.Bits-bits)]++
		}
		var order []int // the providers that hold vulnerable hosts
		for p, n := range hosts {
			if n > 0 {
				order = append(order, p)
			}
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(hosts[b], hosts[a]) })
		k.Deployed = make([]bool, len(hosts))
		for _, p := range order[:int(math.Round(dep.Share*float64(len(order))))] {
			k.Deployed[p] = true
		}
	}
	if e := d.Egress; e != nil {
		k.Egress = draw(1<<bits, e.Share)
	}
	if b := d.Blacklist; b != nil {
		k.Blacklist, k.BlacklistDelay = true, b.Reaction.Seconds()
	}
	if f := d.ContentFilter; f != nil {
		k.Content, k.ContentDelay, k.ContentAfterFirst = true, f.Reaction.Seconds(), f.After == "first-infection"
	}
	c.Containment = k
}
