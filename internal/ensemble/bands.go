package ensemble

import (
	"slices"
	"time"
)

// Band is one grid instant of an ensemble: for each column, its
// Percentiles over the runs.
type Band struct {
	Minute float64
	UTC    time.Time
	Q      [][len(Percentiles)]int64 // per column of the set
}

// Bands returns the quantile bands of the runs s holds, one per grid
// instant.
func (s *Set) Bands() []Band {
	if s.values == nil {
		return s.bands
	}
	out := make([]Band, s.Bins)
	col := make([]int64, len(s.Members))
	for b := range out {
		out[b] = s.bandAt(b)
		for c := range s.Columns {
			for k := range s.Members {
				col[k] = s.values[c][k*s.Bins+b]
			}
			out[b].Q[c] = percentiles(col)
		}
	}
	return out
}

// bandAt returns grid instant b with room for its quantiles.
func (h *Header) bandAt(b int) Band {
	step := time.Duration(h.StepSeconds * float64(time.Second))
	return Band{
		Minute: float64(b) * h.StepSeconds / 60,
		UTC:    h.Start.Add(time.Duration(b) * step),
		Q:      make([][len(Percentiles)]int64, len(h.Columns)),
	}
}

// quantilesAt returns the Percentiles of column c at bin b over the runs
// s holds.
func (s *Set) quantilesAt(c, b int) [len(Percentiles)]int64 {
	if s.values == nil {
		return s.bands[b].Q[c]
	}
	xs := make([]int64, len(s.Members))
	for k := range s.Members {
		xs[k] = s.values[c][k*s.Bins+b]
	}
	return percentiles(xs)
}

// percentiles sorts xs in place and returns its Percentiles.
func percentiles[T int64 | float64](xs []T) [len(Percentiles)]T {
	slices.Sort(xs)
	var q [len(Percentiles)]T
	for i, p := range Percentiles {
		q[i] = NearestRank(xs, p)
	}
	return q
}

// Stats are the Percentiles of the members' figures. Figures a run may
// lack (time to half, K) are taken over the runs that have them, and their
// counts say how many did.
type Stats struct {
	FinalInfected [3]int64 `json:"final_infected"`
	// Checkpoints are the scenario's checkpoints: infected at each.
	Checkpoints   []CheckpointStats `json:"checkpoints,omitempty"`
	ReachedHalf   int               `json:"reached_half"`
	MinutesToHalf *[3]float64       `json:"minutes_to_half"`
	Fitted        int               `json:"fitted"`
	KPerHour      *[3]float64       `json:"k_per_hour"`
	PeakPerMinute [3]float64        `json:"peak_new_infections_per_minute"`
	// TelescopeSeen is the sources the telescope had seen by the end, when
	// the ensemble has one.
	TelescopeSeen *[3]int64 `json:"telescope_seen,omitempty"`
}

// CheckpointStats are the infected counts at one checkpoint.
type CheckpointStats struct {
	After    string    `json:"after"`
	UTC      time.Time `json:"utc"`
	Infected [3]int64  `json:"infected"`
}

// Stats returns the Percentiles of the figures of the runs s holds, which
// must be at least one.
func (s *Set) Stats() Stats {
	var st Stats
	n := len(s.Members)
	final := make([]int64, n)
	peak := make([]float64, n)
	var half, k []float64
	for i, m := range s.Members {
		final[i] = m.FinalInfected
		peak[i] = m.PeakPerMinute
		if m.MinutesToHalf != nil {
			half = append(half, *m.MinutesToHalf)
		}
		if m.KPerHour != nil {
			k = append(k, *m.KPerHour)
		}
	}
	st.FinalInfected = percentiles(final)
	st.PeakPerMinute = percentiles(peak)
	st.ReachedHalf, st.Fitted = len(half), len(k)
	if len(half) > 0 {
		q := percentiles(half)
		st.MinutesToHalf = &q
	}
	if len(k) > 0 {
		q := percentiles(k)
		st.KPerHour = &q
	}
	if len(s.Columns) > len(Columns) {
		q := s.quantilesAt(len(Columns)+3, s.Bins-1) // telescope_seen
		st.TelescopeSeen = &q
	}
	step := time.Duration(s.StepSeconds * float64(time.Second))
	for _, cp := range s.Scenario.Run.Checkpoints {
		// The bin a checkpoint falls in, as runrec reports it.
		b := min(int(cp.Duration/step), s.Bins-1)
		st.Checkpoints = append(st.Checkpoints, CheckpointStats{
			After: cp.Duration.String(), UTC: s.Start.Add(time.Duration(b) * step), Infected: s.quantilesAt(colInfected, b),
		})
	}
	return st
}
