package shield

import (
	"sync"
	"time"

	"github.com/wormlab/wormlab/internal/series"
)

// maxTrackedSources bounds the source sets the recorder keeps (about 60 MB
// at the bound). Past it, sources and new_sources are lower bounds; a server
// that sees more than a million distinct probing sources has bigger worries
// and the probe counts stay exact.
const maxTrackedSources = 1 << 20

// recorder bins probes by UTC minute into the observed-series format.
type recorder struct {
	mu      sync.Mutex
	first   int64 // Unix minute of the first bin; valid when len(bins) > 0
	bins    []series.Point
	inBin   map[[16]byte]struct{} // sources seen in the last bin
	seen    map[[16]byte]struct{} // sources seen ever
	capped  bool                  // a source set hit maxTrackedSources
	lastMin int64
}

func newRecorder() *recorder {
	return &recorder{inBin: map[[16]byte]struct{}{}, seen: map[[16]byte]struct{}{}}
}

// add records one probe from src at now. Probes arriving out of order by
// less than a minute (requests are timed as they are handled, not as they
// arrive) count in the latest bin.
func (r *recorder) add(src [16]byte, now time.Time) {
	min := now.Unix() / 60
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bins) == 0 {
		r.first, r.lastMin = min, min
		r.bins = append(r.bins, r.point(min))
	}
	for r.lastMin < min {
		// Empty minutes are data too: a fit must see the zeros.
		r.lastMin++
		r.bins = append(r.bins, r.point(r.lastMin))
		clear(r.inBin)
	}
	p := &r.bins[len(r.bins)-1]
	p.Probes++
	if _, ok := r.inBin[src]; !ok {
		if len(r.inBin) < maxTrackedSources {
			r.inBin[src] = struct{}{}
			p.Sources++
		} else {
			r.capped = true
		}
	}
	if _, ok := r.seen[src]; !ok {
		if len(r.seen) < maxTrackedSources {
			r.seen[src] = struct{}{}
			p.NewSources++
		} else {
			r.capped = true
		}
	}
}

func (r *recorder) point(min int64) series.Point {
	return series.Point{Minute: min - r.first, UTC: time.Unix(min*60, 0).UTC()}
}

// series returns a copy of the bins so far and whether the source counts
// were capped.
func (r *recorder) series() (series.Series, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return series.Series{Points: append([]series.Point(nil), r.bins...)}, r.capped
}

// sampler lets at most perSec log lines through each second and counts the
// rest, so a flood cannot turn the log into the bottleneck.
type sampler struct {
	mu         sync.Mutex
	perSec     int
	sec        int64
	n          int
	suppressed int64
}

// allow reports whether a line may be logged at now and, if so, how many
// were suppressed since the last one that was.
func (s *sampler) allow(now time.Time) (ok bool, suppressed int64) {
	sec := now.Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec != s.sec {
		s.sec, s.n = sec, 0
	}
	if s.n >= s.perSec {
		s.suppressed++
		return false, 0
	}
	s.n++
	suppressed, s.suppressed = s.suppressed, 0
	return true, suppressed
}
