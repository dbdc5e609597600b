// Package sumtree holds Fenwick trees (binary indexed trees) of weights, so
// that an engine can change one weight and draw an index with probability
// proportional to its weight, each in O(log n). See P. M. Fenwick, "A new
// data structure for cumulative frequency tables", Software: Practice and
// Experience 24(3), 1994.
package sumtree

import "math/bits"

// Float is a Fenwick tree of non-negative float64 weights.
//
// Updates by difference accumulate rounding error in the inner nodes; the
// tree keeps the weights themselves too and rebuilds the nodes from them
// after every rebuildEvery updates, so the error stays at the level of one
// rebuild's summation (relative 1e-16 times log n) instead of growing with
// the run.
type Float struct {
	w       []float64 // the weights
	node    []float64 // node[i] sums w over (i - lowbit(i), i], 1-based
	updates int
	top     int // highest power of two <= len(w)
}

const rebuildEvery = 1 << 16

// NewFloat returns a tree of n zero weights.
func NewFloat(n int) *Float {
	t := &Float{w: make([]float64, n), node: make([]float64, n+1)}
	if n > 0 {
		t.top = 1 << (bits.Len(uint(n)) - 1)
	}
	return t
}

// Len returns the number of weights.
func (t *Float) Len() int { return len(t.w) }

// Get returns weight i.
func (t *Float) Get(i int) float64 { return t.w[i] }

// Set makes weight i equal to v (v >= 0).
func (t *Float) Set(i int, v float64) {
	d := v - t.w[i]
	if d == 0 {
		return
	}
	t.w[i] = v
	t.updates++
	if t.updates >= rebuildEvery {
		t.rebuild()
		return
	}
	for j := i + 1; j < len(t.node); j += j & -j {
		t.node[j] += d
	}
}

// rebuild recomputes every node from the weights in O(n).
func (t *Float) rebuild() {
	t.updates = 0
	copy(t.node[1:], t.w)
	t.node[0] = 0
	for i := 1; i < len(t.node); i++ {
		if p := i + i&-i; p < len(t.node) {
			t.node[p] += t.node[i]
		}
	}
}

// Total returns the sum of all weights (never negative).
func (t *Float) Total() float64 {
	s := t.prefix(len(t.w))
	return max(s, 0)
}

// prefix returns the sum of weights 0..n-1.
func (t *Float) prefix(n int) float64 {
	var s float64
	for j := n; j > 0; j -= j & -j {
		s += t.node[j]
	}
	return s
}

// Find returns the index i such that the weights before i sum to at most u
// and those up to i sum to more than u, for 0 <= u < Total(); given u
// uniform on [0, Total()), i is drawn with probability w[i]/Total(). When
// rounding makes the descent land on a zero weight, Find rebuilds the tree
// and steps to the nearest positive weight, so it never returns an index
// of weight zero unless all weights are zero (then it returns -1).
func (t *Float) Find(u float64) int {
	i := t.descend(u)
	if i < len(t.w) && t.w[i] > 0 {
		return i
	}
	t.rebuild()
	i = t.descend(u)
	if i >= len(t.w) {
		i = len(t.w) - 1
	}
	for j := i; j >= 0; j-- {
		if t.w[j] > 0 {
			return j
		}
	}
	for j := i + 1; j < len(t.w); j++ {
		if t.w[j] > 0 {
			return j
		}
	}
	return -1
}

func (t *Float) descend(u float64) int {
	pos := 0
	for step := t.top; step > 0; step >>= 1 {
		if next := pos + step; next < len(t.node) && t.node[next] <= u {
			pos = next
			u -= t.node[next]
		}
	}
	return pos
}

// Int is a Fenwick tree of non-negative integer counts; it is exact.
type Int struct {
	node []int64
	top  int
}

// NewInt returns a tree of n zero counts.
func NewInt(n int) *Int {
	t := &Int{node: make([]int64, n+1)}
	if n > 0 {
		t.top = 1 << (bits.Len(uint(n)) - 1)
	}
	return t
}

// Add adds d to count i.
func (t *Int) Add(i int, d int64) {
	for j := i + 1; j < len(t.node); j += j & -j {
		t.node[j] += d
	}
}

// Prefix returns the sum of counts 0..n-1.
func (t *Int) Prefix(n int) int64 {
	var s int64
	for j := n; j > 0; j -= j & -j {
		s += t.node[j]
	}
	return s
}

// Find returns the index i and the rank r within it such that counts
// before i sum to k - r, with 0 <= r < count i, for 0 <= k < the total:
// the k-th unit, counting from zero, lies in slot i at offset r.
func (t *Int) Find(k int64) (i int, r int64) {
	pos := 0
	for step := t.top; step > 0; step >>= 1 {
		if next := pos + step; next < len(t.node) && t.node[next] <= k {
			pos = next
			k -= t.node[next]
		}
	}
	return pos, k
}
