package sim

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/wormlab/wormlab/internal/worm"
)

// Containment is the network-level defence of Moore, Shannon, Voelker and
// Savage, "Internet Quarantine: Requirements for Containing
// Self-Propagating Code" (INFOCOM 2003): filters that drop probes, by
// their source (address blacklisting) or by their content (content
// filtering), placed where the deployment says, plus egress filtering.
// Dropped probes are still sent (they count as probes and load the
// network); they infect nobody and tell a permutation scanner nothing.
//
// The Internet is modelled as networks: a host's network is the top
// NetworkBits bits of its address (a /16 of IPv4 by default, standing for
// a customer network; the paper uses autonomous systems). A probe between
// hosts of one network never crosses a filter between networks.
type Containment struct {
	NetworkBits int

	// Deployed says, per network, whether a filter sits between it and
	// the rest of the Internet, on its traffic in and out: customer
	// networks filter themselves, and a backbone provider's filter covers
	// every network behind it. A blocked probe is dropped when it crosses
	// a filter: when it leaves or enters a deployed network. Nil means
	// everywhere, the paper's idealised universal deployment, where a
	// blocked probe is dropped whatever its path, within a network too.
	Deployed []bool

	// Egress says, per network, whether it drops its own hosts' probes
	// to other networks (egress filtering, always on). Nil: none.
	Egress []bool

	// Blacklist: an infected host's probes are blocked from
	// BlacklistDelay seconds after its infection on (the reaction time:
	// detection, spreading the list, installing it).
	Blacklist      bool
	BlacklistDelay float64

	// Content: every probe is blocked from ContentDelay seconds after
	// the run's start on, or, with ContentAfterFirst, after the first
	// infection beyond the initial hosts (the outbreak's first sign).
	Content           bool
	ContentDelay      float64
	ContentAfterFirst bool
}

// sourceClass is what the filters let a source's probes reach.
type sourceClass uint8

const (
	classFree     sourceClass = iota // not blocked: anywhere
	classOpen                        // blocked, in a network without a filter: networks without one
	classConfined                    // its own network only
	classSilenced                    // nowhere (blocked, filters everywhere)
	numClasses
)

// check reports whether the containment fits the configuration.
func (k *Containment) check(c *Config) error {
	nets := 1 << k.NetworkBits
	switch {
	case k.NetworkBits < 1 || k.NetworkBits >= c.SpaceBits || k.NetworkBits > maxGroupBits:
		return fmt.Errorf("sim: containment networks of %d bits: want 1 to %d, inside a %d-bit space", k.NetworkBits, min(c.SpaceBits-1, maxGroupBits), c.SpaceBits)
	case k.Deployed != nil && len(k.Deployed) != nets:
		return fmt.Errorf("sim: deployment lists %d networks, want %d", len(k.Deployed), nets)
	case k.Egress != nil && len(k.Egress) != nets:
		return fmt.Errorf("sim: egress filtering lists %d networks, want %d", len(k.Egress), nets)
	case c.Site != nil:
		return fmt.Errorf("sim: containment runs on public hosts only (no NAT sites)")
	}
	for _, v := range []float64{k.BlacklistDelay, k.ContentDelay} {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("sim: reaction time %v s: want a finite time >= 0", v)
		}
	}
	return nil
}

// network returns the network of address a in a space of spaceBits.
func (k *Containment) network(a uint32, spaceBits int) int32 {
	return int32(a >> uint(spaceBits-k.NetworkBits))
}

// class returns the class of a source in network net, blocked or not.
func (k *Containment) class(net int32, blocked bool) sourceClass {
	egress := k.Egress != nil && k.Egress[net]
	switch {
	case blocked && k.Deployed == nil:
		return classSilenced
	case egress || (blocked && k.Deployed[net]):
		return classConfined
	case blocked:
		return classOpen
	}
	return classFree
}

// reaches reports whether a probe of class cl from network src reaches a
// host in network dst.
func (k *Containment) reaches(cl sourceClass, src, dst int32) bool {
	switch cl {
	case classFree:
		return true
	case classConfined:
		return src == dst
	case classOpen:
		return src == dst || !k.Deployed[dst]
	}
	return false
}

// open reports whether network net has no filter (deployment partial).
func (k *Containment) open(net int32) bool { return k.Deployed != nil && !k.Deployed[net] }

// containmentLanes returns the event engine's extra lanes for channel ch
// under containment (ch's neighbourhoods are wider than a network, so
// filters between networks matter): an open lane, where blocked sources in
// networks without a filter reach the targets in such networks (the
// channel's neighbourhood groups, with targets in deployed networks left
// out), and a confined lane, whose groups are the networks, for sources
// that reach only their own network. inv is the channel's per-neighbourhood
// inverse of its allowed addresses less one: a probe still lands uniformly
// over the neighbourhood, only its effect is filtered.
func containmentLanes(c *Config, ch worm.Channel, inv []float64, netOf []int32, rng *rand.Rand) []lane {
	k := c.Containment
	n := len(c.Hosts)
	shift := uint(c.SpaceBits - ch.PrefixBits)
	var out []lane
	if k.Deployed != nil {
		open := newLane(ch.Share, n, false)
		open.inv = inv
		open.accepts[classOpen] = true
		for i, a := range c.Hosts {
			g := int32(uint32(a) >> shift)
			open.place(i, g, g)
			if !k.open(netOf[i]) {
				open.place(i, -1, -1) // open sources sit in open networks
			}
		}
		open.partition(rng)
		out = append(out, open)
	}
	if k.Deployed != nil || k.Egress != nil {
		nets := 1 << k.NetworkBits
		own := newLane(ch.Share, n, false)
		own.inv = make([]float64, nets)
		own.accepts[classConfined] = true
		up := uint(k.NetworkBits - ch.PrefixBits) // network index >> up = neighbourhood index
		for g := range nets {
			own.inv[g] = inv[g>>up]
		}
		for i := range c.Hosts {
			own.place(i, netOf[i], netOf[i])
		}
		own.partition(rng)
		out = append(out, own)
	}
	return out
}

// reclass recomputes host h's source class after a change of its
// blacklisting or of content filtering, moving its rate between lanes.
func (e *eventEngine) reclass(h int32) {
	cl := e.contain.class(e.netOf[h], e.contentOn || e.blacklisted[h])
	fl := &e.flags[h]
	if cl == fl.class {
		return
	}
	inLanes := fl.spreading && e.walk == nil && !(e.hit != nil && e.hit.active(h))
	if inLanes {
		e.moveRate(h, -e.rate(h))
	}
	fl.class = cl
	if inLanes {
		e.moveRate(h, e.rate(h))
	}
}

// startContentFilter turns content filtering on for every host.
func (e *eventEngine) startContentFilter() {
	e.contentOn = true
	for _, h := range e.sets.list(Infected) {
		e.reclass(h)
	}
}

// reaches reports whether a probe from host src reaches host dst now
// (walkers and hit-lists, whose probes are aimed one by one).
func (e *eventEngine) reaches(src, dst int32) bool {
	if e.contain == nil {
		return true
	}
	return e.contain.reaches(e.flags[src].class, e.netOf[src], e.netOf[dst])
}
