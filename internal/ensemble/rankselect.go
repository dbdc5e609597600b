package ensemble

import "errors"

// rankSelector finds order statistics of many integer samples ("slots",
// one per column and bin) whose values arrive in any order and may be read
// several times, in memory that does not grow with the number of values.
//
// Each target, a slot and one of the Percentiles, keeps a range [lo, hi]
// known to hold the value of its rank and the count of values below lo.
// The first pass over the values sets the range to the slot's minimum and
// maximum. Each further pass counts the values inside the range in
// selectBuckets buckets and narrows the range to the bucket holding the
// rank, so a range of width w resolves in ceil(log(w)/log(selectBuckets))
// passes: two for counts of hosts up to a million, three or four for
// counts of probes. Passes give histograms to at most selectBudget targets
// at once, so memory stays bounded however many bins a scenario has.
//
// The result is the exact nearest-rank quantile, the same value that
// sorting every run's value would give.
type rankSelector struct {
	slots int
	rank  [len(Percentiles)]int // 1-based, ascending order
	lo    []int64               // per target: slot*len(Percentiles)+p
	hi    []int64
	below []int // values under lo
	seen  []bool
	// In a pass: hist[active[t]*selectBuckets+k] counts bucket k of target
	// t; active[t] is -1 when t has no histogram in this pass.
	active []int32
	hist   []uint32
	picked []int32 // the targets with a histogram, in order
}

const (
	selectBuckets = 1024
	selectBudget  = 1 << 15 // histograms at once: 128 MiB of counts
)

func newRankSelector(slots, n int) *rankSelector {
	t := slots * len(Percentiles)
	s := &rankSelector{slots: slots, lo: make([]int64, t), hi: make([]int64, t), below: make([]int, t),
		seen: make([]bool, slots), active: make([]int32, t)}
	for i, p := range Percentiles {
		s.rank[i] = max((p*n+99)/100, 1) // as NearestRank
	}
	for i := range s.active {
		s.active[i] = -1
	}
	return s
}

// observeRange takes value v of slot in the first pass.
func (s *rankSelector) observeRange(slot int, v int64) {
	t := slot * len(Percentiles)
	if !s.seen[slot] {
		s.seen[slot] = true
		for p := range Percentiles {
			s.lo[t+p], s.hi[t+p] = v, v
		}
		return
	}
	if v < s.lo[t] {
		for p := range Percentiles {
			s.lo[t+p] = v
		}
	}
	if v > s.hi[t] {
		for p := range Percentiles {
			s.hi[t+p] = v
		}
	}
}

// width is the bucket width of target t in this pass.
func (s *rankSelector) width(t int) uint64 {
	return (uint64(s.hi[t])-uint64(s.lo[t]))/selectBuckets + 1
}

// startPass gives histograms to the next unresolved targets and reports
// whether there were any.
func (s *rankSelector) startPass() bool {
	s.picked = s.picked[:0]
	for t := range s.lo {
		if s.lo[t] != s.hi[t] && len(s.picked) < selectBudget {
			s.active[t] = int32(len(s.picked))
			s.picked = append(s.picked, int32(t))
		}
	}
	if len(s.picked) == 0 {
		return false
	}
	if need := len(s.picked) * selectBuckets; cap(s.hist) < need {
		s.hist = make([]uint32, need)
	} else {
		s.hist = s.hist[:need]
		clear(s.hist)
	}
	return true
}

// count takes value v of slot in a narrowing pass.
func (s *rankSelector) count(slot int, v int64) {
	t0 := slot * len(Percentiles)
	for t := t0; t < t0+len(Percentiles); t++ {
		a := s.active[t]
		if a < 0 || v < s.lo[t] || v > s.hi[t] {
			continue
		}
		s.hist[int(a)*selectBuckets+int((uint64(v)-uint64(s.lo[t]))/s.width(t))]++
	}
}

// endPass narrows every target of the pass to the bucket of its rank. It
// fails when the values counted in this pass are not those of the first,
// as when a file changed between passes.
func (s *rankSelector) endPass() error {
	var lost error
	for a, t32 := range s.picked {
		t := int(t32)
		rank := s.rank[t%len(Percentiles)]
		w, span := s.width(t), uint64(s.hi[t])-uint64(s.lo[t])
		cum, found := s.below[t], false
		for k, c := range s.hist[a*selectBuckets : (a+1)*selectBuckets] {
			if cum+int(c) >= rank {
				off := uint64(k) * w
				s.lo[t], s.hi[t] = int64(uint64(s.lo[t])+off), int64(uint64(s.lo[t])+min(span, off+w-1))
				s.below[t], found = cum, true
				break
			}
			cum += int(c)
		}
		s.active[t] = -1
		if !found && lost == nil {
			lost = errors.New("the values changed between passes over the shards")
		}
	}
	return lost
}

// value returns percentile p (an index into Percentiles) of slot once no
// pass is left.
func (s *rankSelector) value(slot, p int) int64 { return s.lo[slot*len(Percentiles)+p] }
