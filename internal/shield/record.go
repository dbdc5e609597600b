package shield

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/wormlab/wormlab/internal/output"
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

// advance closes the bins before the minute of now, adding empty ones, so
// that a quiet minute is written once it is over; before the first probe
// there is no bin to close.
func (r *recorder) advance(now time.Time) {
	min := now.Unix() / 60
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bins) == 0 {
		return
	}
	for r.lastMin < min {
		r.lastMin++
		r.bins = append(r.bins, r.point(r.lastMin))
		clear(r.inBin)
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

// seriesEvery is how often the series file is brought up to date: a
// finished minute reaches the file at most this long after it ends.
const seriesEvery = 5 * time.Second

// seriesFile keeps the series file (Config.Series) up to date while the
// shield runs, so that a crash loses at most the minute under way: the
// file is written at start-up (a header only), then replaced, through a
// temporary file and a rename, each time a minute has ended, and once more
// with the last, partial minute at shutdown. Standard output, a FIFO or a
// device cannot be rewritten; they get the series once, at shutdown.
type seriesFile struct {
	path     string
	rec      *recorder
	clock    Clock
	rewrite  bool // path is a regular file (or a new name): rewritten as it goes
	mu       sync.Mutex
	written  int // finished bins in the file
	err      error
	stopTick func() bool
	closed   bool
}

// startSeriesFile writes path's header and starts bringing it up to date.
func startSeriesFile(path string, rec *recorder, clock Clock) (*seriesFile, error) {
	f := &seriesFile{path: path, rec: rec, clock: clock}
	if path != output.Stdout {
		fi, err := os.Lstat(path)
		f.rewrite = errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Mode().IsRegular())
	}
	if !f.rewrite {
		return f, nil
	}
	if err := f.write(series.Series{}); err != nil {
		return nil, err
	}
	f.schedule()
	return f, nil
}

func (f *seriesFile) schedule() {
	f.stopTick = f.clock.AfterFunc(seriesEvery, func() {
		f.tick()
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.closed {
			f.schedule()
		}
	})
}

// tick writes the finished bins if there are new ones.
func (f *seriesFile) tick() {
	f.rec.advance(f.clock.Now())
	ser, _ := f.rec.series()
	done := max(len(ser.Points)-1, 0) // the last bin is still filling
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || done <= f.written {
		return
	}
	ser.Points = ser.Points[:done]
	if err := f.write(ser); err != nil {
		f.err = err // reported at shutdown; the shield keeps serving
		return
	}
	f.written = done
}

func (f *seriesFile) write(ser series.Series) error {
	return output.Write(f.path, nil, func(w io.Writer) error { return series.Write(w, ser) })
}

// stop ends the updates without a last write (Run failed before serving).
func (f *seriesFile) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	if f.stopTick != nil {
		f.stopTick()
	}
}

// close stops the updates and writes every bin, the partial last one
// included. It returns the first error any write met.
func (f *seriesFile) close() error {
	f.stop()
	ser, _ := f.rec.series()
	err := f.write(ser)
	if f.err != nil {
		err = errors.Join(fmt.Errorf("series %s during the run: %w", f.path, f.err), err)
	}
	return err
}
