package ensemble

import "cmp"

// Percentiles are the bands every ensemble reports, in percent.
var Percentiles = [3]int{5, 50, 95}

// QuantileMethod describes NearestRank for output files.
const QuantileMethod = "nearest rank (Hyndman & Fan type 1): the p% quantile of n runs is the value of rank ceil(p*n/100), at least 1, in ascending order; always one of the runs' own values"

// NearestRank returns the p-th percentile (0 <= p <= 100) of sorted, which
// must be ascending and non-empty, by the nearest-rank definition: the
// smallest value such that at least p% of the values are at or below it.
//
// The rank is computed in integers, so the result never depends on how
// p/100 rounds in floating point, and a quantile of integer counts stays an
// integer count. The median of an even number of values is the lower of
// the middle two.
func NearestRank[T cmp.Ordered](sorted []T, p int) T {
	if len(sorted) == 0 || p < 0 || p > 100 {
		panic("ensemble: NearestRank of an empty slice or a percentile outside [0, 100]")
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p*n/100)
	return sorted[max(rank, 1)-1]
}
