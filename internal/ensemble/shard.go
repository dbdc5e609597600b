package ensemble

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard names one part of an ensemble: run j (seed base+j) belongs to shard
// j mod Count. Index counts from 0, as Kubernetes' JOB_COMPLETION_INDEX
// does. The zero Shard, and any with Count 1, holds every run.
//
// Round-robin rather than contiguous blocks: every shard of N runs holds
// floor(N/n) or ceil(N/n) runs, and a shard's runs spread over the whole
// seed range.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// ParseShard parses "i/n" with 0 <= i < n.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want i/n, such as 0/4 (i counts from 0)", s)
	}
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	switch {
	case err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("shard %q: want two whole numbers i/n, such as 0/4", s)
	case n < 1:
		return Shard{}, fmt.Errorf("shard %q: want at least one shard", s)
	case i < 0 || i >= n:
		return Shard{}, fmt.Errorf("shard %q: the index counts from 0 to %d", s, n-1)
	}
	return Shard{Index: i, Count: n}, nil
}

func (s Shard) String() string { return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.count()) }

func (s Shard) count() int { return max(s.Count, 1) }

// Members returns the indexes of the runs, out of runs, that s holds, in
// ascending order.
func (s Shard) Members(runs int) []int {
	var out []int
	for j := s.Index; j < runs; j += s.count() {
		out = append(out, j)
	}
	return out
}
