package sim

import (
	"math/bits"

	"github.com/wormlab/wormlab/internal/ipspace"
)

// hostIndex maps a probed address to the vulnerable host there, if any.
//
// In a space of up to 2^directBits addresses it is a direct table (4 bytes
// an address, 256 KiB at 2^16). Beyond that a table grows past the caches
// (64 MiB at 2^24, 16 GiB at 2^32; a bitmap of the vulnerable set is still
// 512 MiB at 2^32), and random probes would miss in memory on nearly every
// look-up. So larger spaces use two steps: a bitmap with one bit per unit
// of 2^unitShift addresses, with at least 16 units per host so that almost
// every probe finds its unit empty, and, for probes into an occupied unit,
// an open-addressing hash table (linear probing, load at most 1/2, 8 bytes a
// slot: 8 MiB for 360,000 hosts). The bitmap is at most 2 MiB (2^24 units).
type hostIndex struct {
	direct []int32 // direct[a] = host index or -1; nil when hashed

	unitShift uint
	occupied  []uint64 // bit u set: some host in unit u
	keys      []uint32 // slot key; empty slots hold emptyKey
	vals      []int32
	mask      uint32
}

const (
	directBits = 16
	emptyKey   = ^uint32(0) // 255.255.255.255 is reserved, never a host
)

// newHostIndex indexes the public hosts (site 0; sites may be nil).
func newHostIndex(spaceBits int, all []ipspace.Addr, sites []int32) *hostIndex {
	x := &hostIndex{}
	hosts := all
	var ids []int32 // ids[i] is the host index of hosts[i], when filtered
	if sites != nil {
		hosts = nil
		for i, a := range all {
			if sites[i] == 0 {
				hosts = append(hosts, a)
				ids = append(ids, int32(i))
			}
		}
	}
	id := func(i int) int32 {
		if ids != nil {
			return ids[i]
		}
		return int32(i)
	}
	if spaceBits <= directBits {
		x.direct = make([]int32, 1<<spaceBits)
		for i := range x.direct {
			x.direct[i] = -1
		}
		for i, h := range hosts {
			x.direct[h] = id(i)
		}
		return x
	}
	unitBits := min(spaceBits, 24, max(bits.Len(uint(16*len(hosts))), 10))
	x.unitShift = uint(spaceBits - unitBits)
	units := uint64(1) << unitBits
	x.occupied = make([]uint64, (units+63)/64)
	size := uint32(1) << max(bits.Len(uint(2*len(hosts))), 4)
	x.keys = make([]uint32, size)
	x.vals = make([]int32, size)
	x.mask = size - 1
	for i := range x.keys {
		x.keys[i] = emptyKey
	}
	for i, h := range hosts {
		u := uint32(h) >> x.unitShift
		x.occupied[u>>6] |= 1 << (u & 63)
		s := hashAddr(uint32(h)) & x.mask
		for x.keys[s] != emptyKey {
			s = (s + 1) & x.mask
		}
		x.keys[s], x.vals[s] = uint32(h), id(i)
	}
	return x
}

// hashAddr is a multiplicative hash (Knuth, TAOCP vol. 3, 6.4) folded so
// that the high bits, which vary most between hosts, reach the low ones.
func hashAddr(a uint32) uint32 {
	h := a * 0x9e3779b1
	return h ^ h>>16
}

// find returns the host at a, or -1.
func (x *hostIndex) find(a ipspace.Addr) int32 {
	if x.direct != nil {
		return x.direct[a]
	}
	u := uint32(a) >> x.unitShift
	if x.occupied[u>>6]&(1<<(u&63)) == 0 {
		return -1
	}
	s := hashAddr(uint32(a)) & x.mask
	for {
		k := x.keys[s]
		if k == uint32(a) {
			return x.vals[s]
		}
		if k == emptyKey {
			return -1
		}
		s = (s + 1) & x.mask
	}
}

// bytes returns the memory the index holds.
func (x *hostIndex) bytes() int {
	return 4*len(x.direct) + 8*len(x.occupied) + 4*len(x.keys) + 4*len(x.vals)
}
