package reproduce

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/sim"
)

// The containment experiment asks of wormlab what Moore, Shannon, Voelker
// and Savage asked of their simulator ("Internet Quarantine: Requirements
// for Containing Self-Propagating Code", IEEE INFOCOM 2003): how soon must
// a defence react to keep a Code-Red-like worm under 1% of the vulnerable
// hosts in 95% of 100 runs, by address blacklisting and by content
// filtering; how that time shrinks as the worm probes faster; and what
// deploying the filters in customer networks or in the backbone does.
//
// Each of these is itself an estimate over 100 runs (the paper's count),
// so each of the experiment's runs makes them all, from seeds its own run
// picks (innerSeeds), and the experiment's 5-95% range is the spread of
// the estimate between such 100-run studies. The experiment's own
// scenario (scenarios/moore-2003-quarantine.toml) is the paper's worm with
// content filtering everywhere after 2 hours, which its chart shows.

// quarantine is the paper; its body gives the figures below in the
// sections named.
var quarantine = Source{Authors: "Moore, Shannon, Voelker, Savage", Venue: "IEEE INFOCOM", Year: 2003}

const (
	quarantineScenario = "moore-2003-quarantine"
	// The paper's measure of success: quarantineRuns is the runs behind
	// each estimate, as in the paper.
	quarantineRuns = 100
	// deploymentRuns is the runs behind each deployment figure: a median
	// of the infected share, which varies little between runs (by 24
	// hours the worm holds every network without a filter, and which
	// networks filter is drawn per /16, tens of thousands of draws), so
	// 10 runs pin it well inside the figures' tolerances.
	deploymentRuns = 10
	// containedShare: a run is contained when fewer than this share of
	// the vulnerable hosts were ever infected.
	containedShare = 0.01
	// containedRuns: the share of runs that must be contained.
	containedRuns = 0.95
)

// The reaction times the blacklisting search brackets. A copy finds a new
// host every 1/beta = 20 minutes at 10 probes a second; at 15 minutes
// each copy infects 0.75 others on average and chains die out long before
// 1% of the hosts, at 30 minutes 1.5 and more than half the runs escape:
// the answer lies between.
const (
	blacklistLo   = 15 * time.Minute
	blacklistHi   = 30 * time.Minute
	blacklistStep = 30 * time.Second
)

var moore2003Quarantine = &Experiment{
	Name:     "moore-2003-quarantine",
	Title:    "Containing a Code-Red-like worm: reaction time, probe rate, deployment (Moore, Shannon, Voelker, Savage, INFOCOM 2003)",
	Scenario: quarantineScenario, Engine: "event", Runs: 3, Small: 1,
	Figures: []Figure{
		{
			ID: "blacklist-reaction", What: "reaction time address blacklisting needs: under 1% infected in 95% of 100 runs (10 probes/s, filters everywhere)", Unit: "minutes",
			Published: 20, Text: "about 20 minutes", Kind: About,
			Source:  at(quarantine, "section IV, idealized deployment: address blacklisting"),
			Measure: blacklistMinutes,
		},
		{
			ID: "content-reaction", What: "reaction time content filtering needs: under 1% infected in 95% of 100 runs (10 probes/s, filters everywhere)", Unit: "hours",
			Published: 2, Text: "about 2 hours", Kind: About,
			Source:  at(quarantine, "section IV, idealized deployment: content filtering"),
			Measure: contentHours,
		},
		{
			ID: "probe-rate", What: "how much sooner content filtering must react when the worm probes 100 times a second instead of 10 (the ratio of the two reaction times)", Unit: "times",
			Published: 10, Text: "the reaction time needed falls in proportion to the probe rate", Kind: Point,
			Source: at(quarantine, "section IV, the reaction time needed against the probe rate"),
			Measure: func(o *Outcome) float64 {
				return contentHours(o) / contentFastHours(o)
			},
		},
		{
			ID: "customer-deployment", What: "infected share after 24 hours, median of 10 runs, with content filtering after 2 hours in half the customer networks (/16s)", Unit: "share",
			Published: containedShare, Text: "customer-network deployment does not contain the worm: well over 1% infected",
			Kind: Range, Lo: containedShare, Hi: 1,
			Source:  at(quarantine, "section V, deployment in customer networks"),
			Measure: customerShare,
		},
		{
			ID: "backbone-deployment", What: "infected share after 24 hours with half the customer networks filtering over that with the fifth of the providers (/8s) with the most hosts filtering (content filtering after 2 hours)", Unit: "times",
			Published: 2, Text: "deploying in the largest ASes, which carry most paths, does far better than in many customer networks",
			Kind: Range, Lo: 2, Hi: math.Inf(1),
			Source: at(quarantine, "section V, deployment in the top ASes"),
			Measure: func(o *Outcome) float64 {
				return customerShare(o) / deployedShare(o, backboneTable)
			},
			Omits: "routes are not modelled: a probe crosses a filter only at the borders of its two ends' providers, " +
				"never at a transit AS in the middle of its path, and a provider is a whole /8; the paper's top ASes sit on " +
				"most paths between other networks, which is why its backbone deployment does so much better (docs/DESIGN.md §8)",
		},
	},
}

// innerSeeds returns the seeds of the 100-run studies one run of the
// experiment makes: drawn from what its own seed built (the addresses of
// its hosts and its first copy), so that a run's studies repeat with its
// seed and differ from every other run's.
func innerSeeds(c *sim.Config, n int) []uint64 {
	h := fnv.New64a()
	for _, a := range c.Hosts[:min(len(c.Hosts), 16)] {
		fmt.Fprint(h, uint32(a), ",")
	}
	for _, i := range c.Initial {
		fmt.Fprint(h, i, ";")
	}
	base := h.Sum64() &^ 0xffff
	out := make([]uint64, n)
	for i := range out {
		out[i] = base | uint64(i)
	}
	return out
}

// countInfected is an observer that counts the hosts ever infected (the
// initial ones included) and stops the run when want have been, keeping
// the time of that infection.
type countInfected struct {
	n, want int
	at      float64 // seconds since the start when n reached want
	stop    chan struct{}
}

func newCountInfected(want int) *countInfected {
	return &countInfected{want: want, at: math.Inf(1), stop: make(chan struct{})}
}

func (k *countInfected) Changed(t float64, _ int32, from, to sim.State) {
	if to != sim.Infected || from == sim.Infected {
		return
	}
	k.n++
	if k.n == k.want {
		k.at = t
		close(k.stop)
	}
}

func (k *countInfected) Spreading(float64, int32, bool) {}
func (k *countInfected) Advance(sim.Stretch)            {}

// threshold is the hosts whose infection makes a run uncontained.
func threshold(c *sim.Config) int {
	return int(math.Ceil(containedShare * float64(len(c.Hosts))))
}

// universal runs the outcome's configuration again from seed with the
// filters of k everywhere and every copy probing rate times as fast,
// until the run ends or the threshold falls. It returns the counter. The
// hosts' places are the outcome's: with uniform scanning and filters
// everywhere, where the hosts sit changes nothing.
func universal(o *Outcome, k *sim.Containment, factor float64, seed uint64) (*countInfected, error) {
	c := *o.Config
	c.Containment = k
	c.Rates = make([]float64, len(o.Config.Rates))
	for i, r := range o.Config.Rates {
		c.Rates[i] = r * factor
	}
	count := newCountInfected(threshold(&c))
	c.Observers = []sim.Observer{count}
	c.Stop = count.stop
	if _, err := sim.RunEvent(&c, seed); err != nil && !errors.Is(err, sim.ErrStopped) {
		return nil, err
	}
	return count, nil
}

// contentReaction returns the longest reaction time of content filtering
// everywhere that keeps 95% of 100 runs under the threshold, the worm
// probing factor times as fast as the scenario's. Filters that block every
// probe from the reaction time R on leave a run as it was until R, so a
// run is contained exactly when its threshold falls after R: the answer is
// the 5% quantile of the times at which the unfiltered runs reach it. It
// returns -1 if a run fails.
func contentReaction(o *Outcome, factor float64) time.Duration {
	at := make([]float64, 0, quarantineRuns)
	for _, seed := range innerSeeds(o.Config, quarantineRuns) {
		count, err := universal(o, nil, factor, seed)
		if err != nil {
			return -1
		}
		at = append(at, count.at)
	}
	slices.Sort(at)
	return seconds(ensemble.NearestRank(at, int(math.Round(100*(1-containedRuns)))))
}

// blacklistReaction returns the longest reaction time of address
// blacklisting everywhere, to blacklistStep, that keeps 95% of 100 runs
// under the threshold, by bisection between blacklistLo and blacklistHi
// over the same 100 seeds at every step (the share contained falls as the
// reaction time grows). An answer at either end means it lies beyond; -1
// means a run failed.
func blacklistReaction(o *Outcome) time.Duration {
	seeds := innerSeeds(o.Config, quarantineRuns)
	contained := func(r time.Duration) (bool, error) {
		k := &sim.Containment{NetworkBits: 16, Blacklist: true, BlacklistDelay: r.Seconds()}
		ok := 0
		for _, seed := range seeds {
			count, err := universal(o, k, 1, seed)
			if err != nil {
				return false, err
			}
			if count.n < count.want {
				ok++
			}
		}
		return float64(ok) >= containedRuns*float64(len(seeds)), nil
	}
	lo, hi := blacklistLo, blacklistHi
	for hi-lo > blacklistStep {
		mid := lo + (hi-lo)/2
		mid -= mid % blacklistStep
		if mid == lo {
			mid += blacklistStep
		}
		ok, err := contained(mid)
		if err != nil {
			return -1
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// in returns d in units of unit; NaN for the -1 of a run that failed.
func in(d, unit time.Duration) float64 {
	if d < 0 {
		return math.NaN()
	}
	return float64(d) / float64(unit)
}

func seconds(s float64) time.Duration {
	if math.IsInf(s, 1) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s * float64(time.Second))
}

// The estimates, each made once per run of the experiment: two figures
// share some, and the tests check them against theory on the run the
// experiment makes first.
func blacklistMinutes(o *Outcome) float64 {
	return remember(o, "blacklist", func() float64 { return in(blacklistReaction(o), time.Minute) })
}

func contentHours(o *Outcome) float64 {
	return remember(o, "content", func() float64 { return in(contentReaction(o, 1), time.Hour) })
}

// contentFastHours is contentHours for the worm probing 10 times as fast.
func contentFastHours(o *Outcome) float64 {
	return remember(o, "content x10", func() float64 { return in(contentReaction(o, 10), time.Hour) })
}

func customerShare(o *Outcome) float64 {
	return remember(o, "customer", func() float64 { return deployedShare(o, customerTable) })
}

// remember returns what compute returns for o, computing it once. The
// figures of one run are measured one after another; a run is known by
// its inner seeds, so that nothing holds on to its configuration, and
// what is kept is a few numbers a run.
func remember(o *Outcome, what string, compute func() float64) float64 {
	key := memoKey{innerSeeds(o.Config, 1)[0], what}
	if v, ok := memo.Load(key); ok {
		return v.(float64)
	}
	v := compute()
	memo.Store(key, v)
	return v
}

type memoKey struct {
	run  uint64
	what string
}

var memo sync.Map // memoKey -> float64

// The partial deployments: half the customer networks (/16s), or the
// fifth of the providers (/8s) with the most vulnerable hosts.
const (
	customerTable = "[defence.deployment]\nwhere = \"customer\"\nshare = 0.5\n"
	backboneTable = "[defence.deployment]\nwhere = \"backbone\"\nshare = 0.2\n"
)

// deployedShare runs the experiment's scenario with the deployment table
// added, deploymentRuns times, and returns the median share of the hosts
// ever infected. Partial deployments depend on where the hosts sit, so
// each run lays its hosts out again from its seed.
func deployedShare(o *Outcome, table string) float64 {
	base, err := scenarioFS.ReadFile("scenarios/" + quarantineScenario + ".toml")
	if err != nil {
		return math.NaN()
	}
	src := strings.TrimRight(string(base), "\n") + "\n\n" + table
	sc, err := scenario.Parse([]byte(src), "reproduce:"+quarantineScenario)
	if err != nil {
		return math.NaN()
	}
	var shares []float64
	for _, seed := range innerSeeds(o.Config, deploymentRuns) {
		c, err := sc.Build(seed)
		if err != nil {
			return math.NaN()
		}
		r, err := sim.RunEvent(c, seed)
		if err != nil {
			return math.NaN()
		}
		shares = append(shares, float64(len(c.Initial)+len(r.Infections))/float64(len(c.Hosts)))
	}
	slices.Sort(shares)
	return ensemble.NearestRank(shares, 50)
}
