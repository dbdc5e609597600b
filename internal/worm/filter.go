package worm

import (
	"fmt"

	"github.com/wormlab/wormlab/internal/ipspace"
)

// AddressFilter is the set of addresses a worm never picks as a target.
// A draw that falls on one is redrawn, so a probe's target is uniform over
// the allowed addresses of its neighbourhood.
type AddressFilter struct {
	// Exclude lists blocks never targeted, in IPv4 terms: Code Red II skips
	// 127/8 and 224/8 and above [Staniford, Paxson, Weaver 2002]. Each must
	// be a /24 or shorter. Only meaningful in the full 2^32 space.
	Exclude []ipspace.Prefix
	// SkipZero255 also skips addresses whose last octet is 0 or 255 (one
	// secondary source says Code Red II does).
	SkipZero255 bool
}

// Check reports whether f is usable.
func (f AddressFilter) Check() error {
	for i, p := range f.Exclude {
		if !p.IsValid() || p.Bits() > 24 {
			return fmt.Errorf("worm: excluded block %v: want a valid prefix of /24 or shorter", p)
		}
		for _, q := range f.Exclude[:i] {
			if p.Overlaps(q) {
				return fmt.Errorf("worm: excluded blocks %v and %v overlap", q, p)
			}
		}
	}
	return nil
}

// Allowed reports whether a may be a target.
func (f AddressFilter) Allowed(a ipspace.Addr) bool {
	if f.SkipZero255 {
		if o := a & 0xff; o == 0 || o == 0xff {
			return false
		}
	}
	for _, p := range f.Exclude {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// CountAllowed returns how many addresses of p may be targets.
func (f AddressFilter) CountAllowed(p ipspace.Prefix) uint64 {
	if p.Bits() > 24 {
		// Small blocks: count directly (at most 128 addresses).
		var n uint64
		for a, last := uint64(p.Addr()), uint64(p.Last()); a <= last; a++ {
			if f.Allowed(ipspace.Addr(a)) {
				n++
			}
		}
		return n
	}
	n := p.Size()
	for _, x := range f.Exclude {
		if x.Overlaps(p) {
			n -= min(x.Size(), p.Size())
		}
	}
	if f.SkipZero255 {
		// What remains is a union of whole /24s, each losing .0 and .255.
		n -= n / 256 * 2
	}
	return n
}
