// Package scenario reads, checks and builds wormlab scenarios: TOML files
// that say which worm spreads over which population, from when to when.
// Errors name the file, line and key. The built-in scenarios are embedded
// TOML files, printed as they are by `wormlab scenarios show`.
package scenario

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/wormlab/wormlab/internal/ipspace"
	"github.com/wormlab/wormlab/internal/worm"
)

// Scenario is one scenario file.
type Scenario struct {
	Name        string     `toml:"name" json:"name"`
	Description string     `toml:"description" json:"description"`
	Run         Run        `toml:"run" json:"run"`
	Space       Space      `toml:"space" json:"space"`
	Population  Population `toml:"population" json:"population"`
	Worm        Worm       `toml:"worm" json:"worm"`
	Defence     Defence    `toml:"defence" json:"defence"`
	Network     Network    `toml:"network" json:"network,omitzero"`
	Census      *Census    `toml:"census" json:"census,omitempty"`
	Telescope   *Telescope `toml:"telescope" json:"telescope,omitempty"`

	// File names where the scenario came from, for error messages.
	File string `toml:"-" json:"-"`
	// Source is the file as read, printed by `scenarios show` and kept in
	// run records so a run can be repeated.
	Source string `toml:"-" json:"-"`
	lines  map[string]int
}

// Run sets the simulated time span and the output grid.
type Run struct {
	Start time.Time `toml:"start" json:"start"` // UTC; when the initial hosts are infected
	End   time.Time `toml:"end" json:"end"`
	Step  Duration  `toml:"step" json:"step"` // output bin width, dividing End-Start
	// Checkpoints are offsets from Start at which the summary reports the
	// infected count (for comparison with published figures).
	Checkpoints []Duration `toml:"checkpoints" json:"checkpoints,omitempty"`
}

// Space sets the simulated address space.
type Space struct {
	// Bits: the space holds 2^Bits addresses; 32 is IPv4. Scaled-down
	// spaces (say 20 bits) keep probe-engine runs and tests fast.
	Bits int `toml:"bits" json:"bits"`
}

// Population sets the vulnerable hosts.
type Population struct {
	Size int `toml:"size" json:"size"`
	// Layout: "uniform" places hosts uniformly over the whole space;
	// "allocated" uniformly over the /8 blocks the IANA registry lists as
	// allocated by AllocatedBy (IPv4 only); "clustered" over the same /8s
	// with heavy-tailed weights for /8s and /16s (see ipspace.Clustered);
	// "file" reads File, lines of "prefix,hosts".
	Layout      string    `toml:"layout" json:"layout"`
	AllocatedBy time.Time `toml:"allocated_by" json:"allocated_by,omitzero"`
	// Clustered layout: Zipf exponents of the /8 and /16 weights and the
	// share of an occupied /8's /16s that hold hosts.
	Slash8Zipf      float64 `toml:"slash8_zipf" json:"slash8_zipf,omitempty"`
	Slash16Zipf     float64 `toml:"slash16_zipf" json:"slash16_zipf,omitempty"`
	Slash16Occupied float64 `toml:"slash16_occupied" json:"slash16_occupied,omitempty"`
	// File is the layout file of layout "file", relative to the scenario.
	File string `toml:"file" json:"file,omitempty"`
	// NATShare of the hosts sit behind NAT in private space (10/8,
	// 192.168/16), in sites of NATSiteSize hosts on average.
	NATShare    float64 `toml:"nat_share" json:"nat_share,omitempty"`
	NATSiteSize float64 `toml:"nat_site_size" json:"nat_site_size,omitempty"`
	// InitialPatched and InitialRemoved hosts, drawn at random, start in
	// those states (a run that starts from a known state).
	InitialPatched int `toml:"initial_patched" json:"initial_patched,omitempty"`
	InitialRemoved int `toml:"initial_removed" json:"initial_removed,omitempty"`
	// Diurnal switches a share of the hosts off at night by their own
	// time zone's clock.
	Diurnal *Diurnal `toml:"diurnal" json:"diurnal,omitempty"`
}

// Diurnal is a day/night cycle: a Share of the hosts, drawn at random,
// are on from On to Off local time and off otherwise (home and office
// machines); the others stay on (servers). A host switched off neither
// scans nor can be reached, and a copy running on it ends: the host
// becomes AfterOff ("susceptible": the worm lived in memory; "removed").
// Each host's time zone is drawn from Zones by share. The initial copies
// sit on hosts that stay on.
type Diurnal struct {
	Share    float64  `toml:"share" json:"share"`
	On       Duration `toml:"on" json:"on"`
	Off      Duration `toml:"off" json:"off"`
	AfterOff string   `toml:"after_off" json:"after_off,omitempty"`
	Zones    []Zone   `toml:"zones" json:"zones"`
}

// Zone is a share of hosts whose local time is UTC plus UTCOffset.
type Zone struct {
	UTCOffset Duration `toml:"utc_offset" json:"utc_offset"`
	Share     float64  `toml:"share" json:"share"`
}

// Defence sets patching, clean-up, reboots and congestion. Rates are per
// day, for people; the engines take them per second.
type Defence struct {
	// PatchPerDay: each susceptible host is patched at this rate.
	PatchPerDay float64 `toml:"patch_per_day" json:"patch_per_day,omitempty"`
	// PatchAwarePerDay: the two-factor model's mu, per susceptible host,
	// per host infected so far, per day.
	PatchAwarePerDay float64 `toml:"patch_aware_per_day" json:"patch_aware_per_day,omitempty"`
	// Servers and Schedule: patch downloads per day, from each step's time
	// on, land on random servers among Servers (say 6 million IIS
	// servers), so a susceptible host is patched at PatchesPerDay/Servers.
	Servers  float64        `toml:"servers" json:"servers,omitempty"`
	Schedule []ScheduleStep `toml:"schedule" json:"schedule,omitempty"`
	// CleanupPerDay: infected hosts cleaned and made immune (gamma).
	CleanupPerDay float64 `toml:"cleanup_per_day" json:"cleanup_per_day,omitempty"`
	// RebootPerDay: infected hosts rebooted, which clears a memory-resident
	// worm and leaves the host susceptible.
	RebootPerDay float64 `toml:"reboot_per_day" json:"reboot_per_day,omitempty"`
	// CongestionEta: scan rates slow by (1 - I/N)^eta.
	CongestionEta float64 `toml:"congestion_eta" json:"congestion_eta,omitempty"`

	// Containment (Moore, Shannon, Voelker, Savage, "Internet Quarantine",
	// INFOCOM 2003; docs/DESIGN.md §8). Blacklist and
	// ContentFilter block probes where Deployment puts filters; Egress
	// and Throttle act at the hosts' own networks and hosts.
	Blacklist     *Blacklist     `toml:"blacklist" json:"blacklist,omitempty"`
	ContentFilter *ContentFilter `toml:"content_filter" json:"content_filter,omitempty"`
	Deployment    *Deployment    `toml:"deployment" json:"deployment,omitempty"`
	Egress        *Egress        `toml:"egress" json:"egress,omitempty"`
	Throttle      *Throttle      `toml:"throttle" json:"throttle,omitempty"`
}

// Blacklist blocks an infected host's probes from Reaction after its
// infection on (detection, spreading the list, installing it).
type Blacklist struct {
	Reaction Duration `toml:"reaction" json:"reaction"`
}

// ContentFilter blocks every probe carrying the worm from Reaction after
// the run's start ("start") or after the first infection beyond the
// initial hosts ("first-infection") on.
type ContentFilter struct {
	Reaction Duration `toml:"reaction" json:"reaction"`
	After    string   `toml:"after" json:"after,omitempty"`
}

// Deployment says where the filters sit: "everywhere" (the idealised
// universal deployment: a blocked probe never arrives), "customer" (each
// customer network filters its own traffic in and out with probability
// Share) or "backbone" (the providers with the most vulnerable hosts, a
// Share of those that hold any, filter the traffic between their customers and
// other providers; traffic within one provider passes).
type Deployment struct {
	Where string  `toml:"where" json:"where"`
	Share float64 `toml:"share" json:"share"`
}

// Egress: each customer network drops its own hosts' probes to other
// networks with probability Share.
type Egress struct {
	Share float64 `toml:"share" json:"share"`
}

// Throttle caps the scan rate of each host, with probability Share, at
// PerSecond new destinations a second (Williamson, "Throttling Viruses",
// ACSAC 2002: one a second).
type Throttle struct {
	Share     float64 `toml:"share" json:"share"`
	PerSecond float64 `toml:"per_second" json:"per_second"`
}

// Network sets what the network itself limits.
type Network struct {
	// ScanCapacity caps the probes a second all infected hosts together
	// can send: above it every host's rate shrinks in proportion (Slammer
	// filled the links it crossed; Moore et al., IEEE S&P 2003, measured
	// a peak of about 55 million scans a second). 0: no cap.
	ScanCapacity float64 `toml:"scan_capacity" json:"scan_capacity,omitempty"`
	// CustomerBits and ProviderBits cut the address space into networks
	// for containment: a customer network is a /CustomerBits block (16 in
	// IPv4; in a smaller space bits counted from its top, by default half
	// of them), a provider the /ProviderBits block holding it (by default
	// half of CustomerBits).
	CustomerBits int `toml:"customer_bits" json:"customer_bits,omitempty"`
	ProviderBits int `toml:"provider_bits" json:"provider_bits,omitempty"`
}

// ScheduleStep is a patch-download rate in force from From on.
type ScheduleStep struct {
	From          time.Time `toml:"from" json:"from"`
	PatchesPerDay float64   `toml:"patches_per_day" json:"patches_per_day"`
}

// Census samples the vulnerable population, as the census of 20,000 systems
// in the seed article did.
type Census struct {
	At     []time.Time `toml:"at" json:"at"`
	Sample int         `toml:"sample" json:"sample"`
	// Servers: the census samples among this many servers, of which the
	// vulnerable population is a part (default: the population alone).
	Servers int `toml:"servers" json:"servers,omitempty"`
}

// Telescope puts a network telescope on a dark block: "auto" picks the
// first /8 (1/256 of the space) that holds no host.
type Telescope struct {
	Block string `toml:"block" json:"block"`
}

// Clock is a share of hosts whose clock is off by Offset.
type Clock struct {
	Share  float64  `toml:"share" json:"share"`
	Offset Duration `toml:"offset" json:"offset"`
}

// Uplink is a class of hosts by uplink speed, for a bandwidth cap.
type Uplink struct {
	Share float64 `toml:"share" json:"share"`
	Mbps  float64 `toml:"mbps" json:"mbps"`
}

// Worm sets the worm's behaviour.
type Worm struct {
	Name string `toml:"name" json:"name"`
	// Strategy: "uniform" (Code Red I v2), "local-preference" (Code Red
	// II) or "static-seed" (Code Red I v1, probe engine only).
	Strategy string `toml:"strategy" json:"strategy"`
	// Mix of a local-preference worm (default Code Red II's 1/8 anywhere,
	// 4/8 same /8, 3/8 same /16).
	Mix []MixEntry `toml:"mix" json:"mix,omitempty"`
	// Exclude lists blocks never probed (prefixes); SkipZero255 also skips
	// last octets .0 and .255.
	Exclude     []string `toml:"exclude" json:"exclude,omitempty"`
	SkipZero255 bool     `toml:"skip_zero_255" json:"skip_zero_255,omitempty"`
	// Lifetime: a copy spreads this long after infecting its host, which
	// then reboots and becomes AfterLifetime ("removed": backdoored and
	// immune, as Code Red II; "susceptible": clean and infectable again).
	Lifetime      Duration `toml:"lifetime" json:"lifetime"`
	AfterLifetime string   `toml:"after_lifetime" json:"after_lifetime,omitempty"`
	// Variant is a class of hosts on which the worm behaves differently.
	Variant *Variant `toml:"variant" json:"variant,omitempty"`
	// SpreadUntil and FloodUntil set a "monthly" calendar's days.
	SpreadUntil int `toml:"spread_until" json:"spread_until,omitempty"`
	FloodUntil  int `toml:"flood_until" json:"flood_until,omitempty"`
	// WakeDelayMax: a copy resumes spreading up to this long after its
	// calendar says so (threads that sleep wake hours after midnight).
	WakeDelayMax Duration `toml:"wake_delay_max" json:"wake_delay_max"`
	// Clock: a share of hosts with a wrong clock.
	Clock *Clock `toml:"clock" json:"clock,omitempty"`
	// FloodRate: packets a second one copy sends to FloodTarget on flood
	// days.
	FloodRate   float64 `toml:"flood_rate" json:"flood_rate,omitempty"`
	FloodTarget string  `toml:"flood_target" json:"flood_target,omitempty"`
	// Uplinks and ProbeBytes cap each host's scan rate at its uplink's
	// bits a second over the probe's size in bits (bandwidth-limited worms
	// such as Slammer).
	Uplinks    []Uplink `toml:"uplinks" json:"uplinks,omitempty"`
	ProbeBytes int      `toml:"probe_bytes" json:"probe_bytes,omitempty"`
	// ScanRate is the mean probes a second of one infected host.
	ScanRate float64 `toml:"scan_rate" json:"scan_rate"`
	// ScanRateCV is the coefficient of variation of the hosts' scan rates
	// (0: all equal; otherwise each host's rate is gamma distributed).
	ScanRateCV float64 `toml:"scan_rate_cv" json:"scan_rate_cv"`
	// InitialInfected hosts, drawn at random, are infected at Run.Start.
	InitialInfected int `toml:"initial_infected" json:"initial_infected"`
	// InitialAsleep: the initial copies sleep at the start and wake within
	// WakeDelayMax (a run that starts at a calendar's wake-up).
	InitialAsleep bool `toml:"initial_asleep" json:"initial_asleep,omitempty"`
	// Calendar: "codered1" (spread days 1-19 UTC), "codered2" (spread until
	// the hard stop of 1 October 2001) or "none".
	Calendar string `toml:"calendar" json:"calendar"`
	// LocalShare: the share of sequential copies that start in their own
	// /24 (Blaster: 0.4).
	LocalShare float64 `toml:"local_share" json:"local_share,omitempty"`
	// HitListSize: the hosts on a hit-list worm's list, drawn at random
	// among the vulnerable hosts other than the initial ones.
	HitListSize int `toml:"hit_list_size" json:"hit_list_size,omitempty"`
	// StaticSeed selects the shared target list of the static-seed strategy.
	StaticSeed uint64 `toml:"static_seed" json:"static_seed,omitempty"`
	// AfterHitList is how hit-list copies scan once their part of the
	// list is used up: "uniform" (default), "permutation" (the Warhol
	// worm) or "witty".
	AfterHitList string `toml:"after_hit_list" json:"after_hit_list,omitempty"`
	// PermutationKey selects the permutation permutation scanners share;
	// unset, each run draws its own from its seed.
	PermutationKey *uint64 `toml:"permutation_key" json:"permutation_key,omitempty"`
	// WittyReseed is the probability that Witty reseeds its generator
	// after a round of 20,000 packets (its disk write succeeded).
	WittyReseed float64 `toml:"witty_reseed" json:"witty_reseed,omitempty"`
}

// strategies are the worm strategies a scenario can name.
var strategies = []string{"uniform", "local-preference", "sequential", "hit-list", "permutation", "witty", "static-seed"}

// afterHitList are the strategies a hit-list can hand over to.
var afterHitList = []string{"uniform", "permutation", "witty"}

// MixEntry is one neighbourhood of a local-preference worm: with
// probability Share, a target in the source's own /Prefix.
type MixEntry struct {
	Share  float64 `toml:"share" json:"share"`
	Prefix int     `toml:"prefix" json:"prefix"`
}

// Variant is a class of hosts on which the worm runs differently: Code
// Red II starts 600 threads instead of 300 on Chinese-language systems and
// spreads for 48 hours instead of 24.
type Variant struct {
	Name       string   `toml:"name" json:"name"`
	Share      float64  `toml:"share" json:"share"`             // of the hosts
	RateFactor float64  `toml:"rate_factor" json:"rate_factor"` // scan rate multiplier
	Lifetime   Duration `toml:"lifetime" json:"lifetime"`
}

// Duration is a time.Duration written as a Go duration string ("1m").
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"1m\" or \"10s\"", b)
	}
	d.Duration = v
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Error is a problem in a scenario file.
type Error struct {
	File string
	Line int    // 0 when unknown
	Key  string // dotted key, or "" for the file as a whole
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

var tomlErrRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^toml: line (\d+)(?: \(last key "([^"]*)"\))?: (.*)$`)
})

// Parse reads a scenario from src; file names it in errors. It rejects
// unknown keys and invalid values.
func Parse(src []byte, file string) (*Scenario, error) {
	s := &Scenario{File: file, Source: string(src), lines: keyLines(src)}
	md, err := toml.NewDecoder(bytes.NewReader(src)).Decode(s)
	if err != nil {
		msg := err.Error()
		if m := tomlErrRE().FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &Error{File: file, Line: line, Key: m[2], Msg: m[3]}
		}
		return nil, &Error{File: file, Msg: strings.TrimPrefix(msg, "toml: ")}
	}
	if und := md.Undecoded(); len(und) > 0 {
		key := und[0].String()
		return nil, &Error{File: file, Line: s.lines[key], Key: key, Msg: "unknown key"}
	}
	s.applyDefaults(md)
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Scenario) applyDefaults(md toml.MetaData) {
	if !md.IsDefined("space", "bits") {
		s.Space.Bits = 32
	}
	if s.Population.Layout == "" {
		s.Population.Layout = "uniform"
	}
	if s.Worm.Strategy == "" {
		s.Worm.Strategy = "uniform"
	}
	if s.Worm.Calendar == "" {
		s.Worm.Calendar = "none"
	}
	if s.Worm.AfterLifetime == "" {
		s.Worm.AfterLifetime = "removed"
	}
	if d := s.Population.Diurnal; d != nil && d.AfterOff == "" {
		d.AfterOff = "susceptible"
	}
	if !md.IsDefined("population", "slash8_zipf") {
		s.Population.Slash8Zipf = 1
	}
	if !md.IsDefined("population", "slash16_zipf") {
		s.Population.Slash16Zipf = 1
	}
	if !md.IsDefined("population", "slash16_occupied") {
		s.Population.Slash16Occupied = 0.25
	}
	if !md.IsDefined("population", "nat_site_size") {
		s.Population.NATSiteSize = 3
	}
	if v := s.Worm.Variant; v != nil && !md.IsDefined("worm", "variant", "rate_factor") {
		v.RateFactor = 1
	}
	if !md.IsDefined("worm", "initial_infected") {
		s.Worm.InitialInfected = 1
	}
	if s.Run.Step.Duration == 0 {
		s.Run.Step.Duration = time.Minute
	}
	if s.Network.CustomerBits == 0 && s.contained() {
		s.Network.CustomerBits = min(16, s.Space.Bits/2)
	}
	if s.Network.ProviderBits == 0 && s.contained() {
		s.Network.ProviderBits = s.Network.CustomerBits / 2
	}
	if c := s.Defence.ContentFilter; c != nil && c.After == "" {
		c.After = "start"
	}
	if d := s.Defence.Deployment; d != nil && !md.IsDefined("defence", "deployment", "share") {
		d.Share = 1
	}
	if t := s.Defence.Throttle; t != nil && !md.IsDefined("defence", "throttle", "per_second") {
		t.PerSecond = 1
	}
}

// errAt returns an error for key, with its line.
func (s *Scenario) errAt(key, format string, args ...any) error {
	line, ok := s.lines[key]
	if !ok {
		// A missing key: point at its table, if the file has one.
		if dot := strings.LastIndexByte(key, '.'); dot > 0 {
			line = s.lines[key[:dot]]
		}
	}
	return &Error{File: s.File, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks the values, naming the first bad key.
func (s *Scenario) Validate() error {
	r, p, w := s.Run, s.Population, s.Worm
	switch {
	case s.Name == "":
		return s.errAt("name", "missing")
	case r.Start.IsZero():
		return s.errAt("run.start", "missing (an RFC 3339 time such as 2001-07-19T10:00:00Z)")
	case r.End.IsZero():
		return s.errAt("run.end", "missing")
	case !r.End.After(r.Start):
		return s.errAt("run.end", "%s is not after run.start %s", r.End.UTC().Format(time.RFC3339), r.Start.UTC().Format(time.RFC3339))
	case r.Step.Duration < time.Second:
		return s.errAt("run.step", "%v: want at least 1s", r.Step.Duration)
	case r.End.Sub(r.Start)%r.Step.Duration != 0:
		return s.errAt("run.step", "%v does not divide the run (%v)", r.Step.Duration, r.End.Sub(r.Start))
	case r.End.Sub(r.Start)/r.Step.Duration > 10_000_000:
		return s.errAt("run.step", "%v makes over 10 million bins", r.Step.Duration)
	case s.Space.Bits < 8 || s.Space.Bits > 32:
		return s.errAt("space.bits", "%d: want 8 to 32", s.Space.Bits)
	case p.Size < 1:
		return s.errAt("population.size", "%d: want at least 1 host", p.Size)
	case uint64(p.Size) > uint64(1)<<s.Space.Bits/2:
		return s.errAt("population.size", "%d hosts do not fit in a space of 2^%d addresses (at most half of it may be vulnerable)", p.Size, s.Space.Bits)
	case p.Layout != "uniform" && p.Layout != "allocated" && p.Layout != "clustered" && p.Layout != "file":
		return s.errAt("population.layout", "%q: want \"uniform\", \"allocated\", \"clustered\" or \"file\"", p.Layout)
	case p.Layout != "uniform" && s.Space.Bits != 32:
		return s.errAt("population.layout", "%q needs the full IPv4 space (space.bits = 32)", p.Layout)
	case (p.Layout == "allocated" || p.Layout == "clustered") && p.AllocatedBy.IsZero():
		return s.errAt("population.allocated_by", "missing: the date whose allocated /8s hold the hosts")
	case p.Layout == "file" && p.File == "":
		return s.errAt("population.file", "missing: the layout file of prefix,hosts lines")
	case !(p.Slash8Zipf >= 0 && p.Slash8Zipf <= 5):
		return s.errAt("population.slash8_zipf", "%v: want 0 to 5", p.Slash8Zipf)
	case !(p.Slash16Zipf >= 0 && p.Slash16Zipf <= 5):
		return s.errAt("population.slash16_zipf", "%v: want 0 to 5", p.Slash16Zipf)
	case !(p.Slash16Occupied > 0 && p.Slash16Occupied <= 1):
		return s.errAt("population.slash16_occupied", "%v: want a share in (0, 1]", p.Slash16Occupied)
	case !(p.NATShare >= 0 && p.NATShare <= 1):
		return s.errAt("population.nat_share", "%v: want a share in [0, 1]", p.NATShare)
	case p.NATShare > 0 && s.Space.Bits != 32:
		return s.errAt("population.nat_share", "NAT needs the full IPv4 space (space.bits = 32)")
	case !(p.NATSiteSize >= 1 && p.NATSiteSize <= 1000):
		return s.errAt("population.nat_site_size", "%v: want 1 to 1000 hosts a site", p.NATSiteSize)
	case !slices.Contains(strategies, w.Strategy):
		return s.errAt("worm.strategy", "%q: want one of %s", w.Strategy, strings.Join(strategies, ", "))
	case !(w.LocalShare >= 0 && w.LocalShare <= 1):
		return s.errAt("worm.local_share", "%v: want a share in [0, 1]", w.LocalShare)
	case w.HitListSize < 0 || (w.Strategy == "hit-list" && w.HitListSize+w.InitialInfected > p.Size):
		return s.errAt("worm.hit_list_size", "%d: want 0 to population.size - worm.initial_infected", w.HitListSize)
	case (w.Strategy == "sequential" || w.Strategy == "hit-list" || w.Strategy == "permutation" || w.Strategy == "witty") && p.NATShare > 0:
		return s.errAt("population.nat_share", "the %s strategy runs on public hosts only", w.Strategy)
	case w.AfterHitList != "" && w.Strategy != "hit-list":
		return s.errAt("worm.after_hit_list", "only a hit-list worm hands over to another strategy")
	case w.AfterHitList != "" && !slices.Contains(afterHitList, w.AfterHitList):
		return s.errAt("worm.after_hit_list", "%q: want one of %s", w.AfterHitList, strings.Join(afterHitList, ", "))
	case (w.Strategy == "witty" || w.AfterHitList == "witty") && s.Space.Bits != 32:
		return s.errAt("worm.strategy", "Witty's generator needs the full IPv4 space (space.bits = 32)")
	case w.PermutationKey != nil && w.Strategy != "permutation" && w.AfterHitList != "permutation":
		return s.errAt("worm.permutation_key", "only permutation scanners share a permutation")
	case !(w.WittyReseed >= 0 && w.WittyReseed <= 1):
		return s.errAt("worm.witty_reseed", "%v: want a probability in [0, 1]", w.WittyReseed)
	case w.WittyReseed > 0 && w.Strategy != "witty" && w.AfterHitList != "witty":
		return s.errAt("worm.witty_reseed", "only Witty's generator reseeds")
	case !(s.Network.ScanCapacity >= 0) || math.IsInf(s.Network.ScanCapacity, 0):
		return s.errAt("network.scan_capacity", "%v: want a finite number of probes a second >= 0 (0: no cap)", s.Network.ScanCapacity)
	case len(w.Mix) > 0 && w.Strategy != "local-preference":
		return s.errAt("worm.mix", "only a local-preference worm has a mix")
	case w.Lifetime.Duration < 0:
		return s.errAt("worm.lifetime", "%v is negative", w.Lifetime.Duration)
	case w.AfterLifetime != "removed" && w.AfterLifetime != "susceptible":
		return s.errAt("worm.after_lifetime", "%q: want \"removed\" or \"susceptible\"", w.AfterLifetime)
	case !(w.ScanRate > 0) || w.ScanRate > 1e7:
		return s.errAt("worm.scan_rate", "%v: want a positive number of probes a second (at most 1e7)", w.ScanRate)
	case !(w.ScanRateCV >= 0) || w.ScanRateCV > 10:
		return s.errAt("worm.scan_rate_cv", "%v: want 0 to 10", w.ScanRateCV)
	case w.InitialInfected < 1 || w.InitialInfected > p.Size:
		return s.errAt("worm.initial_infected", "%d: want 1 to population.size (%d)", w.InitialInfected, p.Size)
	case w.Calendar != "none" && w.Calendar != "codered1" && w.Calendar != "codered2" && w.Calendar != "monthly":
		return s.errAt("worm.calendar", "%q: want \"codered1\", \"codered2\", \"monthly\" or \"none\"", w.Calendar)
	case w.Calendar == "monthly" && (worm.Monthly{SpreadUntil: w.SpreadUntil, FloodUntil: w.FloodUntil}).Check() != nil:
		return s.errAt("worm.spread_until", "%s", strings.TrimPrefix(worm.Monthly{SpreadUntil: w.SpreadUntil, FloodUntil: w.FloodUntil}.Check().Error(), "worm: "))
	case w.InitialAsleep && w.WakeDelayMax.Duration == 0:
		return s.errAt("worm.initial_asleep", "needs worm.wake_delay_max, the delay the copies wake within")
	case w.WakeDelayMax.Duration < 0:
		return s.errAt("worm.wake_delay_max", "%v is negative", w.WakeDelayMax.Duration)
	case !(w.FloodRate >= 0):
		return s.errAt("worm.flood_rate", "%v: want >= 0 packets a second", w.FloodRate)
	case w.ProbeBytes < 0 || (len(w.Uplinks) > 0 && w.ProbeBytes == 0):
		return s.errAt("worm.probe_bytes", "%d: want the size of one probe on the wire in bytes", w.ProbeBytes)
	case p.InitialPatched < 0 || p.InitialRemoved < 0 || p.InitialPatched+p.InitialRemoved+w.InitialInfected > p.Size:
		return s.errAt("population.initial_patched", "%d patched and %d removed with %d infected: want counts >= 0 that fit in the population", p.InitialPatched, p.InitialRemoved, w.InitialInfected)
	}
	if w.FloodTarget != "" {
		if _, err := ipspace.ParseAddr(w.FloodTarget); err != nil {
			return s.errAt("worm.flood_target", "%v", err)
		}
	}
	if err := s.validateDiurnal(); err != nil {
		return err
	}
	if c := w.Clock; c != nil && !(c.Share >= 0 && c.Share <= 1) {
		return s.errAt("worm.clock.share", "%v: want a share in [0, 1]", c.Share)
	}
	var upShare float64
	for i, u := range w.Uplinks {
		if !(u.Share >= 0) || !(u.Mbps > 0) {
			return s.errAt("worm.uplinks", "class %d: want a share >= 0 and a speed > 0 Mbit/s", i+1)
		}
		upShare += u.Share
	}
	if len(w.Uplinks) > 0 && math.Abs(upShare-1) > 1e-9 {
		return s.errAt("worm.uplinks", "shares sum to %v, want 1", upShare)
	}
	d := s.Defence
	for _, f := range []struct {
		key string
		v   float64
	}{{"patch_per_day", d.PatchPerDay}, {"patch_aware_per_day", d.PatchAwarePerDay}, {"cleanup_per_day", d.CleanupPerDay}, {"reboot_per_day", d.RebootPerDay}, {"congestion_eta", d.CongestionEta}, {"servers", d.Servers}} {
		if !(f.v >= 0) || math.IsInf(f.v, 0) {
			return s.errAt("defence."+f.key, "%v: want a finite number >= 0", f.v)
		}
	}
	if len(d.Schedule) > 0 && !(d.Servers >= 1) {
		return s.errAt("defence.servers", "missing: the servers that patch downloads spread over")
	}
	for i, st := range d.Schedule {
		switch {
		case st.From.IsZero():
			return s.errAt("defence.schedule", "step %d: from is missing", i+1)
		case !(st.PatchesPerDay >= 0):
			return s.errAt("defence.schedule", "step %d: patches_per_day %v is negative", i+1, st.PatchesPerDay)
		case i > 0 && !st.From.After(d.Schedule[i-1].From):
			return s.errAt("defence.schedule", "step %d: from %s is not after step %d's", i+1, st.From.UTC().Format(time.RFC3339), i)
		}
	}
	if err := s.validateContainment(); err != nil {
		return err
	}
	if tel := s.Telescope; tel != nil && tel.Block != "auto" {
		if _, err := ipspace.ParsePrefix(tel.Block); err != nil {
			return s.errAt("telescope.block", "%s", strings.TrimPrefix(err.Error(), "ipspace: "))
		}
	}
	if c := s.Census; c != nil {
		if c.Sample < 1 || c.Sample > p.Size {
			return s.errAt("census.sample", "%d: want 1 to population.size (%d)", c.Sample, p.Size)
		}
		for i, at := range c.At {
			if at.Before(r.Start) || at.After(r.End) || (i > 0 && !at.After(c.At[i-1])) {
				return s.errAt("census.at", "time %d (%s): want increasing times within the run", i+1, at.UTC().Format(time.RFC3339))
			}
		}
	}
	if v := w.Variant; v != nil {
		switch {
		case !(v.Share >= 0 && v.Share <= 1):
			return s.errAt("worm.variant.share", "%v: want a share in [0, 1]", v.Share)
		case !(v.RateFactor > 0 && v.RateFactor <= 1000):
			return s.errAt("worm.variant.rate_factor", "%v: want a positive factor (at most 1000)", v.RateFactor)
		case v.Lifetime.Duration < 0:
			return s.errAt("worm.variant.lifetime", "%v is negative", v.Lifetime.Duration)
		}
	}
	if _, err := s.strategy(); err != nil {
		key := "worm.mix"
		if len(w.Exclude) > 0 && strings.Contains(err.Error(), "exclude") {
			key = "worm.exclude"
		}
		return s.errAt(key, "%v", err)
	}
	for i, c := range r.Checkpoints {
		if c.Duration <= 0 || c.Duration > r.End.Sub(r.Start) {
			return s.errAt("run.checkpoints", "checkpoint %d (%v) is outside the run", i+1, c.Duration)
		}
	}
	if p.Layout == "allocated" {
		n, err := allocatedAddresses(p.AllocatedBy)
		if err != nil {
			return s.errAt("population.allocated_by", "%v", err)
		}
		if n == 0 {
			return s.errAt("population.allocated_by", "no /8 was allocated by %s", p.AllocatedBy.Format("2006-01-02"))
		}
		if uint64(p.Size) > n/2 {
			return s.errAt("population.size", "%d hosts do not fit in the %d addresses allocated by %s", p.Size, n, p.AllocatedBy.Format("2006-01-02"))
		}
	}
	return nil
}

// validateDiurnal checks the day/night cycle.
func (s *Scenario) validateDiurnal() error {
	d := s.Population.Diurnal
	if d == nil {
		return nil
	}
	const key = "population.diurnal."
	switch {
	case !(d.Share >= 0 && d.Share <= 1):
		return s.errAt(key+"share", "%v: want a share in [0, 1]", d.Share)
	case d.On.Duration < 0 || d.On.Duration >= 24*time.Hour:
		return s.errAt(key+"on", "%v: want a local time of day from 0s to 24h", d.On.Duration)
	case d.Off.Duration <= d.On.Duration || d.Off.Duration > 24*time.Hour:
		return s.errAt(key+"off", "%v: want a local time of day after on (%v), at most 24h", d.Off.Duration, d.On.Duration)
	case d.AfterOff != "susceptible" && d.AfterOff != "removed":
		return s.errAt(key+"after_off", "%q: want \"susceptible\" or \"removed\"", d.AfterOff)
	case len(d.Zones) == 0:
		return s.errAt(key+"zones", "missing: the hosts' time zones, each with its share")
	}
	switch s.Worm.Strategy {
	case "sequential", "permutation", "hit-list":
		return s.errAt(key+"share", "the %s strategy reaches hosts by address, without the day/night cycle", s.Worm.Strategy)
	}
	var sum float64
	for i, z := range d.Zones {
		if !(z.Share >= 0) || z.UTCOffset.Duration < -14*time.Hour || z.UTCOffset.Duration > 14*time.Hour {
			return s.errAt(key+"zones", "zone %d: want a share >= 0 and an offset from UTC within 14h", i+1)
		}
		sum += z.Share
	}
	if math.Abs(sum-1) > 1e-9 {
		return s.errAt(key+"zones", "shares sum to %v, want 1", sum)
	}
	return nil
}

// keyLines maps each dotted key of a TOML file to the line that sets it.
// It understands the subset scenario files use: [table] headers and
// key = value lines; anything it cannot place simply has no line.
func keyLines(src []byte) map[string]int {
	out := map[string]int{}
	table := ""
	for i, line := range strings.Split(string(src), "\n") {
		l := strings.TrimSpace(line)
		switch {
		case l == "" || l[0] == '#':
		case strings.HasPrefix(l, "["):
			table = strings.Trim(strings.TrimSpace(strings.SplitN(l, "]", 2)[0]), "[ ")
			if _, ok := out[table]; !ok {
				out[table] = i + 1
			}
		default:
			eq := strings.IndexByte(l, '=')
			if eq < 0 {
				continue
			}
			key := strings.Trim(strings.TrimSpace(l[:eq]), `"'`)
			if table != "" {
				key = table + "." + key
			}
			if _, ok := out[key]; !ok {
				out[key] = i + 1
			}
		}
	}
	return out
}

// validateContainment checks the containment defences and the networks
// they work on.
func (s *Scenario) validateContainment() error {
	d, n := s.Defence, s.Network
	share := func(key string, v float64) error {
		if !(v >= 0 && v <= 1) {
			return s.errAt(key, "%v: want a share in [0, 1]", v)
		}
		return nil
	}
	if b := d.Blacklist; b != nil && b.Reaction.Duration < 0 {
		return s.errAt("defence.blacklist.reaction", "%v is negative", b.Reaction.Duration)
	}
	if c := d.ContentFilter; c != nil {
		if c.Reaction.Duration < 0 {
			return s.errAt("defence.content_filter.reaction", "%v is negative", c.Reaction.Duration)
		}
		if c.After != "start" && c.After != "first-infection" {
			return s.errAt("defence.content_filter.after", "%q: want \"start\" or \"first-infection\"", c.After)
		}
	}
	if dep := d.Deployment; dep != nil {
		if dep.Where != "everywhere" && dep.Where != "customer" && dep.Where != "backbone" {
			return s.errAt("defence.deployment.where", "%q: want \"everywhere\", \"customer\" or \"backbone\"", dep.Where)
		}
		if err := share("defence.deployment.share", dep.Share); err != nil {
			return err
		}
		if d.Blacklist == nil && d.ContentFilter == nil {
			return s.errAt("defence.deployment", "places filters, but no defence.blacklist or defence.content_filter uses them")
		}
		if dep.Where == "backbone" && d.Egress != nil {
			return s.errAt("defence.egress", "egress filtering works on customer networks; a backbone deployment works on providers (use one or the other)")
		}
	}
	if e := d.Egress; e != nil {
		if err := share("defence.egress.share", e.Share); err != nil {
			return err
		}
	}
	if t := d.Throttle; t != nil {
		if err := share("defence.throttle.share", t.Share); err != nil {
			return err
		}
		if !(t.PerSecond > 0) || math.IsInf(t.PerSecond, 0) {
			return s.errAt("defence.throttle.per_second", "%v: want a positive rate of new destinations a second", t.PerSecond)
		}
	}
	if !s.contained() {
		return nil
	}
	switch {
	case s.Population.NATShare > 0:
		return s.errAt("population.nat_share", "containment defences run on public hosts only")
	case n.CustomerBits < 2 || n.CustomerBits >= s.Space.Bits || n.CustomerBits > 20:
		return s.errAt("network.customer_bits", "%d: want 2 to %d (a customer network is a block inside the space)", n.CustomerBits, min(s.Space.Bits-1, 20))
	case n.ProviderBits < 1 || n.ProviderBits >= n.CustomerBits:
		return s.errAt("network.provider_bits", "%d: want 1 to %d (a provider holds customer networks)", n.ProviderBits, n.CustomerBits-1)
	}
	return nil
}

// contained reports whether the scenario filters probes between networks.
func (s *Scenario) contained() bool {
	d := s.Defence
	return d.Blacklist != nil || d.ContentFilter != nil || d.Egress != nil
}
