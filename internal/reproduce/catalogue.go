package reproduce

import (
	"embed"
	"math"
	"time"

	"github.com/wormlab/wormlab/internal/model"
	"github.com/wormlab/wormlab/internal/sim"
	"github.com/wormlab/wormlab/internal/worm"
)

//go:embed scenarios/*.toml
var scenarioFS embed.FS

// The sources, as docs/DESIGN.md §7 lists them.
var (
	moore2002  = Source{Authors: "Moore, Shannon, Brown", Venue: "ACM SIGCOMM Internet Measurement Workshop (IMW)", Year: 2002}
	cert2001   = Source{Authors: "CERT/CC", Venue: "advisory CA-2001-23", Year: 2001}
	staniford  = Source{Authors: "Staniford, Paxson, Weaver", Venue: "USENIX Security", Year: 2002}
	zou2002    = Source{Authors: "Zou, Gong, Towsley", Venue: "ACM CCS", Year: 2002}
	moore2003  = Source{Authors: "Moore, Paxson, Savage, Shannon, Staniford, Weaver", Venue: "IEEE Security and Privacy", Year: 2003}
	shannon    = Source{Authors: "Shannon, Moore", Venue: "IEEE Security and Privacy", Year: 2004}
	kumar2005  = Source{Authors: "Kumar, Paxson, Weaver", Venue: "ACM Internet Measurement Conference (IMC)", Year: 2005}
	eichman    = Source{Authors: "Eichman (IDS on one /16)", Venue: "Bugtraq, 20 July", Year: 2001}
	whimper    = Source{Authors: "\"Code Red wakes up with a whimper\" (seed article, Central Command)", Venue: "IT World Canada", Year: 2001}
	akamai     = Source{Authors: "Freedman (Akamai's sampled hosts)", Venue: "NANOG, 1 August", Year: 2001}
	caidaPatch = Source{Authors: "CAIDA's follow-up survey of 31 July, in Crandall, Gerhart, Hogle's Code Red case study", Venue: "Embry-Riddle Aeronautical University", Year: 2002}
	certII     = Source{Authors: "Lindner, CERT/CC, in \"Protected server performance hit by Code Red II scans\" (seed article)", Venue: "IDG News", Year: 2001}
)

func at(s Source, where string) Source { s.Where = where; return s }

// everBy makes f the count of hosts infected so far, d into the run,
// placed at d on the chart.
func everBy(d time.Duration, f Figure) Figure {
	f.Measure, f.At = everAt(d), d
	return f
}

// crv2Day are Code Red v2's published figures for 19 July 2001, measured
// on any scenario that starts at 10:00 UTC that day.
func crv2Day(omits string) []Figure {
	return []Figure{
		everBy(14*time.Hour, Figure{
			ID: "infected-24h", What: "hosts infected by 00:00 UTC 20 July (14 h)", Unit: "hosts",
			Published: 359000, Text: "over 359,000 in under 14 hours", Kind: AtLeast,
			Source: at(moore2002, "abstract"), Omits: omits,
		}),
		everBy(9*time.Hour, Figure{
			ID: "infected-9h", What: "hosts infected 9 hours in (19:00 UTC)", Unit: "hosts",
			Published: 250000, Text: "over 250,000 in 9 hours", Kind: AtLeast,
			Source: at(cert2001, "overview"), Omits: omits,
		}),
		{
			ID: "peak-rate", What: "peak new infections a minute", Unit: "per minute",
			Published: 2000, Text: "peaked at over 2,000 hosts a minute", Kind: AtLeast,
			Source: at(moore2002, "abstract"), Measure: peakPerMinute, Omits: omits,
		},
	}
}

var catalogue = []*Experiment{
	{
		Name:     "moore-2002-codered-v2",
		Title:    "Code Red v2 on 19 July 2001 (Moore, Shannon, Brown, IMW 2002)",
		Scenario: "codered-v2-2001-07-19", Engine: "event", Runs: 20, Small: 3,
		Series: "ever",
		Figures: append(crv2Day(""), Figure{
			ID: "doubling", What: "doubling time of the early growth", Unit: "minutes",
			Published: 37, Text: "doubled in size about every 37 minutes", Kind: About,
			Source:  at(moore2003, "comparing Slammer with Code Red"),
			Measure: func(o *Outcome) float64 { return 60 * math.Ln2 / fittedK(o) },
			Omits: "the 37 minutes is Moore et al.'s reading of their own telescope's record, set beside Slammer's 8.5 s; " +
				"the model's inputs (360,000 hosts, 358 scans a minute) give the K = 1.8 an hour that Staniford et al. fitted " +
				"to another record (hourly probes at one /16), a doubling every 23 minutes. A 37-minute doubling (K = 1.12 an " +
				"hour) from one copy at 10:00 would leave about 23,000 infected at 19:00, not CERT's 250,000: the records " +
				"disagree, and the model keeps its inputs",
		}),
	},
	{
		Name:     "moore-2002-codered-v1",
		Title:    "Code Red I v1's slow spread from a static seed, 13-19 July 2001 (Moore, Shannon, Brown, IMW 2002)",
		Scenario: "codered-v1-2001-07-13", Engine: "probe", Runs: 2, Small: 1,
		Series: "ever",
		Figures: []Figure{everBy(6*24*time.Hour, Figure{
			ID: "sources-18-july", What: "distinct sources seen by 00:00 UTC 19 July", Unit: "hosts",
			Published: 13866, Text: "13,866 distinct sources had probed one /16 by the end of 18 July", Kind: About,
			Source: at(eichman, "daily table"),
			Omits: "every copy here walks one list from its start, so only the copy furthest along finds new hosts: " +
				"a few hundred in six days. The real v1 reached thousands (another /16 logged 8,247 sources on 18 July " +
				"alone), and one copy walking at 358 addresses a minute would find 3,000 new hosts a day only if 1 address " +
				"in 170 were vulnerable, some 25 million in IPv4. So its copies cannot all have walked one list from one " +
				"point (per-thread or per-boot starting points, which the sources do not give)",
		})},
	},
	{
		Name:     "staniford-2002-rcs",
		Title:    "Random constant spread fitted to Code Red v2 (Staniford, Paxson, Weaver, USENIX Security 2002)",
		Scenario: "codered-v2-2001-07-19", Engine: "event", Runs: 20, Small: 3,
		Model: func(hs []float64) ([]float64, error) {
			// The paper's fit with T placed where the runs' median half
			// time falls is circular; the model curve is drawn from the
			// scenario's own K and one initial copy instead.
			return logisticFromOne(1.8, model.CodeRedN, hs), nil
		},
		ModelName: "logistic, K = 1.8/h, from one copy",
		Figures: []Figure{{
			ID: "K", What: "logistic rate K fitted to the day", Unit: "per hour",
			Published: 1.8, Text: "K = 1.8 per hour", Kind: Point,
			Source: at(staniford, "section 2"), Measure: fittedK,
		}},
	},
	{
		Name:     "staniford-2002-fig6",
		Title:    "A 10-scan/s worm over 300,000 hosts, the simulator against the model (Staniford et al. 2002, figure 6)",
		Scenario: "staniford-2002-fig6", Engine: "event", Runs: 20, Small: 3,
		Figures: []Figure{
			{
				ID: "K", What: "logistic rate K fitted to the curve", Unit: "per hour",
				Published: 2.6, Text: "K = 2.6", Kind: Point,
				Source: at(staniford, "figure 6"), Measure: fittedK,
			},
			{
				ID: "T", What: "fitted half time T", Unit: "hours",
				Published: 5.52, Text: "T = 5.52", Kind: Point,
				Source: at(staniford, "figure 6"), Measure: fittedT,
				Omits: "T depends on how many copies start the run, which the paper does not state; one is assumed",
			},
		},
	},
	{
		Name:     "staniford-2002-fig7",
		Title:    "A 100-scan/s worm over 300,000 hosts (Staniford et al. 2002, figure 7)",
		Scenario: "staniford-2002-fig7", Engine: "event", Runs: 20, Small: 3,
		Figures: []Figure{{
			ID: "infection-time", What: "time to infect 99% of the vulnerable hosts", Unit: "hours",
			Published: 1, Text: "under an hour", Kind: AtMost,
			Source: at(staniford, "figure 7"), Measure: hours(timeToShare(0.99)),
		}},
	},
	{
		Name:     "staniford-2002-warhol",
		Title:    "The Warhol worm: a 10,000-host hit-list, permutation scanning, 100 scans/s (Staniford et al. 2002, figures 7-8)",
		Scenario: "staniford-2002-warhol", Engine: "event", Runs: 4, Small: 1,
		Figures: []Figure{{
			ID: "infection-time", What: "time to infect 99% of 300,000 vulnerable hosts", Unit: "minutes",
			Published: 15, Text: "roughly 15 minutes", Kind: About,
			Source: at(staniford, "figures 7 and 8"), Measure: minutes(timeToShare(0.99)),
		}},
	},
	{
		Name:     "zou-2002-two-factor",
		Title:    "The two-factor model against Code Red v2's day (Zou, Gong, Towsley, CCS 2002)",
		Scenario: "zou-2002-two-factor", Engine: "event", Runs: 20, Small: 3,
		Series: "ever",
		Model: func(hs []float64) ([]float64, error) {
			// The numerical example's rates at Code Red's pace, as the
			// scenario says: a unit of the example is 0.8/1.8 hours.
			const perUnit = 1.8 / 0.8
			p := model.TwoFactor{N: model.CodeRedN, Beta0: 5.9667 * 3600 / (1 << 32), Gamma: 0.05 * perUnit, Mu: 0.06 / model.CodeRedN * perUnit, Eta: 3, I0: 1}
			c, err := p.Solve(hs)
			return c.Ever, err
		},
		ModelName: "two-factor ODE, hosts infected so far",
		Figures: crv2Day("the two-factor constants are the paper's numerical example, not a fit to the day: with eta = 3 " +
			"congestion halves every scan rate once a fifth of the hosts are infected, and the day ends near 236,000. " +
			"Reading the example's rates per hour instead changes little (239,000); the day's counts would need constants " +
			"fitted to them"),
	},
	{
		Name:     "codered-2001-wave2",
		Title:    "Code Red's second wave, 1 August 2001, continuing the first (seed article; NANOG; CAIDA)",
		Scenario: "codered-v2-july-august-2001", Engine: "event", Runs: 10, Small: 2,
		Series:  "infected",
		Prepare: watchActive(302 * time.Hour),
		Figures: wave2Figures(302 * time.Hour),
	},
	{
		Name:     "codered-2001-wave2-alone",
		Title:    "Code Red's second wave from the state of 1 August 2001 (seed article; NANOG)",
		Scenario: "codered-v2-wave2-2001-08-01", Engine: "event", Runs: 10, Small: 2,
		Series:  "infected",
		Prepare: watchActive(0),
		Figures: wave2Figures(0),
	},
	{
		Name:     "codered-ii-2001",
		Title:    "Code Red II's first week from 4 August 2001 (CERT/CC in the seed article)",
		Scenario: "codered-ii-2001-08-04", Engine: "event", Runs: 10, Small: 2,
		Series: "ever",
		Figures: []Figure{everBy(7*24*time.Hour, Figure{
			ID: "first-week", What: "hosts infected in the first week", Unit: "hosts",
			Published: 150000, Text: "at least 150,000 infections confirmed since Saturday", Kind: AtLeast,
			Source: at(certII, "Lindner"),
			Omits: "the model infects nearly every public vulnerable host within about a day, day/night cycle and patching " +
				"included: copies in dense /16s find a neighbour every few seconds, and the 1/8 of probes sent anywhere reach " +
				"every /16 within hours. So the week's count is the pool: the census's 369,000 of 31 July less 3.5 days of " +
				"patching at the schedule's pace (1/6 of the hosts a day), about 193,000 public hosts. Patching as fast as " +
				"CAIDA's survey of IIS 5.0 servers saw (30% vulnerable to 12% in 48 hours) would leave 60,000 to 105,000 (as " +
				"that pace lasted four days or two), below CERT's count",
		})},
	},
	{
		Name:     "moore-2003-slammer",
		Title:    "Slammer, 25 January 2003 (Moore et al., \"Inside the Slammer Worm\", IEEE S&P 2003)",
		Scenario: "slammer-2003-01-25", Engine: "event", Runs: 50, Small: 20,
		Extra: `# Added by the experiment moore-2003-slammer:
[network]
# The links Slammer crossed filled up: the aggregate scan rate rose to
# its peak of about 55 million scans a second after about 3 minutes and
# stayed there (Moore et al. 2003). The capacity is that measured peak,
# an input: below it every host sends at its uplink's rate, so the early
# growth (the doubling time) is unchanged; above it every host's rate
# shrinks in proportion. What it tests is when the peak comes and how
# long the last hosts take.
scan_capacity = 55000000.0
`,
		Series: "scan-rate",
		Figures: []Figure{
			{
				ID: "doubling", What: "doubling time in the early growth", Unit: "s",
				Published: 8.5, Text: "doubled every 8.5 seconds", Kind: Point,
				Source: at(moore2003, "section \"How Slammer chooses its victims\""), Measure: doublingTime,
			},
			{
				ID: "90pct", What: "time to infect 90% of the vulnerable hosts", Unit: "minutes",
				Published: 10, Text: "over 90% within 10 minutes", Kind: AtMost,
				Source: at(moore2003, "abstract"), Measure: minutes(timeToShare(0.9)),
			},
			{
				ID: "peak-scan-rate", What: "peak aggregate scan rate", Unit: "scans/s",
				Published: 55e6, Text: "over 55 million scans a second", Kind: AtLeast,
				Source: at(moore2003, "abstract"), Measure: peakScanRate, Input: true,
			},
			{
				ID: "time-to-peak", What: "time until the scan rate levels off", Unit: "minutes",
				Published: 3, Text: "peak after about 3 minutes", Kind: About,
				Source: at(moore2003, "abstract"), Measure: minutes(timeToPeakScanRate),
			},
		},
	},
	{
		Name:     "shannon-2004-witty",
		Title:    "Witty, 20 March 2004 (Shannon and Moore, IEEE S&P 2004; Kumar, Paxson, Weaver, IMC 2005)",
		Scenario: "witty-2004-03-20", Engine: "event", Runs: 20, Small: 4,
		Series:  "ever",
		Prepare: wittyUnreachableImmune,
		Figures: []Figure{
			{
				ID: "saturation", What: "time until the infected population levels off (95% of its final size)", Unit: "minutes",
				Published: 45, Text: "stabilised after about 45 minutes", Kind: About,
				Source: at(shannon, "\"Witty worm spread\""), Measure: minutes(timeToShareOfFinal(0.95)),
				Omits: "scan rates come from the uplink classes assumed for Slammer's hosts (about 1,750 probes a second " +
					"a host on average); the time to level off scales as one over the mean rate, so 45 minutes needs about " +
					"1,100. Infected machines sent at line speed (SANS ISC diary, 22 March 2004), and each host's measured " +
					"rate was published (Kumar, Paxson, Weaver 2005; corrected for the telescope's losses by Wei and Mirkovic), " +
					"as was CAIDA's table of the hosts' connection types, but none of these numbers could be read here",
			},
			{
				ID: "never-infected", What: "share of vulnerable hosts never infected", Unit: "share",
				Published: 0.10, Text: "about 10% were never infected", Kind: About,
				Source: at(kumar2005, "section 4"), Measure: neverInfected,
			},
		},
	},
	moore2003Quarantine,
}

// logisticFromOne returns the logistic of rate k per hour over n hosts
// that starts from one infected host at hour 0.
func logisticFromOne(k, n float64, hs []float64) []float64 {
	p := model.Logistic{K: k, N: n}
	// One host at hour 0: n / (1 + e^{kT}) = 1.
	p.T = math.Log(n-1) / k
	out := make([]float64, len(hs))
	for i, h := range hs {
		out[i] = p.Infected(h)
	}
	return out
}

// wittyUnreachableImmune makes the hosts whose addresses Witty's generator
// can never produce immune (worm.WittyReachable): the event engine then
// scans uniformly over the rest, which is Witty's generator up to how
// evenly it covers the addresses it can reach. Running the generator
// itself in the probe engine, which it can, sends about 2^32 ln N probes
// (some 4 * 10^10) before the reachable hosts are all found: a quarter of
// an hour of CPU a run, past `reproduce --all`'s budget. Initial hosts are
// left as they are: Patient Zero reached them directly.
func wittyUnreachableImmune(c *sim.Config) {
	initial := make(map[int32]bool, len(c.Initial))
	for _, h := range c.Initial {
		initial[h] = true
	}
	for i, a := range c.Hosts {
		if !initial[int32(i)] && !worm.WittyReachable(a) {
			c.InitialPatched = append(c.InitialPatched, int32(i))
		}
	}
}

// wave2Figures are the published figures of Code Red's second wave, for a
// run in which 1 August 00:00 UTC is offset aug1 from the start.
func wave2Figures(aug1 time.Duration) []Figure {
	day := func(h, m int) time.Duration { return aug1 + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute }
	return []Figure{
		{
			ID: "slower", What: "peak new infections a minute on 1 August", Unit: "per minute",
			Published: 2000, Text: "a second wave far smaller than the first (\"wakes up with a whimper\"), whose peak was over 2,000 a minute",
			Kind: Range, Lo: 0, Hi: 2000,
			Source:  at(whimper, "headline; the first wave's peak from Moore et al. 2002"),
			Measure: peakInWindow(aug1, aug1+24*time.Hour),
		},
		{
			ID: "first-hours", What: "new infections in the first two hours of 1 August", Unit: "hosts",
			Published: 3000, Text: "\"a few thousand infections that we're aware of\" about two hours after the relaunch", Kind: Range, Lo: 1000, Hi: 9999,
			Source:  at(whimper, "Central Command"),
			Measure: newBetween(aug1, day(2, 0)),
		},
		{
			ID: "afternoon", What: "new active hosts an hour at 21:25-22:23 UTC over those at 15:00-19:00 UTC, 1 August", Unit: "ratio",
			Published: 5964.0 / 5204.5, Text: "Akamai's sampled hosts: 5,204 new an hour from 11:00 to 15:00, 5,964 from 17:25 to 18:23 (US Eastern; 9,675 at the peak, 15:00-15:33): still arriving faster than in the morning",
			Kind: Point, Source: at(akamai, "table of hosts by time"),
			Measure: ratio(activeBetween(day(21, 25), day(22, 23)), activeBetween(day(15, 0), day(19, 0))),
			Omits: "with the day/night cycle (half the hosts off from 23:00 to 08:00 local time) new hosts come in bursts as " +
				"each region's machines come on (Asia from 23:00 UTC, the US East from 12:00) and fall away by the afternoon; " +
				"without it the wave declines slowly. Nor does the number of hosts scanning grow between the two windows, so no " +
				"sample of sources like Akamai's would see growth in the model. Left out: DHCP, which gives a machine new " +
				"addresses through the day (Moore et al. 2002), so that a count of new addresses grows with the hours machines " +
				"are on; ISPs' port-80 filters after 19 July; and whom Akamai's sample saw. The day's reports disagree on the " +
				"shape: SANS saw the infections an hour decline steadily after the first burst (ZDNet Australia, \"Code Red " +
				"slows but danger still lurks\", August 2001), as the model's do, while Akamai's sample and CAIDA's count of " +
				"live hosts (claffy, NANOG, 1 August 2001) turned up again in the US afternoon",
		},
	}
}
